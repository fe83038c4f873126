//! The webhook sender (docs/design.md §15.4): a background task on every replica that
//! claims due deliveries, POSTs them, and records how it went. A claim holds a delivery
//! for [`LEASE`], so one replica attempts it at a time; a replica that dies holding one
//! lets it go when the lease ends, and the delivery is attempted again (at least once).
//!
//! Times here are real time (see `service::webhook`), including `webhook-timestamp`:
//! receivers check it against their own clock. The body's `timestamp` is the event's.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::Utc;
use futures_util::future::join_all;

use super::{AppContext, webhook};
use crate::domain::webhook::{self as rules, EventFields};
use crate::error::{AppError, AppResult};
use crate::store;

/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim holds a delivery: longer than an attempt can take.
const LEASE: Duration = Duration::from_secs(15);
/// Deliveries claimed (and attempted concurrently) at once.
const BATCH: u64 = 16;

/// Sends due deliveries until aborted. It looks every `poll` (the watcher's interval), when
/// this server stores a delivery, and when a retry it scheduled falls due.
pub async fn run(ctx: AppContext, poll: Duration) {
    loop {
        let waiting = ctx.webhooks.wake.notified();
        let mut soonest: Option<chrono::DateTime<Utc>> = None;
        loop {
            match round(&ctx).await {
                Ok((0, _)) => break,
                Ok((_, next)) => {
                    soonest = match (soonest, next) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                }
                Err(err) => {
                    tracing::warn!(error = ?err, "webhook deliveries could not be claimed");
                    break;
                }
            }
        }
        let retry = soonest
            .map(|at| (at - Utc::now()).to_std().unwrap_or_default())
            .unwrap_or(poll)
            .min(poll);
        tokio::select! {
            () = waiting => {}
            () = tokio::time::sleep(retry) => {}
        }
    }
}

/// Claims and attempts one batch; how many were claimed, and the soonest retry it scheduled.
async fn round(ctx: &AppContext) -> AppResult<(usize, Option<chrono::DateTime<Utc>>)> {
    let now = Utc::now();
    if !store::webhook::any_due(&ctx.db, now).await? {
        return Ok((0, None));
    }
    let lease = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let claimed = {
        let tx = store::begin_write(&ctx.writer).await?;
        let rows = store::webhook::claim(&tx, now, lease, BATCH).await?;
        tx.commit().await?;
        rows
    };
    let count = claimed.len();
    let retries = join_all(claimed.into_iter().map(|delivery| async move {
        let id = delivery.id;
        attempt(ctx, delivery).await.unwrap_or_else(|err| {
            tracing::warn!(error = ?err, delivery = %id, "a webhook delivery could not be recorded");
            None
        })
    }))
    .await;
    Ok((count, retries.into_iter().flatten().min()))
}

/// What a receiver made of a request.
enum Answer {
    Status(u16),
    Error(String),
}

/// Attempts one delivery and records how it went; when it is to be tried again.
async fn attempt(
    ctx: &AppContext,
    delivery: entity::webhook_delivery::Model,
) -> AppResult<Option<chrono::DateTime<Utc>>> {
    let endpoint = store::webhook::endpoint(&ctx.db, delivery.organization_id, delivery.endpoint_id).await?;
    let views = webhook::with_events(&ctx.db, vec![delivery.clone()]).await?;
    let answer = match (endpoint, views.first()) {
        (Some(endpoint), Some(view)) => send(ctx, &endpoint, &view.event).await,
        _ => Answer::Error("the endpoint or the event is gone".into()),
    };
    let now = Utc::now();
    let attempts = delivery.attempts.saturating_add(1);
    let (status, response, error) = match answer {
        Answer::Status(code) if (200..300).contains(&code) => (rules::SUCCEEDED, Some(code), None),
        Answer::Status(code) => (
            rules::PENDING,
            Some(code),
            Some(format!("the receiver answered {code}")),
        ),
        Answer::Error(e) => (rules::PENDING, None, Some(e)),
    };
    let wait = ctx
        .webhooks
        .schedule
        .after_attempt(u32::try_from(attempts).unwrap_or(u32::MAX));
    let (status, next) = match (status, wait) {
        (rules::SUCCEEDED, _) => (rules::SUCCEEDED, now),
        (_, Some(wait)) => (
            rules::PENDING,
            now + chrono::Duration::from_std(wait).unwrap_or_default(),
        ),
        (_, None) => (rules::FAILED, now),
    };
    let outcome = match status {
        rules::SUCCEEDED => "succeeded",
        rules::PENDING => "failed_attempt",
        _ => "failed",
    };
    metrics::counter!("quotagraph_webhook_attempts_total", "outcome" => outcome).increment(1);
    if status == rules::SUCCEEDED {
        let lag = (now - delivery.created_at).to_std().unwrap_or_default();
        metrics::histogram!("quotagraph_webhook_delivery_lag_seconds").record(lag.as_secs_f64());
    }
    let tx = store::begin_write(&ctx.writer).await?;
    store::webhook::record(
        &tx,
        delivery.organization_id,
        delivery.id,
        store::webhook::Outcome {
            status,
            attempts,
            next_attempt_at: next,
            last_attempt_at: Some(now),
            last_response_status: response.map(i32::from),
            last_error: error,
            updated_at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((status == rules::PENDING).then_some(next))
}

/// POSTs one event to one endpoint, to an address checked just now (DNS may have changed
/// since the endpoint was made), without following redirects (they could lead anywhere).
async fn send(
    ctx: &AppContext,
    endpoint: &entity::webhook_endpoint::Model,
    event: &crate::events::QuotaEvent,
) -> Answer {
    let (target, addresses) = match webhook::checked_addresses(&endpoint.url, ctx.webhooks.allow_private).await {
        Ok(checked) => checked,
        Err(e) => return Answer::Error(e.message()),
    };
    let secret = match webhook::secret_of(ctx, endpoint) {
        Ok(secret) => secret,
        Err(e) => return Answer::Error(e.message()),
    };
    let (Some(id), Some(seq)) = (event.id, event.seq) else {
        return Answer::Error("the event was never stored".into());
    };
    let fields = EventFields {
        id,
        seq,
        kind: event.kind,
        at: event.at,
        organization_id: event.organization_id,
        tenant_id: event.tenant_id,
        unit_type: &event.unit_type,
        threshold: event.threshold,
        previous_status: event.previous_status.as_deref(),
        status: event.status.as_deref(),
        consumed: event.consumed,
        remaining: event.remaining,
    };
    let body = rules::body(&fields).to_string();
    let timestamp = Utc::now().timestamp();
    let message_id = id.to_string();
    let signature = rules::signature(&secret, &message_id, timestamp, &body);
    let client = match client(&target.host, &addresses) {
        Ok(client) => client,
        Err(e) => return Answer::Error(e.message()),
    };
    let sent = client
        .post(target.url.clone())
        .header("content-type", "application/json")
        .header("webhook-id", message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => Answer::Status(response.status().as_u16()),
        Err(e) => Answer::Error(format!("{e}")),
    }
}

/// A client that connects only to the checked addresses.
fn client(host: &str, addresses: &[SocketAddr]) -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .resolve_to_addrs(host, addresses)
        .build()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the webhook client: {e}")))
}
