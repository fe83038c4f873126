//! Voiding recorded usage (`voidUsage`, docs/design.md §15.6): events recorded by mistake
//! stop counting everywhere and stay stored, marked, with their keys still taken.
//!
//! One transaction marks the events voided and takes their figures off every rollup they
//! fed (per day and month, attribution in both modes, by service), the way ingestion added
//! them and in the same order, so it never deadlocks with a concurrent batch. Only the
//! events this transaction marked itself are taken off (`store::usage::void`), so two
//! concurrent voids of one key take it off once. Then the watcher evaluates the unit types
//! touched afresh, and a status that went down is announced as usual.

use std::collections::{BTreeMap, HashMap, HashSet};

use uuid::Uuid;

use super::{
    AppContext,
    attribution::{RollupKey, RollupRows},
    audit, require, watch,
};
use crate::domain::{
    access::{Access, Actor},
    attribution::{self, Chains, Placement, Run},
    ids::{OrganizationId, TenantId},
    void,
};
use crate::error::{AppError, AppResult};
use crate::store::{self, Scope};
use entity::{usage_daily, usage_event};

/// What a caller asks to void.
#[derive(Clone, Debug)]
pub struct VoidRequest {
    pub organization_id: OrganizationId,
    pub idempotency_keys: Vec<String>,
    pub reason: String,
}

/// How a request was taken: keys voided now, and keys voided before (left as they were).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Voided {
    pub voided: usize,
    pub already_voided: usize,
}

pub async fn void_usage(ctx: &AppContext, actor: &Actor, request: VoidRequest) -> AppResult<Voided> {
    let organization = request.organization_id;
    require(actor.void_usage(organization), "organization", "void usage")?;
    let (keys, reason) =
        void::check_request(&request.idempotency_keys, &request.reason).map_err(AppError::bad_input)?;
    let tx = store::begin_write(&ctx.writer).await?;
    if store::organization::find(&tx, organization.0).await?.is_none() {
        return Err(AppError::not_found("organization"));
    }
    // A key limited to a tenant sees other tenants' events as unknown.
    let found: HashMap<String, usage_event::Model> = store::usage::find_by_keys(&tx, organization.0, &keys)
        .await?
        .into_iter()
        .filter(|e| actor.ingest(organization, TenantId(e.tenant_id)) == Access::Allowed)
        .map(|e| (e.idempotency_key.clone(), e))
        .collect();
    let unknown: Vec<String> = keys.iter().filter(|k| !found.contains_key(*k)).cloned().collect();
    if !unknown.is_empty() {
        return Err(AppError::bad_input(void::unknown_keys(&unknown)));
    }
    let live: Vec<Uuid> = found.values().filter(|e| e.voided_at.is_none()).map(|e| e.id).collect();
    let voided = store::usage::void(&tx, organization.0, &live, ctx.clock.now(), &reason).await?;
    take_off_rollups(&tx, organization.0, &voided).await?;
    let outcome = Voided {
        voided: voided.len(),
        already_voided: keys.len() - voided.len(),
    };
    let after = serde_json::json!({
        "keys": keys.len(),
        "voided": outcome.voided,
        "alreadyVoided": outcome.already_voided,
        "reason": reason,
    });
    let change = audit::Change::of(Some(organization.0), "voidUsage", "UsageBatch", None).after(after);
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    let mut unit_types: Vec<Uuid> = voided.iter().map(|e| e.unit_type_id).collect();
    unit_types.sort();
    unit_types.dedup();
    for unit_type in unit_types {
        watch::after(ctx, watch::Change::of(organization.0, unit_type)).await;
    }
    Ok(outcome)
}

/// Takes the voided events' figures off every rollup ingestion added them to: per day (and
/// per month), and for EXECUTION events the attribution rollups at the rows ingestion chose
/// (a job's run at its job's chain node and owning folder, a run without a job at the node
/// it was placed on, which is derived from its tenant and process).
async fn take_off_rollups(
    tx: &sea_orm::DatabaseTransaction,
    organization: Uuid,
    voided: &[usage_event::Model],
) -> AppResult<()> {
    if voided.is_empty() {
        return Ok(());
    }
    let scope = Scope::organization(organization);
    let job_ids: Vec<Uuid> = unique(voided.iter().filter_map(|e| e.job_id));
    let jobs: HashMap<Uuid, Placement> = if job_ids.is_empty() {
        HashMap::new()
    } else {
        let mut placed = HashMap::new();
        for job in store::job::find_many(tx, scope, &job_ids).await? {
            let node = job.node_id.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "job {} has no chain node: backfill did not run",
                    job.id
                ))
            })?;
            placed.insert(
                job.id,
                Placement {
                    node,
                    owner: job.owner_folder_id,
                },
            );
        }
        placed
    };
    let process_ids: Vec<Uuid> = unique(voided.iter().filter_map(|e| e.process_id));
    let process_folders: HashMap<Uuid, Uuid> = if process_ids.is_empty() {
        HashMap::new()
    } else {
        store::folder::find_processes(tx, scope, &process_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p.folder_id))
            .collect()
    };
    let mut daily: BTreeMap<(Uuid, Uuid, chrono::NaiveDate, Uuid, String), usage_daily::Model> = BTreeMap::new();
    let mut attributed = RollupRows::default();
    let mut chains = Chains::default();
    for event in voided {
        let row = daily
            .entry((
                event.tenant_id,
                event.unit_type_id,
                event.day,
                event.service_id,
                event.kind.clone(),
            ))
            .or_insert_with(|| usage_daily::Model {
                tenant_id: event.tenant_id,
                unit_type_id: event.unit_type_id,
                service_id: event.service_id,
                day: event.day,
                kind: event.kind.clone(),
                organization_id: organization,
                quantity: 0,
                events: 0,
                duration_ms: 0,
            });
        row.quantity += event.quantity;
        row.events += 1;
        row.duration_ms += event.duration_ms.unwrap_or(0);
        if event.kind != "EXECUTION" {
            continue;
        }
        let process_folder = event.process_id.and_then(|p| process_folders.get(&p).copied());
        let placement = match event.job_id {
            Some(job) => *jobs
                .get(&job)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("job {job} of event {} not found", event.id)))?,
            None => chains.place(
                Run {
                    tenant: event.tenant_id,
                    process: event.process_id,
                    folder: event.folder_id,
                    process_folder,
                },
                None,
            ),
        };
        let key = RollupKey {
            tenant: event.tenant_id,
            unit_type: event.unit_type_id,
            day: event.day,
            folder: attribution::execution_folder(event.folder_id, process_folder),
            process: event.process_id,
            owner: placement.owner,
            node: placement.node,
        };
        attributed.add(key, organization, event.service_id, event.quantity, 1);
    }
    store::usage::remove_from_rollups(tx, daily.into_values().collect()).await?;
    attributed.remove(tx).await
}

fn unique<T: std::hash::Hash + Eq + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.filter(|item| seen.insert(item.clone())).collect()
}
