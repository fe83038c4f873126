//! Values: valid ones, odd ones (perhaps refused), and poison (always refused).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use uuid::Uuid;

use super::world::World;

/// A field left out of an input object.
pub(super) const ABSENT: &str = "@@absent@@";

/// A JSON number written as is (`1e400` has no `serde_json::Value`).
pub(super) fn raw(text: &str) -> Value {
    Value::String(format!("@@raw:{text}@@"))
}

pub(super) fn strs(list: &[&str]) -> Vec<Value> {
    list.iter().map(|s| Value::String((*s).to_owned())).collect()
}

pub(super) fn pick(values: Vec<Value>) -> BoxedStrategy<Value> {
    prop::sample::select(values).boxed()
}

/// A global id as the server makes them: base64 of "Kind:uuid".
pub(super) fn gid(kind: &str, uuid: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{uuid}"))
}

/// The kind and uuid inside a global id.
fn ungid(id: &str) -> (String, Uuid) {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(id).unwrap()).unwrap();
    let (kind, uuid) = text.split_once(':').unwrap();
    (kind.to_owned(), uuid.parse().unwrap())
}

/// Strings that are not global ids of `kind`, or name nothing stored.
pub(super) fn garbage_id(kind: &'static str, w: &World) -> BoxedStrategy<Value> {
    let other_kinds = w.ids(|o| o.kind != kind);
    let same_kind: Vec<String> = w
        .objects
        .iter()
        .filter(|o| o.kind == kind)
        .map(|o| o.id.clone())
        .collect();
    let same_kind = if same_kind.is_empty() {
        vec![gid(kind, Uuid::nil())]
    } else {
        same_kind
    };
    let uuids_of_others: Vec<Uuid> = w
        .objects
        .iter()
        .filter(|o| o.kind != kind)
        .map(|o| ungid(&o.id).1)
        .collect();
    let fixed = vec![
        json!(""),
        json!(" "),
        json!("x"),
        json!("null"),
        json!("undefined"),
        json!("0"),
        json!("-1"),
        json!(0),
        json!(-1),
        json!(9_007_199_254_740_993_i64),
        json!(URL_SAFE_NO_PAD.encode(format!("{kind}:"))),
        json!(URL_SAFE_NO_PAD.encode(format!("{kind}:not-a-uuid"))),
        json!(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.to_lowercase(), Uuid::nil()))),
        json!(URL_SAFE_NO_PAD.encode(format!("Nothing:{}", Uuid::nil()))),
        json!(URL_SAFE_NO_PAD.encode(format!("{kind}:{}:{}", Uuid::nil(), Uuid::nil()))),
        json!(URL_SAFE_NO_PAD.encode(Uuid::nil().as_bytes())),
        json!(gid(kind, Uuid::nil())),
        json!(gid(kind, Uuid::max())),
        json!("====="),
        json!("%00"),
        json!("😀"),
        json!("a".repeat(5000)),
        json!([]),
        json!({}),
        json!(true),
        raw("1e400"),
        raw("1.5"),
    ];
    prop_oneof![
        3 => pick(fixed),
        2 => prop::collection::vec(any::<u8>(), 0..48).prop_map(|b| json!(URL_SAFE_NO_PAD.encode(b))),
        1 => "[ -~]{0,40}".prop_map(Value::String),
        2 => any::<u128>().prop_map(move |n| json!(gid(kind, Uuid::from_u128(n)))),
        2 => pick(other_kinds),
        1 => prop::sample::select(uuids_of_others).prop_map(move |u| json!(gid(kind, u))),
        2 => (prop::sample::select(same_kind.clone()), any::<Index>(), "[A-Za-z0-9_!=+/-]")
            .prop_map(|(id, at, with)| {
                let mut chars: Vec<char> = id.chars().collect();
                let i = at.index(chars.len());
                let with = with.chars().next().unwrap();
                chars[i] = if chars[i] == with { '!' } else { with };
                let mutated: String = chars.iter().collect();
                // A UUID is read in either case: a change that only flips the case of the
                // text inside names the same object.
                let same = |a: &str, b: &str| {
                    let text = |id: &str| URL_SAFE_NO_PAD.decode(id).ok().map(|b| String::from_utf8_lossy(&b).to_lowercase());
                    text(a).is_some() && text(a) == text(b)
                };
                if same(&mutated, &id) {
                    chars[i] = '!';
                }
                json!(chars.into_iter().collect::<String>())
            }),
        1 => (prop::sample::select(same_kind), 0..4u8).prop_map(|(id, how)| json!(match how {
            0 => format!("{id}="),
            1 => format!(" {id}"),
            2 => format!("{id}\n"),
            _ => id.to_lowercase() + "x",
        })),
        1 => Just(json!(["x"])),
    ]
    .boxed()
}

/// Decimals that are no quantity: negative, more than 4 places, too large, not a number.
pub(super) fn bad_decimal() -> BoxedStrategy<Value> {
    let fixed = vec![
        json!("-1"),
        json!("-0.0001"),
        json!("1.00001"),
        json!("0.12345"),
        json!("0.00001"),
        json!("1e400"),
        json!("1e2"),
        json!("1E3"),
        json!("99999999999999999999"),
        json!("922337203685478"),
        json!("922337203685477.5808"),
        json!("9223372036854775807"),
        json!("-9223372036854775808"),
        json!("NaN"),
        json!("Infinity"),
        json!("-Infinity"),
        json!(""),
        json!(" "),
        json!("."),
        json!("1."),
        json!("-"),
        json!("+"),
        json!("--1"),
        json!("+-1"),
        json!("1,5"),
        json!("1.2.3"),
        json!("0x10"),
        json!("١٢"),
        json!("1_000"),
        json!("1 000"),
        json!("½"),
        json!("12abc"),
        json!(-1),
        json!(-7),
        json!(1.5),
        json!(0.1),
        json!(true),
        json!({}),
        json!([]),
        json!(["1"]),
        raw("1e400"),
        raw("-1e400"),
        raw("1e-400"),
        raw("99999999999999999999"),
        raw("-9223372036854775809"),
        raw("18446744073709551616"),
        raw("1.0"),
        raw("-0.0"),
    ];
    prop_oneof![
        4 => pick(fixed),
        1 => "-[0-9]{0,4}[1-9](\\.[0-9]{1,4})?".prop_map(Value::String),
        1 => "[0-9]{1,3}\\.[0-9]{4,12}[1-9]".prop_map(Value::String),
        1 => "[1-9][0-9]{15,40}(\\.[0-9]{1,4})?".prop_map(Value::String),
        1 => "[^0-9.+-]{1,6}".prop_map(Value::String),
    ]
    .boxed()
}

pub(super) fn good_decimal() -> BoxedStrategy<Value> {
    prop_oneof![
        pick(vec![
            json!("0"),
            json!("1"),
            json!("2.5"),
            json!("0.0001"),
            json!("10.0000"),
            json!(3),
            json!("12")
        ]),
        "[0-9]{1,2}(\\.[0-9]{1,4})?".prop_map(Value::String),
    ]
    .boxed()
}

pub(super) fn bad_date() -> BoxedStrategy<Value> {
    pick(vec![
        json!("2026-02-30"),
        json!("2026-02-29"),
        json!("2026-11-31"),
        json!("2026-13-01"),
        json!("2026-00-10"),
        json!("2026-11-00"),
        json!(""),
        json!(" "),
        json!("yesterday"),
        json!("today"),
        json!("now"),
        json!("2026-11-23T00:00:00Z"),
        json!("2026/11/23"),
        json!("23-11-2026"),
        json!("20261123"),
        json!("2026-W48-1"),
        json!("９９９９-01-01"),
        json!(20_261_123),
        json!(true),
        json!({}),
        json!(["2026-11-01"]),
        raw("1e400"),
    ])
}

pub(super) fn odd_date() -> BoxedStrategy<Value> {
    pick(vec![
        json!("262143-12-31"),
        json!("0000-01-01"),
        json!("-0001-01-01"),
        json!("1970-01-01"),
        json!("2100-02-28"),
        json!("2026-01-31"),
        json!("+2026-11-23"),
        json!("2026-11-23 "),
        json!(" 2026-11-23"),
    ])
}

pub(super) fn bad_datetime() -> BoxedStrategy<Value> {
    pick(vec![
        json!("2026-11-23"),
        json!("2026-11-23T10:00:00"),
        json!("2026-11-23T10:00:00+25:00"),
        json!("2026-11-23T24:00:01Z"),
        json!("2026-11-23T10:60:00Z"),
        json!("2026-02-30T10:00:00Z"),
        json!("yesterday"),
        json!(""),
        json!(1_763_892_000),
        json!("2026-11-23T10:00:00 Europe/Paris"),
        json!({}),
        // Later than five minutes past the server's clock (2026-11-23T10:00:00Z).
        json!("2026-11-23T10:05:01Z"),
        json!("2026-11-23T11:05:01+01:00"),
        json!("2027-01-01T00:00:00Z"),
        json!("9999-12-31T23:59:59Z"),
        json!("+262143-12-31T23:59:59Z"),
    ])
}

pub(super) fn good_datetime() -> BoxedStrategy<Value> {
    pick(vec![
        json!("2026-11-20T10:00:00Z"),
        json!("2026-11-23T11:04:00+01:00"),
        json!("2026-11-05T00:00:00-05:00"),
        json!("2026-11-23T10:05:00Z"),
        json!("2026-10-31T23:30:00Z"),
    ])
}

pub(super) fn odd_datetime() -> BoxedStrategy<Value> {
    pick(vec![
        json!("1900-01-01T00:00:00Z"),
        json!("0001-01-01T00:00:00+14:00"),
        json!("2026-11-23t10:00:00z"),
        json!("2026-11-23 10:00:00Z"),
        json!("2026-11-23T10:00:00.123456789Z"),
        json!("2026-03-29T02:30:00+01:00"),
        json!("2026-11-23T10:00:00Z "),
    ])
}

pub(super) fn bad_name() -> BoxedStrategy<Value> {
    pick(vec![
        json!(""),
        json!("   "),
        json!("\t\n"),
        json!("x".repeat(201)),
        json!("é".repeat(201)),
        json!(5),
        json!(true),
        json!({}),
        json!(["n"]),
        raw("1e400"),
    ])
}

pub(super) fn good_name() -> BoxedStrategy<Value> {
    prop_oneof![
        pick(vec![
            json!("n"),
            json!("Fuzz name"),
            json!("名前"),
            json!("x".repeat(200)),
            json!("O'Brien\"; DROP TABLE tenants;--"),
            json!("<script>alert(1)</script>"),
            json!("\u{202e}evil"),
        ]),
        "\\PC{1,30}".prop_map(Value::String),
    ]
    .boxed()
}

pub(super) fn bad_code() -> BoxedStrategy<Value> {
    pick(vec![
        json!(""),
        json!("a b"),
        json!("ü"),
        json!("x".repeat(65)),
        json!("robots;"),
        json!("robots\n"),
        json!("'; DROP TABLE services;--"),
        json!(5),
        json!({}),
        json!(["robots"]),
    ])
}

pub(super) fn bad_unit() -> BoxedStrategy<Value> {
    prop_oneof![
        pick(vec![
            json!(""),
            json!("nope"),
            json!("units "),
            json!(" units"),
            // NUL bytes have a test of their own:
            // `a_nul_character_in_a_string_is_refused_not_an_internal_error`.
            json!("unit$"),
            json!("x".repeat(65)),
            json!(5),
            json!(["units"]),
        ]),
        "[a-z]{1,8}-zz".prop_map(Value::String),
    ]
    .boxed()
}

pub(super) fn bad_key() -> BoxedStrategy<Value> {
    pick(vec![
        json!(""),
        json!("   "),
        json!("k".repeat(201)),
        json!(5),
        json!({}),
        json!(["k"]),
    ])
}

pub(super) fn bad_enum() -> BoxedStrategy<Value> {
    pick(vec![
        json!(""),
        json!("month"),
        json!("MONTHLY"),
        json!("Month"),
        json!("NOPE"),
        json!("__typename"),
        json!(1),
        json!(true),
        json!(["MONTH"]),
        json!({}),
    ])
}

pub(super) fn bad_bool() -> BoxedStrategy<Value> {
    pick(vec![
        json!("true"),
        json!(1),
        json!(0),
        json!("yes"),
        json!([]),
        json!({}),
    ])
}
