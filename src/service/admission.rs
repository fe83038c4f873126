//! Admission (`startExecution`, docs/design.md §6, §15.3): grants a run's units and records
//! them as one EXECUTION event, or refuses with QUOTA_EXCEEDED (or TENANT_INACTIVE for a
//! tenant that is not ACTIVE) and records nothing.
//!
//! The decision and the write happen in one transaction holding the organization's lock
//! (a row lock on PostgreSQL, the write lock on SQLite), so concurrent admissions, also
//! from several server processes, are decided one after another on fresh figures and
//! the units granted never exceed the limit.

use super::{
    AppContext, audit,
    bundle::{LicensedBundle, current_bundle},
    figures::controls_of,
    ingestion::{NewUsageEvent, announce, fingerprint, record_in, resolve_keys},
    state_of, unit_type, zone_of,
};
use crate::domain::{
    Quantity,
    access::{Access, Actor},
    admission::{AdmissionFacts, Refusal, admit},
    events::QuotaEventKind,
    ids::{FolderId, OrganizationId, ProcessId, TenantId},
    ingestion::UsageKind,
    metrics::{QuotaView, quota_view},
    tenant::TenantState,
};
use crate::error::{AppError, AppResult, QuotaRefusal};
use crate::events::QuotaEvent;
use crate::store;

/// A run asking for its units.
#[derive(Clone, Debug)]
pub struct ExecutionRequest {
    pub idempotency_key: String,
    pub tenant_id: TenantId,
    pub unit_type: String,
    pub service: String,
    pub quantity: String,
    pub job_id: Option<String>,
    pub parent_job_id: Option<String>,
    pub process_id: Option<ProcessId>,
    pub folder_id: Option<FolderId>,
    /// The process by its external key instead of `process_id`.
    pub process_key: Option<String>,
    /// The folder by its external key instead of `folder_id`.
    pub folder_key: Option<String>,
}

/// A granted run and the organization's quota after it.
#[derive(Clone, Debug)]
pub struct Granted {
    pub organization_id: uuid::Uuid,
    pub unit_type: entity::unit_type::Model,
    pub bundle: LicensedBundle,
    pub view: QuotaView,
    /// False when the key was already granted: nothing new was recorded.
    pub recorded: bool,
}

/// Grants or refuses a run. A refusal is `Err(QuotaExceeded)`, announced to subscribers
/// as ADMISSION_REFUSED.
pub async fn start(ctx: &AppContext, actor: &Actor, request: ExecutionRequest) -> AppResult<Granted> {
    let quantity =
        Quantity::parse_non_negative(&request.quantity).map_err(|e| AppError::bad_input(format!("quantity: {e}")))?;
    let now = ctx.clock.now();
    let tx = store::begin_write(&ctx.writer).await?;
    let tenant = admitted_tenant(&tx, actor, request.tenant_id).await?;
    check_active(&tenant)?;
    let event = resolve_keys(&tx, &tenant, run_event(&request, now)).await?;
    let standing = Standing::load(ctx, &tx, &tenant, &request.unit_type).await?;
    if granted_before(&tx, &standing, &event, quantity).await? {
        return Ok(standing.granted(Quantity::ZERO, false));
    }
    let tenant_stop = tenant_stop(&tx, &standing, &tenant, &request.service).await?;
    if let Err(refusal) = admit(standing.facts(quantity, tenant_stop)) {
        drop(tx);
        return Err(refuse(ctx, &standing, tenant.id, refusal).await);
    }
    let recorded = record_in(&tx, now, actor, &[event]).await?;
    audit::record(&tx, ctx, actor, admission_audit(&standing, &request, quantity)).await?;
    tx.commit().await?;
    metrics::counter!("quotagraph_admissions_total", "outcome" => "granted").increment(1);
    announce(ctx, &recorded.touched).await;
    Ok(standing.granted(quantity, true))
}

/// The run's tenant, if the caller may ask for admission there.
async fn admitted_tenant(
    tx: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    id: TenantId,
) -> AppResult<entity::tenant::Model> {
    let tenant = store::tenant::find(tx, id.0)
        .await?
        .ok_or_else(|| AppError::not_found("tenant"))?;
    match actor.ingest(OrganizationId(tenant.organization_id), id) {
        Access::Allowed => Ok(tenant),
        Access::Forbidden => Err(AppError::forbidden("start executions")),
        Access::Hidden => Err(AppError::not_found("tenant")),
    }
}

/// A DISABLED (or DELETED) tenant is no longer actively consuming: no run starts there.
fn check_active(tenant: &entity::tenant::Model) -> AppResult<()> {
    match state_of(tenant)? {
        TenantState::Active => Ok(()),
        state => Err(AppError::TenantInactive(format!(
            "tenantId: the tenant is {state}, so no run starts there; enable it first"
        ))),
    }
}

/// Where the organization stands, read under its lock: today's bundle of the unit type and
/// each tenant's consumption in it.
struct Standing {
    organization: uuid::Uuid,
    today: chrono::NaiveDate,
    unit: entity::unit_type::Model,
    bundle: LicensedBundle,
    by_tenant: std::collections::HashMap<uuid::Uuid, i64>,
    used: Quantity,
}

impl Standing {
    async fn load(
        ctx: &AppContext,
        tx: &sea_orm::DatabaseTransaction,
        tenant: &entity::tenant::Model,
        unit_type: &str,
    ) -> AppResult<Standing> {
        store::organization::lock(tx, tenant.organization_id).await?;
        let org = store::organization::find(tx, tenant.organization_id)
            .await?
            .ok_or_else(|| AppError::not_found("organization"))?;
        let today = ctx.clock.today_in(zone_of(&org)?);
        let unit = unit_type::by_code(tx, "unitType", unit_type).await?;
        let bundle = current_bundle(tx, org.id, &unit, today).await?;
        let (start, end) = (bundle.bundle.start, bundle.bundle.end);
        let by_tenant = store::usage::consumed_by_tenant(tx, org.id, unit.id, start, end).await?;
        let used = Quantity::from_scaled(by_tenant.values().sum());
        Ok(Standing {
            organization: org.id,
            today,
            unit,
            bundle,
            by_tenant,
            used,
        })
    }

    fn view(&self, more: Quantity) -> QuotaView {
        quota_view(&self.bundle.terms, &self.bundle.bundle, self.used + more)
    }

    fn facts(&self, quantity: Quantity, tenant_stop: Option<(Quantity, Quantity)>) -> AdmissionFacts {
        AdmissionFacts {
            quantity,
            enforced: self.bundle.license.enforced,
            limit: self.view(Quantity::ZERO).limit,
            used: self.used,
            tenant_stop,
        }
    }

    /// The answer to a run granted `quantity` (`recorded`: false when granted before).
    fn granted(self, quantity: Quantity, recorded: bool) -> Granted {
        Granted {
            organization_id: self.organization,
            view: self.view(quantity),
            unit_type: self.unit,
            bundle: self.bundle,
            recorded,
        }
    }
}

/// The run as the EXECUTION event it records when granted.
fn run_event(request: &ExecutionRequest, now: chrono::DateTime<chrono::Utc>) -> NewUsageEvent {
    NewUsageEvent {
        idempotency_key: request.idempotency_key.clone(),
        tenant_id: request.tenant_id,
        unit_type: request.unit_type.clone(),
        service: request.service.clone(),
        quantity: request.quantity.clone(),
        occurred_at: now.fixed_offset(),
        kind: UsageKind::Execution,
        job_id: request.job_id.clone(),
        parent_job_id: request.parent_job_id.clone(),
        process_id: request.process_id,
        folder_id: request.folder_id,
        process_key: request.process_key.clone(),
        folder_key: request.folder_key.clone(),
        duration_ms: None,
    }
}

/// Whether the same key was granted before (it is granted again, recording nothing);
/// the same key with other content is a CONFLICT.
async fn granted_before(
    tx: &sea_orm::DatabaseTransaction,
    standing: &Standing,
    event: &NewUsageEvent,
    quantity: Quantity,
) -> AppResult<bool> {
    let Some(stored) = store::usage::find_by_key(tx, standing.organization, &event.idempotency_key).await? else {
        return Ok(false);
    };
    let same = NewUsageEvent {
        occurred_at: stored.occurred_at.fixed_offset(),
        ..event.clone()
    };
    if fingerprint(&same, quantity) != stored.fingerprint {
        return Err(AppError::Conflict(format!(
            "idempotencyKey: '{}' was already recorded with different content",
            event.idempotency_key
        )));
    }
    Ok(true)
}

/// The tenant's allocation and consumption, when it stops this service at 100% of it.
async fn tenant_stop(
    tx: &sea_orm::DatabaseTransaction,
    standing: &Standing,
    tenant: &entity::tenant::Model,
    service: &str,
) -> AppResult<Option<(Quantity, Quantity)>> {
    let (organization, unit) = (standing.organization, standing.unit.id);
    let controls = store::control::find(tx, organization, tenant.id, unit).await?;
    let (stop, _) = controls_of(controls.as_ref())?;
    if !stop.iter().any(|code| code == service) {
        return Ok(None);
    }
    let allocation = store::allocation::in_effect(tx, organization, tenant.id, unit, standing.today).await?;
    let consumed = Quantity::from_scaled(standing.by_tenant.get(&tenant.id).copied().unwrap_or(0));
    Ok(allocation
        .and_then(|a| a.amount)
        .map(|amount| (Quantity::from_scaled(amount), consumed)))
}

/// Counts and announces a refusal; the error the caller gets.
async fn refuse(ctx: &AppContext, standing: &Standing, tenant: uuid::Uuid, refusal: Refusal) -> AppError {
    metrics::counter!("quotagraph_admissions_total", "outcome" => "refused").increment(1);
    announce_refusal(ctx, standing.organization, tenant, &standing.unit.code, &refusal).await;
    AppError::QuotaExceeded(QuotaRefusal {
        message: refusal.message,
        limit: refusal.limit.to_string(),
        used: refusal.used.to_string(),
        remaining: refusal.remaining.to_string(),
    })
}

fn admission_audit<'a>(standing: &Standing, request: &ExecutionRequest, quantity: Quantity) -> audit::Change<'a> {
    let run = serde_json::json!({
        "idempotencyKey": request.idempotency_key,
        "unitType": standing.unit.code,
        "service": request.service,
        "quantity": quantity.to_string(),
    });
    audit::Change::of(
        Some(standing.organization),
        "startExecution",
        "Tenant",
        Some(request.tenant_id.0),
    )
    .after(run)
}

/// A run that ends: its duration, reported once.
#[derive(Clone, Debug)]
pub struct FinishRequest {
    pub tenant_id: TenantId,
    pub idempotency_key: String,
    pub duration_ms: i64,
}

/// Records the duration of a run admitted (or recorded) without one; the same duration
/// again changes nothing, another one is a CONFLICT. Its activity and `events.csv` show it.
pub async fn finish(ctx: &AppContext, actor: &Actor, request: FinishRequest) -> AppResult<i64> {
    if request.duration_ms < 0 {
        return Err(AppError::bad_input(format!(
            "durationMs: must be 0 or more; got {}",
            request.duration_ms
        )));
    }
    let tx = store::begin_write(&ctx.writer).await?;
    let tenant = admitted_tenant(&tx, actor, request.tenant_id).await?;
    let run = finished_run(&tx, &tenant, &request.idempotency_key).await?;
    if let Some(recorded) = run.duration_ms {
        return same_duration(&request, recorded);
    }
    if !store::usage::set_duration(&tx, tenant.organization_id, run.id, request.duration_ms).await? {
        // A concurrent finish or void got there first.
        let again = finished_run(&tx, &tenant, &request.idempotency_key).await?;
        return same_duration(&request, again.duration_ms.unwrap_or_default());
    }
    store::usage::add_to_rollups(&tx, vec![duration_row(&run, request.duration_ms)]).await?;
    let finished = serde_json::json!({ "idempotencyKey": request.idempotency_key, "durationMs": request.duration_ms });
    let change = audit::Change::of(
        Some(tenant.organization_id),
        "finishExecution",
        "Tenant",
        Some(tenant.id),
    )
    .after(finished);
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok(request.duration_ms)
}

/// The tenant's EXECUTION event under `key`.
async fn finished_run(
    tx: &sea_orm::DatabaseTransaction,
    tenant: &entity::tenant::Model,
    key: &str,
) -> AppResult<entity::usage_event::Model> {
    store::usage::find_by_key(tx, tenant.organization_id, key)
        .await?
        .filter(|event| event.tenant_id == tenant.id && event.kind == UsageKind::Execution.as_str())
        .ok_or_else(|| AppError::NotFound(format!("idempotencyKey: no run '{key}' was started in this tenant")))
        .and_then(|event| match event.voided_at {
            // Its figures are gone: a duration would count again for a run that does not.
            Some(_) => Err(AppError::bad_input(format!(
                "idempotencyKey: run '{key}' was voided; it takes no duration"
            ))),
            None => Ok(event),
        })
}

fn same_duration(request: &FinishRequest, recorded: i64) -> AppResult<i64> {
    if recorded == request.duration_ms {
        Ok(recorded)
    } else {
        Err(AppError::Conflict(format!(
            "durationMs: run '{}' already finished with durationMs {recorded}, not {}",
            request.idempotency_key, request.duration_ms
        )))
    }
}

/// What a run's duration adds to its day in the rollup.
fn duration_row(run: &entity::usage_event::Model, duration_ms: i64) -> entity::usage_daily::Model {
    entity::usage_daily::Model {
        tenant_id: run.tenant_id,
        unit_type_id: run.unit_type_id,
        service_id: run.service_id,
        day: run.day,
        kind: run.kind.clone(),
        organization_id: run.organization_id,
        quantity: 0,
        events: 0,
        duration_ms,
    }
}

/// ADMISSION_REFUSED, with the figures of the limit the run would have passed.
async fn announce_refusal(
    ctx: &AppContext,
    organization: uuid::Uuid,
    tenant: uuid::Uuid,
    unit_type: &str,
    refusal: &Refusal,
) {
    let event = QuotaEvent {
        tenant_id: Some(tenant),
        consumed: Some(refusal.used.scaled()),
        remaining: Some(refusal.remaining.scaled()),
        ..QuotaEvent::new(
            QuotaEventKind::AdmissionRefused,
            ctx.clock.now(),
            organization,
            unit_type,
        )
    };
    let mut events = [event];
    let stored = async {
        let tx = store::begin_write(&ctx.writer).await?;
        super::notification::store(ctx, &tx, &mut events).await?;
        tx.commit().await?;
        AppResult::Ok(())
    };
    // The refusal stands whether or not its notification could be kept.
    if let Err(err) = stored.await {
        tracing::error!(error = ?err, "an admission refusal could not be stored as a notification");
    }
    ctx.events.publish(events.to_vec()).await;
}
