//! The audit log: written in the transaction of the change it records.

use entity::audit_entry::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::{Page, PageRequest, insert_row};

pub async fn insert(db: &impl ConnectionTrait, model: Model) -> Result<(), DbErr> {
    insert_row::<ActiveModel>(db, model).await
}

/// Entries in one statement per 500 (a group of `recordUsage` requests has one each).
pub async fn insert_many(db: &impl ConnectionTrait, models: Vec<Model>) -> Result<(), DbErr> {
    for chunk in models.chunks(500) {
        let rows: Vec<ActiveModel> = chunk
            .iter()
            .cloned()
            .map(|m| m.into_active_model().reset_all())
            .collect();
        Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
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
