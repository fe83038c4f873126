//! Licenses and their bundles.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};

use super::{
    admin::UnitType,
    node::{Kind, decode, decode_field, encode},
    organization::Organization,
    scalars::{Date, Decimal},
    session,
};
use crate::domain::{
    Quantity,
    ids::{LicenseId, OrganizationId},
};
use crate::error::AppError;
use crate::service::{
    self,
    bundle::LicensedBundle,
    license::{LicenseUpgrade, NewLicense, TopUpRequest},
};

/// How long one period of a license lasts.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::period::Period")]
pub enum Period {
    /// A calendar month from the start day (clamped to short months' last day).
    Month,
    /// A calendar year from the start day.
    Year,
    /// One fixed term from `startsOn` to `endsOn`.
    Term,
}

/// Capacity bought for one unit type ("subscription" in the products' words).
pub struct License(pub entity::license::Model);

#[Object]
impl License {
    /// The license's global id.
    pub async fn id(&self) -> ID {
        encode(Kind::License, self.0.id)
    }

    /// The organization that bought it.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let (app, actor) = session(ctx)?;
        Ok(
            service::organization::get(app, actor, OrganizationId(self.0.organization_id))
                .await?
                .map(Organization::new),
        )
    }

    /// What the capacity is counted in.
    async fn unit_type(&self, ctx: &Context<'_>) -> async_graphql::Result<UnitType> {
        let (app, _) = session(ctx)?;
        let unit = service::unit_type::get(app, self.0.unit_type_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("license without unit type")))?;
        Ok(UnitType(unit))
    }

    /// The plan's name.
    async fn plan_name(&self) -> &str {
        &self.0.plan_name
    }

    /// Capacity per period.
    async fn capacity(&self) -> Decimal {
        Quantity::from_scaled(self.0.capacity).into()
    }

    /// Period length.
    async fn period(&self) -> async_graphql::Result<Period> {
        Ok(service::bundle::terms(&self.0)?.period.into())
    }

    /// First day covered.
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }

    /// First day no longer covered (exclusive); null while it runs on.
    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Date)
    }

    /// The limit during the first `burstPeriods` periods, in percent of capacity.
    async fn burst_percent(&self) -> i32 {
        self.0.burst_percent
    }

    /// How many periods from the start the burst applies to.
    async fn burst_periods(&self) -> i32 {
        self.0.burst_periods
    }

    /// Whether admissions are refused past the limit.
    async fn enforced(&self) -> bool {
        self.0.enforced
    }

    /// The license this one upgraded.
    async fn replaces(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<License>> {
        let (app, actor) = session(ctx)?;
        let Some(id) = self.0.replaces_id else { return Ok(None) };
        Ok(service::license::get(app, actor, LicenseId(id)).await?.map(License))
    }
}

/// One period of a license: `[startDate, endDate)` with its capacity.
pub struct Bundle(pub LicensedBundle);

#[Object]
impl Bundle {
    /// What the capacity is counted in.
    async fn unit_type(&self, ctx: &Context<'_>) -> async_graphql::Result<UnitType> {
        let (app, _) = session(ctx)?;
        let unit = service::unit_type::get(app, self.0.license.unit_type_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("license without unit type")))?;
        Ok(UnitType(unit))
    }

    /// First day of the bundle.
    async fn start_date(&self) -> Date {
        Date(self.0.bundle.start)
    }

    /// First day after the bundle (exclusive).
    async fn end_date(&self) -> Date {
        Date(self.0.bundle.end)
    }

    /// Capacity of the bundle.
    async fn capacity(&self) -> Decimal {
        self.0.bundle.capacity.into()
    }

    /// The limit in this bundle: capacity, raised by the burst while it applies.
    async fn limit(&self) -> Decimal {
        self.0.terms.limit(&self.0.bundle).into()
    }

    /// Whether the burst allowance applies in this bundle.
    async fn burst_active(&self) -> bool {
        self.0.terms.burst_active(&self.0.bundle)
    }

    /// Whether the bundle contains today.
    async fn current(&self) -> bool {
        self.0.current
    }

    /// The license the bundle belongs to.
    async fn license(&self) -> License {
        License(self.0.license.clone())
    }
}

/// A new license.
#[derive(InputObject)]
pub struct CreateLicenseInput {
    /// The organization buying it.
    pub organization_id: ID,
    /// The unit type's code.
    pub unit_type: String,
    /// The plan's name.
    pub plan_name: String,
    /// Capacity per period.
    pub capacity: Decimal,
    /// Period length.
    pub period: Period,
    /// First day covered.
    pub starts_on: Date,
    /// First day no longer covered (exclusive); required for TERM.
    pub ends_on: Option<Date>,
    /// The limit during the burst periods, in percent of capacity (100 to 1000).
    #[graphql(default = 100)]
    pub burst_percent: i32,
    /// How many periods from the start the burst applies to.
    #[graphql(default = 0)]
    pub burst_periods: i32,
    /// Whether admissions are refused past the limit.
    #[graphql(default = false)]
    pub enforced: bool,
}

/// Replaces a license by another for the same unit type from `effectiveOn` (default today):
/// the counter starts again at 0 and the burst applies again. Unset fields keep the old values.
#[derive(InputObject)]
pub struct UpgradeLicenseInput {
    /// The license to replace.
    pub license_id: ID,
    /// The new plan's name.
    pub plan_name: String,
    /// The new capacity per period.
    pub capacity: Decimal,
    /// The new burst percent.
    pub burst_percent: Option<i32>,
    /// The new number of burst periods.
    pub burst_periods: Option<i32>,
    /// Whether the new license is enforced.
    pub enforced: Option<bool>,
    /// The day the new license starts and the old one ends; default today.
    pub effective_on: Option<Date>,
}

/// Capacity bought on top of a license (SYSTEM only): it raises the capacity of the bundle
/// holding `effectiveOn` and of every later bundle; nothing restarts.
#[derive(InputObject)]
pub struct AddCapacityInput {
    /// The license topped up.
    pub license_id: ID,
    /// Units added per bundle; more than 0.
    pub amount: Decimal,
    /// A day of the license: the top-up counts from its bundle on. Default today.
    pub effective_on: Option<Date>,
}

/// The license made or changed.
#[derive(SimpleObject)]
pub struct LicensePayload {
    /// The license.
    pub license: License,
}

/// Buying, upgrading and topping up licenses: the vendor's (SYSTEM) alone.
#[derive(Default)]
pub struct LicenseMutation;

#[Object]
impl LicenseMutation {
    /// Adds a license to an organization (SYSTEM only).
    async fn create_license(
        &self,
        ctx: &Context<'_>,
        input: CreateLicenseInput,
    ) -> async_graphql::Result<LicensePayload> {
        let (app, actor) = session(ctx)?;
        let organization: OrganizationId = decode_field(&input.organization_id, "organizationId")?;
        let model = service::license::create(
            app,
            actor,
            NewLicense {
                organization_id: organization,
                unit_type: input.unit_type,
                plan_name: input.plan_name,
                capacity: input.capacity.0,
                period: input.period.into(),
                starts_on: input.starts_on.0,
                ends_on: input.ends_on.map(|d| d.0),
                burst_percent: input.burst_percent,
                burst_periods: input.burst_periods,
                enforced: input.enforced,
            },
        )
        .await?;
        Ok(LicensePayload {
            license: License(model),
        })
    }

    /// Replaces a license by a new plan from its effective day (SYSTEM only); on the old
    /// license's first day the new one replaces it whole.
    async fn upgrade_license(
        &self,
        ctx: &Context<'_>,
        input: UpgradeLicenseInput,
    ) -> async_graphql::Result<LicensePayload> {
        let (app, actor) = session(ctx)?;
        let license: LicenseId = decode(&input.license_id)?;
        let model = service::license::upgrade(
            app,
            actor,
            LicenseUpgrade {
                license_id: license,
                plan_name: input.plan_name,
                capacity: input.capacity.0,
                burst_percent: input.burst_percent,
                burst_periods: input.burst_periods,
                enforced: input.enforced,
                effective_on: input.effective_on.map(|d| d.0),
            },
        )
        .await?;
        Ok(LicensePayload {
            license: License(model),
        })
    }

    /// Raises a license's capacity from a bundle on (SYSTEM only).
    async fn add_capacity(&self, ctx: &Context<'_>, input: AddCapacityInput) -> async_graphql::Result<LicensePayload> {
        let (app, actor) = session(ctx)?;
        let request = TopUpRequest {
            license_id: decode_field(&input.license_id, "licenseId")?,
            amount: input.amount.0,
            effective_on: input.effective_on.map(|d| d.0),
        };
        let model = service::license::add_capacity(app, actor, request).await?;
        Ok(LicensePayload {
            license: License(model),
        })
    }
}
