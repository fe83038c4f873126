//! One integration binary: every test starts the real server and talks to it over
//! HTTP (and WebSocket), on SQLite, or on PostgreSQL when `TEST_DATABASE_URL` is set.
#![expect(clippy::unwrap_used, reason = "a test helper that cannot go on should fail loudly")]

mod helpers;

mod admission;
mod analytics;
mod attribution;
mod audit;
mod auth;
mod browser_access;
mod bundles;
mod citus;
mod controls;
mod cost;
mod dashboard;
mod events;
mod export;
mod external_keys;
mod fast_path;
mod folder_view;
mod forecast;
mod fuzz;
mod http;
mod ingestion;
mod layers;
mod limits;
mod matrix;
mod migrations;
mod mutations;
mod notifications;
mod operations;
mod overload;
mod retention;
mod rollup;
mod schema;
mod services;
mod tree;
mod usage;
mod vendor;
mod void_usage;
mod webhooks;
mod what_if;
