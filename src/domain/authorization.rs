//! The authorization matrix (docs/design.md §8) as data: for every field of the GraphQL schema
//! and every export route, which roles may use it. One check reads it: the GraphQL
//! `Authorize` extension before each field runs, and the export handler before each report.
//!
//! The scope is the same for every entry: the caller's own organization, and, for a key
//! limited to a tenant, that tenant alone. The use cases apply it when they look things up,
//! so something out of scope reads exactly as something that does not exist (null or
//! NOT_FOUND), while a role the matrix leaves out is told FORBIDDEN whatever it asked for.
//!
//! Each object type has a default rule ([`TYPES`]), the one that holds once the caller has
//! reached an object of the type: most are `Everyone`, because the path to the object was
//! already checked. A field whose rule differs is an exception ([`FIELDS`]), so a new field
//! of a listed type needs no entry unless it differs. The root types (`Query`, `Mutation`,
//! `Subscription`) have no default: each root field is an entry point and is closed until
//! [`FIELDS`] gives it a rule, as is every field of a type [`TYPES`] does not list.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::access::Role;

/// Who may use an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Every role (within its scope).
    Everyone,
    /// Every role that reads: all but INGEST.
    Readers,
    /// Organization-wide figures: readers of the whole organization (not TENANT_ADMIN).
    WholeOrganization,
    /// Tenants, allocations, folders, processes and controls.
    Managers,
    /// API keys and the audit log.
    Administrators,
    /// Recording usage and asking for admission.
    Ingesters,
    /// The operator: organizations, unit types and licenses.
    Operator,
}

impl Rule {
    /// The roles this rule lets in.
    pub const fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Rule::Everyone => &[System, Owner, Admin, BillingManager, Viewer, TenantAdmin, Ingest],
            Rule::Readers => &[System, Owner, Admin, BillingManager, Viewer, TenantAdmin],
            Rule::WholeOrganization => &[System, Owner, Admin, BillingManager, Viewer],
            Rule::Managers => &[System, Owner, Admin, BillingManager],
            Rule::Administrators => &[System, Owner, Admin],
            Rule::Ingesters => &[System, Owner, Admin, Ingest],
            Rule::Operator => &[System],
        }
    }

    pub fn admits(self, role: Role) -> bool {
        self.roles().contains(&role)
    }
}

/// The default rule of each type's fields (object types and the `Node` interface).
pub const TYPES: &[(&str, Rule)] = &[
    ("Viewer", Rule::Everyone),
    ("Node", Rule::Everyone),
    ("Organization", Rule::Readers),
    // Organization-wide figures: a TENANT_ADMIN reaches its own card through `tenant(s)`.
    ("OrganizationUsage", Rule::WholeOrganization),
    ("TenantUsage", Rule::Everyone),
    ("CapacityCard", Rule::Everyone),
    ("CapacityBreakdown", Rule::Everyone),
    ("UsageBucket", Rule::Everyone),
    ("ServiceBreakdown", Rule::Everyone),
    ("ServiceUsage", Rule::Everyone),
    ("Service", Rule::Everyone),
    ("FolderUsage", Rule::Everyone),
    ("ProcessUsage", Rule::Everyone),
    ("ProcessUsageConnection", Rule::Everyone),
    ("ProcessUsageEdge", Rule::Everyone),
    ("QuotaBalance", Rule::Everyone),
    ("Activity", Rule::Everyone),
    ("WeeklyActivity", Rule::Everyone),
    ("AuditEntry", Rule::Everyone),
    ("AuditEntryConnection", Rule::Everyone),
    ("AuditEntryEdge", Rule::Everyone),
    ("License", Rule::Everyone),
    ("Bundle", Rule::Everyone),
    ("Tenant", Rule::Everyone),
    ("Allocation", Rule::Everyone),
    ("ConsumptionControl", Rule::Everyone),
    ("Folder", Rule::Everyone),
    ("Process", Rule::Everyone),
    ("UnitType", Rule::Everyone),
    ("ApiKey", Rule::Everyone),
    ("QuotaEvent", Rule::Everyone),
    ("QuotaEventConnection", Rule::Everyone),
    ("QuotaEventEdge", Rule::Everyone),
    ("OrganizationConnection", Rule::Everyone),
    ("OrganizationEdge", Rule::Everyone),
    ("TenantConnection", Rule::Everyone),
    ("TenantEdge", Rule::Everyone),
    ("FolderConnection", Rule::Everyone),
    ("FolderEdge", Rule::Everyone),
    ("ProcessConnection", Rule::Everyone),
    ("ProcessEdge", Rule::Everyone),
    ("PageInfo", Rule::Everyone),
    ("OrganizationPayload", Rule::Everyone),
    ("UnitTypePayload", Rule::Everyone),
    ("CreateApiKeyPayload", Rule::Everyone),
    ("RevokeApiKeyPayload", Rule::Everyone),
    ("LicensePayload", Rule::Everyone),
    ("TenantPayload", Rule::Everyone),
    ("AllocationPayload", Rule::Everyone),
    ("FolderPayload", Rule::Everyone),
    ("ProcessPayload", Rule::Everyone),
    ("RecordUsagePayload", Rule::Everyone),
    ("VoidUsagePayload", Rule::Everyone),
    ("StartExecutionPayload", Rule::Everyone),
    ("FinishExecutionPayload", Rule::Everyone),
    ("ConsumptionControlPayload", Rule::Everyone),
    ("ServicePayload", Rule::Everyone),
    ("WebhookEndpoint", Rule::Everyone),
    ("WebhookDelivery", Rule::Everyone),
    ("WebhookDeliveryConnection", Rule::Everyone),
    ("WebhookDeliveryEdge", Rule::Everyone),
    ("CreateWebhookEndpointPayload", Rule::Everyone),
    ("DeleteWebhookEndpointPayload", Rule::Everyone),
    ("WebhookDeliveryPayload", Rule::Everyone),
    ("ExportLink", Rule::Everyone),
    ("Forecast", Rule::Everyone),
    ("SetAllocationsPayload", Rule::Everyone),
];

/// Fields with a rule of their own: (type, fields, rule). The root types' fields, and the
/// exceptions to a type's default in [`TYPES`].
pub const FIELDS: &[(&str, &[&str], Rule)] = &[
    ("Query", &["viewer", "unitTypes", "services"], Rule::Everyone),
    ("Query", &["node", "organization", "organizations"], Rule::Readers),
    (
        "Mutation",
        &[
            "createOrganization",
            "createUnitType",
            "updateService",
            // Licenses are the vendor's: nobody in an organization grants it capacity.
            "createLicense",
            "upgradeLicense",
            "addCapacity",
        ],
        Rule::Operator,
    ),
    (
        "Mutation",
        &[
            "createApiKey",
            "revokeApiKey",
            "setOrganizationAlertThresholds",
            "createWebhookEndpoint",
            "deleteWebhookEndpoint",
            "retryWebhookDelivery",
        ],
        Rule::Administrators,
    ),
    (
        "Mutation",
        &[
            "createTenant",
            "updateTenant",
            "setAllocation",
            "setAllocations",
            "previewAllocations",
            "createFolder",
            "createProcess",
            "setConsumptionControl",
        ],
        Rule::Managers,
    ),
    (
        "Mutation",
        &["recordUsage", "startExecution", "finishExecution", "voidUsage"],
        Rule::Ingesters,
    ),
    // Every role that may export something; the report's own rule is checked by the field.
    ("Mutation", &["createExportLink"], Rule::Readers),
    ("Subscription", &["quotaEvents", "usage"], Rule::Readers),
    ("Organization", &["quota"], Rule::WholeOrganization),
    ("Organization", &["auditLog", "webhookEndpoints"], Rule::Administrators),
    // What a usage answer is about, and the way to the cards (and a folder of its own
    // tenant) a TENANT_ADMIN may read.
    (
        "OrganizationUsage",
        &["unitType", "bundle", "from", "to", "tenants", "tenant", "folder"],
        Rule::Everyone,
    ),
];

/// Every export route (`GET /export/{report}.csv`), by report.
pub const EXPORTS: &[(&str, Rule)] = &[
    ("tenants", Rule::Readers),
    ("distribution", Rule::Readers),
    ("services", Rule::Readers),
    ("folders", Rule::Readers),
    ("processes", Rule::Readers),
    ("events", Rule::Readers),
    ("activity", Rule::Readers),
    ("notifications", Rule::Readers),
    ("quota", Rule::WholeOrganization),
    ("summary", Rule::WholeOrganization),
    ("audit", Rule::Administrators),
];

/// The rule of a field: its own in [`FIELDS`], else its type's default in [`TYPES`]; none
/// for a type without a default. (Whether the type has such a field is the schema's
/// business: only fields of the schema are ever asked about.)
pub fn field_rule(type_name: &str, field: &str) -> Option<Rule> {
    // Every resolved field asks (a dashboard answer has over a thousand): hash lookups
    // instead of scans of the tables.
    static BY_FIELD: LazyLock<HashMap<(&str, &str), Rule>> = LazyLock::new(|| {
        FIELDS
            .iter()
            .flat_map(|(t, fields, rule)| fields.iter().map(move |f| ((*t, *f), *rule)))
            .collect()
    });
    static BY_TYPE: LazyLock<HashMap<&str, Rule>> = LazyLock::new(|| TYPES.iter().copied().collect());
    BY_FIELD
        .get(&(type_name, field))
        .or_else(|| BY_TYPE.get(type_name))
        .copied()
}

/// The rule of an export report, if the matrix has one.
pub fn export_rule(report: &str) -> Option<Rule> {
    EXPORTS.iter().find(|(r, _)| *r == report).map(|(_, rule)| *rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_and_field_is_listed_once_and_every_exception_differs() {
        let mut seen = std::collections::HashSet::new();
        for (type_name, _) in TYPES {
            assert!(seen.insert(*type_name), "{type_name} is listed twice");
        }
        let mut seen = std::collections::HashSet::new();
        for (type_name, fields, rule) in FIELDS {
            let default = TYPES.iter().find(|(t, _)| t == type_name).map(|(_, r)| *r);
            assert_ne!(
                default,
                Some(*rule),
                "{type_name}: {fields:?} repeat the type's default"
            );
            for field in *fields {
                assert!(seen.insert((*type_name, *field)), "{type_name}.{field} is listed twice");
            }
        }
    }

    #[test]
    fn rules_narrow_from_everyone_to_the_operator() {
        assert!(Rule::Everyone.admits(Role::Ingest));
        assert!(!Rule::Readers.admits(Role::Ingest));
        assert!(!Rule::WholeOrganization.admits(Role::TenantAdmin));
        assert!(!Rule::Managers.admits(Role::Viewer));
        assert!(!Rule::Administrators.admits(Role::BillingManager));
        assert!(Rule::Ingesters.admits(Role::Ingest) && !Rule::Ingesters.admits(Role::BillingManager));
        assert_eq!(Rule::Operator.roles(), &[Role::System]);
        assert_eq!(field_rule("Organization", "auditLog"), Some(Rule::Administrators));
        assert_eq!(field_rule("Organization", "name"), Some(Rule::Readers));
        assert_eq!(field_rule("OrganizationUsage", "tenants"), Some(Rule::Everyone));
        assert_eq!(
            field_rule("OrganizationUsage", "consumed"),
            Some(Rule::WholeOrganization)
        );
        // No default for the root types, nor for a type not listed.
        assert_eq!(field_rule("Mutation", "dropEverything"), None);
        assert_eq!(field_rule("Secret", "value"), None);
        assert_eq!(export_rule("audit"), Some(Rule::Administrators));
    }
}
