//! Setting a tenant's allocation (docs/design.md §6).
//!
//! A new allocation may not be negative, may not be below what the tenant
//! already consumed in the current bundle, and may not be above what it holds
//! now (N/A counting as 0) plus the organization's availableForAllocation.
//! Removing an allocation (N/A), the tenant being ACTIVE and the effective
//! date are checked elsewhere. Over-allocation that a smaller capacity causes
//! later is reported by the metrics, never refused or repaired here.
//!
//! A batch of changes (`setAllocations`, docs/design.md §15.6) is checked against the state
//! it leaves, not change by change: [`check_batch`].

use super::metrics::{TenantSums, split};
use super::quantity::Quantity;
use super::tenant::TenantState;

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

/// One change of a batch: the index of the tenant among the figures' sums, and its new
/// allocation (`None` releases it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchChange {
    pub tenant: usize,
    pub amount: Option<Quantity>,
}

/// Why one change of a batch is refused, whatever the others do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefusal {
    #[error(
        "the tenant is DISABLED: only an ACTIVE tenant gets an allocation; a DISABLED one may only have its allocation released (amount: null)"
    )]
    Disabled,
    #[error("the tenant is DELETED: only an ACTIVE tenant gets an allocation")]
    Deleted,
    #[error("allocation {amount} is below its consumption {consumed} in the current bundle")]
    BelowConsumed { amount: Quantity, consumed: Quantity },
}

/// Why a batch is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchRefusal {
    /// The change at `index` of the batch.
    Change { index: usize, reason: ChangeRefusal },
    /// The allocations after the batch, with the consumption drawn from the pool, need
    /// more than the capacity, and more than before the batch.
    AboveCapacity {
        /// The allocations after the batch (DELETED tenants' left out).
        allocated: Quantity,
        /// What the organization can allocate after it: T less the pool's consumption.
        can_allocate: Quantity,
        /// The consumption drawn from the pool after the batch.
        from_pool: Quantity,
    },
}

/// What the allocations claim of the capacity T: the allocations of tenants that are not
/// DELETED, plus the consumption drawn from the pool (past or without an allocation).
/// `availableForAllocation` is T less this, floored at 0.
fn claim(sums: &[TenantSums]) -> (Quantity, Quantity) {
    let mut allocated = Quantity::ZERO;
    let mut from_pool = Quantity::ZERO;
    for tenant in sums {
        from_pool += split(tenant.allocated, Quantity::ZERO, tenant.consumed_to_date()).from_organization;
        if tenant.state != TenantState::Deleted
            && let Some(amount) = tenant.allocated
        {
            allocated += amount;
        }
    }
    (allocated, from_pool)
}

/// Checks a batch of allocation changes against the state it leaves, and returns that
/// state (the sums with the new allocations). `sums` are the bundle's figures to date;
/// every tenant appears in `changes` at most once.
///
/// Each change holds on its own: an ACTIVE tenant, or a DISABLED one being released; a new
/// amount not below the tenant's consumption in the bundle. Together, the allocations after
/// the batch plus the pool's consumption after it fit in T, or, when they did not fit before
/// the batch either (a smaller capacity, say), do not grow: an over-allocated organization
/// may still lower its allocations. For a batch of one change this accepts whatever
/// [`check_new_allocation`] accepts.
pub fn check_batch(
    total_capacity: Quantity,
    sums: &[TenantSums],
    changes: &[BatchChange],
) -> Result<Vec<TenantSums>, BatchRefusal> {
    let mut after = sums.to_vec();
    for (index, change) in changes.iter().enumerate() {
        let refuse = |reason| BatchRefusal::Change { index, reason };
        let tenant = &mut after[change.tenant];
        match (tenant.state, change.amount) {
            (TenantState::Active, _) | (TenantState::Disabled, None) => {}
            (TenantState::Disabled, Some(_)) => return Err(refuse(ChangeRefusal::Disabled)),
            (TenantState::Deleted, _) => return Err(refuse(ChangeRefusal::Deleted)),
        }
        if let Some(amount) = change.amount
            && amount < tenant.consumed_to_date()
        {
            return Err(refuse(ChangeRefusal::BelowConsumed {
                amount,
                consumed: tenant.consumed_to_date(),
            }));
        }
        tenant.allocated = change.amount;
    }
    let (allocated_before, pool_before) = claim(sums);
    let (allocated, from_pool) = claim(&after);
    let needed = allocated + from_pool;
    if needed > total_capacity && needed > allocated_before + pool_before {
        return Err(BatchRefusal::AboveCapacity {
            allocated,
            can_allocate: (total_capacity - from_pool).positive_part(),
            from_pool,
        });
    }
    Ok(after)
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

    fn sums(state: TenantState, allocated: Option<&str>, consumed: &str) -> TenantSums {
        TenantSums {
            state,
            allocated: allocated.map(q),
            consumed_before: Quantity::ZERO,
            consumed_in_range: q(consumed),
        }
    }

    #[test]
    fn batches_are_checked_against_the_state_they_leave() {
        use TenantState::{Active, Deleted, Disabled};
        let change = |tenant, amount: Option<&str>| BatchChange {
            tenant,
            amount: amount.map(q),
        };
        let above = |allocated, can_allocate, from_pool| {
            Err(BatchRefusal::AboveCapacity {
                allocated: q(allocated),
                can_allocate: q(can_allocate),
                from_pool: q(from_pool),
            })
        };
        let below = |index, amount, consumed| {
            Err(BatchRefusal::Change {
                index,
                reason: ChangeRefusal::BelowConsumed {
                    amount: q(amount),
                    consumed: q(consumed),
                },
            })
        };
        // (name, capacity, tenants, changes, outcome: the new allocations or the refusal)
        type Case<'a> = (
            &'a str,
            &'a str,
            Vec<TenantSums>,
            Vec<BatchChange>,
            Result<Vec<Option<&'a str>>, BatchRefusal>,
        );
        let cases: Vec<Case<'_>> = vec![
            (
                "moving 500 from A to B with nothing free",
                "1000",
                vec![sums(Active, Some("800"), "100"), sums(Active, Some("200"), "0")],
                vec![change(0, Some("300")), change(1, Some("700"))],
                Ok(vec![Some("300"), Some("700")]),
            ),
            (
                "raising B first, alone, is refused",
                "1000",
                vec![sums(Active, Some("800"), "100"), sums(Active, Some("200"), "0")],
                vec![change(1, Some("700"))],
                above("1500", "1000", "0"),
            ),
            (
                "the allocations and the pool's consumption must fit",
                "1000",
                vec![sums(Active, Some("500"), "0"), sums(Active, None, "300")],
                vec![change(0, Some("700.0001"))],
                above("700.0001", "700", "300"),
            ),
            (
                "exactly the capacity fits",
                "1000",
                vec![sums(Active, Some("500"), "0"), sums(Active, None, "300")],
                vec![change(0, Some("700"))],
                Ok(vec![Some("700"), None]),
            ),
            (
                "releasing a tenant moves its consumption to the pool",
                "1000",
                vec![sums(Active, Some("500"), "400"), sums(Active, Some("400"), "0")],
                vec![change(0, None), change(1, Some("600"))],
                // 600 allocated + 400 from the pool = 1000 fits; 601 would not.
                Ok(vec![None, Some("600")]),
            ),
            (
                "releasing a tenant frees only what it did not consume",
                "1000",
                vec![sums(Active, Some("500"), "400"), sums(Active, Some("400"), "0")],
                vec![change(0, None), change(1, Some("601"))],
                above("601", "600", "400"),
            ),
            (
                "an allocation below the tenant's consumption, index named",
                "1000",
                vec![sums(Active, Some("500"), "420"), sums(Active, Some("100"), "0")],
                vec![change(1, Some("200")), change(0, Some("300"))],
                below(1, "300", "420"),
            ),
            (
                "over-allocated: lowering is accepted though it still does not fit",
                "500",
                vec![sums(Active, Some("400"), "0"), sums(Active, Some("400"), "0")],
                vec![change(0, Some("300"))],
                Ok(vec![Some("300"), Some("400")]),
            ),
            (
                "over-allocated: moving without growing is accepted",
                "500",
                vec![sums(Active, Some("400"), "0"), sums(Active, Some("400"), "0")],
                vec![change(0, Some("200")), change(1, Some("600"))],
                Ok(vec![Some("200"), Some("600")]),
            ),
            (
                "over-allocated: growing is refused",
                "500",
                vec![sums(Active, Some("400"), "0"), sums(Active, Some("400"), "0")],
                vec![change(1, Some("401"))],
                above("801", "500", "0"),
            ),
            (
                "a DISABLED tenant may be released",
                "1000",
                vec![sums(Disabled, Some("400"), "0"), sums(Active, None, "0")],
                vec![change(0, None), change(1, Some("1000"))],
                Ok(vec![None, Some("1000")]),
            ),
            (
                "a DISABLED tenant gets no allocation",
                "1000",
                vec![sums(Active, None, "0"), sums(Disabled, Some("400"), "0")],
                vec![change(0, Some("1")), change(1, Some("300"))],
                Err(BatchRefusal::Change {
                    index: 1,
                    reason: ChangeRefusal::Disabled,
                }),
            ),
            (
                "a DELETED tenant gets nothing, not even a release",
                "1000",
                vec![sums(Deleted, Some("400"), "0")],
                vec![change(0, None)],
                Err(BatchRefusal::Change {
                    index: 0,
                    reason: ChangeRefusal::Deleted,
                }),
            ),
            (
                "a DELETED tenant's allocation reserves nothing",
                "1000",
                vec![sums(Deleted, Some("600"), "0"), sums(Active, None, "0")],
                vec![change(1, Some("1000"))],
                Ok(vec![Some("600"), Some("1000")]),
            ),
        ];
        for (name, capacity, tenants, changes, expected) in cases {
            let got = check_batch(q(capacity), &tenants, &changes);
            let got = got.map(|after| after.iter().map(|t| t.allocated).collect::<Vec<_>>());
            let expected = expected.map(|amounts| amounts.into_iter().map(|a| a.map(q)).collect::<Vec<_>>());
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn a_batch_of_one_accepts_what_a_single_change_accepts() {
        // (current, new, consumed, capacity, others' allocations)
        let cases = [
            (Some("400"), "700", "80", "1000", "300"),
            (Some("400"), "80", "80", "1000", "300"),
            (None, "300", "0", "600", "300"),
            (Some("400"), "300", "0", "500", "400"),
            (Some("400"), "900", "0", "1000", "300"),
        ];
        for (current, new, consumed, capacity, others) in cases {
            let tenants = [
                sums(TenantState::Active, current, consumed),
                sums(TenantState::Active, Some(others), "0"),
            ];
            let figures = super::super::metrics::organization_figures(q(capacity), q(capacity), &tenants);
            let single = check_new_allocation(current.map(q), q(new), q(consumed), figures.available_for_allocation);
            let batch = check_batch(
                q(capacity),
                &tenants,
                &[BatchChange {
                    tenant: 0,
                    amount: Some(q(new)),
                }],
            );
            if single.is_ok() {
                assert!(batch.is_ok(), "{current:?} → {new}: {batch:?}");
            }
        }
    }
}
