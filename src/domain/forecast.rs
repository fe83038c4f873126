//! Where consumption is heading (docs/design.md §15.6): the daily rate of the last days up
//! to `to`, what the bundle will have consumed at its end at that rate, and the day the
//! consumption passes a limit.
//!
//! Everything is exact decimal arithmetic on [`Quantity`]: the rate is rounded down to the
//! fourth decimal place, and the projection is computed from that rounded rate, so it is a
//! multiple of it plus the consumption so far. A limit is "exceeded" when consumption is
//! strictly greater than it: reaching it exactly is not running out.

use chrono::{Days, NaiveDate};

use super::quantity::Quantity;

/// The days the rate is measured over: at most this many, ending on `to`.
pub const RATE_DAYS: i64 = 14;

/// The days the rate is measured over: the first of them and their number N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub first: NaiveDate,
    pub days: i64,
}

/// N = min(14, the days from the bundle's start to `to`, both included), ending on `to`.
pub fn window(bundle_start: NaiveDate, to: NaiveDate) -> Window {
    let days = ((to - bundle_start).num_days() + 1).clamp(1, RATE_DAYS);
    Window {
        first: to - Days::new((days - 1) as u64),
        days,
    }
}

/// Where one figure is heading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forecast {
    /// Consumption per day over the window, rounded down to 4 decimals.
    pub daily_rate: Quantity,
    /// Consumption at the bundle's end at that rate.
    pub projected: Quantity,
    /// The first day consumption exceeds the limit: `to` when it already does; none when
    /// it does not happen in the bundle, there is no limit, or the rate is 0.
    pub runs_out_on: Option<NaiveDate>,
}

/// What a forecast starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Basis {
    /// The first day of the bundle.
    pub bundle_start: NaiveDate,
    /// The first day after the bundle (exclusive).
    pub bundle_end: NaiveDate,
    /// The last day measured.
    pub to: NaiveDate,
    /// Consumption from the bundle's start to `to`, both included.
    pub consumed: Quantity,
    /// Consumption over [`window`]`(bundle_start, to)`.
    pub consumed_in_window: Quantity,
    /// The limit (the organization's L, a tenant's allocation); none for a tenant without
    /// an allocation.
    pub limit: Option<Quantity>,
}

/// The forecast of docs/design.md §15.6.
pub fn forecast(basis: Basis) -> Forecast {
    let window = window(basis.bundle_start, basis.to);
    // Floor division: consumption is never negative, but the rate must not round up.
    let daily_rate = Quantity::from_scaled(basis.consumed_in_window.scaled().div_euclid(window.days));
    let last_day = basis.bundle_end.pred_opt().unwrap_or(basis.bundle_end);
    let days_left = (last_day - basis.to).num_days().max(0);
    let projected = Quantity::from_scaled(
        i128::from(basis.consumed.scaled())
            .saturating_add(i128::from(daily_rate.scaled()) * i128::from(days_left))
            .clamp(0, i128::from(i64::MAX)) as i64,
    );
    let runs_out_on = basis.limit.and_then(|limit| {
        if basis.consumed > limit {
            return Some(basis.to);
        }
        if daily_rate.scaled() <= 0 {
            return None;
        }
        // The smallest k ≥ 1 with consumed + rate × k > limit.
        let room = limit.scaled() - basis.consumed.scaled();
        let k = room / daily_rate.scaled() + 1;
        (k <= days_left).then(|| basis.to + Days::new(k as u64))
    });
    Forecast {
        daily_rate,
        projected,
        runs_out_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).expect("a decimal")
    }

    fn d(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    #[test]
    fn the_window_is_at_most_14_days_ending_on_to() {
        let cases = [
            ("2026-11-01", "2026-11-01", "2026-11-01", 1),
            ("2026-11-01", "2026-11-05", "2026-11-01", 5),
            ("2026-11-01", "2026-11-14", "2026-11-01", 14),
            ("2026-11-01", "2026-11-15", "2026-11-02", 14),
            ("2026-11-01", "2026-11-30", "2026-11-17", 14),
        ];
        for (start, to, first, days) in cases {
            assert_eq!(
                window(d(start), d(to)),
                Window { first: d(first), days },
                "{start}..{to}"
            );
        }
    }

    #[test]
    fn forecasts() {
        // A November bundle (2026-11-01 to 2026-11-30).
        // (name, to, consumed, consumed in window, limit, rate, projected, runs out on)
        let cases = [
            (
                "constant rate: 10 a day for 14 days, 16 days after to",
                "2026-11-14",
                "140",
                "140",
                Some("300"),
                "10",
                "300",
                // 140 + 10 × 16 = 300 at the end: never strictly over.
                None,
            ),
            (
                "constant rate that runs out",
                "2026-11-20",
                "200",
                "140",
                Some("250"),
                "10",
                "300",
                // 200 + 10 × 6 = 260 > 250 on day 6; 200 + 10 × 5 = 250 is not over.
                Some("2026-11-26"),
            ),
            (
                "a rate of 0",
                "2026-11-20",
                "100",
                "0",
                Some("50"),
                "0",
                "100",
                // Already over: to, whatever the rate.
                Some("2026-11-20"),
            ),
            (
                "a rate of 0 under the limit",
                "2026-11-20",
                "10",
                "0",
                Some("50"),
                "0",
                "10",
                None,
            ),
            (
                "already over",
                "2026-11-20",
                "500.0001",
                "14",
                Some("500"),
                "1",
                "510.0001",
                Some("2026-11-20"),
            ),
            (
                "exactly at the limit: over on the next day",
                "2026-11-20",
                "500",
                "14",
                Some("500"),
                "1",
                "510",
                Some("2026-11-21"),
            ),
            ("no allocation", "2026-11-20", "100", "70", None, "5", "150", None),
            (
                "the first days of a bundle: N = 3",
                "2026-11-03",
                "30",
                "30",
                Some("200"),
                "10",
                "300",
                // 30 + 10 × 17 = 200 is not over; 30 + 10 × 18 = 210 on 2026-11-21.
                Some("2026-11-21"),
            ),
            (
                "the first day of a bundle: N = 1",
                "2026-11-01",
                "7",
                "7",
                Some("1000"),
                "7",
                "210",
                None,
            ),
            (
                "the rate is rounded down to 4 decimals",
                "2026-11-20",
                "10",
                "10",
                Some("100"),
                "0.7142",
                "17.142",
                None,
            ),
            (
                "the last day of the bundle: nothing left to project",
                "2026-11-30",
                "90",
                "28",
                Some("90"),
                "2",
                "90",
                None,
            ),
        ];
        for (name, to, consumed, in_window, limit, rate, projected, runs_out_on) in cases {
            let got = forecast(Basis {
                bundle_start: d("2026-11-01"),
                bundle_end: d("2026-12-01"),
                to: d(to),
                consumed: q(consumed),
                consumed_in_window: q(in_window),
                limit: limit.map(q),
            });
            assert_eq!(
                got,
                Forecast {
                    daily_rate: q(rate),
                    projected: q(projected),
                    runs_out_on: runs_out_on.map(d),
                },
                "{name}"
            );
        }
    }
}
