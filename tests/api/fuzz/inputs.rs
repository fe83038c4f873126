//! Input objects with at least one poisoned field.

use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::values::{ABSENT, garbage_id, gid, pick};
use super::world::{Key, World};

#[derive(Clone)]
pub(super) struct FieldSpec {
    pub(super) name: &'static str,
    pub(super) optional: bool,
    pub(super) valid: BoxedStrategy<Value>,
    pub(super) odd: BoxedStrategy<Value>,
    pub(super) poison: BoxedStrategy<Value>,
}

/// Poison for a required field also includes leaving it out and sending null.
pub(super) fn spec(
    name: &'static str,
    optional: bool,
    valid: BoxedStrategy<Value>,
    odd: BoxedStrategy<Value>,
    poison: BoxedStrategy<Value>,
) -> FieldSpec {
    let poison = if optional {
        poison
    } else {
        prop_oneof![8 => poison, 1 => Just(Value::Null), 1 => Just(json!(ABSENT))].boxed()
    };
    FieldSpec {
        name,
        optional,
        valid,
        odd,
        poison,
    }
}

/// A non-null field with a default value: leaving it out is valid, null is not.
pub(super) fn defaulted(
    name: &'static str,
    valid: BoxedStrategy<Value>,
    odd: BoxedStrategy<Value>,
    poison: BoxedStrategy<Value>,
) -> FieldSpec {
    spec(
        name,
        true,
        valid,
        odd,
        prop_oneof![6 => poison, 1 => Just(Value::Null)].boxed(),
    )
}

pub(super) fn id_spec(name: &'static str, kind: &'static str, optional: bool, w: &World, key: &Key) -> FieldSpec {
    let (own, foreign) = w.own_and_foreign(kind, key);
    let own = if own.is_empty() {
        vec![json!(gid(kind, Uuid::nil()))]
    } else {
        own
    };
    let garbage = garbage_id(kind, w);
    // Another organization's (or tenant's) object is refused as if it did not exist.
    let poison = if foreign.is_empty() {
        garbage.clone()
    } else {
        prop_oneof![3 => garbage.clone(), 1 => pick(foreign.clone())].boxed()
    };
    let mut odd = w.ids(|o| o.kind != kind);
    odd.extend(foreign);
    if optional {
        odd.push(Value::Null);
    }
    spec(name, optional, pick(own), pick(odd), poison)
}

/// An input object: each field valid, odd, poisoned or (when optional) left out; when
/// `poisoned`, one field at least is poison.
pub(super) fn object(fields: Vec<FieldSpec>, poisoned: bool) -> BoxedStrategy<Map<String, Value>> {
    let names: Vec<&'static str> = fields.iter().map(|f| f.name).collect();
    let absent = || Just(json!(ABSENT)).boxed();
    let per_field: Vec<BoxedStrategy<Value>> = fields
        .iter()
        .map(|f| {
            Union::new_weighted(vec![
                (8, f.valid.clone()),
                (1, if f.optional { absent() } else { f.valid.clone() }),
                (2, f.odd.clone()),
                (1, f.poison.clone()),
            ])
            .boxed()
        })
        .collect();
    // Which field is forced to poison, and its value.
    let forced = Union::new(
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| f.poison.clone().prop_map(move |v| Some((i, v))).boxed()),
    )
    .boxed();
    let forced = if poisoned { forced } else { Just(None).boxed() };
    (per_field, forced)
        .prop_map(move |(mut values, forced)| {
            if let Some((i, poison)) = forced {
                values[i] = poison;
            }
            let mut map = Map::new();
            for (name, value) in names.iter().zip(values) {
                if value != json!(ABSENT) {
                    map.insert((*name).to_owned(), value);
                }
            }
            map
        })
        .boxed()
}
