//! Webhooks (docs/design.md §15.4): an organization's endpoints (OWNER, ADMIN), the
//! deliveries written beside each stored notification, and their log and manual retry.
//! Sending is [`super::webhook_delivery`]'s.
//!
//! Delivery times (due, lease, attempts) are real time, not the server's clock: tests and
//! demos pin that clock, and a retry scheduled by a clock that never moves would never come.

use std::net::{IpAddr, SocketAddr};

use chrono::Utc;
use rand::RngCore;
use sea_orm::ConnectionTrait;
use serde_json::json;
use tokio::sync::Notify;
use uuid::Uuid;

use super::{AppContext, Seen, audit, organization, require};
use crate::config::NotificationSettings;
use crate::domain::{
    access::Actor,
    events::QuotaEventKind,
    ids::{OrganizationId, TenantId},
    webhook::{self, RetrySchedule},
};
use crate::error::{AppError, AppResult};
use crate::events::QuotaEvent;
use crate::store;
use entity::{webhook_delivery::Model as Delivery, webhook_endpoint::Model as Endpoint};

/// How webhooks are sent: the retry schedule, and whether private targets are allowed.
#[derive(Clone, Debug)]
pub struct Webhooks {
    pub schedule: RetrySchedule,
    pub allow_private: bool,
    /// Wakes this server's sender when it stores a delivery, so a delivery does not wait
    /// for the next poll (other replicas find it by polling).
    pub wake: std::sync::Arc<Notify>,
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks::from_settings(&NotificationSettings::default()).expect("the default schedule parses")
    }
}

impl Webhooks {
    pub fn from_settings(settings: &NotificationSettings) -> Result<Webhooks, String> {
        Ok(Webhooks {
            schedule: RetrySchedule::parse(&settings.webhook_retry_schedule)
                .map_err(|e| format!("QUOTAGRAPH_WEBHOOK_RETRY_SCHEDULE: {e}"))?,
            allow_private: settings.webhook_allow_private,
            wake: std::sync::Arc::default(),
        })
    }
}

/// A new endpoint, as asked.
pub struct NewEndpoint {
    pub organization_id: OrganizationId,
    pub url: String,
    pub kinds: Vec<QuotaEventKind>,
    pub tenant_id: Option<TenantId>,
    pub description: Option<String>,
}

/// Where a URL may be sent to: every address its host resolves to, each allowed (BAD_USER_INPUT
/// naming `url` and why, otherwise).
pub(crate) async fn checked_addresses(url: &str, allow_private: bool) -> AppResult<(webhook::Target, Vec<SocketAddr>)> {
    let target = webhook::target(url).map_err(AppError::bad_input)?;
    let addresses: Vec<SocketAddr> = match target.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, target.port)],
        Err(_) => tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|e| AppError::bad_input(format!("url: its host {} does not resolve ({e})", target.host)))?
            .collect(),
    };
    if addresses.is_empty() {
        return Err(AppError::bad_input(format!(
            "url: its host {} does not resolve",
            target.host
        )));
    }
    if !allow_private {
        for address in &addresses {
            if let Some(why) = webhook::refusal_of(address.ip()) {
                return Err(AppError::bad_input(format!(
                    "url: {} is {why}, which webhooks may not reach",
                    address.ip()
                )));
            }
        }
    }
    Ok((target, addresses))
}

/// Makes an endpoint; answers it and its secret (shown this once).
pub async fn create(ctx: &AppContext, actor: &Actor, new: NewEndpoint) -> AppResult<(Endpoint, String)> {
    require(actor.administer(new.organization_id), "organization", "manage webhooks")?;
    let org = organization::visible(ctx, actor, new.organization_id).await?;
    let tenant = match new.tenant_id {
        Some(id) => {
            let tenant = super::tenant::visible(&ctx.db, actor, id).await?;
            if tenant.organization_id != org.id {
                return Err(AppError::NotFound("tenantId: tenant not found".into()));
            }
            Some(tenant.id)
        }
        None => None,
    };
    if new.kinds.is_empty() || new.kinds.contains(&QuotaEventKind::UsageRecorded) {
        return Err(AppError::bad_input(
            "kinds: name at least one kind, and not USAGE_RECORDED (it is not stored)",
        ));
    }
    let (target, _) = checked_addresses(&new.url, ctx.webhooks.allow_private).await?;
    let mut kinds: Vec<&str> = new.kinds.iter().map(|k| k.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let id = Uuid::now_v7();
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let sealed = webhook::seal(ctx.pepper.bytes(), id, &secret);
    let model = Endpoint {
        id,
        organization_id: org.id,
        tenant_id: tenant,
        url: target.url.to_string(),
        kinds: kinds.join(","),
        description: new.description,
        secret: base64_encode(&sealed),
        enabled: true,
        created_at: ctx.clock.now(),
    };
    let tx = store::begin_write(&ctx.writer).await?;
    store::webhook::insert_endpoint(&tx, model.clone()).await?;
    let change =
        audit::Change::of(Some(org.id), "createWebhookEndpoint", "WebhookEndpoint", Some(id)).after(described(&model));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok((model, webhook::secret_text(&secret)))
}

/// What the audit log keeps of an endpoint (never its secret).
fn described(model: &Endpoint) -> serde_json::Value {
    json!({
        "url": model.url,
        "kinds": model.kinds.split(',').collect::<Vec<_>>(),
        "tenantId": model.tenant_id,
        "description": model.description,
    })
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The secret bytes of an endpoint.
pub(crate) fn secret_of(ctx: &AppContext, endpoint: &Endpoint) -> AppResult<Vec<u8>> {
    use base64::Engine;
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(&endpoint.secret)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a stored webhook secret is not base64: {e}")))?;
    Ok(webhook::seal(ctx.pepper.bytes(), endpoint.id, &sealed))
}

/// An endpoint the caller administers; another organization's is not found.
async fn administered(ctx: &AppContext, actor: &Actor, id: Uuid) -> AppResult<Endpoint> {
    let not_found = || AppError::not_found("webhook endpoint");
    let organization = store::webhook::organization_of_endpoint(&ctx.db, id)
        .await?
        .ok_or_else(not_found)?;
    let endpoint = store::webhook::endpoint(&ctx.db, organization, id)
        .await?
        .ok_or_else(not_found)?;
    require(
        actor.administer(OrganizationId(endpoint.organization_id)),
        "webhook endpoint",
        "manage webhooks",
    )?;
    Ok(endpoint)
}

/// Deletes an endpoint with its deliveries, sent or not; answers its id.
pub async fn delete(ctx: &AppContext, actor: &Actor, id: Uuid) -> AppResult<Uuid> {
    let endpoint = administered(ctx, actor, id).await?;
    let tx = store::begin_write(&ctx.writer).await?;
    store::webhook::delete_endpoint(&tx, endpoint.organization_id, id).await?;
    let change = audit::Change::of(
        Some(endpoint.organization_id),
        "deleteWebhookEndpoint",
        "WebhookEndpoint",
        Some(id),
    )
    .before(described(&endpoint));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok(id)
}

/// An organization's endpoints (OWNER, ADMIN).
pub async fn list(
    ctx: &AppContext,
    actor: &Actor,
    organization: &Seen<entity::organization::Model>,
) -> AppResult<Vec<Endpoint>> {
    require(
        actor.administer(OrganizationId(organization.id)),
        "organization",
        "manage webhooks",
    )?;
    Ok(store::webhook::endpoints_of(&ctx.db, organization.id).await?)
}

/// A delivery and the event it carries.
pub struct DeliveryView {
    pub delivery: Delivery,
    pub event: QuotaEvent,
}

/// Up to `limit` deliveries of an endpoint, newest first, after `after`; and whether more follow.
pub async fn deliveries(
    ctx: &AppContext,
    endpoint: &Endpoint,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<(Vec<DeliveryView>, bool)> {
    let mut rows = store::webhook::deliveries_of(&ctx.db, endpoint, after, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok((with_events(&ctx.db, rows).await?, more))
}

/// The deliveries with their events (a delivery whose notification is gone is left out).
pub(crate) async fn with_events(db: &impl ConnectionTrait, rows: Vec<Delivery>) -> AppResult<Vec<DeliveryView>> {
    let mut seqs: std::collections::BTreeMap<Uuid, Vec<i64>> = std::collections::BTreeMap::new();
    for delivery in &rows {
        seqs.entry(delivery.organization_id)
            .or_default()
            .push(delivery.notification_seq);
    }
    let mut events = std::collections::HashMap::new();
    for (organization, seqs) in seqs {
        for row in store::notification::by_seqs(db, organization, &seqs).await? {
            events.insert(row.seq, super::notification::decoded(row)?);
        }
    }
    Ok(rows
        .into_iter()
        .filter_map(|delivery| {
            let event = events.get(&delivery.notification_seq)?.clone();
            Some(DeliveryView { delivery, event })
        })
        .collect())
}

/// Makes a delivery PENDING and due now; its attempts are kept, so after another failure
/// the schedule's end is already passed and it is FAILED again (one more attempt).
pub async fn retry(ctx: &AppContext, actor: &Actor, id: Uuid) -> AppResult<DeliveryView> {
    let not_found = || AppError::not_found("webhook delivery");
    let organization = store::webhook::organization_of_delivery(&ctx.db, id)
        .await?
        .ok_or_else(not_found)?;
    let delivery = store::webhook::delivery(&ctx.db, organization, id)
        .await?
        .ok_or_else(not_found)?;
    require(
        actor.administer(OrganizationId(delivery.organization_id)),
        "webhook delivery",
        "manage webhooks",
    )?;
    if delivery.status == webhook::SUCCEEDED {
        return Err(AppError::bad_input("id: this delivery has succeeded"));
    }
    let now = Utc::now();
    let tx = store::begin_write(&ctx.writer).await?;
    let outcome = store::webhook::Outcome {
        status: webhook::PENDING,
        attempts: delivery.attempts,
        next_attempt_at: now,
        last_attempt_at: delivery.last_attempt_at,
        last_response_status: delivery.last_response_status,
        last_error: delivery.last_error.clone(),
        updated_at: now,
    };
    let model = store::webhook::record(&tx, organization, id, outcome).await?;
    tx.commit().await?;
    ctx.webhooks.wake.notify_waiters();
    with_events(&ctx.db, vec![model])
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("webhook delivery"))
}

/// Writes, in the caller's transaction, one PENDING delivery (due now) per enabled endpoint
/// that wants each of the just-stored `events`.
pub(crate) async fn enqueue(ctx: &AppContext, tx: &impl ConnectionTrait, events: &[&QuotaEvent]) -> AppResult<()> {
    let mut listening: std::collections::HashMap<(Uuid, Option<Uuid>), Vec<Endpoint>> = Default::default();
    let now = Utc::now();
    let mut rows = Vec::new();
    for event in events {
        let (Some(id), Some(seq)) = (event.id, event.seq) else {
            continue;
        };
        let endpoints = match listening.entry((event.organization_id, event.tenant_id)) {
            std::collections::hash_map::Entry::Occupied(found) => found.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(store::webhook::listening(tx, event.organization_id, event.tenant_id).await?)
            }
        };
        for endpoint in endpoints.iter() {
            if endpoint.kinds.split(',').any(|k| k == event.kind.as_str()) {
                rows.push(Delivery {
                    id: Uuid::now_v7(),
                    endpoint_id: endpoint.id,
                    organization_id: event.organization_id,
                    notification_seq: seq,
                    notification_id: id,
                    status: webhook::PENDING.to_owned(),
                    attempts: 0,
                    created_at: now,
                    next_attempt_at: now,
                    locked_until: None,
                    last_attempt_at: None,
                    last_response_status: None,
                    last_error: None,
                    updated_at: now,
                });
            }
        }
    }
    if !rows.is_empty() {
        store::webhook::insert_deliveries(tx, rows).await?;
        // Before the commit: a worker that looks too early finds it on its next poll.
        ctx.webhooks.wake.notify_waiters();
    }
    Ok(())
}

/// Deliveries waiting to be sent (for /metrics).
pub async fn pending(ctx: &AppContext) -> AppResult<u64> {
    Ok(store::webhook::pending(&ctx.db).await?)
}
