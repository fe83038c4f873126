//! Robustness (docs/design.md §8, §10, §12): more than ten thousand malformed, mistyped,
//! out-of-range, out-of-scope and oversize requests against one server, with keys of
//! every role. Every answer is JSON and a well-formed GraphQL answer; every error has a
//! message and an `extensions.code` other than INTERNAL (never a 5xx, a panic, a leak of
//! SQL, or a hang); and no refused request changes the stored data.
//!
//! Mutations are made invalid by construction: each one carries at least one value that
//! must be refused (a negative, too precise or too large quantity, an impossible date, an
//! unknown time zone, an id that is garbage, of the wrong kind, unknown or of another
//! organization, a missing or mistyped field…), or is sent with a key whose role may not
//! make it. The stored data is compared after every case (a row count of every table) and
//! after every family of cases (every column of every row, but `api_keys.last_used_at`,
//! which any authenticated request may touch, and `quota_marks.updated_at`).

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::Union;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRunner};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::helpers::{
    SYSTEM_KEY, ServerProcess, TestApp, create_folder, create_process, event, key_with_id, licensed_organization,
    organization_with_license, record, set_tenant_state, tenant,
};

/// The codes an error may carry (docs/design.md §8), INTERNAL excepted.
const CODES: [&str; 9] = [
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "QUOTA_EXCEEDED",
    "RATE_LIMITED",
];

/// What an error message must never show.
const LEAKS: [&str; 12] = [
    "SELECT ",
    "INSERT INTO",
    "UPDATE \"",
    "DELETE FROM",
    "sqlx",
    "sea_orm",
    "DbErr",
    "panicked",
    "SqliteError",
    "error returned from database",
    "stack backtrace",
    "src/",
];

/// The longest a request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A field left out of an input object.
const ABSENT: &str = "@@absent@@";

/// A JSON number written as is (`1e400` has no `serde_json::Value`).
fn raw(text: &str) -> Value {
    Value::String(format!("@@raw:{text}@@"))
}

fn strs(list: &[&str]) -> Vec<Value> {
    list.iter().map(|s| Value::String((*s).to_owned())).collect()
}

fn pick(values: Vec<Value>) -> BoxedStrategy<Value> {
    prop::sample::select(values).boxed()
}

/// A global id as the server makes them: base64 of "Kind:uuid".
fn gid(kind: &str, uuid: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{uuid}"))
}

/// The kind and uuid inside a global id.
fn ungid(id: &str) -> (String, Uuid) {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(id).unwrap()).unwrap();
    let (kind, uuid) = text.split_once(':').unwrap();
    (kind.to_owned(), uuid.parse().unwrap())
}

// ---------------------------------------------------------------------------------------
// The data set: two organizations, tenants in every state, folders, processes, usage,
// allocations, a consumption control, and keys of every role.

#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    /// The operator's key.
    System,
    /// A key of organization A or B.
    Org(char),
    /// No valid key.
    Nobody,
}

#[derive(Clone, Debug)]
struct Key {
    label: &'static str,
    /// The `Authorization` value (chars up to U+00FF are sent as single bytes).
    header: Option<String>,
    scope: Scope,
    /// The one tenant the key is limited to.
    tenant: Option<String>,
    /// VIEWER and TENANT_ADMIN make no change at all.
    read_only: bool,
    /// INGEST only records usage and starts executions.
    ingest_only: bool,
}

/// One stored object: its kind, organization and (for things inside one) tenant.
#[derive(Clone, Debug)]
struct Object {
    kind: &'static str,
    org: char,
    tenant: Option<String>,
    id: String,
}

struct World {
    org_a: String,
    org_b: String,
    objects: Vec<Object>,
    keys: Vec<(u32, Key)>,
}

impl World {
    fn ids(&self, filter: impl Fn(&Object) -> bool) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|o| filter(o))
            .map(|o| Value::String(o.id.clone()))
            .collect()
    }

    /// Ids of `kind` the key may name, and ids of `kind` it must not see.
    fn own_and_foreign(&self, kind: &str, key: &Key) -> (Vec<Value>, Vec<Value>) {
        let visible = |o: &Object| match &key.scope {
            Scope::System => true,
            Scope::Org(org) => {
                o.org == *org
                    && match (&key.tenant, &o.tenant) {
                        (Some(limit), Some(tenant)) => limit == tenant,
                        _ => true,
                    }
                    && !(key.tenant.is_some() && o.kind == "Tenant" && key.tenant.as_ref() != Some(&o.id))
            }
            Scope::Nobody => o.org == 'A',
        };
        let own = self.ids(|o| o.kind == kind && visible(o));
        let foreign = match key.scope {
            Scope::Org(_) => self.ids(|o| o.kind == kind && !visible(o)),
            _ => Vec::new(),
        };
        (own, foreign)
    }
}

async fn data(app: &TestApp, query: &str, variables: Value) -> Value {
    app.ok(SYSTEM_KEY, query, variables).await
}

async fn licenses_of(app: &TestApp, org: &str) -> Vec<String> {
    data(
        app,
        "query($o: ID!) { organization(id: $o) { licenses { id } } }",
        json!({ "o": org }),
    )
    .await["organization"]["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

impl World {
    async fn build(app: &TestApp) -> World {
        // B: the helper's organization (UTC, 1000 units a month, not enforced); it also
        // makes the unit type `units`.
        let org_b = organization_with_license(app, "fuzz-b", "1000").await.org;
        // A: in Europe/Paris, 1000 units a month, enforced.
        let org_a = licensed_organization(
            app,
            "fuzz-a",
            "Europe/Paris",
            json!({ "capacity": "1000", "burstPercent": 130, "burstPeriods": 2, "enforced": true }),
        )
        .await
        .org;
        let unit_type = data(app, "{ unitTypes { id code } }", json!({})).await["unitTypes"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let t_alloc = tenant(app, &org_a, "alpha").await;
        let t_plain = tenant(app, &org_a, "beta").await;
        let t_disabled = tenant(app, &org_a, "gamma").await;
        let t_deleted = tenant(app, &org_a, "delta").await;
        let t_b = tenant(app, &org_b, "bravo").await;
        set_tenant_state(app, &t_disabled, "DISABLED").await;
        set_tenant_state(app, &t_deleted, "DELETED").await;
        let f1 = create_folder(app, &t_alloc, None, "ops").await;
        let f1c = create_folder(app, &t_alloc, Some(&f1), "nightly").await;
        let f2 = create_folder(app, &t_plain, None, "qa").await;
        let f_b = create_folder(app, &t_b, None, "b-ops").await;
        let p1 = create_process(app, &f1, "invoice").await;
        let p2 = create_process(app, &f2, "payroll").await;
        let p_b = create_process(app, &f_b, "b-proc").await;

        data(
            app,
            "mutation($t: ID!) { setAllocation(input: {tenantId: $t, unitType: \"units\", amount: \"400\"}) { allocation { amount } } }",
            json!({ "t": t_alloc }),
        )
        .await;
        let seed = |key: &str, tenant: &str, quantity: &str| event(key, tenant, quantity, "2026-11-10T10:00:00Z");
        record(
            app,
            [
                seed("seed-1", &t_alloc, "120").with(json!({ "jobId": "job-1", "processId": p1, "folderId": f1 })),
                seed("seed-2", &t_plain, "30.5")
                    .with(json!({ "jobId": "job-2", "parentJobId": null, "processId": p2 })),
                seed("seed-3", &t_alloc, "5").with(json!({ "kind": "UPLOAD", "durationMs": 1200 })),
                seed("seed-4", &t_b, "10").with(json!({ "processId": p_b })),
            ],
        )
        .await;
        data(
            app,
            "mutation($t: ID!) { setConsumptionControl(input: {tenantId: $t, unitType: \"units\", stopAtAllocation: [\"robots\"], alertThresholds: [0.5, 0.9]}) { consumptionControl { stopAtAllocation } } }",
            json!({ "t": t_alloc }),
        )
        .await;

        let (owner, owner_id) = key_with_id(app, "OWNER", Some(&org_a), None).await;
        let (admin, _) = key_with_id(app, "ADMIN", Some(&org_a), None).await;
        let (billing, _) = key_with_id(app, "BILLING_MANAGER", Some(&org_a), None).await;
        let (viewer, _) = key_with_id(app, "VIEWER", Some(&org_a), None).await;
        let (tenant_admin, _) = key_with_id(app, "TENANT_ADMIN", Some(&org_a), Some(&t_alloc)).await;
        let (ingest, _) = key_with_id(app, "INGEST", Some(&org_a), None).await;
        let (ingest_t, _) = key_with_id(app, "INGEST", Some(&org_a), Some(&t_alloc)).await;
        let (admin_b, admin_b_id) = key_with_id(app, "ADMIN", Some(&org_b), None).await;
        let (revoked, revoked_id) = key_with_id(app, "ADMIN", Some(&org_a), None).await;
        data(
            app,
            "mutation($k: ID!) { revokeApiKey(input: {apiKeyId: $k}) { apiKey { id } } }",
            json!({ "k": revoked_id }),
        )
        .await;

        let mut objects = Vec::new();
        let mut add = |kind: &'static str, org: char, tenant: Option<&str>, id: &str| {
            objects.push(Object {
                kind,
                org,
                tenant: tenant.map(str::to_owned),
                id: id.to_owned(),
            });
        };
        add("Organization", 'A', None, &org_a);
        add("Organization", 'B', None, &org_b);
        for t in [&t_alloc, &t_plain, &t_disabled, &t_deleted] {
            add("Tenant", 'A', Some(t), t);
        }
        add("Tenant", 'B', Some(&t_b), &t_b);
        for (f, t) in [(&f1, &t_alloc), (&f1c, &t_alloc), (&f2, &t_plain)] {
            add("Folder", 'A', Some(t), f);
        }
        add("Folder", 'B', Some(&t_b), &f_b);
        add("Process", 'A', Some(&t_alloc), &p1);
        add("Process", 'A', Some(&t_plain), &p2);
        add("Process", 'B', Some(&t_b), &p_b);
        for l in licenses_of(app, &org_a).await {
            add("License", 'A', None, &l);
        }
        for l in licenses_of(app, &org_b).await {
            add("License", 'B', None, &l);
        }
        add("ApiKey", 'A', None, &owner_id);
        add("ApiKey", 'A', None, &revoked_id);
        add("ApiKey", 'B', None, &admin_b_id);
        add("UnitType", 'A', None, &unit_type);

        let key = |label, secret: &str, scope, tenant: Option<&str>, read_only, ingest_only| Key {
            label,
            header: Some(format!("Bearer {secret}")),
            scope,
            tenant: tenant.map(str::to_owned),
            read_only,
            ingest_only,
        };
        let nobody = |label, header: Option<&str>| Key {
            label,
            header: header.map(str::to_owned),
            scope: Scope::Nobody,
            tenant: None,
            read_only: true,
            ingest_only: false,
        };
        let long = format!("Bearer qg_{}", "x".repeat(4000));
        let keys = vec![
            (12, key("SYSTEM", SYSTEM_KEY, Scope::System, None, false, false)),
            (6, key("OWNER", &owner, Scope::Org('A'), None, false, false)),
            (6, key("ADMIN", &admin, Scope::Org('A'), None, false, false)),
            (4, key("BILLING_MANAGER", &billing, Scope::Org('A'), None, false, false)),
            (5, key("VIEWER", &viewer, Scope::Org('A'), None, true, false)),
            (
                5,
                key(
                    "TENANT_ADMIN",
                    &tenant_admin,
                    Scope::Org('A'),
                    Some(&t_alloc),
                    true,
                    false,
                ),
            ),
            (5, key("INGEST", &ingest, Scope::Org('A'), None, false, true)),
            (
                4,
                key(
                    "INGEST(tenant)",
                    &ingest_t,
                    Scope::Org('A'),
                    Some(&t_alloc),
                    false,
                    true,
                ),
            ),
            (5, key("ADMIN of B", &admin_b, Scope::Org('B'), None, false, false)),
            (2, nobody("revoked", Some(&format!("Bearer {revoked}")))),
            (2, nobody("no header", None)),
            (1, nobody("empty bearer", Some("Bearer "))),
            (1, nobody("basic", Some("Basic dXNlcjpwYXNz"))),
            (1, nobody("wrong secret", Some("Bearer qg_wrong"))),
            (1, nobody("long secret", Some(&long))),
            (1, nobody("latin-1 bytes", Some("Bearer \u{ff}\u{fe}qg"))),
            (1, nobody("scheme only", Some("Bearer"))),
            (
                2,
                Key {
                    label: "SYSTEM, lower-case scheme and spaces",
                    header: Some(format!("bearer  {SYSTEM_KEY} ")),
                    scope: Scope::System,
                    tenant: None,
                    read_only: false,
                    ingest_only: false,
                },
            ),
        ];
        World {
            org_a,
            org_b,
            objects,
            keys,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Values: valid ones, odd ones (perhaps refused), and poison (always refused).

/// Strings that are not global ids of `kind`, or name nothing stored.
fn garbage_id(kind: &'static str, w: &World) -> BoxedStrategy<Value> {
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
fn bad_decimal() -> BoxedStrategy<Value> {
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

fn good_decimal() -> BoxedStrategy<Value> {
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

fn bad_date() -> BoxedStrategy<Value> {
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

fn odd_date() -> BoxedStrategy<Value> {
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

fn bad_datetime() -> BoxedStrategy<Value> {
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

fn good_datetime() -> BoxedStrategy<Value> {
    pick(vec![
        json!("2026-11-20T10:00:00Z"),
        json!("2026-11-23T11:04:00+01:00"),
        json!("2026-11-05T00:00:00-05:00"),
        json!("2026-11-23T10:05:00Z"),
        json!("2026-10-31T23:30:00Z"),
    ])
}

fn odd_datetime() -> BoxedStrategy<Value> {
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

fn bad_name() -> BoxedStrategy<Value> {
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

fn good_name() -> BoxedStrategy<Value> {
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

fn bad_code() -> BoxedStrategy<Value> {
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

fn bad_unit() -> BoxedStrategy<Value> {
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

fn bad_key() -> BoxedStrategy<Value> {
    pick(vec![
        json!(""),
        json!("   "),
        json!("k".repeat(201)),
        json!(5),
        json!({}),
        json!(["k"]),
    ])
}

fn bad_enum() -> BoxedStrategy<Value> {
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

fn bad_bool() -> BoxedStrategy<Value> {
    pick(vec![
        json!("true"),
        json!(1),
        json!(0),
        json!("yes"),
        json!([]),
        json!({}),
    ])
}

// ---------------------------------------------------------------------------------------
// Input objects with at least one poisoned field.

#[derive(Clone)]
struct FieldSpec {
    name: &'static str,
    optional: bool,
    valid: BoxedStrategy<Value>,
    odd: BoxedStrategy<Value>,
    poison: BoxedStrategy<Value>,
}

/// Poison for a required field also includes leaving it out and sending null.
fn spec(
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
fn defaulted(
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

fn id_spec(name: &'static str, kind: &'static str, optional: bool, w: &World, key: &Key) -> FieldSpec {
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
fn object(fields: Vec<FieldSpec>, poisoned: bool) -> BoxedStrategy<Map<String, Value>> {
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

/// One mutation, its input type, and who may make it.
struct MutationSpec {
    field: &'static str,
    input: &'static str,
    system_only: bool,
    ingest: bool,
}

const ENUM_FIELDS: [&str; 7] = [
    "period",
    "role",
    "state",
    "kind",
    "states",
    "granularity",
    "attribution",
];

/// A JSON value written as a GraphQL literal (enum values bare).
fn literal(v: &Value, field: Option<&str>) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.starts_with("@@raw:") => s.trim_start_matches("@@raw:").trim_end_matches("@@").into(),
        Value::String(s)
            if field.is_some_and(|f| ENUM_FIELDS.contains(&f))
                && !s.is_empty()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !s.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            s.clone()
        }
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(|x| literal(x, field)).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, x)| format!("{k}: {}", literal(x, Some(k))))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A request body as JSON text, with `raw` numbers written out.
fn body_text(body: &Value) -> String {
    let text = serde_json::to_string(body).unwrap();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("\"@@raw:") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 7..];
        let end = after.find("@@\"").unwrap();
        out.push_str(&after[..end]);
        rest = &after[end + 3..];
    }
    out.push_str(rest);
    out
}

#[derive(Clone, Debug)]
enum Body {
    Text(String),
    Bytes(Vec<u8>),
    /// `size` bytes of JSON: a request whose variable is padding.
    Huge(usize),
}

#[derive(Clone, Debug)]
struct Case {
    key: Key,
    content_type: Option<&'static str>,
    body: Body,
    /// A mutation invalid by construction or by the key's role: it must be refused.
    must_refuse: bool,
}

fn json_case(key: &Key, body: String, must_refuse: bool) -> Case {
    Case {
        key: key.clone(),
        content_type: Some("application/json"),
        body: Body::Text(body),
        must_refuse,
    }
}

/// How a mutation's input is sent.
fn mutation_body(m: &MutationSpec, input: &Value, how: u8) -> String {
    let f = m.field;
    let t = m.input;
    match how {
        // In a variable.
        0..=4 => body_text(&json!({
            "query": format!("mutation($input: {t}!) {{ {f}(input: $input) {{ __typename }} }}"),
            "variables": { "input": input },
        })),
        // As a literal in the document.
        5..=7 => body_text(&json!({
            "query": format!("mutation {{ {f}(input: {}) {{ __typename }} }}", literal(input, None)),
        })),
        // A named operation, picked by name among a query and the mutation.
        8 => body_text(&json!({
            "query": format!("query Q {{ viewer {{ role }} }} mutation M($input: {t}!) {{ {f}(input: $input) {{ __typename }} }}"),
            "operationName": "M",
            "variables": { "input": input, "unused": [1, 2, 3] },
        })),
        // A variable declared with the wrong type.
        9 => body_text(&json!({
            "query": format!("mutation($input: String!) {{ {f}(input: $input) {{ __typename }} }}"),
            "variables": { "input": input },
        })),
        // Two operations and no operation name.
        10 => body_text(&json!({
            "query": format!("mutation A($input: {t}!) {{ {f}(input: $input) {{ __typename }} }} mutation B {{ __typename }}"),
            "variables": { "input": input },
        })),
        // The input as a variable of the wrong shape: a list, or with an unknown field.
        _ => {
            let mut with_unknown = input.clone();
            if let Some(o) = with_unknown.as_object_mut() {
                o.insert("bogusField".into(), json!(1));
            }
            body_text(&json!({
                "query": format!("mutation($input: {t}!) {{ {f}(input: $input) {{ __typename }} }}"),
                "variables": { "input": with_unknown },
            }))
        }
    }
}

fn mutation_fields(m: &MutationSpec, w: &World, key: &Key) -> Vec<FieldSpec> {
    let none = || pick(vec![Value::Null]);
    let ids = |name, kind, optional| id_spec(name, kind, optional, w, key);
    let unit = |name| spec(name, false, pick(strs(&["units"])), bad_unit(), bad_unit());
    let name_field = |name, optional| spec(name, optional, good_name(), bad_name(), bad_name());
    let foreign_scope = matches!(key.scope, Scope::Org(_));
    match m.field {
        "createTenant" => vec![ids("organizationId", "Organization", false), name_field("name", false)],
        "updateTenant" => vec![
            ids("tenantId", "Tenant", false),
            name_field("name", true),
            spec(
                "state",
                true,
                pick(strs(&["ACTIVE", "DISABLED", "DELETED"])),
                none(),
                bad_enum(),
            ),
        ],
        "setAllocation" => vec![
            ids("tenantId", "Tenant", false),
            unit("unitType"),
            spec(
                "amount",
                true,
                prop_oneof![good_decimal(), Just(Value::Null)].boxed(),
                pick(strs(&["1", "399.9999", "1000", "+5", ".5", " 7 "])),
                // Above any tenant's room: the capacity is 1000 in both organizations.
                prop_oneof![4 => bad_decimal(), 1 => pick(strs(&["1000.0001", "5000", "922337203685477"]))].boxed(),
            ),
            spec(
                "effectiveOn",
                true,
                pick(strs(&["2026-11-23", "2026-11-01", "2026-11-15"])),
                odd_date(),
                // Outside the current bundle (November 2026) or after today.
                prop_oneof![3 => bad_date(), 1 => pick(strs(&["2026-10-31", "2026-11-24", "2026-12-01", "2025-11-01"]))]
                    .boxed(),
            ),
        ],
        "recordUsage" | "startExecution" => {
            // An organization A key asking more than A's enforced limit is refused too.
            let quantity_poison = if foreign_scope && key.scope == Scope::Org('A') && m.field == "startExecution" {
                prop_oneof![4 => bad_decimal(), 1 => pick(strs(&["1300.0001", "100000"]))].boxed()
            } else {
                bad_decimal()
            };
            let quantity_odd = pick(strs(&["1000.0001", "300", "+1", ".5"]));
            let mut fields = vec![
                spec(
                    "idempotencyKey",
                    false,
                    "fz-[a-z0-9]{10}".prop_map(Value::String).boxed(),
                    pick(strs(&["seed-1", "seed-2", " padded ", "名前"])),
                    bad_key(),
                ),
                ids("tenantId", "Tenant", false),
                unit("unitType"),
                spec(
                    "service",
                    false,
                    pick(strs(&["robots", "orchestrator", "svc-fuzz", "a.b_c-d"])),
                    pick(strs(&["ROBOTS", "x"])),
                    bad_code(),
                ),
                if m.field == "startExecution" {
                    defaulted("quantity", good_decimal(), quantity_odd, quantity_poison)
                } else {
                    spec("quantity", false, good_decimal(), quantity_odd, quantity_poison)
                },
                spec(
                    "jobId",
                    true,
                    "job-[a-z0-9]{4}".prop_map(Value::String).boxed(),
                    pick(strs(&["job-1", "job-2"])),
                    bad_key(),
                ),
                // A parent nobody knows (or one without a job of its own).
                spec(
                    "parentJobId",
                    true,
                    none(),
                    pick(strs(&["job-1", "job-2"])),
                    prop_oneof![4 => "ghost-[a-z0-9]{8}".prop_map(Value::String), 1 => bad_key()].boxed(),
                ),
                ids("processId", "Process", true),
                ids("folderId", "Folder", true),
            ];
            if m.field == "recordUsage" {
                fields.push(spec(
                    "occurredAt",
                    false,
                    good_datetime(),
                    odd_datetime(),
                    bad_datetime(),
                ));
                fields.push(defaulted(
                    "kind",
                    pick(strs(&["EXECUTION", "UPLOAD"])),
                    none(),
                    bad_enum(),
                ));
                fields.push(spec(
                    "durationMs",
                    true,
                    pick(vec![json!(0), json!(1000), json!(2_147_483_647)]),
                    none(),
                    pick(vec![
                        json!(-1),
                        json!(-2_147_483_648),
                        json!(2_147_483_648_i64),
                        json!(1.5),
                        json!("100"),
                        raw("1e400"),
                        json!(true),
                    ]),
                ));
            }
            fields
        }
        "createLicense" | "upgradeLicense" => {
            let create = m.field == "createLicense";
            // Defaulted (`Int! = 100`) in createLicense, nullable in upgradeLicense.
            let field = |name, valid, odd, poison| {
                if create {
                    defaulted(name, valid, odd, poison)
                } else {
                    spec(name, true, valid, odd, poison)
                }
            };
            let mut fields = if create {
                vec![
                    ids("organizationId", "Organization", false),
                    unit("unitType"),
                    spec(
                        "period",
                        false,
                        pick(strs(&["MONTH", "YEAR", "TERM"])),
                        none(),
                        bad_enum(),
                    ),
                    spec(
                        "startsOn",
                        false,
                        pick(strs(&["2025-01-01", "2024-02-29"])),
                        odd_date(),
                        bad_date(),
                    ),
                    spec(
                        "endsOn",
                        true,
                        pick(vec![json!("2025-07-01"), Value::Null]),
                        odd_date(),
                        bad_date(),
                    ),
                ]
            } else {
                vec![
                    ids("licenseId", "License", false),
                    spec(
                        "effectiveOn",
                        true,
                        pick(vec![json!("2026-11-23"), Value::Null]),
                        odd_date(),
                        bad_date(),
                    ),
                ]
            };
            fields.extend([
                name_field("planName", false),
                spec(
                    "capacity",
                    false,
                    good_decimal(),
                    pick(strs(&["0", "+5"])),
                    bad_decimal(),
                ),
                field(
                    "burstPercent",
                    pick(vec![json!(100), json!(130), json!(1000)]),
                    none(),
                    pick(vec![
                        json!(99),
                        json!(1001),
                        json!(0),
                        json!(-1),
                        json!(2_147_483_648_i64),
                        json!(-2_147_483_649_i64),
                        json!(1.5),
                        json!("130"),
                        raw("1e400"),
                    ]),
                ),
                field(
                    "burstPeriods",
                    pick(vec![json!(0), json!(3), json!(120)]),
                    pick(vec![json!(2_147_483_647)]),
                    pick(vec![
                        json!(-1),
                        json!(-2_147_483_648),
                        json!(2_147_483_648_i64),
                        json!("3"),
                        json!(0.5),
                    ]),
                ),
                field("enforced", pick(vec![json!(true), json!(false)]), none(), bad_bool()),
            ]);
            fields
        }
        "createFolder" => vec![
            ids("tenantId", "Tenant", false),
            ids("parentId", "Folder", true),
            name_field("name", false),
        ],
        "createProcess" => vec![ids("folderId", "Folder", false), name_field("name", false)],
        "setConsumptionControl" => vec![
            ids("tenantId", "Tenant", false),
            unit("unitType"),
            spec(
                "stopAtAllocation",
                true,
                pick(vec![json!(["robots"]), json!([]), json!(["a", "b"]), Value::Null]),
                pick(vec![json!("robots")]),
                pick(vec![
                    json!([""]),
                    json!(["a b"]),
                    json!(["ü"]),
                    json!([5]),
                    json!([null]),
                    json!({}),
                    json!(["x".repeat(65)]),
                ]),
            ),
            spec(
                "alertThresholds",
                true,
                pick(vec![
                    json!([0.7, 0.9, 1.0]),
                    json!([0.5]),
                    json!([]),
                    json!([10]),
                    Value::Null,
                ]),
                pick(vec![json!(0.5), json!([1e-300])]),
                pick(vec![
                    json!([0]),
                    json!([-0.1]),
                    json!([10.5]),
                    json!([0.5, 0.5]),
                    json!((1..=21).map(|i| f64::from(i) / 10.0).collect::<Vec<_>>()),
                    json!(["0.5"]),
                    json!([null]),
                    json!([true]),
                    json!([raw("1e400")]),
                    json!([raw("-0.0")]),
                    json!({}),
                ]),
            ),
        ],
        "createApiKey" => vec![
            ids("organizationId", "Organization", true),
            ids("tenantId", "Tenant", true),
            spec(
                "role",
                false,
                pick(strs(&[
                    "SYSTEM",
                    "OWNER",
                    "ADMIN",
                    "BILLING_MANAGER",
                    "VIEWER",
                    "TENANT_ADMIN",
                    "INGEST",
                ])),
                none(),
                bad_enum(),
            ),
            name_field("name", false),
        ],
        "revokeApiKey" => vec![ids("apiKeyId", "ApiKey", false)],
        "createOrganization" => vec![
            name_field("name", false),
            spec(
                "slug",
                false,
                "fz-[a-z0-9]{8}".prop_map(Value::String).boxed(),
                none(),
                pick(vec![
                    json!("fuzz-a"),
                    json!("fuzz-b"),
                    json!("Fuzz"),
                    json!(""),
                    json!("a b"),
                    json!("a_b"),
                    json!("é"),
                    json!("s".repeat(65)),
                    json!(5),
                ]),
            ),
            defaulted(
                "timeZone",
                pick(strs(&[
                    "UTC",
                    "Europe/Paris",
                    "Pacific/Kiritimati",
                    "America/St_Johns",
                    "Asia/Kathmandu",
                ])),
                pick(strs(&["Etc/GMT+12", "utc", "Zulu"])),
                pick(vec![
                    json!("Mars/Olympus_Mons"),
                    json!("Europe/Atlantis"),
                    json!("Europe/Pariss"),
                    json!("UTC+1"),
                    json!("+01:00"),
                    json!("Paris"),
                    json!(""),
                    json!(" "),
                    json!("../../etc/passwd"),
                    json!("Europe/Paris\n"),
                    json!("Europe/Paris\u{0}"),
                    json!(0),
                    json!({}),
                ]),
            ),
        ],
        "createUnitType" => vec![
            spec(
                "code",
                false,
                "fz[a-z0-9]{8}".prop_map(Value::String).boxed(),
                none(),
                prop_oneof![4 => bad_code(), 1 => Just(json!("units"))].boxed(),
            ),
            name_field("name", false),
        ],
        other => unreachable!("no fields for {other}"),
    }
}

static MUTATIONS: [MutationSpec; 14] = [
    MutationSpec {
        field: "createTenant",
        input: "CreateTenantInput",
        system_only: false,
        ingest: false,
    },
    MutationSpec {
        field: "updateTenant",
        input: "UpdateTenantInput",
        system_only: false,
        ingest: false,
    },
    MutationSpec {
        field: "setAllocation",
        input: "SetAllocationInput",
        system_only: false,
        ingest: false,
    },
    MutationSpec {
        field: "recordUsage",
        input: "RecordUsageInput",
        system_only: false,
        ingest: true,
    },
    MutationSpec {
        field: "startExecution",
        input: "StartExecutionInput",
        system_only: false,
        ingest: true,
    },
    MutationSpec {
        field: "createLicense",
        input: "CreateLicenseInput",
        system_only: false,
        ingest: false,
    },
    MutationSpec {
        field: "upgradeLicense",
        input: "UpgradeLicenseInput",
        system_only: false,
        ingest: false,
    },
    MutationSpec {
        field: "createFolder",
        input: "CreateFolderInput",
        system_only: false,
        ingest: false,
    },
    MutationSpec {
        field: "createProcess",
        input: "CreateProcessInput",
        system_only: false,
        ingest: false,
    },
    MutationSpec {
        field: "setConsumptionControl",
        input: "SetConsumptionControlInput",
        system_only: false,
        ingest: false,
    },
    MutationSpec {
        field: "createApiKey",
        input: "CreateApiKeyInput",
        system_only: false,
        ingest: false,
    },
    MutationSpec {
        field: "revokeApiKey",
        input: "RevokeApiKeyInput",
        system_only: false,
        ingest: false,
    },
    MutationSpec {
        field: "createOrganization",
        input: "CreateOrganizationInput",
        system_only: true,
        ingest: false,
    },
    MutationSpec {
        field: "createUnitType",
        input: "CreateUnitTypeInput",
        system_only: true,
        ingest: false,
    },
];

/// Whether the key's role alone refuses the mutation (docs/design.md §8).
fn role_refuses(m: &MutationSpec, key: &Key) -> bool {
    key.scope == Scope::Nobody
        || key.read_only
        || (key.ingest_only && !m.ingest)
        || (m.system_only && key.scope != Scope::System)
}

/// A mutation's input, poisoned unless the key's role refuses it anyway.
fn mutation_input(m: &'static MutationSpec, w: &World, key: &Key) -> BoxedStrategy<Value> {
    let poisoned = !role_refuses(m, key);
    if m.field == "recordUsage" {
        let fields = mutation_fields(m, w, key);
        let clean = object(fields.clone(), false);
        let bad = object(fields, poisoned);
        let events = (prop::collection::vec(clean, 0..3), bad, any::<Index>()).prop_map(|(mut events, bad, at)| {
            let at = at.index(events.len() + 1);
            events.insert(at, bad);
            json!({ "events": events })
        });
        return prop_oneof![
            12 => events,
            1 => pick(vec![
                json!({ "events": null }),
                json!({ "events": "x" }),
                json!({ "events": [null] }),
                json!({ "events": [5] }),
                json!({ "events": [[]] }),
                json!({ "events": {} }),
                json!({}),
            ]),
        ]
        .boxed();
    }
    object(mutation_fields(m, w, key), poisoned)
        .prop_map(Value::Object)
        .boxed()
}

/// How a mutation's input may be sent (see `mutation_body`): every way, or only in
/// variables, where editing the document cannot touch the poisoned value.
const EVERY_WAY: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const IN_VARIABLES: [u8; 9] = [0, 1, 2, 3, 4, 8, 9, 10, 11];

fn mutation_cases(w: &World, ways: &[u8]) -> BoxedStrategy<Case> {
    let mut arms = Vec::new();
    for (weight, key) in &w.keys {
        for m in &MUTATIONS {
            let key = key.clone();
            let strategy = (mutation_input(m, w, &key), prop::sample::select(ways.to_vec()))
                .prop_map(move |(input, how)| json_case(&key, mutation_body(m, &input, how), true))
                .boxed();
            arms.push((*weight, strategy));
        }
    }
    Union::new_weighted(arms).boxed()
}

// ---------------------------------------------------------------------------------------
// Reads with odd arguments: they may answer, but never with a 5xx or an uncoded error.

fn read_cases(w: &World) -> BoxedStrategy<Case> {
    let all_ids = w.ids(|_| true);
    let id =
        prop_oneof![2 => pick(all_ids.clone()), 2 => garbage_id("Tenant", w), 1 => garbage_id("Folder", w)].boxed();
    let org =
        prop_oneof![3 => pick(strs(&[w.org_a.as_str(), w.org_b.as_str()])), 1 => garbage_id("Organization", w)].boxed();
    let tenant = prop_oneof![2 => pick(w.ids(|o| o.kind == "Tenant")), 1 => garbage_id("Tenant", w)].boxed();
    let opt = |s: BoxedStrategy<Value>| prop_oneof![3 => s, 1 => Just(json!(ABSENT))].boxed();
    let int = opt(pick(vec![
        json!(0),
        json!(1),
        json!(5),
        json!(100),
        json!(101),
        json!(-1),
        json!(2_147_483_647),
        json!(2_147_483_648_i64),
        json!(-2_147_483_649_i64),
        json!(1.5),
        json!("5"),
        Value::Null,
        raw("1e400"),
    ]));
    let cursor = opt(prop_oneof![
        prop::collection::vec(any::<u8>(), 16..=16).prop_map(|b| json!(URL_SAFE_NO_PAD.encode(b))),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| json!(URL_SAFE_NO_PAD.encode(b))),
        pick(vec![
            json!(""),
            json!("x"),
            json!(5),
            Value::Null,
            json!("===="),
            json!("😀")
        ]),
        pick(all_ids),
    ]
    .boxed());
    let unit = prop_oneof![3 => pick(strs(&["units"])), 1 => bad_unit()].boxed();
    let date = opt(prop_oneof![
        3 => pick(strs(&["2026-11-01", "2026-10-01", "2026-01-01", "2026-11-02", "2025-12-01"])),
        1 => bad_date(),
        1 => odd_date(),
        1 => Just(Value::Null),
    ]
    .boxed());
    let range = opt(prop_oneof![
        (
            pick(strs(&[
                "2026-11-01",
                "2026-11-23",
                "2026-11-30",
                "2026-12-01",
                "2026-10-31"
            ])),
            pick(strs(&[
                "2026-11-01",
                "2026-11-23",
                "2026-11-30",
                "2026-12-01",
                "2026-10-31"
            ]))
        )
            .prop_map(|(from, to)| json!({ "from": from, "to": to })),
        (bad_date(), bad_date()).prop_map(|(from, to)| json!({ "from": from, "to": to })),
        pick(vec![
            json!({}),
            json!({ "from": "2026-11-01" }),
            json!("2026-11-01"),
            Value::Null
        ]),
    ]
    .boxed());
    let enum_of = |values: &[&str]| prop_oneof![4 => pick(strs(values)), 1 => bad_enum()].boxed();
    let states = opt(prop_oneof![
        pick(vec![
            json!(["ACTIVE"]),
            json!(["DELETED", "DISABLED"]),
            json!([]),
            Value::Null,
            json!("ACTIVE")
        ]),
        pick(vec![json!(["active"]), json!([null]), json!([1])]),
    ]
    .boxed());

    const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id
        ... on Tenant { name state organization { id } allocation(unitType: \"units\") { amount effectiveOn } folders(first: 3) { nodes { id } } }
        ... on Folder { name parent { id } tenant { id } children(first: 5) { nodes { id } } processes { nodes { id } } }
        ... on Process { name }
        ... on License { planName capacity replaces { id } }
        ... on ApiKey { name role revokedAt }
        ... on Organization { slug timeZone } } }";
    const USAGE: &str = "query($org: ID!, $unit: String!, $bundle: Date, $range: DateRangeInput, $g: Granularity!, $a: Attribution!, $first: Int, $after: String, $states: [TenantState!], $tenant: ID!) {
        organization(id: $org) { usage(unitType: $unit, bundle: $bundle, range: $range) {
            from to consumed remaining status overage availableForAllocation capacityCard { mode value }
            tenants(states: $states) { displayName consumed consumptionRate status }
            tenant(id: $tenant) { consumed status distribution(granularity: $g) { start consumed } folders(attribution: $a) { consumed } }
            distribution(granularity: $g) { start end consumed }
            byService { total services { percent } }
            folders(attribution: $a) { consumed children { consumed } processes { consumed } }
            processes(attribution: $a, first: $first, after: $after) { pageInfo { hasNextPage endCursor } }
        } } }";
    const ORG: &str = "query($org: ID!, $unit: String!, $weeks: Int, $first: Int, $after: String, $states: [TenantState!]) {
        organization(id: $org) { name quota(unitType: $unit) { used limit remaining resetsOn }
            activity(unitType: $unit, weeks: $weeks) { weeks { weekStart executions } precedingWeek { executions } }
            bundles(unitType: $unit) { startDate endDate capacity current }
            licenses(unitType: $unit) { id }
            tenants(first: $first, after: $after, states: $states) { nodes { id state } pageInfo { endCursor hasNextPage } } } }";
    const ORGS: &str = "query($first: Int, $after: String) { organizations(first: $first, after: $after) { nodes { id slug } pageInfo { hasNextPage } } viewer { role organization { id } tenant { id } } unitTypes { code } }";
    const VIEWER: &str = "{ viewer { role } }";

    let node = id
        .prop_map(|id| json!({ "query": NODE, "variables": { "id": id } }))
        .boxed();
    let usage = (
        org.clone(),
        unit.clone(),
        date,
        range,
        enum_of(&["DAY", "WEEK", "MONTH"]),
        enum_of(&["EXECUTION", "OWNERSHIP"]),
        int.clone(),
        cursor.clone(),
        states.clone(),
        tenant,
    )
        .prop_map(|(org, unit, bundle, range, g, a, first, after, states, tenant)| {
            json!({ "query": USAGE, "variables": {
                "org": org, "unit": unit, "bundle": bundle, "range": range, "g": g, "a": a,
                "first": first, "after": after, "states": states, "tenant": tenant,
            } })
        })
        .boxed();
    let weeks = opt(pick(vec![
        json!(0),
        json!(1),
        json!(12),
        json!(53),
        json!(1000),
        json!(-5),
        json!(2_147_483_647),
        json!(2_147_483_648_i64),
        Value::Null,
    ]));
    let org_query = (org, unit, weeks, int.clone(), cursor.clone(), states)
        .prop_map(|(org, unit, weeks, first, after, states)| {
            json!({ "query": ORG, "variables": {
                "org": org, "unit": unit, "weeks": weeks, "first": first, "after": after, "states": states,
            } })
        })
        .boxed();
    let orgs = (int, cursor)
        .prop_map(|(first, after)| json!({ "query": ORGS, "variables": { "first": first, "after": after } }))
        .boxed();
    let viewer = Just(json!({ "query": VIEWER })).boxed();

    let bodies = prop_oneof![3 => node, 4 => usage, 3 => org_query, 1 => orgs, 1 => viewer].prop_map(|mut body| {
        if let Some(vars) = body.get_mut("variables").and_then(Value::as_object_mut) {
            vars.retain(|_, v| *v != json!(ABSENT));
        }
        body_text(&body)
    });
    keyed(w, bodies.boxed(), false)
}

/// The key a roll in `0..total weight` picks.
fn choose(keys: &[(u32, Key)], mut roll: u32) -> Key {
    for (weight, key) in keys {
        if roll < *weight {
            return key.clone();
        }
        roll -= weight;
    }
    keys[0].1.clone()
}

fn total_weight(w: &World) -> u32 {
    w.keys.iter().map(|(weight, _)| *weight).sum()
}

fn keyed(w: &World, bodies: BoxedStrategy<String>, must_refuse: bool) -> BoxedStrategy<Case> {
    let keys = w.keys.clone();
    (bodies, 0..total_weight(w))
        .prop_map(move |(body, roll)| json_case(&choose(&keys, roll), body, must_refuse))
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Broken documents: token soup, random text, and valid documents cut and spliced.

const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    ",",
    "$",
    "$input",
    "@",
    "!",
    "=",
    "|",
    "&",
    "...",
    "..",
    "\"",
    "\"\"\"",
    "#",
    "\n",
    " ",
    "\u{feff}",
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "true",
    "false",
    "null",
    "viewer",
    "role",
    "node",
    "id",
    "organization",
    "organizations",
    "tenants",
    "nodes",
    "usage",
    "quota",
    "consumed",
    "unitType",
    "\"units\"",
    "createTenant",
    "recordUsage",
    "startExecution",
    "setAllocation",
    "createUnitType",
    "input",
    "events",
    "name",
    "__typename",
    "__schema",
    "__type",
    "types",
    "@skip(if: true)",
    "@include(if: $x)",
    "@deprecated",
    "0",
    "-1",
    "1e400",
    "99999999999999999999",
    "1.5",
    "-0",
    "\"x\"",
    "\"\\u0000\"",
    "\"\\uD800\"",
    "\"\\uDFFF\\uD800\"",
    "\"\\u{1F600}\"",
    "\"\\q\"",
    "\"unterminated",
    "\"\"\"block\"\"\"",
    "String!",
    "ID",
    "[Int!]!",
    "...on Query",
    "...F",
    "fragment F on Query { ...F }",
    "query($x: Boolean = true)",
];

fn soup() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(TOKENS.to_vec()), 0..40).prop_map(|t| t.join(" ")),
        2 => prop::collection::vec(prop::sample::select(TOKENS.to_vec()), 0..40).prop_map(|t| t.concat()),
        2 => any::<String>(),
        1 => "\\PC{0,200}",
        1 => "[{}()\\[\\]:$!@ a-z\"]{0,120}",
    ]
    .boxed()
}

/// The deepest argument value the fuzz cases send to the shared server. Deeper ones
/// (from about 280 levels in a debug build) overflow the stack of the server's thread
/// and abort the process: see `a_deeply_nested_argument_value_does_not_crash_the_server`.
const MAX_SAFE_VALUE_DEPTH: usize = 200;

/// Documents no parser or validator should take down.
fn nasty_documents() -> BoxedStrategy<String> {
    prop_oneof![
        // Deep selection sets and deep list literals, past any sane limit.
        (1usize..3000).prop_map(|n| format!("{}{}", "{ viewer ".repeat(n), "}".repeat(n))),
        // Deep argument values: see `a_deeply_nested_argument_value_does_not_crash_the_server`
        // for depths that take the whole process down; these stay below them.
        (1usize..=MAX_SAFE_VALUE_DEPTH).prop_map(|n| format!("{{ node(id: {}\"x\"{}) {{ id }} }}", "[".repeat(n), "]".repeat(n))),
        (1usize..=MAX_SAFE_VALUE_DEPTH).prop_map(|n| format!(
            "mutation {{ createTenant(input: {}) {{ __typename }} }}",
            "{a: ".repeat(n) + "1" + &"}".repeat(n)
        )),
        (1usize..600).prop_map(|n| format!(
            "query {{ ...F0 }} {}",
            (0..n).map(|i| format!("fragment F{i} on Query {{ ...F{} }}", (i + 1) % n)).collect::<String>()
        )),
        Just("query { ...A } fragment A on Query { viewer { role } ...A }".to_owned()),
        Just("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned()),
        (1usize..2000).prop_map(|n| format!("{{ {} }}", "__typename ".repeat(n))),
        (1usize..500).prop_map(|n| format!("{{ {} }}", (0..n).map(|i| format!("a{i}: organizations(first: 100) {{ nodes {{ tenants(first: 100) {{ nodes {{ id }} }} }} }}")).collect::<String>())),
        (1usize..200).prop_map(|n| format!("{{ viewer {{ role {} }} }}", "@skip(if: false) ".repeat(n))),
        (1usize..200).prop_map(|n| format!("query({}) {{ viewer {{ role }} }}", (0..n).map(|i| format!("$v{i}: Int ")).collect::<String>())),
        Just("subscription { quotaEvents(organizationId: \"x\") { kind } }".to_owned()),
        Just("query { __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }".to_owned()),
        Just("query Q { viewer { role } } query Q { viewer { role } }".to_owned()),
        Just("{ viewer { role } } mutation { __typename }".to_owned()),
        Just("mutation { __typename }".to_owned()),
        Just("{ __type(name: \"Query\") { fields(includeDeprecated: true) { name } } }".to_owned()),
    ]
    .boxed()
}

#[derive(Clone, Debug)]
enum Edit {
    Delete(Index, u8),
    Insert(Index, &'static str),
    Duplicate(Index, u8),
    Truncate(Index),
    Replace(Index, char),
}

fn edit(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let len = chars.len();
        match e {
            Edit::Delete(at, n) if len > 0 => {
                let start = at.index(len);
                let end = (start + usize::from(*n)).min(len);
                chars.drain(start..end);
            }
            Edit::Insert(at, token) => {
                let at = at.index(len + 1);
                chars.splice(at..at, token.chars());
            }
            Edit::Duplicate(at, n) if len > 0 => {
                let start = at.index(len);
                let end = (start + usize::from(*n)).min(len);
                let copy: Vec<char> = chars[start..end].to_vec();
                chars.splice(end..end, copy);
            }
            Edit::Truncate(at) => chars.truncate(at.index(len + 1)),
            Edit::Replace(at, c) if len > 0 => {
                let at = at.index(len);
                chars[at] = *c;
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn edits() -> BoxedStrategy<Vec<Edit>> {
    let one = prop_oneof![
        3 => (any::<Index>(), 1u8..20).prop_map(|(a, n)| Edit::Delete(a, n)),
        3 => (any::<Index>(), prop::sample::select(TOKENS.to_vec())).prop_map(|(a, t)| Edit::Insert(a, t)),
        1 => (any::<Index>(), 1u8..30).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        1 => any::<Index>().prop_map(Edit::Truncate),
        2 => (any::<Index>(), any::<char>()).prop_map(|(a, c)| Edit::Replace(a, c)),
    ];
    prop::collection::vec(one, 1..4).boxed()
}

/// Valid documents, then edited: the mutations keep their poisoned variables, so that
/// whatever the edit leaves must still be refused.
fn broken_cases(w: &World) -> BoxedStrategy<Case> {
    let mutations = mutation_cases(w, &IN_VARIABLES);
    let reads = read_cases(w);
    let cut = |case: Case, edits: Vec<Edit>| {
        let Body::Text(text) = &case.body else {
            return case;
        };
        let mut body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let mut skipped = false;
        if let Some(query) = body.get("query").and_then(Value::as_str) {
            let edited = edit(query, &edits);
            skipped = edited.contains("@skip(if: true)");
            body["query"] = json!(edited);
        }
        Case {
            body: Body::Text(serde_json::to_string(&body).unwrap()),
            // A mutation skipped by an inserted `@skip(if: true)` runs nothing, and GraphQL
            // answers it without error even when its (unused) input is bad.
            must_refuse: case.must_refuse && !skipped,
            ..case
        }
    };
    prop_oneof![
        3 => (mutations, edits()).prop_map(move |(c, e)| cut(c, e)),
        2 => (reads, edits()).prop_map(move |(c, e)| cut(c, e)),
    ]
    .boxed()
}

fn soup_cases(w: &World) -> BoxedStrategy<Case> {
    let bodies = prop_oneof![
        6 => soup(),
        2 => nasty_documents(),
    ]
    .prop_map(|query| body_text(&json!({ "query": query })));
    keyed(w, bodies.boxed(), false)
}

// ---------------------------------------------------------------------------------------
// Bodies that are not a GraphQL request at all.

const CONTENT_TYPES: [Option<&str>; 10] = [
    None,
    Some("application/json"),
    Some("application/json"),
    Some("text/plain"),
    Some("application/graphql"),
    Some("multipart/form-data"),
    Some("multipart/form-data; boundary=XyZ"),
    Some("application/x-www-form-urlencoded"),
    Some("application/json; charset=utf-16"),
    Some("*/*"),
];

/// A text body, not a mutation.
fn text(s: String) -> (Body, bool) {
    (Body::Text(s), false)
}

fn raw_bodies(w: &World) -> BoxedStrategy<(Body, bool)> {
    let poisoned_mutation = mutation_cases(w, &EVERY_WAY).prop_map(|c| match c.body {
        Body::Text(t) => serde_json::from_str::<Value>(&t).unwrap_or(Value::Null),
        _ => Value::Null,
    });
    let read = Just(json!({ "query": "{ viewer { role } }" }));
    prop_oneof![
        // Bytes and text.
        2 => prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| (Body::Bytes(b), false)),
        2 => any::<String>().prop_map(text),
        // JSON that is not an object.
        2 => pick(vec![
            json!(null), json!(true), json!(5), json!(-1.5), json!("{ viewer { role } }"), json!([]), json!([[]]),
            json!([null]), json!([5]), json!("")
        ]).prop_map(|v| text(v.to_string())),
        // Batches, with reads and poisoned mutations.
        3 => prop::collection::vec(prop_oneof![read, poisoned_mutation], 1..4)
            .prop_map(|batch| (Body::Text(body_text(&Value::Array(batch))), true)),
        // Objects of the wrong shape.
        3 => pick(vec![
            json!({}),
            json!({ "query": null }),
            json!({ "query": 5 }),
            json!({ "query": ["{ viewer { role } }"] }),
            json!({ "query": { "a": 1 } }),
            json!({ "variables": {} }),
            json!({ "query": "{ viewer { role } }", "variables": "x" }),
            json!({ "query": "{ viewer { role } }", "variables": [1] }),
            json!({ "query": "{ viewer { role } }", "variables": 5 }),
            json!({ "query": "{ viewer { role } }", "operationName": 5 }),
            json!({ "query": "{ viewer { role } }", "operationName": "Nope" }),
            json!({ "query": "query A { viewer { role } } query B { viewer { role } }", "operationName": null }),
            json!({ "query": "{ viewer { role } }", "extensions": "x" }),
            json!({ "query": "{ viewer { role } }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "00" } } }),
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "abc" } } }),
            json!({ "query": "query($n: Int!) { organizations(first: $n) { nodes { id } } }", "variables": { "n": "5" } }),
            json!({ "query": "query($n: Int!) { organizations(first: $n) { nodes { id } } }", "variables": {} }),
            json!({ "query": "query($n: Int!) { organizations(first: $n) { nodes { id } } }", "variables": { "n": 1.5 } }),
            json!({ "query": "query($n: Int) { organizations(first: $n) { nodes { id } } }", "variables": { "n": 2_147_483_648_i64 } }),
            json!({ "query": "query($n: [Int!]!) { viewer { role } }", "variables": { "n": [null] } }),
        ]).prop_map(|v| text(v.to_string())),
        // JSON the parser must refuse.
        2 => prop::sample::select(vec![
            "{\"query\": \"{ viewer { role } }\"".to_owned(),
            "{\"query\": \"{ viewer { role } }\",}".to_owned(),
            "{\"query\": \"{ viewer { role } }\", \"query\": \"{ __typename }\"}".to_owned(),
            "{\"query\": \"\\ud800\"}".to_owned(),
            "{\"query\": \"{ viewer { role } }\", \"variables\": {\"a\": 1e400}}".to_owned(),
            "{\"query\": \"{ viewer { role } }\", \"variables\": {\"a\": NaN}}".to_owned(),
            "{'query': '{ viewer { role } }'}".to_owned(),
            "\u{feff}{\"query\": \"{ viewer { role } }\"}".to_owned(),
            "{\"query\": \"{ viewer { role } }\"} trailing".to_owned(),
            "{\"query\": \"{ viewer { role } }\"}\u{0}".to_owned(),
            "query { viewer { role } }".to_owned(),
            "query=%7B%20viewer%20%7B%20role%20%7D%20%7D".to_owned(),
        ]).prop_map(text),
        // Invalid UTF-8 inside a JSON string.
        1 => prop::collection::vec(128u8..=255, 1..8).prop_map(|bad| {
            let mut b = b"{\"query\": \"{ viewer { role } }\", \"variables\": {\"x\": \"".to_vec();
            b.extend(bad);
            b.extend(b"\"}}");
            (Body::Bytes(b), false)
        }),
        // Deep JSON.
        2 => (1usize..20_000).prop_map(|n| text(format!("{}{}", "[".repeat(n), "]".repeat(n)))),
        2 => (1usize..20_000).prop_map(|n| text(format!(
            "{{\"query\": \"{{ viewer {{ role }} }}\", \"variables\": {{\"v\": {}1{}}}}}",
            "{\"a\": ".repeat(n), "}".repeat(n)
        ))),
        // A valid request cut short, or spliced.
        2 => (any::<Index>(), read_cases(w)).prop_map(|(at, c)| match c.body {
            Body::Text(t) => {
                let cut: String = t.chars().take(at.index(t.chars().count() + 1)).collect();
                text(cut)
            }
            other => (other, false),
        }),
    ]
    .boxed()
}

fn raw_cases(w: &World) -> BoxedStrategy<Case> {
    let keys = w.keys.clone();
    (
        raw_bodies(w),
        prop::sample::select(CONTENT_TYPES.to_vec()),
        0..total_weight(w),
    )
        .prop_map(move |((body, must_refuse), content_type, roll)| Case {
            key: choose(&keys, roll),
            content_type,
            body,
            must_refuse,
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------
// The stored data.

struct Probe {
    db: DatabaseConnection,
    /// Every table and the columns compared (all but those any request may touch).
    tables: Vec<(String, Vec<String>)>,
    postgres: bool,
}

impl Probe {
    async fn connect(url: &str) -> Probe {
        let db = Database::connect(url).await.unwrap();
        let postgres = url.starts_with("postgres");
        let list = if postgres {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        };
        let mut tables = Vec::new();
        for row in db
            .query_all_raw(Statement::from_string(db.get_database_backend(), list))
            .await
            .unwrap()
        {
            let table: String = row.try_get_by_index(0).unwrap();
            let columns_sql = if postgres {
                format!(
                    "SELECT CAST(column_name AS TEXT) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
                )
            } else {
                format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
            };
            let columns = db
                .query_all_raw(Statement::from_string(db.get_database_backend(), columns_sql))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .filter(|c| {
                    !matches!(
                        (table.as_str(), c.as_str()),
                        ("api_keys", "last_used_at") | ("quota_marks", "updated_at")
                    )
                })
                .collect();
            tables.push((table, columns));
        }
        assert!(tables.len() >= 10, "{tables:?}");
        Probe { db, tables, postgres }
    }

    /// The number of rows of every table, in one statement.
    async fn counts(&self) -> Vec<i64> {
        let parts: Vec<String> = self
            .tables
            .iter()
            .enumerate()
            .map(|(i, (t, _))| format!("(SELECT COUNT(*) FROM \"{t}\") AS c{i}"))
            .collect();
        let sql = format!("SELECT {}", parts.join(", "));
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        (0..self.tables.len())
            .map(|i| row.try_get_by_index::<i64>(i).unwrap())
            .collect()
    }

    /// Every compared value of every row, one line a row, sorted.
    async fn dump(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (table, columns) in &self.tables {
            if columns.is_empty() {
                continue;
            }
            let values: Vec<String> = columns
                .iter()
                .map(|c| {
                    if self.postgres {
                        format!("CAST(\"{c}\" AS TEXT)")
                    } else {
                        format!("quote(\"{c}\")")
                    }
                })
                .collect();
            let sql = format!("SELECT {} FROM \"{table}\"", values.join(", "));
            for row in self
                .db
                .query_all_raw(Statement::from_string(self.db.get_database_backend(), sql))
                .await
                .unwrap()
            {
                let cells: Vec<String> = (0..columns.len())
                    .map(|i| {
                        row.try_get_by_index::<Option<String>>(i)
                            .unwrap()
                            .unwrap_or_else(|| "NULL".into())
                    })
                    .collect();
                lines.push(format!("{table}|{}", cells.join("|")));
            }
        }
        lines.sort();
        lines
    }

    /// The dump once the watcher is done with the setup's writes.
    async fn settled_dump(&self) -> Vec<String> {
        let mut last = self.dump().await;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = self.dump().await;
            if now == last {
                return now;
            }
            last = now;
        }
        panic!("the stored data does not settle");
    }
}

fn dump_diff(before: &[String], after: &[String]) -> String {
    let gone: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
    let new: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    format!("rows gone: {gone:#?}\nrows new: {new:#?}")
}

// ---------------------------------------------------------------------------------------
// Sending a case and judging its answer.

fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// Sends a case; the status and body of the answer, or why there is none.
async fn send(app: &TestApp, case: &Case) -> Result<(u16, Vec<u8>), String> {
    let mut request = app.client.post(app.url("/graphql"));
    if let Some(header) = &case.key.header {
        request = request.header(AUTHORIZATION, HeaderValue::from_bytes(&latin1(header)).unwrap());
    }
    if let Some(content_type) = case.content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    let body: Vec<u8> = match &case.body {
        Body::Text(t) => t.clone().into_bytes(),
        Body::Bytes(b) => b.clone(),
        Body::Huge(size) => {
            let head = b"{\"query\": \"{ viewer { role } }\", \"variables\": {\"p\": \"";
            let tail = b"\"}}";
            let mut b = Vec::with_capacity(*size);
            b.extend_from_slice(head);
            b.resize(size - tail.len(), b'x');
            b.extend_from_slice(tail);
            b
        }
    };
    let exchange = async {
        let response = request.body(body).send().await.map_err(|e| format!("no answer: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| format!("answer cut: {e}"))?;
        Ok::<_, String>((status, bytes.to_vec()))
    };
    match tokio::time::timeout(TIMEOUT, exchange).await {
        Ok(answer) => answer,
        Err(_) => Err(format!("no answer within {TIMEOUT:?}: a hang")),
    }
}

/// Checks an answer's shape; whether it carried errors.
fn judge(status: u16, body: &[u8], case: &Case) -> Result<bool, String> {
    let text = String::from_utf8_lossy(body);
    if status >= 500 {
        return Err(format!("HTTP {status}: {text}"));
    }
    let answer: Value = serde_json::from_slice(body).map_err(|e| format!("HTTP {status}, not JSON ({e}): {text}"))?;
    let object = answer
        .as_object()
        .ok_or_else(|| format!("HTTP {status}, not an object: {text}"))?;
    let refused = match object.get("errors") {
        None => false,
        Some(Value::Array(errors)) if !errors.is_empty() => {
            for error in errors {
                let message = error["message"]
                    .as_str()
                    .ok_or_else(|| format!("an error without a message: {text}"))?;
                let code = error["extensions"]["code"]
                    .as_str()
                    .ok_or_else(|| format!("an error without extensions.code: {text}"))?;
                if !CODES.contains(&code) {
                    return Err(format!("code {code}: {text}"));
                }
                if let Some(leak) = LEAKS.iter().find(|l| message.contains(*l)) {
                    return Err(format!("the message shows {leak:?}: {text}"));
                }
            }
            true
        }
        Some(_) => return Err(format!("errors is not a list of errors: {text}")),
    };
    if !refused {
        if status != 200 {
            return Err(format!("HTTP {status} without errors: {text}"));
        }
        // `{ viewer @skip(if: true) { role } }` answers `{"data": null}` (async-graphql's
        // way with an empty selection), which is no error.
        if !object.get("data").is_some_and(|d| d.is_object() || d.is_null()) {
            return Err(format!("neither data nor errors: {text}"));
        }
    }
    if case.must_refuse {
        if !refused {
            return Err(format!("a request that must be refused was answered: {text}"));
        }
        if let Some(data) = object.get("data").and_then(Value::as_object)
            // `__typename` (under any alias) is the one root field that changes nothing.
            && let Some((field, _)) = data
                .iter()
                .find(|(_, v)| !v.is_null() && *v != "Mutation" && *v != "Query")
        {
            return Err(format!("a refused mutation answered {field}: {text}"));
        }
    }
    Ok(refused)
}

/// Runs the cases of one family on the shared server; the number run.
struct Runner<'a> {
    runtime: &'a tokio::runtime::Runtime,
    app: &'a TestApp,
    probe: &'a Probe,
    /// The row counts after the last case.
    counts: RefCell<Vec<i64>>,
    /// How many cases were answered without error (reads).
    answered: Cell<usize>,
    sent: Cell<usize>,
    slowest: Cell<Duration>,
    /// How many errors of each code the answers held.
    codes: RefCell<std::collections::BTreeMap<String, usize>>,
    /// Time spent waiting for answers, and reading the row counts.
    waiting: Cell<Duration>,
    counting: Cell<Duration>,
}

impl Runner<'_> {
    fn check(&self, case: &Case) -> Result<(), String> {
        let started = Instant::now();
        let (status, body) = self.runtime.block_on(send(self.app, case))?;
        let took = started.elapsed();
        self.waiting.set(self.waiting.get() + took);
        self.sent.set(self.sent.get() + 1);
        if took > self.slowest.get() {
            self.slowest.set(took);
        }
        // The counts are taken before judging, so that a write is never blamed on the
        // cases that come after it.
        let counting = Instant::now();
        let counts = self.runtime.block_on(self.probe.counts());
        self.counting.set(self.counting.get() + counting.elapsed());
        let before = self.counts.replace(counts.clone());
        let refused = judge(status, &body, case)?;
        if let Ok(answer) = serde_json::from_slice::<Value>(&body) {
            let mut codes = self.codes.borrow_mut();
            for error in answer["errors"].as_array().into_iter().flatten() {
                let code = error["extensions"]["code"].as_str().unwrap_or_default().to_owned();
                *codes.entry(code).or_default() += 1;
            }
        }
        if counts != before {
            let tables: Vec<String> = self
                .probe
                .tables
                .iter()
                .zip(before.iter().zip(&counts))
                .filter(|(_, (b, a))| b != a)
                .map(|((t, _), (b, a))| format!("{t}: {b} -> {a}"))
                .collect();
            let what = if refused {
                "a refused request"
            } else {
                "a request no case makes valid"
            };
            return Err(format!(
                "{what} changed the stored data ({}): {}",
                tables.join(", "),
                String::from_utf8_lossy(&body)
            ));
        }
        if !refused {
            self.answered.set(self.answered.get() + 1);
        }
        Ok(())
    }

    fn family(&self, name: &str, cases: u32, strategy: BoxedStrategy<Case>) {
        let before = self.runtime.block_on(self.probe.dump());
        let answered = self.answered.get();
        let (waiting, counting) = (self.waiting.get(), self.counting.get());
        let started = Instant::now();
        let mut runner = TestRunner::new(Config {
            cases,
            max_shrink_iters: 256,
            max_shrink_time: 60_000,
            source_file: Some(file!()),
            // ChaCha, the default, costs most of the generation time in a debug build.
            rng_algorithm: RngAlgorithm::XorShift,
            ..Config::default()
        });
        let result = runner.run(&strategy, |case| {
            self.check(&case)
                .map_err(|e| TestCaseError::fail(format!("[key {}] {e}", case.key.label)))
        });
        if let Err(err) = result {
            panic!("{name}: {err}");
        }
        let after = self.runtime.block_on(self.probe.dump());
        assert!(
            before == after,
            "{name}: the stored data changed\n{}",
            dump_diff(&before, &after)
        );
        eprintln!(
            "fuzz {name}: {cases} cases in {:.1?} (answers {:.1?}, row counts {:.1?}); {} answered without error",
            started.elapsed(),
            self.waiting.get() - waiting,
            self.counting.get() - counting,
            self.answered.get() - answered,
        );
    }
}

#[test]
fn every_malformed_request_is_a_coded_error_that_changes_nothing() {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(TestApp::spawn());
    let world = runtime.block_on(World::build(&app));
    let probe = runtime.block_on(Probe::connect(&app.database_url));
    let baseline = runtime.block_on(probe.settled_dump());
    let counts = runtime.block_on(probe.counts());
    eprintln!("fuzz setup: {:.1?}", started.elapsed());
    let runner = Runner {
        runtime: &runtime,
        app: &app,
        probe: &probe,
        counts: RefCell::new(counts),
        answered: Cell::new(0),
        sent: Cell::new(0),
        slowest: Cell::new(Duration::ZERO),
        waiting: Cell::new(Duration::ZERO),
        counting: Cell::new(Duration::ZERO),
        codes: RefCell::new(std::collections::BTreeMap::new()),
    };

    runner.family("mutations", 5_000, mutation_cases(&world, &EVERY_WAY));
    runner.family("reads", 1_200, read_cases(&world));
    runner.family("broken documents", 1_500, broken_cases(&world));
    runner.family("token soup", 1_500, soup_cases(&world));
    runner.family("raw bodies", 1_200, raw_cases(&world));

    // Oversize bodies (a few: they are slow), and a batch of events past the limit.
    let system = world.keys[0].1.clone();
    for (size, content_type) in [
        (16 * 1024 * 1024 + 1, Some("application/json")),
        (17 * 1024 * 1024, None),
        (20 * 1024 * 1024, Some("text/plain")),
    ] {
        let case = Case {
            key: system.clone(),
            content_type,
            body: Body::Huge(size),
            must_refuse: true,
        };
        match runtime.block_on(send(&app, &case)) {
            Ok((status, body)) => {
                assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
                judge(status, &body, &case).unwrap();
            }
            // The server may answer before it has read the whole body, and close.
            Err(e) => assert!(!e.contains("hang"), "{e}"),
        }
    }
    let tenant = world.objects.iter().find(|o| o.kind == "Tenant").unwrap().id.clone();
    let events: Vec<Value> = (0..10_001)
        .map(|i| {
            json!({ "idempotencyKey": format!("big-{i}"), "tenantId": tenant, "unitType": "units",
                "service": "robots", "quantity": "1", "occurredAt": "2026-11-20T10:00:00Z" })
        })
        .collect();
    let case = json_case(
        &system,
        body_text(&json!({
            "query": "mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted } }",
            "variables": { "input": { "events": events } },
        })),
        true,
    );
    runner.check(&case).unwrap();

    let total = runner.sent.get();
    let slowest = runner.slowest.get();
    let after = runtime.block_on(probe.dump());
    assert!(
        baseline == after,
        "the stored data changed\n{}",
        dump_diff(&baseline, &after)
    );
    // The server still answers.
    let role = runtime.block_on(app.ok(SYSTEM_KEY, "{ viewer { role } }", json!({})));
    assert_eq!(role["viewer"]["role"], "SYSTEM");
    eprintln!(
        "fuzz: {total} requests in {:.1?}, slowest {slowest:.1?}; errors by code: {:?}",
        started.elapsed(),
        runner.codes.borrow()
    );
    assert!(total >= 10_000, "{total} requests");
    runtime.block_on(app.finish());
}

// ---------------------------------------------------------------------------------------
// Found by the fuzz cases above: kept as its own test, run against a server in a child
// process so that the crash fails this test alone and not the whole test binary.

/// Whether the server at `address` answers `{ viewer { role } }`.
async fn answers(address: &str) -> bool {
    let answer = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .bearer_auth(SYSTEM_KEY)
        .json(&json!({ "query": "{ viewer { role } }" }))
        .timeout(TIMEOUT)
        .send()
        .await;
    match answer {
        Ok(response) => response
            .json::<Value>()
            .await
            .is_ok_and(|v| v["data"]["viewer"]["role"] == "SYSTEM"),
        Err(_) => false,
    }
}

/// An argument value nested deep enough (objects or lists, in any argument, even an
/// unknown one: about 280 levels in a debug build, 2000 in a release build) used to
/// overflow the stack of the worker that parses it (`async_graphql_parser` recurses once
/// per level) and abort the whole process. The document's nesting is now bounded before it
/// is parsed (`graphql::limits::MAX_NESTING`): a coded error, and the server goes on. The
/// server runs as a child process, since an overflow would abort this test binary too.
#[tokio::test]
async fn a_deeply_nested_argument_value_does_not_crash_the_server() {
    let server = ServerProcess::start(&[("RUST_LOG", "error")]).await;
    let mut failures = Vec::new();
    // 300 and 460 levels abort a debug build; 2000 and more a release build, whose frames
    // are smaller (1500 levels pass there).
    for (what, depth) in [
        ("object", 300),
        ("list", 460),
        ("object", 2000),
        ("list", 2500),
        ("list", 5000),
    ] {
        let value = if what == "object" {
            format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth))
        } else {
            format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
        };
        let query = format!("{{ viewer(nested: {value}) {{ role }} }}");
        let answer = reqwest::Client::new()
            .post(format!("http://{}/graphql", server.address))
            .bearer_auth(SYSTEM_KEY)
            .json(&json!({ "query": query }))
            .timeout(TIMEOUT)
            .send()
            .await;
        let answer = match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.bytes().await.unwrap_or_default();
                let case = json_case(
                    &Key {
                        label: "SYSTEM",
                        header: None,
                        scope: Scope::System,
                        tenant: None,
                        read_only: false,
                        ingest_only: false,
                    },
                    String::new(),
                    true,
                );
                judge(status, &body, &case).map(|_| ())
            }
            Err(e) => Err(format!("no answer: {e}")),
        };
        let alive = answers(&server.address).await;
        if answer.is_err() || !alive {
            failures.push(format!(
                "{what} {depth} levels deep: {answer:?}; the server {}",
                if alive { "still answers" } else { "no longer answers" }
            ));
        }
        if !alive {
            break;
        }
    }
    let (_, stderr) = server.terminate().await;
    let overflow = stderr
        .lines()
        .find(|l| l.contains("overflow"))
        .unwrap_or_default()
        .to_owned();
    assert!(failures.is_empty(), "{failures:#?}\n{overflow}");
}

/// A string holding a NUL character (`"\u0000"`, valid in JSON and GraphQL) used to reach
/// PostgreSQL, which refuses NUL in text, and the answer was INTERNAL. Such text is now
/// refused before anything runs, with BAD_USER_INPUT, on every backend.
#[tokio::test]
async fn a_nul_character_in_a_string_is_refused_not_an_internal_error() {
    // The period watcher's first look would write its marks meanwhile: keep it quiet.
    let app = TestApp::spawn_with(crate::helpers::DEFAULT_NOW, 3_600_000).await;
    let fx = organization_with_license(&app, "nul", "100").await;
    let tenant = crate::helpers::tenant(&app, &fx.org, "t").await;
    let probe = Probe::connect(&app.database_url).await;
    let before = probe.settled_dump().await;
    let event = |key: &str, unit: &str, job: Option<&str>| {
        json!({ "idempotencyKey": key, "tenantId": tenant, "unitType": unit, "service": "robots",
            "quantity": "1", "occurredAt": "2026-11-20T10:00:00Z", "jobId": job })
    };
    let cases = [
        (
            "setConsumptionControl unitType",
            "mutation($t: ID!) { setConsumptionControl(input: {tenantId: $t, unitType: \"units\\u0000\", stopAtAllocation: [\"robots\"]}) { __typename } }",
            json!({ "t": tenant }),
        ),
        (
            "setAllocation unitType",
            "mutation($t: ID!) { setAllocation(input: {tenantId: $t, unitType: \"units\\u0000\", amount: \"1\"}) { __typename } }",
            json!({ "t": tenant }),
        ),
        (
            "quota unitType",
            "query($o: ID!) { organization(id: $o) { quota(unitType: \"units\\u0000\") { used } } }",
            json!({ "o": fx.org }),
        ),
        (
            "recordUsage unitType",
            "mutation($e: [UsageEventInput!]!) { recordUsage(input: {events: $e}) { accepted } }",
            json!({ "e": [event("k1", "units\u{0}", None)] }),
        ),
        (
            "recordUsage idempotencyKey",
            "mutation($e: [UsageEventInput!]!) { recordUsage(input: {events: $e}) { accepted } }",
            json!({ "e": [event("k\u{0}", "units", None)] }),
        ),
        (
            "recordUsage jobId",
            "mutation($e: [UsageEventInput!]!) { recordUsage(input: {events: $e}) { accepted } }",
            json!({ "e": [event("k2", "units", Some("job\u{0}"))] }),
        ),
        (
            "createTenant name",
            "mutation($o: ID!) { createTenant(input: {organizationId: $o, name: \"a\\u0000b\"}) { __typename } }",
            json!({ "o": fx.org }),
        ),
        (
            "createFolder name",
            "mutation($t: ID!) { createFolder(input: {tenantId: $t, name: \"a\\u0000b\"}) { __typename } }",
            json!({ "t": tenant }),
        ),
    ];
    let mut internal = Vec::new();
    for (what, query, variables) in cases {
        let answer = app.gql(SYSTEM_KEY, query, variables).await;
        let refused = answer.get("errors").is_some();
        if answer["errors"][0]["extensions"]["code"] == "INTERNAL" {
            internal.push(format!("{what}: {answer}"));
        } else if refused && probe.dump().await != before {
            internal.push(format!("{what}: refused, yet the data changed: {answer}"));
        }
    }
    app.finish().await;
    assert!(internal.is_empty(), "{internal:#?}");
}
