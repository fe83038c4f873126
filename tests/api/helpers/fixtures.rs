//! The fixture builders: what a test needs before it starts, made through the GraphQL API
//! as SYSTEM, so that a test's data passes the same checks as a client's. Each returns the
//! id of what it made (a key: its secret), and those that start a server, the server.
//!
//! ```ignore
//! let (app, fx) = acme().await;
//! let (app, fx, [a, b]) = acme_with_tenants(["a", "b"]).await;
//! let (globex, stranger) = globex_owner(&app).await;
//! let paris = licensed_organization(&app, "paris", "Europe/Paris", json!({ "capacity": "500", "period": "YEAR" })).await;
//! let t = tenant(&app, &fx.org, "a").await;
//! allocate(&app, &t, Some("100")).await;
//! let folder = create_folder(&app, &t, None, "ops").await;
//! let process = create_process(&app, &folder, "nightly").await;
//! record(&app, [event("k1", &t, "10", "2026-11-20T10:00:00Z").with(json!({ "processId": process }))]).await;
//! ```

use serde_json::{Value, json};

use super::{SYSTEM_KEY, TestApp, mutation};

/// Creates the unit type `code` unless it exists.
pub async fn create_unit_type(app: &TestApp, code: &str, name: &str) {
    // CONFLICT when a test made it already: the answer is not checked.
    let document = mutation("createUnitType", "unitType { code }");
    let _ = app
        .gql(
            SYSTEM_KEY,
            &document,
            json!({ "input": { "code": code, "name": name } }),
        )
        .await;
}

/// Runs the mutation `name` as SYSTEM with `input`, selecting `selection` only: fixtures
/// ask as little as they can. Returns its payload.
async fn run(app: &TestApp, name: &str, selection: &str, input: Value) -> Value {
    let document = mutation(name, selection);
    app.ok(SYSTEM_KEY, &document, json!({ "input": input })).await[name].clone()
}

/// Runs the mutation `name` as [`run`] does and returns the id of the `object` it made
/// (or changed).
async fn made(app: &TestApp, name: &str, object: &str, input: Value) -> String {
    let payload = run(app, name, &format!("{object} {{ id }}"), input).await;
    payload[object]["id"].as_str().expect("id").to_owned()
}

/// Creates an organization (named "Org", `slug`, in `time_zone`) and returns its id.
pub async fn create_organization(app: &TestApp, slug: &str, time_zone: &str) -> String {
    let input = json!({ "name": "Org", "slug": slug, "timeZone": time_zone });
    let made = run(app, "createOrganization", "organization { id timeZone }", input).await;
    let organization = &made["organization"];
    assert_eq!(organization["timeZone"], time_zone);
    organization["id"].as_str().expect("id").to_owned()
}

/// Creates a license of `org` and returns its id: of unit type `units`, plan "Plan",
/// monthly from 2026-01-01, with `fields` (`CreateLicenseInput`'s, `capacity` at least)
/// added or replacing those.
pub async fn create_license(app: &TestApp, org: &str, fields: Value) -> String {
    let mut input = json!({
        "organizationId": org, "unitType": "units", "planName": "Plan", "period": "MONTH",
        "startsOn": "2026-01-01",
    });
    set(&mut input, fields);
    made(app, "createLicense", "license", input).await
}

/// An organization with one license, ready for tests.
pub struct Fixture {
    pub org: String,
    pub license: String,
}

/// A server (its clock at [`DEFAULT_NOW`](super::DEFAULT_NOW)) with the organization
/// "acme" and its monthly license of 1000 units: where most tests start.
pub async fn acme() -> (TestApp, Fixture) {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    (app, fixture)
}

/// [`acme`] with a tenant of each of `names`, in `names`' order.
pub async fn acme_with_tenants<const N: usize>(names: [&str; N]) -> (TestApp, Fixture, [String; N]) {
    let (app, fixture) = acme().await;
    let tenants = tenants(&app, &fixture.org, names).await;
    (app, fixture, tenants)
}

/// The organization "globex", licensed as [`acme`]'s is, and its OWNER's key: a stranger
/// to acme, whose ids must look unknown to it.
pub async fn globex_owner(app: &TestApp) -> (Fixture, String) {
    let globex = organization_with_license(app, "globex", "1000").await;
    let owner = key(app, "OWNER", Some(&globex.org), None).await;
    (globex, owner)
}

/// Creates the unit type `units`, an organization (`slug`, UTC) and a monthly license of
/// `capacity` starting 2026-01-01.
pub async fn organization_with_license(app: &TestApp, slug: &str, capacity: &str) -> Fixture {
    licensed_organization(app, slug, "UTC", json!({ "capacity": capacity })).await
}

/// Creates the unit type `units`, an organization (`slug`, in `time_zone`) and a license
/// of it made of `license`'s fields and [`create_license`]'s defaults.
pub async fn licensed_organization(app: &TestApp, slug: &str, time_zone: &str, license: Value) -> Fixture {
    create_unit_type(app, "units", "Units").await;
    let org = create_organization(app, slug, time_zone).await;
    let license = create_license(app, &org, license).await;
    Fixture { org, license }
}

/// Creates the organization `slug` in `time_zone` with a license made of `license`'s
/// fields (as [`licensed_organization`] does) and a tenant of each of `names`; returns the
/// organization's id and the tenants', in `names`' order.
pub async fn organization_with_tenants<const N: usize>(
    app: &TestApp,
    slug: &str,
    time_zone: &str,
    license: Value,
    names: [&str; N],
) -> (String, [String; N]) {
    let org = licensed_organization(app, slug, time_zone, license).await.org;
    let tenants = tenants(app, &org, names).await;
    (org, tenants)
}

/// Creates a tenant and returns its id.
pub async fn tenant(app: &TestApp, org: &str, name: &str) -> String {
    let input = json!({ "organizationId": org, "name": name });
    made(app, "createTenant", "tenant", input).await
}

/// Creates a tenant of `org` of each of `names`; returns their ids, in `names`' order.
async fn tenants<const N: usize>(app: &TestApp, org: &str, names: [&str; N]) -> [String; N] {
    let mut ids = Vec::new();
    for name in names {
        ids.push(tenant(app, org, name).await);
    }
    ids.try_into().expect("a tenant of each name")
}

/// Moves a tenant to `state` (ACTIVE, DISABLED or DELETED).
pub async fn set_tenant_state(app: &TestApp, tenant: &str, state: &str) {
    let input = json!({ "tenantId": tenant, "state": state });
    made(app, "updateTenant", "tenant", input).await;
}

/// Creates an API key and returns its secret.
pub async fn key(app: &TestApp, role: &str, org: Option<&str>, tenant: Option<&str>) -> String {
    key_with_id(app, role, org, tenant).await.0
}

/// Creates an API key and returns its secret and its id.
pub async fn key_with_id(app: &TestApp, role: &str, org: Option<&str>, tenant: Option<&str>) -> (String, String) {
    let input = json!({ "organizationId": org, "tenantId": tenant, "role": role, "name": "test" });
    let made = run(app, "createApiKey", "secret apiKey { id }", input).await;
    (
        made["secret"].as_str().expect("secret").to_owned(),
        made["apiKey"]["id"].as_str().expect("id").to_owned(),
    )
}

/// Creates a folder of `tenant` (under `parent`, if given) and returns its id.
pub async fn create_folder(app: &TestApp, tenant: &str, parent: Option<&str>, name: &str) -> String {
    let input = json!({ "tenantId": tenant, "parentId": parent, "name": name });
    made(app, "createFolder", "folder", input).await
}

/// Creates a process in `folder` and returns its id.
pub async fn create_process(app: &TestApp, folder: &str, name: &str) -> String {
    let input = json!({ "folderId": folder, "name": name });
    made(app, "createProcess", "process", input).await
}

/// Sets a tenant's allocation of `units` (none removes it), effective from 2026-11-01: the
/// start of the bundle current at [`DEFAULT_NOW`](super::DEFAULT_NOW), so that every
/// range in that bundle sees it.
pub async fn allocate(app: &TestApp, tenant: &str, amount: Option<&str>) {
    let input = json!({ "tenantId": tenant, "unitType": "units", "amount": amount, "effectiveOn": "2026-11-01" });
    run(app, "setAllocation", "allocation { amount }", input).await;
}

/// A usage event (`UsageEventInput`), for [`record`].
#[derive(Clone, Debug, serde::Serialize)]
#[serde(transparent)]
pub struct Event(Value);

/// An event of `quantity` units of `tenant` through the `robots` service at `at` (RFC
/// 3339), under the idempotency key `key`.
pub fn event(key: &str, tenant: &str, quantity: &str, at: &str) -> Event {
    Event(json!({
        "idempotencyKey": key, "tenantId": tenant, "unitType": "units", "service": "robots",
        "quantity": quantity, "occurredAt": at,
    }))
}

impl Event {
    /// The event with `fields` added or replacing its own (`service`, `kind`, `jobId`,
    /// `processId`, a null...).
    pub fn with(mut self, fields: Value) -> Event {
        set(&mut self.0, fields);
        self
    }
}

/// Records `events` in one batch and expects every one accepted.
pub async fn record(app: &TestApp, events: impl IntoIterator<Item = Event>) {
    let events: Vec<Event> = events.into_iter().collect();
    let recorded = run(app, "recordUsage", "accepted", json!({ "events": events })).await;
    assert_eq!(recorded["accepted"], events.len());
}

/// Adds the fields of `fields` to the object `target`, replacing those it has.
fn set(target: &mut Value, fields: Value) {
    let Value::Object(fields) = fields else {
        panic!("fields must be an object: {fields}");
    };
    target.as_object_mut().expect("an object").extend(fields);
}
