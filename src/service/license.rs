//! Licenses and their bundles (docs/design.md §2, §15.1). Licenses belong to the vendor:
//! only the operator (SYSTEM) creates, upgrades or tops one up. An upgrade ends the old
//! license on its effective day and starts the new one that day, so the counter and the
//! burst start again; a top-up raises the capacity from a bundle on, and nothing restarts.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{
    AppContext, OrgScope, Seen, audit,
    bundle::{LicensedBundle, bundles_on, terms},
    clean_name, organization, require, unit_type, watch, zone_of,
};
use crate::domain::{
    Quantity,
    access::Actor,
    ids::{LicenseId, OrganizationId},
    period::{LicenseTerms, Period},
};
use crate::error::{AppError, AppResult};
use crate::store;
use entity::license::Model;

/// What a new license is made of.
pub struct NewLicense {
    pub organization_id: OrganizationId,
    pub unit_type: String,
    pub plan_name: String,
    pub capacity: String,
    pub period: Period,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub burst_percent: i32,
    pub burst_periods: i32,
    pub enforced: bool,
}

/// What an upgrade changes; unset fields keep the old license's value.
pub struct LicenseUpgrade {
    pub license_id: LicenseId,
    pub plan_name: String,
    pub capacity: String,
    pub burst_percent: Option<i32>,
    pub burst_periods: Option<i32>,
    pub enforced: Option<bool>,
    pub effective_on: Option<NaiveDate>,
}

fn capacity_of(text: &str) -> AppResult<Quantity> {
    Quantity::parse_non_negative(text).map_err(|e| AppError::bad_input(format!("capacity: {e}")))
}

fn burst(percent: i32, periods: i32) -> AppResult<(u32, u32)> {
    let percent =
        u32::try_from(percent).map_err(|_| AppError::bad_input("burstPercent must be between 100 and 1000"))?;
    let periods = u32::try_from(periods).map_err(|_| AppError::bad_input("burstPeriods must be 0 or more"))?;
    Ok((percent, periods))
}

/// Whether two spans of days `[start, end)` share a day; a span with no day (a license
/// upgraded on its first day) shares none.
fn overlaps(a: (NaiveDate, Option<NaiveDate>), b: (NaiveDate, Option<NaiveDate>)) -> bool {
    let before = |end: Option<NaiveDate>, start: NaiveDate| end.is_some_and(|end| end <= start);
    !before(a.1, a.0) && !before(b.1, b.0) && !before(a.1, b.0) && !before(b.1, a.0)
}

/// A top-up: capacity bought on top of a license.
pub struct TopUpRequest {
    pub license_id: LicenseId,
    pub amount: String,
    /// The day it counts from (its bundle and every later one); default: today.
    pub effective_on: Option<NaiveDate>,
}

/// A license as the audit log shows it.
fn license_json(license: &Model, unit_type: &str) -> serde_json::Value {
    serde_json::json!({
        "id": license.id,
        "unitType": unit_type,
        "planName": license.plan_name,
        "capacity": crate::domain::Quantity::from_scaled(license.capacity).to_string(),
        "period": license.period,
        "startsOn": license.starts_on,
        "endsOn": license.ends_on,
        "burstPercent": license.burst_percent,
        "burstPeriods": license.burst_periods,
        "enforced": license.enforced,
        "replaces": license.replaces_id,
    })
}

pub async fn create(ctx: &AppContext, actor: &Actor, input: NewLicense) -> AppResult<Model> {
    require(
        actor.operate(),
        "organization",
        "create licenses (the vendor's billing does)",
    )?;
    let org = organization::visible(ctx, actor, input.organization_id).await?;
    let plan_name = clean_name("planName", &input.plan_name)?;
    let (burst_percent, burst_periods) = burst(input.burst_percent, input.burst_periods)?;
    let terms = LicenseTerms {
        period: input.period,
        starts_on: input.starts_on,
        ends_on: input.ends_on,
        capacity: capacity_of(&input.capacity)?,
        burst_percent,
        burst_periods,
    };
    terms.validate().map_err(|e| AppError::bad_input(e.to_string()))?;
    let tx = store::begin_write(&ctx.writer).await?;
    store::organization::lock(&tx, org.id).await?;
    let unit = unit_type::by_code(&tx, "unitType", &input.unit_type).await?;
    let existing = store::license::list(&tx, org.id, Some(unit.id)).await?;
    if let Some(other) = existing
        .iter()
        .find(|l| overlaps((l.starts_on, l.ends_on), (terms.starts_on, terms.ends_on)))
    {
        return Err(AppError::Conflict(format!(
            "license '{}' already covers {} from {}; use upgradeLicense to replace it",
            other.plan_name, unit.code, other.starts_on
        )));
    }
    let model = Model {
        id: Uuid::now_v7(),
        organization_id: org.id,
        unit_type_id: unit.id,
        plan_name,
        capacity: terms.capacity.scaled(),
        period: terms.period.as_str().to_owned(),
        starts_on: terms.starts_on,
        ends_on: terms.ends_on,
        burst_percent: input.burst_percent,
        burst_periods: input.burst_periods,
        enforced: input.enforced,
        replaces_id: None,
        created_at: ctx.clock.now(),
    };
    let model = store::license::insert(&tx, model).await?;
    let change = audit::Change::of(Some(org.id), "createLicense", "License", Some(model.id))
        .after(license_json(&model, &unit.code));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    watch::after(ctx, watch::Change::of(model.organization_id, model.unit_type_id)).await;
    Ok(model)
}

pub async fn upgrade(ctx: &AppContext, actor: &Actor, input: LicenseUpgrade) -> AppResult<Model> {
    let old = store::license::find(&ctx.db, input.license_id.0)
        .await?
        .ok_or_else(|| AppError::not_found("license"))?;
    require(
        actor.operate(),
        "license",
        "upgrade licenses (the vendor's billing does)",
    )?;
    let org = organization::visible(ctx, actor, OrganizationId(old.organization_id)).await?;
    let today = ctx.clock.today_in(zone_of(&org)?);
    let effective_on = input.effective_on.unwrap_or(today);
    check_effective_day(&old, effective_on)?;
    let plan_name = clean_name("planName", &input.plan_name)?;
    let burst_percent = input.burst_percent.unwrap_or(old.burst_percent);
    let burst_periods = input.burst_periods.unwrap_or(old.burst_periods);
    let (percent, periods) = burst(burst_percent, burst_periods)?;
    let old_terms = terms(&old)?;
    let new_terms = LicenseTerms {
        starts_on: effective_on,
        capacity: capacity_of(&input.capacity)?,
        burst_percent: percent,
        burst_periods: periods,
        ..old_terms
    };
    new_terms.validate().map_err(|e| AppError::bad_input(e.to_string()))?;
    let tx = store::begin_write(&ctx.writer).await?;
    store::organization::lock(&tx, org.id).await?;
    check_still_replaceable(&tx, &old, effective_on).await?;
    store::license::end_on(&tx, old.id, effective_on).await?;
    let unit_code = store::unit_type::find(&tx, old.unit_type_id)
        .await?
        .map(|u| u.code)
        .unwrap_or_default();
    let before = license_json(&old, &unit_code);
    let model = Model {
        id: Uuid::now_v7(),
        plan_name,
        capacity: new_terms.capacity.scaled(),
        starts_on: effective_on,
        burst_percent,
        burst_periods,
        enforced: input.enforced.unwrap_or(old.enforced),
        replaces_id: Some(old.id),
        created_at: ctx.clock.now(),
        ..old
    };
    let model = store::license::insert(&tx, model).await?;
    let change = audit::Change::of(Some(org.id), "upgradeLicense", "License", Some(model.id))
        .before(before)
        .after(license_json(&model, &unit_code));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    watch::after(ctx, watch::Change::of(model.organization_id, model.unit_type_id)).await;
    Ok(model)
}

/// An upgrade takes effect from the old license's start (it then replaces it whole) to
/// the day before its end.
fn check_effective_day(old: &Model, effective_on: NaiveDate) -> AppResult<()> {
    if effective_on < old.starts_on {
        return Err(AppError::bad_input(format!(
            "effectiveOn {effective_on} must be on or after the license's start {}",
            old.starts_on
        )));
    }
    if let Some(ends_on) = old.ends_on
        && effective_on >= ends_on
    {
        return Err(AppError::bad_input(format!(
            "effectiveOn {effective_on} must be before the license's end {ends_on}"
        )));
    }
    Ok(())
}

/// Read again under the organization's lock: a concurrent upgrade may have ended the old
/// license meanwhile, or another license may cover the new one's days.
async fn check_still_replaceable(
    tx: &sea_orm::DatabaseTransaction,
    old: &Model,
    effective_on: NaiveDate,
) -> AppResult<()> {
    let current = store::license::find(tx, old.id)
        .await?
        .ok_or_else(|| AppError::not_found("license"))?;
    if current.ends_on != old.ends_on {
        return Err(AppError::Conflict(
            "the license was changed meanwhile (upgraded?); read it again".into(),
        ));
    }
    let others = store::license::list(tx, old.organization_id, Some(old.unit_type_id)).await?;
    if others
        .iter()
        .any(|l| l.id != old.id && overlaps((l.starts_on, l.ends_on), (effective_on, old.ends_on)))
    {
        return Err(AppError::Conflict(
            "another license of this unit type already covers that period".into(),
        ));
    }
    Ok(())
}

/// Raises a license's capacity by `amount` in the bundle holding `effectiveOn` and every
/// later one. Nothing restarts: the same bundle, counter and burst window.
pub async fn add_capacity(ctx: &AppContext, actor: &Actor, input: TopUpRequest) -> AppResult<Model> {
    require(actor.operate(), "license", "add capacity (the vendor's billing does)")?;
    let amount = top_up_amount(&input.amount)?;
    let tx = store::begin_write(&ctx.writer).await?;
    let license = store::license::find(&tx, input.license_id.0)
        .await?
        .ok_or_else(|| AppError::NotFound("licenseId: license not found".into()))?;
    store::organization::lock(&tx, license.organization_id).await?;
    let org = organization::visible(ctx, actor, OrganizationId(license.organization_id)).await?;
    let today = ctx.clock.today_in(zone_of(&org)?);
    let effective_on = input.effective_on.unwrap_or(today);
    check_top_up_day(&license, effective_on, today)?;
    let top_up = entity::capacity_top_up::Model {
        id: Uuid::now_v7(),
        organization_id: license.organization_id,
        license_id: license.id,
        amount: amount.scaled(),
        effective_on,
        created_at: ctx.clock.now(),
    };
    store::license::insert_top_up(&tx, top_up).await?;
    let added = serde_json::json!({ "amount": amount.to_string(), "effectiveOn": effective_on });
    let change = audit::Change::of(Some(org.id), "addCapacity", "License", Some(license.id)).after(added);
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    watch::after(ctx, watch::Change::of(license.organization_id, license.unit_type_id)).await;
    Ok(license)
}

fn top_up_amount(text: &str) -> AppResult<Quantity> {
    let amount = Quantity::parse(text).map_err(|e| AppError::bad_input(format!("amount: {e}")))?;
    if amount <= Quantity::ZERO {
        return Err(AppError::bad_input(format!(
            "amount: a top-up adds capacity, so it must be more than 0; got {amount}"
        )));
    }
    Ok(amount)
}

/// A top-up counts from a day of the license, and a license that has ended takes none.
fn check_top_up_day(license: &Model, effective_on: NaiveDate, today: NaiveDate) -> AppResult<()> {
    if let Some(ends_on) = license.ends_on
        && ends_on <= today
    {
        return Err(AppError::bad_input(format!(
            "licenseId: the license ended on {ends_on} (exclusive) and takes no more capacity"
        )));
    }
    let inside = license.starts_on <= effective_on && license.ends_on.is_none_or(|end| effective_on < end);
    if !inside {
        let span = match license.ends_on {
            Some(end) => format!("{} to {} (exclusive)", license.starts_on, end),
            None => format!("from {}", license.starts_on),
        };
        return Err(AppError::bad_input(format!(
            "effectiveOn {effective_on} is outside the license, which covers {span}"
        )));
    }
    Ok(())
}

pub async fn get(ctx: &AppContext, actor: &Actor, id: LicenseId) -> AppResult<Option<Model>> {
    let Some(license) = store::license::find(&ctx.db, id.0).await? else {
        return Ok(None);
    };
    Ok(actor
        .can_see_organization(OrganizationId(license.organization_id))
        .then_some(license))
}

/// The organization's licenses, optionally of one unit type.
pub async fn list(ctx: &AppContext, scope: &OrgScope, unit_type: Option<&str>) -> AppResult<Vec<Model>> {
    let unit = match unit_type {
        Some(code) => Some(unit_type::by_code(&ctx.db, "unitType", code).await?.id),
        None => None,
    };
    Ok(store::license::list(&ctx.db, scope.organization_id().0, unit).await?)
}

/// The organization's bundles of a unit type, current first, then older.
pub async fn bundles(
    ctx: &AppContext,
    org: &Seen<entity::organization::Model>,
    unit_type: &str,
) -> AppResult<Vec<LicensedBundle>> {
    let unit = unit_type::by_code(&ctx.db, "unitType", unit_type).await?;
    bundles_on(&ctx.db, org.id, unit.id, ctx.clock.today_in(zone_of(org)?)).await
}

#[cfg(test)]
mod tests {
    use super::overlaps;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn spans_overlap_unless_one_ends_before_the_other_starts() {
        assert!(overlaps((d("2026-01-01"), None), (d("2027-01-01"), None)));
        assert!(!overlaps(
            (d("2026-01-01"), Some(d("2026-06-01"))),
            (d("2026-06-01"), None)
        ));
        assert!(overlaps(
            (d("2026-01-01"), Some(d("2026-06-02"))),
            (d("2026-06-01"), None)
        ));
        assert!(!overlaps(
            (d("2026-06-01"), None),
            (d("2026-01-01"), Some(d("2026-06-01")))
        ));
    }
}
