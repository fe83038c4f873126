//! The playground: a page of our own, embedded in the binary, so it works offline.

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

const INDEX: &str = include_str!("playground/index.html");
const SCRIPT: &str = include_str!("playground/playground.js");
const STYLE: &str = include_str!("playground/playground.css");

/// Only our own assets: the page runs no script and loads no style from elsewhere.
const CSP: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'";

/// The playground page.
pub fn page() -> Response {
    ([(header::CONTENT_SECURITY_POLICY, CSP)], Html(INDEX)).into_response()
}

/// `/playground/{asset}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, content_type) = match name.as_str() {
        "playground.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "playground.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
