//! The event watcher's memory (see `entity::quota_mark`).

use chrono::{DateTime, Utc};
use entity::quota_mark::{Column, Entity, Model};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::OnConflict};

/// Records a mark unless it exists; true when this call recorded it (send the alert).
pub async fn first_time(db: &impl ConnectionTrait, key: &str, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let row = entity::quota_mark::ActiveModel {
        key: sea_orm::ActiveValue::Set(key.to_owned()),
        value: sea_orm::ActiveValue::Set(String::new()),
        updated_at: sea_orm::ActiveValue::Set(now),
    };
    let inserted = Entity::insert(row)
        .on_conflict(OnConflict::column(Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The values of the marks with these keys.
pub async fn values(db: &impl ConnectionTrait, keys: &[String]) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Key.is_in(keys.iter().cloned()))
        .all(db)
        .await
}

/// Sets a mark's value.
pub async fn set(db: &impl ConnectionTrait, key: &str, value: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    let row = entity::quota_mark::ActiveModel {
        key: sea_orm::ActiveValue::Set(key.to_owned()),
        value: sea_orm::ActiveValue::Set(value.to_owned()),
        updated_at: sea_orm::ActiveValue::Set(now),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::Key)
                .update_columns([Column::Value, Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
