//! Live quota events (docs/design.md §7) over WebSocket: `quotaEvents` and `usage`.
//!
//! Each subscription reads the event bus through its own bounded receiver and its scope
//! filter (a TENANT_ADMIN hears only events of its own tenant). USAGE_RECORDED events
//! and `usage` answers are coalesced: at most one batch every [`COALESCE`], carrying the
//! latest figures. A subscriber that fell behind is told how many events it missed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, Enum, ErrorExtensions, ID, Object, Subscription};
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio::time::Instant;
use uuid::Uuid;

use super::{
    node::{Kind, decode_field, encode},
    scalars::{DateTime, Decimal},
    session,
    usage::OrganizationUsage,
};
use crate::domain::{Quantity, access::Actor, events, ids::OrganizationId, ids::TenantId};
use crate::events::QuotaEvent as Event;
use crate::service::{self, AppContext, notification::Wanted, usage::UsageQuery};

/// At most four USAGE_RECORDED batches (and `usage` answers) a second per subscription.
const COALESCE: Duration = Duration::from_millis(250);

/// The kinds of quota event.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::events::QuotaEventKind")]
pub enum QuotaEventKind {
    /// Usage was recorded (coalesced).
    UsageRecorded,
    /// Consumption reached an alert threshold (once per bundle).
    ThresholdCrossed,
    /// The organization's or a tenant's status moved.
    StatusChanged,
    /// A tenant's allocation changed.
    AllocationChanged,
    /// Nothing is left under the limit (once per bundle).
    QuotaExhausted,
    /// A run was refused with QUOTA_EXCEEDED.
    AdmissionRefused,
    /// A new bundle started.
    PeriodRolledOver,
    /// The license ends in 30, 15 or 7 days (`threshold` holds the days).
    LicenseExpiring,
}

/// A quota event with the figures after the change.
pub struct QuotaEvent(Arc<Event>);

impl QuotaEvent {
    pub(super) fn new(event: Arc<Event>) -> QuotaEvent {
        QuotaEvent(event)
    }
}

#[Object]
impl QuotaEvent {
    /// The stored event's id (also its webhooks' `webhook-id`); null on USAGE_RECORDED,
    /// which is live only.
    async fn id(&self) -> Option<ID> {
        self.0.id.map(|id| ID(id.to_string()))
    }

    /// Where the event stands in the organization's notifications: pass it as `after` to
    /// read or hear what came after it. Null on USAGE_RECORDED.
    async fn cursor(&self) -> Option<String> {
        self.0.seq.map(super::notification::cursor)
    }

    async fn kind(&self) -> QuotaEventKind {
        self.0.kind.into()
    }

    async fn at(&self) -> DateTime {
        DateTime(self.0.at.fixed_offset())
    }

    async fn organization_id(&self) -> ID {
        encode(Kind::Organization, self.0.organization_id)
    }

    /// Set when the event is about one tenant.
    async fn tenant_id(&self) -> Option<ID> {
        self.0.tenant_id.map(|t| encode(Kind::Tenant, t))
    }

    /// The unit type's code.
    async fn unit_type(&self) -> &str {
        &self.0.unit_type
    }

    /// THRESHOLD_CROSSED: the fraction reached; LICENSE_EXPIRING: the days left.
    async fn threshold(&self) -> Option<f64> {
        self.0.threshold
    }

    /// STATUS_CHANGED: the status before.
    async fn previous_status(&self) -> Option<&str> {
        self.0.previous_status.as_deref()
    }

    /// STATUS_CHANGED: the status now.
    async fn status(&self) -> Option<&str> {
        self.0.status.as_deref()
    }

    /// Consumption to date after the change: the tenant's when tenantId is set, else the organization's.
    async fn consumed(&self) -> Option<Decimal> {
        self.0.consumed.map(|q| Quantity::from_scaled(q).into())
    }

    /// What is left after the change, of the same scope as `consumed`.
    async fn remaining(&self) -> Option<Decimal> {
        self.0.remaining.map(|q| Quantity::from_scaled(q).into())
    }
}

/// Which events a subscription hears.
#[derive(Clone, Copy, Debug)]
struct Filter {
    organization: Uuid,
    tenant: Option<Uuid>,
    /// A caller that may not read organization-wide figures hears only its tenant's events.
    tenant_only: bool,
}

impl Filter {
    fn hears(&self, event: &Event, unit_type: Option<&str>) -> bool {
        event.organization_id == self.organization
            && unit_type.is_none_or(|u| u == event.unit_type)
            && self.tenant.is_none_or(|t| event.tenant_id == Some(t))
            && (!self.tenant_only || event.tenant_id.is_some())
    }
}

/// Checks that the caller may watch an organization (and a tenant of it).
async fn filter(
    app: &AppContext,
    actor: &Actor,
    organization_id: &ID,
    tenant_id: Option<&ID>,
) -> async_graphql::Result<Filter> {
    let organization: OrganizationId = decode_field(organization_id, "organizationId")?;
    service::organization::visible(app, actor, organization).await?;
    let mut tenant = match tenant_id {
        Some(id) => {
            let id: TenantId = decode_field(id, "tenantId")?;
            let model = service::tenant::visible(&app.db, actor, id).await?;
            if model.organization_id != organization.0 {
                return Err(crate::error::AppError::NotFound("tenantId: tenant not found".into()).into());
            }
            Some(id.0)
        }
        None => None,
    };
    let tenant_only = !actor.sees_whole_organization();
    if tenant_only {
        tenant = tenant.or(actor.tenant_id.map(|t| t.0));
    }
    Ok(Filter {
        organization: organization.0,
        tenant,
        tenant_only,
    })
}

/// Stored events read per round trip while a resumed subscription catches up.
const REPLAY_PAGE: u64 = 500;

/// A subscriber's view of the bus: what it has to send, and the USAGE_RECORDED events
/// held back until the next coalescing slot. A subscription resumed with `after` first
/// replays the stored events after the cursor; live events it already replayed (by
/// `seq`) are then skipped, so the seam has neither a gap (the bus was subscribed before
/// the first page was read) nor a duplicate.
struct Feed {
    app: AppContext,
    /// The stored events still to replay, from `after` on.
    backlog: Option<Wanted>,
    /// The last `seq` replayed.
    replayed: i64,
    receiver: Receiver<Arc<Event>>,
    filter: Filter,
    unit_type: Option<String>,
    ready: VecDeque<async_graphql::Result<Arc<Event>>>,
    /// The latest USAGE_RECORDED per scope (tenant, or the organization).
    held: Vec<Arc<Event>>,
    next_slot: Instant,
}

fn missed(count: u64) -> async_graphql::Error {
    async_graphql::Error::new(format!(
        "this subscription fell behind and missed {count} events; query the figures again to catch up"
    ))
    .extend_with(|_, e| {
        e.set("code", "EVENTS_MISSED");
        e.set("missed", count);
    })
}

impl Feed {
    /// The next item to send, or `None` once the bus is gone.
    async fn next(&mut self) -> Option<async_graphql::Result<Arc<Event>>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.backlog.is_some() {
                self.replay_page().await;
                continue;
            }
            let slot = self.next_slot;
            let holding = !self.held.is_empty();
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(event) if event.seq.is_some_and(|seq| seq <= self.replayed) => {}
                    Ok(event) if self.filter.hears(&event, self.unit_type.as_deref()) => {
                        if event.kind == events::QuotaEventKind::UsageRecorded {
                            self.held.retain(|e| e.tenant_id != event.tenant_id);
                            self.held.push(event);
                        } else {
                            self.ready.push_back(Ok(event));
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(count)) => self.ready.push_back(Err(missed(count))),
                    Err(RecvError::Closed) => return None,
                },
                () = tokio::time::sleep_until(slot), if holding => {
                    self.ready.extend(self.held.drain(..).map(Ok));
                    self.next_slot = Instant::now() + COALESCE;
                }
            }
        }
    }
}

impl Feed {
    /// Reads the next page of the backlog into `ready`; the backlog ends with a short page.
    async fn replay_page(&mut self) {
        let Some(wanted) = self.backlog.as_mut() else { return };
        match service::notification::page(&self.app, wanted, REPLAY_PAGE).await {
            Ok((events, more)) => {
                if let Some(seq) = events.last().and_then(|e| e.seq) {
                    wanted.after = seq;
                    self.replayed = seq;
                }
                self.ready.extend(events.into_iter().map(|e| Ok(Arc::new(e))));
                if !more {
                    self.backlog = None;
                }
            }
            Err(err) => {
                self.backlog = None;
                self.ready.push_back(Err(err.into()));
            }
        }
    }
}

/// A slot among the connection's live subscriptions, held as long as the subscription.
fn subscription_slot(ctx: &Context<'_>) -> async_graphql::Result<Option<super::ws_limits::SubscriptionSlot>> {
    match ctx.data_opt::<super::ws_limits::Subscriptions>() {
        Some(slots) => Ok(Some(slots.take()?)),
        None => Ok(None),
    }
}

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Quota events of an organization, optionally of one unit type and one tenant. A
    /// TENANT_ADMIN hears only its own tenant's. With `after` (an event's `cursor`), the
    /// stored events after it come first, then the live ones, none missed nor repeated.
    async fn quota_events(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
        unit_type: Option<String>,
        tenant_id: Option<ID>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<QuotaEvent>>> {
        let (app, actor) = session(ctx)?;
        let slot = subscription_slot(ctx)?;
        let filter = filter(app, actor, &organization_id, tenant_id.as_ref()).await?;
        let backlog = match after.as_deref() {
            Some(cursor) => Some(Wanted {
                organization: filter.organization,
                after: super::notification::after(Some(cursor))?,
                kinds: Vec::new(),
                tenant: filter.tenant,
                tenants_only: filter.tenant_only,
                unit_type: unit_type.clone(),
            }),
            None => None,
        };
        let feed = Feed {
            app: app.clone(),
            backlog,
            replayed: 0,
            receiver: app.events.subscribe(),
            filter,
            unit_type,
            ready: VecDeque::new(),
            held: Vec::new(),
            next_slot: Instant::now(),
        };
        let revoked = app.events.revocation_of(actor.key_id.0);
        Ok(stream::unfold((feed, slot), |(mut feed, slot)| async move {
            let item = feed.next().await?;
            Some((item.map(QuotaEvent), (feed, slot)))
        })
        .take_until(revoked))
    }

    /// The organization's usage cards (current bundle to date), pushed now and again after
    /// every change, at most four times a second.
    async fn usage(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
        unit_type: String,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<OrganizationUsage>>> {
        let (app, actor) = session(ctx)?;
        let slot = subscription_slot(ctx)?;
        let filter = filter(app, actor, &organization_id, None).await?;
        let (app, actor) = (app.clone(), *actor);
        let revoked = app.events.revocation_of(actor.key_id.0);
        let query = move || UsageQuery {
            organization_id: OrganizationId(filter.organization),
            unit_type: unit_type.clone(),
            bundle: None,
            range: None,
        };
        // Subscribed before the first answer, so no change is lost in between.
        let receiver = app.events.subscribe();
        let first = service::usage::report(&app, &actor, query()).await?;
        let changes = stream::unfold(receiver, move |mut receiver| {
            let (app, query) = (app.clone(), query.clone());
            async move {
                let unit_type = query().unit_type;
                loop {
                    match receiver.recv().await {
                        Ok(event) if filter.hears(&event, Some(&unit_type)) => break,
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return None,
                    }
                }
                // Let the burst settle, then answer once for all of it.
                tokio::time::sleep(COALESCE).await;
                while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) = receiver.try_recv() {}
                let report = service::usage::report(&app, &actor, query())
                    .await
                    .map(OrganizationUsage::new)
                    .map_err(async_graphql::Error::from);
                Some((report, receiver))
            }
        });
        Ok(stream::once(async move { Ok(OrganizationUsage::new(first)) })
            .chain(changes)
            .take_until(revoked)
            // The slot goes with the stream, and is freed when the subscription ends.
            .map(move |item| {
                let _held = &slot;
                item
            }))
    }
}
