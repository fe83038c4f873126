//! Admission and consumption controls: `startExecution`, `finishExecution` and
//! `setConsumptionControl`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::{
    admin::UnitType,
    node::{decode_field, decode_optional},
    scalars::Decimal,
    session,
    tenant::Tenant,
    usage::QuotaBalance,
};
use crate::service::{
    self,
    admission::{ExecutionRequest, FinishRequest},
    control::{ControlChange, Controls},
};

/// A run asking for its units before it starts.
#[derive(InputObject)]
pub struct StartExecutionInput {
    /// Unique per organization: asking again with the same content answers as the first time.
    pub idempotency_key: String,
    /// The tenant the run belongs to.
    pub tenant_id: ID,
    /// The unit type's code.
    pub unit_type: String,
    /// The service's code.
    pub service: String,
    /// Units asked for.
    #[graphql(default_with = "Decimal(\"1\".into())")]
    pub quantity: Decimal,
    /// The caller's run id, unique in the tenant.
    pub job_id: Option<String>,
    /// The run that started this one; it must already be known.
    pub parent_job_id: Option<String>,
    /// The process that runs.
    pub process_id: Option<ID>,
    /// The folder it runs in.
    pub folder_id: Option<ID>,
    /// The process that runs, by its external key in the tenant (instead of `processId`).
    pub process_key: Option<String>,
    /// The folder it runs in, by its external key in the tenant (instead of `folderId`).
    pub folder_key: Option<String>,
}

/// A granted run; a refusal is the error QUOTA_EXCEEDED (extensions: limit, used, remaining).
#[derive(SimpleObject)]
pub struct StartExecutionPayload {
    /// Always true: a refusal is an error.
    pub granted: bool,
    /// The organization's quota after the grant.
    pub quota: QuotaBalance,
}

/// A run that ended, reporting its duration (once).
#[derive(InputObject)]
pub struct FinishExecutionInput {
    /// The tenant the run belongs to.
    pub tenant_id: ID,
    /// The idempotency key the run was started (or recorded) with.
    pub idempotency_key: String,
    /// How long it ran, in milliseconds.
    pub duration_ms: i32,
}

/// The duration recorded.
#[derive(SimpleObject)]
pub struct FinishExecutionPayload {
    pub duration_ms: i32,
}

/// A tenant's consumption controls for one unit type; a list left out keeps its value.
#[derive(InputObject)]
pub struct SetConsumptionControlInput {
    /// An ACTIVE tenant with an allocation of this unit type.
    pub tenant_id: ID,
    /// The unit type's code.
    pub unit_type: String,
    /// Service codes whose runs stop at 100% of the tenant's allocation.
    pub stop_at_allocation: Option<Vec<String>>,
    /// Alert thresholds, fractions of the allocation in (0, 10].
    pub alert_thresholds: Option<Vec<f64>>,
}

/// A tenant's consumption controls for one unit type.
pub struct ConsumptionControl(pub Controls);

#[Object]
impl ConsumptionControl {
    /// The tenant.
    async fn tenant(&self) -> Tenant {
        Tenant::one(self.0.tenant.clone())
    }

    /// The unit type.
    async fn unit_type(&self) -> UnitType {
        UnitType(self.0.unit_type.clone())
    }

    /// Services whose runs stop at 100% of the allocation.
    async fn stop_at_allocation(&self) -> &[String] {
        &self.0.stop_at_allocation
    }

    /// Alert thresholds, lowest first.
    async fn alert_thresholds(&self) -> &[f64] {
        &self.0.alert_thresholds
    }
}

/// The controls as set.
#[derive(SimpleObject)]
pub struct ConsumptionControlPayload {
    pub consumption_control: ConsumptionControl,
}

#[derive(Default)]
pub struct AdmissionMutation;

#[Object]
impl AdmissionMutation {
    /// Grants a run's units and records them as one EXECUTION event, or refuses with
    /// QUOTA_EXCEEDED and records nothing.
    async fn start_execution(
        &self,
        ctx: &Context<'_>,
        input: StartExecutionInput,
    ) -> async_graphql::Result<StartExecutionPayload> {
        let (app, actor) = session(ctx)?;
        let request = ExecutionRequest {
            idempotency_key: input.idempotency_key,
            tenant_id: decode_field(&input.tenant_id, "tenantId")?,
            unit_type: input.unit_type,
            service: input.service,
            quantity: input.quantity.0,
            job_id: input.job_id,
            parent_job_id: input.parent_job_id,
            process_id: decode_optional(input.process_id.as_ref(), "processId")?,
            folder_id: decode_optional(input.folder_id.as_ref(), "folderId")?,
            process_key: input.process_key,
            folder_key: input.folder_key,
        };
        let granted = service::admission::start(app, actor, request).await?;
        Ok(StartExecutionPayload {
            granted: true,
            quota: QuotaBalance {
                unit_type: granted.unit_type,
                bundle: granted.bundle,
                view: granted.view,
            },
        })
    }

    /// Records how long a started run took: once (the same duration again changes nothing,
    /// another one is CONFLICT). It shows in the weekly activity and in `events.csv`.
    async fn finish_execution(
        &self,
        ctx: &Context<'_>,
        input: FinishExecutionInput,
    ) -> async_graphql::Result<FinishExecutionPayload> {
        let (app, actor) = session(ctx)?;
        let request = FinishRequest {
            tenant_id: decode_field(&input.tenant_id, "tenantId")?,
            idempotency_key: input.idempotency_key,
            duration_ms: i64::from(input.duration_ms),
        };
        service::admission::finish(app, actor, request).await?;
        Ok(FinishExecutionPayload {
            duration_ms: input.duration_ms,
        })
    }

    /// Sets a tenant's consumption controls for a unit type.
    async fn set_consumption_control(
        &self,
        ctx: &Context<'_>,
        input: SetConsumptionControlInput,
    ) -> async_graphql::Result<ConsumptionControlPayload> {
        let (app, actor) = session(ctx)?;
        let change = ControlChange {
            tenant_id: decode_field(&input.tenant_id, "tenantId")?,
            unit_type: input.unit_type,
            stop_at_allocation: input.stop_at_allocation,
            alert_thresholds: input.alert_thresholds,
        };
        let controls = service::control::set(app, actor, change).await?;
        Ok(ConsumptionControlPayload {
            consumption_control: ConsumptionControl(controls),
        })
    }
}
