//! The event watcher's memory (see `entity::quota_mark`), kept per organization.

use chrono::{DateTime, Utc};
use entity::quota_mark::{Column, Entity, Model};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::OnConflict};
use uuid::Uuid;

fn row(organization: Uuid, key: &str, value: &str, now: DateTime<Utc>) -> entity::quota_mark::ActiveModel {
    entity::quota_mark::ActiveModel {
        organization_id: sea_orm::ActiveValue::Set(organization),
        key: sea_orm::ActiveValue::Set(key.to_owned()),
        value: sea_orm::ActiveValue::Set(value.to_owned()),
        updated_at: sea_orm::ActiveValue::Set(now),
    }
}

/// Records a mark unless it exists; true when this call recorded it (send the alert).
pub async fn first_time(
    db: &impl ConnectionTrait,
    organization: Uuid,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let inserted = Entity::insert(row(organization, key, "", now))
        .on_conflict(
            OnConflict::columns([Column::OrganizationId, Column::Key])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The values of an organization's marks with these keys.
pub async fn values(db: &impl ConnectionTrait, organization: Uuid, keys: &[String]) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::OrganizationId.eq(organization))
        .filter(Column::Key.is_in(keys.iter().cloned()))
        .all(db)
        .await
}

/// Sets a mark's value.
pub async fn set(
    db: &impl ConnectionTrait,
    organization: Uuid,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::insert(row(organization, key, value, now))
        .on_conflict(
            OnConflict::columns([Column::OrganizationId, Column::Key])
                .update_columns([Column::Value, Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
