//! Tenants' consumption controls per unit type (the lists are JSON text).

use entity::consumption_control::{Column, Entity, Model};
use entity::organization_alert_threshold;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    sea_query::OnConflict,
};
use uuid::Uuid;

use super::Scope;

/// A tenant's controls of a unit type, if it has any.
pub async fn find(
    db: &impl ConnectionTrait,
    organization: Uuid,
    tenant: Uuid,
    unit_type: Uuid,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Scope::tenant(organization, tenant).rows_tenant_by_tenant(Column::OrganizationId, Column::TenantId))
        .filter(Column::UnitTypeId.eq(unit_type))
        .one(db)
        .await
}

/// The controls of every tenant of an organization for a unit type.
pub async fn find_for_organization(
    db: &impl ConnectionTrait,
    organization: Uuid,
    unit_type: Uuid,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Scope::organization(organization).rows_tenant_by_tenant(Column::OrganizationId, Column::TenantId))
        .filter(Column::UnitTypeId.eq(unit_type))
        .all(db)
        .await
}

/// An organization's alert thresholds for a unit type, if it set any.
pub async fn organization_thresholds(
    db: &impl ConnectionTrait,
    organization: Uuid,
    unit_type: Uuid,
) -> Result<Option<organization_alert_threshold::Model>, DbErr> {
    organization_alert_threshold::Entity::find_by_id((organization, unit_type))
        .one(db)
        .await
}

/// Writes an organization's alert thresholds for a unit type, replacing earlier ones.
pub async fn upsert_organization_thresholds(
    db: &impl ConnectionTrait,
    model: organization_alert_threshold::Model,
) -> Result<(), DbErr> {
    use organization_alert_threshold::Column as C;
    organization_alert_threshold::Entity::insert(model.into_active_model().reset_all())
        .on_conflict(
            OnConflict::columns([C::OrganizationId, C::UnitTypeId])
                .update_columns([C::Thresholds, C::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Writes a tenant's controls, replacing earlier ones.
pub async fn upsert(db: &impl ConnectionTrait, model: Model) -> Result<Model, DbErr> {
    Entity::insert(model.clone().into_active_model().reset_all())
        .on_conflict(
            OnConflict::columns(super::key(
                db,
                Column::OrganizationId,
                [Column::TenantId, Column::UnitTypeId],
            ))
            .update_columns([Column::StopAtAllocation, Column::AlertThresholds, Column::UpdatedAt])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(model)
}
