//! Which rollup rows answer a range of days. Consumption is kept per day and, for the
//! sums a bundle needs, per calendar month too: a range reads its whole months from the
//! monthly rows and only the days outside them from the daily ones, so a bundle to date
//! costs a row per tenant and month instead of one per tenant, day and service.

use chrono::{Datelike, Months, NaiveDate};

/// The first day of the month `day` falls in: the key of its monthly rollup row.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), day.month(), 1).unwrap_or(day)
}

/// A range of days `[from, until)` cut into the whole calendar months it covers and the
/// days before and after them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// `[first, end)` over month keys (first days of months), when the range covers at
    /// least one whole month.
    pub months: Option<(NaiveDate, NaiveDate)>,
    /// The remaining days, as at most two half-open ranges.
    pub days: Vec<(NaiveDate, NaiveDate)>,
}

/// Splits `[from, until)`; an empty range (`from >= until`) gives an empty split.
pub fn split(from: NaiveDate, until: NaiveDate) -> Split {
    if from >= until {
        return Split::default();
    }
    let first = if from.day() == 1 {
        from
    } else {
        month_of(from).checked_add_months(Months::new(1)).unwrap_or(until)
    };
    let end = month_of(until);
    if first >= end {
        return Split {
            months: None,
            days: vec![(from, until)],
        };
    }
    let days = [(from, first), (end, until)]
        .into_iter()
        .filter(|(a, b)| a < b)
        .collect();
    Split {
        months: Some((first, end)),
        days,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a test date")
    }

    fn pair(a: &str, b: &str) -> (NaiveDate, NaiveDate) {
        (date(a), date(b))
    }

    /// from, until, the whole months, the edge days.
    type Case = (
        &'static str,
        &'static str,
        Option<(&'static str, &'static str)>,
        &'static [(&'static str, &'static str)],
    );

    #[test]
    fn splits_ranges_into_whole_months_and_edge_days() {
        let cases: [Case; 8] = [
            // A quarter starting on the 1st: months only.
            ("2026-09-01", "2026-12-01", Some(("2026-09-01", "2026-12-01")), &[]),
            // A bundle to date in the middle of its third month.
            (
                "2026-09-01",
                "2026-11-16",
                Some(("2026-09-01", "2026-11-01")),
                &[("2026-11-01", "2026-11-16")],
            ),
            // A bundle starting mid-month: days on both sides.
            (
                "2026-01-15",
                "2026-04-15",
                Some(("2026-02-01", "2026-04-01")),
                &[("2026-01-15", "2026-02-01"), ("2026-04-01", "2026-04-15")],
            ),
            // Inside one month: days only.
            ("2026-03-02", "2026-03-30", None, &[("2026-03-02", "2026-03-30")]),
            // Across a month boundary without a whole month.
            ("2026-03-20", "2026-04-10", None, &[("2026-03-20", "2026-04-10")]),
            // Exactly one month.
            ("2026-02-01", "2026-03-01", Some(("2026-02-01", "2026-03-01")), &[]),
            // One day.
            ("2026-02-28", "2026-03-01", None, &[("2026-02-28", "2026-03-01")]),
            // Empty.
            ("2026-02-28", "2026-02-28", None, &[]),
        ];
        for (from, until, months, days) in cases {
            let expected = Split {
                months: months.map(|(a, b)| pair(a, b)),
                days: days.iter().map(|(a, b)| pair(a, b)).collect(),
            };
            assert_eq!(split(date(from), date(until)), expected, "{from}..{until}");
        }
    }

    fn day() -> impl Strategy<Value = NaiveDate> {
        (0i64..3 * 366).prop_map(|n| date("2025-12-15") + chrono::Duration::days(n))
    }

    proptest! {
        /// Every day of the range is read exactly once, from a month row or a day row,
        /// and nothing outside it is.
        #[test]
        fn every_day_is_read_once(from in day(), until in day()) {
            let split = split(from, until);
            let mut d = date("2025-12-01");
            while d < date("2029-02-01") {
                let by_month = split.months.is_some_and(|(a, b)| a <= month_of(d) && month_of(d) < b);
                let by_day = split.days.iter().filter(|(a, b)| *a <= d && d < *b).count();
                let inside = from <= d && d < until;
                prop_assert_eq!(usize::from(by_month) + by_day, usize::from(inside), "{}", d);
                d = d.succ_opt().expect("a next day");
            }
            if let Some((a, b)) = split.months {
                prop_assert!(a < b && a.day() == 1 && b.day() == 1);
            }
        }
    }
}
