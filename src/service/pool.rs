//! How busy the database connections are, for the operator's `/metrics`.

use super::AppContext;
use crate::store;

pub use crate::store::PoolStats;

/// The pool requests take their connections from.
pub fn stats(ctx: &AppContext) -> PoolStats {
    store::pool_stats(&ctx.db)
}
