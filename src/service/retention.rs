//! Event retention (docs/design.md §15.7): raw usage events older than
//! `QUOTAGRAPH_EVENT_RETENTION_DAYS` are deleted off the request path, a bounded batch per
//! transaction so that ingestion is never held up for long. Every figure comes from the
//! rollups, which stay: nothing a view shows changes.

use chrono::{DateTime, Utc};

use super::AppContext;
use crate::domain::ingestion::last_pruned_day;
use crate::error::AppResult;
use crate::store;

/// Raw events deleted per transaction.
const BATCH: u64 = 1_000;

/// Deletes the raw events of the days before the retention; how many went.
pub async fn prune_events(ctx: &AppContext, now: DateTime<Utc>, retention_days: u32) -> AppResult<u64> {
    let last_day = last_pruned_day(now, retention_days);
    let mut deleted = 0;
    let mut scopes = Vec::new();
    for organization in store::organization::all_ids(&ctx.db).await? {
        scopes.extend(store::usage::usage_until(&ctx.db, organization, last_day).await?);
    }
    for scope in scopes {
        loop {
            let tx = store::begin_write(&ctx.writer).await?;
            let gone = store::usage::delete_raw_until(&tx, scope, last_day, BATCH).await?;
            tx.commit().await?;
            deleted += gone;
            if gone < BATCH {
                break;
            }
            // Between batches, waiting writers go first.
            tokio::task::yield_now().await;
        }
    }
    Ok(deleted)
}
