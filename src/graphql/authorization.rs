//! Enforces the authorization matrix ([`crate::domain::authorization`]) on every field:
//! before a field's resolver runs, and, for subscriptions, before the stream is opened.
//! A field without a rule (a root field without its own, any field of a type without a
//! default) is refused, so it is closed until it has one.
//!
//! Over HTTP the matrix is also applied to a whole document before it runs
//! ([`admits_document`], once per document and role): a document whose every field the
//! caller may use runs without this extension (`graphql::fast_path`), since a resolve hook
//! takes every field of every answer off async-graphql's fast path.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::{
    PathSegment, QueryPathSegment, ServerError, ServerResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo},
    parser::{
        parse_schema,
        types::{
            BaseType, ExecutableDocument, Field, OperationType, Selection, SelectionSet, Type, TypeKind,
            TypeSystemDefinition,
        },
    },
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

/// The output types of a schema, as [`admits_document`] walks them.
pub struct SchemaTypes {
    /// Each object's and interface's fields, with the named type each returns.
    fields: HashMap<String, HashMap<String, String>>,
    /// The object types each interface and union may be.
    possible: HashMap<String, Vec<String>>,
    query: String,
    mutation: String,
}

/// The named type under a type's lists and non-nulls.
fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(item) => named(item),
    }
}

impl SchemaTypes {
    /// Reads them from SDL (`crate::graphql::sdl()`); `None` when it does not parse.
    pub fn from_sdl(sdl: &str) -> Option<SchemaTypes> {
        let document = parse_schema(sdl).ok()?;
        let mut types = SchemaTypes {
            fields: HashMap::new(),
            possible: HashMap::new(),
            query: "Query".into(),
            mutation: "Mutation".into(),
        };
        for definition in document.definitions {
            let ty = match definition {
                TypeSystemDefinition::Schema(schema) => {
                    if let Some(query) = schema.node.query {
                        types.query = query.node.to_string();
                    }
                    if let Some(mutation) = schema.node.mutation {
                        types.mutation = mutation.node.to_string();
                    }
                    continue;
                }
                TypeSystemDefinition::Type(ty) => ty.node,
                TypeSystemDefinition::Directive(_) => continue,
            };
            let name = ty.name.node.to_string();
            let fields = match &ty.kind {
                TypeKind::Object(object) => {
                    for interface in &object.implements {
                        types
                            .possible
                            .entry(interface.node.to_string())
                            .or_default()
                            .push(name.clone());
                    }
                    &object.fields
                }
                TypeKind::Interface(interface) => &interface.fields,
                TypeKind::Union(union) => {
                    let members = union.members.iter().map(|m| m.node.to_string()).collect();
                    types.possible.insert(name, members);
                    continue;
                }
                _ => continue,
            };
            let fields = fields
                .iter()
                .map(|f| (f.node.name.node.to_string(), named(&f.node.ty.node).to_owned()))
                .collect();
            types.fields.insert(name, fields);
        }
        Some(types)
    }
}

/// Whether `role` may use every field that the operation a request runs (named
/// `operation_name`) selects in `document`, through its fragments. A field is checked
/// against the type it is selected on and, when that type is an interface or a union,
/// against each object type it may be (at run time the extension sees one or the other).
/// A field without a rule, an unknown field or type, an operation that is not there and a
/// subscription all answer `false`: the caller then runs the document with the extension.
pub fn admits_document(
    types: &SchemaTypes,
    role: Role,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> bool {
    let Some(operation) = super::persisted::selected(document, operation_name) else {
        return false;
    };
    let root = match operation.node.ty {
        OperationType::Query => types.query.as_str(),
        OperationType::Mutation => types.mutation.as_str(),
        OperationType::Subscription => return false,
    };
    let mut walk = Walk {
        types,
        role,
        document,
        walked: HashSet::new(),
    };
    walk.selection_set(&operation.node.selection_set.node, root)
}

/// One walk of a document by [`admits_document`].
struct Walk<'a> {
    types: &'a SchemaTypes,
    role: Role,
    document: &'a ExecutableDocument,
    /// The fragments already walked: each once, whatever spreads it (its fields are
    /// checked against its own type condition).
    walked: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, ty: &str) -> bool {
        set.items.iter().all(|item| match &item.node {
            Selection::Field(field) => self.field(&field.node, ty),
            Selection::InlineFragment(fragment) => {
                let ty = fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map_or(ty, |condition| condition.node.on.node.as_str());
                self.selection_set(&fragment.node.selection_set.node, ty)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                // Walked already (or being walked, in a cycle validation refuses).
                if !self.walked.insert(name.as_str()) {
                    return true;
                }
                self.document.fragments.get(name).is_some_and(|fragment| {
                    let ty = fragment.node.type_condition.node.on.node.as_str();
                    self.selection_set(&fragment.node.selection_set.node, ty)
                })
            }
        })
    }

    fn field(&mut self, field: &'a Field, ty: &str) -> bool {
        let name = field.name.node.as_str();
        // `__typename`, `__schema` and `__type` (and all below them) are not checked.
        if name.starts_with("__") {
            return true;
        }
        let Some(returns) = self.types.fields.get(ty).and_then(|fields| fields.get(name)) else {
            return false;
        };
        let objects = self.types.possible.get(ty).into_iter().flatten();
        let admitted = std::iter::once(ty)
            .chain(objects.map(String::as_str))
            .all(|parent| field_rule(parent, name).is_some_and(|rule| rule.admits(self.role)));
        admitted && self.selection_set(&field.selection_set.node, returns)
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

    use async_graphql::parser::parse_query;

    use super::{SchemaTypes, admits_document};
    use crate::domain::access::Role;
    use crate::domain::authorization::{FIELDS, TYPES, field_rule};

    fn schema_types() -> SchemaTypes {
        SchemaTypes::from_sdl(&crate::graphql::sdl()).expect("the SDL parses")
    }

    /// The object and interface types of the schema, with their fields.
    fn types() -> BTreeMap<String, Vec<String>> {
        schema_types()
            .fields
            .into_iter()
            .map(|(ty, fields)| (ty, fields.into_keys().collect()))
            .collect()
    }

    /// Whether `role` may run `operation` of `query` as a whole.
    fn admits(role: Role, query: &str, operation: Option<&str>) -> bool {
        let document = parse_query(query).expect("the query parses");
        admits_document(&schema_types(), role, &document, operation)
    }

    #[test]
    fn a_document_is_admitted_when_the_role_may_use_every_field_through_its_fragments() {
        let quota = "{ organization(id: \"x\") { name ...Figures } } \
                     fragment Figures on Organization { quota(unitType: \"u\") { quota } }";
        assert!(admits(Role::Viewer, quota, None));
        // Organization.quota is for readers of the whole organization.
        assert!(!admits(Role::TenantAdmin, quota, None));
        // Through an inline fragment on an interface, and nested fragments.
        let node = "{ node(id: \"x\") { id __typename ... on Organization { ...Name ... { quota(unitType: \"u\") \
                    { quota } } } } } fragment Name on Organization { name }";
        assert!(admits(Role::Viewer, node, None));
        assert!(!admits(Role::TenantAdmin, node, None));
        // A fragment on the interface, spread where an organization is selected.
        let spread = "{ organization(id: \"x\") { ...Id } } fragment Id on Node { id }";
        assert!(admits(Role::TenantAdmin, spread, None));
        // Query.organization is for readers; INGEST reads nothing.
        assert!(!admits(Role::Ingest, spread, None));
        assert!(admits(Role::Ingest, "{ __typename viewer { role } }", None));
    }

    #[test]
    fn unknown_fields_types_operations_and_subscriptions_are_not_admitted() {
        assert!(!admits(Role::System, "{ viewer { nope } }", None));
        assert!(!admits(
            Role::System,
            "{ node(id: \"x\") { ... on Nope { id } } }",
            None
        ));
        assert!(!admits(
            Role::System,
            "{ organization(id: \"x\") { ...Missing } }",
            None
        ));
        assert!(!admits(Role::System, "query A { viewer { role } }", Some("B")));
        assert!(!admits(
            Role::System,
            "subscription { quotaEvents(organizationId: \"x\") { kind } }",
            None
        ));
        // The operation the request names is the one walked.
        let two = "query Read { viewer { role } } mutation Write { createUnitType(input: {}) { __typename } }";
        assert!(admits(Role::Viewer, two, Some("Read")));
        assert!(!admits(Role::Viewer, two, Some("Write")));
        assert!(admits(Role::System, two, Some("Write")));
    }

    #[test]
    fn a_fragment_that_spreads_itself_does_not_loop() {
        let cycle = "{ viewer { ...A } } fragment A on Viewer { role ...A }";
        assert!(admits(Role::Viewer, cycle, None));
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
