//! Admission and consumption controls (docs/design.md §6): whether a run may start, and what
//! a tenant's controls may hold.

use super::Quantity;

/// What an admission is decided from: the figures at the moment it is asked, read under
/// the organization's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmissionFacts {
    pub quantity: Quantity,
    /// Whether the organization's license refuses runs past its limit.
    pub enforced: bool,
    /// The organization's limit this period (the burst included) and its use so far.
    pub limit: Quantity,
    pub used: Quantity,
    /// The tenant's allocation and its use this period, when its controls stop this
    /// service at 100% of the allocation; `None` when they do not (or it has none).
    pub tenant_stop: Option<(Quantity, Quantity)>,
}

/// Why a run was refused, with the figures of the limit it would pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub limit: Quantity,
    pub used: Quantity,
    pub remaining: Quantity,
}

fn remaining(limit: Quantity, used: Quantity) -> Quantity {
    if used > limit { Quantity::ZERO } else { limit - used }
}

/// Grants when the run fits under every limit that applies; else the refusal.
pub fn admit(facts: AdmissionFacts) -> Result<(), Refusal> {
    if facts.enforced && facts.used + facts.quantity > facts.limit {
        return Err(Refusal {
            message: format!(
                "quota exceeded: {} more would bring the organization's use to {}, past its limit of {} ({} left this period)",
                facts.quantity,
                facts.used + facts.quantity,
                facts.limit,
                remaining(facts.limit, facts.used)
            ),
            limit: facts.limit,
            used: facts.used,
            remaining: remaining(facts.limit, facts.used),
        });
    }
    if let Some((allocated, consumed)) = facts.tenant_stop
        && consumed + facts.quantity > allocated
    {
        return Err(Refusal {
            message: format!(
                "quota exceeded: {} more would bring the tenant's use to {}, past its allocation of {} ({} left); this service stops at 100% of the allocation",
                facts.quantity,
                consumed + facts.quantity,
                allocated,
                remaining(allocated, consumed)
            ),
            limit: allocated,
            used: consumed,
            remaining: remaining(allocated, consumed),
        });
    }
    Ok(())
}

/// A tenant's alert thresholds when it set none.
pub const TENANT_THRESHOLDS: [f64; 3] = [0.7, 0.9, 1.0];
/// The organization's alert thresholds (fractions of capacity).
pub const ORGANIZATION_THRESHOLDS: [f64; 4] = [0.5, 0.75, 0.95, 1.0];

/// The most alert thresholds a tenant's controls hold.
pub const MOST_TENANT_THRESHOLDS: usize = 20;

/// The most alert thresholds an organization sets for a unit type.
pub const MOST_ORGANIZATION_THRESHOLDS: usize = 10;

/// Checks the alert thresholds of the input field `field`: each in (0, 10], no repeats, at
/// most `most`; returns them sorted.
pub fn check_thresholds(field: &str, thresholds: &[f64], most: usize) -> Result<Vec<f64>, String> {
    let mut sorted = Vec::with_capacity(thresholds.len());
    for (i, t) in thresholds.iter().enumerate() {
        if !(t.is_finite() && *t > 0.0 && *t <= 10.0) {
            return Err(format!("{field}[{i}]: {t} is not in (0, 10]"));
        }
        sorted.push(*t);
    }
    sorted.sort_by(f64::total_cmp);
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!("{field}: a threshold is given twice"));
    }
    if sorted.len() > most {
        return Err(format!(
            "{field}: at most {most} thresholds; {} were given",
            sorted.len()
        ));
    }
    Ok(sorted)
}

/// The thresholds crossed going from `before` to `after` as fractions of `of`, lowest first.
pub fn crossed(thresholds: &[f64], before: Quantity, after: Quantity, of: Quantity) -> Vec<f64> {
    let (Some(before), Some(after)) = (before.ratio(of), after.ratio(of)) else {
        return Vec::new();
    };
    thresholds
        .iter()
        .copied()
        .filter(|t| before < *t && after >= *t)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(units: i64) -> Quantity {
        Quantity::from_units(units)
    }

    fn facts(enforced: bool, limit: i64, used: i64, quantity: i64, stop: Option<(i64, i64)>) -> AdmissionFacts {
        AdmissionFacts {
            quantity: q(quantity),
            enforced,
            limit: q(limit),
            used: q(used),
            tenant_stop: stop.map(|(a, c)| (q(a), q(c))),
        }
    }

    #[test]
    fn admission_table() {
        // (enforced, limit, used, quantity, tenant stop (allocation, consumed), granted, refusal figures)
        let cases = [
            (true, 10, 9, 1, None, None),
            (true, 10, 10, 1, None, Some((10, 10, 0))),
            (true, 10, 12, 1, None, Some((10, 12, 0))),
            (false, 10, 12, 1, None, None),
            (true, 10, 0, 11, None, Some((10, 0, 10))),
            (false, 10, 0, 5, Some((5, 0)), None),
            (false, 10, 0, 5, Some((5, 1)), Some((5, 1, 4))),
            (true, 100, 0, 5, Some((5, 5)), Some((5, 5, 0))),
            (true, 100, 0, 0, Some((5, 5)), None),
        ];
        for (enforced, limit, used, quantity, stop, refused) in cases {
            let got = admit(facts(enforced, limit, used, quantity, stop));
            match refused {
                None => assert_eq!(got, Ok(()), "{enforced} {limit} {used} {quantity} {stop:?}"),
                Some((l, u, r)) => {
                    let refusal = got.expect_err("refused");
                    assert_eq!((refusal.limit, refusal.used, refusal.remaining), (q(l), q(u), q(r)));
                    assert!(refusal.message.starts_with("quota exceeded"));
                }
            }
        }
    }

    #[test]
    fn thresholds_are_checked_and_sorted() {
        assert_eq!(
            check_thresholds("alertThresholds", &[0.9, 0.5, 10.0], MOST_TENANT_THRESHOLDS),
            Ok(vec![0.5, 0.9, 10.0])
        );
        assert!(check_thresholds("alertThresholds", &[0.0], MOST_TENANT_THRESHOLDS).is_err());
        assert!(check_thresholds("alertThresholds", &[10.5], MOST_TENANT_THRESHOLDS).is_err());
        assert!(check_thresholds("alertThresholds", &[f64::NAN], MOST_TENANT_THRESHOLDS).is_err());
        assert!(check_thresholds("alertThresholds", &[0.5, 0.5], MOST_TENANT_THRESHOLDS).is_err());
        assert_eq!(
            check_thresholds("alertThresholds", &[], MOST_TENANT_THRESHOLDS),
            Ok(vec![])
        );
        let eleven: Vec<f64> = (1..=11).map(|k| f64::from(k) / 10.0).collect();
        let refused = check_thresholds("thresholds", &eleven, MOST_ORGANIZATION_THRESHOLDS);
        assert_eq!(refused, Err("thresholds: at most 10 thresholds; 11 were given".into()));
        assert!(check_thresholds("thresholds", &eleven[..10], MOST_ORGANIZATION_THRESHOLDS).is_ok());
    }

    #[test]
    fn crossings_are_the_thresholds_passed_on_the_way_up() {
        let t = TENANT_THRESHOLDS;
        assert_eq!(crossed(&t, q(60), q(70), q(100)), vec![0.7]);
        assert_eq!(crossed(&t, q(60), q(100), q(100)), vec![0.7, 0.9, 1.0]);
        assert_eq!(crossed(&t, q(70), q(71), q(100)), Vec::<f64>::new());
        assert_eq!(crossed(&t, q(0), q(5), q(0)), Vec::<f64>::new());
    }
}
