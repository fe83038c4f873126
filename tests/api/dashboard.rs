//! The reference dashboard (docs/design.md §15.5): a static page and its assets, served
//! from the binary without a key; what it shows comes through the API (tested in
//! tests/browser/dashboard.test.mjs).

use crate::helpers::{TestApp, content_type};

/// The queries the page sends (`const …_QUERY = `…``), by name.
fn page_queries() -> Vec<(&'static str, &'static str)> {
    include_str!("../../src/http/dashboard/dashboard.js")
        .split("const ")
        .filter_map(|part| {
            let (name, rest) = part.split_once(" = `")?;
            let body = rest.split('`').next()?;
            (name.ends_with("_QUERY") && body.starts_with("query ")).then_some((name, body))
        })
        .collect()
}

#[test]
fn docs_dashboard_md_shows_each_of_the_pages_queries_exactly() {
    let docs = include_str!("../../docs/dashboard.md");
    let queries = page_queries();
    assert_eq!(queries.len(), 5, "the five views' queries: {queries:?}");
    for (name, query) in queries {
        assert!(
            docs.contains(&format!("```graphql\n{query}\n```")),
            "{name} differs from docs/dashboard.md:\n{query}"
        );
    }
}

#[cfg(feature = "playground-assets")]
#[tokio::test]
async fn the_dashboard_and_every_asset_it_links_are_served_without_a_key() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(content_type(&page).starts_with("text/html"));
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "the page loads nothing from elsewhere"
    );
    let assets: Vec<&str> = html
        .split('"')
        .filter(|s| s.starts_with("/dashboard/assets/"))
        .collect();
    for name in [
        "dashboard.js",
        "dashboard.css",
        "uPlot-1.6.32.iife.min.js",
        "uPlot-1.6.32.min.css",
    ] {
        assert!(
            assets.contains(&format!("/dashboard/assets/{name}").as_str()),
            "{name} not linked: {assets:?}"
        );
    }
    for path in assets {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let kind = if path.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(
            content_type(&response).starts_with(kind),
            "{path}: {}",
            content_type(&response)
        );
        let cache = response.headers()["cache-control"].to_str().unwrap();
        // Ours are revalidated; the npm files carry their version in their name.
        let immutable = path.contains("uPlot-");
        assert_eq!(cache.contains("immutable"), immutable, "{path}: {cache}");
    }
    let missing = app
        .client
        .get(app.url("/dashboard/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    app.finish().await;
}

#[cfg(not(feature = "playground-assets"))]
#[tokio::test]
async fn without_the_npm_assets_the_dashboard_says_how_to_get_them() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(content_type(&page).starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains("playground-assets") && html.contains("docs/operator.md"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    app.finish().await;
}
