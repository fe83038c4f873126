//! The one clock every rule reads. `QUOTAGRAPH_CLOCK` pins it (tests, demos); a pinned
//! clock stands still until it is moved (tests move it across a period boundary).

use std::sync::{Arc, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// Where "now" comes from.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    /// This instant, until moved.
    Pinned(Arc<RwLock<DateTime<Utc>>>),
}

impl Clock {
    pub fn pinned(at: DateTime<Utc>) -> Clock {
        Clock::Pinned(Arc::new(RwLock::new(at)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Pinned(at) => *at.read().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Moves a pinned clock; the system clock cannot be moved (false).
    pub fn set(&self, to: DateTime<Utc>) -> bool {
        match self {
            Clock::System => false,
            Clock::Pinned(at) => {
                *at.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
                true
            }
        }
    }

    /// Today's date in a time zone.
    pub fn today_in(&self, zone: Tz) -> NaiveDate {
        self.now().with_timezone(&zone).date_naive()
    }
}
