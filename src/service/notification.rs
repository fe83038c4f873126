//! Notifications (docs/design.md §15.4): every alerting quota event is stored in the
//! transaction that raised it, read back as a history after a cursor, replayed into a
//! subscription before it goes live, and dropped after the retention period.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{AppContext, organization};
use crate::domain::{access::Actor, events::QuotaEventKind, ids::OrganizationId, ids::TenantId};
use crate::error::{AppError, AppResult};
use crate::events::QuotaEvent;
use crate::store::{self, notification::NewNotification};

pub use crate::store::notification::Wanted;

/// Stores, in the caller's transaction, the events of `events` that are kept and not
/// stored yet, giving each its id and `seq`.
pub(crate) async fn store(
    ctx: &AppContext,
    tx: &impl sea_orm::ConnectionTrait,
    events: &mut [QuotaEvent],
) -> AppResult<()> {
    let mut rows = Vec::new();
    let mut placed = Vec::new();
    for (index, event) in events.iter_mut().enumerate() {
        if !event.kind.is_stored() || event.id.is_some() {
            continue;
        }
        event.id = Some(Uuid::now_v7());
        rows.push(NewNotification {
            id: event.id.unwrap_or_default(),
            organization_id: event.organization_id,
            tenant_id: event.tenant_id,
            unit_type: event.unit_type.clone(),
            kind: event.kind.as_str(),
            at: event.at,
            event: serde_json::to_string(&*event).map_err(anyhow::Error::from)?,
        });
        placed.push(index);
    }
    let numbers = store::notification::insert(tx, rows).await?;
    for (&index, seq) in placed.iter().zip(numbers) {
        events[index].seq = Some(seq);
    }
    let stored: Vec<&QuotaEvent> = placed.iter().map(|&index| &events[index]).collect();
    super::webhook::enqueue(ctx, tx, &stored).await
}

/// Which notifications a caller asks for; what it may see is decided by [`wanted`].
pub struct HistoryQuery {
    pub organization_id: OrganizationId,
    pub after: i64,
    pub kinds: Vec<QuotaEventKind>,
    pub tenant_id: Option<TenantId>,
    pub unit_type: Option<String>,
}

/// The caller's view of an organization's notifications: a TENANT_ADMIN's is its own
/// tenant's, as in the live stream; a tenant outside its scope is not found.
pub async fn wanted(ctx: &AppContext, actor: &Actor, query: HistoryQuery) -> AppResult<Wanted> {
    let org = organization::visible(ctx, actor, query.organization_id).await?;
    let mut tenant = match query.tenant_id {
        Some(id) => {
            let model = super::tenant::visible(&ctx.db, actor, id).await?;
            if model.organization_id != org.id {
                return Err(AppError::NotFound("tenantId: tenant not found".into()));
            }
            Some(id.0)
        }
        None => None,
    };
    let tenants_only = !actor.sees_whole_organization();
    if tenants_only {
        tenant = tenant.or(actor.tenant_id.map(|t| t.0));
    }
    Ok(Wanted {
        organization: org.id,
        after: query.after,
        kinds: query.kinds.into_iter().map(QuotaEventKind::as_str).collect(),
        tenant,
        tenants_only,
        unit_type: query.unit_type,
    })
}

/// Up to `limit` notifications after the cursor, oldest first, and whether more follow.
pub async fn page(ctx: &AppContext, wanted: &Wanted, limit: u64) -> AppResult<(Vec<QuotaEvent>, bool)> {
    let mut rows = store::notification::after(&ctx.db, wanted, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let events = rows.into_iter().map(decoded).collect::<AppResult<Vec<_>>>()?;
    Ok((events, more))
}

pub(crate) fn decoded(row: entity::notification::Model) -> AppResult<QuotaEvent> {
    let mut event: QuotaEvent = serde_json::from_str(&row.event)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a stored notification is not an event: {e}")))?;
    event.id = Some(row.id);
    event.seq = Some(row.seq);
    Ok(event)
}

/// Deletes the notifications older than `days` days (the retention) but those a webhook
/// delivery still waits to send, with their finished deliveries, for the operator's ticker;
/// how many went.
pub async fn prune(ctx: &AppContext, now: DateTime<Utc>, days: u32) -> AppResult<u64> {
    let before = now - chrono::Duration::days(i64::from(days));
    let mut deleted = 0;
    for organization in store::organization::all_ids(&ctx.db).await? {
        deleted += store::notification::delete_older_than(&ctx.writer, organization, before).await?;
        // The sent and failed deliveries of the notifications that went go with them.
        store::webhook::delete_orphans(&ctx.writer, organization).await?;
    }
    Ok(deleted)
}
