//! Enforces the authorization matrix ([`crate::domain::authorization`]) on every field:
//! before a field's resolver runs, and, for subscriptions, before the stream is opened.
//! A field without a rule (a root field without its own, any field of a type without a
//! default) is refused, so it is closed until it has one.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::{
    PathSegment, QueryPathSegment, ServerError, ServerResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo},
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};

use super::error::server_error;
use crate::domain::access::{Actor, Role};
use crate::domain::authorization::field_rule;
use crate::error::AppError;

/// Whether `role` may use `type_name.field`; the refusal says why.
pub fn check(role: Role, type_name: &str, field: &str) -> Result<(), AppError> {
    match field_rule(type_name, field) {
        Some(rule) if rule.admits(role) => Ok(()),
        Some(_) => Err(AppError::Forbidden(format!(
            "your API key's role ({role}) may not use {type_name}.{field}"
        ))),
        None => Err(AppError::Forbidden(format!(
            "{type_name}.{field} has no authorization rule"
        ))),
    }
}

/// The extension that applies [`check`].
pub struct Authorize;

impl ExtensionFactory for Authorize {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AuthorizeExtension)
    }
}

struct AuthorizeExtension;

fn refusal(err: AppError, path: Vec<PathSegment>) -> ServerError {
    let mut error = server_error(err);
    error.path = path;
    error
}

fn path_of(info: &ResolveInfo<'_>) -> Vec<PathSegment> {
    let mut path: Vec<PathSegment> = std::iter::once(info.path_node)
        .chain(info.path_node.parents())
        .map(|node| match node.segment {
            QueryPathSegment::Index(i) => PathSegment::Index(i),
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
        })
        .collect();
    path.reverse();
    path
}

/// The root fields a subscription document opens, through its fragments.
fn root_fields<'d>(
    document: &'d ExecutableDocument,
    set: &'d SelectionSet,
    visited: &mut HashSet<&'d str>,
    out: &mut Vec<&'d str>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => out.push(field.node.name.node.as_str()),
            Selection::InlineFragment(fragment) => {
                root_fields(document, &fragment.node.selection_set.node, visited, out);
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                // A fragment that spreads itself is refused by validation; do not loop on it here.
                if visited.insert(name)
                    && let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                {
                    root_fields(document, &fragment.node.selection_set.node, visited, out);
                }
            }
        }
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for AuthorizeExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let Some(actor) = ctx.data_opt::<Actor>() else {
            return Ok(document);
        };
        for (_, operation) in document.operations.iter() {
            if operation.node.ty != OperationType::Subscription {
                continue;
            }
            let mut fields = Vec::new();
            root_fields(
                &document,
                &operation.node.selection_set.node,
                &mut HashSet::new(),
                &mut fields,
            );
            for field in fields {
                // Unknown fields are left to validation, which names them.
                if field_rule("Subscription", field).is_some() {
                    check(actor.role, "Subscription", field)
                        .map_err(|err| refusal(err, vec![PathSegment::Field(field.to_owned())]))?;
                }
            }
        }
        Ok(document)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // List items pass through here too; their field was checked once for the list.
        let item = matches!(info.path_node.segment, QueryPathSegment::Index(_));
        if item || info.is_for_introspection || info.name.starts_with("__") || info.parent_type.starts_with("__") {
            return next.run(ctx, info).await;
        }
        let Some(actor) = ctx.data_opt::<Actor>() else {
            return Err(refusal(AppError::Unauthenticated, path_of(&info)));
        };
        if let Err(err) = check(actor.role, info.parent_type, info.name) {
            return Err(refusal(err, path_of(&info)));
        }
        next.run(ctx, info).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use async_graphql::parser::{
        parse_schema,
        types::{TypeKind, TypeSystemDefinition},
    };

    use crate::domain::authorization::{FIELDS, TYPES, field_rule};

    /// The object and interface types of the schema, with their fields.
    fn types() -> BTreeMap<String, Vec<String>> {
        let document = parse_schema(crate::graphql::sdl()).expect("the SDL parses");
        let mut types = BTreeMap::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let fields = match &ty.node.kind {
                TypeKind::Object(object) => &object.fields,
                TypeKind::Interface(interface) => &interface.fields,
                _ => continue,
            };
            let names = fields.iter().map(|f| f.node.name.node.to_string()).collect();
            types.insert(ty.node.name.node.to_string(), names);
        }
        types
    }

    #[test]
    fn every_field_of_the_schema_has_a_rule_and_every_entry_a_field() {
        let types = types();
        let missing: Vec<String> = types
            .iter()
            .flat_map(|(t, fields)| fields.iter().map(move |f| (t, f)))
            .filter(|(t, f)| field_rule(t, f).is_none())
            .map(|(t, f)| format!("{t}.{f}"))
            .collect();
        assert!(
            missing.is_empty(),
            "give these fields a rule (a default for their type, or their own) in \
             src/domain/authorization.rs: {missing:?}"
        );
        let stale_types: Vec<&str> = TYPES
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| !types.contains_key(*t))
            .collect();
        assert!(
            stale_types.is_empty(),
            "defaults for types the schema does not have: {stale_types:?}"
        );
        let stale_fields: Vec<String> = FIELDS
            .iter()
            .flat_map(|(t, fields, _)| fields.iter().map(move |f| (*t, *f)))
            .filter(|(t, f)| !types.get(*t).is_some_and(|fs| fs.iter().any(|x| x == f)))
            .map(|(t, f)| format!("{t}.{f}"))
            .collect();
        assert!(
            stale_fields.is_empty(),
            "rules for fields the schema does not have: {stale_fields:?}"
        );
    }
}
