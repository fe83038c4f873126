//! The watcher (docs/design.md §7): after a write commits, it reads the figures of the
//! organization's current bundle afresh under the organization's lock, decides with
//! `domain::events` what subscribers must hear, remembers what it sent (`quota_marks`,
//! shared by every replica) and publishes the events. A period boundary and a license's
//! end are noticed by [`run_ticker`], which looks at every licensed unit type regularly.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use uuid::Uuid;

use super::{
    AppContext,
    bundle::{LicensedBundle, bundles_on},
    figures::{BundleFigures, bundle_to_date, controls_of, organization_thresholds_in},
    memo::{FiguresKey, Reading},
    state_of, zone_of,
};
use crate::domain::{
    Quantity,
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
    /// A change to an organization's figures of one unit type, with no usage nor event of
    /// its own (a license, a tenant's state).
    pub fn of(organization: Uuid, unit_type: Uuid) -> Change {
        Change {
            organization,
            unit_type,
            ..Change::default()
        }
    }

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
    ctx.memo.forget(change.organization);
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

/// Reads the figures of the change's organization and unit type afresh, under the
/// organization's lock, and decides what subscribers must hear: the events the write
/// raised (with the figures after it), a new bundle, every threshold, exhaustion and status
/// change not sent yet, usage recorded, and a license nearing its end.
async fn evaluate(ctx: &AppContext, change: &Change) -> AppResult<Vec<QuotaEvent>> {
    let now = ctx.clock.now();
    let reading = ctx.memo.reading(change.organization);
    let tx = store::begin_write(&ctx.writer).await?;
    store::organization::lock(&tx, change.organization).await?;
    let Some(watched) = Watched::load(ctx, &tx, change).await? else {
        let mut out = change.events.clone();
        super::notification::store(ctx, &tx, &mut out).await?;
        tx.commit().await?;
        return Ok(out);
    };
    let scopes = watched.scopes(&tx).await?;
    let mut out = with_figures(&change.events, &scopes);
    let mut sent = Sent::read(&tx, &watched, &scopes).await?;
    out.extend(sent.rolled_over(&watched, now));
    for scope in &scopes {
        out.extend(sent.announce(&watched, scope, now));
        if scope.recorded_usage(&change.usage_tenants) {
            out.push(watched.event(scope, QuotaEventKind::UsageRecorded, now));
        }
    }
    out.extend(license_expiring(&tx, &watched, now).await?);
    super::notification::store(ctx, &tx, &mut out).await?;
    sent.write(&tx, watched.organization, now).await?;
    tx.commit().await?;
    watched.keep(ctx, reading);
    Ok(out)
}

/// What the watcher looks at: an organization's unit type with a current bundle, the
/// bundle before it, and the figures of the current one to date.
struct Watched {
    organization: Uuid,
    unit_type: Uuid,
    /// Every bundle that started by today, as the dashboard reads them.
    bundles: std::sync::Arc<Vec<LicensedBundle>>,
    unit_code: String,
    today: chrono::NaiveDate,
    current: LicensedBundle,
    previous: Option<LicensedBundle>,
    figures: std::sync::Arc<BundleFigures>,
    /// What every mark of the current bundle starts with.
    here: String,
}

/// One scope the watcher follows (the organization, or a tenant), and its figures.
struct WatchedScope {
    tenant: Option<Uuid>,
    state: ScopeState,
    remaining: Quantity,
}

impl WatchedScope {
    /// Whether this scope recorded usage in the change: the organization whenever a tenant did.
    fn recorded_usage(&self, usage_tenants: &[Uuid]) -> bool {
        !usage_tenants.is_empty() && self.tenant.is_none_or(|t| usage_tenants.contains(&t))
    }
}

/// The key prefix of an organization's unit type's marks in one bundle.
fn bundle_key(organization: Uuid, unit_type: Uuid, bundle_start: chrono::NaiveDate) -> String {
    format!("{organization}:{unit_type}:{bundle_start}")
}

impl Watched {
    /// `None` when no license of the unit type covers today: nothing to watch.
    async fn load(ctx: &AppContext, tx: &sea_orm::DatabaseTransaction, change: &Change) -> AppResult<Option<Watched>> {
        let org = store::organization::find(tx, change.organization)
            .await?
            .ok_or_else(|| AppError::not_found("organization"))?;
        let unit = store::unit_type::find(tx, change.unit_type)
            .await?
            .ok_or_else(|| AppError::not_found("unit type"))?;
        let today = ctx.clock.today_in(zone_of(&org)?);
        let bundles = bundles_on(tx, org.id, unit.id, today).await?;
        let Some(current) = bundles.iter().find(|b| b.current).cloned() else {
            return Ok(None);
        };
        let previous = bundles.iter().find(|b| b.bundle.end <= current.bundle.start).cloned();
        let figures = bundle_to_date(tx, org.id, unit.id, &current, today).await?;
        Ok(Some(Watched {
            here: bundle_key(org.id, unit.id, current.bundle.start),
            organization: org.id,
            unit_type: unit.id,
            bundles: std::sync::Arc::new(bundles),
            unit_code: unit.code,
            today,
            current,
            previous,
            figures: std::sync::Arc::new(figures),
        }))
    }

    /// Keeps what it read for the dashboard (its figures are the current bundle's to date),
    /// as read since `reading`.
    fn keep(&self, ctx: &AppContext, reading: Reading) {
        let memo = &ctx.memo;
        let bundles = (self.organization, self.unit_type, self.today);
        memo.keep(&memo.bundles, bundles, self.bundles.clone(), reading);
        let figures = FiguresKey {
            organization: self.organization,
            unit_type: self.unit_type,
            bundle: self.current.bundle.start,
            from: self.current.bundle.start,
            to: self.today,
        };
        memo.keep(&memo.figures, figures, self.figures.clone(), reading);
    }

    /// The organization's state, then each tenant's, with its thresholds.
    async fn scopes(&self, tx: &sea_orm::DatabaseTransaction) -> AppResult<Vec<WatchedScope>> {
        let organization = &self.figures.usage.organization;
        let view = quota_view(&self.current.terms, &self.current.bundle, organization.consumed);
        let mut scopes = vec![WatchedScope {
            tenant: None,
            state: ScopeState {
                status: organization.status.as_str(),
                initial_status: if organization.allocated > organization.total_capacity {
                    "NEEDS_ATTENTION"
                } else {
                    "HEALTHY"
                },
                consumed: organization.consumed,
                base: Some(organization.total_capacity).filter(|t| !t.is_zero()),
                thresholds: organization_thresholds_in(tx, self.organization, self.current.license.unit_type_id)
                    .await?,
                exhausted: self.current.license.enforced && view.remaining.is_zero(),
            },
            remaining: organization.remaining,
        }];
        let unit_type = self.current.license.unit_type_id;
        let controls: HashMap<Uuid, entity::consumption_control::Model> =
            store::control::find_for_organization(tx, self.organization, unit_type)
                .await?
                .into_iter()
                .map(|c| (c.tenant_id, c))
                .collect();
        for (tenant, card) in self.figures.tenants.iter().zip(&self.figures.usage.tenants) {
            let state = state_of(tenant)?;
            let (_, thresholds) = controls_of(controls.get(&tenant.id))?;
            let base = card.allocated.filter(|a| !a.is_zero() && state != TenantState::Deleted);
            scopes.push(WatchedScope {
                tenant: Some(tenant.id),
                state: ScopeState {
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
                remaining: card.remaining,
            });
        }
        Ok(scopes)
    }

    /// An event of a scope, with its figures.
    fn event(&self, scope: &WatchedScope, kind: QuotaEventKind, now: chrono::DateTime<chrono::Utc>) -> QuotaEvent {
        QuotaEvent {
            tenant_id: scope.tenant,
            consumed: scaled(scope.state.consumed),
            remaining: scaled(scope.remaining),
            ..QuotaEvent::new(kind, now, self.organization, &self.unit_code)
        }
    }

    /// The key prefix of a scope's marks in the current bundle.
    fn scope_key(&self, tenant: Option<Uuid>) -> String {
        match tenant {
            Some(tenant) => format!("{}:{tenant}", self.here),
            None => format!("{}:org", self.here),
        }
    }

    /// The mark that says the previous bundle's organization status was watched.
    fn previous_status_key(&self) -> Option<String> {
        let previous = self.previous.as_ref()?;
        let unit_type = self.current.license.unit_type_id;
        Some(format!(
            "{}:org:status",
            bundle_key(self.organization, unit_type, previous.bundle.start)
        ))
    }
}

/// The events the write raised itself, carrying the figures after it too.
fn with_figures(raised: &[QuotaEvent], scopes: &[WatchedScope]) -> Vec<QuotaEvent> {
    let mut out = raised.to_vec();
    for event in &mut out {
        if let Some(scope) = scopes.iter().find(|s| s.tenant == event.tenant_id) {
            event.consumed = event.consumed.or(scaled(scope.state.consumed));
            event.remaining = event.remaining.or(scaled(scope.remaining));
        }
    }
    out
}

/// What was sent already (the marks, read at once) and what this evaluation sends.
struct Sent {
    marks: HashMap<String, String>,
    new_marks: HashSet<String>,
    statuses: Vec<(String, &'static str)>,
}

impl Sent {
    async fn read(tx: &sea_orm::DatabaseTransaction, watched: &Watched, scopes: &[WatchedScope]) -> AppResult<Sent> {
        let mut keys: Vec<String> = Vec::new();
        for scope in scopes {
            let key = watched.scope_key(scope.tenant);
            keys.push(format!("{key}:status"));
            keys.push(format!("{key}:exhausted"));
            keys.extend(scope.state.thresholds.iter().map(|t| format!("{key}:threshold:{t}")));
        }
        keys.push(format!("{}:rolled", watched.here));
        keys.extend(watched.previous_status_key());
        let marks = store::mark::values(tx, watched.organization, &keys)
            .await?
            .into_iter()
            .map(|m| (m.key, m.value))
            .collect();
        Ok(Sent {
            marks,
            new_marks: HashSet::new(),
            statuses: Vec::new(),
        })
    }

    /// Whether a one-time alert is still to send (and from now on, sent).
    fn once(&mut self, key: String) -> bool {
        !self.marks.contains_key(&key) && self.new_marks.insert(key)
    }

    /// PERIOD_ROLLED_OVER for a new bundle, once some figure of the previous one was watched.
    fn rolled_over(&mut self, watched: &Watched, now: chrono::DateTime<chrono::Utc>) -> Option<QuotaEvent> {
        let watched_before = watched
            .previous_status_key()
            .is_some_and(|key| self.marks.contains_key(&key));
        if !(watched_before && self.once(format!("{}:rolled", watched.here))) {
            return None;
        }
        let organization = &watched.figures.usage.organization;
        Some(QuotaEvent {
            consumed: scaled(organization.consumed),
            remaining: scaled(organization.remaining),
            ..QuotaEvent::new(
                QuotaEventKind::PeriodRolledOver,
                now,
                watched.organization,
                &watched.unit_code,
            )
        })
    }

    /// A scope's thresholds crossed, its exhaustion and its status change, each once.
    fn announce(
        &mut self,
        watched: &Watched,
        scope: &WatchedScope,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<QuotaEvent> {
        let key = watched.scope_key(scope.tenant);
        let status_key = format!("{key}:status");
        let recorded = self.marks.get(&status_key).cloned();
        let said = announcements(&scope.state, recorded.as_deref());
        let mut out = Vec::new();
        for threshold in said.thresholds {
            if self.once(format!("{key}:threshold:{threshold}")) {
                out.push(QuotaEvent {
                    threshold: Some(threshold),
                    ..watched.event(scope, QuotaEventKind::ThresholdCrossed, now)
                });
            }
        }
        if said.exhausted && self.once(format!("{key}:exhausted")) {
            out.push(watched.event(scope, QuotaEventKind::QuotaExhausted, now));
        }
        if let Some((from, to)) = said.status_change {
            out.push(QuotaEvent {
                previous_status: Some(from),
                status: Some(to),
                ..watched.event(scope, QuotaEventKind::StatusChanged, now)
            });
        }
        if recorded.as_deref() != Some(scope.state.status) {
            self.statuses.push((status_key, scope.state.status));
        }
        out
    }

    /// Remembers what was sent, for every replica.
    async fn write(
        self,
        tx: &sea_orm::DatabaseTransaction,
        organization: Uuid,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<()> {
        for key in self.new_marks {
            store::mark::first_time(tx, organization, &key, now).await?;
        }
        for (key, status) in self.statuses {
            store::mark::set(tx, organization, &key, status, now).await?;
        }
        Ok(())
    }
}

/// LICENSE_EXPIRING 30, 15 and 7 days before the license's end, once each.
async fn license_expiring(
    tx: &sea_orm::DatabaseTransaction,
    watched: &Watched,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<QuotaEvent>> {
    let license = &watched.current.license;
    let Some(days) = license
        .ends_on
        .and_then(|ends_on| expiry_notice((ends_on - watched.today).num_days()))
    else {
        return Ok(None);
    };
    if !store::mark::first_time(
        tx,
        watched.organization,
        &format!("expiring:{}:{days}", license.id),
        now,
    )
    .await?
    {
        return Ok(None);
    }
    let organization = &watched.figures.usage.organization;
    Ok(Some(QuotaEvent {
        threshold: Some(days as f64),
        consumed: scaled(organization.consumed),
        remaining: scaled(organization.remaining),
        ..QuotaEvent::new(
            QuotaEventKind::LicenseExpiring,
            now,
            watched.organization,
            &watched.unit_code,
        )
    }))
}

/// How often old notifications are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Looks at every licensed unit type of every organization every `interval`, and
/// evaluates those whose day changed: a new bundle (PERIOD_ROLLED_OVER) or a license
/// nearing its end (LICENSE_EXPIRING) is noticed without any write. The first look
/// evaluates every one, so what a write committed just before a crash is announced after
/// the restart. Every hour, and on a new day, it also deletes the notifications older
/// than `retention_days`, and the raw usage events older than the event retention.
pub async fn run_ticker(ctx: AppContext, interval: Duration, retention_days: u32) {
    let mut seen: HashMap<(Uuid, Uuid), chrono::NaiveDate> = HashMap::new();
    let mut pruned: Option<tokio::time::Instant> = None;
    // The first look comes one interval after start: startup itself is not a change.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let new_day = match tick(&ctx, &mut seen).await {
            Ok(new_day) => new_day,
            Err(err) => {
                tracing::warn!(error = ?err, "the period watcher could not look at the licenses");
                false
            }
        };
        if new_day || pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned = Some(tokio::time::Instant::now());
            match super::notification::prune(&ctx, ctx.clock.now(), retention_days).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, retention_days, "deleted old notifications"),
                Err(err) => tracing::warn!(error = ?err, "old notifications could not be deleted"),
            }
            if let Some(days) = ctx.event_retention_days {
                match super::retention::prune_events(&ctx, ctx.clock.now(), days).await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(count, retention_days = days, "deleted old usage events"),
                    Err(err) => tracing::warn!(error = ?err, "old usage events could not be deleted"),
                }
            }
        }
    }
}

/// Evaluates the unit types whose day changed; whether any did.
async fn tick(ctx: &AppContext, seen: &mut HashMap<(Uuid, Uuid), chrono::NaiveDate>) -> AppResult<bool> {
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
    let new_day = !due.is_empty();
    for (organization, unit_type) in due {
        after(ctx, Change::of(organization, unit_type)).await;
    }
    Ok(new_day)
}
