//! The rules of quotagraph as pure functions: no I/O, no GraphQL, no database.
//! "Now" and "today" are always parameters, read from the one clock at the edge.

pub mod access;
pub mod admission;
pub mod allocation;
pub mod analytics;
pub mod attribution;
pub mod authorization;
pub mod events;
pub mod export_link;
pub mod external_key;
pub mod forecast;
pub mod ids;
pub mod ingestion;
pub mod metrics;
pub mod period;
#[cfg(test)]
mod properties;
pub mod quantity;
pub mod rollup;
pub mod tenant;
pub mod void;
pub mod webhook;

pub use quantity::Quantity;
