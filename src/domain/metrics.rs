//! Usage metrics of one unit type over one bundle (docs/design.md §3), as pure
//! functions of a handful of sums.
//!
//! For a bundle of capacity T and a range `[from, to]` inside it, each tenant
//! brings its allocation A (or none), its consumption in the bundle before
//! `from` and its consumption within the range; C = the two together, the
//! consumption from bundle start to `to`. A tenant draws its own allocation
//! first, then the organization's pool. *Flow* figures (consumed and its
//! split) describe the range; *balance* figures and every status describe the
//! state at `to`.
//!
//! Every tenant's consumption counts, DISABLED and DELETED included, and so
//! does the split of it against its (last) allocation; only the organization's
//! `allocated` leaves DELETED tenants out. Thresholds are compared exactly on
//! the scaled integers: a rate of exactly 0.70 is WARNING, exactly 0.90 is
//! CRITICAL, and a remainder of exactly 15% of T is still HEALTHY.
//!
//! While a bundle's burst is active the organization may consume up to its
//! limit L (T raised by the burst percent): what remains, the overage, the
//! capacity card and the status are measured against L, while what can be
//! allocated stays measured against T. Without a burst L = T and nothing
//! changes (docs/design.md §15.1).

use std::fmt;

use chrono::NaiveDate;

use super::period::{Bundle, LicenseTerms};
use super::quantity::Quantity;
use super::tenant::TenantState;

/// The sums one tenant brings to the figures of one unit type and bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantSums {
    pub state: TenantState,
    /// The allocation in force at the end of the range; `None` = N/A.
    pub allocated: Option<Quantity>,
    /// EXECUTION consumption in the bundle before the range.
    pub consumed_before: Quantity,
    /// EXECUTION consumption within the range.
    pub consumed_in_range: Quantity,
}

impl TenantSums {
    /// C: consumption from the bundle's start to the end of the range.
    pub fn consumed_to_date(&self) -> Quantity {
        self.consumed_before + self.consumed_in_range
    }
}

/// Where consumption within a range was drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    pub from_allocated: Quantity,
    pub from_organization: Quantity,
}

/// Splits `in_range` between the tenant's allocation (what `before` left of
/// it) and the organization's pool; with no allocation all of it is pool use.
pub fn split(allocated: Option<Quantity>, before: Quantity, in_range: Quantity) -> Split {
    let from_allocated = match allocated {
        Some(allocated) => (allocated - before).clamp(Quantity::ZERO, in_range),
        None => Quantity::ZERO,
    };
    Split {
        from_allocated,
        from_organization: in_range - from_allocated,
    }
}

/// The organization's health for one unit type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrganizationStatus {
    Healthy,
    NeedsAttention,
    Critical,
}

impl OrganizationStatus {
    /// The exported spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrganizationStatus::Healthy => "HEALTHY",
            OrganizationStatus::NeedsAttention => "NEEDS_ATTENTION",
            OrganizationStatus::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for OrganizationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant's health for one unit type; its state comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TenantStatus {
    Healthy,
    Warning,
    Critical,
    Disabled,
    Deleted,
}

impl TenantStatus {
    /// The exported spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Healthy => "HEALTHY",
            TenantStatus::Warning => "WARNING",
            TenantStatus::Critical => "CRITICAL",
            TenantStatus::Disabled => "DISABLED",
            TenantStatus::Deleted => "DELETED",
        }
    }
}

impl fmt::Display for TenantStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which figure the organization's capacity card shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CapacityCardMode {
    AvailableForAllocation,
    Overage,
    OverAllocation,
}

impl CapacityCardMode {
    /// The exported spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            CapacityCardMode::AvailableForAllocation => "AVAILABLE_FOR_ALLOCATION",
            CapacityCardMode::Overage => "OVERAGE",
            CapacityCardMode::OverAllocation => "OVER_ALLOCATION",
        }
    }
}

impl fmt::Display for CapacityCardMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The organization's headline card: the most pressing figure and its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityCard {
    pub mode: CapacityCardMode,
    pub value: Quantity,
}

/// The organization-level figures of docs/design.md §3 and §15.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrganizationFigures {
    /// T.
    pub total_capacity: Quantity,
    /// L: T raised by the burst while it is active, else T.
    pub limit: Quantity,
    /// Σ C(in), every tenant (flow).
    pub consumed: Quantity,
    /// Σ of the range's split (flow).
    pub consumed_from_allocated: Quantity,
    /// Σ of the range's split (flow).
    pub consumed_from_organization: Quantity,
    /// max(0, L − Σ C).
    pub remaining: Quantity,
    /// Σ A over tenants with an allocation that are not DELETED.
    pub allocated: Quantity,
    /// max(0, T − allocated − Σ fromOrganization to date).
    pub available_for_allocation: Quantity,
    /// max(0, Σ C − L).
    pub overage: Quantity,
    /// max(0, allocated − T).
    pub over_allocation: Quantity,
    pub capacity_card: CapacityCard,
    pub status: OrganizationStatus,
}

/// The figures of one tenant's card (docs/design.md §3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TenantFigures {
    /// A, or `None` for N/A; a DELETED tenant keeps its last one.
    pub allocated: Option<Quantity>,
    /// C(in) (flow).
    pub consumed: Quantity,
    /// The range's split (flow).
    pub consumed_from_allocated: Quantity,
    /// The range's split (flow).
    pub consumed_from_organization: Quantity,
    /// C / A; `None` when A is N/A or 0.
    pub consumption_rate: Option<f64>,
    /// max(0, A − C); 0 when N/A.
    pub remaining: Quantity,
    /// max(0, C − A); 0 when N/A.
    pub overage: Quantity,
    /// The organization's figure.
    pub available_for_allocation: Quantity,
    pub status: TenantStatus,
}

/// The whole usage answer: the organization and its tenants in input order.
#[derive(Clone, Debug, PartialEq)]
pub struct Usage {
    pub organization: OrganizationFigures,
    pub tenants: Vec<TenantFigures>,
}

/// The organization's status from T, its limit L, Σ C and its allocated total:
/// CRITICAL past the limit; NEEDS_ATTENTION when spending the burst (past T),
/// when less than 15% of T remains under L, or when more than T is allocated;
/// else HEALTHY.
pub fn organization_status(
    total_capacity: Quantity,
    limit: Quantity,
    consumed: Quantity,
    allocated: Quantity,
) -> OrganizationStatus {
    let t = i128::from(total_capacity.scaled());
    let l = i128::from(limit.scaled());
    let c = i128::from(consumed.scaled());
    if consumed > limit {
        OrganizationStatus::Critical
    } else if consumed > total_capacity || 100 * (l - c) < 15 * t || allocated > total_capacity {
        // L − C < 0.15·T, exactly.
        OrganizationStatus::NeedsAttention
    } else {
        OrganizationStatus::Healthy
    }
}

/// A tenant's status from its state, allocation and C (consumption to date).
pub fn tenant_status(state: TenantState, allocated: Option<Quantity>, consumed: Quantity) -> TenantStatus {
    match state {
        TenantState::Deleted => return TenantStatus::Deleted,
        TenantState::Disabled => return TenantStatus::Disabled,
        TenantState::Active => {}
    }
    let used = consumed > Quantity::ZERO;
    let Some(allocated) = allocated else {
        // All of its use is drawn from the organization's pool.
        return if used {
            TenantStatus::Warning
        } else {
            TenantStatus::Healthy
        };
    };
    if allocated.is_zero() {
        return if used {
            TenantStatus::Critical
        } else {
            TenantStatus::Healthy
        };
    }
    let a = i128::from(allocated.scaled());
    let c = i128::from(consumed.scaled());
    // rate ≥ 0.90 ⇔ 10·C ≥ 9·A, and rate ≥ 0.70 ⇔ 10·C ≥ 7·A, for A > 0.
    if consumed > allocated || 10 * c >= 9 * a {
        TenantStatus::Critical
    } else if 10 * c >= 7 * a {
        TenantStatus::Warning
    } else {
        TenantStatus::Healthy
    }
}

/// The organization's figures from T, its limit L and every tenant's sums.
pub fn organization_figures(total_capacity: Quantity, limit: Quantity, tenants: &[TenantSums]) -> OrganizationFigures {
    let mut consumed = Quantity::ZERO;
    let mut consumed_from_allocated = Quantity::ZERO;
    let mut consumed_from_organization = Quantity::ZERO;
    let mut consumed_to_date = Quantity::ZERO;
    let mut from_organization_to_date = Quantity::ZERO;
    let mut allocated = Quantity::ZERO;
    for tenant in tenants {
        let in_range = split(tenant.allocated, tenant.consumed_before, tenant.consumed_in_range);
        let to_date = split(tenant.allocated, Quantity::ZERO, tenant.consumed_to_date());
        consumed += tenant.consumed_in_range;
        consumed_from_allocated += in_range.from_allocated;
        consumed_from_organization += in_range.from_organization;
        consumed_to_date += tenant.consumed_to_date();
        // A DELETED tenant's use stays drawn from its last allocation, which
        // itself no longer reserves anything.
        from_organization_to_date += to_date.from_organization;
        if tenant.state != TenantState::Deleted
            && let Some(amount) = tenant.allocated
        {
            allocated += amount;
        }
    }
    let available_for_allocation = (total_capacity - allocated - from_organization_to_date).positive_part();
    let overage = (consumed_to_date - limit).positive_part();
    let over_allocation = (allocated - total_capacity).positive_part();
    let capacity_card = if consumed_to_date > limit {
        CapacityCard {
            mode: CapacityCardMode::Overage,
            value: overage,
        }
    } else if allocated > total_capacity {
        CapacityCard {
            mode: CapacityCardMode::OverAllocation,
            value: over_allocation,
        }
    } else {
        CapacityCard {
            mode: CapacityCardMode::AvailableForAllocation,
            value: available_for_allocation,
        }
    };
    OrganizationFigures {
        total_capacity,
        limit,
        consumed,
        consumed_from_allocated,
        consumed_from_organization,
        remaining: (limit - consumed_to_date).positive_part(),
        allocated,
        available_for_allocation,
        overage,
        over_allocation,
        capacity_card,
        status: organization_status(total_capacity, limit, consumed_to_date, allocated),
    }
}

/// One tenant's card, given the organization's `available_for_allocation`.
pub fn tenant_figures(tenant: &TenantSums, available_for_allocation: Quantity) -> TenantFigures {
    let consumed_to_date = tenant.consumed_to_date();
    let in_range = split(tenant.allocated, tenant.consumed_before, tenant.consumed_in_range);
    TenantFigures {
        allocated: tenant.allocated,
        consumed: tenant.consumed_in_range,
        consumed_from_allocated: in_range.from_allocated,
        consumed_from_organization: in_range.from_organization,
        consumption_rate: tenant.allocated.and_then(|a| consumed_to_date.ratio(a)),
        remaining: tenant
            .allocated
            .map_or(Quantity::ZERO, |a| (a - consumed_to_date).positive_part()),
        overage: tenant
            .allocated
            .map_or(Quantity::ZERO, |a| (consumed_to_date - a).positive_part()),
        available_for_allocation,
        status: tenant_status(tenant.state, tenant.allocated, consumed_to_date),
    }
}

/// The organization's figures and every tenant's card, in input order.
pub fn usage(total_capacity: Quantity, limit: Quantity, tenants: &[TenantSums]) -> Usage {
    let organization = organization_figures(total_capacity, limit, tenants);
    let tenants = tenants
        .iter()
        .map(|tenant| tenant_figures(tenant, organization.available_for_allocation))
        .collect();
    Usage { organization, tenants }
}

/// The quota panel of one unit type for one bundle (docs/design.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaView {
    /// EXECUTION units used in the bundle.
    pub used: Quantity,
    /// The bundle's capacity, T.
    pub quota: Quantity,
    /// T, raised by the burst percent during the burst periods (L).
    pub limit: Quantity,
    /// max(0, limit − used).
    pub remaining: Quantity,
    pub burst_active: bool,
    pub period_start: NaiveDate,
    /// The first day after the bundle (exclusive).
    pub period_end: NaiveDate,
    /// When the counter starts again at 0: the bundle's end.
    pub resets_on: NaiveDate,
}

/// The quota panel for `bundle` of `terms`, given the units used in it.
pub fn quota_view(terms: &LicenseTerms, bundle: &Bundle, used: Quantity) -> QuotaView {
    let limit = terms.limit(bundle);
    QuotaView {
        used,
        quota: bundle.capacity,
        limit,
        remaining: (limit - used).positive_part(),
        burst_active: terms.burst_active(bundle),
        period_start: bundle.start,
        period_end: bundle.end,
        resets_on: bundle.end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::period::Period;
    use serde_json::Value;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).expect("a decimal")
    }

    fn active(allocated: Option<&str>, before: &str, in_range: &str) -> TenantSums {
        TenantSums {
            state: TenantState::Active,
            allocated: allocated.map(q),
            consumed_before: q(before),
            consumed_in_range: q(in_range),
        }
    }

    fn with_state(state: TenantState, sums: TenantSums) -> TenantSums {
        TenantSums { state, ..sums }
    }

    fn parse_state(text: &str) -> TenantState {
        text.parse().expect("a tenant state")
    }

    fn quantity_field(value: &Value, field: &str) -> Option<Quantity> {
        match &value[field] {
            Value::Null => None,
            Value::String(text) => Some(q(text)),
            other => panic!("{field}: expected a decimal string or null, got {other}"),
        }
    }

    fn check_quantity(case: &str, what: &str, expected: &Value, field: &str, got: Quantity) {
        assert_eq!(
            quantity_field(expected, field),
            Some(got),
            "case '{case}': {what}.{field}"
        );
    }

    #[test]
    fn every_vector_case() {
        let vectors: Value =
            serde_json::from_str(include_str!("../../tests/vectors/metrics.json")).expect("the vectors are JSON");
        let cases = vectors["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 167);
        for case in cases {
            let name = case["name"].as_str().expect("a case name");
            let sums: Vec<TenantSums> = case["tenants"]
                .as_array()
                .expect("tenants")
                .iter()
                .map(|t| TenantSums {
                    state: parse_state(t["state"].as_str().expect("a state")),
                    allocated: quantity_field(t, "allocated"),
                    consumed_before: quantity_field(t, "consumedBefore").expect("consumedBefore"),
                    consumed_in_range: quantity_field(t, "consumedInRange").expect("consumedInRange"),
                })
                .collect();
            let capacity = quantity_field(case, "totalCapacity").expect("totalCapacity");
            let got = usage(capacity, capacity, &sums);

            let org = &case["expect"]["organization"];
            let o = &got.organization;
            let what = "organization";
            check_quantity(name, what, org, "totalCapacity", o.total_capacity);
            check_quantity(name, what, org, "consumed", o.consumed);
            check_quantity(name, what, org, "consumedFromAllocated", o.consumed_from_allocated);
            check_quantity(
                name,
                what,
                org,
                "consumedFromOrganization",
                o.consumed_from_organization,
            );
            check_quantity(name, what, org, "remaining", o.remaining);
            check_quantity(name, what, org, "allocated", o.allocated);
            check_quantity(name, what, org, "availableForAllocation", o.available_for_allocation);
            check_quantity(name, what, org, "overage", o.overage);
            check_quantity(name, what, org, "overAllocation", o.over_allocation);
            let card = &org["capacityCard"];
            assert_eq!(
                card["mode"].as_str().expect("a card mode"),
                o.capacity_card.mode.as_str(),
                "case '{name}': capacityCard.mode"
            );
            check_quantity(name, "capacityCard", card, "value", o.capacity_card.value);
            assert_eq!(
                org["status"].as_str().expect("a status"),
                o.status.as_str(),
                "case '{name}': organization.status"
            );

            let expected_tenants = case["expect"]["tenants"].as_array().expect("expected tenants");
            assert_eq!(expected_tenants.len(), got.tenants.len(), "case '{name}'");
            for (i, (exp, t)) in expected_tenants.iter().zip(&got.tenants).enumerate() {
                let what = format!("tenants[{i}]");
                assert_eq!(
                    quantity_field(exp, "allocated"),
                    t.allocated,
                    "case '{name}': {what}.allocated"
                );
                check_quantity(name, &what, exp, "consumed", t.consumed);
                check_quantity(name, &what, exp, "consumedFromAllocated", t.consumed_from_allocated);
                check_quantity(
                    name,
                    &what,
                    exp,
                    "consumedFromOrganization",
                    t.consumed_from_organization,
                );
                match (exp["consumptionRate"].as_f64(), t.consumption_rate) {
                    (None, None) => assert!(
                        exp["consumptionRate"].is_null(),
                        "case '{name}': {what}.consumptionRate"
                    ),
                    (Some(e), Some(g)) => {
                        assert!((e - g).abs() <= 1e-9, "case '{name}': {what}.consumptionRate {g} ≠ {e}")
                    }
                    (e, g) => panic!("case '{name}': {what}.consumptionRate {g:?} ≠ {e:?}"),
                }
                check_quantity(name, &what, exp, "remaining", t.remaining);
                check_quantity(name, &what, exp, "overage", t.overage);
                check_quantity(name, &what, exp, "availableForAllocation", t.available_for_allocation);
                assert_eq!(
                    exp["status"].as_str().expect("a status"),
                    t.status.as_str(),
                    "case '{name}': {what}.status"
                );
            }
        }
    }

    #[test]
    fn split_draws_the_allocation_first() {
        let cases = [
            // (allocated, before, in_range, from_allocated, from_organization)
            (None, "0", "30", "0", "30"),
            (Some("100"), "0", "30", "30", "0"),
            (Some("100"), "80", "50", "20", "30"),
            (Some("100"), "120", "50", "0", "50"),
            (Some("100"), "100", "0", "0", "0"),
            (Some("0"), "0", "5", "0", "5"),
            (Some("0.5"), "0.2", "0.0004", "0.0004", "0"),
        ];
        for (allocated, before, in_range, from_allocated, from_organization) in cases {
            assert_eq!(
                split(allocated.map(q), q(before), q(in_range)),
                Split {
                    from_allocated: q(from_allocated),
                    from_organization: q(from_organization),
                },
                "{allocated:?} {before} {in_range}"
            );
        }
    }

    /// One row of a worked example: expected organization status, card and
    /// figures, and each tenant's status.
    struct Example {
        name: &'static str,
        tenants: Vec<TenantSums>,
        status: OrganizationStatus,
        card: (CapacityCardMode, &'static str),
        consumed: &'static str,
        allocated: &'static str,
        available: &'static str,
        tenant_statuses: Vec<TenantStatus>,
    }

    #[test]
    fn worked_examples_of_design_section_9() {
        use CapacityCardMode::*;
        use OrganizationStatus as O;
        use TenantStatus as S;
        let examples = [
            Example {
                name: "healthy",
                tenants: vec![
                    active(Some("400"), "0", "100"),
                    active(Some("300"), "0", "0"),
                    active(None, "0", "0"),
                ],
                status: O::Healthy,
                card: (AvailableForAllocation, "300"),
                consumed: "100",
                allocated: "700",
                available: "300",
                tenant_statuses: vec![S::Healthy, S::Healthy, S::Healthy],
            },
            Example {
                name: "low remaining",
                tenants: vec![active(Some("500"), "0", "440"), active(Some("400"), "0", "420")],
                status: O::NeedsAttention,
                card: (AvailableForAllocation, "80"),
                consumed: "860",
                allocated: "900",
                available: "80",
                tenant_statuses: vec![S::Warning, S::Critical],
            },
            Example {
                name: "over-allocated",
                tenants: vec![active(Some("700"), "0", "10"), active(Some("600"), "0", "0")],
                status: O::NeedsAttention,
                card: (OverAllocation, "300"),
                consumed: "10",
                allocated: "1300",
                available: "0",
                tenant_statuses: vec![S::Healthy, S::Healthy],
            },
            Example {
                name: "overage",
                tenants: vec![active(Some("200"), "0", "900"), active(None, "0", "300")],
                status: O::Critical,
                card: (Overage, "200"),
                consumed: "1200",
                allocated: "200",
                available: "0",
                tenant_statuses: vec![S::Critical, S::Warning],
            },
            Example {
                name: "deleted tenant",
                tenants: vec![
                    active(Some("500"), "0", "100"),
                    with_state(TenantState::Deleted, active(Some("300"), "0", "50")),
                ],
                status: O::Healthy,
                card: (AvailableForAllocation, "500"),
                consumed: "150",
                allocated: "500",
                available: "500",
                tenant_statuses: vec![S::Healthy, S::Deleted],
            },
        ];
        for example in examples {
            let got = usage(q("1000"), q("1000"), &example.tenants);
            let org = got.organization;
            let name = example.name;
            assert_eq!(org.status, example.status, "{name}");
            assert_eq!(
                org.capacity_card,
                CapacityCard {
                    mode: example.card.0,
                    value: q(example.card.1)
                },
                "{name}"
            );
            assert_eq!(org.consumed, q(example.consumed), "{name}");
            assert_eq!(org.allocated, q(example.allocated), "{name}");
            assert_eq!(org.available_for_allocation, q(example.available), "{name}");
            let statuses: Vec<TenantStatus> = got.tenants.iter().map(|t| t.status).collect();
            assert_eq!(statuses, example.tenant_statuses, "{name}");
        }
    }

    #[test]
    fn low_remaining_in_detail() {
        let got = usage(
            q("1000"),
            q("1000"),
            &[active(Some("500"), "0", "440"), active(Some("400"), "0", "420")],
        );
        assert_eq!(got.organization.remaining, q("140"));
        assert_eq!(got.organization.consumed_from_allocated, q("840"));
        assert_eq!(got.organization.consumed_from_organization, q("20"));
        let (a, b) = (got.tenants[0], got.tenants[1]);
        assert_eq!(a.consumption_rate, Some(0.88));
        assert_eq!(b.consumption_rate, Some(1.05));
        assert_eq!(
            (b.consumed_from_allocated, b.consumed_from_organization),
            (q("400"), q("20"))
        );
        assert_eq!((b.remaining, b.overage), (q("0"), q("20")));
    }

    #[test]
    fn a_sub_range_in_the_middle_of_a_bundle() {
        let got = usage(q("1000"), q("1000"), &[active(Some("100"), "80", "50")]);
        let t = got.tenants[0];
        // Flow figures cover the range …
        assert_eq!(t.consumed, q("50"));
        assert_eq!(t.consumed_from_allocated, q("20"));
        assert_eq!(t.consumed_from_organization, q("30"));
        // … balance figures the 130 consumed by its end.
        assert_eq!(t.consumption_rate, Some(1.3));
        assert_eq!(t.overage, q("30"));
        assert_eq!(t.remaining, q("0"));
        assert_eq!(t.status, TenantStatus::Critical);
        let org = got.organization;
        assert_eq!(org.consumed, q("50"));
        assert_eq!(org.remaining, q("870"));
        assert_eq!(org.available_for_allocation, q("870"));
    }

    #[test]
    fn tenant_status_boundaries() {
        use TenantState::*;
        use TenantStatus as S;
        let cases = [
            // (state, allocated, consumed to date, status)
            (Active, Some("100"), "69.9999", S::Healthy),
            (Active, Some("100"), "70", S::Warning),
            (Active, Some("100"), "89.9999", S::Warning),
            (Active, Some("100"), "90", S::Critical),
            (Active, Some("100"), "100", S::Critical),
            (Active, Some("100"), "100.0001", S::Critical),
            (Active, Some("0.0010"), "0.0007", S::Warning),
            (Active, Some("0.0010"), "0.0009", S::Critical),
            (Active, Some("0"), "0", S::Healthy),
            (Active, Some("0"), "0.0001", S::Critical),
            (Active, None, "0", S::Healthy),
            (Active, None, "0.0001", S::Warning),
            (Disabled, Some("100"), "95", S::Disabled),
            (Disabled, None, "0", S::Disabled),
            (Deleted, Some("100"), "200", S::Deleted),
            (Deleted, None, "0", S::Deleted),
        ];
        for (state, allocated, consumed, status) in cases {
            assert_eq!(
                tenant_status(state, allocated.map(q), q(consumed)),
                status,
                "{state} {allocated:?} {consumed}"
            );
        }
    }

    #[test]
    fn allocation_zero_and_not_applicable() {
        let cases = [
            // (allocated, consumed, rate, remaining, overage, status)
            (Some("0"), "0", None, "0", "0", TenantStatus::Healthy),
            (Some("0"), "1", None, "0", "1", TenantStatus::Critical),
            (None, "0", None, "0", "0", TenantStatus::Healthy),
            (None, "300", None, "0", "0", TenantStatus::Warning),
        ];
        for (allocated, consumed, rate, remaining, overage, status) in cases {
            let t = tenant_figures(&active(allocated, "0", consumed), q("10"));
            assert_eq!(t.consumption_rate, rate, "{allocated:?} {consumed}");
            assert_eq!(t.remaining, q(remaining), "{allocated:?} {consumed}");
            assert_eq!(t.overage, q(overage), "{allocated:?} {consumed}");
            assert_eq!(t.status, status, "{allocated:?} {consumed}");
            assert_eq!(t.consumed_from_organization, q(consumed), "{allocated:?} {consumed}");
            assert_eq!(t.available_for_allocation, q("10"));
        }
    }

    #[test]
    fn a_burst_moves_remaining_overage_card_and_status_to_the_limit() {
        use CapacityCardMode as M;
        use OrganizationStatus as O;
        let cases = [
            // (T, L, Σ C (one tenant without allocation), allocated elsewhere, remaining, overage, card, status)
            (
                "1000",
                "1300",
                "500",
                "0",
                "800",
                "0",
                (M::AvailableForAllocation, "500"),
                O::Healthy,
            ),
            // Spending the burst: past T, within L.
            (
                "1000",
                "1300",
                "1100",
                "0",
                "200",
                "0",
                (M::AvailableForAllocation, "0"),
                O::NeedsAttention,
            ),
            (
                "1000",
                "1300",
                "1300",
                "0",
                "0",
                "0",
                (M::AvailableForAllocation, "0"),
                O::NeedsAttention,
            ),
            (
                "1000",
                "1300",
                "1300.0001",
                "0",
                "0",
                "0.0001",
                (M::Overage, "0.0001"),
                O::Critical,
            ),
            // Under T, but less than 15% of T left under L.
            (
                "1000",
                "1100",
                "950",
                "0",
                "150",
                "0",
                (M::AvailableForAllocation, "50"),
                O::Healthy,
            ),
            (
                "1000",
                "1100",
                "950.0001",
                "0",
                "149.9999",
                "0",
                (M::AvailableForAllocation, "49.9999"),
                O::NeedsAttention,
            ),
            // Allocations stay measured against T.
            (
                "1000",
                "1300",
                "0",
                "1200",
                "1300",
                "0",
                (M::OverAllocation, "200"),
                O::NeedsAttention,
            ),
        ];
        for (t, l, c, allocated, remaining, overage, (mode, value), status) in cases {
            let mut tenants = vec![active(None, "0", c)];
            if allocated != "0" {
                tenants.push(active(Some(allocated), "0", "0"));
            }
            let o = usage(q(t), q(l), &tenants).organization;
            let case = format!("T {t}, L {l}, C {c}, allocated {allocated}");
            assert_eq!(o.limit, q(l), "{case}");
            assert_eq!((o.remaining, o.overage), (q(remaining), q(overage)), "{case}");
            assert_eq!(o.capacity_card, CapacityCard { mode, value: q(value) }, "{case}");
            assert_eq!(o.status, status, "{case}");
            assert_eq!(o.over_allocation, (q(allocated) - q(t)).positive_part(), "{case}");
        }
    }

    #[test]
    fn organization_status_boundaries() {
        use OrganizationStatus as O;
        let cases = [
            // (T, Σ C, allocated, status)
            ("1000", "850", "0", O::Healthy),             // remaining exactly 15%
            ("1000", "850.0001", "0", O::NeedsAttention), // just under 15%
            ("1000", "1000", "1000", O::NeedsAttention),  // exactly at capacity
            ("1000", "1000.0001", "0", O::Critical),
            ("1000", "0", "1000", O::Healthy),
            ("1000", "0", "1000.0001", O::NeedsAttention),
            ("1000", "2000", "5000", O::Critical),
            ("0", "0", "0", O::Healthy),
            ("0", "0.0001", "0", O::Critical),
            ("0", "0", "0.0001", O::NeedsAttention),
            ("0.0020", "0.0017", "0", O::Healthy),
            ("0.0020", "0.0018", "0", O::NeedsAttention),
        ];
        for (t, c, allocated, status) in cases {
            assert_eq!(
                organization_status(q(t), q(t), q(c), q(allocated)),
                status,
                "{t} {c} {allocated}"
            );
        }
    }

    #[test]
    fn disabled_and_deleted_tenants_in_the_organization_sums() {
        let tenants = [
            with_state(TenantState::Disabled, active(Some("400"), "0", "100")),
            with_state(TenantState::Deleted, active(Some("300"), "100", "250")),
            with_state(TenantState::Deleted, active(None, "0", "20")),
            active(Some("100"), "0", "0"),
        ];
        let got = usage(q("1000"), q("1000"), &tenants);
        let org = got.organization;
        // Everyone's consumption counts …
        assert_eq!(org.consumed, q("370"));
        assert_eq!(org.remaining, q("530"));
        // … split against each tenant's (last) allocation …
        assert_eq!(org.consumed_from_allocated, q("300"));
        assert_eq!(org.consumed_from_organization, q("70"));
        // … but a DELETED tenant's allocation reserves nothing any more.
        assert_eq!(org.allocated, q("500"));
        // 1000 − 500 − (50 over the deleted tenant's 300 + 20 without one).
        assert_eq!(org.available_for_allocation, q("430"));
        let statuses: Vec<TenantStatus> = got.tenants.iter().map(|t| t.status).collect();
        assert_eq!(
            statuses,
            [
                TenantStatus::Disabled,
                TenantStatus::Deleted,
                TenantStatus::Deleted,
                TenantStatus::Healthy
            ]
        );
        // A DELETED tenant's card keeps its last allocation and its figures.
        let deleted = got.tenants[1];
        assert_eq!(deleted.allocated, Some(q("300")));
        assert_eq!(deleted.overage, q("50"));
        assert_eq!(deleted.consumed_from_allocated, q("200"));
    }

    #[test]
    fn capacity_zero() {
        let idle = usage(Quantity::ZERO, Quantity::ZERO, &[active(None, "0", "0")]).organization;
        assert_eq!(idle.status, OrganizationStatus::Healthy);
        assert_eq!(idle.capacity_card.mode, CapacityCardMode::AvailableForAllocation);
        assert_eq!(idle.capacity_card.value, Quantity::ZERO);
        let used = usage(Quantity::ZERO, Quantity::ZERO, &[active(None, "0", "1")]).organization;
        assert_eq!(used.status, OrganizationStatus::Critical);
        assert_eq!(
            used.capacity_card,
            CapacityCard {
                mode: CapacityCardMode::Overage,
                value: q("1")
            }
        );
        assert_eq!(used.remaining, Quantity::ZERO);
        let empty = usage(q("10"), q("10"), &[]);
        assert_eq!(empty.organization.available_for_allocation, q("10"));
        assert!(empty.tenants.is_empty());
    }

    #[test]
    fn enums_spell_as_in_the_schema() {
        assert_eq!(OrganizationStatus::NeedsAttention.to_string(), "NEEDS_ATTENTION");
        assert_eq!(TenantStatus::Deleted.as_str(), "DELETED");
        assert_eq!(CapacityCardMode::OverAllocation.as_str(), "OVER_ALLOCATION");
        assert_eq!(
            CapacityCardMode::AvailableForAllocation.as_str(),
            "AVAILABLE_FOR_ALLOCATION"
        );
    }

    #[test]
    fn quota_view_with_and_without_burst() {
        let terms = LicenseTerms {
            period: Period::Month,
            starts_on: "2026-01-10".parse().expect("a date"),
            ends_on: None,
            capacity: q("1000"),
            burst_percent: 130,
            burst_periods: 3,
        };
        let day = |text: &str| -> NaiveDate { text.parse().expect("a date") };
        let cases = [
            // (day in bundle, used, limit, remaining, burst)
            ("2026-01-10", "0", "1300", "1300", true),
            ("2026-03-20", "1200", "1300", "100", true),
            ("2026-04-10", "1200", "1000", "0", false),
            ("2026-05-01", "999.5", "1000", "0.5", false),
        ];
        for (today, used, limit, remaining, burst) in cases {
            let bundle = terms.bundle_containing(day(today)).expect("covered");
            let view = quota_view(&terms, &bundle, q(used));
            assert_eq!(view.used, q(used), "{today}");
            assert_eq!(view.quota, q("1000"), "{today}");
            assert_eq!(view.limit, q(limit), "{today}");
            assert_eq!(view.remaining, q(remaining), "{today}");
            assert_eq!(view.burst_active, burst, "{today}");
            assert_eq!(view.period_start, bundle.start, "{today}");
            assert_eq!(view.period_end, bundle.end, "{today}");
            assert_eq!(view.resets_on, bundle.end, "{today}");
        }
    }
}
