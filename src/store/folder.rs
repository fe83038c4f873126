//! Folders (a tree per tenant) and the processes they own.

use entity::{folder, process};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{Page, PageRequest, insert_row};

pub async fn insert_folder(db: &impl ConnectionTrait, model: folder::Model) -> Result<folder::Model, DbErr> {
    insert_row::<folder::ActiveModel>(db, model.clone()).await?;
    Ok(model)
}

pub async fn find_folder(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<folder::Model>, DbErr> {
    folder::Entity::find_by_id(id).one(db).await
}

pub async fn find_folders(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<folder::Model>, DbErr> {
    folder::Entity::find()
        .filter(folder::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// A page of a tenant's folders under `parent` (None: the top level).
pub async fn list_folders(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    parent: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<folder::Model>, DbErr> {
    let mut query = folder::Entity::find()
        .filter(folder::Column::TenantId.eq(tenant))
        .order_by_asc(folder::Column::Id)
        .limit(page.limit + 1);
    query = match parent {
        Some(parent) => query.filter(folder::Column::ParentId.eq(parent)),
        None => query.filter(folder::Column::ParentId.is_null()),
    };
    if let Some(after) = page.after {
        query = query.filter(folder::Column::Id.gt(after));
    }
    Ok(Page::from_overfetch(query.all(db).await?, page.limit))
}

pub async fn insert_process(db: &impl ConnectionTrait, model: process::Model) -> Result<process::Model, DbErr> {
    insert_row::<process::ActiveModel>(db, model.clone()).await?;
    Ok(model)
}

pub async fn find_process(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<process::Model>, DbErr> {
    process::Entity::find_by_id(id).one(db).await
}

pub async fn find_processes(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<process::Model>, DbErr> {
    process::Entity::find()
        .filter(process::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// A page of the processes a folder owns.
pub async fn list_processes(
    db: &impl ConnectionTrait,
    folder: Uuid,
    page: PageRequest,
) -> Result<Page<process::Model>, DbErr> {
    let mut query = process::Entity::find()
        .filter(process::Column::FolderId.eq(folder))
        .order_by_asc(process::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(process::Column::Id.gt(after));
    }
    Ok(Page::from_overfetch(query.all(db).await?, page.limit))
}
