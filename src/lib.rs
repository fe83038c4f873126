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
