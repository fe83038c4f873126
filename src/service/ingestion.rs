//! Recording usage that already happened (`recordUsage`, docs/design.md §1, §6).
//!
//! A batch is written whole or not at all: every event is checked first, and when any
//! fails the error names its index and field and nothing is written. Small batches share
//! their transaction with concurrent ones (`group_commit`), large ones have their own. Events are idempotent per
//! organization and idempotency key: the same key with the same content is a duplicate
//! and changes nothing; with other content it is a CONFLICT. Recording is never refused
//! for quota. Events, new jobs and the per-day rollup are written together.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    AppContext,
    attribution::{RollupKey, RollupRows},
    audit, group_commit, watch, zone_of,
};
use crate::domain::{
    Quantity,
    access::{Access, Actor},
    attribution::{self, Chains, Placement, Run},
    external_key::check_id_or_key,
    ids::{FolderId, OrganizationId, ProcessId, TenantId},
    ingestion::{
        JobFacts, MAX_BATCH, MAX_CHAIN_DEPTH, UsageKind, check_code, check_key, check_occurred_at, check_retained,
        job_disagreement,
    },
    tenant::TenantState,
};
use crate::error::{AppError, AppResult};
use crate::store;
use entity::{job, usage_daily, usage_event};

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
    /// The process by its external key instead of `process_id`, resolved in the tenant.
    pub process_key: Option<String>,
    /// The folder by its external key instead of `folder_id`, resolved in the tenant.
    pub folder_key: Option<String>,
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

/// The content an idempotency key stands for, as a hash: of an event whose keys are
/// resolved, so naming a folder or process by key or by id is the same content.
pub(crate) fn fingerprint(event: &NewUsageEvent, quantity: Quantity) -> Vec<u8> {
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
    // 16 bytes tell contents apart as surely as 32 for this purpose (a resend compared
    // with what its key first recorded), at half the bytes per stored event.
    hasher.finalize()[..FINGERPRINT_BYTES].to_vec()
}

/// How many bytes of the content's SHA-256 an event keeps as its fingerprint.
const FINGERPRINT_BYTES: usize = 16;

/// Records a batch. A lost race on an idempotency key is retried, so that the
/// second of two identical concurrent batches reports duplicates.
pub async fn record(ctx: &AppContext, actor: &Actor, events: Vec<NewUsageEvent>) -> AppResult<Recorded> {
    if events.len() > MAX_BATCH {
        return Err(AppError::bad_input(format!(
            "a batch holds at most {MAX_BATCH} events; this one has {}",
            events.len()
        )));
    }
    check_retention(ctx, &events)?;
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

/// With a retention, an event older than the raw events kept is refused (docs/rules.md).
fn check_retention(ctx: &AppContext, events: &[NewUsageEvent]) -> AppResult<()> {
    let Some(days) = ctx.event_retention_days else {
        return Ok(());
    };
    let now = ctx.clock.now();
    for (i, event) in events.iter().enumerate() {
        check_retained(event.occurred_at.to_utc(), now, days).map_err(|m| bad(i, "occurredAt", m))?;
    }
    Ok(())
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
            let batch = serde_json::json!({
                "accepted": recorded.accepted,
                "duplicates": recorded.duplicates,
                "tenants": tenants,
            });
            let change = audit::Change::of(Some(organization), "recordUsage", "UsageBatch", None).after(batch);
            audit::entry(ctx, actor, change)
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
    let known = Known::load(tx, events).await?;
    let (events, checked): (Vec<_>, Vec<_>) = check_all(&known, now, actors, events)?.into_iter().unzip();
    let fresh = fresh_events(tx, &events, &checked).await?;
    let mut batch = Batch::start(tx, &known, &events, now).await?;
    for (i, (event, checked)) in events.iter().zip(&checked).enumerate() {
        if fresh[i] {
            batch.add(i, event, checked)?;
        }
    }
    batch.write(tx).await?;
    Ok(events
        .iter()
        .zip(&checked)
        .zip(&fresh)
        .map(|((event, c), fresh)| fresh.then_some((c.organization, c.unit_type, event.tenant_id.0)))
        .collect())
}

/// What the events of a batch name that is stored already: their tenants, the time zone of
/// each tenant's organization, and the unit types, folders and processes named.
struct Known {
    tenants: HashMap<Uuid, entity::tenant::Model>,
    zones: HashMap<Uuid, chrono_tz::Tz>,
    unit_types: HashMap<String, Uuid>,
    /// Each folder's tenant.
    folders: HashMap<Uuid, Uuid>,
    /// Each process's tenant and owning folder.
    processes: HashMap<Uuid, (Uuid, Uuid)>,
    keys: Keys,
}

impl Known {
    async fn load(tx: &sea_orm::DatabaseTransaction, events: &[NewUsageEvent]) -> AppResult<Known> {
        let tenant_ids = unique(events.iter().map(|e| e.tenant_id.0));
        let tenants: HashMap<Uuid, entity::tenant::Model> = store::tenant::find_many(tx, &tenant_ids)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let mut known = Known {
            zones: HashMap::new(),
            unit_types: HashMap::new(),
            folders: HashMap::new(),
            processes: HashMap::new(),
            keys: Keys::default(),
            tenants,
        };
        for org in store::organization::find_many(tx, &known.organizations()).await? {
            known.zones.insert(org.id, zone_of(&org)?);
        }
        for code in unique(events.iter().map(|e| e.unit_type.as_str())) {
            if let Some(unit) = store::unit_type::find_by_code(tx, code).await? {
                known.unit_types.insert(code.to_owned(), unit.id);
            }
        }
        let folder_ids = unique(events.iter().filter_map(|e| e.folder_id.map(|f| f.0)));
        let process_ids = unique(events.iter().filter_map(|e| e.process_id.map(|p| p.0)));
        for org in known.organizations() {
            let scope = store::Scope::organization(org);
            if !folder_ids.is_empty() {
                let folders = store::folder::find_folders(tx, scope, &folder_ids).await?;
                known.folders.extend(folders.into_iter().map(|f| (f.id, f.tenant_id)));
            }
            known.add_processes(tx, scope, &process_ids).await?;
            known.keys.load(tx, scope, events).await?;
        }
        let keys = &known.keys;
        known
            .folders
            .extend(keys.folders.iter().map(|((tenant, _), id)| (*id, *tenant)));
        known.processes.extend(
            keys.processes
                .iter()
                .map(|((tenant, _), (id, folder))| (*id, (*tenant, *folder))),
        );
        Ok(known)
    }

    /// The organizations of the tenants named, each once.
    fn organizations(&self) -> Vec<Uuid> {
        let mut organizations: Vec<Uuid> = self.tenants.values().map(|t| t.organization_id).collect();
        organizations.sort();
        organizations.dedup();
        organizations
    }

    async fn add_processes(
        &mut self,
        tx: &sea_orm::DatabaseTransaction,
        scope: store::Scope,
        ids: &[Uuid],
    ) -> AppResult<()> {
        if !ids.is_empty() {
            let processes = store::folder::find_processes(tx, scope, ids).await?;
            self.processes
                .extend(processes.into_iter().map(|p| (p.id, (p.tenant_id, p.folder_id))));
        }
        Ok(())
    }
}

/// The folders and processes events name by external key, by (tenant, key).
#[derive(Default)]
struct Keys {
    folders: HashMap<(Uuid, String), Uuid>,
    /// Each process's id and owning folder.
    processes: HashMap<(Uuid, String), (Uuid, Uuid)>,
}

impl Keys {
    /// Adds the folders and processes of `scope` that `events` name by key: one statement
    /// for each kind, however many events.
    async fn load(
        &mut self,
        tx: &sea_orm::DatabaseTransaction,
        scope: store::Scope,
        events: &[NewUsageEvent],
    ) -> AppResult<()> {
        let named = |key: fn(&NewUsageEvent) -> &Option<String>| {
            unique(events.iter().filter_map(|e| key(e).clone().map(|k| (e.tenant_id.0, k))))
        };
        let (folder_keys, process_keys) = (named(|e| &e.folder_key), named(|e| &e.process_key));
        if !folder_keys.is_empty() {
            for folder in store::folder::find_folders_by_keys(tx, scope, &folder_keys).await? {
                if let Some(key) = folder.external_key {
                    self.folders.insert((folder.tenant_id, key), folder.id);
                }
            }
        }
        if !process_keys.is_empty() {
            for process in store::folder::find_processes_by_keys(tx, scope, &process_keys).await? {
                if let Some(key) = process.external_key {
                    self.processes
                        .insert((process.tenant_id, key), (process.id, process.folder_id));
                }
            }
        }
        Ok(())
    }

    /// The event naming by id what it names by key (itself when it names nothing by key),
    /// so that every later check, the fingerprint and the rows see ids only, and a key
    /// behaves exactly as its id would. A refusal is the field it is about and why.
    fn resolve<'e>(&self, event: &'e NewUsageEvent) -> Result<Cow<'e, NewUsageEvent>, (&'static str, String)> {
        if event.folder_key.is_none() && event.process_key.is_none() {
            return Ok(Cow::Borrowed(event));
        }
        let (has_folder_id, has_folder_key) = (event.folder_id.is_some(), event.folder_key.is_some());
        check_id_or_key("folder", "folderId", "folderKey", has_folder_id, has_folder_key)
            .map_err(|m| ("folderKey", m))?;
        let (has_process_id, has_process_key) = (event.process_id.is_some(), event.process_key.is_some());
        check_id_or_key("process", "processId", "processKey", has_process_id, has_process_key)
            .map_err(|m| ("processKey", m))?;
        let tenant = event.tenant_id.0;
        let mut resolved = event.clone();
        if let Some(key) = resolved.folder_key.take() {
            let id = self.folders.get(&(tenant, key.clone())).ok_or_else(|| {
                let message = format!("no folder with key \"{key}\" in tenant {tenant}");
                ("folderKey", message)
            })?;
            resolved.folder_id = Some(FolderId(*id));
        }
        if let Some(key) = resolved.process_key.take() {
            let (id, _) = self.processes.get(&(tenant, key.clone())).ok_or_else(|| {
                let message = format!("no process with key \"{key}\" in tenant {tenant}");
                ("processKey", message)
            })?;
            resolved.process_id = Some(ProcessId(*id));
        }
        Ok(Cow::Owned(resolved))
    }
}

/// A lone event (admission's) with its keys resolved in `tenant`, as a batch would
/// resolve them: admission compares its fingerprint before it records.
pub(crate) async fn resolve_keys(
    tx: &sea_orm::DatabaseTransaction,
    tenant: &entity::tenant::Model,
    event: NewUsageEvent,
) -> AppResult<NewUsageEvent> {
    let mut keys = Keys::default();
    let events = [event];
    keys.load(tx, store::Scope::tenant(tenant.organization_id, tenant.id), &events)
        .await?;
    let [event] = events;
    keys.resolve(&event)
        .map(Cow::into_owned)
        .map_err(|(field, message)| AppError::bad_input(format!("{field}: {message}")))
}

/// What the checks found out about an event.
struct Checked {
    quantity: Quantity,
    organization: Uuid,
    day: chrono::NaiveDate,
    unit_type: Uuid,
    fingerprint: Vec<u8>,
}

/// Every check that needs no other event, event by event: the first refusal names its event.
fn check_all<'e>(
    known: &Known,
    now: DateTime<chrono::Utc>,
    actors: &[&Actor],
    events: &'e [NewUsageEvent],
) -> AppResult<Vec<(Cow<'e, NewUsageEvent>, Checked)>> {
    events
        .iter()
        .enumerate()
        .map(|(i, event)| check_event(known, now, actors[i], i, event))
        .collect()
}

/// Checks an event; answers it with its keys resolved (see [`Keys::resolve`]).
fn check_event<'e>(
    known: &Known,
    now: DateTime<chrono::Utc>,
    actor: &Actor,
    i: usize,
    event: &'e NewUsageEvent,
) -> AppResult<(Cow<'e, NewUsageEvent>, Checked)> {
    check_key(&event.idempotency_key).map_err(|m| bad(i, "idempotencyKey", m))?;
    let tenant = recording_tenant(known, actor, i, event.tenant_id)?;
    let event = known.keys.resolve(event).map_err(|(field, m)| bad(i, field, m))?;
    let unit_type = *known
        .unit_types
        .get(&event.unit_type)
        .ok_or_else(|| bad(i, "unitType", format!("unknown unit type '{}'", event.unit_type)))?;
    check_code(&event.service).map_err(|m| bad(i, "service", m))?;
    let quantity = Quantity::parse_non_negative(&event.quantity).map_err(|e| bad(i, "quantity", e))?;
    check_occurred_at(event.occurred_at.to_utc(), now).map_err(|m| bad(i, "occurredAt", m))?;
    if event.duration_ms.is_some_and(|d| d < 0) {
        return Err(bad(i, "durationMs", "must be 0 or more"));
    }
    check_job_names(i, &event)?;
    check_folder_and_process(known, i, &event)?;
    let zone = known
        .zones
        .get(&tenant.organization_id)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("tenant without organization")))?;
    let checked = Checked {
        quantity,
        organization: tenant.organization_id,
        day: event.occurred_at.with_timezone(zone).date_naive(),
        unit_type,
        fingerprint: fingerprint(&event, quantity),
    };
    Ok((event, checked))
}

/// The event's tenant, if it exists, the caller may record for it and it takes usage.
fn recording_tenant<'k>(
    known: &'k Known,
    actor: &Actor,
    i: usize,
    id: TenantId,
) -> AppResult<&'k entity::tenant::Model> {
    let not_found = || AppError::NotFound(at(i, "tenantId", "tenant not found"));
    let tenant = known.tenants.get(&id.0).ok_or_else(not_found)?;
    match actor.ingest(OrganizationId(tenant.organization_id), id) {
        Access::Allowed => {}
        Access::Forbidden => {
            return Err(AppError::Forbidden(at(
                i,
                "tenantId",
                "your API key's role may not record usage",
            )));
        }
        Access::Hidden => return Err(not_found()),
    }
    if tenant.state == TenantState::Deleted.as_str() {
        return Err(bad(i, "tenantId", "the tenant is DELETED and takes no more usage"));
    }
    Ok(tenant)
}

fn check_job_names(i: usize, event: &NewUsageEvent) -> AppResult<()> {
    if let Some(job) = &event.job_id {
        check_key(job).map_err(|m| bad(i, "jobId", m))
    } else if event.parent_job_id.is_some() {
        Err(bad(
            i,
            "parentJobId",
            "needs a jobId: a run with a parent is a job of its own",
        ))
    } else {
        Ok(())
    }
}

/// The folder and process an event names must be its tenant's.
fn check_folder_and_process(known: &Known, i: usize, event: &NewUsageEvent) -> AppResult<()> {
    let tenant = event.tenant_id.0;
    if let Some(folder) = event.folder_id
        && known.folders.get(&folder.0) != Some(&tenant)
    {
        return Err(AppError::NotFound(at(i, "folderId", "folder not found in this tenant")));
    }
    if let Some(process) = event.process_id
        && known.processes.get(&process.0).map(|(tenant, _)| tenant) != Some(&tenant)
    {
        return Err(AppError::NotFound(at(
            i,
            "processId",
            "process not found in this tenant",
        )));
    }
    Ok(())
}

/// Which events are new: a key stored (or earlier in the batch) with the same content is a
/// duplicate, with other content a CONFLICT.
async fn fresh_events(
    tx: &sea_orm::DatabaseTransaction,
    events: &[Cow<'_, NewUsageEvent>],
    checked: &[Checked],
) -> AppResult<Vec<bool>> {
    let mut stored: HashMap<(Uuid, String), Vec<u8>> = HashMap::new();
    for org in unique(checked.iter().map(|c| c.organization)) {
        let keys: Vec<String> = events
            .iter()
            .zip(checked)
            .filter(|(_, c)| c.organization == org)
            .map(|(e, _)| e.idempotency_key.clone())
            .collect();
        for (key, print) in store::usage::fingerprints(tx, org, &keys).await? {
            stored.insert((org, key), print);
        }
    }
    let mut fresh = vec![false; events.len()];
    for (i, (event, c)) in events.iter().zip(checked).enumerate() {
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
    Ok(fresh)
}

/// The per-day rollup row an event adds to, in the order concurrent writers lock them.
type DailyKey = (Uuid, Uuid, chrono::NaiveDate, Uuid, &'static str);

/// A run of an event, placed: its job (if any), process, folder and place in its chain.
struct PlacedRun {
    job: Option<Uuid>,
    process: Option<Uuid>,
    folder: Option<Uuid>,
    placement: Placement,
}

/// The rows a batch writes, built event by event; a later event sees the jobs of the
/// earlier ones.
struct Batch {
    now: DateTime<chrono::Utc>,
    /// Jobs by (tenant, name): stored ones and the batch's new ones.
    jobs: HashMap<(Uuid, String), job::Model>,
    /// Job names by id, to compare a parent given again with the one recorded.
    job_names: HashMap<Uuid, String>,
    /// The owning folder of every process an event or a stored job names.
    process_folders: HashMap<Uuid, Uuid>,
    services: HashMap<String, Uuid>,
    /// Each event's tenant's organization.
    organizations: HashMap<Uuid, Uuid>,
    chains: Chains,
    new_jobs: Vec<job::Model>,
    rows: Vec<usage_event::Model>,
    daily: BTreeMap<DailyKey, usage_daily::Model>,
    attributed: RollupRows,
}

impl Batch {
    /// Reads the jobs the events name (and their processes) and the services' ids.
    async fn start(
        tx: &sea_orm::DatabaseTransaction,
        known: &Known,
        events: &[Cow<'_, NewUsageEvent>],
        now: DateTime<chrono::Utc>,
    ) -> AppResult<Batch> {
        let jobs = known_jobs(tx, known, events).await?;
        let job_names = jobs.values().map(|j| (j.id, j.external_id.clone())).collect();
        let process_folders = job_process_folders(tx, known, &jobs).await?;
        let mut codes: Vec<String> = unique(events.iter().map(|e| e.service.clone()));
        codes.sort();
        let services = store::service_catalog::ensure(tx, &codes).await?;
        Ok(Batch {
            now,
            jobs,
            job_names,
            process_folders,
            services,
            organizations: known.tenants.values().map(|t| (t.id, t.organization_id)).collect(),
            chains: Chains::default(),
            new_jobs: Vec::new(),
            rows: Vec::new(),
            daily: BTreeMap::new(),
            attributed: RollupRows::default(),
        })
    }

    /// Adds a new event: its job, its place in its chain, and what it adds to the rollups.
    fn add(&mut self, i: usize, event: &NewUsageEvent, c: &Checked) -> AppResult<()> {
        let run = match &event.job_id {
            Some(name) => self.place_job(i, event, name)?,
            None => {
                let (process, folder) = (event.process_id.map(|p| p.0), event.folder_id.map(|f| f.0));
                PlacedRun {
                    job: None,
                    process,
                    folder,
                    placement: self.chains.place(self.run(event.tenant_id.0, process, folder), None),
                }
            }
        };
        let service = *self
            .services
            .get(&event.service)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("service '{}' was not created", event.service)))?;
        if event.kind == UsageKind::Execution {
            self.attribute(event.tenant_id.0, c, &run, service);
        }
        self.add_to_daily(event, c, service);
        self.rows.push(usage_event::Model {
            id: Uuid::now_v7(),
            organization_id: c.organization,
            idempotency_key: event.idempotency_key.clone(),
            fingerprint: c.fingerprint.clone(),
            tenant_id: event.tenant_id.0,
            unit_type_id: c.unit_type,
            service_id: service,
            quantity: c.quantity.scaled(),
            occurred_at: event.occurred_at.to_utc(),
            day: c.day,
            kind: event.kind.as_str().to_owned(),
            job_id: run.job,
            process_id: run.process,
            folder_id: run.folder,
            duration_ms: event.duration_ms,
            recorded_at: self.now,
            voided_at: None,
            void_reason: None,
        });
        Ok(())
    }

    fn run(&self, tenant: Uuid, process: Option<Uuid>, folder: Option<Uuid>) -> Run {
        Run {
            tenant,
            process,
            folder,
            process_folder: process.and_then(|p| self.process_folders.get(&p).copied()),
        }
    }

    /// The run of a job: a job seen before must agree with what it was first recorded with;
    /// a new job is placed under its parent, which must be known.
    fn place_job(&mut self, i: usize, event: &NewUsageEvent, name: &str) -> AppResult<PlacedRun> {
        let tenant = event.tenant_id.0;
        match self.jobs.get(&(tenant, name.to_owned())) {
            Some(known) => self.known_job(i, event, name, known),
            None => self.new_job(i, event, name),
        }
    }

    fn known_job(&self, i: usize, event: &NewUsageEvent, name: &str, known: &job::Model) -> AppResult<PlacedRun> {
        let recorded = JobFacts {
            process: known.process_id.map(ProcessId),
            folder: known.folder_id.map(FolderId),
            parent: known.parent_id.and_then(|p| self.job_names.get(&p).cloned()),
        };
        let given = JobFacts {
            process: event.process_id,
            folder: event.folder_id,
            parent: event.parent_job_id.clone(),
        };
        if let Some(field) = job_disagreement(&recorded, &given) {
            return Err(bad(
                i,
                field,
                format!("job '{name}' was first recorded with another {field}"),
            ));
        }
        Ok(PlacedRun {
            job: Some(known.id),
            process: known.process_id,
            folder: known.folder_id,
            placement: placement_of(known)?,
        })
    }

    fn new_job(&mut self, i: usize, event: &NewUsageEvent, name: &str) -> AppResult<PlacedRun> {
        let tenant = event.tenant_id.0;
        let parent = match &event.parent_job_id {
            Some(parent_name) => Some(self.jobs.get(&(tenant, parent_name.clone())).ok_or_else(|| {
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
        let (process, folder) = (event.process_id.map(|p| p.0), event.folder_id.map(|f| f.0));
        let parent_placement = parent.map(placement_of).transpose()?;
        let placement = self.chains.place(self.run(tenant, process, folder), parent_placement);
        let id = Uuid::now_v7();
        let model = job::Model {
            id,
            organization_id: self.organizations.get(&tenant).copied().unwrap_or_default(),
            tenant_id: tenant,
            external_id: name.to_owned(),
            process_id: process,
            folder_id: folder,
            parent_id: parent.map(|p| p.id),
            root_id: parent.map_or(id, |p| p.root_id),
            root_process_id: parent.map_or(process, |p| p.root_process_id),
            node_id: Some(placement.node),
            owner_folder_id: placement.owner,
            depth,
            created_at: self.now,
        };
        self.job_names.insert(id, name.to_owned());
        self.jobs.insert((tenant, name.to_owned()), model.clone());
        self.new_jobs.push(model);
        Ok(PlacedRun {
            job: Some(id),
            process,
            folder,
            placement,
        })
    }

    /// An EXECUTION event's share of the attribution rollup.
    fn attribute(&mut self, tenant: Uuid, c: &Checked, run: &PlacedRun, service: Uuid) {
        let process_folder = run.process.and_then(|p| self.process_folders.get(&p).copied());
        let key = RollupKey {
            tenant,
            unit_type: c.unit_type,
            day: c.day,
            folder: attribution::execution_folder(run.folder, process_folder),
            process: run.process,
            owner: run.placement.owner,
            node: run.placement.node,
        };
        self.attributed
            .add(key, c.organization, service, c.quantity.scaled(), 1);
    }

    fn add_to_daily(&mut self, event: &NewUsageEvent, c: &Checked, service: Uuid) {
        let kind = event.kind.as_str();
        let tenant = event.tenant_id.0;
        let entry = self
            .daily
            .entry((tenant, c.unit_type, c.day, service, kind))
            .or_insert_with(|| usage_daily::Model {
                tenant_id: tenant,
                unit_type_id: c.unit_type,
                service_id: service,
                day: c.day,
                kind: kind.to_owned(),
                organization_id: c.organization,
                quantity: 0,
                events: 0,
                duration_ms: 0,
            });
        entry.quantity += c.quantity.scaled();
        entry.events += 1;
        entry.duration_ms += event.duration_ms.unwrap_or(0);
    }

    /// Writes the batch's rows; shared rows (nodes, rollups) in key order.
    async fn write(self, tx: &sea_orm::DatabaseTransaction) -> AppResult<()> {
        let organizations = self.organizations;
        let organization_of = |tenant| organizations.get(&tenant).copied().unwrap_or_default();
        store::attribution::insert_chain_nodes(tx, self.chains.into_nodes(), organization_of).await?;
        store::job::insert_many(tx, self.new_jobs).await?;
        store::usage::insert_events(tx, self.rows).await?;
        store::usage::add_to_rollups(tx, self.daily.into_values().collect()).await?;
        self.attributed.write(tx).await
    }
}

/// Where a stored job sits in its chain.
fn placement_of(job: &job::Model) -> AppResult<Placement> {
    let node = job.node_id.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "job {} has no chain node: backfill did not run",
            job.id
        ))
    })?;
    Ok(Placement {
        node,
        owner: job.owner_folder_id,
    })
}

/// The stored jobs the events name, as themselves or as parents, by (tenant, name).
async fn known_jobs(
    tx: &sea_orm::DatabaseTransaction,
    known: &Known,
    events: &[Cow<'_, NewUsageEvent>],
) -> AppResult<HashMap<(Uuid, String), job::Model>> {
    let mut jobs = HashMap::new();
    for org in known.organizations() {
        let mut names: Vec<(Uuid, String)> = Vec::new();
        for event in events {
            let in_org = known
                .tenants
                .get(&event.tenant_id.0)
                .is_some_and(|t| t.organization_id == org);
            if in_org {
                for name in [&event.job_id, &event.parent_job_id].into_iter().flatten() {
                    names.push((event.tenant_id.0, name.clone()));
                }
            }
        }
        if names.is_empty() {
            continue;
        }
        for job in store::job::find_by_names(tx, store::Scope::organization(org), &names).await? {
            jobs.insert((job.tenant_id, job.external_id.clone()), job);
        }
    }
    Ok(jobs)
}

/// The owning folder of every process the events or their stored jobs name.
async fn job_process_folders(
    tx: &sea_orm::DatabaseTransaction,
    known: &Known,
    jobs: &HashMap<(Uuid, String), job::Model>,
) -> AppResult<HashMap<Uuid, Uuid>> {
    let mut folders: HashMap<Uuid, Uuid> = known.processes.iter().map(|(p, (_, f))| (*p, *f)).collect();
    let organization_of = |tenant: &Uuid| known.tenants.get(tenant).map(|t| t.organization_id);
    for org in known.organizations() {
        let unseen = unique(
            jobs.values()
                .filter(|j| organization_of(&j.tenant_id) == Some(org))
                .filter_map(|j| j.process_id)
                .filter(|p| !folders.contains_key(p)),
        );
        if !unseen.is_empty() {
            let processes = store::folder::find_processes(tx, store::Scope::organization(org), &unseen).await?;
            folders.extend(processes.into_iter().map(|p| (p.id, p.folder_id)));
        }
    }
    Ok(folders)
}

fn unique<T: std::hash::Hash + Eq + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.filter(|item| seen.insert(item.clone())).collect()
}
