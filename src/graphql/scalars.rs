//! The contract's scalars: `Date`, `DateTime` and `Decimal` (an exact quantity as a string).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{FixedOffset, NaiveDate};

use crate::domain::{Quantity, quantity::QuantityError};

/// A calendar date such as "2026-11-22", in the organization's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s
                .parse::<NaiveDate>()
                .map(Date)
                .map_err(|_| InputValueError::custom(format!("'{s}' is not a date: use YYYY-MM-DD"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An instant, RFC 3339 with an offset: "2026-11-22T10:15:00+01:00".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<FixedOffset>);

#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(DateTime)
                .map_err(|_| InputValueError::custom(format!("'{s}' is not an RFC 3339 date-time with an offset"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

impl From<chrono::DateTime<chrono::Utc>> for DateTime {
    fn from(at: chrono::DateTime<chrono::Utc>) -> Self {
        DateTime(at.fixed_offset())
    }
}

/// An exact decimal quantity, sent and received as a JSON string: "12.5".
/// Its range and precision (at most 4 decimal places, ≥ 0 where a quantity is
/// expected) are checked by the use case, so that the error names the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal(pub String);

#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        let text = match &value {
            Value::String(s) => s.clone(),
            Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
            _ => return Err(InputValueError::custom("a Decimal is a string such as \"12.5\"")),
        };
        match Quantity::parse(&text) {
            Ok(_) | Err(QuantityError::TooPrecise(_)) => Ok(Decimal(text)),
            Err(err) => Err(InputValueError::custom(err.to_string())),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

impl From<Quantity> for Decimal {
    fn from(q: Quantity) -> Self {
        Decimal(q.to_string())
    }
}
