//! The fast path of GraphQL over HTTP (docs/design.md §8). Once a schema has an extension,
//! async-graphql runs every field of every answer through every extension (a registry
//! look-up and a boxed call each), and ours only need the request as a whole: so a request
//! is first checked here, once, for everything the extensions could refuse it for (the
//! persisted query, the document limits, a mutation over GET, and the authorization matrix
//! for the whole document and the caller's role). One that passes runs on a second schema
//! with no extension, and what the extensions do with an answer is done here after it.
//!
//! Whatever does not pass runs on the full schema, as does a request the fast schema
//! refuses before running anything (a validation or variable error, a complexity over the
//! limit): so every refusal is the full schema's own, word for word.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::Instant;

use async_graphql::{Request, Response, parser::parse_query};

use super::authorization::{SchemaTypes, admits_document};
use super::error::{coded, is_request_error};
use super::limits::{Limits, check_document, check_text};
use super::operation_stats::{OperationStats, document_name};
use super::persisted::{Persisted, PersistedQueries, runs_a_mutation};
use super::{QuotagraphSchema, sdl};
use crate::domain::access::{Actor, Role};

/// How many verdicts of the authorization walk are kept; past it they are all forgotten.
const MAX_VERDICTS: usize = 1_000;

/// A verdict's key: the hash of the document's text, the operation run, the caller's role.
type VerdictKey = (u64, Option<String>, Role);

/// The schema without extensions, and what it needs to stand in for them.
pub struct FastPath {
    schema: QuotagraphSchema,
    limits: Limits,
    types: SchemaTypes,
    persisted: PersistedQueries,
    stats: OperationStats,
    verdicts: Mutex<HashMap<VerdictKey, bool>>,
    hasher: std::hash::RandomState,
}

/// A request the fast schema may run.
pub struct Admitted {
    /// The request as the fast schema runs it: the document resolved and parsed.
    request: Request,
    /// The name its operation is counted under.
    name: Option<String>,
    /// The hash and text of a persisted query to register once it validates.
    registering: Option<(String, String)>,
}

impl Admitted {
    /// The name its operation is counted under.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl FastPath {
    /// The fast path of a server whose full schema shares `persisted` and `stats`; `schema`
    /// has no extension, and the same limits (its own complexity limit among them).
    pub fn new(schema: QuotagraphSchema, limits: Limits, persisted: PersistedQueries, stats: OperationStats) -> Self {
        FastPath {
            schema,
            limits,
            types: SchemaTypes::from_sdl(&sdl()).expect("the schema's own SDL parses"),
            persisted,
            stats,
            verdicts: Mutex::default(),
            hasher: std::hash::RandomState::new(),
        }
    }

    /// Whether a request (of a caller of `role`, `read_only` over GET) may run on the fast
    /// schema, and as what; `None` sends it to the full schema.
    pub fn admit(&self, request: &Request, role: Role, read_only: bool) -> Option<Admitted> {
        let persisted = request.extensions.get("persistedQuery").cloned();
        let (query, registering) = match self.persisted.resolve(persisted, &request.query).ok()? {
            Persisted::Sent => (request.query.clone(), None),
            Persisted::Known(query) => (query.to_string(), None),
            Persisted::Registering(hash) => (request.query.clone(), Some((hash, request.query.clone()))),
        };
        check_text(&query, &request.variables).ok()?;
        let document = parse_query(&query).ok()?;
        check_document(&self.limits, &document).ok()?;
        let operation = request.operation_name.as_deref();
        if read_only && runs_a_mutation(&document, operation) {
            return None;
        }
        let key = (self.hasher.hash_one(&query), request.operation_name.clone(), role);
        let cached = self
            .verdicts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .copied();
        let admitted = cached.unwrap_or_else(|| {
            let admitted = admits_document(&self.types, role, &document, operation);
            let mut verdicts = self.verdicts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if verdicts.len() >= MAX_VERDICTS {
                verdicts.clear();
            }
            verdicts.insert(key, admitted);
            admitted
        });
        if !admitted {
            return None;
        }
        let name = request.operation_name.clone().or_else(|| document_name(&document));
        let mut fast = Request::new(query).variables(request.variables.clone());
        fast.operation_name.clone_from(&request.operation_name);
        fast.extensions = request.extensions.clone();
        fast.extensions.remove("persistedQuery");
        fast.introspection_mode = request.introspection_mode;
        fast.set_parsed_query(document);
        Some(Admitted {
            request: fast,
            name,
            registering,
        })
    }

    /// Runs an admitted request as `actor`, and does with its answer what the full schema's
    /// extensions do; `None` when the fast schema refused it before running anything (the
    /// full schema is to answer it).
    pub async fn execute(&self, admitted: Admitted, actor: Actor) -> Option<Response> {
        let started = Instant::now();
        let response = self.schema.execute(admitted.request.data(actor)).await;
        if is_request_error(&response) {
            return None;
        }
        if let Some((hash, query)) = admitted.registering {
            self.persisted.register(hash, &query);
        }
        let response = coded(response);
        self.stats.record(admitted.name.as_deref(), started, &response);
        Some(response)
    }

    /// Counts a request answered by the fast schema (`fast`) or by the full one.
    pub fn count(&self, name: Option<&str>, fast: bool) {
        let path = if fast { "fast" } else { "full" };
        metrics::counter!("quotagraph_graphql_fast_path_total", "operation" => self.stats.label(name), "path" => path)
            .increment(1);
    }
}
