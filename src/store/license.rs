//! Licenses of an organization.

use chrono::NaiveDate;
use entity::capacity_top_up;
use entity::license::{ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::insert_row;

pub async fn insert(db: &impl ConnectionTrait, model: Model) -> Result<Model, DbErr> {
    insert_row::<ActiveModel>(db, model.clone()).await?;
    Ok(model)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// The organization's licenses, optionally of one unit type, oldest first.
pub async fn list(db: &impl ConnectionTrait, organization: Uuid, unit_type: Option<Uuid>) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find()
        .filter(Column::OrganizationId.eq(organization))
        .order_by_asc(Column::StartsOn)
        .order_by_asc(Column::Id);
    if let Some(unit_type) = unit_type {
        query = query.filter(Column::UnitTypeId.eq(unit_type));
    }
    query.all(db).await
}

/// The top-ups of some of an organization's licenses, oldest first.
pub async fn top_ups(
    db: &impl ConnectionTrait,
    organization: Uuid,
    licenses: &[Uuid],
) -> Result<Vec<capacity_top_up::Model>, DbErr> {
    capacity_top_up::Entity::find()
        .filter(capacity_top_up::Column::OrganizationId.eq(organization))
        .filter(capacity_top_up::Column::LicenseId.is_in(licenses.iter().copied()))
        .order_by_asc(capacity_top_up::Column::Id)
        .all(db)
        .await
}

pub async fn insert_top_up(db: &impl ConnectionTrait, model: capacity_top_up::Model) -> Result<(), DbErr> {
    insert_row::<capacity_top_up::ActiveModel>(db, model).await
}

/// Ends a license on a day (exclusive), as an upgrade does.
pub async fn end_on(db: &impl ConnectionTrait, id: Uuid, ends_on: NaiveDate) -> Result<(), DbErr> {
    Entity::update(ActiveModel {
        id: Set(id),
        ends_on: Set(Some(ends_on)),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Every license of every organization (the period watcher looks at them all).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>, DbErr> {
    Entity::find().all(db).await
}
