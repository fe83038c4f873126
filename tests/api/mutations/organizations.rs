//! `createOrganization`: the organization made, its default time zone, and the slugs,
//! time zones and callers it refuses.

use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, acme, key};

/// `{ organizations { nodes { <fields> } } }`: every organization there is.
async fn organizations(app: &TestApp, fields: &str) -> Value {
    let query = format!("{{ organizations {{ nodes {{ {fields} }} }} }}");
    app.ok(SYSTEM_KEY, &query, json!({})).await["organizations"]["nodes"].clone()
}

#[tokio::test]
async fn create_organization_returns_the_organization_made() {
    let app = TestApp::spawn().await;
    let input = json!({ "name": "Acme Corp", "slug": "acme-corp", "timeZone": "Europe/Paris" });
    let data = app.mutate(SYSTEM_KEY, "createOrganization", input).await;
    let org = &data["organization"];
    assert!(org["id"].as_str().is_some_and(|id| !id.is_empty()), "{org}");
    assert_eq!(org["name"], "Acme Corp");
    assert_eq!(org["slug"], "acme-corp");
    assert_eq!(org["timeZone"], "Europe/Paris");

    let id = org["id"].as_str().unwrap();
    assert_eq!(
        app.organization(SYSTEM_KEY, id, "slug timeZone").await,
        json!({ "slug": "acme-corp", "timeZone": "Europe/Paris" })
    );
    app.finish().await;
}

#[tokio::test]
async fn create_organization_defaults_the_time_zone_to_utc() {
    let app = TestApp::spawn().await;
    let input = json!({ "name": "Plain", "slug": "plain" });
    let data = app.mutate(SYSTEM_KEY, "createOrganization", input).await;
    assert_eq!(data["organization"]["timeZone"], "UTC");
    app.finish().await;
}

#[tokio::test]
async fn create_organization_refuses_a_slug_already_taken() {
    let app = TestApp::spawn().await;
    let input = json!({ "name": "First", "slug": "taken" });
    app.mutate(SYSTEM_KEY, "createOrganization", input).await;
    let again = json!({ "name": "Second", "slug": "taken" });
    app.mutate_refused(SYSTEM_KEY, "createOrganization", again, "CONFLICT", &["taken"])
        .await;
    assert_eq!(organizations(&app, "name").await, json!([{ "name": "First" }]));
    app.finish().await;
}

#[tokio::test]
async fn create_organization_refuses_an_unknown_time_zone() {
    let app = TestApp::spawn().await;
    for zone in ["Mars/Olympus_Mons", "", "utc+1"] {
        let input = json!({ "name": "Org", "slug": "org", "timeZone": zone });
        app.mutate_refused(SYSTEM_KEY, "createOrganization", input, "BAD_USER_INPUT", &["timeZone"])
            .await;
    }
    app.finish().await;
}

#[tokio::test]
async fn create_organization_refuses_a_malformed_slug() {
    let app = TestApp::spawn().await;
    let too_long = "a".repeat(65);
    for slug in ["Has Space", "UPPER", "under_score", "", too_long.as_str()] {
        let input = json!({ "name": "Org", "slug": slug });
        app.mutate_refused(SYSTEM_KEY, "createOrganization", input, "BAD_USER_INPUT", &["slug"])
            .await;
    }
    assert_eq!(organizations(&app, "id").await, json!([]));
    app.finish().await;
}

#[tokio::test]
async fn only_system_creates_organizations() {
    let (app, fixture) = acme().await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let input = json!({ "name": "Mine", "slug": "mine" });
    app.mutate_refused(&owner, "createOrganization", input, "FORBIDDEN", &[])
        .await;
    assert_eq!(organizations(&app, "slug").await, json!([{ "slug": "acme" }]));
    app.finish().await;
}
