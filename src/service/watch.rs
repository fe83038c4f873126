//! The watcher (docs/design.md §7): after a write commits, it reads the figures of the
//! organization's current bundle afresh under the organization's lock, decides with
//! `domain::events` what subscribers must hear, remembers what it sent (`quota_marks`,
//! shared by every replica) and publishes the events. A period boundary and a license's
//! end are noticed by [`run_ticker`], which looks at every licensed unit type regularly.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use uuid::Uuid;

use super::{AppContext, control, license::bundles_of, tenant::state_of, usage, zone_of};
use crate::domain::{
    Quantity,
    admission::ORGANIZATION_THRESHOLDS,
    events::{QuotaEventKind, ScopeState, announcements, expiry_notice},
    metrics::quota_view,
    tenant::TenantState,
};
use crate::error::{AppError, AppResult};
use crate::events::QuotaEvent;
use crate::store;

/// A committed change to watch: where it happened, which tenants recorded usage, and the
/// events the write raised itself (e.g. ALLOCATION_CHANGED).
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub organization: Uuid,
    pub unit_type: Uuid,
    pub usage_tenants: Vec<Uuid>,
    pub events: Vec<QuotaEvent>,
}

impl Change {
    /// Adds a later change of the same organization and unit type.
    fn merge(&mut self, later: Change) {
        for tenant in later.usage_tenants {
            if !self.usage_tenants.contains(&tenant) {
                self.usage_tenants.push(tenant);
            }
        }
        self.events.extend(later.events);
    }
}

/// Changes waiting to be evaluated, per organization and unit type. An entry exists while
/// a task evaluates that pair: changes committed meanwhile are merged and evaluated
/// together next, so concurrent writes cost one evaluation (and one lock) per batch
/// instead of one each, and the figures read are never older than the writes.
#[derive(Debug, Default)]
pub struct Watcher {
    queues: std::sync::Mutex<HashMap<(Uuid, Uuid), Queue>>,
}

#[derive(Debug, Default)]
struct Queue {
    change: Option<Change>,
    waiters: Vec<tokio::sync::oneshot::Sender<()>>,
}

/// Evaluates a committed change and publishes what it means; returns once it has been
/// (alone or with others). Failures are logged: the change itself is committed and stays so.
pub async fn after(ctx: &AppContext, change: Change) {
    let key = (change.organization, change.unit_type);
    let (done, evaluated) = tokio::sync::oneshot::channel();
    let start = {
        let mut queues = ctx
            .watcher
            .queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match queues.get_mut(&key) {
            Some(queue) => {
                match queue.change.as_mut() {
                    Some(pending) => pending.merge(change),
                    None => queue.change = Some(change),
                }
                queue.waiters.push(done);
                false
            }
            None => {
                queues.insert(
                    key,
                    Queue {
                        change: Some(change),
                        waiters: vec![done],
                    },
                );
                true
            }
        }
    };
    if start {
        tokio::spawn(drain(ctx.clone(), key));
    }
    let _ = evaluated.await;
}

/// Evaluates the pair's waiting changes until none is left.
async fn drain(ctx: AppContext, key: (Uuid, Uuid)) {
    loop {
        let (change, waiters) = {
            let mut queues = ctx
                .watcher
                .queues
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(queue) = queues.get_mut(&key) else { return };
            match queue.change.take() {
                Some(change) => (change, std::mem::take(&mut queue.waiters)),
                None => {
                    queues.remove(&key);
                    return;
                }
            }
        };
        match evaluate(&ctx, &change).await {
            Ok(events) => ctx.events.publish(events).await,
            Err(err) => {
                tracing::error!(error = ?err, organization = %change.organization, "quota events could not be evaluated");
                ctx.events.publish(change.events).await;
            }
        }
        for waiter in waiters {
            let _ = waiter.send(());
        }
    }
}

fn scaled(q: Quantity) -> Option<i64> {
    Some(q.scaled())
}

async fn evaluate(ctx: &AppContext, change: &Change) -> AppResult<Vec<QuotaEvent>> {
    let now = ctx.clock.now();
    let tx = store::begin_write(&ctx.writer).await?;
    store::organization::lock(&tx, change.organization).await?;
    let org = store::organization::find(&tx, change.organization)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))?;
    let unit = store::unit_type::find(&tx, change.unit_type)
        .await?
        .ok_or_else(|| AppError::not_found("unit type"))?;
    let mut out = change.events.clone();
    let today = ctx.clock.today_in(zone_of(&org)?);
    let licenses = store::license::list(&tx, org.id, Some(unit.id)).await?;
    let bundles = bundles_of(&licenses, today)?;
    let Some(current) = bundles.iter().find(|b| b.current) else {
        return Ok(out);
    };
    let previous = bundles.iter().find(|b| b.bundle.end <= current.bundle.start);
    let figures = usage::bundle_to_date(&tx, org.id, unit.id, current, today).await?;
    let organization = figures.usage.organization;
    let view = quota_view(&current.terms, &current.bundle, organization.consumed);
    let tenant_ids: Vec<Uuid> = figures.tenants.iter().map(|t| t.id).collect();
    let controls: HashMap<Uuid, entity::consumption_control::Model> =
        store::control::find_for_tenants(&tx, &tenant_ids, unit.id)
            .await?
            .into_iter()
            .map(|c| (c.tenant_id, c))
            .collect();

    let prefix = |bundle_start: chrono::NaiveDate| format!("{}:{}:{bundle_start}", org.id, unit.id);
    let here = prefix(current.bundle.start);
    let event = |kind| QuotaEvent::new(kind, now, org.id, &unit.code);

    // Every scope's state: the organization, then each tenant.
    let mut scopes: Vec<(Option<Uuid>, ScopeState, Quantity)> = Vec::new();
    scopes.push((
        None,
        ScopeState {
            status: organization.status.as_str(),
            initial_status: if organization.allocated > organization.total_capacity {
                "NEEDS_ATTENTION"
            } else {
                "HEALTHY"
            },
            consumed: organization.consumed,
            base: Some(organization.total_capacity).filter(|t| !t.is_zero()),
            thresholds: ORGANIZATION_THRESHOLDS.to_vec(),
            exhausted: current.license.enforced && view.remaining.is_zero(),
        },
        organization.remaining,
    ));
    for (i, tenant) in figures.tenants.iter().enumerate() {
        let card = &figures.usage.tenants[i];
        let state = state_of(tenant)?;
        let (_, thresholds) = control::decode(controls.get(&tenant.id))?;
        let base = card.allocated.filter(|a| !a.is_zero() && state != TenantState::Deleted);
        scopes.push((
            Some(tenant.id),
            ScopeState {
                status: card.status.as_str(),
                initial_status: match state {
                    TenantState::Active => "HEALTHY",
                    TenantState::Disabled => "DISABLED",
                    TenantState::Deleted => "DELETED",
                },
                consumed: card.consumed,
                base,
                thresholds,
                exhausted: base.is_some_and(|a| card.consumed >= a),
            },
            card.remaining,
        ));
    }
    // Events the write raised itself carry the figures after it too.
    for raised in &mut out {
        if let Some((_, state, remaining)) = scopes.iter().find(|(t, ..)| *t == raised.tenant_id) {
            raised.consumed = raised.consumed.or(scaled(state.consumed));
            raised.remaining = raised.remaining.or(scaled(*remaining));
        }
    }
    let scope_key = |tenant: Option<Uuid>| tenant.map_or_else(|| "org".to_owned(), |t| t.to_string());

    // What was sent already, read at once.
    let mut keys: Vec<String> = Vec::new();
    for (tenant, state, _) in &scopes {
        let scope = format!("{here}:{}", scope_key(*tenant));
        keys.push(format!("{scope}:status"));
        keys.push(format!("{scope}:exhausted"));
        keys.extend(state.thresholds.iter().map(|t| format!("{scope}:threshold:{t}")));
    }
    keys.push(format!("{here}:rolled"));
    if let Some(previous) = previous {
        keys.push(format!("{}:org:status", prefix(previous.bundle.start)));
    }
    let marks: HashMap<String, String> = store::mark::values(&tx, &keys)
        .await?
        .into_iter()
        .map(|m| (m.key, m.value))
        .collect();
    let mut new_marks: HashSet<String> = HashSet::new();
    let mut send_once = |key: String| !marks.contains_key(&key) && new_marks.insert(key);

    // A new bundle, once some figure of the previous one was watched.
    if let Some(previous) = previous
        && marks.contains_key(&format!("{}:org:status", prefix(previous.bundle.start)))
        && send_once(format!("{here}:rolled"))
    {
        out.push(QuotaEvent {
            consumed: scaled(organization.consumed),
            remaining: scaled(organization.remaining),
            ..event(QuotaEventKind::PeriodRolledOver)
        });
    }

    let mut statuses: Vec<(String, &'static str)> = Vec::new();
    for (tenant, state, remaining) in &scopes {
        let scope = format!("{here}:{}", scope_key(*tenant));
        let status_key = format!("{scope}:status");
        let said = announcements(state, marks.get(&status_key).map(String::as_str));
        let figures = |kind| QuotaEvent {
            tenant_id: *tenant,
            consumed: scaled(state.consumed),
            remaining: scaled(*remaining),
            ..event(kind)
        };
        for threshold in said.thresholds {
            if send_once(format!("{scope}:threshold:{threshold}")) {
                out.push(QuotaEvent {
                    threshold: Some(threshold),
                    ..figures(QuotaEventKind::ThresholdCrossed)
                });
            }
        }
        if said.exhausted && send_once(format!("{scope}:exhausted")) {
            out.push(figures(QuotaEventKind::QuotaExhausted));
        }
        if let Some((from, to)) = said.status_change {
            out.push(QuotaEvent {
                previous_status: Some(from),
                status: Some(to),
                ..figures(QuotaEventKind::StatusChanged)
            });
        }
        if marks.get(&status_key).map(String::as_str) != Some(state.status) {
            statuses.push((status_key, state.status));
        }
        if tenant.is_none_or(|t| change.usage_tenants.contains(&t)) && !change.usage_tenants.is_empty() {
            out.push(figures(QuotaEventKind::UsageRecorded));
        }
    }

    // The license's end: 30, 15 and 7 days before.
    if let Some(ends_on) = current.license.ends_on
        && let Some(days) = expiry_notice((ends_on - today).num_days())
        && store::mark::first_time(&tx, &format!("expiring:{}:{days}", current.license.id), now).await?
    {
        out.push(QuotaEvent {
            threshold: Some(days as f64),
            consumed: scaled(organization.consumed),
            remaining: scaled(organization.remaining),
            ..event(QuotaEventKind::LicenseExpiring)
        });
    }

    for key in new_marks {
        store::mark::first_time(&tx, &key, now).await?;
    }
    for (key, status) in statuses {
        store::mark::set(&tx, &key, status, now).await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// Looks at every licensed unit type of every organization every `interval`, and
/// evaluates those whose day changed: a new bundle (PERIOD_ROLLED_OVER) or a license
/// nearing its end (LICENSE_EXPIRING) is noticed without any write.
pub async fn run_ticker(ctx: AppContext, interval: Duration) {
    let mut seen: HashMap<(Uuid, Uuid), chrono::NaiveDate> = HashMap::new();
    // The first look comes one interval after start: startup itself is not a change.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = tick(&ctx, &mut seen).await {
            tracing::warn!(error = ?err, "the period watcher could not look at the licenses");
        }
    }
}

async fn tick(ctx: &AppContext, seen: &mut HashMap<(Uuid, Uuid), chrono::NaiveDate>) -> AppResult<()> {
    let licenses = store::license::all(&ctx.db).await?;
    let organizations: HashMap<Uuid, entity::organization::Model> =
        store::organization::find_many(&ctx.db, &licenses.iter().map(|l| l.organization_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
    let mut due = Vec::new();
    for license in &licenses {
        let Some(org) = organizations.get(&license.organization_id) else {
            continue;
        };
        let today = ctx.clock.today_in(zone_of(org)?);
        let key = (org.id, license.unit_type_id);
        if seen.insert(key, today) != Some(today) {
            due.push(key);
        }
    }
    due.sort();
    due.dedup();
    for (organization, unit_type) in due {
        after(
            ctx,
            Change {
                organization,
                unit_type,
                ..Change::default()
            },
        )
        .await;
    }
    Ok(())
}
