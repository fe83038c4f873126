//! `createOrganization`: the organization made, its default time zone, and the slugs,
//! time zones and callers it refuses.

use serde_json::json;

use crate::helpers::{SYSTEM_KEY, TestApp, key, organization_with_license};

const CREATE_ORGANIZATION: &str = "mutation($input: CreateOrganizationInput!) {
    createOrganization(input: $input) { organization { id name slug timeZone } }
}";

#[tokio::test]
async fn create_organization_returns_the_organization_made() {
    let app = TestApp::spawn().await;
    let input = json!({ "name": "Acme Corp", "slug": "acme-corp", "timeZone": "Europe/Paris" });
    let data = app.ok(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": input })).await;
    let org = &data["createOrganization"]["organization"];
    assert!(org["id"].as_str().is_some_and(|id| !id.is_empty()), "{org}");
    assert_eq!(org["name"], "Acme Corp");
    assert_eq!(org["slug"], "acme-corp");
    assert_eq!(org["timeZone"], "Europe/Paris");

    let read = app
        .ok(
            SYSTEM_KEY,
            "query($id: ID!) { organization(id: $id) { slug timeZone } }",
            json!({ "id": org["id"] }),
        )
        .await;
    assert_eq!(
        read["organization"],
        json!({ "slug": "acme-corp", "timeZone": "Europe/Paris" })
    );
    app.finish().await;
}

#[tokio::test]
async fn create_organization_defaults_the_time_zone_to_utc() {
    let app = TestApp::spawn().await;
    let input = json!({ "name": "Plain", "slug": "plain" });
    let data = app.ok(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": input })).await;
    assert_eq!(data["createOrganization"]["organization"]["timeZone"], "UTC");
    app.finish().await;
}

#[tokio::test]
async fn create_organization_refuses_a_slug_already_taken() {
    let app = TestApp::spawn().await;
    let input = json!({ "name": "First", "slug": "taken" });
    app.ok(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": input })).await;
    let again = json!({ "name": "Second", "slug": "taken" });
    let (code, message) = app
        .err(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": again }))
        .await;
    assert_eq!(code, "CONFLICT", "{message}");
    assert!(message.contains("taken"), "{message}");

    let listed = app
        .ok(SYSTEM_KEY, "{ organizations { nodes { name } } }", json!({}))
        .await;
    assert_eq!(listed["organizations"]["nodes"], json!([{ "name": "First" }]));
    app.finish().await;
}

#[tokio::test]
async fn create_organization_refuses_an_unknown_time_zone() {
    let app = TestApp::spawn().await;
    for zone in ["Mars/Olympus_Mons", "", "utc+1"] {
        let input = json!({ "name": "Org", "slug": "org", "timeZone": zone });
        let (code, message) = app
            .err(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": input }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{zone:?}: {message}");
        assert!(message.contains("timeZone"), "{message}");
    }
    app.finish().await;
}

#[tokio::test]
async fn create_organization_refuses_a_malformed_slug() {
    let app = TestApp::spawn().await;
    let too_long = "a".repeat(65);
    for slug in ["Has Space", "UPPER", "under_score", "", too_long.as_str()] {
        let input = json!({ "name": "Org", "slug": slug });
        let (code, message) = app
            .err(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": input }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{slug:?}: {message}");
        assert!(message.contains("slug"), "{message}");
    }
    let listed = app
        .ok(SYSTEM_KEY, "{ organizations { nodes { id } } }", json!({}))
        .await;
    assert_eq!(listed["organizations"]["nodes"], json!([]));
    app.finish().await;
}

#[tokio::test]
async fn only_system_creates_organizations() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let input = json!({ "name": "Mine", "slug": "mine" });
    let (code, message) = app.err(&owner, CREATE_ORGANIZATION, json!({ "input": input })).await;
    assert_eq!(code, "FORBIDDEN", "{message}");

    let listed = app
        .ok(SYSTEM_KEY, "{ organizations { nodes { slug } } }", json!({}))
        .await;
    assert_eq!(listed["organizations"]["nodes"], json!([{ "slug": "acme" }]));
    app.finish().await;
}
