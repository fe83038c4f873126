//! The playground: GraphiQL, served entirely by quotagraph so it works offline.
//!
//! GraphiQL, React and ReactDOM come from pinned npm packages that `build.rs` fetches
//! once, checks against their sha512 integrity and unpacks into `OUT_DIR`; they are
//! embedded here under names carrying their version. The page and `playground.js` (the
//! wiring to this server and the example tabs) are ours. Built without the cargo feature
//! `playground-assets`, there are no npm assets, and the page says how to get them.

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// The page, with the versioned asset names filled in by `build.rs`.
#[cfg(feature = "playground-assets")]
const INDEX: &str = include_str!(concat!(env!("OUT_DIR"), "/playground.html"));

// `VENDOR`: (served name, content type, bytes) of each npm asset.
#[cfg(feature = "playground-assets")]
include!(concat!(env!("OUT_DIR"), "/vendor_assets.rs"));

/// In place of the playground when built without its assets. Served with 200, like the
/// playground: the server works as built, while a 503 would announce to monitors and
/// retrying clients a temporary failure that no retry ends.
#[cfg(not(feature = "playground-assets"))]
const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>quotagraph: no playground in this build</title>
</head>
<body>
  <h1>No playground in this build</h1>
  <p>This quotagraph server was built without the playground's assets (GraphiQL, React and
  ReactDOM, from npm): with <code>--no-default-features</code>, so without the cargo feature
  <code>playground-assets</code>.</p>
  <p>The GraphQL API works as usual: <code>POST /graphql</code>,
  <code>GET /graphql?query=…</code>, and subscriptions over WebSocket on <code>/graphql</code>.</p>
  <p>To get the playground, build with the default features (<code>cargo build --release</code>)
  where the build can reach the npm registry, a mirror (<code>QUOTAGRAPH_NPM_REGISTRY</code>) or
  an asset cache holding the packages (<code>QUOTAGRAPH_ASSET_CACHE</code>): see "Building
  without network access to npm" in docs/operator.md.</p>
</body>
</html>
"#;

#[cfg(not(feature = "playground-assets"))]
const VENDOR: &[(&str, &str, &[u8])] = &[];

const SCRIPT: &str = include_str!("playground/playground.js");
const STYLE: &str = include_str!("playground/playground.css");

/// Scripts, styles, fonts and connections: this server only. `style-src` needs no
/// 'unsafe-inline' (React and CodeMirror set styles through the CSSOM, which CSP allows),
/// `script-src` no 'unsafe-eval' (none of the bundles evaluates strings). GraphiQL's
/// stylesheet carries its fonts and a few images as `data:` URLs. `connect-src 'self'`
/// covers the same-origin WebSocket (`ws:`/`wss:` to this host).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self' data:; \
img-src 'self' data:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";

/// The playground page (or, without its assets, the page saying how to get them).
pub fn page() -> Response {
    (
        [
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(INDEX),
    )
        .into_response()
}

/// `/playground/{asset}`: our script and style (revalidated each time), and the npm
/// assets (immutable: their names change with their version).
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, content_type, cache): (&'static [u8], &str, &str) = match name.as_str() {
        "playground.js" => (SCRIPT.as_bytes(), "text/javascript; charset=utf-8", "no-cache"),
        "playground.css" => (STYLE.as_bytes(), "text/css; charset=utf-8", "no-cache"),
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

/// The served names of the npm assets (for tests and the page).
pub fn vendor_assets() -> impl Iterator<Item = &'static str> {
    VENDOR.iter().map(|(served, _, _)| *served)
}

#[cfg(all(test, feature = "playground-assets"))]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_every_vendor_script_and_style_from_this_server() {
        for name in vendor_assets().filter(|n| n.ends_with(".js") || n.ends_with(".css")) {
            assert!(
                INDEX.contains(&format!("\"/playground/{name}\"")),
                "{name} missing from the page"
            );
        }
        assert!(!INDEX.contains("{{"));
        assert!(!INDEX.contains("https://") && !INDEX.contains("http://"));
        assert!(!CSP.contains("unsafe"));
    }

    #[test]
    fn vendor_assets_are_embedded_without_source_maps() {
        for (name, _, body) in VENDOR {
            assert!(body.len() > 1000, "{name} looks empty");
            let tail = &body[body.len().saturating_sub(200)..];
            assert!(!String::from_utf8_lossy(tail).contains("sourceMappingURL"), "{name}");
        }
    }
}
