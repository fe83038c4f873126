//! What one GraphQL request may ask for (DESIGN.md §8): depth, complexity and aliases,
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

fn refusal(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", "GRAPHQL_VALIDATION_FAILED");
    error
}

/// Refuses documents with more aliases than allowed (many aliases of one costly field
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
