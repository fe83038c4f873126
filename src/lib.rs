//! quotagraph: usage metering and quotas behind a GraphQL API.
//!
//! Layers, dependencies pointing one way (docs/design.md §11):
//! `http → graphql → service → {domain, store, events}`, `store → {entity, domain}`.

pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;

#[cfg(test)]
mod layers {
    use std::path::Path;

    /// `http` and `graphql` reach the database through `service`. They still name the
    /// store's paging and scope types, which are to move out of it.
    #[test]
    fn http_and_graphql_reach_the_store_only_for_its_paging_and_scope_types() {
        const KNOWN: [&str; 3] = ["Page", "{Page", "attribution::Scope"];
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for layer in ["http", "graphql"] {
            for entry in std::fs::read_dir(src.join(layer)).expect("the layer's folder") {
                let path = entry.expect("an entry").path();
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("a source file");
                for (at, _) in text.match_indices("store::") {
                    let named = &text[at + "store::".len()..];
                    assert!(
                        KNOWN.iter().any(|known| named.starts_with(known)),
                        "{} reaches into store: {}",
                        path.display(),
                        named.lines().next().unwrap_or_default()
                    );
                }
            }
        }
    }

    /// `config` is a leaf every layer reads: it names none of them.
    #[test]
    fn config_names_no_layer() {
        let config = include_str!("config.rs");
        for layer in ["graphql", "http", "service", "store", "events", "startup"] {
            assert!(
                !config.contains(&format!("crate::{layer}")),
                "config.rs names crate::{layer}"
            );
        }
    }
}
