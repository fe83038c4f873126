//! Usage events and their rollups, per day and (EXECUTION consumption) per month.
//! Ingestion writes them in one transaction; every figure is read from the rollups, never
//! by scanning raw events.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use entity::{usage_daily, usage_event, usage_monthly};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, ExprTrait, IntoActiveModel,
    QueryFilter, QuerySelect,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use super::Scope;
use crate::domain::rollup;

/// The fingerprints already stored under these idempotency keys of an organization.
pub async fn fingerprints(
    db: &impl ConnectionTrait,
    organization: Uuid,
    keys: &[String],
) -> Result<HashMap<String, Vec<u8>>, DbErr> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(super::in_chunk(db, keys.len())) {
        let rows: Vec<(String, Vec<u8>)> = usage_event::Entity::find()
            .select_only()
            .column(usage_event::Column::IdempotencyKey)
            .column(usage_event::Column::Fingerprint)
            .filter(usage_event::Column::OrganizationId.eq(organization))
            .filter(super::one_of(db, usage_event::Column::IdempotencyKey, chunk))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

pub async fn insert_events(db: &impl ConnectionTrait, events: Vec<usage_event::Model>) -> Result<(), DbErr> {
    for chunk in events.chunks(super::ROWS_PER_STATEMENT) {
        let rows: Vec<usage_event::ActiveModel> = chunk
            .iter()
            .cloned()
            .map(|m| m.into_active_model().reset_all())
            .collect();
        usage_event::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Adds to the per-day rollup, and the EXECUTION rows to the per-month totals: each row's
/// figures are added to the stored ones. Rows come in key order (see ingestion), and the
/// monthly rows are written in key order too.
pub async fn add_to_rollups(db: &impl ConnectionTrait, rows: Vec<usage_daily::Model>) -> Result<(), DbErr> {
    use usage_daily::Column as C;
    let mut monthly: BTreeMap<(Uuid, Uuid, NaiveDate), usage_monthly::Model> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.kind == "EXECUTION") {
        let month = rollup::month_of(row.day);
        monthly
            .entry((row.tenant_id, row.unit_type_id, month))
            .or_insert_with(|| usage_monthly::Model {
                tenant_id: row.tenant_id,
                unit_type_id: row.unit_type_id,
                month,
                organization_id: row.organization_id,
                quantity: 0,
            })
            .quantity += row.quantity;
    }
    let added =
        |column: C, name: &str| Expr::col((usage_daily::Entity, column)).add(Expr::cust(format!("excluded.{name}")));
    let on_conflict = OnConflict::columns(super::key(
        db,
        C::OrganizationId,
        [C::TenantId, C::UnitTypeId, C::Day, C::ServiceId, C::Kind],
    ))
    .value(C::Quantity, added(C::Quantity, "quantity"))
    .value(C::Events, added(C::Events, "events"))
    .value(C::DurationMs, added(C::DurationMs, "duration_ms"))
    .to_owned();
    for chunk in rows.chunks(super::ROWS_PER_STATEMENT) {
        let rows: Vec<usage_daily::ActiveModel> = chunk
            .iter()
            .cloned()
            .map(|m| m.into_active_model().reset_all())
            .collect();
        usage_daily::Entity::insert_many(rows)
            .on_conflict(on_conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    use usage_monthly::Column as M;
    let on_conflict = OnConflict::columns(super::key(
        db,
        M::OrganizationId,
        [M::TenantId, M::UnitTypeId, M::Month],
    ))
    .value(
        M::Quantity,
        Expr::col((usage_monthly::Entity, M::Quantity)).add(Expr::cust("excluded.quantity")),
    )
    .to_owned();
    let monthly: Vec<usage_monthly::Model> = monthly.into_values().collect();
    for chunk in monthly.chunks(super::ROWS_PER_STATEMENT) {
        let rows: Vec<usage_monthly::ActiveModel> = chunk
            .iter()
            .cloned()
            .map(|m| m.into_active_model().reset_all())
            .collect();
        usage_monthly::Entity::insert_many(rows)
            .on_conflict(on_conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// EXECUTION consumption per tenant of an organization over the days `[from, until)`,
/// in ten-thousandths: whole months from the monthly totals, the other days from the
/// per-day rollup. Tenants without consumption are absent.
pub async fn consumed_by_tenant(
    db: &impl ConnectionTrait,
    organization: Uuid,
    unit_type: Uuid,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<HashMap<Uuid, i64>, DbErr> {
    let split = rollup::split(from, until);
    let mut totals: HashMap<Uuid, i64> = HashMap::new();
    if let Some((first, end)) = split.months {
        use usage_monthly::Column as M;
        let rows: Vec<(Uuid, i64)> = usage_monthly::Entity::find()
            .select_only()
            .column(M::TenantId)
            .column_as(Expr::cust(super::SUM_QUANTITY), "total")
            .filter(M::OrganizationId.eq(organization))
            .filter(M::UnitTypeId.eq(unit_type))
            .filter(M::Month.gte(first))
            .filter(M::Month.lt(end))
            .group_by(M::TenantId)
            .into_tuple()
            .all(db)
            .await?;
        for (tenant, total) in rows {
            *totals.entry(tenant).or_default() += total;
        }
    }
    if !split.days.is_empty() {
        let rows: Vec<(Uuid, i64)> = usage_daily::Entity::find()
            .select_only()
            .column(usage_daily::Column::TenantId)
            .column_as(Expr::cust(super::SUM_QUANTITY), "total")
            .filter(usage_daily::Column::OrganizationId.eq(organization))
            .filter(usage_daily::Column::UnitTypeId.eq(unit_type))
            .filter(usage_daily::Column::Kind.eq("EXECUTION"))
            .filter(super::days_in(usage_daily::Column::Day, &split.days))
            .group_by(usage_daily::Column::TenantId)
            .into_tuple()
            .all(db)
            .await?;
        for (tenant, total) in rows {
            *totals.entry(tenant).or_default() += total;
        }
    }
    Ok(totals)
}

/// Sums of the two rollups per organization, for tests that check the monthly totals
/// against the per-day rows: (daily EXECUTION quantity, monthly quantity).
pub async fn rollup_totals(db: &impl ConnectionTrait, organization: Uuid) -> Result<(i64, i64), DbErr> {
    let daily: Option<i64> = usage_daily::Entity::find()
        .select_only()
        .column_as(Expr::cust(super::SUM_QUANTITY), "total")
        .filter(usage_daily::Column::OrganizationId.eq(organization))
        .filter(usage_daily::Column::Kind.eq("EXECUTION"))
        .into_tuple()
        .one(db)
        .await?;
    let monthly: Option<i64> = usage_monthly::Entity::find()
        .select_only()
        .column_as(Expr::cust(super::SUM_QUANTITY), "total")
        .filter(usage_monthly::Column::OrganizationId.eq(organization))
        .into_tuple()
        .one(db)
        .await?;
    Ok((daily.unwrap_or(0), monthly.unwrap_or(0)))
}

/// Sums over the raw events that count (not voided), for tests that check the rollup
/// against its source.
pub async fn raw_totals(db: &impl ConnectionTrait, organization: Uuid) -> Result<(i64, i64), DbErr> {
    let row: Option<(i64, i64)> = usage_event::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "events")
        .column_as(Expr::cust(super::SUM_QUANTITY), "total")
        .filter(usage_event::Column::OrganizationId.eq(organization))
        .filter(usage_event::Column::VoidedAt.is_null())
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.unwrap_or_default())
}

/// EXECUTION consumption of a scope over the days `[from, until)`,
/// per tenant, day and service, in ten-thousandths.
pub async fn consumed_by_day_and_service(
    db: &impl ConnectionTrait,
    scope: Scope,
    unit_type: Uuid,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<(Uuid, NaiveDate, Uuid, i64)>, DbErr> {
    use usage_daily::Column as C;
    usage_daily::Entity::find()
        .select_only()
        .columns([C::TenantId, C::Day, C::ServiceId])
        .column_as(Expr::cust(super::SUM_QUANTITY), "total")
        .filter(scope.rows(C::OrganizationId, C::TenantId))
        .filter(C::UnitTypeId.eq(unit_type))
        .filter(C::Kind.eq("EXECUTION"))
        .filter(C::Day.gte(from))
        .filter(C::Day.lt(until))
        .group_by(C::TenantId)
        .group_by(C::Day)
        .group_by(C::ServiceId)
        .into_tuple()
        .all(db)
        .await
}

/// EXECUTION consumption of a scope over the days `[from, until)`, per day, in
/// ten-thousandths.
pub async fn consumed_by_day(
    db: &impl ConnectionTrait,
    scope: Scope,
    unit_type: Uuid,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<(NaiveDate, i64)>, DbErr> {
    use usage_daily::Column as C;
    usage_daily::Entity::find()
        .select_only()
        .column(C::Day)
        .column_as(Expr::cust(super::SUM_QUANTITY), "total")
        .filter(scope.rows(C::OrganizationId, C::TenantId))
        .filter(C::UnitTypeId.eq(unit_type))
        .filter(C::Kind.eq("EXECUTION"))
        .filter(C::Day.gte(from))
        .filter(C::Day.lt(until))
        .group_by(C::Day)
        .into_tuple()
        .all(db)
        .await
}

/// Events, quantity (ten-thousandths) and duration of a scope over the days
/// `[from, until)`, per day and kind.
pub async fn activity_by_day(
    db: &impl ConnectionTrait,
    scope: Scope,
    unit_type: Uuid,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<(NaiveDate, String, i64, i64, i64)>, DbErr> {
    use usage_daily::Column as C;
    usage_daily::Entity::find()
        .select_only()
        .columns([C::Day, C::Kind])
        .column_as(Expr::cust("CAST(COALESCE(SUM(events), 0) AS BIGINT)"), "events")
        .column_as(Expr::cust(super::SUM_QUANTITY), "quantity")
        .column_as(Expr::cust("CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT)"), "duration")
        .filter(scope.rows(C::OrganizationId, C::TenantId))
        .filter(C::UnitTypeId.eq(unit_type))
        .filter(C::Day.gte(from))
        .filter(C::Day.lt(until))
        .group_by(C::Day)
        .group_by(C::Kind)
        .into_tuple()
        .all(db)
        .await
}

/// A page of the usage events of a scope and unit type on the
/// days `[from, until)`, in recording order, after the event `after`; voided ones too
/// (`events.csv` lists them, marked).
pub async fn events_page(
    db: &impl ConnectionTrait,
    scope: Scope,
    unit_type: Uuid,
    (from, until): (NaiveDate, NaiveDate),
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<usage_event::Model>, DbErr> {
    use sea_orm::QueryOrder;
    use usage_event::Column as C;
    let mut query = usage_event::Entity::find()
        .filter(scope.rows(C::OrganizationId, C::TenantId))
        .filter(C::UnitTypeId.eq(unit_type))
        .filter(C::Day.gte(from))
        .filter(C::Day.lt(until))
        .order_by_asc(C::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(C::Id.gt(after));
    }
    query.all(db).await
}

/// Sets the duration of a live event that has none; false when it had one already (a
/// concurrent finish got there first) or was voided meanwhile.
pub async fn set_duration(
    db: &impl ConnectionTrait,
    organization: Uuid,
    event: Uuid,
    duration_ms: i64,
) -> Result<bool, DbErr> {
    use usage_event::Column as C;
    let updated = usage_event::Entity::update_many()
        .col_expr(C::DurationMs, Expr::value(duration_ms))
        .filter(C::OrganizationId.eq(organization))
        .filter(C::Id.eq(event))
        .filter(C::DurationMs.is_null())
        .filter(C::VoidedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The event recorded under an idempotency key of an organization.
pub async fn find_by_key(
    db: &impl ConnectionTrait,
    organization: Uuid,
    key: &str,
) -> Result<Option<usage_event::Model>, DbErr> {
    usage_event::Entity::find()
        .filter(usage_event::Column::OrganizationId.eq(organization))
        .filter(usage_event::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
}

/// The events of an organization under these idempotency keys, voided or not.
pub async fn find_by_keys(
    db: &impl ConnectionTrait,
    organization: Uuid,
    keys: &[String],
) -> Result<Vec<usage_event::Model>, DbErr> {
    let mut found = Vec::new();
    for chunk in keys.chunks(super::in_chunk(db, keys.len())) {
        let rows = usage_event::Entity::find()
            .filter(usage_event::Column::OrganizationId.eq(organization))
            .filter(super::one_of(db, usage_event::Column::IdempotencyKey, chunk))
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Voids the events of an organization with these ids that are not voided yet, and answers
/// the events this statement voided, as they are now. One `UPDATE … WHERE voided_at IS
/// NULL RETURNING`: of two concurrent voids of an event, the second waits for the first
/// (PostgreSQL row lock; SQLite writers are serialized) and gets nothing back for it, so
/// only one takes its figures off the rollups.
pub async fn void(
    db: &impl ConnectionTrait,
    organization: Uuid,
    ids: &[Uuid],
    at: DateTime<Utc>,
    reason: &str,
) -> Result<Vec<usage_event::Model>, DbErr> {
    use sea_orm::{FromQueryResult, QueryTrait};
    use usage_event::Column as C;
    let mut voided = Vec::new();
    for chunk in ids.chunks(super::in_chunk(db, ids.len())) {
        let mut update = usage_event::Entity::update_many()
            .col_expr(C::VoidedAt, Expr::value(at))
            .col_expr(C::VoidReason, Expr::value(reason))
            .filter(C::OrganizationId.eq(organization))
            .filter(super::one_of(db, C::Id, chunk))
            .filter(C::VoidedAt.is_null())
            .into_query();
        update.returning_all();
        for row in db.query_all(&update).await? {
            voided.push(usage_event::Model::from_query_result(&row, "")?);
        }
    }
    Ok(voided)
}

/// Takes voided events' figures off the per-day rollup and the monthly totals: `rows` (the
/// figures to take off, in key order) are added negated, as ingestion adds, and a row left
/// with nothing is deleted, so the rollups read as if those events had never been recorded.
/// The rows deleted are ones this transaction has just updated, so it holds their locks.
pub async fn remove_from_rollups(db: &impl ConnectionTrait, rows: Vec<usage_daily::Model>) -> Result<(), DbErr> {
    let negated = rows
        .iter()
        .map(|r| usage_daily::Model {
            quantity: -r.quantity,
            events: -r.events,
            duration_ms: -r.duration_ms,
            ..r.clone()
        })
        .collect();
    add_to_rollups(db, negated).await?;
    use usage_daily::Column as C;
    for chunk in rows.chunks(KEYS_PER_DELETE) {
        let mut rows_of = Condition::any();
        for r in chunk {
            rows_of = rows_of.add(
                Condition::all()
                    .add(C::OrganizationId.eq(r.organization_id))
                    .add(C::TenantId.eq(r.tenant_id))
                    .add(C::UnitTypeId.eq(r.unit_type_id))
                    .add(C::Day.eq(r.day))
                    .add(C::ServiceId.eq(r.service_id))
                    .add(C::Kind.eq(r.kind.clone())),
            );
        }
        usage_daily::Entity::delete_many()
            .filter(rows_of)
            .filter(C::Quantity.eq(0))
            .filter(C::Events.eq(0))
            .filter(C::DurationMs.eq(0))
            .exec(db)
            .await?;
    }
    use usage_monthly::Column as M;
    let mut months: Vec<(Uuid, Uuid, Uuid, NaiveDate)> = rows
        .iter()
        .filter(|r| r.kind == "EXECUTION")
        .map(|r| (r.organization_id, r.tenant_id, r.unit_type_id, rollup::month_of(r.day)))
        .collect();
    months.sort();
    months.dedup();
    for chunk in months.chunks(KEYS_PER_DELETE) {
        let mut rows_of = Condition::any();
        for (organization, tenant, unit_type, month) in chunk {
            rows_of = rows_of.add(
                Condition::all()
                    .add(M::OrganizationId.eq(*organization))
                    .add(M::TenantId.eq(*tenant))
                    .add(M::UnitTypeId.eq(*unit_type))
                    .add(M::Month.eq(*month)),
            );
        }
        usage_monthly::Entity::delete_many()
            .filter(rows_of)
            .filter(M::Quantity.eq(0))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Rollup rows one statement deletes by key: a handful of parameters each, well under
/// SQLite's limit.
pub(crate) const KEYS_PER_DELETE: usize = 100;

/// The tenants (with their organization) and unit types of an organization that have usage
/// on `last_day` or before: where raw events may be old enough to go.
pub async fn usage_until(
    db: &impl ConnectionTrait,
    organization: Uuid,
    last_day: NaiveDate,
) -> Result<Vec<(Uuid, Uuid, Uuid)>, DbErr> {
    usage_daily::Entity::find()
        .select_only()
        .column(usage_daily::Column::OrganizationId)
        .column(usage_daily::Column::TenantId)
        .column(usage_daily::Column::UnitTypeId)
        .filter(usage_daily::Column::OrganizationId.eq(organization))
        .filter(usage_daily::Column::Day.lte(last_day))
        .distinct()
        .into_tuple()
        .all(db)
        .await
}

/// Deletes up to `limit` raw events of one tenant and unit type whose day is `last_day` or
/// before (found through the tenant, unit type and day index); how many went. The rollups
/// keep their figures.
pub async fn delete_raw_until(
    db: &impl ConnectionTrait,
    (organization, tenant, unit_type): (Uuid, Uuid, Uuid),
    last_day: NaiveDate,
    limit: u64,
) -> Result<u64, DbErr> {
    let batch = sea_orm::sea_query::Query::select()
        .column(usage_event::Column::Id)
        .from(usage_event::Entity)
        .and_where(usage_event::Column::OrganizationId.eq(organization))
        .and_where(usage_event::Column::TenantId.eq(tenant))
        .and_where(usage_event::Column::UnitTypeId.eq(unit_type))
        .and_where(usage_event::Column::Day.lte(last_day))
        .limit(limit)
        .to_owned();
    let deleted = usage_event::Entity::delete_many()
        .filter(usage_event::Column::OrganizationId.eq(organization))
        .filter(usage_event::Column::Id.in_subquery(batch))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
