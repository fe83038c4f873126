//! Where every error gets its `extensions.code` (docs/design.md §8): use-case errors through
//! `From<AppError>`, parse and validation errors through the [`ErrorCodes`] extension.
//! Internal causes are logged here and never sent.

use std::sync::Arc;

use async_graphql::{
    ErrorExtensionValues, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextValidation},
    parser::types::ExecutableDocument,
};

use crate::error::AppError;

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        match &err {
            AppError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            AppError::Unavailable => {
                tracing::warn!("no database connection came free within the acquire timeout: answered UNAVAILABLE");
            }
            _ => {}
        }
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", err.code());
        if let AppError::QuotaExceeded(refusal) = &err {
            extensions.set("limit", refusal.limit.clone());
            extensions.set("used", refusal.used.clone());
            extensions.set("remaining", refusal.remaining.clone());
        }
        async_graphql::Error {
            message: err.message(),
            source: None,
            extensions: Some(extensions),
        }
    }
}

/// Whether an error is an [`AppError::Unavailable`] (its answer is HTTP 503).
pub fn is_unavailable(error: &ServerError) -> bool {
    let code = error.extensions.as_ref().and_then(|e| e.get("code"));
    matches!(code, Some(Value::String(code)) if code == AppError::Unavailable.code())
}

/// Whether an answer is a request error: errors, no data, and no error at a path (nothing
/// ran: a parse, validation or variable error, or a refusal before execution).
pub fn is_request_error(response: &async_graphql::Response) -> bool {
    !response.errors.is_empty() && response.data == Value::Null && response.errors.iter().all(|e| e.path.is_empty())
}

/// A GraphQL error with a code, for answers made outside a resolver.
pub fn server_error(err: AppError) -> ServerError {
    let error = async_graphql::Error::from(err);
    let mut server_error = ServerError::new(error.message, None);
    server_error.extensions = error.extensions;
    server_error
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
    if !has_code {
        error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default)
            .set("code", Value::from(code));
    }
    error
}

/// The answer with a code on each error: one still without a code at the end of the
/// request is an argument or variable that did not coerce (a validation failure).
pub fn coded(mut response: async_graphql::Response) -> async_graphql::Response {
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|e| with_code(e, "GRAPHQL_VALIDATION_FAILED"))
        .collect();
    response
}

/// Gives parse and validation errors their codes; an error still without one at the end
/// of the request is an argument or variable that did not coerce (a validation failure).
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> async_graphql::Response {
        coded(next.run(ctx).await)
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, "GRAPHQL_PARSE_FAILED"))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| with_code(e, "GRAPHQL_VALIDATION_FAILED"))
                .collect()
        })
    }
}
