//! `/graphql`: GraphQL over HTTP (POST, and GET for queries) as the caller of the Bearer
//! key; GET without a query serves the playground; a WebSocket upgrade speaks
//! `graphql-transport-ws` or the legacy `graphql-ws` and authenticates from its
//! `connection_init` payload.
//!
//! Our own handler rather than async-graphql-axum's, to follow the GraphQL over HTTP
//! specification (docs/rules.md, "GraphQL over HTTP"): the answer's media type follows
//! `Accept` (`application/json` unless `application/graphql-response+json` is preferred),
//! a request error (one raised before execution: a malformed request, a parse, validation
//! or variable error, an unknown persisted query) carries no `data` and, under
//! `application/graphql-response+json`, HTTP 400; a mutation over GET is 405.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_graphql::{
    Data, ServerError,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage},
};
use axum::{
    body::{Body, Bytes},
    extract::{
        FromRequestParts, Query, Request, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, StreamExt, future};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{AppState, Draining, auth, playground};
use crate::domain::access::Actor;
use crate::error::AppError;
use crate::graphql::error::{is_request_error, is_unavailable, server_error};
use crate::graphql::persisted::ReadOnly;
use crate::graphql::{Schemas, ws_limits};

/// How long a WebSocket may stay open without sending `connection_init`; then it is
/// closed with 4408.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The media types a GraphQL answer comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`: every answer that is GraphQL is HTTP 200.
    Json,
    /// `application/graphql-response+json`: request errors are HTTP 400.
    GraphQLResponse,
}

impl MediaType {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            MediaType::Json => "application/json; charset=utf-8",
            MediaType::GraphQLResponse => "application/graphql-response+json; charset=utf-8",
        })
    }
}

/// The media ranges of `Accept`, lower case, with their weights.
fn accepted(headers: &HeaderMap) -> Vec<(String, f32)> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let essence = parts.next()?.trim().to_ascii_lowercase();
            if essence.is_empty() {
                return None;
            }
            let mut weight = 1.0;
            for parameter in parts {
                if let Some((name, value)) = parameter.split_once('=')
                    && name.trim().eq_ignore_ascii_case("q")
                {
                    weight = value.trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 1.0);
                }
            }
            Some((essence, weight))
        })
        .collect()
}

/// The weight `Accept` gives `media` (from its most specific range) and that range's
/// specificity: 2 named, 1 `type/*`, 0 `*/*`.
fn weight(ranges: &[(String, f32)], media: &str) -> Option<(f32, u8)> {
    let kind = media.split('/').next().unwrap_or_default();
    ranges
        .iter()
        .filter_map(|(range, weight)| {
            let specificity = if range == media {
                2
            } else if range.strip_suffix("/*") == Some(kind) {
                1
            } else if range == "*/*" {
                0
            } else {
                return None;
            };
            Some((*weight, specificity))
        })
        .max_by_key(|(_, specificity)| *specificity)
}

/// The media type of the answer: `application/json` without `Accept`, for `*/*` and when
/// it weighs more; `application/graphql-response+json` when `Accept` names it and weighs it
/// at least as much. `None` when `Accept` allows neither (HTTP 406).
pub fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let ranges = accepted(headers);
    if ranges.is_empty() {
        return Some(MediaType::Json);
    }
    let json = weight(&ranges, "application/json").unwrap_or((0.0, 0));
    let graphql = weight(&ranges, "application/graphql-response+json").unwrap_or((0.0, 0));
    if json.0 <= 0.0 && graphql.0 <= 0.0 {
        None
    } else if graphql.0 > json.0 || (graphql.0 == json.0 && graphql.1 == 2) {
        Some(MediaType::GraphQLResponse)
    } else {
        Some(MediaType::Json)
    }
}

/// Whether a browser asks for a page (it names `text/html` and weighs it at least as much
/// as JSON): a GET with a query then still gets the playground.
fn wants_html(headers: &HeaderMap) -> bool {
    let ranges = accepted(headers);
    let html = ranges
        .iter()
        .filter(|(range, _)| range == "text/html")
        .map(|(_, weight)| *weight)
        .fold(0.0, f32::max);
    let json = weight(&ranges, "application/json")
        .map_or(0.0, |(w, _)| w)
        .max(weight(&ranges, "application/graphql-response+json").map_or(0.0, |(w, _)| w));
    html > 0.0 && html >= json
}

/// An answer holding only errors (and no `data`), in `media`.
fn errors_answer(status: StatusCode, media: MediaType, errors: Vec<ServerError>) -> Response {
    answer(status, media, async_graphql::Response::from_errors(errors), true)
}

/// A GraphQL answer's body: `data` left out for a request error.
#[derive(Serialize)]
struct AnswerBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[ServerError]>::is_empty")]
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

fn answer(status: StatusCode, media: MediaType, response: async_graphql::Response, without_data: bool) -> Response {
    let body = AnswerBody {
        data: (!without_data).then_some(&response.data),
        errors: &response.errors,
        extensions: &response.extensions,
    };
    let body = serde_json::to_string(&body).unwrap_or_else(|err| {
        tracing::error!(error = %err, "a GraphQL answer did not serialize");
        r#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#.to_owned()
    });
    let mut answer = (status, body).into_response();
    let headers = answer.headers_mut();
    headers.insert(header::CONTENT_TYPE, media.header());
    if response.is_ok()
        && let Some(value) = response.cache_control.value()
        && let Ok(value) = HeaderValue::from_str(&value)
    {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.extend(response.http_headers);
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(super::RETRY_UNAVAILABLE_AFTER));
    }
    answer
}

/// A GraphQL-shaped error answer with an HTTP status, in `application/json`.
pub(crate) fn error_response(status: StatusCode, err: AppError) -> Response {
    errors_answer(status, MediaType::Json, vec![server_error(err)])
}

/// A request refused before it ran, with a code of its own.
fn refusal(status: StatusCode, media: MediaType, code: &str, message: impl Into<String>) -> Response {
    let mut error = server_error(AppError::bad_input(message));
    error.extensions.get_or_insert_with(Default::default).set("code", code);
    errors_answer(status, media, vec![error])
}

/// A body or query string that is not a GraphQL request.
fn malformed(media: MediaType, message: impl Into<String>) -> Response {
    refusal(StatusCode::BAD_REQUEST, media, "GRAPHQL_PARSE_FAILED", message)
}

fn not_acceptable() -> Response {
    refusal(
        StatusCode::NOT_ACCEPTABLE,
        MediaType::Json,
        "BAD_USER_INPUT",
        "GraphQL answers come as application/graphql-response+json or application/json: accept one of them",
    )
}

/// The parameters of a GraphQL request, before they are checked.
#[derive(Deserialize, Default)]
struct Params {
    #[serde(default)]
    query: Option<Json>,
    #[serde(default, rename = "operationName")]
    operation_name: Option<Json>,
    #[serde(default)]
    variables: Option<Json>,
    #[serde(default)]
    extensions: Option<Json>,
}

impl Params {
    /// The request they make, or why they make none.
    fn request(self) -> Result<async_graphql::Request, String> {
        let extensions = match self.extensions {
            None => serde_json::Map::new(),
            Some(Json::Object(map)) => map,
            Some(_) => return Err("extensions must be an object".into()),
        };
        let persisted = extensions.get("persistedQuery").is_some_and(|v| !v.is_null());
        let query = match self.query {
            Some(Json::String(query)) => query,
            None if persisted => String::new(),
            None => return Err("the request has no query: send {\"query\": \"…\", \"variables\": {…}}".into()),
            Some(_) => return Err("query must be a string".into()),
        };
        let operation_name = match self.operation_name {
            None => Json::Null,
            Some(name @ Json::String(_)) => name,
            Some(_) => return Err("operationName must be a string".into()),
        };
        let variables = match self.variables {
            None => serde_json::Map::new(),
            Some(Json::Object(map)) => map,
            Some(_) => return Err("variables must be an object".into()),
        };
        serde_json::from_value(serde_json::json!({
            "query": query,
            "operationName": operation_name,
            "variables": variables,
            "extensions": extensions,
        }))
        .map_err(|err| format!("the request is not a GraphQL request: {err}"))
    }
}

/// Whether a `Content-Type` is JSON in UTF-8.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        && parts.all(|parameter| match parameter.split_once('=') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
                value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            }
            _ => true,
        })
}

/// The caller and its rate, or the refusal.
async fn admit(state: &AppState, headers: &HeaderMap, media: MediaType) -> Result<Actor, Response> {
    let actor = match auth::from_headers(&state.context, headers).await {
        Ok(actor) => actor,
        Err(AppError::Unauthenticated) => {
            return Err(errors_answer(
                StatusCode::UNAUTHORIZED,
                media,
                vec![server_error(AppError::Unauthenticated)],
            ));
        }
        Err(other) => {
            return Err(errors_answer(
                super::status_of(&other),
                media,
                vec![server_error(other)],
            ));
        }
    };
    if let Err(wait) = state.limiter.take(actor.key_id.0, std::time::Instant::now()) {
        return Err(super::rate_limit::refusal(wait));
    }
    Ok(actor)
}

/// Runs a request as `actor` and answers it: a request error (errors, no data, no error
/// at a path: nothing ran) has no `data` and is HTTP 400 under
/// `application/graphql-response+json`; a mutation refused over GET is 405; an answer that
/// lacks a part for want of a database connection is 503 (with `Retry-After`), whatever
/// else it holds: the request is to be sent again.
///
/// The fast path runs it when it may, and the full schema otherwise (or when the fast
/// schema refused it before running anything): see `graphql::fast_path`.
async fn run(
    schemas: &Schemas,
    request: async_graphql::Request,
    actor: Actor,
    media: MediaType,
    read_only: Option<ReadOnly>,
) -> Response {
    let fast_path = &schemas.fast_path;
    let (name, fast) = match fast_path.admit(&request, actor.role, read_only.is_some()) {
        Some(admitted) => (
            admitted.name().map(str::to_owned),
            fast_path.execute(admitted, actor).await,
        ),
        None => (request.operation_name.clone(), None),
    };
    fast_path.count(name.as_deref(), fast.is_some());
    let response = match fast {
        Some(response) => response,
        None => {
            let request = request.data(actor);
            let request = match &read_only {
                Some(marker) => request.data(marker.clone()),
                None => request,
            };
            schemas.full.execute(request).await
        }
    };
    let request_error = is_request_error(&response);
    let status = if read_only.as_ref().is_some_and(ReadOnly::refused_a_mutation) {
        StatusCode::METHOD_NOT_ALLOWED
    } else if response.errors.iter().any(is_unavailable) {
        StatusCode::SERVICE_UNAVAILABLE
    } else if request_error && media == MediaType::GraphQLResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    answer(status, media, response, request_error)
}

/// POST /graphql: one operation in a JSON body.
pub async fn post_graphql(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let (media, actor) = match admit_post(&state, &headers).await {
        Ok(admitted) => admitted,
        Err(refused) => {
            // Read what was sent (within the size limit) without keeping it: a connection
            // whose request body is left unread is closed, and a client reusing it fails.
            drain(body).await;
            return refused;
        }
    };
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(refused) => return refused(media),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return malformed(
            media,
            "the request has no body: send {\"query\": \"…\", \"variables\": {…}}",
        );
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return refusal(
            StatusCode::BAD_REQUEST,
            media,
            "BAD_USER_INPUT",
            "batched requests are not accepted: send one operation per request",
        );
    }
    // Not a `Value` first: a repeated parameter is refused, not silently overwritten.
    let params: Params = match serde_json::from_slice(&bytes) {
        Ok(params) => params,
        Err(err) if err.is_syntax() || err.is_eof() => {
            return malformed(media, format!("the body is not JSON: {err}"));
        }
        Err(err) => {
            return malformed(
                media,
                format!("the body is not a GraphQL request: send a JSON object {{\"query\": \"…\"}} ({err})"),
            );
        }
    };
    match params.request() {
        Ok(request) => run(&state.schemas, request, actor, media, None).await,
        Err(message) => malformed(media, message),
    }
}

/// The media type of the answer and the caller of a POST, or its refusal (before its body
/// is read).
async fn admit_post(state: &AppState, headers: &HeaderMap) -> Result<(MediaType, Actor), Response> {
    let media = negotiate(headers).ok_or_else(not_acceptable)?;
    let actor = admit(state, headers, media).await?;
    if !is_json(headers) {
        return Err(refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "BAD_USER_INPUT",
            "send the request as Content-Type: application/json (UTF-8); multipart uploads are not accepted",
        ));
    }
    Ok((media, actor))
}

/// Reads a body to its end (or its first error), keeping nothing.
async fn drain(body: Body) {
    let mut frames = body.into_data_stream();
    while let Some(Ok(_)) = frames.next().await {}
}

/// The body, or (given the answer's media type) its refusal.
async fn read_body(body: Body) -> Result<Bytes, fn(MediaType) -> Response> {
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => Ok(bytes),
        Err(err) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
            while let Some(cause) = source {
                if cause.is::<http_body_util::LengthLimitError>() {
                    return Err(|media| {
                        refusal(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            media,
                            "BAD_USER_INPUT",
                            format!("the request body is larger than {} bytes", super::MAX_BODY_BYTES),
                        )
                    });
                }
                source = cause.source();
            }
            Err(|media| malformed(media, "the request body could not be read"))
        }
    }
}

/// GET /graphql: a WebSocket upgrade; a query in the query string (queries only: a
/// mutation is 405); or else the playground page.
pub async fn get_graphql(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    if let Ok(upgrade) = WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        return match protocol(&parts.headers) {
            Some(protocol) => websocket(state, upgrade, protocol),
            None => refusal(
                StatusCode::BAD_REQUEST,
                MediaType::Json,
                "BAD_USER_INPUT",
                "ask for the WebSocket subprotocol graphql-transport-ws or graphql-ws",
            ),
        };
    }
    let pairs = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|Query(pairs)| pairs)
        .unwrap_or_default();
    let asks = pairs.iter().any(|(name, _)| name == "query" || name == "extensions");
    if !asks || wants_html(&parts.headers) {
        return playground::page();
    }
    let Some(media) = negotiate(&parts.headers) else {
        return not_acceptable();
    };
    let actor = match admit(&state, &parts.headers, media).await {
        Ok(actor) => actor,
        Err(refused) => return refused,
    };
    let params = match query_params(pairs) {
        Ok(params) => params,
        Err(message) => return malformed(media, message),
    };
    match params.request() {
        Ok(request) => run(&state.schemas, request, actor, media, Some(ReadOnly::default())).await,
        Err(message) => malformed(media, message),
    }
}

/// The parameters of a GET: `query` and `operationName` as text, `variables` and
/// `extensions` as JSON text; each at most once. Other parameters are ignored.
fn query_params(pairs: Vec<(String, String)>) -> Result<Params, String> {
    let mut params = Params::default();
    for (name, value) in pairs {
        let (slot, json) = match name.as_str() {
            "query" => (&mut params.query, false),
            "operationName" => (&mut params.operation_name, false),
            "variables" => (&mut params.variables, true),
            "extensions" => (&mut params.extensions, true),
            _ => continue,
        };
        if slot.is_some() {
            return Err(format!("the parameter {name} is repeated"));
        }
        *slot = Some(if json {
            serde_json::from_str(&value).map_err(|err| format!("{name} is not JSON: {err}"))?
        } else {
            Json::String(value)
        });
    }
    Ok(params)
}

/// The first GraphQL subprotocol the client offers.
fn protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
}

fn websocket(state: AppState, upgrade: WebSocketUpgrade, protocol: WebSocketProtocols) -> Response {
    // Subscriptions send small frames: 8 KiB buffers instead of 128 KiB each keep a
    // thousand idle subscribers in a few megabytes.
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| serve_socket(socket, state, protocol))
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// One WebSocket connection, until either side ends it; closed with 4408 when it sends no
/// `connection_init` within [`INIT_TIMEOUT`], and with 1001 when the server drains.
async fn serve_socket(socket: WebSocket, state: AppState, protocol: WebSocketProtocols) {
    let _open = state.draining.socket();
    let AppState {
        schemas,
        context,
        connections,
        max_subscriptions,
        draining,
        ..
    } = state;
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|frame| future::ready(frame.is_ok()))
        .filter_map(|frame| {
            future::ready(match frame {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                _ => None,
            })
        });
    let initialised = Arc::new(AtomicBool::new(false));
    let seen = initialised.clone();
    let messages = async_graphql::http::WebSocket::new(schemas.full, input, protocol)
        .on_connection_init(move |payload| async move {
            seen.store(true, Ordering::Relaxed);
            let actor = auth::from_init_payload(&context, &payload).await?;
            let slot = connections.open(actor.key_id.0)?;
            let mut data = Data::default();
            data.insert(actor);
            // Held by the connection's data: freed when the connection closes.
            data.insert(slot);
            data.insert(ws_limits::Subscriptions::new(max_subscriptions));
            Ok(data)
        })
        .map(|message| match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        });
    futures_util::pin_mut!(messages);
    let init_timeout = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(init_timeout);
    let drained = drain_started(draining);
    tokio::pin!(drained);
    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(message) => {
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            () = &mut init_timeout, if !initialised.load(Ordering::Relaxed) => {
                let _ = sink.send(close(4408, "Connection initialisation timeout")).await;
                return;
            }
            () = &mut drained => {
                let _ = sink.send(close(1001, "the server is shutting down")).await;
                return;
            }
        }
    }
}

async fn drain_started(draining: Draining) {
    draining.started().await;
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

#[cfg(test)]
mod tests {
    use super::{MediaType, negotiate, wants_html};
    use axum::http::{HeaderMap, HeaderValue, header};

    fn accept(value: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(header::ACCEPT, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn negotiates_the_answers_media_type() {
        let cases = [
            (None, Some(MediaType::Json)),
            (Some(""), Some(MediaType::Json)),
            (Some("*/*"), Some(MediaType::Json)),
            (Some("application/*"), Some(MediaType::Json)),
            (Some("application/json"), Some(MediaType::Json)),
            (
                Some("application/graphql-response+json"),
                Some(MediaType::GraphQLResponse),
            ),
            (
                Some("application/graphql-response+json, application/json"),
                Some(MediaType::GraphQLResponse),
            ),
            (
                Some("application/json, application/graphql-response+json"),
                Some(MediaType::GraphQLResponse),
            ),
            (
                Some("application/graphql-response+json,application/json;q=0.9"),
                Some(MediaType::GraphQLResponse),
            ),
            (
                Some("application/graphql-response+json;q=0.5, application/json"),
                Some(MediaType::Json),
            ),
            (
                Some("application/graphql-response+json, */*;q=0.1"),
                Some(MediaType::GraphQLResponse),
            ),
            (Some("text/html"), None),
            (Some("application/json;q=0"), None),
            (Some("text/html,application/xhtml+xml,*/*;q=0.8"), Some(MediaType::Json)),
        ];
        for (value, expected) in cases {
            assert_eq!(negotiate(&accept(value)), expected, "{value:?}");
        }
    }

    #[test]
    fn a_browser_gets_the_page() {
        assert!(wants_html(&accept(Some(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ))));
        assert!(!wants_html(&accept(Some("*/*"))));
        assert!(!wants_html(&accept(Some("application/json"))));
        assert!(!wants_html(&accept(None)));
    }
}
