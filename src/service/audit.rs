//! The audit log (docs/design.md §8): each use case that changes something records who, what,
//! when, and the object before and after, in its own transaction, so a refused or failed
//! change leaves no entry and a made one always has its entry.

use sea_orm::ConnectionTrait;
use serde_json::Value;
use uuid::Uuid;

use super::{AppContext, organization, require};
use crate::domain::{access::Actor, ids::OrganizationId};
use crate::error::AppResult;
use crate::store::{self, Page, PageRequest};
use entity::audit_entry::Model;

/// One change to record.
pub struct Change<'a> {
    pub organization: Option<Uuid>,
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> Change<'a> {
    /// `action` on the `kind` object `id` (none for a batch), in `organization` (none for
    /// the operator's own objects).
    pub fn of(organization: Option<Uuid>, action: &'a str, kind: &'a str, id: Option<Uuid>) -> Change<'a> {
        Change {
            organization,
            action,
            target_kind: kind,
            target_id: id,
            before: None,
            after: None,
        }
    }

    /// The object before the change.
    pub fn before(self, before: Value) -> Change<'a> {
        Change {
            before: Some(before),
            ..self
        }
    }

    /// The object after the change.
    pub fn after(self, after: Value) -> Change<'a> {
        Change {
            after: Some(after),
            ..self
        }
    }
}

pub async fn record(db: &impl ConnectionTrait, ctx: &AppContext, actor: &Actor, change: Change<'_>) -> AppResult<()> {
    store::audit::insert(db, entry(ctx, actor, change)).await?;
    Ok(())
}

/// The entry that records a change, for a caller that writes several at once.
pub fn entry(ctx: &AppContext, actor: &Actor, change: Change<'_>) -> Model {
    let text = |v: Option<Value>| v.map(|v| v.to_string());
    Model {
        id: Uuid::now_v7(),
        organization_id: change.organization,
        key_id: actor.key_id.0,
        role: actor.role.as_str().to_owned(),
        action: change.action.to_owned(),
        target_kind: change.target_kind.to_owned(),
        target_id: change.target_id,
        before: text(change.before),
        after: text(change.after),
        at: ctx.clock.now(),
    }
}

/// A page of an organization's audit log, oldest first, for OWNER, ADMIN and SYSTEM keys.
pub async fn list(
    ctx: &AppContext,
    actor: &Actor,
    organization_id: OrganizationId,
    page: PageRequest,
) -> AppResult<Page<Model>> {
    require(actor.administer(organization_id), "organization", "read the audit log")?;
    organization::visible(ctx, actor, organization_id).await?;
    Ok(store::audit::list(&ctx.db, organization_id.0, page).await?)
}
