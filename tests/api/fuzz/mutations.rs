//! Mutations made invalid by construction: every mutation, its fields, who may make it,
//! and the ways its input is sent.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::Union;
use serde_json::{Value, json};

use super::cases::{Case, body_text, json_case, literal};
use super::inputs::{FieldSpec, defaulted, id_spec, object, spec};
use super::values::{
    bad_bool, bad_code, bad_date, bad_datetime, bad_decimal, bad_enum, bad_key, bad_name, bad_unit, good_datetime,
    good_decimal, good_name, odd_date, odd_datetime, pick, raw, strs,
};
use super::world::{Key, Scope, World};

/// One mutation, its input type, and who may make it.
pub(super) struct MutationSpec {
    pub(super) field: &'static str,
    pub(super) input: &'static str,
    pub(super) system_only: bool,
    pub(super) ingest: bool,
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
pub(super) const EVERY_WAY: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
pub(super) const IN_VARIABLES: [u8; 9] = [0, 1, 2, 3, 4, 8, 9, 10, 11];

pub(super) fn mutation_cases(w: &World, ways: &[u8]) -> BoxedStrategy<Case> {
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
