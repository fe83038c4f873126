//! API keys. Only a hash of each secret is stored.

use chrono::{DateTime, Utc};
use entity::api_key::{ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::insert_row;

pub async fn insert(db: &impl ConnectionTrait, model: Model) -> Result<Model, DbErr> {
    insert_row::<ActiveModel>(db, model.clone()).await?;
    Ok(model)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// The key with this stored secret hash.
pub async fn find_by_hash(db: &impl ConnectionTrait, hash: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::SecretHash.eq(hash)).one(db).await
}

/// Whether any key exists (the first start creates one).
pub async fn any(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(Entity::find().one(db).await?.is_some())
}

pub async fn revoke(db: &impl ConnectionTrait, id: Uuid, at: DateTime<Utc>) -> Result<(), DbErr> {
    Entity::update(ActiveModel {
        id: Set(id),
        revoked_at: Set(Some(at)),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Records a key's use at `at`, unless a use since `since` is already recorded (so a busy
/// key costs one write a minute, not one per request).
pub async fn touch(db: &impl ConnectionTrait, id: Uuid, at: DateTime<Utc>, since: DateTime<Utc>) -> Result<(), DbErr> {
    use sea_orm::sea_query::{Condition, Expr};
    Entity::update_many()
        .col_expr(Column::LastUsedAt, Expr::value(at))
        .filter(Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(Column::LastUsedAt.is_null())
                .add(Column::LastUsedAt.lt(since)),
        )
        .exec(db)
        .await?;
    Ok(())
}
