//! Reads the caller from `Authorization: Bearer <api key>` (HTTP) or from the
//! `connection_init` payload (WebSocket), through one function.

use axum::http::HeaderMap;

use crate::domain::access::Actor;
use crate::error::{AppError, AppResult};
use crate::service::{AppContext, api_key};

/// The secret in an `Authorization` value, if it is a Bearer credential.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, secret) = value.trim().split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

/// The caller of an `Authorization` value, or UNAUTHENTICATED.
pub async fn authenticate(ctx: &AppContext, authorization: Option<&str>) -> AppResult<Actor> {
    let secret = authorization.and_then(bearer).ok_or(AppError::Unauthenticated)?;
    api_key::authenticate(ctx, secret).await
}

/// The caller of an HTTP request.
pub async fn from_headers(ctx: &AppContext, headers: &HeaderMap) -> AppResult<Actor> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    authenticate(ctx, value).await
}

/// The caller of a WebSocket, from `{"Authorization": "Bearer …"}` in `connection_init`
/// (the header's name in any case).
pub async fn from_init_payload(ctx: &AppContext, payload: &serde_json::Value) -> AppResult<Actor> {
    let value = payload
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization")))
        .and_then(|(_, v)| v.as_str());
    authenticate(ctx, value).await
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn reads_bearer_credentials_only() {
        assert_eq!(bearer("Bearer qg_abc"), Some("qg_abc"));
        assert_eq!(bearer("bearer  qg_abc "), Some("qg_abc"));
        assert_eq!(bearer("Basic dXNlcg=="), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("qg_abc"), None);
    }
}
