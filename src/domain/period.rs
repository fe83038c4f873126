//! License periods and bundles (docs/design.md §2).
//!
//! A license's periods start on its start date and repeat every month or
//! year; a `TERM` license has one period from its start to its end. Period k
//! of a monthly license starting on day d begins on day d of month k, clamped
//! to that month's last day, and is computed from the start date each time
//! (Jan 31 → Feb 28/29 → Mar 31), never from the previous period's start; a
//! yearly license starting on Feb 29 begins on Feb 28 in common years.
//!
//! A bundle is one period as a half-open range of calendar days
//! `[start, end)` in the organization's time zone. `ends_on` is exclusive too:
//! the first day the license no longer covers, so an upgrade ends the old
//! license and starts the new one on the same day. A bundle cut short by
//! `ends_on` keeps its full capacity (no proration). During the first
//! `burst_periods` bundles the limit is `capacity × burst_percent / 100`.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};

use super::quantity::Quantity;

/// How long one period of a license lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    /// Calendar months from the start day.
    Month,
    /// Calendar years from the start day.
    Year,
    /// One fixed term from `starts_on` to `ends_on`.
    Term,
}

impl Period {
    /// The stored and exported spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Period::Month => "MONTH",
            Period::Year => "YEAR",
            Period::Term => "TERM",
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "MONTH" => Ok(Period::Month),
            "YEAR" => Ok(Period::Year),
            "TERM" => Ok(Period::Term),
            other => Err(PeriodError::UnknownPeriod(other.to_owned())),
        }
    }
}

/// Why license terms are not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("unknown period '{0}' (expected MONTH, YEAR or TERM)")]
    UnknownPeriod(String),
    #[error("a TERM license needs an end date (endsOn)")]
    TermWithoutEnd,
    #[error("the end date {ends_on} must be after the start date {starts_on}")]
    EndNotAfterStart { starts_on: NaiveDate, ends_on: NaiveDate },
    #[error("the burst percent {0} must be between 100 and 1000")]
    BurstPercentOutOfRange(u32),
    #[error("the capacity {0} must not be negative")]
    NegativeCapacity(Quantity),
}

/// The calendar terms of one license: what its bundles are and their limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LicenseTerms {
    pub period: Period,
    /// The first day covered.
    pub starts_on: NaiveDate,
    /// The first day no longer covered (exclusive); required for `TERM`.
    pub ends_on: Option<NaiveDate>,
    /// Units per period.
    pub capacity: Quantity,
    /// The limit during the burst periods, in percent of the capacity (100 = no burst).
    pub burst_percent: u32,
    /// How many periods, from the first, the burst applies to.
    pub burst_periods: u32,
}

/// One period of a license: the days `[start, end)` and their capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bundle {
    /// The period's number, 0 for the first.
    pub index: u32,
    /// The first day of the bundle.
    pub start: NaiveDate,
    /// The first day after the bundle (exclusive).
    pub end: NaiveDate,
    /// Units for this bundle: the license's capacity, even when cut short, with
    /// the top-ups made in this bundle or an earlier one.
    pub capacity: Quantity,
}

/// Capacity bought on top of a license's: from the bundle holding `effective_on` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopUp {
    pub effective_on: NaiveDate,
    pub amount: Quantity,
}

impl Bundle {
    /// Whether `day` falls inside `[start, end)`.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day < self.end
    }

    /// The last day of the bundle (inclusive), the default `to` of a range.
    pub fn last_day(&self) -> NaiveDate {
        self.end.pred_opt().unwrap_or(self.start)
    }

    /// The bundle with the top-ups that reach it: those effective before its end.
    pub fn topped_up(self, top_ups: &[TopUp]) -> Bundle {
        let more = top_ups
            .iter()
            .filter(|top_up| top_up.effective_on < self.end)
            .fold(Quantity::ZERO, |sum, top_up| sum + top_up.amount);
        Bundle {
            capacity: self.capacity + more,
            ..self
        }
    }
}

impl LicenseTerms {
    /// Checks the terms a caller sent.
    pub fn validate(&self) -> Result<(), PeriodError> {
        if self.period == Period::Term && self.ends_on.is_none() {
            return Err(PeriodError::TermWithoutEnd);
        }
        if let Some(ends_on) = self.ends_on
            && ends_on <= self.starts_on
        {
            return Err(PeriodError::EndNotAfterStart {
                starts_on: self.starts_on,
                ends_on,
            });
        }
        if !(100..=1000).contains(&self.burst_percent) {
            return Err(PeriodError::BurstPercentOutOfRange(self.burst_percent));
        }
        if self.capacity.is_negative() {
            return Err(PeriodError::NegativeCapacity(self.capacity));
        }
        Ok(())
    }

    /// The start of period `k` on the calendar, whether or not the license
    /// has ended by then; `None` past chrono's range, and for `k > 0` of a `TERM`.
    pub fn period_start(&self, k: u32) -> Option<NaiveDate> {
        // `checked_add_months` clamps the day to the target month's last day,
        // and adding to `starts_on` (not to the previous start) keeps day d.
        match self.period {
            Period::Month => self.starts_on.checked_add_months(Months::new(k)),
            Period::Year => self.starts_on.checked_add_months(Months::new(k.checked_mul(12)?)),
            Period::Term => (k == 0).then_some(self.starts_on),
        }
    }

    /// The bundle that contains `day`: `None` before `starts_on`, on or after
    /// `ends_on`, and for invalid terms.
    pub fn bundle_containing(&self, day: NaiveDate) -> Option<Bundle> {
        if day < self.starts_on || self.ends_on.is_some_and(|end| day >= end) {
            return None;
        }
        // The period that starts in day's month (or year) is k or k + 1, so
        // one step back at most: no walk from period 0.
        let months = (day.year() - self.starts_on.year()) * 12 + day.month() as i32 - self.starts_on.month() as i32;
        let estimate = match self.period {
            Period::Month => months,
            Period::Year => months.div_euclid(12),
            Period::Term => 0,
        };
        let mut k = u32::try_from(estimate).ok()?;
        if self.period_start(k)? > day {
            k = k.checked_sub(1)?;
        }
        self.bundle(k)
    }

    /// Every bundle that has started by `today`, newest first: the current
    /// one, then the closed ones; a license that has ended lists all of them.
    pub fn bundles_until(&self, today: NaiveDate) -> Vec<Bundle> {
        let newest = match self.bundle_containing(today) {
            Some(bundle) => Some(bundle),
            None => match self.ends_on {
                Some(end) if today >= end => end.pred_opt().and_then(|last_day| self.bundle_containing(last_day)),
                _ => None,
            },
        };
        let Some(newest) = newest else {
            return Vec::new();
        };
        let mut bundles = Vec::with_capacity(newest.index as usize + 1);
        bundles.push(newest);
        bundles.extend((0..newest.index).rev().filter_map(|k| self.bundle(k)));
        bundles
    }

    /// The bundle whose first day is exactly `start` (how a client names one).
    pub fn bundle_starting(&self, start: NaiveDate) -> Option<Bundle> {
        self.bundle_containing(start).filter(|bundle| bundle.start == start)
    }

    /// Whether the burst allowance raises the limit of `bundle`.
    pub fn burst_active(&self, bundle: &Bundle) -> bool {
        bundle.index < self.burst_periods && self.burst_percent != 100
    }

    /// The enforced limit of `bundle`: its capacity (top-ups included), raised by
    /// the burst percent during the burst periods (rounded down to 4 decimal places).
    pub fn limit(&self, bundle: &Bundle) -> Quantity {
        if bundle.index < self.burst_periods {
            bundle.capacity.percent_of(i64::from(self.burst_percent))
        } else {
            bundle.capacity
        }
    }

    /// Bundle `k`, ending at the next period's start or at `ends_on`,
    /// whichever comes first; `None` when it starts on or after `ends_on`.
    fn bundle(&self, k: u32) -> Option<Bundle> {
        let start = self.period_start(k)?;
        if self.ends_on.is_some_and(|end| start >= end) {
            return None;
        }
        let next = k.checked_add(1).and_then(|next| self.period_start(next));
        let end = match (next, self.ends_on) {
            (Some(next), Some(end)) => next.min(end),
            (Some(next), None) => next,
            (None, Some(end)) => end,
            // A TERM without an end has no bundle (validate refuses it).
            (None, None) => return None,
        };
        Some(Bundle {
            index: k,
            start,
            end,
            capacity: self.capacity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a test date")
    }

    fn terms(period: Period, starts_on: &str, ends_on: Option<&str>) -> LicenseTerms {
        LicenseTerms {
            period,
            starts_on: date(starts_on),
            ends_on: ends_on.map(date),
            capacity: Quantity::from_units(1000),
            burst_percent: 100,
            burst_periods: 0,
        }
    }

    #[test]
    fn period_names_round_trip() {
        for period in [Period::Month, Period::Year, Period::Term] {
            assert_eq!(period.as_str().parse::<Period>().expect("a period name"), period);
            assert_eq!(period.to_string(), period.as_str());
        }
        assert_eq!(
            "month".parse::<Period>(),
            Err(PeriodError::UnknownPeriod("month".into()))
        );
    }

    #[test]
    fn period_starts_keep_the_start_day_clamped_to_the_month() {
        let cases = [
            // (period, starts_on, k, expected start)
            (Period::Month, "2027-01-31", 0, Some("2027-01-31")),
            (Period::Month, "2027-01-31", 1, Some("2027-02-28")),
            (Period::Month, "2027-01-31", 2, Some("2027-03-31")),
            (Period::Month, "2027-01-31", 3, Some("2027-04-30")),
            (Period::Month, "2027-01-31", 4, Some("2027-05-31")),
            (Period::Month, "2027-01-31", 13, Some("2028-02-29")),
            (Period::Month, "2027-01-31", 14, Some("2028-03-31")),
            (Period::Month, "2027-01-30", 1, Some("2027-02-28")),
            (Period::Month, "2027-01-30", 2, Some("2027-03-30")),
            (Period::Month, "2027-01-30", 13, Some("2028-02-29")),
            (Period::Month, "2026-11-15", 2, Some("2027-01-15")),
            (Period::Month, "2026-01-01", 1200, Some("2126-01-01")),
            (Period::Year, "2028-02-29", 0, Some("2028-02-29")),
            (Period::Year, "2028-02-29", 1, Some("2029-02-28")),
            (Period::Year, "2028-02-29", 3, Some("2031-02-28")),
            (Period::Year, "2028-02-29", 4, Some("2032-02-29")),
            (Period::Term, "2026-03-10", 0, Some("2026-03-10")),
            (Period::Term, "2026-03-10", 1, None),
            (Period::Month, "2026-01-01", u32::MAX, None),
        ];
        for (period, starts_on, k, expected) in cases {
            let terms = terms(period, starts_on, Some("2999-01-01"));
            assert_eq!(
                terms.period_start(k),
                expected.map(date),
                "{period} from {starts_on}, k = {k}"
            );
        }
    }

    #[test]
    fn the_bundle_containing_a_day() {
        let monthly_31 = terms(Period::Month, "2027-01-31", None);
        let monthly_30 = terms(Period::Month, "2027-01-30", None);
        let monthly_15 = terms(Period::Month, "2026-01-15", None);
        let yearly_29 = terms(Period::Year, "2028-02-29", None);
        let term = terms(Period::Term, "2026-03-10", Some("2026-09-10"));
        let endless_term = terms(Period::Term, "2026-03-10", None);
        // Ends mid-period: the last bundle is shortened, the end day is out.
        let ends_mid = terms(Period::Month, "2026-01-15", Some("2026-04-02"));
        // Ends on a period start: that period never begins.
        let ends_on_start = terms(Period::Month, "2026-01-15", Some("2026-03-15"));
        #[rustfmt::skip]
        let cases = [
            // (license, day, expected (index, start, end))
            (&monthly_31, "2027-01-30", None),
            (&monthly_31, "2027-01-31", Some((0, "2027-01-31", "2027-02-28"))),
            (&monthly_31, "2027-02-27", Some((0, "2027-01-31", "2027-02-28"))),
            (&monthly_31, "2027-02-28", Some((1, "2027-02-28", "2027-03-31"))),
            (&monthly_31, "2027-03-30", Some((1, "2027-02-28", "2027-03-31"))),
            (&monthly_31, "2027-03-31", Some((2, "2027-03-31", "2027-04-30"))),
            (&monthly_31, "2027-04-30", Some((3, "2027-04-30", "2027-05-31"))),
            (&monthly_31, "2028-02-28", Some((12, "2028-01-31", "2028-02-29"))),
            (&monthly_31, "2028-02-29", Some((13, "2028-02-29", "2028-03-31"))),
            (&monthly_30, "2027-03-29", Some((1, "2027-02-28", "2027-03-30"))),
            (&monthly_30, "2027-03-30", Some((2, "2027-03-30", "2027-04-30"))),
            (&monthly_15, "2226-01-14", Some((2399, "2225-12-15", "2226-01-15"))),
            (&yearly_29, "2029-02-27", Some((0, "2028-02-29", "2029-02-28"))),
            (&yearly_29, "2029-02-28", Some((1, "2029-02-28", "2030-02-28"))),
            (&yearly_29, "2032-02-28", Some((3, "2031-02-28", "2032-02-29"))),
            (&yearly_29, "2032-03-01", Some((4, "2032-02-29", "2033-02-28"))),
            (&term, "2026-03-09", None),
            (&term, "2026-03-10", Some((0, "2026-03-10", "2026-09-10"))),
            (&term, "2026-09-09", Some((0, "2026-03-10", "2026-09-10"))),
            (&term, "2026-09-10", None),
            (&endless_term, "2026-03-10", None),
            (&ends_mid, "2026-03-15", Some((2, "2026-03-15", "2026-04-02"))),
            (&ends_mid, "2026-04-01", Some((2, "2026-03-15", "2026-04-02"))),
            (&ends_mid, "2026-04-02", None),
            (&ends_on_start, "2026-03-14", Some((1, "2026-02-15", "2026-03-15"))),
            (&ends_on_start, "2026-03-15", None),
        ];
        for (terms, day, expected) in cases {
            let expected = expected.map(|(index, start, end)| Bundle {
                index,
                start: date(start),
                end: date(end),
                capacity: Quantity::from_units(1000),
            });
            assert_eq!(
                terms.bundle_containing(date(day)),
                expected,
                "{} from {} to {:?}, day {day}",
                terms.period,
                terms.starts_on,
                terms.ends_on
            );
        }
    }

    #[test]
    fn a_shortened_bundle_keeps_its_full_capacity() {
        let terms = terms(Period::Month, "2026-01-15", Some("2026-01-20"));
        let bundle = terms.bundle_containing(date("2026-01-19")).expect("covered");
        assert_eq!(bundle.end, date("2026-01-20"));
        assert_eq!(bundle.capacity, Quantity::from_units(1000));
        assert_eq!(bundle.last_day(), date("2026-01-19"));
        assert!(bundle.contains(date("2026-01-15")));
        assert!(!bundle.contains(date("2026-01-20")));
    }

    #[test]
    fn bundles_until_lists_newest_first() {
        let starts = |bundles: Vec<Bundle>| -> Vec<String> { bundles.iter().map(|b| b.start.to_string()).collect() };
        let monthly = terms(Period::Month, "2027-01-31", None);
        let cases: [(&LicenseTerms, &str, &[&str]); 3] = [
            (&monthly, "2027-01-30", &[]),
            (&monthly, "2027-01-31", &["2027-01-31"]),
            (
                &monthly,
                "2027-04-30",
                &["2027-04-30", "2027-03-31", "2027-02-28", "2027-01-31"],
            ),
        ];
        for (terms, today, expected) in cases {
            assert_eq!(starts(terms.bundles_until(date(today))), expected, "{today}");
        }
        let indexes: Vec<u32> = monthly
            .bundles_until(date("2027-04-30"))
            .iter()
            .map(|b| b.index)
            .collect();
        assert_eq!(indexes, [3, 2, 1, 0]);

        // An ended license lists all its bundles, the shortened last one first.
        let ended = terms(Period::Month, "2026-01-15", Some("2026-04-02"));
        for today in ["2026-04-02", "2027-06-01"] {
            let bundles = ended.bundles_until(date(today));
            assert_eq!(
                starts(bundles.clone()),
                ["2026-03-15", "2026-02-15", "2026-01-15"],
                "{today}"
            );
            assert_eq!(bundles[0].end, date("2026-04-02"));
        }
        let term = terms(Period::Term, "2026-03-10", Some("2026-09-10"));
        assert_eq!(starts(term.bundles_until(date("2026-03-09"))), Vec::<String>::new());
        assert_eq!(starts(term.bundles_until(date("2026-05-01"))), ["2026-03-10"]);
        assert_eq!(starts(term.bundles_until(date("2030-01-01"))), ["2026-03-10"]);
    }

    #[test]
    fn bundle_starting_names_a_bundle_by_its_first_day() {
        let monthly = terms(Period::Month, "2027-01-31", Some("2027-04-10"));
        let cases = [
            ("2027-01-31", Some(0)),
            ("2027-02-28", Some(1)),
            ("2027-03-31", Some(2)),
            ("2027-03-01", None),
            ("2027-01-30", None),
            ("2027-04-30", None),
        ];
        for (start, index) in cases {
            assert_eq!(monthly.bundle_starting(date(start)).map(|b| b.index), index, "{start}");
        }
    }

    #[test]
    fn burst_applies_to_the_first_periods_only() {
        let mut burst = terms(Period::Month, "2026-01-01", None);
        burst.burst_percent = 130;
        burst.burst_periods = 3;
        let cases = [
            ("2026-01-01", true, 1300),
            ("2026-02-10", true, 1300),
            ("2026-03-31", true, 1300),
            ("2026-04-01", false, 1000),
            ("2027-01-01", false, 1000),
        ];
        for (day, active, limit) in cases {
            let bundle = burst.bundle_containing(date(day)).expect("covered");
            assert_eq!(burst.burst_active(&bundle), active, "{day}");
            assert_eq!(burst.limit(&bundle), Quantity::from_units(limit), "{day}");
        }
        // 100% for some periods is no burst at all.
        let mut flat = burst;
        flat.burst_percent = 100;
        let first = flat.bundle_containing(date("2026-01-01")).expect("covered");
        assert!(!flat.burst_active(&first));
        assert_eq!(flat.limit(&first), Quantity::from_units(1000));
        // The limit is exact to 4 decimal places, rounded down below that.
        let mut odd = burst;
        odd.capacity = Quantity::parse("0.0003").expect("a quantity");
        let bundle = odd.bundle_containing(date("2026-01-01")).expect("covered");
        assert_eq!(odd.limit(&bundle), Quantity::parse("0.0003").expect("a quantity"));
        odd.capacity = Quantity::parse("10.0001").expect("a quantity");
        let bundle = odd.bundle_containing(date("2026-01-01")).expect("covered");
        assert_eq!(odd.limit(&bundle), Quantity::parse("13.0001").expect("a quantity"));
    }

    #[test]
    fn a_top_up_raises_its_bundle_and_every_later_one_and_the_burst_limit_with_them() {
        let mut license = terms(Period::Month, "2026-01-01", None);
        license.burst_percent = 130;
        license.burst_periods = 3;
        let top_ups = [
            TopUp {
                effective_on: date("2026-02-15"),
                amount: Quantity::from_units(100),
            },
            TopUp {
                effective_on: date("2026-04-01"),
                amount: Quantity::from_units(50),
            },
        ];
        let cases = [
            // (a day, capacity, limit)
            ("2026-01-31", 1000, 1000 * 13 / 10),
            ("2026-02-01", 1100, 1100 * 13 / 10), // the bundle holding the top-up, from its first day
            ("2026-03-10", 1100, 1100 * 13 / 10),
            ("2026-04-01", 1150, 1150), // past the burst periods
        ];
        for (day, capacity, limit) in cases {
            let bundle = license
                .bundle_containing(date(day))
                .expect("covered")
                .topped_up(&top_ups);
            assert_eq!(bundle.capacity, Quantity::from_units(capacity), "{day}");
            assert_eq!(license.limit(&bundle), Quantity::from_units(limit), "{day}");
        }
    }

    #[test]
    fn validation_refuses_inconsistent_terms() {
        let ok = terms(Period::Month, "2026-01-01", None);
        assert_eq!(ok.validate(), Ok(()));
        let term = terms(Period::Term, "2026-01-01", Some("2026-01-02"));
        assert_eq!(term.validate(), Ok(()));

        let cases = [
            (
                LicenseTerms {
                    period: Period::Term,
                    ends_on: None,
                    ..ok
                },
                PeriodError::TermWithoutEnd,
                "a TERM license needs an end date (endsOn)",
            ),
            (
                LicenseTerms {
                    ends_on: Some(date("2026-01-01")),
                    ..ok
                },
                PeriodError::EndNotAfterStart {
                    starts_on: date("2026-01-01"),
                    ends_on: date("2026-01-01"),
                },
                "the end date 2026-01-01 must be after the start date 2026-01-01",
            ),
            (
                LicenseTerms {
                    ends_on: Some(date("2025-12-31")),
                    ..ok
                },
                PeriodError::EndNotAfterStart {
                    starts_on: date("2026-01-01"),
                    ends_on: date("2025-12-31"),
                },
                "the end date 2025-12-31 must be after the start date 2026-01-01",
            ),
            (
                LicenseTerms {
                    burst_percent: 99,
                    ..ok
                },
                PeriodError::BurstPercentOutOfRange(99),
                "the burst percent 99 must be between 100 and 1000",
            ),
            (
                LicenseTerms {
                    burst_percent: 1001,
                    ..ok
                },
                PeriodError::BurstPercentOutOfRange(1001),
                "the burst percent 1001 must be between 100 and 1000",
            ),
            (
                LicenseTerms {
                    capacity: Quantity::from_units(-1),
                    ..ok
                },
                PeriodError::NegativeCapacity(Quantity::from_units(-1)),
                "the capacity -1 must not be negative",
            ),
        ];
        for (terms, error, message) in cases {
            assert_eq!(terms.validate(), Err(error), "{message}");
            assert_eq!(terms.validate().expect_err("refused").to_string(), message);
        }
        for percent in [100, 1000] {
            assert_eq!(
                LicenseTerms {
                    burst_percent: percent,
                    ..ok
                }
                .validate(),
                Ok(())
            );
        }
        assert_eq!(
            LicenseTerms {
                capacity: Quantity::ZERO,
                ..ok
            }
            .validate(),
            Ok(())
        );
    }
}
