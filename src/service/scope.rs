//! What a caller was found to see. A use case that reads an organization's data takes an
//! [`OrgScope`] (or a row in a [`Seen`], which carries one), and the only way to make one
//! is [`OrgScope::check`], which asks `domain::access` first. So no read can run for an
//! organization the caller does not see, and a key limited to one tenant reads that
//! tenant's rows only: the store filters by the [`store::Scope`] made here.

use std::ops::Deref;

use uuid::Uuid;

use crate::domain::{
    access::Actor,
    ids::{OrganizationId, TenantId},
};
use crate::store;

/// One organization as one caller may read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrgScope {
    actor: Actor,
    organization: OrganizationId,
}

impl OrgScope {
    /// The caller's scope in an organization; `None` when it may not see it.
    pub(super) fn check(actor: &Actor, organization: OrganizationId) -> Option<OrgScope> {
        actor.can_see_organization(organization).then_some(OrgScope {
            actor: *actor,
            organization,
        })
    }

    /// The caller.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn organization_id(&self) -> OrganizationId {
        self.organization
    }

    /// Whether the caller may see this tenant of the organization.
    pub fn sees_tenant(&self, tenant: TenantId) -> bool {
        self.actor.can_see_tenant(self.organization, tenant)
    }

    /// The one tenant a key limited to a tenant sees; `None` when the caller sees them all.
    pub fn only_tenant(&self) -> Option<Uuid> {
        if self.actor.sees_whole_organization() {
            None
        } else {
            // A limited key without a tenant sees none: the nil id matches no row.
            Some(self.actor.tenant_id.map_or(Uuid::nil(), |t| t.0))
        }
    }

    /// A row read through this scope.
    pub(super) fn seen<T>(&self, row: T) -> Seen<T> {
        Seen::new(*self, row)
    }

    /// Rows read through this scope.
    pub(super) fn seen_all<T>(&self, rows: Vec<T>) -> Vec<Seen<T>> {
        rows.into_iter().map(|row| self.seen(row)).collect()
    }

    /// The rows the caller may read.
    pub(super) fn rows(&self) -> store::Scope {
        self.rows_of(None)
    }

    /// The rows of one tenant (or all of them), as far as the caller may read them: a
    /// limited key asking for another tenant reads nothing.
    pub(super) fn rows_of(&self, tenant: Option<Uuid>) -> store::Scope {
        let organization = self.organization.0;
        match (self.only_tenant(), tenant) {
            (Some(own), Some(asked)) if own != asked => store::Scope::tenant(organization, Uuid::nil()),
            (Some(own), _) | (None, Some(own)) => store::Scope::tenant(organization, own),
            (None, None) => store::Scope::organization(organization),
        }
    }
}

/// A row of an organization, read for a caller who may see it, with the caller's scope.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen<T> {
    scope: OrgScope,
    row: T,
}

impl<T> Seen<T> {
    /// A row read through `scope`, or found visible to its caller.
    pub(super) fn new(scope: OrgScope, row: T) -> Seen<T> {
        Seen { scope, row }
    }

    pub fn scope(&self) -> &OrgScope {
        &self.scope
    }

    pub fn into_row(self) -> T {
        self.row
    }
}

impl<T> Deref for Seen<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{access::Role, ids::ApiKeyId};

    fn actor(role: Role, organization: OrganizationId, tenant: Option<TenantId>) -> Actor {
        Actor {
            key_id: ApiKeyId(Uuid::nil()),
            role,
            organization_id: Some(organization),
            tenant_id: tenant,
        }
    }

    #[test]
    fn a_scope_is_made_only_for_an_organization_the_caller_sees() {
        let (org, other) = (OrganizationId::new(), OrganizationId::new());
        let viewer = actor(Role::Viewer, org, None);
        assert!(OrgScope::check(&viewer, org).is_some());
        assert!(OrgScope::check(&viewer, other).is_none());
        assert!(OrgScope::check(&actor(Role::Ingest, org, None), org).is_none());
    }

    #[test]
    fn a_tenant_limited_key_reads_its_tenant_only() {
        let org = OrganizationId::new();
        let (mine, theirs) = (TenantId::new(), TenantId::new());
        let scope = OrgScope::check(&actor(Role::TenantAdmin, org, Some(mine)), org).expect("sees its organization");
        assert_eq!(scope.rows(), store::Scope::tenant(org.0, mine.0));
        assert_eq!(scope.rows_of(Some(mine.0)), store::Scope::tenant(org.0, mine.0));
        assert_eq!(scope.rows_of(Some(theirs.0)), store::Scope::tenant(org.0, Uuid::nil()));
        let owner = OrgScope::check(&actor(Role::Owner, org, None), org).expect("sees its organization");
        assert_eq!(owner.rows(), store::Scope::organization(org.0));
        assert_eq!(owner.rows_of(Some(theirs.0)), store::Scope::tenant(org.0, theirs.0));
    }
}
