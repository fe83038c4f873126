//! `/healthz` and `/livez`: the process is up. `/readyz`: the database answers and the
//! server is not draining (a load balancer stops sending it requests).

use axum::{extract::State, http::StatusCode};

use super::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.draining.is_draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining");
    }
    match state.context.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
