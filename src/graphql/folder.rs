//! Folders and processes.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, connection::Connection};

use std::sync::Arc;

use super::{
    connection,
    node::{Kind, decode_with_field, encode},
    page_request, session, sibling_connection,
    siblings::Siblings,
    tenant::Tenant,
};
use crate::domain::ids::{FolderId, TenantId};
use crate::service::{self, folder::FolderParents};

/// A folder in a tenant's tree, with the other folders of its page (their subfolders and
/// processes load together).
pub struct Folder(pub entity::folder::Model, Arc<Siblings>);

impl Folder {
    /// A folder on its own.
    pub fn one(model: entity::folder::Model) -> Folder {
        let siblings = Siblings::of(vec![model.id]);
        Folder(model, siblings)
    }

    /// A folder of a page.
    pub fn sibling(model: entity::folder::Model, siblings: Arc<Siblings>) -> Folder {
        Folder(model, siblings)
    }
}

#[Object]
impl Folder {
    /// The folder's global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Folder, self.0.id)
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The tenant it belongs to.
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tenant>> {
        let (app, actor) = session(ctx)?;
        Ok(service::tenant::get(app, actor, TenantId(self.0.tenant_id))
            .await?
            .map(Tenant::one))
    }

    /// The folder it sits in; null at the top level.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Folder>> {
        let (app, actor) = session(ctx)?;
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(Some(Folder::one(
            service::folder::visible_folder(app, actor, FolderId(parent)).await?,
        )))
    }

    /// Its subfolders.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn children(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Folder>> {
        let (app, _) = session(ctx)?;
        let has_previous = after.is_some();
        let page = page_request(first, after)?;
        let (rows, siblings) =
            self.1
                .children(
                    self.0.id,
                    "subfolders",
                    page,
                    |f: &entity::folder::Model| f.id,
                    |folders| async move {
                        service::folder::folders_under(app, FolderParents::Folders(&folders), page).await
                    },
                )
                .await?;
        Ok(sibling_connection(
            rows,
            has_previous,
            siblings,
            |f| f.id,
            Folder::sibling,
        ))
    }

    /// The processes it owns.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn processes(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Process>> {
        let (app, _) = session(ctx)?;
        let has_previous = after.is_some();
        let page = page_request(first, after)?;
        let (rows, _) = self
            .1
            .children(
                self.0.id,
                "processes",
                page,
                |p: &entity::process::Model| p.id,
                |folders| async move { service::folder::processes_of(app, &folders, page).await },
            )
            .await?;
        Ok(connection(rows, has_previous, |p| p.id, Process))
    }
}

/// Something that runs and consumes, owned by one folder.
pub struct Process(pub entity::process::Model);

#[Object]
impl Process {
    /// The process's global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Process, self.0.id)
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The folder that owns it.
    async fn folder(&self, ctx: &Context<'_>) -> async_graphql::Result<Folder> {
        let (app, actor) = session(ctx)?;
        Ok(Folder::one(
            service::folder::visible_folder(app, actor, FolderId(self.0.folder_id)).await?,
        ))
    }

    /// The tenant it belongs to.
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tenant>> {
        let (app, actor) = session(ctx)?;
        Ok(service::tenant::get(app, actor, TenantId(self.0.tenant_id))
            .await?
            .map(Tenant::one))
    }
}

/// A new folder.
#[derive(InputObject)]
pub struct CreateFolderInput {
    /// The tenant.
    pub tenant_id: ID,
    /// The folder it sits in; omit for the top level.
    pub parent_id: Option<ID>,
    /// Display name.
    pub name: String,
}

/// A new process.
#[derive(InputObject)]
pub struct CreateProcessInput {
    /// The folder that owns it.
    pub folder_id: ID,
    /// Display name.
    pub name: String,
}

/// The folder made.
#[derive(SimpleObject)]
pub struct FolderPayload {
    /// The new folder.
    pub folder: Folder,
}

/// The process made.
#[derive(SimpleObject)]
pub struct ProcessPayload {
    /// The new process.
    pub process: Process,
}

/// Building the folder tree.
#[derive(Default)]
pub struct FolderMutation;

#[Object]
impl FolderMutation {
    /// Creates a folder in a tenant.
    async fn create_folder(&self, ctx: &Context<'_>, input: CreateFolderInput) -> async_graphql::Result<FolderPayload> {
        let (app, actor) = session(ctx)?;
        let tenant = decode_with_field(&input.tenant_id, Kind::Tenant, Some("tenantId"))?;
        let parent = match &input.parent_id {
            Some(id) => Some(FolderId(decode_with_field(id, Kind::Folder, Some("parentId"))?)),
            None => None,
        };
        let model = service::folder::create_folder(app, actor, TenantId(tenant), parent, input.name).await?;
        Ok(FolderPayload {
            folder: Folder::one(model),
        })
    }

    /// Creates a process in a folder.
    async fn create_process(
        &self,
        ctx: &Context<'_>,
        input: CreateProcessInput,
    ) -> async_graphql::Result<ProcessPayload> {
        let (app, actor) = session(ctx)?;
        let folder = decode_with_field(&input.folder_id, Kind::Folder, Some("folderId"))?;
        let model = service::folder::create_process(app, actor, FolderId(folder), input.name).await?;
        Ok(ProcessPayload {
            process: Process(model),
        })
    }
}
