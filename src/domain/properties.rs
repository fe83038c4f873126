//! Property tests of the usage metrics (docs/design.md §3) over generated
//! organizations.
//!
//! The table tests in `metrics` pin the worked examples; these check the
//! invariants that must hold for *any* organization: the split adds up, no
//! figure goes negative, overage means CRITICAL, the organization's flow is
//! the sum of its tenants', flow figures add up over consecutive sub-ranges
//! while balance figures depend only on the range's end, and the capacity
//! card shows the figure its mode names.
//!
//! Quantities are drawn as exact ten-thousandths, biased towards 0 and whole
//! units so that ties (C = A, Σ C = T, …) come up often, since those are
//! where the exact comparisons and clamps can go wrong.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::metrics::{
    CapacityCardMode, OrganizationFigures, OrganizationStatus, TenantFigures, TenantStatus, TenantSums, usage,
};
use super::quantity::{Quantity, SCALE};
use super::tenant::TenantState;

/// Largest capacity T, in ten-thousandths (1000 units).
const MAX_CAPACITY: i64 = 10_000_000;
/// Largest allocation or consumption, in ten-thousandths (500 units).
const MAX_AMOUNT: i64 = 5_000_000;
/// Most tenants in an organization.
const MAX_TENANTS: usize = 30;
/// Most consecutive sub-ranges a range is cut into.
const MAX_CHUNKS: usize = 5;

/// A quantity in `0..=max` ten-thousandths; uniform draws alone almost never
/// hit 0 or an exact tie, so those get weight of their own.
fn amount(max: i64) -> impl Strategy<Value = Quantity> {
    prop_oneof![
        4 => 0..=max,
        1 => Just(0),
        2 => (0..=max / SCALE).prop_map(|units| units * SCALE),
    ]
    .prop_map(Quantity::from_scaled)
}

fn state() -> impl Strategy<Value = TenantState> {
    prop_oneof![
        Just(TenantState::Active),
        Just(TenantState::Disabled),
        Just(TenantState::Deleted),
    ]
}

/// T, the number of tenants, the largest allocation, and the largest
/// consumption before or within the range (which sub-ranges share out).
type Shape = (Quantity, usize, i64, i64);

/// Drawn over the full ranges alone, Σ C is nearly always far past T (more
/// than nine cases in ten), so half the organizations are sized to their
/// capacity instead: Σ C from about T/2 to 2.5T, Σ A about T. Both stay
/// within the full ranges.
fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        (amount(MAX_CAPACITY), 0..=MAX_TENANTS).prop_map(|(capacity, n)| (capacity, n, MAX_AMOUNT, MAX_AMOUNT)),
        (amount(MAX_CAPACITY), 0..=MAX_TENANTS, 1..=6_i64).prop_map(|(capacity, n, factor)| {
            let share = capacity.scaled() / n.max(1) as i64;
            (
                capacity,
                n,
                (8 * share).min(MAX_AMOUNT),
                (factor * share / 2).min(MAX_AMOUNT),
            )
        }),
    ]
}

fn tenant(allocation_max: i64, consumption_max: i64) -> impl Strategy<Value = TenantSums> {
    (
        state(),
        option::of(amount(allocation_max)),
        amount(consumption_max),
        amount(consumption_max),
    )
        .prop_map(|(state, allocated, consumed_before, consumed_in_range)| TenantSums {
            state,
            allocated,
            consumed_before,
            consumed_in_range,
        })
}

/// T and every tenant's sums.
fn organization() -> impl Strategy<Value = (Quantity, Vec<TenantSums>)> {
    shape().prop_flat_map(|(capacity, n, allocation_max, consumption_max)| {
        (Just(capacity), vec(tenant(allocation_max, consumption_max), n))
    })
}

/// A tenant whose consumption over a range is cut into consecutive chunks.
#[derive(Clone, Debug)]
struct ChunkedTenant {
    state: TenantState,
    allocated: Option<Quantity>,
    chunks: Vec<Quantity>,
}

impl ChunkedTenant {
    /// The sums over the whole range, which starts with the bundle.
    fn whole(&self) -> TenantSums {
        TenantSums {
            state: self.state,
            allocated: self.allocated,
            consumed_before: Quantity::ZERO,
            consumed_in_range: self.chunks.iter().copied().sum(),
        }
    }

    /// The sums over sub-range `k`: everything before chunk `k` is "before".
    fn part(&self, k: usize) -> TenantSums {
        TenantSums {
            state: self.state,
            allocated: self.allocated,
            consumed_before: self.chunks[..k].iter().copied().sum(),
            consumed_in_range: self.chunks[k],
        }
    }
}

/// T and tenants whose ranges are all cut into the same number (1..=5) of
/// sub-ranges, since a sub-range is one date range for the whole
/// organization; a tenant's total stays within the largest consumption.
fn chunked_organization() -> impl Strategy<Value = (Quantity, Vec<ChunkedTenant>)> {
    (shape(), 1..=MAX_CHUNKS).prop_flat_map(|((capacity, n, allocation_max, consumption_max), chunks)| {
        let tenant = (
            state(),
            option::of(amount(allocation_max)),
            vec(amount(consumption_max / chunks as i64), chunks),
        )
            .prop_map(|(state, allocated, chunks)| ChunkedTenant {
                state,
                allocated,
                chunks,
            });
        (Just(capacity), vec(tenant, n))
    })
}

/// The flow figures of a card: (consumed, fromAllocated, fromOrganization).
type Flow = (Quantity, Quantity, Quantity);

fn add(a: Flow, b: Flow) -> Flow {
    (a.0 + b.0, a.1 + b.1, a.2 + b.2)
}

fn organization_flow(o: &OrganizationFigures) -> Flow {
    (o.consumed, o.consumed_from_allocated, o.consumed_from_organization)
}

fn tenant_flow(t: &TenantFigures) -> Flow {
    (t.consumed, t.consumed_from_allocated, t.consumed_from_organization)
}

/// A limit from T to 3·T: a burst of 100% to 300%.
fn burst_limit(capacity: Quantity) -> impl Strategy<Value = Quantity> {
    (100i64..=300).prop_map(move |percent| capacity.percent_of(percent))
}

/// §3 as written, for an organization without a burst: what the figures must be.
fn without_burst(
    capacity: Quantity,
    tenants: &[TenantSums],
) -> (Quantity, Quantity, CapacityCardMode, OrganizationStatus) {
    let consumed: Quantity = tenants.iter().fold(Quantity::ZERO, |sum, t| sum + t.consumed_to_date());
    let allocated = tenants
        .iter()
        .filter(|t| t.state != TenantState::Deleted)
        .filter_map(|t| t.allocated)
        .fold(Quantity::ZERO, |sum, a| sum + a);
    let remaining = (capacity - consumed).positive_part();
    let overage = (consumed - capacity).positive_part();
    let mode = if consumed > capacity {
        CapacityCardMode::Overage
    } else if allocated > capacity {
        CapacityCardMode::OverAllocation
    } else {
        CapacityCardMode::AvailableForAllocation
    };
    // (T − C) < 0.15·T, on exact ten-thousandths.
    let low =
        100 * (i128::from(capacity.scaled()) - i128::from(consumed.scaled())) < 15 * i128::from(capacity.scaled());
    let status = if consumed > capacity {
        OrganizationStatus::Critical
    } else if low || allocated > capacity {
        OrganizationStatus::NeedsAttention
    } else {
        OrganizationStatus::Healthy
    };
    (remaining, overage, mode, status)
}

fn severity(status: OrganizationStatus) -> u8 {
    match status {
        OrganizationStatus::Healthy => 0,
        OrganizationStatus::NeedsAttention => 1,
        OrganizationStatus::Critical => 2,
    }
}

proptest! {
    // Pure functions over at most 30 tenants: 512 cases are cheap, even unoptimized.
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// 1. What a range consumed is drawn from exactly one of the two sources.
    #[test]
    fn the_split_adds_up_to_the_consumption((capacity, tenants) in organization()) {
        let got = usage(capacity, capacity, &tenants);
        let o = got.organization;
        prop_assert_eq!(o.consumed_from_allocated + o.consumed_from_organization, o.consumed);
        for (sums, t) in tenants.iter().zip(&got.tenants) {
            prop_assert_eq!(t.consumed, sums.consumed_in_range);
            prop_assert_eq!(t.consumed_from_allocated + t.consumed_from_organization, t.consumed);
        }
    }

    /// 2. Every figure is a count or a max(0, …): none may be negative.
    #[test]
    fn no_figure_is_negative((capacity, tenants) in organization()) {
        let got = usage(capacity, capacity, &tenants);
        let o = got.organization;
        for (name, value) in [
            ("totalCapacity", o.total_capacity),
            ("consumed", o.consumed),
            ("consumedFromAllocated", o.consumed_from_allocated),
            ("consumedFromOrganization", o.consumed_from_organization),
            ("remaining", o.remaining),
            ("allocated", o.allocated),
            ("availableForAllocation", o.available_for_allocation),
            ("overage", o.overage),
            ("overAllocation", o.over_allocation),
            ("capacityCard.value", o.capacity_card.value),
        ] {
            prop_assert!(!value.is_negative(), "organization.{} = {}", name, value);
        }
        for (i, t) in got.tenants.iter().enumerate() {
            for (name, value) in [
                ("consumed", t.consumed),
                ("consumedFromAllocated", t.consumed_from_allocated),
                ("consumedFromOrganization", t.consumed_from_organization),
                ("remaining", t.remaining),
                ("overage", t.overage),
                ("availableForAllocation", t.available_for_allocation),
            ] {
                prop_assert!(!value.is_negative(), "tenant {}.{} = {}", i, name, value);
            }
            if let Some(allocated) = t.allocated {
                prop_assert!(!allocated.is_negative(), "tenant {}.allocated = {}", i, allocated);
            }
            if let Some(rate) = t.consumption_rate {
                prop_assert!(rate >= 0.0, "tenant {}.consumptionRate = {}", i, rate);
            }
        }
    }

    /// 3. Past capacity (or past an allocation) is always CRITICAL, except that
    /// a DISABLED or DELETED tenant shows its state first.
    #[test]
    fn overage_means_critical((capacity, tenants) in organization()) {
        let got = usage(capacity, capacity, &tenants);
        let o = got.organization;
        if o.overage > Quantity::ZERO {
            prop_assert_eq!(o.status, OrganizationStatus::Critical);
        }
        for (sums, t) in tenants.iter().zip(&got.tenants) {
            let expected = match sums.state {
                TenantState::Active => TenantStatus::Critical,
                TenantState::Disabled => TenantStatus::Disabled,
                TenantState::Deleted => TenantStatus::Deleted,
            };
            if t.overage > Quantity::ZERO {
                prop_assert_eq!(t.status, expected, "{:?}", sums);
            }
        }
    }

    /// 4. The organization's flow is its tenants' flow: every tenant counts,
    /// DISABLED and DELETED included.
    #[test]
    fn organization_flow_is_the_sum_of_the_cards((capacity, tenants) in organization()) {
        let got = usage(capacity, capacity, &tenants);
        prop_assert_eq!(got.tenants.len(), tenants.len());
        let zero = (Quantity::ZERO, Quantity::ZERO, Quantity::ZERO);
        let summed = got.tenants.iter().map(tenant_flow).fold(zero, add);
        prop_assert_eq!(organization_flow(&got.organization), summed);
    }

    /// 5. Flow figures are additive over consecutive sub-ranges; balance
    /// figures (and statuses) depend only on where the range ends.
    #[test]
    fn flow_adds_up_over_sub_ranges((capacity, tenants) in chunked_organization()) {
        let whole_sums: Vec<TenantSums> = tenants.iter().map(ChunkedTenant::whole).collect();
        let whole = usage(capacity, capacity, &whole_sums);
        let chunks = tenants.first().map_or(1, |t| t.chunks.len());
        let zero = (Quantity::ZERO, Quantity::ZERO, Quantity::ZERO);
        let mut organization = zero;
        let mut per_tenant = vec![zero; tenants.len()];
        let mut last = None;
        for k in 0..chunks {
            let part_sums: Vec<TenantSums> = tenants.iter().map(|t| t.part(k)).collect();
            let part = usage(capacity, capacity, &part_sums);
            organization = add(organization, organization_flow(&part.organization));
            for (total, t) in per_tenant.iter_mut().zip(&part.tenants) {
                *total = add(*total, tenant_flow(t));
            }
            last = Some(part);
        }
        prop_assert_eq!(organization, organization_flow(&whole.organization));
        for (i, (total, t)) in per_tenant.iter().zip(&whole.tenants).enumerate() {
            prop_assert_eq!(*total, tenant_flow(t), "tenant {}", i);
        }
        // The last sub-range ends where the whole range does: with its flow
        // figures swapped for the whole range's, every card must be identical.
        let last = last.expect("at least one sub-range");
        let o = whole.organization;
        prop_assert_eq!(
            OrganizationFigures {
                consumed: o.consumed,
                consumed_from_allocated: o.consumed_from_allocated,
                consumed_from_organization: o.consumed_from_organization,
                ..last.organization
            },
            o
        );
        for (i, (l, w)) in last.tenants.iter().zip(&whole.tenants).enumerate() {
            prop_assert_eq!(
                &TenantFigures {
                    consumed: w.consumed,
                    consumed_from_allocated: w.consumed_from_allocated,
                    consumed_from_organization: w.consumed_from_organization,
                    ..*l
                },
                w,
                "tenant {}",
                i
            );
        }
    }

    /// 6. The capacity card shows the figure its mode names, and the mode is
    /// the most pressing one that applies (OVERAGE, then OVER_ALLOCATION).
    #[test]
    fn without_a_burst_every_figure_is_the_one_of_section_3((capacity, tenants) in organization()) {
        let o = usage(capacity, capacity, &tenants).organization;
        let (remaining, overage, mode, status) = without_burst(capacity, &tenants);
        prop_assert_eq!(o.limit, capacity);
        prop_assert_eq!((o.remaining, o.overage, o.capacity_card.mode, o.status), (remaining, overage, mode, status));
    }

    #[test]
    fn a_burst_never_makes_a_figure_worse(
        (capacity, tenants, limit) in organization().prop_flat_map(|(c, t)| (Just(c), Just(t), burst_limit(c)))
    ) {
        let plain = usage(capacity, capacity, &tenants);
        let burst = usage(capacity, limit, &tenants);
        let (p, b) = (plain.organization, burst.organization);
        prop_assert!(b.remaining >= p.remaining);
        prop_assert!(b.overage <= p.overage);
        prop_assert!(severity(b.status) <= severity(p.status));
        // Allocation figures and the tenants' cards do not depend on the burst.
        prop_assert_eq!((b.allocated, b.available_for_allocation, b.over_allocation), (p.allocated, p.available_for_allocation, p.over_allocation));
        prop_assert_eq!(burst.tenants, plain.tenants);
    }

    #[test]
    fn capacity_card_mode_matches_its_value((capacity, tenants) in organization()) {
        let o = usage(capacity, capacity, &tenants).organization;
        let card = o.capacity_card;
        let expected = match card.mode {
            CapacityCardMode::Overage => o.overage,
            CapacityCardMode::OverAllocation => o.over_allocation,
            CapacityCardMode::AvailableForAllocation => o.available_for_allocation,
        };
        prop_assert_eq!(card.value, expected, "{:?}", card.mode);
        let mode = if o.overage > Quantity::ZERO {
            CapacityCardMode::Overage
        } else if o.over_allocation > Quantity::ZERO {
            CapacityCardMode::OverAllocation
        } else {
            CapacityCardMode::AvailableForAllocation
        };
        prop_assert_eq!(card.mode, mode);
    }
}
