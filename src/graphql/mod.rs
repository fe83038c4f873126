//! The GraphQL schema, split by area. Resolvers are thin: they read the caller from the
//! request, call one use case, and wrap what comes back.

pub mod admin;
pub mod admission;
pub mod analytics;
pub mod attribution;
pub mod audit;
pub mod authorization;
pub mod error;
pub mod export_link;
pub mod fast_path;
pub mod folder;
pub mod ingestion;
pub mod license;
pub mod limits;
pub mod node;
mod notification;
pub mod operation_stats;
pub mod organization;
pub mod persisted;
mod reads;
pub mod scalars;
mod siblings;
pub mod subscription;
pub mod tenant;
pub mod usage;
pub mod webhook;
pub mod ws_limits;

use async_graphql::{
    Context, MergedObject, Schema, SchemaBuilder,
    connection::{Connection, Edge},
};
use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::domain::access::Actor;
use crate::error::AppError;
use crate::service::AppContext;
use crate::service::{Page, PageRequest};

/// Every query field, one object per area.
#[derive(MergedObject, Default)]
pub struct Query(node::NodeQuery, admin::AdminQuery, organization::OrganizationQuery);

/// Every mutation, one object per area.
#[derive(MergedObject, Default)]
pub struct Mutation(
    organization::OrganizationMutation,
    admin::AdminMutation,
    license::LicenseMutation,
    tenant::TenantMutation,
    folder::FolderMutation,
    ingestion::IngestionMutation,
    admission::AdmissionMutation,
    webhook::WebhookMutation,
    export_link::ExportLinkMutation,
);

/// The executable schema.
pub type QuotagraphSchema = Schema<Query, Mutation, subscription::Subscription>;

/// The schema without any data attached, with the default limits: enough to print the SDL.
pub fn schema() -> SchemaBuilder<Query, Mutation, subscription::Subscription> {
    schema_with(limits::Limits::default())
}

/// The schema with the given limits.
pub fn schema_with(limits: limits::Limits) -> SchemaBuilder<Query, Mutation, subscription::Subscription> {
    full_schema(limits, Default::default(), Default::default())
}

/// The roots with the limits every schema of ours has: depth and introspection.
fn roots(limits: limits::Limits) -> SchemaBuilder<Query, Mutation, subscription::Subscription> {
    let builder =
        Schema::build(Query::default(), Mutation::default(), subscription::Subscription).limit_depth(limits.depth);
    if limits.introspection {
        builder
    } else {
        builder.disable_introspection()
    }
}

/// The schema with every extension, whose persisted queries and operation names are
/// `persisted` and `stats`.
fn full_schema(
    limits: limits::Limits,
    persisted: persisted::PersistedQueries,
    stats: operation_stats::OperationStats,
) -> SchemaBuilder<Query, Mutation, subscription::Subscription> {
    roots(limits)
        .extension(limits::DocumentLimits(limits))
        .extension(authorization::Authorize)
        .extension(stats)
        .extension(persisted)
        .extension(persisted::ReadOnlyRequests)
        .extension(error::ErrorCodes)
}

/// A server's two schemas, over the same roots and the same data: the full one, with
/// every extension (WebSocket, and what the fast path leaves to it), and the fast path's,
/// without any (async-graphql's own complexity limit stands in for ours, whose refusal the
/// full schema then gives).
#[derive(Clone)]
pub struct Schemas {
    pub full: QuotagraphSchema,
    pub fast_path: Arc<fast_path::FastPath>,
}

impl Schemas {
    /// Both schemas of a server, over `context`, sharing the persisted queries and the
    /// operation names counted.
    pub fn build(limits: limits::Limits, context: AppContext) -> Schemas {
        let persisted = persisted::PersistedQueries::default();
        let stats = operation_stats::OperationStats::default();
        let full = full_schema(limits, persisted.clone(), stats.clone())
            .data(context.clone())
            .finish();
        let fast = roots(limits).limit_complexity(limits.complexity).data(context).finish();
        Schemas {
            full,
            fast_path: Arc::new(fast_path::FastPath::new(fast, limits, persisted, stats)),
        }
    }
}

/// The SDL that `schema.graphql` holds.
pub fn sdl() -> String {
    schema().finish().sdl()
}

/// The use-case context and the caller of this request.
pub(crate) fn session<'a>(ctx: &Context<'a>) -> Result<(&'a AppContext, &'a Actor), AppError> {
    let app = ctx
        .data::<AppContext>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("schema built without AppContext")))?;
    let actor = ctx.data::<Actor>().map_err(|_| AppError::Unauthenticated)?;
    Ok((app, actor))
}

/// Default and largest page size of a connection.
pub const DEFAULT_PAGE: i32 = 50;
pub const MAX_PAGE: i32 = 100;

fn cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// Reads `first`/`after` of a connection.
pub(crate) fn page_request(first: Option<i32>, after: Option<String>) -> Result<PageRequest, AppError> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(AppError::bad_input(format!("first must be between 0 and {MAX_PAGE}")));
    }
    let after = match after {
        Some(text) => {
            let bytes = URL_SAFE_NO_PAD
                .decode(text.as_bytes())
                .map_err(|_| AppError::bad_input("after is not a cursor from this connection"))?;
            Some(
                Uuid::from_slice(&bytes)
                    .map_err(|_| AppError::bad_input("after is not a cursor from this connection"))?,
            )
        }
        None => None,
    };
    Ok(PageRequest {
        after,
        limit: u64::try_from(first).unwrap_or(0),
    })
}

/// Wraps a page of rows as a connection whose nodes load their children together with
/// `siblings` (the rows of the whole level, not only of this page).
pub(crate) fn sibling_connection<M, N: async_graphql::OutputType>(
    page: Page<M>,
    has_previous: bool,
    siblings: Arc<siblings::Siblings>,
    id: impl Fn(&M) -> Uuid,
    node: impl Fn(M, Arc<siblings::Siblings>) -> N,
) -> Connection<String, N> {
    connection(page, has_previous, id, |row| node(row, siblings.clone()))
}

/// Wraps a page of rows as a connection; cursors are the rows' ids.
pub(crate) fn connection<M, N: async_graphql::OutputType>(
    page: Page<M>,
    has_previous: bool,
    id: impl Fn(&M) -> Uuid,
    node: impl Fn(M) -> N,
) -> Connection<String, N> {
    let mut connection = Connection::new(has_previous, page.has_next);
    connection
        .edges
        .extend(page.rows.into_iter().map(|row| Edge::new(cursor(id(&row)), node(row))));
    connection
}
