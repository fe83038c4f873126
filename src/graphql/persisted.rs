//! Two rules about how a request reached us, applied where the schema sees every request
//! (HTTP and WebSocket alike), and by the HTTP fast path (`graphql::fast_path`) through
//! the same functions ([`PersistedQueries::resolve`], [`runs_a_mutation`]):
//!
//! - Automatic persisted queries (Apollo's APQ): a request may name its document by
//!   `extensions.persistedQuery = {version: 1, sha256Hash}` instead of sending it. An unknown
//!   hash answers `PERSISTED_QUERY_NOT_FOUND` (the client then sends the document with its
//!   hash, which registers it); a hash that is not the SHA-256 of the document sent with it
//!   answers `PERSISTED_QUERY_HASH_MISMATCH`. The documents are kept per server, in memory,
//!   least recently used first out. A document is stored only once it parsed and validated,
//!   and it is parsed again (with every check of `limits`) each time it is used.
//! - A request marked [`ReadOnly`] (an HTTP GET) may not run a mutation: the HTTP handler
//!   turns that refusal into 405 Method Not Allowed.
//!
//! async-graphql's own `ApolloPersistedQueries` is not used: its errors carry no code, and it
//! parses the document itself, before our nesting and NUL checks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::{
    Request, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextValidation},
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
};
use sha2::{Digest, Sha256};

/// The code of a persisted query hash the server does not know.
pub const NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// The code of a document sent with a hash that is not its SHA-256.
pub const HASH_MISMATCH: &str = "PERSISTED_QUERY_HASH_MISMATCH";

/// How many documents the cache keeps, and how many bytes of document text at most.
pub const MAX_ENTRIES: usize = 1_000;
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

fn error_with(code: &str, message: impl Into<String>) -> ServerError {
    let mut error = ServerError::new(message, None);
    error.extensions.get_or_insert_with(Default::default).set("code", code);
    error
}

/// The documents registered on this server, by the hex SHA-256 of their text.
#[derive(Default)]
struct Cache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    entries: HashMap<String, (Arc<str>, u64)>,
    bytes: usize,
    tick: u64,
}

impl Cache {
    fn get(&self, hash: &str) -> Option<Arc<str>> {
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.tick += 1;
        let tick = inner.tick;
        let (query, used) = inner.entries.get_mut(hash)?;
        *used = tick;
        Some(query.clone())
    }

    fn set(&self, hash: String, query: &str) {
        if query.len() > MAX_BYTES {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.tick += 1;
        let tick = inner.tick;
        if let Some((_, used)) = inner.entries.get_mut(&hash) {
            *used = tick;
            return;
        }
        while !inner.entries.is_empty() && (inner.entries.len() >= MAX_ENTRIES || inner.bytes + query.len() > MAX_BYTES)
        {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(hash, _)| hash.clone());
            if let Some(oldest) = oldest
                && let Some((text, _)) = inner.entries.remove(&oldest)
            {
                inner.bytes -= text.len();
            }
        }
        inner.bytes += query.len();
        inner.entries.insert(hash, (Arc::from(query), tick));
    }
}

/// The hex SHA-256 of a document's text, as APQ names it.
pub fn hash(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

/// Reads `extensions.persistedQuery`: its hash, lower case.
fn persisted_hash(value: Value) -> ServerResult<Option<String>> {
    let fields = match value {
        Value::Null => return Ok(None),
        Value::Object(fields) => fields,
        _ => {
            return Err(error_with(
                "BAD_USER_INPUT",
                "extensions.persistedQuery must be an object {version: 1, sha256Hash: \"…\"}",
            ));
        }
    };
    let version = fields.get("version").and_then(|v| match v {
        Value::Number(n) => n.as_i64(),
        _ => None,
    });
    if version != Some(1) {
        return Err(error_with(
            "BAD_USER_INPUT",
            "only version 1 of persisted queries is supported",
        ));
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash)) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(error_with(
            "BAD_USER_INPUT",
            "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits",
        )),
    }
}

/// What `extensions.persistedQuery` makes of a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Persisted {
    /// Not a persisted query: the document is the one sent.
    Sent,
    /// A known hash sent without a document: the document registered under it.
    Known(Arc<str>),
    /// A document sent with its hash: registered under it once it validates.
    Registering(String),
}

/// Automatic persisted queries; one cache per server, shared by its schemas (a clone
/// shares it).
#[derive(Clone, Default)]
pub struct PersistedQueries {
    cache: Arc<Cache>,
}

impl PersistedQueries {
    /// Reads a request's `extensions.persistedQuery` (`persisted`) given the document sent
    /// with it (`query`, empty when none was); an unknown hash or a hash that is not the
    /// document's is refused.
    pub fn resolve(&self, persisted: Option<Value>, query: &str) -> ServerResult<Persisted> {
        let Some(hash) = persisted.map(persisted_hash).transpose()?.flatten() else {
            return Ok(Persisted::Sent);
        };
        if query.is_empty() {
            self.cache
                .get(&hash)
                .map(Persisted::Known)
                .ok_or_else(|| error_with(NOT_FOUND, "PersistedQueryNotFound"))
        } else if self::hash(query) == hash {
            Ok(Persisted::Registering(hash))
        } else {
            Err(error_with(
                HASH_MISMATCH,
                "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent with it",
            ))
        }
    }

    /// Registers a document that validated under its hash.
    pub fn register(&self, hash: String, query: &str) {
        self.cache.set(hash, query);
    }
}

impl ExtensionFactory for PersistedQueries {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PersistedQueriesExtension {
            queries: self.clone(),
            registering: Mutex::new(None),
        })
    }
}

struct PersistedQueriesExtension {
    queries: PersistedQueries,
    /// The hash and text of a document sent with its hash: stored once it validates.
    registering: Mutex<Option<(String, String)>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for PersistedQueriesExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let persisted = request.extensions.remove("persistedQuery");
        match self.queries.resolve(persisted, &request.query)? {
            Persisted::Sent => {}
            Persisted::Known(query) => request.query = query.to_string(),
            Persisted::Registering(hash) => {
                *self
                    .registering
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((hash, request.query.clone()));
            }
        }
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let registering = self
            .registering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some((hash, query)) = registering {
            self.queries.register(hash, &query);
        }
        Ok(result)
    }
}

/// Marks a request that may only read (it came over HTTP GET). After the request ran,
/// [`ReadOnly::refused_a_mutation`] tells whether it was refused for asking for one.
#[derive(Clone, Default)]
pub struct ReadOnly(Arc<AtomicBool>);

impl ReadOnly {
    pub fn refused_a_mutation(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Refuses a mutation in a request marked [`ReadOnly`] (with `BAD_USER_INPUT`), before it runs.
pub struct ReadOnlyRequests;

impl ExtensionFactory for ReadOnlyRequests {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ReadOnlyExtension {
            operation_name: Mutex::new(None),
        })
    }
}

struct ReadOnlyExtension {
    operation_name: Mutex<Option<String>>,
}

/// The operation a request runs, as async-graphql picks it (`None` when it will refuse).
pub fn selected<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a async_graphql::Positioned<async_graphql::parser::types::OperationDefinition>> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Whether the operation a request runs (named `name`) is a mutation.
pub fn runs_a_mutation(document: &ExecutableDocument, name: Option<&str>) -> bool {
    selected(document, name).is_some_and(|operation| operation.node.ty == OperationType::Mutation)
}

#[async_graphql::async_trait::async_trait]
impl Extension for ReadOnlyExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        (*self
            .operation_name
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
        .clone_from(&request.operation_name);
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Some(read_only) = ctx.data_opt::<ReadOnly>() {
            let name = self
                .operation_name
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if runs_a_mutation(&document, name.as_deref()) {
                read_only.0.store(true, Ordering::Relaxed);
                return Err(error_with(
                    "BAD_USER_INPUT",
                    "a GET request may only run a query: send mutations with POST",
                ));
            }
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::{Cache, MAX_ENTRIES, hash};

    #[test]
    fn hashes_as_apq_does() {
        assert_eq!(
            hash("{__typename}"),
            "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"
        );
    }

    #[test]
    fn the_cache_forgets_the_least_recently_used_first() {
        let cache = Cache::default();
        for i in 0..MAX_ENTRIES {
            cache.set(format!("{i}"), "{ a }");
        }
        assert!(cache.get("0").is_some());
        cache.set("new".into(), "{ b }");
        assert!(cache.get("0").is_some(), "just used");
        assert!(cache.get("1").is_none(), "the least recently used went");
        assert_eq!(cache.get("new").as_deref(), Some("{ b }"));
    }
}
