//! Analytics (docs/design.md §5): consumption over time, by service, and weekly activity.
//! Calendar days are the organization's; weeks are ISO weeks (Monday first).

use chrono::{Datelike, Days, Months, NaiveDate};

use super::Quantity;

/// The width of a distribution bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "DAY",
            Granularity::Week => "WEEK",
            Granularity::Month => "MONTH",
        }
    }

    /// The first day of the bucket holding `day`.
    fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Granularity::Day => day,
            Granularity::Week => week_start(day),
            Granularity::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day of the bucket after the one starting on `start`.
    fn next(self, start: NaiveDate) -> NaiveDate {
        let next = match self {
            Granularity::Day => start.checked_add_days(Days::new(1)),
            Granularity::Week => start.checked_add_days(Days::new(7)),
            Granularity::Month => start.checked_add_months(Months::new(1)),
        };
        next.unwrap_or(NaiveDate::MAX)
    }
}

/// The Monday of `day`'s ISO week.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// Consumption over `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub consumed: Quantity,
}

/// Every bucket of the days `from..=to`, empty ones with 0. The first and last buckets are
/// cut to the range, so each bucket's figure covers exactly its `[start, end)`.
/// `daily` holds consumption per day; days outside the range are ignored.
pub fn distribution(
    granularity: Granularity,
    from: NaiveDate,
    to: NaiveDate,
    daily: &[(NaiveDate, Quantity)],
) -> Vec<Bucket> {
    let mut buckets = Vec::new();
    if from > to {
        return buckets;
    }
    let until = to.succ_opt().unwrap_or(to);
    let mut start = from;
    while start < until {
        let end = granularity.next(granularity.start_of(start)).min(until);
        buckets.push(Bucket {
            start,
            end,
            consumed: Quantity::ZERO,
        });
        start = end;
    }
    for (day, quantity) in daily {
        if *day < from || *day > to {
            continue;
        }
        // Buckets are sorted and contiguous: find the last one starting on or before `day`.
        let index = buckets.partition_point(|b| b.start <= *day) - 1;
        buckets[index].consumed += *quantity;
    }
    buckets
}

/// One service's share of the consumption.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceShare<S> {
    pub service: S,
    pub consumed: Quantity,
    /// Fraction of the total, from 0 to 1; 0 when the total is 0.
    pub share: f64,
}

impl<S> ServiceShare<S> {
    /// The share in percent.
    pub fn percent(&self) -> f64 {
        self.share * 100.0
    }
}

/// Consumption by service: the total, and every service largest first (ties in the
/// order given).
pub fn by_service<S: Clone + PartialEq>(rows: &[(S, Quantity)]) -> (Quantity, Vec<ServiceShare<S>>) {
    let mut merged: Vec<(S, Quantity)> = Vec::new();
    for (service, quantity) in rows {
        match merged.iter_mut().find(|(s, _)| s == service) {
            Some((_, total)) => *total += *quantity,
            None => merged.push((service.clone(), *quantity)),
        }
    }
    let total: Quantity = merged.iter().map(|(_, q)| *q).sum();
    let mut shares: Vec<ServiceShare<S>> = merged
        .into_iter()
        .map(|(service, consumed)| ServiceShare {
            service,
            consumed,
            share: consumed.ratio(total).unwrap_or(0.0),
        })
        .collect();
    shares.sort_by_key(|s| std::cmp::Reverse(s.consumed));
    (total, shares)
}

/// One day's activity: what its events (EXECUTION and UPLOAD) count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayActivity {
    pub day: NaiveDate,
    /// Events.
    pub runs: i64,
    /// Tests: the quantities of EXECUTION and UPLOAD events (tests run here or uploaded).
    pub executions: Quantity,
    /// The quantities of UPLOAD events.
    pub uploads: Quantity,
    pub duration_ms: i64,
}

impl DayActivity {
    /// What one kind of event added to a day: `events` of them, of `quantity` in all.
    pub fn of(day: NaiveDate, upload: bool, events: i64, quantity: Quantity, duration_ms: i64) -> DayActivity {
        DayActivity {
            day,
            runs: events,
            executions: quantity,
            uploads: if upload { quantity } else { Quantity::ZERO },
            duration_ms,
        }
    }
}

/// One week's activity (Monday to Sunday): its runs, tests and their total duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeekActivity {
    pub week_start: NaiveDate,
    pub runs: i64,
    pub executions: Quantity,
    pub uploads: Quantity,
    pub duration_ms: i64,
}

/// The most weeks an activity query covers (ten years).
pub const MAX_WEEKS: u32 = 520;

/// The first day an activity query for `weeks` weeks up to `today` needs: the Monday of
/// the first week shown, or of the preceding week when only the current one is shown.
pub fn activity_start(today: NaiveDate, weeks: u32) -> NaiveDate {
    week_start(today) - Days::new(7 * u64::from(weeks.max(2) - 1))
}

/// The last `weeks` weeks up to the one holding `today` (oldest first), and the preceding
/// week: the last complete week before the one holding `today` (for today's page, last
/// week), from per-day figures.
pub fn activity(today: NaiveDate, weeks: u32, days: &[DayActivity]) -> (Vec<WeekActivity>, WeekActivity) {
    let first = activity_start(today, weeks);
    let count = (week_start(today) - first).num_days() / 7 + 1;
    let mut all: Vec<WeekActivity> = (0..u64::try_from(count).unwrap_or(0))
        .map(|k| WeekActivity {
            week_start: first + Days::new(7 * k),
            runs: 0,
            executions: Quantity::ZERO,
            uploads: Quantity::ZERO,
            duration_ms: 0,
        })
        .collect();
    for day in days {
        if day.day < first {
            continue;
        }
        let Ok(index) = usize::try_from((day.day - first).num_days() / 7) else {
            continue;
        };
        if let Some(week) = all.get_mut(index) {
            week.runs += day.runs;
            week.executions += day.executions;
            week.uploads += day.uploads;
            week.duration_ms += day.duration_ms;
        }
    }
    let preceding = all[all.len().saturating_sub(2)];
    let shown = all.split_off(all.len().saturating_sub(usize::try_from(weeks).unwrap_or(usize::MAX)));
    (shown, preceding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn q(units: i64) -> Quantity {
        Quantity::from_units(units)
    }

    #[test]
    fn buckets_cover_the_range_and_are_cut_to_it() {
        // 2026-11-05 is a Thursday.
        type Case = (
            Granularity,
            &'static str,
            &'static str,
            Vec<(&'static str, &'static str)>,
        );
        let cases: [Case; 4] = [
            (
                Granularity::Day,
                "2026-11-05",
                "2026-11-07",
                vec![
                    ("2026-11-05", "2026-11-06"),
                    ("2026-11-06", "2026-11-07"),
                    ("2026-11-07", "2026-11-08"),
                ],
            ),
            (
                Granularity::Week,
                "2026-11-05",
                "2026-11-17",
                vec![
                    ("2026-11-05", "2026-11-09"),
                    ("2026-11-09", "2026-11-16"),
                    ("2026-11-16", "2026-11-18"),
                ],
            ),
            (
                Granularity::Month,
                "2026-01-31",
                "2026-03-02",
                vec![
                    ("2026-01-31", "2026-02-01"),
                    ("2026-02-01", "2026-03-01"),
                    ("2026-03-01", "2026-03-03"),
                ],
            ),
            (
                Granularity::Week,
                "2026-11-09",
                "2026-11-15",
                vec![("2026-11-09", "2026-11-16")],
            ),
        ];
        for (granularity, from, to, expected) in cases {
            let got: Vec<(NaiveDate, NaiveDate)> = distribution(granularity, d(from), d(to), &[])
                .iter()
                .map(|b| (b.start, b.end))
                .collect();
            let expected: Vec<(NaiveDate, NaiveDate)> = expected.iter().map(|(s, e)| (d(s), d(e))).collect();
            assert_eq!(got, expected, "{granularity:?} {from}..{to}");
        }
    }

    #[test]
    fn buckets_sum_their_days_and_keep_empty_ones() {
        let daily = [
            (d("2026-11-01"), q(100)),
            (d("2026-11-02"), q(1)),
            (d("2026-11-08"), q(2)),
            (d("2026-11-09"), q(3)),
            (d("2026-11-30"), q(4)),
            (d("2026-12-01"), q(100)),
        ];
        let buckets = distribution(Granularity::Week, d("2026-11-02"), d("2026-11-30"), &daily);
        let sums: Vec<Quantity> = buckets.iter().map(|b| b.consumed).collect();
        assert_eq!(sums, vec![q(3), q(3), q(0), q(0), q(4)]);
    }

    #[test]
    fn services_share_the_total() {
        let (total, shares) = by_service(&[("a", q(1)), ("b", q(3)), ("a", q(0)), ("c", q(0))]);
        assert_eq!(total, q(4));
        let rows: Vec<(&str, Quantity, f64)> = shares.iter().map(|s| (s.service, s.consumed, s.percent())).collect();
        assert_eq!(rows, vec![("b", q(3), 75.0), ("a", q(1), 25.0), ("c", q(0), 0.0)]);
        let (total, shares) = by_service::<&str>(&[]);
        assert_eq!((total, shares.len()), (Quantity::ZERO, 0));
    }

    #[test]
    fn activity_counts_tests_by_quantity_and_runs_by_event() {
        // Today is Monday 2026-11-23; three weeks shown: from 11-09, 11-16 and 11-23.
        let days = [
            DayActivity::of(d("2026-11-08"), false, 50, q(50), 50),
            DayActivity::of(d("2026-11-09"), false, 1, q(5), 3_000),
            DayActivity::of(d("2026-11-09"), true, 2, q(7), 0),
            DayActivity::of(d("2026-11-15"), false, 1, q(1), 500),
            DayActivity::of(d("2026-11-16"), false, 4, q(4), 1_000),
            DayActivity::of(d("2026-11-16"), true, 1, q(3), 0),
            DayActivity::of(d("2026-11-23"), false, 2, q(2), 250),
        ];
        let (weeks, preceding) = activity(d("2026-11-23"), 3, &days);
        let rows: Vec<(NaiveDate, i64, Quantity, Quantity, i64)> = weeks
            .iter()
            .map(|w| (w.week_start, w.runs, w.executions, w.uploads, w.duration_ms))
            .collect();
        assert_eq!(
            rows,
            vec![
                (d("2026-11-09"), 4, q(13), q(7), 3_500),
                (d("2026-11-16"), 5, q(7), q(3), 1_000),
                (d("2026-11-23"), 2, q(2), q(0), 250),
            ]
        );
        // The preceding week is last week, whatever the number of weeks shown.
        assert_eq!(preceding, weeks[1]);
    }

    #[test]
    fn the_preceding_week_is_the_complete_week_before_the_one_holding_today() {
        let days = [
            DayActivity::of(d("2026-11-16"), false, 3, q(30), 0),
            DayActivity::of(d("2026-11-22"), false, 1, q(1), 0),
            DayActivity::of(d("2026-11-23"), false, 9, q(9), 0),
        ];
        // A Wednesday: the week before runs from Monday 11-16 to Sunday 11-22.
        for weeks in [1, 2, 12] {
            let (shown, preceding) = activity(d("2026-11-25"), weeks, &days);
            assert_eq!(preceding.week_start, d("2026-11-16"), "{weeks} weeks");
            assert_eq!((preceding.runs, preceding.executions), (4, q(31)), "{weeks} weeks");
            assert_eq!(shown.len(), weeks as usize);
            assert_eq!(shown.last().map(|w| w.week_start), Some(d("2026-11-23")));
        }
    }
}
