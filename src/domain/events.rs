//! What a change of figures means for subscribers (docs/design.md §7): which alerts a scope
//! (the organization, or one tenant) has reached and whether its status moved. Alerts
//! are level-triggered: the watcher sends each one the first time it sees it reached in
//! a bundle, so concurrent writers can neither miss a crossing nor send it twice.

use super::{Quantity, admission::crossed};

/// The kinds of quota event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuotaEventKind {
    UsageRecorded,
    ThresholdCrossed,
    StatusChanged,
    AllocationChanged,
    QuotaExhausted,
    AdmissionRefused,
    PeriodRolledOver,
    LicenseExpiring,
}

impl QuotaEventKind {
    pub const ALL: [QuotaEventKind; 8] = [
        QuotaEventKind::UsageRecorded,
        QuotaEventKind::ThresholdCrossed,
        QuotaEventKind::StatusChanged,
        QuotaEventKind::AllocationChanged,
        QuotaEventKind::QuotaExhausted,
        QuotaEventKind::AdmissionRefused,
        QuotaEventKind::PeriodRolledOver,
        QuotaEventKind::LicenseExpiring,
    ];

    /// The kind as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaEventKind::UsageRecorded => "USAGE_RECORDED",
            QuotaEventKind::ThresholdCrossed => "THRESHOLD_CROSSED",
            QuotaEventKind::StatusChanged => "STATUS_CHANGED",
            QuotaEventKind::AllocationChanged => "ALLOCATION_CHANGED",
            QuotaEventKind::QuotaExhausted => "QUOTA_EXHAUSTED",
            QuotaEventKind::AdmissionRefused => "ADMISSION_REFUSED",
            QuotaEventKind::PeriodRolledOver => "PERIOD_ROLLED_OVER",
            QuotaEventKind::LicenseExpiring => "LICENSE_EXPIRING",
        }
    }

    /// Whether events of this kind are stored (docs/design.md §15.4): every kind but the
    /// coalesced USAGE_RECORDED, which only lives on the wire.
    pub fn is_stored(self) -> bool {
        self != QuotaEventKind::UsageRecorded
    }
}

/// One scope's state after a change.
#[derive(Clone, Debug, PartialEq)]
pub struct ScopeState {
    /// Its status now, and at the start of the bundle (before any consumption).
    pub status: &'static str,
    pub initial_status: &'static str,
    /// Consumption to date, and what thresholds are fractions of (capacity, or the
    /// tenant's allocation; `None`: no thresholds apply).
    pub consumed: Quantity,
    pub base: Option<Quantity>,
    pub thresholds: Vec<f64>,
    /// Whether nothing is left under its limit (the organization's limit, or the
    /// tenant's allocation).
    pub exhausted: bool,
}

/// What to announce for a scope, given the last status the watcher recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Announcements {
    /// Every threshold reached (the watcher sends those it has not sent this bundle).
    pub thresholds: Vec<f64>,
    pub exhausted: bool,
    /// `(from, to)` when the status moved.
    pub status_change: Option<(String, String)>,
}

pub fn announcements(state: &ScopeState, recorded_status: Option<&str>) -> Announcements {
    let thresholds = match state.base {
        Some(base) => crossed(&state.thresholds, Quantity::ZERO, state.consumed, base),
        None => Vec::new(),
    };
    let previous = recorded_status.unwrap_or(state.initial_status);
    Announcements {
        thresholds,
        exhausted: state.exhausted,
        status_change: (previous != state.status).then(|| (previous.to_owned(), state.status.to_owned())),
    }
}

/// The license-expiry notice due `days_left` days before its end: the nearest of 30, 15
/// and 7 days that has been reached (earlier ones are skipped, not sent late).
pub fn expiry_notice(days_left: i64) -> Option<i64> {
    [7, 15, 30].into_iter().find(|d| (0..=*d).contains(&days_left))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: &'static str, consumed: i64, base: Option<i64>, exhausted: bool) -> ScopeState {
        ScopeState {
            status,
            initial_status: "HEALTHY",
            consumed: Quantity::from_units(consumed),
            base: base.map(Quantity::from_units),
            thresholds: vec![0.7, 0.9, 1.0],
            exhausted,
        }
    }

    #[test]
    fn announcements_table() {
        // (state, recorded status) → (thresholds reached, exhausted, status change)
        let cases = [
            (state("HEALTHY", 10, Some(100), false), None, (vec![], false, None)),
            (
                state("WARNING", 70, Some(100), false),
                None,
                (vec![0.7], false, Some(("HEALTHY", "WARNING"))),
            ),
            (
                state("WARNING", 75, Some(100), false),
                Some("WARNING"),
                (vec![0.7], false, None),
            ),
            (
                state("CRITICAL", 100, Some(100), true),
                Some("WARNING"),
                (vec![0.7, 0.9, 1.0], true, Some(("WARNING", "CRITICAL"))),
            ),
            (
                state("WARNING", 5, None, false),
                Some("HEALTHY"),
                (vec![], false, Some(("HEALTHY", "WARNING"))),
            ),
            (
                state("DISABLED", 0, Some(100), false),
                None,
                (vec![], false, Some(("HEALTHY", "DISABLED"))),
            ),
        ];
        for (state, recorded, (thresholds, exhausted, change)) in cases {
            let got = announcements(&state, recorded);
            assert_eq!(got.thresholds, thresholds, "{state:?}");
            assert_eq!(got.exhausted, exhausted);
            assert_eq!(
                got.status_change,
                change.map(|(a, b): (&str, &str)| (a.to_owned(), b.to_owned()))
            );
        }
    }

    #[test]
    fn expiry_notices_at_30_15_and_7_days() {
        let cases = [
            (31, None),
            (30, Some(30)),
            (16, Some(30)),
            (15, Some(15)),
            (8, Some(15)),
            (7, Some(7)),
            (0, Some(7)),
            (-1, None),
        ];
        for (days, notice) in cases {
            assert_eq!(expiry_notice(days), notice, "{days}");
        }
    }
}
