//! Bounds on WebSocket use (docs/design.md §8): open connections per API key, and live
//! subscriptions per connection. Counted in this process; a slot is given back when its
//! guard is dropped (the connection closes, the subscription ends).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::error::AppError;

/// Open connections per key.
#[derive(Debug)]
pub struct Connections {
    max: usize,
    open: Mutex<HashMap<Uuid, usize>>,
}

/// One open connection of a key; dropping it frees the slot.
#[derive(Debug)]
pub struct ConnectionSlot {
    connections: Arc<Connections>,
    key: Uuid,
}

impl Connections {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Connections {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    pub fn open(self: &Arc<Self>, key: Uuid) -> Result<ConnectionSlot, AppError> {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(key).or_default();
        if *count >= self.max {
            return Err(AppError::RateLimited(format!(
                "this API key already has {} open WebSocket connections, the most allowed",
                self.max
            )));
        }
        *count += 1;
        metrics::gauge!("quotagraph_websocket_connections").increment(1.0);
        Ok(ConnectionSlot {
            connections: self.clone(),
            key,
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        metrics::gauge!("quotagraph_websocket_connections").decrement(1.0);
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// The live subscriptions of one connection (kept in the connection's data).
#[derive(Clone, Debug)]
pub struct Subscriptions {
    max: usize,
    live: Arc<AtomicUsize>,
}

/// One live subscription; dropping it frees the slot.
#[derive(Debug)]
pub struct SubscriptionSlot(Arc<AtomicUsize>);

impl Subscriptions {
    pub fn new(max: usize) -> Self {
        Subscriptions {
            max,
            live: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn take(&self) -> Result<SubscriptionSlot, AppError> {
        let taken = self
            .live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < self.max).then_some(n + 1));
        match taken {
            Ok(_) => {
                metrics::gauge!("quotagraph_subscriptions").increment(1.0);
                Ok(SubscriptionSlot(self.live.clone()))
            }
            Err(_) => Err(AppError::RateLimited(format!(
                "this connection already has {} live subscriptions, the most allowed",
                self.max
            ))),
        }
    }
}

impl Drop for SubscriptionSlot {
    fn drop(&mut self) {
        metrics::gauge!("quotagraph_subscriptions").decrement(1.0);
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_given_back() {
        let connections = Connections::new(2);
        let key = Uuid::from_u128(1);
        let a = connections.open(key).expect("first");
        let _b = connections.open(key).expect("second");
        assert!(connections.open(key).is_err());
        assert!(connections.open(Uuid::from_u128(2)).is_ok(), "another key has its own");
        drop(a);
        assert!(connections.open(key).is_ok());

        let subscriptions = Subscriptions::new(1);
        let one = subscriptions.take().expect("first");
        assert!(subscriptions.take().is_err());
        drop(one);
        assert!(subscriptions.take().is_ok());
    }
}
