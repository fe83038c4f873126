//! Use cases. Each one is a single transaction: load through `store`, decide with
//! `domain`, write through `store`. Every use case takes the caller: its [`Actor`], checked
//! through `domain::access` before anything is read out or written, or a [`scope::OrgScope`]
//! (a [`scope::Seen`] row) that could only be made by that check. The watcher, the demo
//! seed and the attribution backfill act for the service itself, not for a caller.

pub mod admission;
pub mod allocation;
pub mod analytics;
pub mod api_key;
pub mod attribution;
pub mod audit;
pub mod bundle;
pub mod control;
pub mod demo;
pub mod export_link;
pub mod figures;
pub mod folder;
pub mod group_commit;
pub mod ingestion;
pub mod license;
pub mod memo;
pub mod notification;
pub mod organization;
pub mod pool;
pub mod retention;
pub mod scope;
pub mod service_catalog;
pub mod tenant;
pub mod unit_type;
pub mod usage;
pub mod void;
pub mod watch;
pub mod webhook;
pub mod webhook_delivery;

use chrono_tz::Tz;
use sea_orm::DatabaseConnection;

pub use crate::store::{Page, PageRequest};
pub use scope::{OrgScope, Seen};

use crate::clock::Clock;
use crate::domain::{access::Access, tenant::TenantState};
use crate::error::{AppError, AppResult};

/// What every use case needs: the database, the clock and the event bus.
#[derive(Clone, Debug)]
pub struct AppContext {
    pub db: DatabaseConnection,
    /// Where write transactions begin (`store::writer`).
    pub writer: DatabaseConnection,
    pub clock: Clock,
    pub events: crate::events::Bus,
    /// The key of API key hashes.
    pub pepper: api_key::Pepper,
    /// Committed changes waiting for the watcher.
    pub watcher: std::sync::Arc<watch::Watcher>,
    /// What the dashboard reads, kept per organization.
    pub memo: std::sync::Arc<memo::Memo>,
    /// Small `recordUsage` requests waiting for the next group commit.
    pub groups: std::sync::Arc<group_commit::Groups>,
    /// How webhooks are sent.
    pub webhooks: std::sync::Arc<webhook::Webhooks>,
    /// How many days raw usage events are kept (`None`: for ever).
    pub event_retention_days: Option<u32>,
}

/// Turns an access decision into an error: hidden things look like missing ones.
pub(crate) fn require(access: Access, what: &str, action: &str) -> AppResult<()> {
    match access {
        Access::Allowed => Ok(()),
        Access::Forbidden => Err(AppError::forbidden(action)),
        Access::Hidden => Err(AppError::not_found(what)),
    }
}

/// An organization's time zone; stored zones were checked when the organization was made.
pub(crate) fn zone_of(organization: &entity::organization::Model) -> AppResult<Tz> {
    organization.time_zone.parse::<Tz>().map_err(|_| {
        AppError::Internal(anyhow::anyhow!(
            "stored time zone '{}' is unknown",
            organization.time_zone
        ))
    })
}

/// The state of a stored tenant.
pub fn state_of(tenant: &entity::tenant::Model) -> AppResult<TenantState> {
    tenant
        .state
        .parse()
        .map_err(|e: String| AppError::Internal(anyhow::anyhow!(e)))
}

/// Checks a display name: trimmed, 1 to 200 characters.
pub(crate) fn clean_name(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad_input(format!("{field} must have 1 to 200 characters")));
    }
    Ok(name.to_owned())
}
