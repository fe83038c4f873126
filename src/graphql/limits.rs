//! What one GraphQL request may ask for (docs/design.md §8): depth, complexity and aliases,
//! and whether introspection is on. Checked before anything runs; a refusal carries
//! GRAPHQL_VALIDATION_FAILED.

use std::sync::Arc;

use async_graphql::{
    ServerError, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

/// The limits of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest selection accepted; GraphiQL's introspection query needs 13 levels.
    pub depth: usize,
    /// Highest complexity accepted (every field counts 1, lists by their page size).
    pub complexity: usize,
    /// Most aliases in one document.
    pub aliases: usize,
    /// Whether `__schema` and `__type` answer.
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 16,
            complexity: 20_000,
            aliases: 100,
            introspection: true,
        }
    }
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
/// schema alone would answer it with a silent null).
pub struct DocumentLimits(pub Limits);

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimitsExtension(self.0))
    }
}

struct DocumentLimitsExtension(Limits);

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
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
        let document = next.run(ctx, query, variables).await?;
        let aliases = count_aliases(&document);
        if aliases > self.0.aliases {
            return Err(refusal(format!(
                "the query has {aliases} aliases; at most {} are accepted",
                self.0.aliases
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
        if !self.0.introspection && introspecting {
            return Err(refusal("introspection is switched off on this server".into()));
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::nesting;

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
