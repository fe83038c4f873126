//! The event bus (docs/design.md §7). Writes publish quota events after they commit; every
//! subscription reads them from one in-process broadcast channel. On PostgreSQL events
//! travel through `NOTIFY` and every replica (this one included) feeds its channel from
//! `LISTEN`, so subscribers on any replica hear events raised on any other.
//!
//! The channel is bounded: a subscriber that falls behind misses the oldest events and
//! is told so; publishers never wait for subscribers.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::domain::events::QuotaEventKind;

/// The PostgreSQL channel events travel on.
const CHANNEL: &str = "quotagraph_events";
/// The PostgreSQL channel revoked API keys travel on (their subscriptions end).
const REVOCATIONS: &str = "quotagraph_revocations";
/// Events a subscriber may fall behind by before it misses some.
const BUFFER: usize = 4096;

/// One event, with the figures after the change (quantities in ten-thousandths).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotaEvent {
    /// Set once the event is stored (every kind but USAGE_RECORDED): its id, and its place
    /// in the organization's notifications (the cursor).
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub seq: Option<i64>,
    pub kind: QuotaEventKind,
    pub at: DateTime<Utc>,
    pub organization_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub unit_type: String,
    pub threshold: Option<f64>,
    pub previous_status: Option<String>,
    pub status: Option<String>,
    pub consumed: Option<i64>,
    pub remaining: Option<i64>,
}

impl QuotaEvent {
    /// An event with no figures yet.
    pub fn new(kind: QuotaEventKind, at: DateTime<Utc>, organization_id: Uuid, unit_type: &str) -> Self {
        QuotaEvent {
            id: None,
            seq: None,
            kind,
            at,
            organization_id,
            tenant_id: None,
            unit_type: unit_type.to_owned(),
            threshold: None,
            previous_status: None,
            status: None,
            consumed: None,
            remaining: None,
        }
    }
}

/// Where published events go.
#[derive(Clone, Debug)]
pub struct Bus {
    local: broadcast::Sender<Arc<QuotaEvent>>,
    revoked: broadcast::Sender<Uuid>,
    /// This replica, as the events it sends through NOTIFY name it.
    replica: Uuid,
    /// The organization of each event heard from another replica; `None` when some may
    /// have been missed.
    others: broadcast::Sender<Option<Uuid>>,
    /// On PostgreSQL, the connection events are sent with `NOTIFY` through.
    notify: Option<DatabaseConnection>,
    /// The LISTEN task, stopped when the last clone of the bus goes.
    _listener: Option<Arc<Listener>>,
}

#[derive(Debug)]
struct Listener(tokio::task::JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Bus {
    /// A bus for one process (SQLite).
    pub fn in_process() -> Bus {
        Bus {
            local: broadcast::channel(BUFFER).0,
            revoked: broadcast::channel(BUFFER).0,
            replica: Uuid::now_v7(),
            others: broadcast::channel(BUFFER).0,
            notify: None,
            _listener: None,
        }
    }

    /// The bus for a database: in-process on SQLite; on PostgreSQL through NOTIFY, with a
    /// task that listens and feeds this replica's subscribers.
    pub async fn start(db: &DatabaseConnection) -> anyhow::Result<Bus> {
        let mut bus = Bus::in_process();
        if db.get_database_backend() == DbBackend::Postgres {
            // A pool of its own: the listener keeps its connection for as long as it runs,
            // which would leave the requests one connection fewer than configured.
            let options = db.get_postgres_connection_pool().connect_options();
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect_lazy_with((*options).clone());
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen_all([CHANNEL, REVOCATIONS]).await?;
            bus._listener = Some(Arc::new(Listener(tokio::spawn(listen(listener, bus.clone())))));
            bus.notify = Some(db.clone());
        }
        Ok(bus)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<QuotaEvent>> {
        self.local.subscribe()
    }

    /// The organization of each event another replica raised, as it arrives; `None` when
    /// some may have been missed. Nothing on SQLite, where there is no other replica.
    pub fn from_other_replicas(&self) -> broadcast::Receiver<Option<Uuid>> {
        self.others.subscribe()
    }

    /// The id of each API key revoked, on any replica, as the revocation arrives.
    pub fn revocations(&self) -> broadcast::Receiver<Uuid> {
        self.revoked.subscribe()
    }

    /// Completes when the API key is revoked (on any replica).
    pub fn revocation_of(&self, key: Uuid) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut revoked = self.revoked.subscribe();
        async move {
            loop {
                match revoked.recv().await {
                    Ok(id) if id == key => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    // The bus is gone with the server; the subscription ends with it.
                    Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                }
            }
        }
    }

    /// Tells every replica that a key was revoked, so its subscriptions end.
    pub async fn revoke(&self, key: Uuid) {
        match &self.notify {
            None => {
                let _ = self.revoked.send(key);
            }
            Some(db) => self.notify(db, REVOCATIONS, key.to_string()).await,
        }
    }

    async fn notify(&self, db: &DatabaseConnection, channel: &str, payload: String) {
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [channel.into(), payload.into()],
        );
        if let Err(err) = db.execute_raw(statement).await {
            tracing::error!(error = %err, channel, "a notification could not be sent");
        }
    }

    /// Sends events to every subscriber. A failure is logged: the change that raised the
    /// events is already committed and stays so.
    pub async fn publish(&self, events: Vec<QuotaEvent>) {
        for event in events {
            match &self.notify {
                None => {
                    // No subscriber is not an error.
                    let _ = self.local.send(Arc::new(event));
                }
                Some(db) => {
                    let wire = Wire {
                        replica: Some(self.replica),
                        event,
                    };
                    let payload = match serde_json::to_string(&wire) {
                        Ok(payload) => payload,
                        Err(err) => {
                            tracing::error!(error = %err, "an event could not be encoded");
                            continue;
                        }
                    };
                    self.notify(db, CHANNEL, payload).await;
                }
            }
        }
    }
}

/// An event as it travels through NOTIFY: its own fields and the replica that raised it,
/// side by side, so that replicas of the release before, which know no `replica`, still
/// read the event, and an event from one of them reads as another replica's.
#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(default)]
    replica: Option<Uuid>,
    #[serde(flatten)]
    event: QuotaEvent,
}

/// Feeds this replica's subscribers from PostgreSQL notifications, reconnecting when the
/// connection drops (events sent meanwhile are lost, and logged as such).
async fn listen(mut listener: sqlx::postgres::PgListener, bus: Bus) {
    let Bus {
        local, revoked, others, ..
    } = &bus;
    loop {
        match listener.recv().await {
            Ok(notification) if notification.channel() == REVOCATIONS => match notification.payload().parse() {
                Ok(key) => {
                    let _ = revoked.send(key);
                }
                Err(err) => tracing::warn!(error = %err, "ignored a revocation that is not a key id"),
            },
            Ok(notification) => match serde_json::from_str::<Wire>(notification.payload()) {
                Ok(Wire { replica, event }) => {
                    if replica != Some(bus.replica) {
                        let _ = others.send(Some(event.organization_id));
                    }
                    let _ = local.send(Arc::new(event));
                }
                Err(err) => tracing::warn!(error = %err, "ignored a notification that is not an event"),
            },
            Err(err) => {
                tracing::warn!(error = %err, "lost the event listener's connection; events may have been missed");
                let _ = others.send(None);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_of_the_release_before_and_this_one_read_each_others_events() {
        let event = QuotaEvent::new(QuotaEventKind::UsageRecorded, Utc::now(), Uuid::now_v7(), "units");
        let replica = Uuid::now_v7();
        let sent = serde_json::to_string(&Wire {
            replica: Some(replica),
            event: event.clone(),
        })
        .unwrap();
        assert_eq!(serde_json::from_str::<QuotaEvent>(&sent).unwrap(), event);
        let heard: Wire = serde_json::from_str(&sent).unwrap();
        assert_eq!((heard.replica, heard.event), (Some(replica), event.clone()));
        let before: Wire = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!((before.replica, before.event), (None, event));
    }
}
