//! Effective-dated allocations: the one in effect on a day is the latest change whose
//! `effective_from` is on or before that day (ties broken by the time-ordered id).

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::allocation::{ActiveModel, Column, Entity, Model};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{Scope, insert_row};

pub async fn insert(db: &impl ConnectionTrait, model: Model) -> Result<Model, DbErr> {
    insert_row::<ActiveModel>(db, model.clone()).await?;
    Ok(model)
}

/// The change in effect for a tenant (of an organization) and unit type on `day`, if any.
pub async fn in_effect(
    db: &impl ConnectionTrait,
    organization: Uuid,
    tenant: Uuid,
    unit_type: Uuid,
    day: NaiveDate,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Scope::tenant(organization, tenant).rows_tenant_by_tenant(Column::OrganizationId, Column::TenantId))
        .filter(Column::UnitTypeId.eq(unit_type))
        .filter(Column::EffectiveFrom.lte(day))
        .order_by_desc(Column::EffectiveFrom)
        .order_by_desc(Column::Id)
        .limit(1)
        .one(db)
        .await
}

/// The change in effect on `day` for every tenant of an organization that has one.
pub async fn in_effect_for_organization(
    db: &impl ConnectionTrait,
    organization: Uuid,
    unit_type: Uuid,
    day: NaiveDate,
) -> Result<HashMap<Uuid, Model>, DbErr> {
    let rows = Entity::find()
        .filter(Scope::organization(organization).rows_tenant_by_tenant(Column::OrganizationId, Column::TenantId))
        .filter(Column::UnitTypeId.eq(unit_type))
        .filter(Column::EffectiveFrom.lte(day))
        .order_by_asc(Column::EffectiveFrom)
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    // Ascending order: the last change seen for a tenant is the one in effect.
    Ok(rows.into_iter().map(|row| (row.tenant_id, row)).collect())
}
