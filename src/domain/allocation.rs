//! Setting a tenant's allocation (docs/design.md §6).
//!
//! A new allocation may not be negative, may not be below what the tenant
//! already consumed in the current bundle, and may not be above what it holds
//! now (N/A counting as 0) plus the organization's availableForAllocation.
//! Removing an allocation (N/A), the tenant being ACTIVE and the effective
//! date are checked elsewhere. Over-allocation that a smaller capacity causes
//! later is reported by the metrics, never refused or repaired here.

use super::quantity::Quantity;

/// Why a new allocation is refused; the message carries the numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AllocationRefusal {
    #[error("the new allocation {amount} is negative")]
    Negative { amount: Quantity },
    #[error("the new allocation {amount} is below the {consumed} that tenant already consumed in the current bundle")]
    BelowConsumed { amount: Quantity, consumed: Quantity },
    #[error(
        "the new allocation {amount} is above the {allowed} that can be allocated (current allocation {} + available for allocation {available})",
        current_text(.current)
    )]
    AboveAvailable {
        amount: Quantity,
        /// The most that may be allocated: current (or 0) + available.
        allowed: Quantity,
        current: Option<Quantity>,
        available: Quantity,
    },
}

fn current_text(current: &Option<Quantity>) -> String {
    match current {
        Some(amount) => amount.to_string(),
        None => "N/A, counted as 0".to_owned(),
    }
}

/// Checks a new allocation amount for one tenant and unit type against the
/// current bundle: `consumed_in_bundle` is the tenant's consumption in it so
/// far, `available_for_allocation` the organization's figure.
pub fn check_new_allocation(
    current: Option<Quantity>,
    new_amount: Quantity,
    consumed_in_bundle: Quantity,
    available_for_allocation: Quantity,
) -> Result<(), AllocationRefusal> {
    if new_amount.is_negative() {
        return Err(AllocationRefusal::Negative { amount: new_amount });
    }
    if new_amount < consumed_in_bundle {
        return Err(AllocationRefusal::BelowConsumed {
            amount: new_amount,
            consumed: consumed_in_bundle,
        });
    }
    let allowed = current.unwrap_or(Quantity::ZERO) + available_for_allocation;
    if new_amount > allowed {
        return Err(AllocationRefusal::AboveAvailable {
            amount: new_amount,
            allowed,
            current,
            available: available_for_allocation,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).expect("a decimal")
    }

    #[test]
    fn allocation_checks() {
        let cases = [
            // (current, new, consumed in bundle, available, outcome)
            (Some("400"), "700", "80", "300", Ok(())),
            (Some("400"), "80", "80", "300", Ok(())),
            (Some("400"), "400", "0", "0", Ok(())),
            (Some("400"), "0", "0", "0", Ok(())),
            (None, "300", "0", "300", Ok(())),
            (None, "0", "0", "0", Ok(())),
            (Some("0.5"), "0.7501", "0", "0.2501", Ok(())),
            (
                Some("400"),
                "50",
                "80",
                "300",
                Err("the new allocation 50 is below the 80 that tenant already consumed in the current bundle"),
            ),
            (
                Some("400"),
                "900",
                "80",
                "300",
                Err(
                    "the new allocation 900 is above the 700 that can be allocated (current allocation 400 + available for allocation 300)",
                ),
            ),
            (
                Some("400"),
                "700.0001",
                "0",
                "300",
                Err(
                    "the new allocation 700.0001 is above the 700 that can be allocated (current allocation 400 + available for allocation 300)",
                ),
            ),
            (
                None,
                "301",
                "0",
                "300",
                Err(
                    "the new allocation 301 is above the 300 that can be allocated (current allocation N/A, counted as 0 + available for allocation 300)",
                ),
            ),
            (Some("400"), "-1", "0", "300", Err("the new allocation -1 is negative")),
            // Consumed past what can be allocated: no amount fits, the lower bound is reported.
            (
                Some("400"),
                "400",
                "500",
                "0",
                Err("the new allocation 400 is below the 500 that tenant already consumed in the current bundle"),
            ),
        ];
        for (current, new_amount, consumed, available, expected) in cases {
            let got = check_new_allocation(current.map(q), q(new_amount), q(consumed), q(available));
            assert_eq!(
                got.map_err(|refusal| refusal.to_string()),
                expected.map_err(str::to_owned),
                "current {current:?}, new {new_amount}, consumed {consumed}, available {available}"
            );
        }
    }

    #[test]
    fn refusals_carry_the_numbers() {
        assert_eq!(
            check_new_allocation(Some(q("400")), q("900"), q("80"), q("300")),
            Err(AllocationRefusal::AboveAvailable {
                amount: q("900"),
                allowed: q("700"),
                current: Some(q("400")),
                available: q("300"),
            })
        );
        assert_eq!(
            check_new_allocation(None, q("50"), q("80"), q("300")),
            Err(AllocationRefusal::BelowConsumed {
                amount: q("50"),
                consumed: q("80"),
            })
        );
    }
}
