//! Who may do what (docs/design.md §8). Every resolver asks one of these questions through
//! the caller's [`Actor`]; a caller that may not *see* a thing is told it does not exist,
//! a caller that may see it but not change it is told it is forbidden.
//!
//! | role | reads | changes |
//! |---|---|---|
//! | SYSTEM | everything | everything; alone creates organizations, unit types and licenses, upgrades and tops up licenses |
//! | OWNER, ADMIN | its organization | its organization but its licenses, its API keys (ADMIN cannot make OWNER keys) |
//! | BILLING_MANAGER | its organization | tenants, allocations, folders, processes |
//! | VIEWER | its organization | nothing |
//! | TENANT_ADMIN | its own tenant only | nothing |
//! | INGEST | nothing | records and voids usage, starts executions (in its tenant, when it has one) |

use std::fmt;

use super::ids::{ApiKeyId, OrganizationId, TenantId};

/// A caller's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    System,
    Owner,
    Admin,
    BillingManager,
    Viewer,
    TenantAdmin,
    Ingest,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::System,
        Role::Owner,
        Role::Admin,
        Role::BillingManager,
        Role::Viewer,
        Role::TenantAdmin,
        Role::Ingest,
    ];

    /// The stored spelling, as in the GraphQL enum.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::System => "SYSTEM",
            Role::Owner => "OWNER",
            Role::Admin => "ADMIN",
            Role::BillingManager => "BILLING_MANAGER",
            Role::Viewer => "VIEWER",
            Role::TenantAdmin => "TENANT_ADMIN",
            Role::Ingest => "INGEST",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role '{s}'"))
    }
}

/// The authenticated caller: an API key's role and scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub key_id: ApiKeyId,
    pub role: Role,
    /// None only for SYSTEM.
    pub organization_id: Option<OrganizationId>,
    /// Set for TENANT_ADMIN, and for an INGEST key limited to one tenant.
    pub tenant_id: Option<TenantId>,
}

/// The answer to "may this caller do that?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Allowed,
    /// It may see the thing, not change it.
    Forbidden,
    /// It may not even know the thing exists.
    Hidden,
}

/// How a key's role and scope must fit together, checked when a key is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyScopeError {
    #[error("a SYSTEM key has no organization or tenant")]
    SystemScoped,
    #[error("a {0} key needs an organization")]
    MissingOrganization(Role),
    #[error("a TENANT_ADMIN key needs a tenant")]
    MissingTenant,
    #[error("only TENANT_ADMIN and INGEST keys can be limited to a tenant")]
    TenantNotAllowed,
}

/// Checks that a role and scope make a valid key.
pub fn check_key_scope(role: Role, organization: bool, tenant: bool) -> Result<(), KeyScopeError> {
    match role {
        Role::System if organization || tenant => Err(KeyScopeError::SystemScoped),
        Role::System => Ok(()),
        _ if !organization => Err(KeyScopeError::MissingOrganization(role)),
        Role::TenantAdmin if !tenant => Err(KeyScopeError::MissingTenant),
        Role::TenantAdmin | Role::Ingest => Ok(()),
        _ if tenant => Err(KeyScopeError::TenantNotAllowed),
        _ => Ok(()),
    }
}

impl Actor {
    fn in_organization(&self, organization: OrganizationId) -> bool {
        self.role == Role::System || self.organization_id == Some(organization)
    }

    /// Whether the caller sees the organization's own fields (name, licenses, tenants list).
    pub fn can_see_organization(&self, organization: OrganizationId) -> bool {
        self.in_organization(organization) && self.role != Role::Ingest
    }

    /// Whether the caller sees organization-wide figures and lists beyond its tenant.
    pub fn sees_whole_organization(&self) -> bool {
        !matches!(self.role, Role::TenantAdmin | Role::Ingest)
    }

    /// Whether the caller sees a tenant and what belongs to it.
    pub fn can_see_tenant(&self, organization: OrganizationId, tenant: TenantId) -> bool {
        if !self.can_see_organization(organization) {
            return false;
        }
        self.role != Role::TenantAdmin || self.tenant_id == Some(tenant)
    }

    /// Managing an organization's tenants, allocations, folders and processes.
    pub fn manage_organization(&self, organization: OrganizationId) -> Access {
        if !self.can_see_organization(organization) {
            return Access::Hidden;
        }
        match self.role {
            Role::System | Role::Owner | Role::Admin | Role::BillingManager => Access::Allowed,
            _ => Access::Forbidden,
        }
    }

    /// Managing something of one tenant: hidden when the tenant is not visible.
    pub fn manage_tenant(&self, organization: OrganizationId, tenant: TenantId) -> Access {
        if !self.can_see_tenant(organization, tenant) {
            return Access::Hidden;
        }
        self.manage_organization(organization)
    }

    /// Recording usage or asking for admission for a tenant.
    pub fn ingest(&self, organization: OrganizationId, tenant: TenantId) -> Access {
        if !self.in_organization(organization) {
            return Access::Hidden;
        }
        match self.role {
            Role::System | Role::Owner | Role::Admin => Access::Allowed,
            Role::Ingest if self.tenant_id.is_none_or(|t| t == tenant) => Access::Allowed,
            Role::Ingest => Access::Hidden,
            _ if self.can_see_tenant(organization, tenant) => Access::Forbidden,
            _ => Access::Hidden,
        }
    }

    /// Voiding recorded usage of an organization: the roles that record usage. A key
    /// limited to a tenant voids that tenant's events only: [`Actor::ingest`] decides for
    /// each event's tenant.
    pub fn void_usage(&self, organization: OrganizationId) -> Access {
        if !self.in_organization(organization) {
            return Access::Hidden;
        }
        match self.role {
            Role::System | Role::Owner | Role::Admin | Role::Ingest => Access::Allowed,
            _ => Access::Forbidden,
        }
    }

    /// Creating or revoking a key of `role` in `organization` (None: a SYSTEM key).
    pub fn manage_keys(&self, organization: Option<OrganizationId>, role: Role) -> Access {
        match (self.role, organization) {
            (Role::System, _) => Access::Allowed,
            (_, None) => Access::Forbidden,
            (_, Some(org)) if !self.can_see_organization(org) => Access::Hidden,
            (Role::Owner, _) => Access::Allowed,
            (Role::Admin, _) if role != Role::Owner => Access::Allowed,
            _ => Access::Forbidden,
        }
    }

    /// Administering an organization (reading its audit log, setting its alert thresholds):
    /// its OWNER and ADMIN keys, and the operator.
    pub fn administer(&self, organization: OrganizationId) -> Access {
        if !self.can_see_organization(organization) {
            return Access::Hidden;
        }
        match self.role {
            Role::System | Role::Owner | Role::Admin => Access::Allowed,
            _ => Access::Forbidden,
        }
    }

    /// Operator-only actions: creating organizations and unit types, selling licenses.
    pub fn operate(&self) -> Access {
        if self.role == Role::System {
            Access::Allowed
        } else {
            Access::Forbidden
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn actor(role: Role, org: Option<OrganizationId>, tenant: Option<TenantId>) -> Actor {
        Actor {
            key_id: ApiKeyId(Uuid::nil()),
            role,
            organization_id: org,
            tenant_id: tenant,
        }
    }

    #[test]
    fn scopes_by_role() {
        let (org, other) = (OrganizationId::new(), OrganizationId::new());
        let (t1, t2) = (TenantId::new(), TenantId::new());
        let cases = [
            // role, tenant scope, sees org, sees t1, sees t2, manage, ingest t2
            (Role::System, None, true, true, true, Access::Allowed, Access::Allowed),
            (Role::Owner, None, true, true, true, Access::Allowed, Access::Allowed),
            (Role::Admin, None, true, true, true, Access::Allowed, Access::Allowed),
            (
                Role::BillingManager,
                None,
                true,
                true,
                true,
                Access::Allowed,
                Access::Forbidden,
            ),
            (
                Role::Viewer,
                None,
                true,
                true,
                true,
                Access::Forbidden,
                Access::Forbidden,
            ),
            (
                Role::TenantAdmin,
                Some(t1),
                true,
                true,
                false,
                Access::Forbidden,
                Access::Hidden,
            ),
            (
                Role::Ingest,
                Some(t1),
                false,
                false,
                false,
                Access::Hidden,
                Access::Hidden,
            ),
            (Role::Ingest, None, false, false, false, Access::Hidden, Access::Allowed),
        ];
        for (role, tenant, org_seen, t1_seen, t2_seen, manage, ingest) in cases {
            let org_scope = (role != Role::System).then_some(org);
            let a = actor(role, org_scope, tenant);
            assert_eq!(a.can_see_organization(org), org_seen, "{role}");
            assert_eq!(a.can_see_tenant(org, t1), t1_seen, "{role}");
            assert_eq!(a.can_see_tenant(org, t2), t2_seen, "{role}");
            assert_eq!(a.manage_organization(org), manage, "{role}");
            assert_eq!(a.ingest(org, t2), ingest, "{role}");
            if role != Role::System {
                assert!(!a.can_see_organization(other), "{role} sees another organization");
                assert_eq!(a.manage_organization(other), Access::Hidden, "{role}");
            }
        }
    }

    #[test]
    fn void_usage_by_role() {
        let (org, other, t1) = (OrganizationId::new(), OrganizationId::new(), TenantId::new());
        let cases = [
            (Role::System, None, Access::Allowed),
            (Role::Owner, None, Access::Allowed),
            (Role::Admin, None, Access::Allowed),
            (Role::BillingManager, None, Access::Forbidden),
            (Role::Viewer, None, Access::Forbidden),
            (Role::TenantAdmin, Some(t1), Access::Forbidden),
            (Role::Ingest, None, Access::Allowed),
            (Role::Ingest, Some(t1), Access::Allowed),
        ];
        for (role, tenant, expected) in cases {
            let a = actor(role, (role != Role::System).then_some(org), tenant);
            assert_eq!(a.void_usage(org), expected, "{role}");
            if role != Role::System {
                assert_eq!(a.void_usage(other), Access::Hidden, "{role}");
            }
        }
    }

    #[test]
    fn key_rules() {
        let org = OrganizationId::new();
        let admin = actor(Role::Admin, Some(org), None);
        assert_eq!(admin.manage_keys(Some(org), Role::Viewer), Access::Allowed);
        assert_eq!(admin.manage_keys(Some(org), Role::Owner), Access::Forbidden);
        assert_eq!(admin.manage_keys(None, Role::System), Access::Forbidden);
        assert_eq!(
            admin.manage_keys(Some(OrganizationId::new()), Role::Viewer),
            Access::Hidden
        );
        assert!(check_key_scope(Role::System, false, false).is_ok());
        assert!(check_key_scope(Role::System, true, false).is_err());
        assert!(check_key_scope(Role::TenantAdmin, true, false).is_err());
        assert!(check_key_scope(Role::Viewer, true, true).is_err());
        assert!(check_key_scope(Role::Ingest, true, true).is_ok());
        assert!(check_key_scope(Role::Owner, false, false).is_err());
    }
}
