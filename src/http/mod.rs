//! The HTTP surface: the GraphQL endpoint (POST, the playground on GET, WebSocket
//! upgrade), CSV exports, health checks, Prometheus metrics, and the playground's and the dashboard's
//! own assets.

pub mod auth;
pub mod dashboard;
pub mod export;
pub mod graphql;
pub mod health;
pub mod playground;
pub mod prometheus;
pub mod rate_limit;

use axum::{
    Router,
    http::{HeaderName, HeaderValue, Method, header},
    routing::{MethodRouter, get},
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::graphql::Schemas;
use crate::service::AppContext;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub context: AppContext,
    /// The full schema and the fast path's.
    pub schemas: Schemas,
    pub limiter: std::sync::Arc<rate_limit::RateLimiter>,
    pub connections: std::sync::Arc<crate::graphql::ws_limits::Connections>,
    /// Live subscriptions each WebSocket connection may hold.
    pub max_subscriptions: usize,
    /// Turns true when the server starts shutting down.
    pub draining: Draining,
}

/// Whether the server is shutting down: readiness fails and WebSockets are closed
/// (1001) while requests in flight finish. It also counts open WebSockets, which the
/// server's graceful shutdown does not track, so that it can wait for their close frames.
#[derive(Clone)]
pub struct Draining {
    flag: tokio::sync::watch::Receiver<bool>,
    sockets: std::sync::Arc<tokio::sync::watch::Sender<usize>>,
}

/// An open WebSocket; dropping it counts the socket closed.
pub struct OpenSocket(std::sync::Arc<tokio::sync::watch::Sender<usize>>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Draining {
    /// The flag and the switch that raises it.
    pub fn new() -> (Draining, tokio::sync::watch::Sender<bool>) {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        let (sockets, _) = tokio::sync::watch::channel(0);
        (
            Draining {
                flag: receiver,
                sockets: std::sync::Arc::new(sockets),
            },
            sender,
        )
    }

    pub fn is_draining(&self) -> bool {
        *self.flag.borrow()
    }

    /// Completes once draining starts.
    pub async fn started(&self) {
        let mut receiver = self.flag.clone();
        let _ = receiver.wait_for(|draining| *draining).await;
    }

    /// Counts a WebSocket open until the guard is dropped.
    pub fn socket(&self) -> OpenSocket {
        self.sockets.send_modify(|n| *n += 1);
        OpenSocket(self.sockets.clone())
    }

    /// Waits until every WebSocket has closed, or `limit` has passed.
    pub async fn sockets_closed(&self, limit: std::time::Duration) {
        let mut open = self.sockets.subscribe();
        let _ = tokio::time::timeout(limit, open.wait_for(|n| *n == 0)).await;
    }
}

/// The largest request body accepted: a full `recordUsage` batch of 10,000 events fits.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long a client is told to wait (`Retry-After`, in seconds) before sending again a
/// request answered `UNAVAILABLE`: long enough for the requests ahead of it to finish.
pub const RETRY_UNAVAILABLE_AFTER: u64 = 5;

/// The HTTP status of an error answered outside GraphQL's own answer (the key check,
/// exports).
pub(crate) fn status_of(err: &crate::error::AppError) -> axum::http::StatusCode {
    use crate::error::AppError;
    use axum::http::StatusCode;
    match err {
        AppError::Unauthenticated | AppError::LinkRefused(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::BadUserInput(_) => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::QuotaExceeded(_) | AppError::TenantInactive(_) => StatusCode::FORBIDDEN,
        AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// CORS for the browser origins `origins` (none: no CORS headers at all). Keys travel in
/// `Authorization`, never in cookies, so credentials stay off; the exposed headers are the
/// ones a frontend reads (the request id to report, when to retry, an export's file name).
fn cors(origins: Vec<HeaderValue>) -> Option<CorsLayer> {
    (!origins.is_empty()).then(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([
                HeaderName::from_static("x-request-id"),
                header::RETRY_AFTER,
                header::CONTENT_DISPOSITION,
            ])
    })
}

/// `route` answering other origins as `cors` says: on the route itself, so that its
/// preflight (OPTIONS) is answered instead of being refused 405.
fn cross_origin(route: MethodRouter<AppState>, cors: Option<&CorsLayer>) -> MethodRouter<AppState> {
    match cors {
        Some(layer) => route
            .layer(layer.clone())
            .layer(axum::middleware::map_response(only_for_allowed_origins)),
        None => route,
    }
}

/// `CorsLayer` sends the exposed headers (and a preflight's allowed methods and headers)
/// whatever the origin; an origin it did not allow gets none of them, as if CORS were off.
async fn only_for_allowed_origins(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        let cors: Vec<HeaderName> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in cors {
            headers.remove(name);
        }
    }
    response
}

/// The whole router; `cors_origins` may call `/graphql` and `/export/*` from a browser.
pub fn router(state: AppState, cors_origins: Vec<HeaderValue>) -> Router {
    let cors = cors(cors_origins);
    Router::new()
        .route(
            "/graphql",
            cross_origin(get(graphql::get_graphql).post(graphql::post_graphql), cors.as_ref()),
        )
        .route("/export/{file}", cross_origin(get(export::export), cors.as_ref()))
        .route("/playground/{asset}", get(playground::asset))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/assets/{asset}", get(dashboard::asset))
        .route("/healthz", get(health::healthz))
        .route("/livez", get(health::healthz))
        .route("/metrics", get(prometheus::metrics))
        .route_layer(axum::middleware::from_fn(prometheus::track))
        .route("/readyz", get(health::readyz))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(body_limit_answer))
        .layer(CatchPanicLayer::custom(graphql::panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Each request's span carries its id (`x-request-id`, set by us or passed by a proxy),
/// so every log line of the request names it.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", id, method = %request.method(), uri = %request.uri().path())
}

/// The body-limit layer answers an announced oversize body itself, in plain text: give
/// that answer the GraphQL error shape and code every other refusal has.
async fn body_limit_answer(response: axum::response::Response) -> axum::response::Response {
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE && !json {
        return graphql::error_response(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            crate::error::AppError::bad_input(format!("the request body is larger than {MAX_BODY_BYTES} bytes")),
        );
    }
    response
}
