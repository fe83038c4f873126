//! Rules for usage that callers push in (docs/design.md §1, §6).
//!
//! A batch holds at most [`MAX_BATCH`] events. An event may be stamped at most
//! [`MAX_FUTURE_SECONDS`] ahead of the server's clock (clock skew), never later.
//! A job's first event names its process, folder and parent; later events of
//! the same job may repeat them and must agree.

use chrono::{DateTime, TimeDelta, Utc};
use std::fmt;

use super::ids::{FolderId, ProcessId};

/// The most events one `recordUsage` call may carry.
pub const MAX_BATCH: usize = 10_000;
/// The most runs one job chain may hold, root included: deeper chains are refused, since
/// attribution walks them as a tree.
pub const MAX_CHAIN_DEPTH: i32 = 64;
/// How far ahead of "now" an event's `occurredAt` may be.
pub const MAX_FUTURE_SECONDS: i64 = 300;
/// The longest idempotency key, job id or code accepted.
pub const MAX_KEY_LENGTH: usize = 200;

/// Whether an event counts toward quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UsageKind {
    /// Counts toward quota.
    Execution,
    /// Shown in activity, never counted.
    Upload,
}

impl UsageKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            UsageKind::Execution => "EXECUTION",
            UsageKind::Upload => "UPLOAD",
        }
    }
}

impl fmt::Display for UsageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for UsageKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "EXECUTION" => Ok(UsageKind::Execution),
            "UPLOAD" => Ok(UsageKind::Upload),
            other => Err(format!("unknown usage kind '{other}'")),
        }
    }
}

/// Refuses a time stamp further ahead of `now` than clock skew explains.
pub fn check_occurred_at(occurred_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    let latest = now + TimeDelta::seconds(MAX_FUTURE_SECONDS);
    if occurred_at > latest {
        return Err(format!(
            "{} is more than {} minutes ahead of the server's clock ({})",
            occurred_at.to_rfc3339(),
            MAX_FUTURE_SECONDS / 60,
            now.to_rfc3339()
        ));
    }
    Ok(())
}

/// Refuses a time stamp older than the raw events kept (`retention_days`): its key can no
/// longer be checked against the events recorded then, so a resend would count twice.
pub fn check_retained(occurred_at: DateTime<Utc>, now: DateTime<Utc>, retention_days: u32) -> Result<(), String> {
    let earliest = now - TimeDelta::days(i64::from(retention_days));
    if occurred_at < earliest {
        return Err(format!(
            "{} is older than the {retention_days} days of usage events kept: events from {} on are taken, \
             older ones can no longer be checked for duplicates",
            occurred_at.to_rfc3339(),
            earliest.to_rfc3339()
        ));
    }
    Ok(())
}

/// The last organization-local day whose raw events may go when those that occurred before
/// `now - retention_days` go: two days earlier than that instant's UTC date, since a local
/// day starts up to 14 hours before or 12 hours after the UTC one. Every event deleted is
/// then one [`check_retained`] refuses to take again.
pub fn last_pruned_day(now: DateTime<Utc>, retention_days: u32) -> chrono::NaiveDate {
    (now - TimeDelta::days(i64::from(retention_days))).date_naive() - chrono::Days::new(2)
}

/// Checks a caller-chosen key (idempotency key, job id): not empty, not too long.
pub fn check_key(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > MAX_KEY_LENGTH {
        return Err(format!("is longer than {MAX_KEY_LENGTH} characters"));
    }
    Ok(())
}

/// Checks a code (unit type, service): 1 to 64 of letters, digits, `-`, `_`, `.`.
pub fn check_code(text: &str) -> Result<(), String> {
    let valid = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "'{text}' is not a code: use 1 to 64 letters, digits, '-', '_' or '.'"
        ))
    }
}

/// What a job's events say about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobFacts {
    pub process: Option<ProcessId>,
    pub folder: Option<FolderId>,
    pub parent: Option<String>,
}

/// Compares a later event's job fields with what the job's first event recorded;
/// returns the name of the first field that disagrees.
pub fn job_disagreement(recorded: &JobFacts, given: &JobFacts) -> Option<&'static str> {
    if given.process.is_some() && given.process != recorded.process {
        return Some("processId");
    }
    if given.folder.is_some() && given.folder != recorded.folder {
        return Some("folderId");
    }
    if given.parent.is_some() && given.parent != recorded.parent {
        return Some("parentJobId");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_a_retention_an_event_older_than_it_is_refused() {
        let now: DateTime<Utc> = "2027-01-10T12:00:00Z".parse().unwrap();
        let cases = [
            ("2026-12-11T12:00:00Z", true),
            ("2026-12-11T11:59:59Z", false),
            ("2027-01-10T12:00:00Z", true),
            ("2025-01-01T00:00:00Z", false),
        ];
        for (at, taken) in cases {
            let at: DateTime<Utc> = at.parse().unwrap();
            assert_eq!(check_retained(at, now, 30).is_ok(), taken, "{at}");
        }
    }

    #[test]
    fn the_days_pruned_end_two_days_before_the_retention_starts() {
        let now: DateTime<Utc> = "2027-01-10T12:00:00Z".parse().unwrap();
        assert_eq!(
            last_pruned_day(now, 30),
            chrono::NaiveDate::from_ymd_opt(2026, 12, 9).unwrap()
        );
        // The latest instant of that day anywhere on earth (UTC-12) is before the retention starts.
        let latest_end = "2026-12-10T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert!(check_retained(latest_end - TimeDelta::seconds(1), now, 30).is_err());
    }

    #[test]
    fn occurred_at_may_be_at_most_five_minutes_ahead() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().to_utc();
        assert!(check_occurred_at(now, now).is_ok());
        assert!(check_occurred_at(now + TimeDelta::seconds(300), now).is_ok());
        assert!(check_occurred_at(now + TimeDelta::seconds(301), now).is_err());
        assert!(check_occurred_at(now - TimeDelta::days(400), now).is_ok());
    }

    #[test]
    fn codes_and_keys() {
        assert!(check_code("test-executions").is_ok());
        assert!(check_code("Orchestrator.v2_x").is_ok());
        assert!(check_code("").is_err());
        assert!(check_code("has space").is_err());
        assert!(check_code(&"a".repeat(65)).is_err());
        assert!(check_key("k-1").is_ok());
        assert!(check_key("  ").is_err());
        assert!(check_key(&"k".repeat(201)).is_err());
    }

    #[test]
    fn later_events_must_agree_with_the_first() {
        let process = ProcessId::new();
        let recorded = JobFacts {
            process: Some(process),
            folder: None,
            parent: Some("p".into()),
        };
        assert_eq!(job_disagreement(&recorded, &JobFacts::default()), None);
        assert_eq!(job_disagreement(&recorded, &recorded.clone()), None);
        let other = JobFacts {
            process: Some(ProcessId::new()),
            ..JobFacts::default()
        };
        assert_eq!(job_disagreement(&recorded, &other), Some("processId"));
        let parent = JobFacts {
            parent: Some("q".into()),
            ..JobFacts::default()
        };
        assert_eq!(job_disagreement(&recorded, &parent), Some("parentJobId"));
    }
}
