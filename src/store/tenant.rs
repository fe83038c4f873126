//! Tenants of an organization.

use entity::tenant::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::{Page, PageRequest, insert_row};

pub async fn insert(db: &impl ConnectionTrait, model: Model) -> Result<Model, DbErr> {
    insert_row::<ActiveModel>(db, model.clone()).await?;
    Ok(model)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// Writes a tenant's changed name, state and update time.
pub async fn update(db: &impl ConnectionTrait, model: Model) -> Result<Model, DbErr> {
    model.into_active_model().reset_all().update(db).await
}

/// A page of an organization's tenants in the given states; `only` limits it to one tenant.
pub async fn list(
    db: &impl ConnectionTrait,
    organization: Uuid,
    states: &[&str],
    only: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<Model>, DbErr> {
    let mut query = Entity::find()
        .filter(Column::OrganizationId.eq(organization))
        .filter(Column::State.is_in(states.iter().copied()))
        .order_by_asc(Column::Id)
        .limit(page.limit + 1);
    if let Some(id) = only {
        query = query.filter(Column::Id.eq(id));
    }
    if let Some(after) = page.after {
        query = query.filter(Column::Id.gt(after));
    }
    Ok(Page::from_overfetch(query.all(db).await?, page.limit))
}

/// Every tenant of an organization, whatever its state (figures count them all).
pub async fn all_of(db: &impl ConnectionTrait, organization: Uuid) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::OrganizationId.eq(organization))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}
