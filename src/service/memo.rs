//! What the dashboards read, kept in memory per organization (docs/design.md §11): the
//! bundles of a unit type, the figures of a range of a bundle, a bundle's consumption, and
//! a tenant view's sums (by day and service, and by list). A dashboard is asked for again
//! and again while its figures change only when something is written, so a read that finds
//! them kept costs no statement.
//!
//! Every kept value carries the organization's generation when its read began. A write
//! moves the generation on once it commits ([`Memo::forget`], called by `watch::after` and
//! by the use cases that change what the figures show without the watcher), so what was
//! read before the write is never answered after it on this replica; the watcher then
//! keeps the figures it read afresh. Other replicas forget an organization when its events
//! arrive through NOTIFY, and nothing is answered once it is [`MAX_AGE`] old: a write that
//! raises no event (a tenant renamed) reaches every replica's dashboard within that age.
//!
//! Every request also begins with the caller's API key, and most with an organization
//! and a unit type: found ones are kept too, under the generation of [`RECORDS`], which a
//! key's revocation moves on, here at once and on other replicas when the revocation
//! arrives (organizations and unit types are never changed once created).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::error::AppResult;

/// How long a kept value may be answered on a replica that heard nothing of a change.
pub const MAX_AGE: Duration = Duration::from_millis(500);

/// The generation API keys, organizations and unit types are kept under.
pub const RECORDS: Uuid = Uuid::nil();

/// How many values a shelf of small values keeps; past it the shelf is emptied and fills
/// again.
const MAX_ENTRIES: usize = 4_096;
/// How many a shelf of a tenant view's sums keeps (each holds a row per day and service,
/// or per listed folder and process).
const MAX_VIEWS: usize = 256;

/// The kept values, with each organization's generation.
#[derive(Debug, Default)]
pub struct Memo {
    generations: Mutex<Generations>,
    pub(super) bundles: Shelf<(Uuid, Uuid, chrono::NaiveDate), Arc<Vec<super::bundle::LicensedBundle>>>,
    pub(super) figures: Shelf<FiguresKey, Arc<super::figures::BundleFigures>>,
    pub(super) consumed: Shelf<FiguresKey, i64>,
    pub(super) daily: Shelf<RangeKey, Arc<super::analytics::DailyUsage>, MAX_VIEWS>,
    pub(super) lists: Shelf<RangeKey, Arc<Vec<(Uuid, crate::domain::attribution::ListSum)>>, MAX_VIEWS>,
    pub(super) keys: Shelf<super::api_key::KeyRef, Arc<entity::api_key::Model>>,
    pub(super) organizations: Shelf<Uuid, Arc<entity::organization::Model>>,
    pub(super) unit_types: Shelf<String, Arc<entity::unit_type::Model>>,
}

/// How many times everything, and each organization, was forgotten.
#[derive(Debug, Default)]
struct Generations {
    all: u64,
    each: HashMap<Uuid, u64>,
}

/// An organization's unit type, a bundle (by its start) and days of it, as the read of the
/// shelf bounds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct FiguresKey {
    pub organization: Uuid,
    pub unit_type: Uuid,
    pub bundle: chrono::NaiveDate,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
}

/// Whose rows, of which unit type, over the days `[from, until)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct RangeKey {
    pub scope: crate::store::Scope,
    pub unit_type: Uuid,
    pub from: chrono::NaiveDate,
    pub until: chrono::NaiveDate,
}

/// Up to `MAX` values of one kind, each with the generation and the instant its read began.
#[derive(Debug)]
pub(super) struct Shelf<K, V, const MAX: usize = MAX_ENTRIES> {
    kept: Mutex<HashMap<K, Kept<V>>>,
}

impl<K, V, const MAX: usize> Default for Shelf<K, V, MAX> {
    fn default() -> Self {
        Shelf {
            kept: Mutex::new(HashMap::new()),
        }
    }
}

#[derive(Debug)]
struct Kept<V> {
    value: V,
    generation: (u64, u64),
    read_at: Instant,
}

/// When a read began: what a value read now is kept with.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reading {
    generation: (u64, u64),
    at: Instant,
}

impl<K: Eq + Hash, V: Clone, const MAX: usize> Shelf<K, V, MAX> {
    fn fresh(&self, key: &K, reading: Reading) -> Option<V> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get(key)
            .filter(|k| k.generation == reading.generation && reading.at.duration_since(k.read_at) < MAX_AGE)
            .map(|k| k.value.clone())
    }

    fn keep(&self, key: K, value: V, reading: Reading) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= MAX {
            kept.clear();
        }
        kept.insert(
            key,
            Kept {
                value,
                generation: reading.generation,
                read_at: reading.at,
            },
        );
    }
}

impl Memo {
    /// Begins a read of the organization's figures.
    pub(super) fn reading(&self, organization: Uuid) -> Reading {
        let generations = self.generations.lock().unwrap_or_else(PoisonError::into_inner);
        Reading {
            generation: (
                generations.all,
                generations.each.get(&organization).copied().unwrap_or(0),
            ),
            at: Instant::now(),
        }
    }

    /// Forgets what was kept of the organization: a write to it committed.
    pub fn forget(&self, organization: Uuid) {
        let mut generations = self.generations.lock().unwrap_or_else(PoisonError::into_inner);
        *generations.each.entry(organization).or_insert(0) += 1;
    }

    /// Forgets what was kept of every organization.
    pub fn forget_all(&self) {
        self.generations.lock().unwrap_or_else(PoisonError::into_inner).all += 1;
    }

    /// The value kept under `key` in `shelf`, or `read`'s, then kept.
    pub(super) async fn kept_or_read<K, V, F, const MAX: usize>(
        &self,
        shelf: &Shelf<K, V, MAX>,
        organization: Uuid,
        key: K,
        read: F,
    ) -> AppResult<V>
    where
        K: Eq + Hash,
        V: Clone,
        F: Future<Output = AppResult<V>>,
    {
        let reading = self.reading(organization);
        if let Some(value) = shelf.fresh(&key, reading) {
            return Ok(value);
        }
        let value = read.await?;
        shelf.keep(key, value.clone(), reading);
        Ok(value)
    }

    /// The record kept under `key` in `shelf`, or `read`'s, kept when it was found: a record
    /// missing now may be created on another replica a moment later.
    pub(super) async fn found_or_read<K, V, F, const MAX: usize>(
        &self,
        shelf: &Shelf<K, V, MAX>,
        key: K,
        read: F,
    ) -> AppResult<Option<V>>
    where
        K: Eq + Hash,
        V: Clone,
        F: Future<Output = AppResult<Option<V>>>,
    {
        let reading = self.reading(RECORDS);
        if let Some(value) = shelf.fresh(&key, reading) {
            return Ok(Some(value));
        }
        let value = read.await?;
        if let Some(value) = &value {
            shelf.keep(key, value.clone(), reading);
        }
        Ok(value)
    }

    /// Keeps a value the service read itself (the watcher's figures) since `reading`.
    pub(super) fn keep<K: Eq + Hash, V: Clone>(&self, shelf: &Shelf<K, V>, key: K, value: V, reading: Reading) {
        shelf.keep(key, value, reading);
    }
}

/// Forgets each organization whose events arrive from another replica, and the kept keys
/// when a key is revoked on any replica, for as long as the bus runs.
pub async fn follow_other_replicas(ctx: super::AppContext) {
    use tokio::sync::broadcast::error::RecvError;
    let mut heard = ctx.events.from_other_replicas();
    let mut revoked = ctx.events.revocations();
    loop {
        let forgotten = tokio::select! {
            event = heard.recv() => event,
            revocation = revoked.recv() => revocation.map(|_| Some(RECORDS)),
        };
        match forgotten {
            Ok(Some(organization)) => ctx.memo.forget(organization),
            // Events were missed: forget everything kept rather than guess which.
            Ok(None) | Err(RecvError::Lagged(_)) => ctx.memo.forget_all(),
            Err(RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(organization: Uuid) -> FiguresKey {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        FiguresKey {
            organization,
            unit_type: Uuid::nil(),
            bundle: day,
            from: day,
            to: day,
        }
    }

    #[tokio::test]
    async fn a_value_is_kept_until_its_organization_is_written_to() {
        let memo = Memo::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let read = |v: i64| async move { Ok(v) };
        assert_eq!(memo.kept_or_read(&memo.consumed, a, key(a), read(1)).await.unwrap(), 1);
        assert_eq!(memo.kept_or_read(&memo.consumed, b, key(b), read(2)).await.unwrap(), 2);
        assert_eq!(memo.kept_or_read(&memo.consumed, a, key(a), read(3)).await.unwrap(), 1);
        memo.forget(a);
        assert_eq!(memo.kept_or_read(&memo.consumed, a, key(a), read(4)).await.unwrap(), 4);
        assert_eq!(memo.kept_or_read(&memo.consumed, b, key(b), read(5)).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_value_read_across_a_write_is_not_answered_after_it() {
        let memo = Memo::default();
        let a = Uuid::now_v7();
        let racing = async {
            // The write commits while this read is under way.
            memo.forget(a);
            Ok(1)
        };
        assert_eq!(memo.kept_or_read(&memo.consumed, a, key(a), racing).await.unwrap(), 1);
        let again = async { Ok(2) };
        assert_eq!(memo.kept_or_read(&memo.consumed, a, key(a), again).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn nothing_is_answered_past_its_age() {
        let memo = Memo::default();
        let a = Uuid::now_v7();
        let old = Reading {
            generation: (0, 0),
            at: Instant::now() - MAX_AGE,
        };
        memo.keep(&memo.consumed, key(a), 1, old);
        assert_eq!(
            memo.kept_or_read(&memo.consumed, a, key(a), async { Ok(2) })
                .await
                .unwrap(),
            2
        );
        memo.forget_all();
        assert_eq!(
            memo.kept_or_read(&memo.consumed, a, key(a), async { Ok(3) })
                .await
                .unwrap(),
            3
        );
    }
}
