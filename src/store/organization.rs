//! Organizations.

use entity::organization::{ActiveModel, Column, Entity, Model};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{Page, PageRequest, insert_row};

pub async fn insert(db: &impl ConnectionTrait, model: Model) -> Result<Model, DbErr> {
    insert_row::<ActiveModel>(db, model.clone()).await?;
    Ok(model)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

pub async fn find_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Slug.eq(slug)).one(db).await
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// Whether the store holds any organization at all (the demo is made only on an empty store).
/// Every organization's id (for the service's own work across organizations).
pub async fn all_ids(db: &impl ConnectionTrait) -> Result<Vec<Uuid>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .into_tuple()
        .all(db)
        .await
}

pub async fn any(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(Entity::find().one(db).await?.is_some())
}

/// A page of organizations; `only` limits it to one (a caller scoped to its organization).
pub async fn list(db: &impl ConnectionTrait, only: Option<Uuid>, page: PageRequest) -> Result<Page<Model>, DbErr> {
    let mut query = Entity::find().order_by_asc(Column::Id).limit(page.limit + 1);
    if let Some(id) = only {
        query = query.filter(Column::Id.eq(id));
    }
    if let Some(after) = page.after {
        query = query.filter(Column::Id.gt(after));
    }
    Ok(Page::from_overfetch(query.all(db).await?, page.limit))
}

/// Serializes writers of one organization's allocations on PostgreSQL (a row lock held
/// to the end of the transaction). SQLite writers are already serialized by `BEGIN IMMEDIATE`.
pub async fn lock(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        Entity::find_by_id(id).lock_exclusive().one(db).await?;
    }
    Ok(())
}
