//! Consumption over time, by service, and weekly activity (docs/design.md §5).

use async_graphql::{Enum, Object, SimpleObject};

use super::scalars::{Date, Decimal};
use crate::domain::{
    Quantity,
    analytics::{Bucket, ServiceShare, WeekActivity},
};

/// The width of a distribution bucket, in the organization's time zone.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::analytics::Granularity")]
pub enum Granularity {
    /// One calendar day.
    Day,
    /// One ISO week, Monday first.
    Week,
    /// One calendar month.
    Month,
}

/// Consumption over `[start, end)`.
pub struct UsageBucket(pub Bucket);

#[Object]
impl UsageBucket {
    /// First day.
    async fn start(&self) -> Date {
        Date(self.0.start)
    }

    /// First day after the bucket (exclusive).
    async fn end(&self) -> Date {
        Date(self.0.end)
    }

    /// EXECUTION consumption in the bucket.
    async fn consumed(&self) -> Decimal {
        self.0.consumed.into()
    }
}

/// A product surface that consumes (created on first use).
pub struct Service(pub entity::service::Model);

#[Object]
impl Service {
    /// The code events name it by.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
}

/// One service's share of the consumption.
pub struct ServiceUsage(ServiceShare<entity::service::Model>);

#[Object]
impl ServiceUsage {
    /// The service.
    async fn service(&self) -> Service {
        Service(self.0.service.clone())
    }

    /// Its EXECUTION consumption.
    async fn consumed(&self) -> Decimal {
        self.0.consumed.into()
    }

    /// Its share of the total, a fraction from 0 to 1 (0 when the total is 0).
    async fn share(&self) -> f64 {
        self.0.share
    }

    /// Its percent of the total (0 when the total is 0).
    #[graphql(deprecation = "every ratio is a fraction: use `share` (0 to 1)")]
    async fn percent(&self) -> f64 {
        self.0.percent()
    }
}

/// Consumption by service, largest first.
pub struct ServiceBreakdown {
    pub total: Quantity,
    pub services: Vec<ServiceShare<entity::service::Model>>,
}

#[Object]
impl ServiceBreakdown {
    /// Every service's consumption together.
    async fn total(&self) -> Decimal {
        self.total.into()
    }

    /// Each service that consumed in the range.
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn services(&self) -> Vec<ServiceUsage> {
        self.services.iter().cloned().map(ServiceUsage).collect()
    }
}

/// One week's tests (Monday to Sunday): what its EXECUTION and UPLOAD events count.
#[derive(SimpleObject)]
pub struct WeeklyActivity {
    /// The week's Monday.
    pub week_start: Date,
    /// Runs: the number of events, EXECUTION and UPLOAD.
    pub runs: i32,
    /// Tests run here or uploaded: the quantities of EXECUTION and UPLOAD events.
    pub executions: Decimal,
    /// Tests uploaded: the quantities of UPLOAD events.
    pub uploads: Decimal,
    /// Total duration of the runs, in seconds.
    pub duration_seconds: f64,
}

impl From<WeekActivity> for WeeklyActivity {
    fn from(w: WeekActivity) -> Self {
        WeeklyActivity {
            week_start: Date(w.week_start),
            runs: i32::try_from(w.runs).unwrap_or(i32::MAX),
            executions: w.executions.into(),
            uploads: w.uploads.into(),
            // Durations are whole milliseconds: far below f64's exact-integer range.
            duration_seconds: w.duration_ms as f64 / 1000.0,
        }
    }
}

/// Weekly activity: the last weeks up to the current one, oldest first, and the preceding
/// week: the last complete week before the current one (last week).
#[derive(SimpleObject)]
pub struct Activity {
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    pub weeks: Vec<WeeklyActivity>,
    pub preceding_week: WeeklyActivity,
}
