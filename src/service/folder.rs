//! Folders (a tree inside a tenant) and processes (owned by one folder).

use std::collections::HashMap;

use uuid::Uuid;

use super::{AppContext, audit, clean_name, require, tenant};
use crate::domain::{
    access::Actor,
    ids::{FolderId, OrganizationId, ProcessId, TenantId},
    tenant::TenantState,
};
use crate::error::{AppError, AppResult};
use crate::store::{self, Page, PageRequest};
use entity::{folder, process};

async fn manageable_tenant(ctx: &AppContext, actor: &Actor, id: TenantId) -> AppResult<entity::tenant::Model> {
    let tenant = tenant::visible(&ctx.db, actor, id).await?;
    require(
        actor.manage_tenant(OrganizationId(tenant.organization_id), id),
        "tenant",
        "create folders and processes",
    )?;
    if tenant::state_of(&tenant)? == TenantState::Deleted {
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
) -> AppResult<folder::Model> {
    let tenant = manageable_tenant(ctx, actor, tenant_id).await?;
    if let Some(parent) = parent {
        let found = store::folder::find_folder(&ctx.db, parent.0).await?;
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
    audit::record(
        &tx,
        ctx,
        actor,
        audit::Change {
            organization: Some(tenant.organization_id),
            action: "createFolder",
            target_kind: "Folder",
            target_id: Some(model.id),
            before: None,
            after: Some(
                serde_json::json!({ "tenantId": model.tenant_id, "parentId": model.parent_id, "name": model.name }),
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(model)
}

pub async fn create_process(
    ctx: &AppContext,
    actor: &Actor,
    folder_id: FolderId,
    name: String,
) -> AppResult<process::Model> {
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
    audit::record(
        &tx,
        ctx,
        actor,
        audit::Change {
            organization: Some(tenant.organization_id),
            action: "createProcess",
            target_kind: "Process",
            target_id: Some(model.id),
            before: None,
            after: Some(serde_json::json!({ "folderId": model.folder_id, "name": model.name })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(model)
}

/// A folder whose tenant the caller may see, or NOT_FOUND.
pub async fn visible_folder(ctx: &AppContext, actor: &Actor, id: FolderId) -> AppResult<folder::Model> {
    let folder = store::folder::find_folder(&ctx.db, id.0)
        .await?
        .ok_or_else(|| AppError::not_found("folder"))?;
    tenant::visible(&ctx.db, actor, TenantId(folder.tenant_id))
        .await
        .map_err(|_| AppError::not_found("folder"))?;
    Ok(folder)
}

/// A process whose tenant the caller may see, or NOT_FOUND.
pub async fn visible_process(ctx: &AppContext, actor: &Actor, id: ProcessId) -> AppResult<process::Model> {
    let process = store::folder::find_process(&ctx.db, id.0)
        .await?
        .ok_or_else(|| AppError::not_found("process"))?;
    tenant::visible(&ctx.db, actor, TenantId(process.tenant_id))
        .await
        .map_err(|_| AppError::not_found("process"))?;
    Ok(process)
}

/// Whose folders: the top level of tenants, or the subfolders of folders.
#[derive(Clone, Copy, Debug)]
pub enum FolderParents<'a> {
    Tenants(&'a [Uuid]),
    Folders(&'a [Uuid]),
}

/// A page of folders under each parent, in one statement. The parents were reached
/// through things the caller may see (every GraphQL object is), so their children are
/// visible too.
pub async fn folders_under(
    ctx: &AppContext,
    parents: FolderParents<'_>,
    page: PageRequest,
) -> AppResult<HashMap<Uuid, Page<folder::Model>>> {
    Ok(match parents {
        FolderParents::Tenants(tenants) => store::folder::top_folders_of(&ctx.db, tenants, page).await?,
        FolderParents::Folders(folders) => store::folder::subfolders_of(&ctx.db, folders, page).await?,
    })
}

/// A page of the processes of each folder, in one statement; the folders were reached
/// through things the caller may see.
pub async fn processes_of(
    ctx: &AppContext,
    folders: &[Uuid],
    page: PageRequest,
) -> AppResult<HashMap<Uuid, Page<process::Model>>> {
    Ok(store::folder::processes_of(&ctx.db, folders, page).await?)
}
