//! Folders (a tree inside a tenant) and processes (owned by one folder).

use std::collections::HashMap;

use uuid::Uuid;

use super::{AppContext, OrgScope, Seen, audit, clean_name, require, state_of, tenant};
use crate::domain::{
    access::Actor,
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

pub async fn create_folder(
    ctx: &AppContext,
    actor: &Actor,
    tenant_id: TenantId,
    parent: Option<FolderId>,
    name: String,
) -> AppResult<Seen<folder::Model>> {
    let tenant = manageable_tenant(ctx, actor, tenant_id).await?;
    if let Some(parent) = parent {
        let found = store::folder::find_folder(&ctx.db, tenant.scope().rows(), parent.0).await?;
        if found.is_none_or(|f| f.tenant_id != tenant.id) {
            return Err(AppError::NotFound("parentId: folder not found in this tenant".into()));
        }
    }
    let model = folder::Model {
        id: Uuid::now_v7(),
        tenant_id: tenant.id,
        parent_id: parent.map(|p| p.0),
        name: clean_name("name", &name)?,
        created_at: ctx.clock.now(),
    };
    let tx = store::begin_write(&ctx.writer).await?;
    let model = store::folder::insert_folder(&tx, model).await?;
    let change = audit::Change::of(Some(tenant.organization_id), "createFolder", "Folder", Some(model.id))
        .after(serde_json::json!({ "tenantId": model.tenant_id, "parentId": model.parent_id, "name": model.name }));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok(Seen::new(*tenant.scope(), model))
}

pub async fn create_process(
    ctx: &AppContext,
    actor: &Actor,
    folder_id: FolderId,
    name: String,
) -> AppResult<Seen<process::Model>> {
    let folder = visible_folder(ctx, actor, folder_id).await?;
    let tenant = manageable_tenant(ctx, actor, TenantId(folder.tenant_id)).await?;
    let model = process::Model {
        id: Uuid::now_v7(),
        tenant_id: folder.tenant_id,
        folder_id: folder.id,
        name: clean_name("name", &name)?,
        created_at: ctx.clock.now(),
    };
    let tx = store::begin_write(&ctx.writer).await?;
    let model = store::folder::insert_process(&tx, model).await?;
    let change = audit::Change::of(Some(tenant.organization_id), "createProcess", "Process", Some(model.id))
        .after(serde_json::json!({ "folderId": model.folder_id, "name": model.name }));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok(Seen::new(*tenant.scope(), model))
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
