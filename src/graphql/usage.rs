//! The consumption dashboards (docs/design.md §3): organization figures, tenant cards and the
//! quota view. One usage query loads every sum it needs at once, so the tenant cards
//! cost no statement of their own.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, connection::Connection};

use super::{
    admin::UnitType,
    analytics::{Granularity, ServiceBreakdown, UsageBucket},
    attribution::{Attribution, FolderUsage, ProcessUsage},
    license::Bundle,
    node::{Kind, decode_any},
    reads::Reads,
    scalars::{Date, Decimal},
    tenant::{Tenant, TenantState},
};
use crate::domain::{
    forecast,
    metrics::{self, OrganizationFigures, QuotaView, TenantFigures},
    tenant,
};
use crate::service::{bundle::LicensedBundle, usage::UsageReport};

/// Inclusive calendar days in the organization's time zone, inside one bundle.
#[derive(InputObject)]
pub struct DateRangeInput {
    /// First day.
    pub from: Date,
    /// Last day (inclusive).
    pub to: Date,
}

/// The organization's health.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::metrics::OrganizationStatus")]
pub enum OrganizationStatus {
    /// Consumption and allocations fit comfortably.
    Healthy,
    /// Less than 15% of capacity remains, or more is allocated than bought.
    NeedsAttention,
    /// Consumption is past capacity.
    Critical,
}

/// A tenant's health.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::metrics::TenantStatus")]
pub enum TenantStatus {
    /// Below 70% of its allocation.
    Healthy,
    /// At 70% of its allocation, or consuming with no allocation.
    Warning,
    /// At 90% of its allocation or past it.
    Critical,
    /// The tenant is disabled.
    Disabled,
    /// The tenant is deleted.
    Deleted,
}

/// Which figure the capacity card shows.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::metrics::CapacityCardMode")]
pub enum CapacityCardMode {
    /// What can still be allocated.
    AvailableForAllocation,
    /// How far consumption is past capacity.
    Overage,
    /// How far allocations are past capacity.
    OverAllocation,
}

/// The card that shows what matters most about capacity now.
pub struct CapacityCard(metrics::CapacityCard);

#[Object]
impl CapacityCard {
    /// Which figure it shows.
    async fn mode(&self) -> CapacityCardMode {
        self.0.mode.into()
    }

    /// The figure.
    async fn value(&self) -> Decimal {
        self.0.value.into()
    }
}

/// The stacked capacity bar.
pub struct CapacityBreakdown(OrganizationFigures);

#[Object]
impl CapacityBreakdown {
    /// Consumption drawn from tenants' allocations.
    async fn consumed_from_allocated(&self) -> Decimal {
        self.0.consumed_from_allocated.into()
    }

    /// Consumption drawn from the organization's pool.
    async fn consumed_from_organization(&self) -> Decimal {
        self.0.consumed_from_organization.into()
    }

    /// Capacity left.
    async fn remaining(&self) -> Decimal {
        self.0.remaining.into()
    }
}

/// Where consumption is heading by the bundle's end, at the rate of the last days up to
/// `to` (docs/design.md §15.6).
pub struct Forecast(forecast::Forecast);

#[Object]
impl Forecast {
    /// Consumption per day over the last min(14, days of the bundle to `to`) days ending on
    /// `to`, rounded down to 4 decimals.
    async fn daily_rate(&self) -> Decimal {
        self.0.daily_rate.into()
    }

    /// Consumption from the bundle's start to `to`, plus the daily rate for each day after
    /// `to` until the bundle's end.
    async fn projected(&self) -> Decimal {
        self.0.projected.into()
    }

    /// The first day after `to` on which consumption at the daily rate exceeds the limit
    /// (the organization's limit, a tenant's allocation); `to` when it already does; null
    /// when it does not happen in the bundle, with no allocation, or at a rate of 0.
    async fn runs_out_on(&self) -> Option<Date> {
        self.0.runs_out_on.map(Date)
    }
}

/// The organization's usage of one unit type over a range of one bundle. Flow figures
/// describe the range; balance figures and statuses the state at its end.
pub struct OrganizationUsage {
    shared: Arc<Reads>,
}

impl OrganizationUsage {
    pub fn new(report: UsageReport) -> Self {
        OrganizationUsage {
            shared: Arc::new(Reads::new(report)),
        }
    }

    fn report(&self) -> &UsageReport {
        &self.shared.report
    }

    /// Organization-wide figures: the authorization matrix keeps TENANT_ADMIN keys from
    /// the fields that read them.
    fn organization(&self) -> &OrganizationFigures {
        &self.report().figures.usage.organization
    }

    fn card(&self, index: usize) -> Option<TenantUsage> {
        let tenant = self.report().figures.tenants.get(index)?;
        if self.report().scope().only_tenant().is_some_and(|t| t != tenant.id) {
            return None;
        }
        Some(TenantUsage {
            shared: self.shared.clone(),
            index,
        })
    }
}

#[Object]
impl OrganizationUsage {
    /// The unit type.
    async fn unit_type(&self) -> UnitType {
        UnitType(self.report().unit_type.clone())
    }

    /// The bundle the figures belong to.
    async fn bundle(&self) -> Bundle {
        Bundle(self.report().bundle.clone())
    }

    /// First day of the range.
    async fn from(&self) -> Date {
        Date(self.report().from)
    }

    /// Last day of the range (inclusive).
    async fn to(&self) -> Date {
        Date(self.report().to)
    }

    /// The bundle's capacity (T), top-ups included.
    async fn total_capacity(&self) -> Decimal {
        self.organization().total_capacity.into()
    }

    /// What the organization may consume in the bundle (L): the capacity raised by the
    /// burst while it is active, else the capacity.
    async fn limit(&self) -> Decimal {
        self.organization().limit.into()
    }

    /// Whether the bundle's burst allowance applies.
    async fn burst_active(&self) -> bool {
        let bundle = &self.report().bundle;
        bundle.terms.burst_active(&bundle.bundle)
    }

    /// Consumption in the range, every tenant included (flow).
    async fn consumed(&self) -> Decimal {
        self.organization().consumed.into()
    }

    /// Consumption in the range drawn from tenants' allocations (flow).
    async fn consumed_from_allocated(&self) -> Decimal {
        self.organization().consumed_from_allocated.into()
    }

    /// Consumption in the range drawn from the organization's pool (flow).
    async fn consumed_from_organization(&self) -> Decimal {
        self.organization().consumed_from_organization.into()
    }

    /// What is left under the limit at the end of the range.
    async fn remaining(&self) -> Decimal {
        self.organization().remaining.into()
    }

    /// Sum of the allocations of tenants that are not DELETED.
    async fn allocated(&self) -> Decimal {
        self.organization().allocated.into()
    }

    /// What can still be allocated.
    async fn available_for_allocation(&self) -> Decimal {
        self.organization().available_for_allocation.into()
    }

    /// Consumption past the limit.
    async fn overage(&self) -> Decimal {
        self.organization().overage.into()
    }

    /// Allocations past capacity.
    async fn over_allocation(&self) -> Decimal {
        self.organization().over_allocation.into()
    }

    /// The card that shows what matters most about capacity now.
    async fn capacity_card(&self) -> CapacityCard {
        CapacityCard(self.organization().capacity_card)
    }

    /// The stacked capacity bar.
    async fn breakdown(&self) -> CapacityBreakdown {
        CapacityBreakdown(*self.organization())
    }

    /// The organization's health at the end of the range.
    async fn status(&self) -> OrganizationStatus {
        self.organization().status.into()
    }

    /// Where the organization's consumption is heading, against its limit.
    async fn forecast(&self, ctx: &Context<'_>) -> async_graphql::Result<Forecast> {
        Ok(Forecast(self.shared.forecast(ctx, None).await?))
    }

    /// A card per tenant, optionally only those in some states. A TENANT_ADMIN gets its own.
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn tenants(&self, states: Option<Vec<TenantState>>) -> Vec<TenantUsage> {
        let states: Option<Vec<tenant::TenantState>> = states.map(|s| s.into_iter().map(Into::into).collect());
        (0..self.report().figures.tenants.len())
            .filter(|&i| {
                states
                    .as_ref()
                    .is_none_or(|s| s.contains(&self.report().figures.sums[i].state))
            })
            .filter_map(|i| self.card(i))
            .collect()
    }

    /// One tenant's card; null when it does not exist or is outside your scope.
    async fn tenant(&self, id: ID) -> Option<TenantUsage> {
        let (Kind::Tenant, uuid) = decode_any(&id)? else {
            return None;
        };
        let index = self.report().figures.tenants.iter().position(|t| t.id == uuid)?;
        self.card(index).map(|card| TenantUsage {
            shared: Arc::new(card.shared.narrowed(uuid)),
            index,
        })
    }

    /// One folder's row in its tenant's `folders(attribution)`, with the same figures; null
    /// when it does not exist or is outside your scope.
    async fn folder(
        &self,
        ctx: &Context<'_>,
        id: ID,
        attribution: Attribution,
    ) -> async_graphql::Result<Option<FolderUsage>> {
        let Some((Kind::Folder, uuid)) = decode_any(&id) else {
            return Ok(None);
        };
        self.shared.folder(ctx, uuid, attribution.into()).await
    }

    /// Consumption over the range in buckets of a day, an ISO week or a month (every
    /// bucket present, cut to the range).
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn distribution(
        &self,
        ctx: &Context<'_>,
        granularity: Granularity,
    ) -> async_graphql::Result<Vec<UsageBucket>> {
        self.shared.distribution(ctx, granularity.into(), None).await
    }

    /// Consumption over the range by service.
    async fn by_service(&self, ctx: &Context<'_>) -> async_graphql::Result<ServiceBreakdown> {
        self.shared.by_service(ctx, None).await
    }

    /// Top-level folders of every tenant, then one "no folder" row (folder: null).
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn folders(&self, ctx: &Context<'_>, attribution: Attribution) -> async_graphql::Result<Vec<FolderUsage>> {
        self.shared.folders(ctx, attribution.into(), None).await
    }

    /// Processes of every tenant, largest consumption first.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn processes(
        &self,
        ctx: &Context<'_>,
        attribution: Attribution,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, ProcessUsage>> {
        self.shared.processes(ctx, attribution.into(), None, first, after).await
    }
}

/// A tenant's card: its figures over the range, balance figures at its end.
pub struct TenantUsage {
    shared: Arc<Reads>,
    index: usize,
}

impl TenantUsage {
    fn figures(&self) -> &TenantFigures {
        &self.shared.report.figures.usage.tenants[self.index]
    }

    fn model(&self) -> &entity::tenant::Model {
        &self.shared.report.figures.tenants[self.index]
    }
}

#[Object]
impl TenantUsage {
    /// The tenant.
    async fn tenant(&self) -> async_graphql::Result<Tenant> {
        let tenant = self.shared.report.tenant(self.index).ok_or_else(|| {
            crate::error::AppError::Internal(anyhow::anyhow!("a card of a tenant its caller does not see"))
        })?;
        Ok(Tenant::one(tenant))
    }

    /// The tenant's name; its id (UUID) once it is DELETED, as exports and logs carry it.
    async fn display_name(&self) -> String {
        let model = self.model();
        if model.state == tenant::TenantState::Deleted.as_str() {
            model.id.to_string()
        } else {
            model.name.clone()
        }
    }

    /// Its allocation at the end of the range; null when it has none (N/A).
    async fn allocated(&self) -> Option<Decimal> {
        self.figures().allocated.map(Into::into)
    }

    /// Its consumption in the range (flow).
    async fn consumed(&self) -> Decimal {
        self.figures().consumed.into()
    }

    /// Consumption in the range drawn from its allocation (flow).
    async fn consumed_from_allocated(&self) -> Decimal {
        self.figures().consumed_from_allocated.into()
    }

    /// Consumption in the range drawn from the organization's pool (flow).
    async fn consumed_from_organization(&self) -> Decimal {
        self.figures().consumed_from_organization.into()
    }

    /// Consumption to date over allocation; null with no allocation or an allocation of 0.
    async fn consumption_rate(&self) -> Option<f64> {
        self.figures().consumption_rate
    }

    /// Allocation left; 0 with none.
    async fn remaining(&self) -> Decimal {
        self.figures().remaining.into()
    }

    /// Consumption past its allocation; 0 with none.
    async fn overage(&self) -> Decimal {
        self.figures().overage.into()
    }

    /// The organization's figure of what can still be allocated.
    async fn available_for_allocation(&self) -> Decimal {
        self.figures().available_for_allocation.into()
    }

    /// Its health at the end of the range.
    async fn status(&self) -> TenantStatus {
        self.figures().status.into()
    }

    /// Where its consumption is heading, against its allocation.
    async fn forecast(&self, ctx: &Context<'_>) -> async_graphql::Result<Forecast> {
        Ok(Forecast(self.shared.forecast(ctx, Some(self.index)).await?))
    }

    /// Its consumption over the range in buckets of a day, an ISO week or a month.
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn distribution(
        &self,
        ctx: &Context<'_>,
        granularity: Granularity,
    ) -> async_graphql::Result<Vec<UsageBucket>> {
        self.shared
            .distribution(ctx, granularity.into(), Some(self.model().id))
            .await
    }

    /// Its consumption over the range by service.
    async fn by_service(&self, ctx: &Context<'_>) -> async_graphql::Result<ServiceBreakdown> {
        self.shared.by_service(ctx, Some(self.model().id)).await
    }

    /// Its top-level folders, then the "no folder" row (folder: null).
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn folders(&self, ctx: &Context<'_>, attribution: Attribution) -> async_graphql::Result<Vec<FolderUsage>> {
        self.shared
            .folders(ctx, attribution.into(), Some(self.model().id))
            .await
    }

    /// Its processes, largest consumption first.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn processes(
        &self,
        ctx: &Context<'_>,
        attribution: Attribution,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, ProcessUsage>> {
        self.shared
            .processes(ctx, attribution.into(), Some(self.model().id), first, after)
            .await
    }
}

/// The quota view of a unit type's current bundle, organization-wide.
pub struct QuotaBalance {
    pub unit_type: entity::unit_type::Model,
    pub bundle: LicensedBundle,
    pub view: QuotaView,
}

#[Object]
impl QuotaBalance {
    /// The unit type.
    async fn unit_type(&self) -> UnitType {
        UnitType(self.unit_type.clone())
    }

    /// EXECUTION units used this period.
    async fn used(&self) -> Decimal {
        self.view.used.into()
    }

    /// Capacity of the period.
    async fn quota(&self) -> Decimal {
        self.view.quota.into()
    }

    /// The limit: the quota raised by the burst while it applies.
    async fn limit(&self) -> Decimal {
        self.view.limit.into()
    }

    /// What is left under the limit.
    async fn remaining(&self) -> Decimal {
        self.view.remaining.into()
    }

    /// Whether the burst allowance applies this period.
    async fn burst_active(&self) -> bool {
        self.view.burst_active
    }

    /// Whether admissions past the limit are refused.
    async fn enforced(&self) -> bool {
        self.bundle.license.enforced
    }

    /// First day of the period.
    async fn period_start(&self) -> Date {
        Date(self.view.period_start)
    }

    /// First day after the period (exclusive).
    async fn period_end(&self) -> Date {
        Date(self.view.period_end)
    }

    /// The day the counter starts again.
    async fn resets_on(&self) -> Date {
        Date(self.view.resets_on)
    }
}
