//! Exact quantities of units.
//!
//! A quantity has at most four decimal places and is kept as a count of
//! ten-thousandths in an `i64`, so that sums are exact on every database
//! (a BIGINT column) and every figure of docs/design.md §3 is computed without
//! rounding. Negative values exist only as intermediate results; anything
//! that comes from a caller is checked with [`Quantity::parse_non_negative`].

use std::fmt;

/// Ten-thousandths per unit: quantities carry at most four decimal places.
pub const SCALE: i64 = 10_000;
const DECIMALS: usize = 4;

/// An exact decimal quantity of units, stored as ten-thousandths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i64);

/// Why a decimal text is not a valid quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("'{0}' is not a decimal number")]
    Syntax(String),
    #[error("'{0}' has more than 4 decimal places")]
    TooPrecise(String),
    #[error("'{0}' is too large")]
    TooLarge(String),
    #[error("'{0}' is negative")]
    Negative(String),
}

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);

    /// From a count of ten-thousandths (the stored form).
    pub const fn from_scaled(scaled: i64) -> Self {
        Quantity(scaled)
    }

    /// From whole units.
    pub const fn from_units(units: i64) -> Self {
        Quantity(units.saturating_mul(SCALE))
    }

    /// The stored form: a count of ten-thousandths.
    pub const fn scaled(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses a decimal such as `"12.5"`, `"-3"` or `"0.0001"`.
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        let syntax = || QuantityError::Syntax(text.to_owned());
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
            return Err(syntax());
        }
        if digits.ends_with('.') {
            return Err(syntax());
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > DECIMALS {
            return Err(QuantityError::TooPrecise(text.to_owned()));
        }
        let too_large = || QuantityError::TooLarge(text.to_owned());
        let whole_value: i64 = if whole.is_empty() {
            0
        } else {
            whole.trim_start_matches('0').parse::<i64>().or_else(|_| {
                if whole.trim_start_matches('0').is_empty() {
                    Ok(0)
                } else {
                    Err(too_large())
                }
            })?
        };
        let mut fraction_value: i64 = 0;
        for (i, b) in fraction.bytes().enumerate() {
            fraction_value += i64::from(b - b'0') * 10_i64.pow((DECIMALS - 1 - i) as u32);
        }
        let scaled = whole_value
            .checked_mul(SCALE)
            .and_then(|v| v.checked_add(fraction_value))
            .ok_or_else(too_large)?;
        Ok(Quantity(if negative { -scaled } else { scaled }))
    }

    /// Parses a quantity a caller sent: a decimal ≥ 0 with at most 4 places.
    pub fn parse_non_negative(text: &str) -> Result<Self, QuantityError> {
        let q = Self::parse(text)?;
        if q.is_negative() {
            return Err(QuantityError::Negative(text.to_owned()));
        }
        Ok(q)
    }

    pub const fn max(self, other: Quantity) -> Quantity {
        if self.0 >= other.0 { self } else { other }
    }

    pub const fn min(self, other: Quantity) -> Quantity {
        if self.0 <= other.0 { self } else { other }
    }

    /// `max(0, self)`.
    pub const fn positive_part(self) -> Quantity {
        self.max(Quantity::ZERO)
    }

    /// Clamps into `[low, high]`; `low` wins when the bounds cross.
    pub const fn clamp(self, low: Quantity, high: Quantity) -> Quantity {
        self.min(high).max(low)
    }

    /// `self / other` as a float; `None` when `other` is zero.
    pub fn ratio(self, other: Quantity) -> Option<f64> {
        if other.0 == 0 {
            None
        } else {
            Some(self.0 as f64 / other.0 as f64)
        }
    }

    /// `self × percent / 100`, rounded down to the last decimal place.
    pub fn percent_of(self, percent: i64) -> Quantity {
        Quantity(
            ((i128::from(self.0) * i128::from(percent)) / 100).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
        )
    }
}

impl std::ops::Add for Quantity {
    type Output = Quantity;
    fn add(self, rhs: Quantity) -> Quantity {
        Quantity(self.0.saturating_add(rhs.0))
    }
}

impl std::ops::Sub for Quantity {
    type Output = Quantity;
    fn sub(self, rhs: Quantity) -> Quantity {
        Quantity(self.0.saturating_sub(rhs.0))
    }
}

impl std::ops::AddAssign for Quantity {
    fn add_assign(&mut self, rhs: Quantity) {
        *self = *self + rhs;
    }
}

impl std::iter::Sum for Quantity {
    fn sum<I: Iterator<Item = Quantity>>(iter: I) -> Quantity {
        iter.fold(Quantity::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Quantity {
    /// The shortest exact form: `12.5`, `0`, `-0.0001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / SCALE as u64;
        let fraction = abs % SCALE as u64;
        if fraction == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let digits = format!("{fraction:04}");
            write!(f, "{sign}{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_shortest_exact_form() {
        let cases = [
            ("12.5", 125_000, "12.5"),
            ("0", 0, "0"),
            ("0.0001", 1, "0.0001"),
            ("1000", 10_000_000, "1000"),
            ("-3.25", -32_500, "-3.25"),
            ("007.10", 71_000, "7.1"),
            (".5", 5_000, "0.5"),
            ("1.23450", 12_345, "1.2345"),
        ];
        for (text, scaled, printed) in cases {
            let q = Quantity::parse(text).unwrap();
            assert_eq!(q.scaled(), scaled, "{text}");
            assert_eq!(q.to_string(), printed, "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_exact_quantity() {
        for text in ["", ".", "1.", "abc", "1e3", "1,5", "--1", "1.2.3", " "] {
            assert!(matches!(Quantity::parse(text), Err(QuantityError::Syntax(_))), "{text}");
        }
        assert!(matches!(Quantity::parse("0.00001"), Err(QuantityError::TooPrecise(_))));
        assert!(matches!(
            Quantity::parse("99999999999999999999"),
            Err(QuantityError::TooLarge(_))
        ));
        assert!(matches!(
            Quantity::parse_non_negative("-1"),
            Err(QuantityError::Negative(_))
        ));
    }

    #[test]
    fn percent_and_ratio() {
        assert_eq!(Quantity::from_units(1000).percent_of(130), Quantity::from_units(1300));
        assert_eq!(Quantity::from_units(130).ratio(Quantity::from_units(100)), Some(1.3));
        assert_eq!(Quantity::from_units(1).ratio(Quantity::ZERO), None);
    }
}
