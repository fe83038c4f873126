//! Recording usage that already happened (`recordUsage`, docs/design.md §1, §6).
//!
//! A batch is written whole or not at all: every event is checked first, and when any
//! fails the error names its index and field and nothing is written. Small batches share
//! their transaction with concurrent ones (`group_commit`), large ones have their own. Events are idempotent per
//! organization and idempotency key: the same key with the same content is a duplicate
//! and changes nothing; with other content it is a CONFLICT. Recording is never refused
//! for quota. Events, new jobs and the per-day rollup are written together.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{AppContext, attribution::RollupKey, audit, group_commit, watch, zone_of};
use crate::domain::{
    Quantity,
    access::{Access, Actor},
    attribution,
    ids::{FolderId, OrganizationId, ProcessId, TenantId},
    ingestion::{
        JobFacts, MAX_BATCH, MAX_CHAIN_DEPTH, UsageKind, check_code, check_key, check_occurred_at, job_disagreement,
    },
    tenant::TenantState,
};
use crate::error::{AppError, AppResult};
use crate::store;
use entity::{chain_node, job, usage_attribution_daily, usage_daily, usage_event};

/// One event as a caller sent it.
#[derive(Clone, Debug)]
pub struct NewUsageEvent {
    pub idempotency_key: String,
    pub tenant_id: TenantId,
    pub unit_type: String,
    pub service: String,
    /// The decimal text, checked here so the error can name the event.
    pub quantity: String,
    pub occurred_at: DateTime<FixedOffset>,
    pub kind: UsageKind,
    pub job_id: Option<String>,
    pub parent_job_id: Option<String>,
    pub process_id: Option<ProcessId>,
    pub folder_id: Option<FolderId>,
    pub duration_ms: Option<i64>,
}

/// How a batch was taken.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    pub accepted: usize,
    pub duplicates: usize,
    /// The (organization, unit type, tenant) of every event accepted, once each.
    pub touched: Vec<(Uuid, Uuid, Uuid)>,
}

/// What became of one event: the (organization, unit type, tenant) it was recorded for,
/// or `None` when it was a duplicate.
pub(crate) type Outcome = Option<(Uuid, Uuid, Uuid)>;

impl Recorded {
    /// How a request whose events had these outcomes was taken.
    pub(crate) fn of(outcomes: &[Outcome]) -> Recorded {
        let mut touched: Vec<(Uuid, Uuid, Uuid)> = outcomes.iter().flatten().copied().collect();
        touched.sort();
        touched.dedup();
        let accepted = outcomes.iter().filter(|o| o.is_some()).count();
        Recorded {
            accepted,
            duplicates: outcomes.len() - accepted,
            touched,
        }
    }
}

fn at(index: usize, field: &str, message: impl std::fmt::Display) -> String {
    format!("events[{index}].{field}: {message}")
}

fn bad(index: usize, field: &str, message: impl std::fmt::Display) -> AppError {
    AppError::BadUserInput(at(index, field, message))
}

/// The content an idempotency key stands for, as a hash.
pub(crate) fn fingerprint(event: &NewUsageEvent, quantity: Quantity) -> String {
    let mut hasher = Sha256::new();
    let optional = |v: Option<String>| v.unwrap_or_default();
    for part in [
        event.tenant_id.to_string(),
        event.unit_type.clone(),
        event.service.clone(),
        quantity.scaled().to_string(),
        event.occurred_at.to_utc().timestamp_micros().to_string(),
        event.kind.as_str().to_owned(),
        optional(event.job_id.clone()),
        optional(event.parent_job_id.clone()),
        optional(event.process_id.map(|p| p.to_string())),
        optional(event.folder_id.map(|f| f.to_string())),
        optional(event.duration_ms.map(|d| d.to_string())),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0x1f]);
    }
    hex::encode(hasher.finalize())
}

/// Records a batch. A lost race on an idempotency key is retried, so that the
/// second of two identical concurrent batches reports duplicates.
pub async fn record(ctx: &AppContext, actor: &Actor, events: Vec<NewUsageEvent>) -> AppResult<Recorded> {
    if events.len() > MAX_BATCH {
        return Err(AppError::bad_input(format!(
            "a batch holds at most {MAX_BATCH} events; this one has {}",
            events.len()
        )));
    }
    let mut attempts = 0;
    loop {
        let attempt = if events.len() <= group_commit::grouped(ctx) {
            group_commit::submit(ctx, actor, events.clone()).await
        } else {
            record_once(ctx, actor, &events).await
        };
        if let Ok(recorded) = &attempt {
            metrics::counter!("quotagraph_ingested_events_total", "outcome" => "accepted")
                .increment(recorded.accepted as u64);
            metrics::counter!("quotagraph_ingested_events_total", "outcome" => "duplicate")
                .increment(recorded.duplicates as u64);
            announce(ctx, &recorded.touched).await;
        }
        match attempt {
            Err(AppError::Internal(err))
                if attempts < 3
                    && err
                        .downcast_ref::<sea_orm::DbErr>()
                        .is_some_and(store::is_unique_violation) =>
            {
                attempts += 1;
            }
            other => return other,
        }
    }
}

/// Tells the watcher which organizations, unit types and tenants recorded usage.
pub(crate) async fn announce(ctx: &AppContext, touched: &[(Uuid, Uuid, Uuid)]) {
    let mut changes: Vec<watch::Change> = Vec::new();
    for (organization, unit_type, tenant) in touched {
        match changes
            .iter_mut()
            .find(|c| c.organization == *organization && c.unit_type == *unit_type)
        {
            Some(change) => change.usage_tenants.push(*tenant),
            None => changes.push(watch::Change {
                organization: *organization,
                unit_type: *unit_type,
                usage_tenants: vec![*tenant],
                events: Vec::new(),
            }),
        }
    }
    for change in changes {
        watch::after(ctx, change).await;
    }
}

struct Checked {
    quantity: Quantity,
    organization: Uuid,
    day: chrono::NaiveDate,
    unit_type: Uuid,
    fingerprint: String,
}

async fn record_once(ctx: &AppContext, actor: &Actor, events: &[NewUsageEvent]) -> AppResult<Recorded> {
    let tx = store::begin_write(&ctx.writer).await?;
    let recorded = record_in(&tx, ctx.clock.now(), actor, events).await?;
    store::audit::insert_many(&tx, audit_entries(ctx, actor, &recorded)).await?;
    tx.commit().await?;
    Ok(recorded)
}

/// The audit entries of one `recordUsage` request: one per organization that took events;
/// a batch of duplicates changed nothing.
pub(crate) fn audit_entries(ctx: &AppContext, actor: &Actor, recorded: &Recorded) -> Vec<entity::audit_entry::Model> {
    let mut organizations: Vec<Uuid> = recorded.touched.iter().map(|(org, ..)| *org).collect();
    organizations.dedup();
    organizations
        .into_iter()
        .map(|organization| {
            let tenants: Vec<Uuid> = recorded
                .touched
                .iter()
                .filter(|(org, ..)| *org == organization)
                .map(|(.., tenant)| *tenant)
                .collect();
            audit::entry(
                ctx,
                actor,
                audit::Change {
                    organization: Some(organization),
                    action: "recordUsage",
                    target_kind: "UsageBatch",
                    target_id: None,
                    before: None,
                    after: Some(serde_json::json!({
                        "accepted": recorded.accepted,
                        "duplicates": recorded.duplicates,
                        "tenants": tenants,
                    })),
                },
            )
        })
        .collect()
}

/// Checks and writes a batch inside the caller's transaction (admission runs it under
/// the organization's lock).
pub(crate) async fn record_in(
    tx: &sea_orm::DatabaseTransaction,
    now: DateTime<chrono::Utc>,
    actor: &Actor,
    events: &[NewUsageEvent],
) -> AppResult<Recorded> {
    let actors = vec![actor; events.len()];
    Ok(Recorded::of(&record_each(tx, now, &actors, events).await?))
}

/// Checks and writes events inside the caller's transaction, each event on behalf of its
/// caller in `actors`, in order (a later event sees the earlier ones as recorded): the
/// outcome of each event, or the first refusal, after which the caller must discard the
/// transaction (or savepoint).
pub(crate) async fn record_each(
    tx: &sea_orm::DatabaseTransaction,
    now: DateTime<chrono::Utc>,
    actors: &[&Actor],
    events: &[NewUsageEvent],
) -> AppResult<Vec<Outcome>> {
    let tenant_ids: Vec<Uuid> = unique(events.iter().map(|e| e.tenant_id.0));
    let tenants: HashMap<Uuid, entity::tenant::Model> = store::tenant::find_many(tx, &tenant_ids)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let org_ids: Vec<Uuid> = unique(tenants.values().map(|t| t.organization_id));
    let mut zones = HashMap::new();
    for org in store::organization::find_many(tx, &org_ids).await? {
        zones.insert(org.id, zone_of(&org)?);
    }
    let unit_codes: HashSet<&str> = events.iter().map(|e| e.unit_type.as_str()).collect();
    let mut unit_types = HashMap::new();
    for code in unit_codes {
        if let Some(unit) = store::unit_type::find_by_code(tx, code).await? {
            unit_types.insert(code.to_owned(), unit.id);
        }
    }
    let folders: HashMap<Uuid, Uuid> =
        store::folder::find_folders(tx, &unique(events.iter().filter_map(|e| e.folder_id.map(|f| f.0))))
            .await?
            .into_iter()
            .map(|f| (f.id, f.tenant_id))
            .collect();
    // Each process's tenant and owning folder.
    let mut processes: HashMap<Uuid, (Uuid, Uuid)> =
        store::folder::find_processes(tx, &unique(events.iter().filter_map(|e| e.process_id.map(|p| p.0))))
            .await?
            .into_iter()
            .map(|p| (p.id, (p.tenant_id, p.folder_id)))
            .collect();

    // Every check that needs no other event.
    let mut checked = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        check_key(&event.idempotency_key).map_err(|m| bad(i, "idempotencyKey", m))?;
        let tenant = tenants
            .get(&event.tenant_id.0)
            .ok_or_else(|| AppError::NotFound(at(i, "tenantId", "tenant not found")))?;
        match actors[i].ingest(OrganizationId(tenant.organization_id), event.tenant_id) {
            Access::Allowed => {}
            Access::Forbidden => {
                return Err(AppError::Forbidden(at(
                    i,
                    "tenantId",
                    "your API key's role may not record usage",
                )));
            }
            Access::Hidden => return Err(AppError::NotFound(at(i, "tenantId", "tenant not found"))),
        }
        if tenant.state == TenantState::Deleted.as_str() {
            return Err(bad(i, "tenantId", "the tenant is DELETED and takes no more usage"));
        }
        let unit_type = *unit_types
            .get(&event.unit_type)
            .ok_or_else(|| bad(i, "unitType", format!("unknown unit type '{}'", event.unit_type)))?;
        check_code(&event.service).map_err(|m| bad(i, "service", m))?;
        let quantity = Quantity::parse_non_negative(&event.quantity).map_err(|e| bad(i, "quantity", e))?;
        check_occurred_at(event.occurred_at.to_utc(), now).map_err(|m| bad(i, "occurredAt", m))?;
        if event.duration_ms.is_some_and(|d| d < 0) {
            return Err(bad(i, "durationMs", "must be 0 or more"));
        }
        if let Some(job) = &event.job_id {
            check_key(job).map_err(|m| bad(i, "jobId", m))?;
        } else if event.parent_job_id.is_some() {
            return Err(bad(
                i,
                "parentJobId",
                "needs a jobId: a run with a parent is a job of its own",
            ));
        }
        if let Some(folder) = event.folder_id
            && folders.get(&folder.0) != Some(&tenant.id)
        {
            return Err(AppError::NotFound(at(i, "folderId", "folder not found in this tenant")));
        }
        if let Some(process) = event.process_id
            && processes.get(&process.0).map(|(tenant, _)| tenant) != Some(&tenant.id)
        {
            return Err(AppError::NotFound(at(
                i,
                "processId",
                "process not found in this tenant",
            )));
        }
        let zone = zones
            .get(&tenant.organization_id)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("tenant without organization")))?;
        checked.push(Checked {
            quantity,
            organization: tenant.organization_id,
            day: event.occurred_at.with_timezone(zone).date_naive(),
            unit_type,
            fingerprint: fingerprint(event, quantity),
        });
    }

    // Idempotency: against the store and against earlier events of the batch.
    let mut stored: HashMap<(Uuid, String), String> = HashMap::new();
    for org in &org_ids {
        let keys: Vec<String> = events
            .iter()
            .zip(&checked)
            .filter(|(_, c)| c.organization == *org)
            .map(|(e, _)| e.idempotency_key.clone())
            .collect();
        for (key, print) in store::usage::fingerprints(tx, *org, &keys).await? {
            stored.insert((*org, key), print);
        }
    }
    let mut fresh = vec![false; events.len()];
    for (i, (event, c)) in events.iter().zip(&checked).enumerate() {
        let key = (c.organization, event.idempotency_key.clone());
        match stored.get(&key) {
            Some(print) if *print == c.fingerprint => {}
            Some(_) => {
                return Err(AppError::Conflict(at(
                    i,
                    "idempotencyKey",
                    format!(
                        "'{}' was already recorded with different content",
                        event.idempotency_key
                    ),
                )));
            }
            None => {
                stored.insert(key, c.fingerprint.clone());
                fresh[i] = true;
            }
        }
    }

    // Jobs: a parent must be known before its child; later events must agree.
    let mut names: Vec<(Uuid, String)> = Vec::new();
    for event in events {
        for name in [&event.job_id, &event.parent_job_id].into_iter().flatten() {
            names.push((event.tenant_id.0, name.clone()));
        }
    }
    let mut jobs: HashMap<(Uuid, String), job::Model> = store::job::find_by_names(tx, &names)
        .await?
        .into_iter()
        .map(|j| ((j.tenant_id, j.external_id.clone()), j))
        .collect();
    let mut parent_names: HashMap<Uuid, String> = jobs.values().map(|j| (j.id, j.external_id.clone())).collect();
    let unseen: Vec<Uuid> = unique(
        jobs.values()
            .filter_map(|j| j.process_id)
            .filter(|p| !processes.contains_key(p)),
    );
    if !unseen.is_empty() {
        for p in store::folder::find_processes(tx, &unseen).await? {
            processes.insert(p.id, (p.tenant_id, p.folder_id));
        }
    }
    let process_folder = |process: Option<Uuid>| process.and_then(|p| processes.get(&p).map(|(_, folder)| *folder));
    let mut nodes: HashMap<Uuid, chain_node::Model> = HashMap::new();
    let mut attributed: HashMap<RollupKey, usage_attribution_daily::Model> = HashMap::new();
    let mut new_jobs = Vec::new();
    let mut rows = Vec::new();
    let mut daily: HashMap<(Uuid, Uuid, chrono::NaiveDate, String, UsageKind), usage_daily::Model> = HashMap::new();
    let mut service_codes: Vec<String> = unique(events.iter().map(|e| e.service.clone()));
    service_codes.sort();
    let services = store::service_catalog::ensure(tx, &service_codes).await?;

    for (i, (event, c)) in events.iter().zip(&checked).enumerate() {
        if !fresh[i] {
            continue;
        }
        let tenant = event.tenant_id.0;
        let mut process = event.process_id.map(|p| p.0);
        let mut folder = event.folder_id.map(|f| f.0);
        let mut job_id = None;
        // Where the run sits in its chain: its node and the folder the chain is owed to.
        let mut chain = None;
        if let Some(name) = &event.job_id {
            let given = JobFacts {
                process: event.process_id,
                folder: event.folder_id,
                parent: event.parent_job_id.clone(),
            };
            if let Some(known) = jobs.get(&(tenant, name.clone())) {
                let recorded = JobFacts {
                    process: known.process_id.map(ProcessId),
                    folder: known.folder_id.map(FolderId),
                    parent: known.parent_id.and_then(|p| parent_names.get(&p).cloned()),
                };
                if let Some(field) = job_disagreement(&recorded, &given) {
                    return Err(bad(
                        i,
                        field,
                        format!("job '{name}' was first recorded with another {field}"),
                    ));
                }
                process = known.process_id;
                folder = known.folder_id;
                job_id = Some(known.id);
                let node = known.node_id.ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!(
                        "job {} has no chain node: backfill did not run",
                        known.id
                    ))
                })?;
                chain = Some((node, known.owner_folder_id));
            } else {
                let parent = match &event.parent_job_id {
                    Some(parent_name) => Some(jobs.get(&(tenant, parent_name.clone())).ok_or_else(|| {
                        bad(
                            i,
                            "parentJobId",
                            format!("parent job '{parent_name}' is not known: record the parent's run first"),
                        )
                    })?),
                    None => None,
                };
                let depth = parent.map_or(0, |p| p.depth + 1);
                if depth >= MAX_CHAIN_DEPTH {
                    return Err(bad(
                        i,
                        "parentJobId",
                        format!("a job chain may hold at most {MAX_CHAIN_DEPTH} runs; this one would be deeper"),
                    ));
                }
                let id = Uuid::now_v7();
                let node = attribution::node_id(tenant, parent.and_then(|p| p.node_id), process);
                nodes.entry(node).or_insert_with(|| chain_node::Model {
                    id: node,
                    tenant_id: tenant,
                    parent_id: parent.and_then(|p| p.node_id),
                    process_id: process,
                });
                let owner = match parent {
                    Some(parent) => parent.owner_folder_id,
                    None => attribution::owner_folder(folder, process_folder(process)),
                };
                chain = Some((node, owner));
                let model = job::Model {
                    id,
                    tenant_id: tenant,
                    external_id: name.clone(),
                    process_id: process,
                    folder_id: folder,
                    parent_id: parent.map(|p| p.id),
                    root_id: parent.map_or(id, |p| p.root_id),
                    root_process_id: parent.map_or(process, |p| p.root_process_id),
                    node_id: Some(node),
                    owner_folder_id: owner,
                    depth,
                    created_at: now,
                };
                parent_names.insert(id, name.clone());
                jobs.insert((tenant, name.clone()), model.clone());
                new_jobs.push(model);
                job_id = Some(id);
            }
        }
        let (node, owner) = match chain {
            Some(chain) => chain,
            None => {
                // A run without a job is a chain of its own.
                let node = attribution::node_id(tenant, None, process);
                nodes.entry(node).or_insert_with(|| chain_node::Model {
                    id: node,
                    tenant_id: tenant,
                    parent_id: None,
                    process_id: process,
                });
                (node, attribution::owner_folder(folder, process_folder(process)))
            }
        };
        if event.kind == UsageKind::Execution {
            let key = RollupKey {
                tenant,
                unit_type: c.unit_type,
                day: c.day,
                folder: attribution::execution_folder(folder, process_folder(process)),
                process,
                owner,
                node,
            };
            let row = attributed.entry(key).or_insert_with(|| key.row(c.organization));
            row.quantity += c.quantity.scaled();
            row.events += 1;
        }
        let service = *services
            .get(&event.service)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("service '{}' was not created", event.service)))?;
        rows.push(usage_event::Model {
            id: Uuid::now_v7(),
            organization_id: c.organization,
            idempotency_key: event.idempotency_key.clone(),
            fingerprint: c.fingerprint.clone(),
            tenant_id: tenant,
            unit_type_id: c.unit_type,
            service_id: service,
            quantity: c.quantity.scaled(),
            occurred_at: event.occurred_at.to_utc(),
            day: c.day,
            kind: event.kind.as_str().to_owned(),
            job_id,
            process_id: process,
            folder_id: folder,
            duration_ms: event.duration_ms,
            recorded_at: now,
        });
        let entry = daily
            .entry((tenant, c.unit_type, c.day, event.service.clone(), event.kind))
            .or_insert_with(|| usage_daily::Model {
                tenant_id: tenant,
                unit_type_id: c.unit_type,
                service_id: service,
                day: c.day,
                kind: event.kind.as_str().to_owned(),
                organization_id: c.organization,
                quantity: 0,
                events: 0,
                duration_ms: 0,
            });
        entry.quantity += c.quantity.scaled();
        entry.events += 1;
        entry.duration_ms += event.duration_ms.unwrap_or(0);
    }

    // Shared rows are written in key order, so two concurrent batches lock them in the same
    // order and wait for each other instead of deadlocking (PostgreSQL).
    let mut nodes: Vec<_> = nodes.into_values().collect();
    nodes.sort_by_key(|n| n.id);
    let mut daily: Vec<_> = daily.into_values().collect();
    daily.sort_by(|a, b| {
        (a.tenant_id, a.unit_type_id, a.day, a.service_id, &a.kind).cmp(&(
            b.tenant_id,
            b.unit_type_id,
            b.day,
            b.service_id,
            &b.kind,
        ))
    });
    let attributed: Vec<_> = attributed.into_values().collect();
    store::attribution::insert_nodes(tx, nodes).await?;
    store::job::insert_many(tx, new_jobs).await?;
    store::usage::insert_events(tx, rows).await?;
    store::usage::add_to_rollups(tx, daily).await?;
    store::attribution::add_to_rollups(tx, attributed).await?;
    Ok(events
        .iter()
        .zip(&checked)
        .zip(&fresh)
        .map(|((event, c), fresh)| fresh.then_some((c.organization, c.unit_type, event.tenant_id.0)))
        .collect())
}

fn unique<T: std::hash::Hash + Eq + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.filter(|item| seen.insert(item.clone())).collect()
}
