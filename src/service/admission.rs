//! Admission (`startExecution`, docs/design.md §6): grants a run's units and records them as
//! one EXECUTION event, or refuses with QUOTA_EXCEEDED and records nothing.
//!
//! The decision and the write happen in one transaction holding the organization's lock
//! (a row lock on PostgreSQL, the write lock on SQLite), so concurrent admissions, also
//! from several server processes, are decided one after another on fresh figures and
//! the units granted never exceed the limit.

use super::{
    AppContext, audit, control,
    ingestion::{NewUsageEvent, announce, fingerprint, record_in},
    license::LicensedBundle,
    unit_type,
    usage::current_bundle,
    zone_of,
};
use crate::domain::{
    Quantity,
    access::{Access, Actor},
    admission::{AdmissionFacts, Refusal, admit},
    events::QuotaEventKind,
    ids::{FolderId, OrganizationId, ProcessId, TenantId},
    ingestion::UsageKind,
    metrics::{QuotaView, quota_view},
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
    let tenant = store::tenant::find(&tx, request.tenant_id.0)
        .await?
        .ok_or_else(|| AppError::not_found("tenant"))?;
    let org_id = OrganizationId(tenant.organization_id);
    match actor.ingest(org_id, request.tenant_id) {
        Access::Allowed => {}
        Access::Forbidden => return Err(AppError::forbidden("start executions")),
        Access::Hidden => return Err(AppError::not_found("tenant")),
    }
    store::organization::lock(&tx, org_id.0).await?;
    let org = store::organization::find(&tx, org_id.0)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))?;
    let zone = zone_of(&org)?;
    let today = ctx.clock.today_in(zone);
    let unit = unit_type::by_code(&tx, "unitType", &request.unit_type).await?;
    let bundle = current_bundle(&tx, org.id, &unit, today).await?;
    let event = NewUsageEvent {
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
        duration_ms: None,
    };
    let by_tenant =
        store::usage::consumed_by_tenant(&tx, org.id, unit.id, bundle.bundle.start, bundle.bundle.end).await?;
    let used = Quantity::from_scaled(by_tenant.values().sum());

    // The same key again: granted before, so granted again without recording anything.
    if let Some(stored) = store::usage::find_by_key(&tx, org.id, &request.idempotency_key).await? {
        let same = NewUsageEvent {
            occurred_at: stored.occurred_at.fixed_offset(),
            ..event.clone()
        };
        if fingerprint(&same, quantity) != stored.fingerprint {
            return Err(AppError::Conflict(format!(
                "idempotencyKey: '{}' was already recorded with different content",
                request.idempotency_key
            )));
        }
        return Ok(Granted {
            organization_id: org.id,
            view: quota_view(&bundle.terms, &bundle.bundle, used),
            unit_type: unit,
            bundle,
            recorded: false,
        });
    }

    let controls = store::control::find(&tx, tenant.id, unit.id).await?;
    let (stop, _) = control::decode(controls.as_ref())?;
    let tenant_stop = if stop.contains(&request.service) {
        store::allocation::in_effect(&tx, tenant.id, unit.id, today)
            .await?
            .and_then(|a| a.amount)
            .map(|amount| {
                (
                    Quantity::from_scaled(amount),
                    Quantity::from_scaled(by_tenant.get(&tenant.id).copied().unwrap_or(0)),
                )
            })
    } else {
        None
    };
    let before = quota_view(&bundle.terms, &bundle.bundle, used);
    let facts = AdmissionFacts {
        quantity,
        enforced: bundle.license.enforced,
        limit: before.limit,
        used,
        tenant_stop,
    };
    if let Err(refusal) = admit(facts) {
        drop(tx);
        metrics::counter!("quotagraph_admissions_total", "outcome" => "refused").increment(1);
        announce_refusal(ctx, org.id, tenant.id, &unit.code, &refusal).await;
        return Err(AppError::QuotaExceeded(QuotaRefusal {
            message: refusal.message,
            limit: refusal.limit.to_string(),
            used: refusal.used.to_string(),
            remaining: refusal.remaining.to_string(),
        }));
    }
    let recorded = record_in(&tx, now, actor, &[event]).await?;
    audit::record(
        &tx,
        ctx,
        actor,
        audit::Change {
            organization: Some(org.id),
            action: "startExecution",
            target_kind: "Tenant",
            target_id: Some(tenant.id),
            before: None,
            after: Some(serde_json::json!({
                "idempotencyKey": request.idempotency_key,
                "unitType": unit.code,
                "service": request.service,
                "quantity": quantity.to_string(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("quotagraph_admissions_total", "outcome" => "granted").increment(1);
    announce(ctx, &recorded.touched).await;
    Ok(Granted {
        organization_id: org.id,
        view: quota_view(&bundle.terms, &bundle.bundle, used + quantity),
        unit_type: unit,
        bundle,
        recorded: true,
    })
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
    ctx.events.publish(vec![event]).await;
}
