//! Group commit of small `recordUsage` requests. While one group is being written, the
//! requests that arrive wait and are written together as the next group, in one
//! transaction: one commit (on SQLite, one turn of the single writer connection) and one
//! set of lookups and rollup writes then serve many requests, and a lone request waits
//! for nothing.
//!
//! Each request keeps its own outcome, as if the requests had been written one after the
//! other in arrival order. A group is first written as one batch; when that is refused,
//! each request is written again on a savepoint of its own, so a bad request is refused
//! alone and writes nothing, and the others are recorded.

use std::sync::{Mutex, PoisonError};

use sea_orm::TransactionTrait;
use tokio::sync::oneshot;

use super::AppContext;
use super::ingestion::{NewUsageEvent, Recorded, audit_entries, record_each};
use crate::domain::access::Actor;
use crate::error::{AppError, AppResult};
use crate::store;

/// Requests of at most this many events are grouped; larger ones are written alone.
/// SQLite writes one transaction at a time whatever happens, so grouping batches of up to
/// 100 only saves commits. PostgreSQL writes separate transactions side by side: there a
/// batch of 100 already shares its commit, and grouping it would queue what runs in
/// parallel (measured at S: batches of 100 from 4 clients 11% slower), so only the small
/// requests, whose commit is most of their cost, are grouped.
pub fn grouped(ctx: &AppContext) -> usize {
    match ctx.writer.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => 10,
        _ => 100,
    }
}
/// A group holds at most this many events (and always at least one request).
const GROUP_EVENTS: usize = 1_000;

#[derive(Debug)]
struct Request {
    actor: Actor,
    events: Vec<NewUsageEvent>,
    reply: oneshot::Sender<AppResult<Recorded>>,
}

/// The requests waiting for the next group.
#[derive(Debug, Default)]
pub struct Groups {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    waiting: Vec<Request>,
    /// Whether a task is writing groups; it takes the waiting requests until none is left.
    writing: bool,
}

/// Writes a request with the next group and returns how it was taken.
pub async fn submit(ctx: &AppContext, actor: &Actor, events: Vec<NewUsageEvent>) -> AppResult<Recorded> {
    let (reply, answer) = oneshot::channel();
    let start = {
        let mut state = ctx.groups.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.waiting.push(Request {
            actor: *actor,
            events,
            reply,
        });
        !std::mem::replace(&mut state.writing, true)
    };
    if start {
        // A task of its own: a caller that goes away does not stop the others' write.
        tokio::spawn(write_groups(ctx.clone()));
    }
    answer.await.unwrap_or_else(|_| {
        Err(AppError::Internal(anyhow::anyhow!(
            "the group holding this request was not written"
        )))
    })
}

/// Should the task stop half-way (a panic), the waiting callers are answered with an
/// error and the next request starts a new task, instead of every later request waiting
/// for a task that is gone.
struct Writing<'a>(&'a Groups);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.writing = false;
            // Dropping their reply senders answers them.
            state.waiting.clear();
        }
    }
}

async fn write_groups(ctx: AppContext) {
    let _writing = Writing(&ctx.groups);
    loop {
        let group = {
            let mut state = ctx.groups.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.waiting.is_empty() {
                state.writing = false;
                return;
            }
            let mut events = 0;
            let count = state
                .waiting
                .iter()
                .take_while(|request| {
                    events += request.events.len();
                    events <= GROUP_EVENTS
                })
                .count()
                .max(1);
            state.waiting.drain(..count).collect::<Vec<_>>()
        };
        metrics::histogram!("quotagraph_ingest_group_requests").record(group.len() as f64);
        let outcomes = match write(&ctx, &group).await {
            Ok(outcomes) => outcomes,
            // Beginning or committing failed: nothing of the group was written.
            Err(err) if group.len() == 1 => vec![Err(err)],
            Err(err) => group.iter().map(|_| Err(err.replicate())).collect(),
        };
        for (request, outcome) in group.into_iter().zip(outcomes) {
            // The caller may have gone away; its events are recorded all the same.
            let _ = request.reply.send(outcome);
        }
    }
}

/// Writes a group in one transaction; the outcome of each request, in order.
async fn write(ctx: &AppContext, group: &[Request]) -> AppResult<Vec<AppResult<Recorded>>> {
    let now = ctx.clock.now();
    let tx = store::begin_write(&ctx.writer).await?;
    let outcomes = if let [request] = group {
        let actors = vec![&request.actor; request.events.len()];
        vec![Ok(Recorded::of(
            &record_each(&tx, now, &actors, &request.events).await?,
        ))]
    } else {
        let events: Vec<NewUsageEvent> = group.iter().flat_map(|r| r.events.iter().cloned()).collect();
        let actors: Vec<&Actor> = group
            .iter()
            .flat_map(|r| r.events.iter().map(move |_| &r.actor))
            .collect();
        let together = tx.begin().await?;
        match record_each(&together, now, &actors, &events).await {
            Ok(each) => {
                together.commit().await?;
                let mut rest = each.as_slice();
                group
                    .iter()
                    .map(|request| {
                        let (mine, others) = rest.split_at(request.events.len());
                        rest = others;
                        Ok(Recorded::of(mine))
                    })
                    .collect()
            }
            Err(_) => {
                together.rollback().await?;
                let mut outcomes = Vec::with_capacity(group.len());
                for request in group {
                    let alone = tx.begin().await?;
                    let actors = vec![&request.actor; request.events.len()];
                    match record_each(&alone, now, &actors, &request.events).await {
                        Ok(each) => {
                            alone.commit().await?;
                            outcomes.push(Ok(Recorded::of(&each)));
                        }
                        Err(err) => {
                            alone.rollback().await?;
                            outcomes.push(Err(err));
                        }
                    }
                }
                outcomes
            }
        }
    };
    // Every request's entries in one statement: one insert per request was most of the
    // statements a group of single events ran.
    let entries = group
        .iter()
        .zip(&outcomes)
        .filter_map(|(request, outcome)| Some(audit_entries(ctx, &request.actor, outcome.as_ref().ok()?)))
        .flatten()
        .collect();
    store::audit::insert_many(&tx, entries).await?;
    tx.commit().await?;
    Ok(outcomes)
}
