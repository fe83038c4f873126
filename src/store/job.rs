//! Jobs: runs of processes, named by the caller's run id within a tenant.

use entity::job::{ActiveModel, Column, Entity, Model};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use super::Scope;

/// The jobs of a scope with these `(tenant, external id)` names that already exist.
pub async fn find_by_names(
    db: &impl ConnectionTrait,
    scope: Scope,
    names: &[(Uuid, String)],
) -> Result<Vec<Model>, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        // Two array parameters joined as pairs: the unique (tenant, external id) index finds
        // each, where a long OR of pairs was planned as a scan.
        let (tenants, externals): (Vec<Uuid>, Vec<String>) = names.iter().cloned().unzip();
        return Entity::find()
            .filter(scope.rows_tenant_by_tenant(Column::OrganizationId, Column::TenantId))
            .filter(Expr::cust_with_values(
                "(tenant_id, external_id) IN (SELECT * FROM UNNEST($1::uuid[], $2::text[]))",
                [sea_orm::Value::from(tenants), sea_orm::Value::from(externals)],
            ))
            .all(db)
            .await;
    }
    // Each pair names the organization itself, so SQLite finds it through the unique
    // (tenant, external id, organization) index; with the organization outside the pairs
    // it read every job of the organization's tenants instead, from ten pairs on.
    let names: Vec<&(Uuid, String)> = names
        .iter()
        .filter(|(tenant, _)| scope.tenant.is_none_or(|t| t == *tenant))
        .collect();
    let mut found = Vec::new();
    for chunk in names.chunks(super::ROWS_PER_STATEMENT) {
        let mut any = Condition::any();
        for (tenant, external) in chunk {
            any = any.add(
                Condition::all()
                    .add(Column::OrganizationId.eq(scope.organization))
                    .add(Column::TenantId.eq(*tenant))
                    .add(Column::ExternalId.eq(external.as_str())),
            );
        }
        found.extend(Entity::find().filter(any).all(db).await?);
    }
    Ok(found)
}

pub async fn insert_many(db: &impl ConnectionTrait, models: Vec<Model>) -> Result<(), DbErr> {
    super::insert_rows::<ActiveModel>(db, &models).await
}

pub async fn find_many(db: &impl ConnectionTrait, scope: Scope, ids: &[Uuid]) -> Result<Vec<Model>, DbErr> {
    let mut found = Vec::new();
    for chunk in ids.chunks(super::ROWS_PER_STATEMENT) {
        found.extend(
            Entity::find()
                .filter(scope.rows_tenant_by_tenant(Column::OrganizationId, Column::TenantId))
                .filter(Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    Ok(found)
}
