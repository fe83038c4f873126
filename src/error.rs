//! The application's one error type. Each variant is one of the codes of docs/design.md §8;
//! the GraphQL layer maps it to `extensions.code` in one place (`graphql::error`).
//! Internal causes are logged where they are turned into an answer, never sent.
//!
//! `AppError` deliberately has no `Display`: async-graphql turns anything displayable
//! into an error without a code, and this way every error goes through our mapping.

use sea_orm::{ConnAcquireErr, DbErr};

/// A refused or failed request.
#[derive(Debug)]
pub enum AppError {
    Unauthenticated,
    /// An export link that no longer works or was altered: UNAUTHENTICATED, saying why.
    LinkRefused(String),
    Forbidden(String),
    NotFound(String),
    BadUserInput(String),
    Conflict(String),
    QuotaExceeded(QuotaRefusal),
    /// Admission for a tenant that is not ACTIVE: it is no longer actively consuming.
    TenantInactive(String),
    RateLimited(String),
    /// No database connection came free within the pool's acquire timeout: the server is
    /// overloaded, and the request may be sent again (HTTP 503 with `Retry-After`).
    Unavailable,
    Internal(anyhow::Error),
}

/// The figures of a refused admission, sent as error extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaRefusal {
    pub message: String,
    pub limit: String,
    pub used: String,
    pub remaining: String,
}

impl AppError {
    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated | AppError::LinkRefused(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput(_) => "BAD_USER_INPUT",
            AppError::Conflict(_) => "CONFLICT",
            AppError::QuotaExceeded(_) => "QUOTA_EXCEEDED",
            AppError::TenantInactive(_) => "TENANT_INACTIVE",
            AppError::RateLimited(_) => "RATE_LIMITED",
            AppError::Unavailable => "UNAVAILABLE",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// The message a person reads; never the internal cause.
    pub fn message(&self) -> String {
        match self {
            AppError::Unauthenticated => {
                "authentication required: send the header 'Authorization: Bearer <api key>' with a valid, unrevoked key"
                    .into()
            }
            AppError::LinkRefused(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::BadUserInput(m)
            | AppError::Conflict(m)
            | AppError::TenantInactive(m)
            | AppError::RateLimited(m) => m.clone(),
            AppError::QuotaExceeded(refusal) => refusal.message.clone(),
            AppError::Unavailable => {
                "the server is too busy to answer now (no database connection came free in time): send the request again in a few seconds".into()
            }
            AppError::Internal(_) => "internal error; it has been logged".into(),
        }
    }

    /// The same error for another caller that shares its cause (the requests of one group
    /// commit): the same code and message, an internal cause as text.
    pub fn replicate(&self) -> Self {
        match self {
            AppError::Unauthenticated => AppError::Unauthenticated,
            AppError::LinkRefused(m) => AppError::LinkRefused(m.clone()),
            AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
            AppError::NotFound(m) => AppError::NotFound(m.clone()),
            AppError::BadUserInput(m) => AppError::BadUserInput(m.clone()),
            AppError::Conflict(m) => AppError::Conflict(m.clone()),
            AppError::QuotaExceeded(refusal) => AppError::QuotaExceeded(refusal.clone()),
            AppError::TenantInactive(m) => AppError::TenantInactive(m.clone()),
            AppError::RateLimited(m) => AppError::RateLimited(m.clone()),
            AppError::Unavailable => AppError::Unavailable,
            AppError::Internal(cause) => AppError::Internal(anyhow::anyhow!("{cause:#}")),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        AppError::BadUserInput(message.into())
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    pub fn forbidden(action: &str) -> Self {
        AppError::Forbidden(format!("your API key's role may not {action}"))
    }
}

fn is_pool_timeout(err: &DbErr) -> bool {
    matches!(err, DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if is_pool_timeout(&err) {
            AppError::Unavailable
        } else {
            AppError::Internal(err.into())
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        if err.downcast_ref::<DbErr>().is_some_and(is_pool_timeout) {
            AppError::Unavailable
        } else {
            AppError::Internal(err)
        }
    }
}

/// The result of a use case.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_code_and_internal_causes_stay_inside() {
        let refusal = QuotaRefusal {
            message: "quota exceeded".into(),
            limit: "10".into(),
            used: "10".into(),
            remaining: "0".into(),
        };
        let cases = [
            (AppError::Unauthenticated, "UNAUTHENTICATED"),
            (AppError::forbidden("do that"), "FORBIDDEN"),
            (AppError::not_found("tenant"), "NOT_FOUND"),
            (AppError::bad_input("bad"), "BAD_USER_INPUT"),
            (AppError::Conflict("taken".into()), "CONFLICT"),
            (AppError::QuotaExceeded(refusal), "QUOTA_EXCEEDED"),
            (
                AppError::TenantInactive("the tenant is DISABLED".into()),
                "TENANT_INACTIVE",
            ),
            (AppError::RateLimited("slow down".into()), "RATE_LIMITED"),
            (
                AppError::from(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
                "UNAVAILABLE",
            ),
            (
                AppError::from(anyhow::Error::from(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))),
                "UNAVAILABLE",
            ),
            (
                AppError::from(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)),
                "INTERNAL",
            ),
            (AppError::from(DbErr::Custom("SELECT secret FROM t".into())), "INTERNAL"),
        ];
        for (error, code) in cases {
            assert_eq!(error.code(), code);
            assert!(!error.message().contains("SELECT"), "{code} leaks its cause");
        }
    }
}
