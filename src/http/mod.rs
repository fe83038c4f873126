//! The HTTP surface: the GraphQL endpoint (POST, the playground on GET, WebSocket
//! upgrade), CSV exports, health checks and the playground's own assets.

pub mod auth;
pub mod export;
pub mod graphql;
pub mod health;
pub mod playground;

use axum::{Router, routing::get};
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::graphql::QuotagraphSchema;
use crate::service::AppContext;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub context: AppContext,
    pub schema: QuotagraphSchema,
}

/// The largest request body accepted: a full `recordUsage` batch of 10,000 events fits.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql::get_graphql).post(graphql::post_graphql))
        .route("/export/{file}", get(export::export))
        .route("/playground/{asset}", get(playground::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(graphql::panic_response))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}
