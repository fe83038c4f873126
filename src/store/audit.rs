//! The audit log: written in the transaction of the change it records.

use entity::audit_entry::{ActiveModel, Column, Entity, Model};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{Page, PageRequest, insert_row, insert_rows};

pub async fn insert(db: &impl ConnectionTrait, model: Model) -> Result<(), DbErr> {
    insert_row::<ActiveModel>(db, model).await
}

/// Entries in one statement per 500 (a group of `recordUsage` requests has one each).
pub async fn insert_many(db: &impl ConnectionTrait, models: Vec<Model>) -> Result<(), DbErr> {
    insert_rows::<ActiveModel>(db, &models).await
}

/// A page of an organization's entries, oldest first.
pub async fn list(db: &impl ConnectionTrait, organization: Uuid, page: PageRequest) -> Result<Page<Model>, DbErr> {
    let mut query = Entity::find()
        .filter(Column::OrganizationId.eq(organization))
        .order_by_asc(Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(Column::Id.gt(after));
    }
    Ok(Page::from_overfetch(query.all(db).await?, page.limit))
}
