//! The reference dashboard (docs/design.md §15.5): a static page whose every figure comes
//! from the public API (GraphQL over HTTP and WebSocket, CSV exports) with the key the
//! user types in. The page needs no key itself.
//!
//! `index.html`, `dashboard.css` and `dashboard.js` are ours; uPlot (the charts) comes from
//! a pinned npm package that `build.rs` fetches, checks against its sha512 integrity and
//! unpacks into `OUT_DIR`, embedded here under a name carrying its version. Built without
//! the cargo feature `playground-assets`, there are no npm assets, and the page says how to
//! get them, as the playground does.

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// The page, with the versioned asset names filled in by `build.rs`.
#[cfg(feature = "playground-assets")]
const INDEX: &str = include_str!(concat!(env!("OUT_DIR"), "/dashboard.html"));

// `VENDOR`: (served name, content type, bytes) of each npm asset of the dashboard.
#[cfg(feature = "playground-assets")]
include!(concat!(env!("OUT_DIR"), "/dashboard_vendor_assets.rs"));

/// In place of the dashboard when built without its assets; 200 for the reason the
/// playground's stand-in gives.
#[cfg(not(feature = "playground-assets"))]
const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>quotagraph: no dashboard in this build</title>
</head>
<body>
  <h1>No dashboard in this build</h1>
  <p>This quotagraph server was built without the browser assets fetched from npm (the
  dashboard's charts, uPlot): with <code>--no-default-features</code>, so without the cargo
  feature <code>playground-assets</code>.</p>
  <p>The API the dashboard reads works as usual: <code>POST /graphql</code>, subscriptions
  over WebSocket on <code>/graphql</code>, and <code>GET /export/*.csv</code>.</p>
  <p>To get the dashboard, build with the default features where the build can reach the npm
  registry, a mirror (<code>QUOTAGRAPH_NPM_REGISTRY</code>) or an asset cache holding the
  packages (<code>QUOTAGRAPH_ASSET_CACHE</code>): see "Building without network access to
  npm" in docs/operator.md.</p>
</body>
</html>
"#;

#[cfg(not(feature = "playground-assets"))]
const VENDOR: &[(&str, &str, &[u8])] = &[];

const SCRIPT: &str = include_str!("dashboard/dashboard.js");
const STYLE: &str = include_str!("dashboard/dashboard.css");

/// `GET /dashboard`: static, so no key; the playground's policy (this server only).
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_SECURITY_POLICY, super::playground::CSP),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(INDEX),
    )
        .into_response()
}

/// `/dashboard/assets/{asset}`: our script and style (revalidated each time), and the npm
/// assets (immutable: their names change with their version).
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, content_type, cache): (&'static [u8], &str, &str) = match name.as_str() {
        "dashboard.js" => (SCRIPT.as_bytes(), "text/javascript; charset=utf-8", "no-cache"),
        "dashboard.css" => (STYLE.as_bytes(), "text/css; charset=utf-8", "no-cache"),
        _ => match VENDOR.iter().find(|(served, _, _)| *served == name) {
            Some((_, content_type, body)) => (*body, *content_type, "public, max-age=31536000, immutable"),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(all(test, feature = "playground-assets"))]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_its_scripts_and_styles_from_this_server() {
        for (name, _, _) in VENDOR
            .iter()
            .filter(|(n, _, _)| n.ends_with(".js") || n.ends_with(".css"))
        {
            assert!(
                INDEX.contains(&format!("\"/dashboard/assets/{name}\"")),
                "{name} missing"
            );
        }
        assert!(INDEX.contains("\"/dashboard/assets/dashboard.js\""));
        assert!(INDEX.contains("\"/dashboard/assets/dashboard.css\""));
        assert!(!INDEX.contains("{{"));
        assert!(!INDEX.contains("https://") && !INDEX.contains("http://"));
    }
}
