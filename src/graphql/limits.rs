//! What one GraphQL request may ask for (docs/design.md §8): depth, complexity and aliases,
//! and whether introspection is on. Checked before anything runs; a refusal carries
//! GRAPHQL_VALIDATION_FAILED.
//!
//! Complexity is what an answer may hold: every field counts 1, and a list counts 1 plus
//! its selection once for each item it may hold ([`page_cost`], [`list_cost`]), so nested
//! pages multiply. The lists inside an attribution tree are the exception ([`tree_cost`]).

use std::sync::Arc;

use async_graphql::{
    ServerError, ServerResult, ValidationResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use super::{DEFAULT_PAGE, MAX_PAGE};
use crate::config::LimitSettings;

/// The limits of one request, from [`LimitSettings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest selection accepted.
    pub depth: usize,
    /// Highest complexity accepted (every field counts 1, lists by their page size).
    pub complexity: usize,
    /// Most aliases in one document.
    pub aliases: usize,
    /// Whether `__schema` and `__type` answer.
    pub introspection: bool,
}

impl From<&LimitSettings> for Limits {
    fn from(settings: &LimitSettings) -> Self {
        Limits {
            depth: settings.max_depth,
            complexity: settings.max_complexity,
            aliases: settings.max_aliases,
            introspection: !settings.disable_introspection,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from(&LimitSettings::default())
    }
}

/// The most a list costs: far past any limit, and far enough from `usize::MAX` that
/// async-graphql's unchecked sums of costs cannot overflow (a debug build would panic).
const MAX_COST: usize = 1 << 40;

/// The cost of a connection: 1, plus its selection once for each item of the page asked
/// for (`first`, [`DEFAULT_PAGE`] when absent). A page over [`MAX_PAGE`] is refused when
/// it runs, so it costs no more than the largest page here.
pub fn page_cost(first: Option<i32>, selection: usize) -> usize {
    let items = first.unwrap_or(DEFAULT_PAGE).clamp(0, MAX_PAGE);
    usize::try_from(items)
        .unwrap_or(0)
        .saturating_mul(selection)
        .saturating_add(1)
        .min(MAX_COST)
}

/// The cost of a list without `first` (tenant cards, buckets, services, licenses…): it
/// counts as a default page, whatever it holds in the end.
pub fn list_cost(selection: usize) -> usize {
    page_cost(None, selection)
}

/// The cost of a list inside an attribution tree (a folder's subfolders and processes, a
/// process's children): 1 plus its selection once. Each such list is a part of the one
/// tree the list at its top (counted as a list) loaded: however deep a selection nests,
/// the answer holds the scope's folders and processes once each (a process once per folder
/// it ran in), so nesting does not multiply.
pub fn tree_cost(selection: usize) -> usize {
    selection.saturating_add(1).min(MAX_COST)
}

/// Whether a selection asks for `__schema` or `__type`.
fn introspects(set: &SelectionSet) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            matches!(field.node.name.node.as_str(), "__schema" | "__type")
                || introspects(&field.node.selection_set.node)
        }
        Selection::InlineFragment(fragment) => introspects(&fragment.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Every alias of a document: its operations' and its fragments'.
pub fn count_aliases(document: &ExecutableDocument) -> usize {
    document
        .operations
        .iter()
        .map(|(_, operation)| aliases_in(&operation.node.selection_set.node))
        .chain(
            document
                .fragments
                .values()
                .map(|fragment| aliases_in(&fragment.node.selection_set.node)),
        )
        .sum()
}

/// The deepest nesting of brackets the parser is given. Its recursion has no bound of its
/// own for argument values, and a few hundred levels overflow a worker's stack.
pub const MAX_NESTING: usize = 64;

/// The deepest nesting of `{`, `[` and `(` in a document's text, outside strings and
/// comments.
pub fn nesting(query: &str) -> usize {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// Whether a value holds a NUL character (PostgreSQL stores no such text, and no input of
/// ours is meant to carry one).
fn holds_nul(value: &async_graphql::Value) -> bool {
    match value {
        async_graphql::Value::String(text) => text.contains('\0'),
        async_graphql::Value::List(items) => items.iter().any(holds_nul),
        async_graphql::Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

fn error_with(code: &str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error.extensions.get_or_insert_with(Default::default).set("code", code);
    error
}

fn refusal(message: String) -> ServerError {
    error_with("GRAPHQL_VALIDATION_FAILED", message)
}

/// Refuses documents nested too deep to parse safely and text holding NUL before they are
/// parsed; then documents with more aliases than allowed (many aliases of one costly field
/// are the usual way around per-field limits), and introspection when it is off (the
/// schema alone would answer it with a silent null); once validated, documents that cost
/// more than the complexity limit.
pub struct DocumentLimits(pub Limits);

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimitsExtension(self.0))
    }
}

struct DocumentLimitsExtension(Limits);

/// The checks on a document's text, before it is parsed: nesting the parser could not
/// survive, and NUL characters in the text or the variables.
pub fn check_text(query: &str, variables: &Variables) -> ServerResult<()> {
    let deepest = nesting(query);
    if deepest > MAX_NESTING {
        return Err(error_with(
            "GRAPHQL_PARSE_FAILED",
            format!("the document nests {deepest} levels deep; at most {MAX_NESTING} are accepted"),
        ));
    }
    if query.contains('\0') || query.to_ascii_lowercase().contains("\\u0000") || variables.values().any(holds_nul) {
        return Err(error_with(
            "BAD_USER_INPUT",
            "text may not contain the NUL character (U+0000)".into(),
        ));
    }
    Ok(())
}

/// The checks on a parsed document: its aliases, and introspection when it is off.
pub fn check_document(limits: &Limits, document: &ExecutableDocument) -> ServerResult<()> {
    let aliases = count_aliases(document);
    if aliases > limits.aliases {
        return Err(refusal(format!(
            "the query has {aliases} aliases; at most {} are accepted",
            limits.aliases
        )));
    }
    let introspecting = document
        .operations
        .iter()
        .any(|(_, operation)| introspects(&operation.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|fragment| introspects(&fragment.node.selection_set.node));
    if !limits.introspection && introspecting {
        return Err(refusal("introspection is switched off on this server".into()));
    }
    Ok(())
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        check_text(query, variables)?;
        let document = next.run(ctx, query, variables).await?;
        check_document(&self.0, &document)?;
        Ok(document)
    }

    /// The complexity limit, here rather than async-graphql's, whose refusal ("Query is too
    /// complex.") tells neither the cost nor what to change.
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.complexity > self.0.complexity {
            return Err(vec![refusal(format!(
                "the query may answer too much: it costs {}, and at most {} is accepted. Every \
                 field counts 1 and every list its selection once per item it may hold (first, \
                 or {DEFAULT_PAGE} without it): ask for smaller pages or fewer nested lists",
                result.complexity, self.0.complexity
            ))]);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::{Limits, nesting};

    /// The cost of a query, read from the refusal of a server that accepts none.
    async fn cost(query: &str) -> usize {
        let schema = crate::graphql::schema_with(Limits {
            complexity: 0,
            ..Limits::default()
        })
        .finish();
        let response = schema.execute(query).await;
        let message = &response.errors.first().expect("refused").message;
        message
            .split("it costs ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no cost in {message:?}"))
    }

    #[tokio::test]
    async fn lists_count_their_selection_once_per_item_they_may_hold() {
        let cases = [
            // Every field 1.
            ("{ viewer { role } }", 2),
            // A connection: 1 + first × its selection (nodes 1 + id 1).
            ("{ organizations(first: 10) { nodes { id } } }", 1 + 10 * 2),
            // No first: a default page of 50.
            ("{ organizations { nodes { id } } }", 1 + 50 * 2),
            // Pages nest by multiplying; past the largest page they count as the largest.
            (
                "{ organizations(first: 3) { nodes { tenants(first: 1000) { nodes { id } } } } }",
                1 + 3 * (1 + 1 + 100 * 2),
            ),
            // A list without first counts 50.
            ("{ unitTypes { code } }", 1 + 50),
            // The lists inside an attribution tree add their selection once.
            (
                "{ organization(id: \"x\") { usage(unitType: \"u\") { folders(attribution: EXECUTION) \
                 { consumed children { consumed children { consumed processes { own } } } } } } }",
                1 + 1 + (1 + 50 * (1 + (1 + 1 + (1 + 1 + (1 + 1))))),
            ),
        ];
        for (query, expected) in cases {
            assert_eq!(cost(query).await, expected, "{query}");
        }
    }

    /// Every list of objects declares what it costs; a connection's own `edges` and
    /// `nodes` are counted by the field that returns the connection.
    #[test]
    fn every_list_declares_its_cost() {
        use async_graphql::{OutputType, SubscriptionType, registry::Registry};

        // The registry is the one place that tells whether a field declares a cost.
        let mut registry = Registry::default();
        crate::graphql::Query::create_type_info(&mut registry);
        crate::graphql::Mutation::create_type_info(&mut registry);
        crate::graphql::subscription::Subscription::create_type_info(&mut registry);
        let composite = |ty: &str| {
            let name = ty.trim_matches(|c| matches!(c, '[' | ']' | '!'));
            registry.types.get(name).is_some_and(|t| t.is_composite())
        };
        let mut undeclared = Vec::new();
        for ty in registry.types.values() {
            let Some(fields) = ty.fields() else { continue };
            if ty.name().starts_with("__") || fields.contains_key("pageInfo") {
                continue;
            }
            for field in fields.values() {
                let many = field.ty.contains('[') || field.ty.trim_end_matches('!').ends_with("Connection");
                if many && composite(&field.ty) && field.compute_complexity.is_none() {
                    undeclared.push(format!("{}.{}", ty.name(), field.name));
                }
            }
        }
        assert!(
            undeclared.is_empty(),
            "give these lists a cost (graphql::limits): {undeclared:?}"
        );
    }

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        let cases = [
            ("{ a }", 1),
            ("{ a(x: {y: [1, {z: 2}]}) { b } }", 5),
            ("{ a(x: \"{{{{[[[(((\") }", 2),
            ("{ a(x: \"\"\" {{{{ \\\"\"\" {{{ \"\"\") }", 2),
            ("# {{{{{{\n{ a }", 1),
            ("{ a(x: \"\\\"{{{{\") }", 2),
            ("}}}}{", 1),
        ];
        for (query, deepest) in cases {
            assert_eq!(nesting(query), deepest, "{query}");
        }
    }
}
