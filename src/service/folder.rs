//! Folders (a tree inside a tenant) and processes (owned by one folder).

use std::collections::HashMap;

use uuid::Uuid;

use super::{AppContext, OrgScope, Seen, audit, clean_name, require, state_of, tenant};
use crate::domain::{
    access::Actor,
    external_key::check_external_key,
    ids::{FolderId, OrganizationId, ProcessId, TenantId},
    tenant::TenantState,
};
use crate::error::{AppError, AppResult};
use crate::store::{self, Page, PageRequest};
use entity::{folder, process};

async fn manageable_tenant(ctx: &AppContext, actor: &Actor, id: TenantId) -> AppResult<Seen<entity::tenant::Model>> {
    let tenant = tenant::visible(&ctx.db, actor, id).await?;
    require(
        actor.manage_tenant(OrganizationId(tenant.organization_id), id),
        "tenant",
        "create folders and processes",
    )?;
    if state_of(&tenant)? == TenantState::Deleted {
        return Err(AppError::bad_input("the tenant is DELETED"));
    }
    Ok(tenant)
}

/// Creates a folder; with an `external_key` already used in the tenant, answers that
/// folder when the rest agrees (nothing written) or CONFLICT.
pub async fn create_folder(
    ctx: &AppContext,
    actor: &Actor,
    tenant_id: TenantId,
    parent: Option<FolderId>,
    name: String,
    external_key: Option<String>,
) -> AppResult<Seen<folder::Model>> {
    let tenant = manageable_tenant(ctx, actor, tenant_id).await?;
    if let Some(parent) = parent {
        let found = store::folder::find_folder(&ctx.db, tenant.scope().rows(), parent.0).await?;
        if found.is_none_or(|f| f.tenant_id != tenant.id) {
            return Err(AppError::NotFound("parentId: folder not found in this tenant".into()));
        }
    }
    let asked = folder::Model {
        id: Uuid::now_v7(),
        organization_id: tenant.organization_id,
        tenant_id: tenant.id,
        parent_id: parent.map(|p| p.0),
        name: clean_name("name", &name)?,
        external_key: checked_key(external_key)?,
        created_at: ctx.clock.now(),
    };
    let model = match keyed_folder(ctx, &tenant, &asked).await? {
        Some(stored) => stored,
        None => match insert_folder(ctx, actor, &tenant, asked.clone()).await {
            Err(err) if lost_race(&err) => keyed_folder(ctx, &tenant, &asked).await?.ok_or(err)?,
            made => made?,
        },
    };
    let mut differs = Vec::new();
    if model.name != asked.name {
        differs.push(format!("another name ('{}', not '{}')", model.name, asked.name));
    }
    if model.parent_id != asked.parent_id {
        differs.push("another parent".to_owned());
    }
    agree("folder", model.external_key.as_deref(), &differs)?;
    Ok(Seen::new(*tenant.scope(), model))
}

/// The folder `asked`'s key already names, if it has a key.
async fn keyed_folder(
    ctx: &AppContext,
    tenant: &Seen<entity::tenant::Model>,
    asked: &folder::Model,
) -> AppResult<Option<folder::Model>> {
    let Some(key) = &asked.external_key else {
        return Ok(None);
    };
    Ok(store::folder::find_folder_by_key(&ctx.db, tenant.scope().rows(), tenant.id, key).await?)
}

async fn insert_folder(
    ctx: &AppContext,
    actor: &Actor,
    tenant: &entity::tenant::Model,
    model: folder::Model,
) -> AppResult<folder::Model> {
    let tx = store::begin_write(&ctx.writer).await?;
    let model = store::folder::insert_folder(&tx, model).await?;
    let change = audit::Change::of(Some(tenant.organization_id), "createFolder", "Folder", Some(model.id)).after(
        serde_json::json!({
            "tenantId": model.tenant_id, "parentId": model.parent_id, "name": model.name,
            "externalKey": model.external_key,
        }),
    );
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok(model)
}

/// Creates a process; with an `external_key` already used in the tenant, answers that
/// process when the rest agrees (nothing written) or CONFLICT.
pub async fn create_process(
    ctx: &AppContext,
    actor: &Actor,
    folder_id: FolderId,
    name: String,
    external_key: Option<String>,
) -> AppResult<Seen<process::Model>> {
    let folder = visible_folder(ctx, actor, folder_id).await?;
    let tenant = manageable_tenant(ctx, actor, TenantId(folder.tenant_id)).await?;
    let asked = process::Model {
        id: Uuid::now_v7(),
        organization_id: tenant.organization_id,
        tenant_id: folder.tenant_id,
        folder_id: folder.id,
        name: clean_name("name", &name)?,
        external_key: checked_key(external_key)?,
        created_at: ctx.clock.now(),
    };
    let model = match keyed_process(ctx, &tenant, &asked).await? {
        Some(stored) => stored,
        None => match insert_process(ctx, actor, &tenant, asked.clone()).await {
            Err(err) if lost_race(&err) => keyed_process(ctx, &tenant, &asked).await?.ok_or(err)?,
            made => made?,
        },
    };
    let mut differs = Vec::new();
    if model.name != asked.name {
        differs.push(format!("another name ('{}', not '{}')", model.name, asked.name));
    }
    if model.folder_id != asked.folder_id {
        differs.push("another folder".to_owned());
    }
    agree("process", model.external_key.as_deref(), &differs)?;
    Ok(Seen::new(*tenant.scope(), model))
}

/// The process `asked`'s key already names, if it has a key.
async fn keyed_process(
    ctx: &AppContext,
    tenant: &Seen<entity::tenant::Model>,
    asked: &process::Model,
) -> AppResult<Option<process::Model>> {
    let Some(key) = &asked.external_key else {
        return Ok(None);
    };
    Ok(store::folder::find_process_by_key(&ctx.db, tenant.scope().rows(), tenant.id, key).await?)
}

async fn insert_process(
    ctx: &AppContext,
    actor: &Actor,
    tenant: &entity::tenant::Model,
    model: process::Model,
) -> AppResult<process::Model> {
    let tx = store::begin_write(&ctx.writer).await?;
    let model = store::folder::insert_process(&tx, model).await?;
    let change = audit::Change::of(Some(tenant.organization_id), "createProcess", "Process", Some(model.id)).after(
        serde_json::json!({ "folderId": model.folder_id, "name": model.name, "externalKey": model.external_key }),
    );
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok(model)
}

fn checked_key(key: Option<String>) -> AppResult<Option<String>> {
    if let Some(key) = &key {
        check_external_key(key).map_err(|m| AppError::bad_input(format!("externalKey: {m}")))?;
    }
    Ok(key)
}

/// Whether an insert lost to a concurrent create of the same key (on the unique index):
/// it then answers as if it had come second.
fn lost_race(err: &AppError) -> bool {
    matches!(err, AppError::Internal(cause) if cause.downcast_ref::<sea_orm::DbErr>().is_some_and(store::is_unique_violation))
}

/// Nothing when a create agrees with the object its key names (or made), else CONFLICT
/// naming the key and what differs.
fn agree(what: &str, key: Option<&str>, differs: &[String]) -> AppResult<()> {
    if differs.is_empty() {
        return Ok(());
    }
    Err(AppError::Conflict(format!(
        "externalKey: \"{}\" already names a {what} of this tenant with {}",
        key.unwrap_or_default(),
        differs.join(" and ")
    )))
}

/// The caller's scope in the organization a folder or process belongs to: the caller's
/// own organization, or for the operator (who may see every one) the row's.
async fn scope_of(
    actor: &Actor,
    id: uuid::Uuid,
    owner: impl AsyncFnOnce(uuid::Uuid) -> Result<Option<uuid::Uuid>, sea_orm::DbErr>,
) -> AppResult<Option<OrgScope>> {
    let organization = match actor.organization_id {
        Some(organization) => Some(organization),
        None => owner(id).await?.map(OrganizationId),
    };
    Ok(organization.and_then(|organization| OrgScope::check(actor, organization)))
}

/// A folder whose tenant the caller may see, or NOT_FOUND.
pub async fn visible_folder(ctx: &AppContext, actor: &Actor, id: FolderId) -> AppResult<Seen<folder::Model>> {
    let owner = async |id| store::folder::organization_of_folder(&ctx.db, id).await;
    let Some(scope) = scope_of(actor, id.0, owner).await? else {
        return Err(AppError::not_found("folder"));
    };
    store::folder::find_folder(&ctx.db, scope.rows(), id.0)
        .await?
        .map(|folder| Seen::new(scope, folder))
        .ok_or_else(|| AppError::not_found("folder"))
}

/// A process whose tenant the caller may see, or NOT_FOUND.
pub async fn visible_process(ctx: &AppContext, actor: &Actor, id: ProcessId) -> AppResult<Seen<process::Model>> {
    let owner = async |id| store::folder::organization_of_process(&ctx.db, id).await;
    let Some(scope) = scope_of(actor, id.0, owner).await? else {
        return Err(AppError::not_found("process"));
    };
    store::folder::find_process(&ctx.db, scope.rows(), id.0)
        .await?
        .map(|process| Seen::new(scope, process))
        .ok_or_else(|| AppError::not_found("process"))
}

/// Whose folders: the top level of tenants, or the subfolders of folders.
#[derive(Clone, Copy, Debug)]
pub enum FolderParents<'a> {
    Tenants(&'a [Uuid]),
    Folders(&'a [Uuid]),
}

/// A page of folders under each parent, in one statement, as far as the caller sees them.
pub async fn folders_under(
    ctx: &AppContext,
    scope: &OrgScope,
    parents: FolderParents<'_>,
    page: PageRequest,
) -> AppResult<HashMap<Uuid, Page<Seen<folder::Model>>>> {
    let rows = scope.rows();
    let pages = match parents {
        FolderParents::Tenants(tenants) => store::folder::top_folders_of(&ctx.db, rows, tenants, page).await?,
        FolderParents::Folders(folders) => store::folder::subfolders_of(&ctx.db, rows, folders, page).await?,
    };
    Ok(seen_pages(scope, pages))
}

/// A page of the processes of each folder, in one statement, as far as the caller sees them.
pub async fn processes_of(
    ctx: &AppContext,
    scope: &OrgScope,
    folders: &[Uuid],
    page: PageRequest,
) -> AppResult<HashMap<Uuid, Page<Seen<process::Model>>>> {
    let pages = store::folder::processes_of(&ctx.db, scope.rows(), folders, page).await?;
    Ok(seen_pages(scope, pages))
}

fn seen_pages<T>(scope: &OrgScope, pages: HashMap<Uuid, Page<T>>) -> HashMap<Uuid, Page<Seen<T>>> {
    pages
        .into_iter()
        .map(|(parent, page)| {
            let rows = scope.seen_all(page.rows);
            (
                parent,
                Page {
                    rows,
                    has_next: page.has_next,
                },
            )
        })
        .collect()
}
