//! The one clock every rule reads. `QUOTAGRAPH_CLOCK` pins it (tests, demos).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// Where "now" comes from.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    System,
    /// Always this instant.
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => *at,
        }
    }

    /// Today's date in a time zone.
    pub fn today_in(&self, zone: Tz) -> NaiveDate {
        self.now().with_timezone(&zone).date_naive()
    }
}
