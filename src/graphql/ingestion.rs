//! Pushing usage in: `recordUsage`, and taking it back out: `voidUsage`.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};

use super::{
    node::{GlobalId, decode_as, decode_field},
    scalars::{DateTime, Decimal},
    session,
};
use crate::domain::ids::OrganizationId;
use crate::error::AppError;
use crate::service::{self, ingestion::NewUsageEvent, void::VoidRequest};

/// Whether an event counts toward quota.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::ingestion::UsageKind")]
pub enum UsageKind {
    /// A run: counts toward quota.
    Execution,
    /// An upload of results: shown in activity, never counted.
    Upload,
}

/// One consumption record.
#[derive(InputObject)]
pub struct UsageEventInput {
    /// Unique per organization: a repeat with the same content is a duplicate, with other content a CONFLICT.
    pub idempotency_key: String,
    /// The tenant that consumed.
    pub tenant_id: ID,
    /// The unit type's code.
    pub unit_type: String,
    /// The service's code; a new code creates the service.
    pub service: String,
    /// How many units, ≥ 0 with at most 4 decimal places.
    pub quantity: Decimal,
    /// When it happened; at most 5 minutes ahead of the server's clock.
    pub occurred_at: DateTime,
    /// EXECUTION counts toward quota; UPLOAD never does.
    #[graphql(default_with = "UsageKind::Execution")]
    pub kind: UsageKind,
    /// The caller's run id, unique in the tenant.
    pub job_id: Option<String>,
    /// The run that started this one; it must already be known.
    pub parent_job_id: Option<String>,
    /// The process that ran.
    pub process_id: Option<ID>,
    /// The folder it ran in.
    pub folder_id: Option<ID>,
    /// The process that ran, by its external key in the event's tenant (instead of `processId`).
    pub process_key: Option<String>,
    /// The folder it ran in, by its external key in the event's tenant (instead of `folderId`).
    pub folder_key: Option<String>,
    /// How long it ran, in milliseconds. A GraphQL `Int` is 32 bits: larger values are
    /// refused as invalid variables, not stored.
    pub duration_ms: Option<i32>,
}

/// A batch of up to 10,000 events, written all or nothing.
#[derive(InputObject)]
pub struct RecordUsageInput {
    /// The events.
    pub events: Vec<UsageEventInput>,
}

/// How the batch was taken.
#[derive(SimpleObject)]
pub struct RecordUsagePayload {
    /// Events recorded now.
    pub accepted: i32,
    /// Events already recorded with the same content, left unchanged.
    pub duplicates: i32,
}

/// Events recorded by mistake, to void.
#[derive(InputObject)]
pub struct VoidUsageInput {
    pub organization_id: ID,
    /// The events' idempotency keys, up to 10,000; a key given twice counts once. Every key
    /// must be an event of the organization, or nothing is voided.
    pub idempotency_keys: Vec<String>,
    /// Why, 1 to 500 characters once trimmed; kept with the events and in the audit log.
    pub reason: String,
}

/// How the void was taken.
#[derive(SimpleObject)]
pub struct VoidUsagePayload {
    /// Events voided now.
    pub voided: i32,
    /// Events that were voided already, left unchanged.
    pub already_voided: i32,
}

fn id_of<T: GlobalId>(index: usize, field: &str, id: &ID) -> Result<T, AppError> {
    decode_as(id).ok_or_else(|| AppError::NotFound(format!("events[{index}].{field}: {} not found", T::KIND.noun())))
}

impl UsageEventInput {
    fn into_event(self, index: usize) -> Result<NewUsageEvent, AppError> {
        let process_id = match &self.process_id {
            Some(id) => Some(id_of(index, "processId", id)?),
            None => None,
        };
        let folder_id = match &self.folder_id {
            Some(id) => Some(id_of(index, "folderId", id)?),
            None => None,
        };
        Ok(NewUsageEvent {
            tenant_id: id_of(index, "tenantId", &self.tenant_id)?,
            idempotency_key: self.idempotency_key,
            unit_type: self.unit_type,
            service: self.service,
            quantity: self.quantity.0,
            occurred_at: self.occurred_at.0,
            kind: self.kind.into(),
            job_id: self.job_id,
            parent_job_id: self.parent_job_id,
            process_id,
            folder_id,
            process_key: self.process_key,
            folder_key: self.folder_key,
            duration_ms: self.duration_ms.map(i64::from),
        })
    }
}

/// Pushing usage in.
#[derive(Default)]
pub struct IngestionMutation;

#[Object]
impl IngestionMutation {
    /// Records usage that already happened. Never refused for quota; idempotent per key.
    async fn record_usage(
        &self,
        ctx: &Context<'_>,
        input: RecordUsageInput,
    ) -> async_graphql::Result<RecordUsagePayload> {
        let (app, actor) = session(ctx)?;
        let events = input
            .events
            .into_iter()
            .enumerate()
            .map(|(i, e)| e.into_event(i))
            .collect::<Result<Vec<_>, _>>()?;
        let recorded = service::ingestion::record(app, actor, events).await?;
        Ok(RecordUsagePayload {
            accepted: i32::try_from(recorded.accepted).unwrap_or(i32::MAX),
            duplicates: i32::try_from(recorded.duplicates).unwrap_or(i32::MAX),
        })
    }

    /// Voids events recorded by mistake: they stop counting everywhere, stay in
    /// `events.csv` marked voided, and keep their keys taken.
    async fn void_usage(&self, ctx: &Context<'_>, input: VoidUsageInput) -> async_graphql::Result<VoidUsagePayload> {
        let (app, actor) = session(ctx)?;
        let request = VoidRequest {
            organization_id: decode_field::<OrganizationId>(&input.organization_id, "organizationId")?,
            idempotency_keys: input.idempotency_keys,
            reason: input.reason,
        };
        let voided = service::void::void_usage(app, actor, request).await?;
        Ok(VoidUsagePayload {
            voided: i32::try_from(voided.voided).unwrap_or(i32::MAX),
            already_voided: i32::try_from(voided.already_voided).unwrap_or(i32::MAX),
        })
    }
}
