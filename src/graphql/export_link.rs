//! `createExportLink` (docs/design.md §15.5): a URL a browser can download an export from
//! without sending the key.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::{
    analytics::Granularity,
    attribution::Attribution,
    node::{Kind, decode_field, decode_optional, encode},
    scalars::{Date, DateTime},
    session,
};
use crate::domain::ids::{FolderId, OrganizationId, TenantId};
use crate::service;

/// One export's download link.
#[derive(SimpleObject)]
pub struct ExportLink {
    /// `/export/<report>.csv?…&token=…`, relative to the server's origin; it works without an
    /// `Authorization` header, with the rights of the key that made it.
    pub url: String,
    /// When the link stops working (5 minutes after it was made).
    pub expires_at: DateTime,
}

/// The export and its parameters, as `GET /export/{report}.csv` takes them.
#[derive(InputObject)]
pub struct CreateExportLinkInput {
    /// The report's name, without `.csv` (e.g. `tenants`).
    pub report: String,
    pub organization_id: ID,
    pub unit_type: Option<String>,
    pub bundle: Option<Date>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub tenant_id: Option<ID>,
    /// The folder view's tables: one folder's figures (distribution, services, folders,
    /// processes).
    pub folder_id: Option<ID>,
    pub attribution: Option<Attribution>,
    pub granularity: Option<Granularity>,
}

#[derive(Default)]
pub struct ExportLinkMutation;

#[Object]
impl ExportLinkMutation {
    /// A link that downloads one export for 5 minutes, for every role that may export it.
    async fn create_export_link(
        &self,
        ctx: &Context<'_>,
        input: CreateExportLinkInput,
    ) -> async_graphql::Result<ExportLink> {
        let (app, actor) = session(ctx)?;
        let organization: OrganizationId = decode_field(&input.organization_id, "organizationId")?;
        let tenant: Option<TenantId> = decode_optional(input.tenant_id.as_ref(), "tenantId")?;
        let folder: Option<FolderId> = decode_optional(input.folder_id.as_ref(), "folderId")?;
        // The export's own names and spellings; ids re-encoded so that equal inputs sign
        // equal queries.
        let pairs = [
            ("organization", Some(encode(Kind::Organization, organization.0).0)),
            ("unitType", input.unit_type),
            ("bundle", input.bundle.map(|d| d.0.to_string())),
            ("from", input.from.map(|d| d.0.to_string())),
            ("to", input.to.map(|d| d.0.to_string())),
            ("tenant", tenant.map(|t| encode(Kind::Tenant, t.0).0)),
            ("folder", folder.map(|f| encode(Kind::Folder, f.0).0)),
            (
                "attribution",
                input
                    .attribution
                    .map(|a| crate::domain::attribution::Attribution::from(a).as_str().to_owned()),
            ),
            (
                "granularity",
                input
                    .granularity
                    .map(|g| crate::domain::analytics::Granularity::from(g).as_str().to_owned()),
            ),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value?)))
        .collect();
        let link = service::export_link::create(app, actor, &input.report, organization, pairs).await?;
        Ok(ExportLink {
            url: link.url,
            expires_at: link.expires_at.into(),
        })
    }
}
