//! The audit log over real HTTP: every change made through the API is recorded with who,
//! what, when, before and after; refused changes leave nothing; OWNER and ADMIN read it
//! through GraphQL and as CSV, other roles may not.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, acme, acme_with_tenants, create_organization, event, export, export_refused, key,
    organization_query, tenant,
};

const LOG: &str =
    "auditLog(first: 100) { edges { node { action role apiKeyId targetKind targetId before after at } } }";

async fn log(app: &TestApp, key: &str, org: &str) -> Vec<Value> {
    app.organization(key, org, LOG).await["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn every_change_is_recorded_with_who_what_when_before_and_after() {
    let (app, fx, [t]) = acme_with_tenants(["Blue"]).await;
    let owner = key(&app, "OWNER", Some(&fx.org), None).await;
    app.mutate(&owner, "updateTenant", json!({ "tenantId": t, "name": "Green" }))
        .await;
    let allocation = |amount: &str| json!({ "tenantId": t, "unitType": "units", "amount": amount });
    app.mutate(&owner, "setAllocation", allocation("100")).await;
    let events = json!({ "events": [event("k1", &t, "2", "2026-11-20T10:00:00Z")] });
    app.mutate(SYSTEM_KEY, "recordUsage", events.clone()).await;
    // A duplicate batch changes nothing, and a refused change leaves no entry.
    app.mutate(SYSTEM_KEY, "recordUsage", events).await;
    app.mutate_refused(&owner, "setAllocation", allocation("-1"), "BAD_USER_INPUT", &[])
        .await;

    let entries = log(&app, &owner, &fx.org).await;
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "createOrganization",
            "createLicense",
            "createTenant",
            "createApiKey",
            "updateTenant",
            "setAllocation",
            "recordUsage"
        ]
    );
    let rename = &entries[4];
    assert_eq!(rename["role"], "OWNER");
    assert_eq!(rename["targetKind"], "Tenant");
    assert_eq!(rename["targetId"], t.as_str());
    assert_eq!(rename["before"], json!({ "name": "Blue", "state": "ACTIVE" }));
    assert_eq!(rename["after"], json!({ "name": "Green", "state": "ACTIVE" }));
    assert_eq!(rename["at"], "2026-11-23T10:00:00+00:00");
    let allocation = &entries[5];
    assert_eq!(allocation["before"], Value::Null);
    assert_eq!(allocation["after"]["amount"], "100");
    assert_eq!(entries[6]["after"]["accepted"], 1);
    assert_eq!(entries[6]["role"], "SYSTEM");
    // The key's secret never appears.
    assert!(!entries[3]["after"].to_string().contains("qg_"), "{}", entries[3]);
    app.finish().await;
}

#[tokio::test]
async fn only_owner_admin_and_system_read_the_audit_log() {
    let (app, fx, [t]) = acme_with_tenants(["Blue"]).await;
    for role in ["OWNER", "ADMIN"] {
        let reader = key(&app, role, Some(&fx.org), None).await;
        assert!(!log(&app, &reader, &fx.org).await.is_empty(), "{role}");
    }
    for (role, tenant) in [
        ("VIEWER", None),
        ("BILLING_MANAGER", None),
        ("TENANT_ADMIN", Some(t.as_str())),
    ] {
        let reader = key(&app, role, Some(&fx.org), tenant).await;
        app.organization_refused(&reader, &fx.org, LOG, "FORBIDDEN", &[]).await;
        let path = format!("/export/audit.csv?organization={}", fx.org);
        assert_eq!(export_refused(&app, Some(&reader), &path).await.0, 403, "{role}");
    }
    // Another organization's owner does not find this one.
    let other = create_organization(&app, "other", "UTC").await;
    let stranger = key(&app, "OWNER", Some(&other), None).await;
    let answer = app
        .gql(&stranger, &organization_query(LOG), json!({ "o": fx.org }))
        .await;
    assert!(answer["data"]["organization"].is_null(), "{answer}");
    app.finish().await;
}

#[tokio::test]
async fn the_audit_csv_equals_the_graphql_log() {
    let (app, fx) = acme().await;
    tenant(&app, &fx.org, "Ops, \"Blue\"\nteam").await;
    let entries = log(&app, SYSTEM_KEY, &fx.org).await;
    let (header, rows) = export(&app, SYSTEM_KEY, "audit", &[("organization", &fx.org)]).await;
    assert_eq!(rows.len(), entries.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, entry) in rows.iter().zip(&entries) {
        assert_eq!(row[col("action")], entry["action"].as_str().unwrap());
        assert_eq!(row[col("target_id")], entry["targetId"].as_str().unwrap_or(""));
        let after: Value = serde_json::from_str(&row[col("after")]).unwrap();
        assert_eq!(after, entry["after"]);
    }
    let created: Value = serde_json::from_str(&rows.last().unwrap()[col("after")]).unwrap();
    assert_eq!(created["name"], "Ops, \"Blue\"\nteam");
    let path = format!("/export/audit.csv?organization={}&unitType=units", fx.org);
    assert_eq!(export_refused(&app, Some(SYSTEM_KEY), &path).await.0, 400);
    app.finish().await;
}
