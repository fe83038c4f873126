//! Services (product surfaces): created on first use, named by the operator.

use std::collections::HashMap;

use entity::service::{ActiveModel, Column, Entity, Model};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// The ids of these service codes, creating the ones not seen before.
pub async fn ensure(db: &impl ConnectionTrait, codes: &[String]) -> Result<HashMap<String, Uuid>, DbErr> {
    let find = |codes: Vec<String>| Entity::find().filter(Column::Code.is_in(codes)).all(db);
    let mut ids: HashMap<String, Uuid> = find(codes.to_vec())
        .await?
        .into_iter()
        .map(|m| (m.code, m.id))
        .collect();
    let missing: Vec<String> = codes.iter().filter(|c| !ids.contains_key(*c)).cloned().collect();
    if missing.is_empty() {
        return Ok(ids);
    }
    let rows = missing.iter().map(|code| ActiveModel {
        id: sea_orm::ActiveValue::Set(Uuid::now_v7()),
        code: sea_orm::ActiveValue::Set(code.clone()),
        name: sea_orm::ActiveValue::Set(code.clone()),
    });
    // Another request may create the same code at the same time: keep whichever won.
    Entity::insert_many(rows)
        .on_conflict_do_nothing_on([Column::Code])
        .exec_without_returning(db)
        .await?;
    ids.extend(find(missing).await?.into_iter().map(|m| (m.code, m.id)));
    Ok(ids)
}

/// Every service seen, by code.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>, DbErr> {
    Entity::find().order_by_asc(Column::Code).all(db).await
}

pub async fn find_by_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Code.eq(code)).one(db).await
}

/// Sets a service's display name.
pub async fn rename(db: &impl ConnectionTrait, id: Uuid, name: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Name, sea_orm::sea_query::Expr::value(name))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}
