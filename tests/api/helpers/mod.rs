//! What every test uses: a server of its own on a database of its own ([`TestApp`]),
//! GraphQL requests to it and the checks of their answers, CSV exports, raw WebSocket
//! connections, the real binary as a process ([`ServerProcess`]), and the fixture builders
//! that make organizations, licenses, tenants, keys, folders, processes, allocations and
//! usage events through the API.

mod database;
mod exports;
mod fixtures;
mod metrics;
mod process;
mod requests;
mod rollups;
mod server;
pub mod statements;
mod websocket;

pub use database::TestDatabase;
pub use exports::*;
pub use fixtures::*;
pub use metrics::*;
pub use process::ServerProcess;
pub use requests::*;
pub use rollups::*;
pub use server::*;
pub use websocket::*;

/// The SYSTEM key every test server starts with.
pub const SYSTEM_KEY: &str = "qg_system_key_for_tests";

/// The pepper of API key hashes on every test server (a server process too).
pub const KEY_PEPPER: &str = "a pepper for tests";

/// The instant the test servers' clock is pinned to unless a test picks another.
pub const DEFAULT_NOW: &str = "2026-11-23T10:00:00Z";
