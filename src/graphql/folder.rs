//! Folders and processes.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, connection::Connection};

use std::sync::Arc;

use super::{
    connection,
    node::{Kind, decode_field, decode_optional, encode},
    page_request, session, sibling_connection,
    siblings::Siblings,
    tenant::Tenant,
};
use crate::domain::ids::{FolderId, TenantId};
use crate::service::{self, OrgScope, Seen, folder::FolderParents};

/// A folder in a tenant's tree, with the other folders of its page (their subfolders and
/// processes load together).
pub struct Folder(pub Seen<entity::folder::Model>, Arc<Siblings>);

impl Folder {
    /// A folder on its own.
    pub fn one(model: Seen<entity::folder::Model>) -> Folder {
        let siblings = Siblings::of(vec![model.id]);
        Folder(model, siblings)
    }

    /// A folder of a page.
    pub fn sibling(model: Seen<entity::folder::Model>, siblings: Arc<Siblings>) -> Folder {
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

    /// The caller's own key for it, unique in its tenant; null when it was made without one.
    async fn external_key(&self) -> Option<&str> {
        self.0.external_key.as_deref()
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
        folder_page(ctx, self.0.scope(), &self.1, self.0.id, Under::Folder, (first, after)).await
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
                |p: &Seen<entity::process::Model>| p.id,
                |folders| async move { service::folder::processes_of(app, self.0.scope(), &folders, page).await },
            )
            .await?;
        Ok(connection(rows, has_previous, |p| p.id, Process))
    }
}

/// What a page of folders is under.
#[derive(Clone, Copy)]
pub(crate) enum Under {
    Tenant,
    Folder,
}

/// The page of folders under `parent` (a tenant's top level, or a folder's subfolders),
/// loaded for every sibling of `parent` at once.
pub(crate) async fn folder_page(
    ctx: &Context<'_>,
    scope: &OrgScope,
    siblings: &Siblings,
    parent: uuid::Uuid,
    under: Under,
    (first, after): (Option<i32>, Option<String>),
) -> async_graphql::Result<Connection<String, Folder>> {
    let (app, _) = session(ctx)?;
    let has_previous = after.is_some();
    let page = page_request(first, after)?;
    let what = match under {
        Under::Tenant => "folders",
        Under::Folder => "subfolders",
    };
    let load = |ids: Vec<uuid::Uuid>| async move {
        let parents = match under {
            Under::Tenant => FolderParents::Tenants(&ids),
            Under::Folder => FolderParents::Folders(&ids),
        };
        service::folder::folders_under(app, scope, parents, page).await
    };
    let (rows, next) = siblings
        .children(parent, what, page, |f: &Seen<entity::folder::Model>| f.id, load)
        .await?;
    Ok(sibling_connection(rows, has_previous, next, |f| f.id, Folder::sibling))
}

/// Something that runs and consumes, owned by one folder.
pub struct Process(pub Seen<entity::process::Model>);

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

    /// The caller's own key for it, unique in its tenant; null when it was made without one.
    async fn external_key(&self) -> Option<&str> {
        self.0.external_key.as_deref()
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
    /// The caller's own key, 1 to 200 characters, unique among the tenant's folders:
    /// creating again with it answers the same folder, or CONFLICT when the rest differs.
    pub external_key: Option<String>,
}

/// A new process.
#[derive(InputObject)]
pub struct CreateProcessInput {
    /// The folder that owns it.
    pub folder_id: ID,
    /// Display name.
    pub name: String,
    /// The caller's own key, 1 to 200 characters, unique among the tenant's processes:
    /// creating again with it answers the same process, or CONFLICT when the rest differs.
    pub external_key: Option<String>,
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
    /// Creates a folder in a tenant (or answers the one its `externalKey` names).
    async fn create_folder(&self, ctx: &Context<'_>, input: CreateFolderInput) -> async_graphql::Result<FolderPayload> {
        let (app, actor) = session(ctx)?;
        let tenant: TenantId = decode_field(&input.tenant_id, "tenantId")?;
        let parent: Option<FolderId> = decode_optional(input.parent_id.as_ref(), "parentId")?;
        let model = service::folder::create_folder(app, actor, tenant, parent, input.name, input.external_key).await?;
        Ok(FolderPayload {
            folder: Folder::one(model),
        })
    }

    /// Creates a process in a folder (or answers the one its `externalKey` names).
    async fn create_process(
        &self,
        ctx: &Context<'_>,
        input: CreateProcessInput,
    ) -> async_graphql::Result<ProcessPayload> {
        let (app, actor) = session(ctx)?;
        let folder: FolderId = decode_field(&input.folder_id, "folderId")?;
        let model = service::folder::create_process(app, actor, folder, input.name, input.external_key).await?;
        Ok(ProcessPayload {
            process: Process(model),
        })
    }
}
