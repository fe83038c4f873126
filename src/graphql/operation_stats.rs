//! Counts GraphQL queries and mutations by name and outcome (`ok`, or the first error's
//! code, refused documents included) for `/metrics`; subscriptions are counted live by
//! `quotagraph_subscriptions`. Names come from clients, so only the first [`MAX_NAMES`] distinct ones get
//! a series of their own; later ones count as `other`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use async_graphql::{Request, Response, ServerResult, Value, Variables};

const MAX_NAMES: usize = 200;

/// The extension; it keeps the names it has seen (a clone shares them).
#[derive(Clone, Default)]
pub struct OperationStats {
    names: Arc<Mutex<HashSet<String>>>,
}

impl ExtensionFactory for OperationStats {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationStatsExtension {
            stats: self.clone(),
            operation: Mutex::new(None),
        })
    }
}

/// One request's: the extension is made anew for each.
struct OperationStatsExtension {
    stats: OperationStats,
    operation: Mutex<Option<String>>,
}

impl OperationStats {
    /// The series a request named `name` counts in.
    pub fn label(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|n| n.len() <= 100) else {
            return "anonymous".into();
        };
        let mut names = self.names.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if names.contains(name) || (names.len() < MAX_NAMES && names.insert(name.to_owned())) {
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// Counts a request named `name` that started at `started` and was answered `response`.
    pub fn record(&self, name: Option<&str>, started: Instant, response: &Response) {
        let operation = self.label(name);
        metrics::counter!("quotagraph_graphql_operations_total", "operation" => operation.clone(), "outcome" => outcome(response))
            .increment(1);
        metrics::histogram!("quotagraph_graphql_operation_duration_seconds", "operation" => operation)
            .record(started.elapsed().as_secs_f64());
    }
}

/// The name of a request without `operationName`: its document's one named operation.
pub fn document_name(document: &ExecutableDocument) -> Option<String> {
    match &document.operations {
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(|name| name.to_string())
        }
        _ => None,
    }
}

fn outcome(response: &Response) -> String {
    match response.errors.first() {
        None => "ok".into(),
        Some(error) => match error.extensions.as_ref().and_then(|e| e.get("code")) {
            Some(Value::String(code)) => code.clone(),
            _ => "error".into(),
        },
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for OperationStatsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *self.operation.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    /// Without `operationName`, a document's one named operation names the request.
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut operation = self.operation.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if operation.is_none() {
            *operation = document_name(&document);
        }
        Ok(document)
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let name = self
            .operation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        self.stats.record(name.as_deref(), started, &response);
        response
    }
}
