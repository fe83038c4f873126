//! `/graphql`: POST runs a query or mutation as the caller of the Bearer key; GET serves
//! the playground, or upgrades to a WebSocket (`graphql-transport-ws` and `graphql-ws`)
//! that authenticates from its `connection_init` payload.

use async_graphql::{Data, ParseRequestError, http::ALL_WEBSOCKET_PROTOCOLS};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::{
    Json,
    body::Body,
    extract::{State, WebSocketUpgrade, ws::rejection::WebSocketUpgradeRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{AppState, auth, playground};
use crate::error::AppError;
use crate::graphql::error::server_error;
use crate::graphql::ws_limits;

/// A GraphQL-shaped error answer with an HTTP status.
pub(crate) fn error_response(status: StatusCode, err: AppError) -> Response {
    let body = async_graphql::Response::from_errors(vec![server_error(err)]);
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// A request body that is not a GraphQL request.
pub struct BadRequest(ParseRequestError);

impl From<ParseRequestError> for BadRequest {
    fn from(err: ParseRequestError) -> Self {
        BadRequest(err)
    }
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        match self.0 {
            ParseRequestError::PayloadTooLarge => error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                AppError::bad_input(format!(
                    "the request body is larger than {} bytes",
                    super::MAX_BODY_BYTES
                )),
            ),
            ParseRequestError::UnsupportedBatch => error_response(
                StatusCode::BAD_REQUEST,
                AppError::bad_input("batched requests are not accepted: send one operation per request"),
            ),
            other => {
                let message = match other {
                    ParseRequestError::InvalidRequest(err) => format!("the body is not a GraphQL request: {err}"),
                    _ => "the body is not a GraphQL request: send JSON {\"query\": \"…\", \"variables\": {…}}".into(),
                };
                let mut error = server_error(AppError::bad_input(message));
                if let Some(ext) = error.extensions.as_mut() {
                    ext.set("code", "GRAPHQL_PARSE_FAILED");
                }
                let body = async_graphql::Response::from_errors(vec![error]);
                (StatusCode::BAD_REQUEST, Json(body)).into_response()
            }
        }
    }
}

/// POST /graphql.
pub async fn post_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest<BadRequest>,
) -> Response {
    let actor = match auth::from_headers(&state.context, &headers).await {
        Ok(actor) => actor,
        Err(AppError::Unauthenticated) => return error_response(StatusCode::UNAUTHORIZED, AppError::Unauthenticated),
        Err(other) => return error_response(StatusCode::INTERNAL_SERVER_ERROR, other),
    };
    if let Err(wait) = state.limiter.take(actor.key_id.0, std::time::Instant::now()) {
        return super::rate_limit::refusal(wait);
    }
    let request = request.into_inner().data(actor);
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

/// GET /graphql: a WebSocket upgrade, or else the playground page.
pub async fn get_graphql(
    State(state): State<AppState>,
    protocol: Result<GraphQLProtocol, StatusCode>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let (Ok(protocol), Ok(upgrade)) = (protocol, upgrade) else {
        return playground::page();
    };
    let schema = state.schema.clone();
    let context = state.context.clone();
    let (connections, max_subscriptions) = (state.connections.clone(), state.max_subscriptions);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let actor = auth::from_init_payload(&context, &payload).await?;
                    let slot = connections.open(actor.key_id.0)?;
                    let mut data = Data::default();
                    data.insert(actor);
                    // Held by the connection's data: freed when the connection closes.
                    data.insert(slot);
                    data.insert(ws_limits::Subscriptions::new(max_subscriptions));
                    Ok(data)
                })
                .serve()
                .await;
        })
}

/// A panic anywhere below becomes a plain INTERNAL error; its message is logged, not sent.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "request handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        AppError::Internal(anyhow::anyhow!("panic")),
    )
}
