//! Folders (a tree per tenant) and the processes they own.

use std::collections::{HashMap, HashSet};

use entity::{folder, process};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, Iden, QueryFilter, QuerySelect, QueryTrait,
    Select,
};
use uuid::Uuid;

use super::{Page, PageRequest, Scope, insert_row};

/// One page of children for each of many parents, in one statement: each parent's first
/// `limit + 1` rows by id (after `after`), numbered by ROW_NUMBER() (SQLite 3.25+ and
/// PostgreSQL), so a parent with many children costs no more than its page.
async fn pages_by_parent<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    parent: E::Column,
    parents: &[Uuid],
    page: PageRequest,
    parent_of: impl Fn(&E::Model) -> Uuid,
) -> Result<HashMap<Uuid, Page<E::Model>>, DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult,
{
    let mut ranked = select.filter(parent.is_in(parents.iter().copied())).expr_as(
        Expr::cust(format!(
            "ROW_NUMBER() OVER (PARTITION BY {} ORDER BY id)",
            parent.to_string()
        )),
        "rank_in_parent",
    );
    if let Some(after) = page.after {
        ranked = ranked.filter(Expr::col(Alias::new("id")).gt(after));
    }
    let query = Query::select()
        .column(Asterisk)
        .from_subquery(ranked.into_query(), Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("rank_in_parent")).lte(page.limit + 1))
        .order_by(Alias::new("id"), Order::Asc)
        .to_owned();
    let rows = E::Model::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await?;
    let mut grouped: HashMap<Uuid, Vec<E::Model>> = parents.iter().map(|p| (*p, Vec::new())).collect();
    for row in rows {
        grouped.entry(parent_of(&row)).or_default().push(row);
    }
    Ok(grouped
        .into_iter()
        .map(|(parent, rows)| (parent, Page::from_overfetch(rows, page.limit)))
        .collect())
}

/// A page of top-level folders for each of `tenants`.
pub async fn top_folders_of(
    db: &impl ConnectionTrait,
    scope: Scope,
    tenants: &[Uuid],
    page: PageRequest,
) -> Result<HashMap<Uuid, Page<folder::Model>>, DbErr> {
    let select = in_scope(scope).filter(folder::Column::ParentId.is_null());
    pages_by_parent(db, select, folder::Column::TenantId, tenants, page, |f| f.tenant_id).await
}

/// A page of subfolders for each of `parents`.
pub async fn subfolders_of(
    db: &impl ConnectionTrait,
    scope: Scope,
    parents: &[Uuid],
    page: PageRequest,
) -> Result<HashMap<Uuid, Page<folder::Model>>, DbErr> {
    pages_by_parent(db, in_scope(scope), folder::Column::ParentId, parents, page, |f| {
        f.parent_id.unwrap_or_default()
    })
    .await
}

/// A page of the processes each of `folders` owns.
pub async fn processes_of(
    db: &impl ConnectionTrait,
    scope: Scope,
    folders: &[Uuid],
    page: PageRequest,
) -> Result<HashMap<Uuid, Page<process::Model>>, DbErr> {
    pages_by_parent(db, processes_in(scope), process::Column::FolderId, folders, page, |p| {
        p.folder_id
    })
    .await
}

pub async fn insert_folder(db: &impl ConnectionTrait, model: folder::Model) -> Result<folder::Model, DbErr> {
    insert_row::<folder::ActiveModel>(db, model.clone()).await?;
    Ok(model)
}

/// The folders of a scope.
fn in_scope(scope: Scope) -> Select<folder::Entity> {
    folder::Entity::find().filter(scope.rows_tenant_by_tenant(folder::Column::OrganizationId, folder::Column::TenantId))
}

/// The processes of a scope.
fn processes_in(scope: Scope) -> Select<process::Entity> {
    process::Entity::find()
        .filter(scope.rows_tenant_by_tenant(process::Column::OrganizationId, process::Column::TenantId))
}

pub async fn find_folder(db: &impl ConnectionTrait, scope: Scope, id: Uuid) -> Result<Option<folder::Model>, DbErr> {
    in_scope(scope).filter(folder::Column::Id.eq(id)).one(db).await
}

pub async fn find_folders(db: &impl ConnectionTrait, scope: Scope, ids: &[Uuid]) -> Result<Vec<folder::Model>, DbErr> {
    in_scope(scope)
        .filter(folder::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

pub async fn insert_process(db: &impl ConnectionTrait, model: process::Model) -> Result<process::Model, DbErr> {
    insert_row::<process::ActiveModel>(db, model.clone()).await?;
    Ok(model)
}

pub async fn find_process(db: &impl ConnectionTrait, scope: Scope, id: Uuid) -> Result<Option<process::Model>, DbErr> {
    processes_in(scope).filter(process::Column::Id.eq(id)).one(db).await
}

pub async fn find_processes(
    db: &impl ConnectionTrait,
    scope: Scope,
    ids: &[Uuid],
) -> Result<Vec<process::Model>, DbErr> {
    processes_in(scope)
        .filter(process::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The folder of `tenant` under `key`.
pub async fn find_folder_by_key(
    db: &impl ConnectionTrait,
    scope: Scope,
    tenant: Uuid,
    key: &str,
) -> Result<Option<folder::Model>, DbErr> {
    in_scope(scope)
        .filter(folder::Column::TenantId.eq(tenant))
        .filter(folder::Column::ExternalKey.eq(key))
        .one(db)
        .await
}

/// The process of `tenant` under `key`.
pub async fn find_process_by_key(
    db: &impl ConnectionTrait,
    scope: Scope,
    tenant: Uuid,
    key: &str,
) -> Result<Option<process::Model>, DbErr> {
    processes_in(scope)
        .filter(process::Column::TenantId.eq(tenant))
        .filter(process::Column::ExternalKey.eq(key))
        .one(db)
        .await
}

/// The folders named by (tenant, key) among `keys`, in one statement.
pub async fn find_folders_by_keys(
    db: &impl ConnectionTrait,
    scope: Scope,
    keys: &[(Uuid, String)],
) -> Result<Vec<folder::Model>, DbErr> {
    let rows = by_keys(
        in_scope(scope),
        folder::Column::TenantId,
        folder::Column::ExternalKey,
        keys,
    )
    .all(db)
    .await?;
    Ok(exactly(rows, keys, |f| (f.tenant_id, f.external_key.as_deref())))
}

/// The processes named by (tenant, key) among `keys`, in one statement.
pub async fn find_processes_by_keys(
    db: &impl ConnectionTrait,
    scope: Scope,
    keys: &[(Uuid, String)],
) -> Result<Vec<process::Model>, DbErr> {
    let rows = by_keys(
        processes_in(scope),
        process::Column::TenantId,
        process::Column::ExternalKey,
        keys,
    )
    .all(db)
    .await?;
    Ok(exactly(rows, keys, |p| (p.tenant_id, p.external_key.as_deref())))
}

/// Rows whose tenant and key are each among `keys`': a superset of the pairs, which
/// [`exactly`] narrows (a row-value IN is not portable through the query builder).
fn by_keys<E: EntityTrait>(select: Select<E>, tenant: E::Column, key: E::Column, keys: &[(Uuid, String)]) -> Select<E> {
    let tenants: HashSet<Uuid> = keys.iter().map(|(t, _)| *t).collect();
    let names: HashSet<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
    select.filter(tenant.is_in(tenants)).filter(key.is_in(names))
}

fn exactly<M>(rows: Vec<M>, keys: &[(Uuid, String)], pair: impl Fn(&M) -> (Uuid, Option<&str>)) -> Vec<M> {
    let wanted: HashSet<(Uuid, &str)> = keys.iter().map(|(t, k)| (*t, k.as_str())).collect();
    rows.into_iter()
        .filter(|row| matches!(pair(row), (tenant, Some(key)) if wanted.contains(&(tenant, key))))
        .collect()
}

/// The organization a folder belongs to: where the operator's lookup by id starts, before
/// its scope is known.
pub async fn organization_of_folder(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Uuid>, DbErr> {
    super::organization_of(
        db,
        folder::Entity,
        folder::Column::OrganizationId,
        folder::Column::Id,
        id,
    )
    .await
}

/// The organization a process belongs to (see [`organization_of_folder`]).
pub async fn organization_of_process(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Uuid>, DbErr> {
    super::organization_of(
        db,
        process::Entity,
        process::Column::OrganizationId,
        process::Column::Id,
        id,
    )
    .await
}
