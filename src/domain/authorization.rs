//! The authorization matrix (docs/design.md §8) as data: for every field of the GraphQL schema
//! and every export route, which roles may use it. One check reads it: the GraphQL
//! `Authorize` extension before each field runs, and the export handler before each report.
//!
//! The scope is the same for every entry: the caller's own organization, and, for a key
//! limited to a tenant, that tenant alone. The use cases apply it when they look things up,
//! so something out of scope reads exactly as something that does not exist (null or
//! NOT_FOUND), while a role the matrix leaves out is told FORBIDDEN whatever it asked for.
//!
//! Fields of an object are listed with the rule that holds once the caller has reached the
//! object: most are `Everyone`, because the path to the object was already checked.

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
    /// Licenses, tenants, allocations, folders, processes and controls.
    Managers,
    /// API keys and the audit log.
    Administrators,
    /// Recording usage and asking for admission.
    Ingesters,
    /// The operator: organizations and unit types.
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

/// Every field of the schema: (type or interface, fields, rule).
pub const FIELDS: &[(&str, &[&str], Rule)] = &[
    ("Query", &["viewer", "unitTypes"], Rule::Everyone),
    ("Query", &["node", "organization", "organizations"], Rule::Readers),
    ("Mutation", &["createOrganization", "createUnitType"], Rule::Operator),
    ("Mutation", &["createApiKey", "revokeApiKey"], Rule::Administrators),
    (
        "Mutation",
        &[
            "createLicense",
            "upgradeLicense",
            "createTenant",
            "updateTenant",
            "setAllocation",
            "createFolder",
            "createProcess",
            "setConsumptionControl",
        ],
        Rule::Managers,
    ),
    ("Mutation", &["recordUsage", "startExecution"], Rule::Ingesters),
    ("Subscription", &["quotaEvents", "usage"], Rule::Readers),
    ("Viewer", &["role", "organization", "tenant", "apiKey"], Rule::Everyone),
    ("Node", &["id"], Rule::Everyone),
    (
        "Organization",
        &[
            "id", "name", "slug", "timeZone", "licenses", "bundles", "usage", "activity", "tenants",
        ],
        Rule::Readers,
    ),
    ("Organization", &["quota"], Rule::WholeOrganization),
    ("Organization", &["auditLog"], Rule::Administrators),
    (
        "OrganizationUsage",
        &["unitType", "bundle", "from", "to", "tenants", "tenant"],
        Rule::Everyone,
    ),
    (
        "OrganizationUsage",
        &[
            "totalCapacity",
            "consumed",
            "consumedFromAllocated",
            "consumedFromOrganization",
            "remaining",
            "allocated",
            "availableForAllocation",
            "overage",
            "overAllocation",
            "capacityCard",
            "breakdown",
            "status",
            "distribution",
            "byService",
            "folders",
            "processes",
        ],
        Rule::WholeOrganization,
    ),
    (
        "TenantUsage",
        &[
            "tenant",
            "displayName",
            "allocated",
            "consumed",
            "consumedFromAllocated",
            "consumedFromOrganization",
            "consumptionRate",
            "remaining",
            "overage",
            "availableForAllocation",
            "status",
            "distribution",
            "byService",
            "folders",
            "processes",
        ],
        Rule::Everyone,
    ),
    ("CapacityCard", &["mode", "value"], Rule::Everyone),
    (
        "CapacityBreakdown",
        &["consumedFromAllocated", "consumedFromOrganization", "remaining"],
        Rule::Everyone,
    ),
    ("UsageBucket", &["start", "end", "consumed"], Rule::Everyone),
    ("ServiceBreakdown", &["total", "services"], Rule::Everyone),
    ("ServiceUsage", &["service", "consumed", "percent"], Rule::Everyone),
    ("Service", &["code", "name"], Rule::Everyone),
    (
        "FolderUsage",
        &["folder", "consumed", "children", "processes"],
        Rule::Everyone,
    ),
    (
        "ProcessUsage",
        &["process", "own", "consumed", "children"],
        Rule::Everyone,
    ),
    (
        "ProcessUsageConnection",
        &["pageInfo", "edges", "nodes"],
        Rule::Everyone,
    ),
    ("ProcessUsageEdge", &["node", "cursor"], Rule::Everyone),
    (
        "QuotaBalance",
        &[
            "unitType",
            "used",
            "quota",
            "limit",
            "remaining",
            "burstActive",
            "enforced",
            "periodStart",
            "periodEnd",
            "resetsOn",
        ],
        Rule::Everyone,
    ),
    ("Activity", &["weeks", "precedingWeek"], Rule::Everyone),
    (
        "WeeklyActivity",
        &["weekStart", "executions", "uploads", "durationSeconds"],
        Rule::Everyone,
    ),
    (
        "AuditEntry",
        &[
            "id",
            "at",
            "action",
            "apiKeyId",
            "role",
            "targetKind",
            "targetId",
            "before",
            "after",
        ],
        Rule::Everyone,
    ),
    ("AuditEntryConnection", &["pageInfo", "edges", "nodes"], Rule::Everyone),
    ("AuditEntryEdge", &["node", "cursor"], Rule::Everyone),
    (
        "License",
        &[
            "id",
            "organization",
            "unitType",
            "planName",
            "capacity",
            "period",
            "startsOn",
            "endsOn",
            "burstPercent",
            "burstPeriods",
            "enforced",
            "replaces",
        ],
        Rule::Everyone,
    ),
    (
        "Bundle",
        &[
            "unitType",
            "startDate",
            "endDate",
            "capacity",
            "limit",
            "burstActive",
            "current",
            "license",
        ],
        Rule::Everyone,
    ),
    (
        "Tenant",
        &[
            "id",
            "organization",
            "name",
            "state",
            "createdAt",
            "allocation",
            "folders",
        ],
        Rule::Everyone,
    ),
    (
        "Allocation",
        &["tenant", "unitType", "amount", "effectiveOn"],
        Rule::Everyone,
    ),
    (
        "ConsumptionControl",
        &["tenant", "unitType", "stopAtAllocation", "alertThresholds"],
        Rule::Everyone,
    ),
    (
        "Folder",
        &["id", "name", "tenant", "parent", "children", "processes"],
        Rule::Everyone,
    ),
    ("Process", &["id", "name", "folder", "tenant"], Rule::Everyone),
    ("UnitType", &["id", "code", "name"], Rule::Everyone),
    (
        "ApiKey",
        &[
            "id",
            "name",
            "role",
            "organization",
            "tenant",
            "createdAt",
            "revokedAt",
            "lastUsedAt",
        ],
        Rule::Everyone,
    ),
    (
        "QuotaEvent",
        &[
            "kind",
            "at",
            "organizationId",
            "tenantId",
            "unitType",
            "threshold",
            "previousStatus",
            "status",
            "consumed",
            "remaining",
        ],
        Rule::Everyone,
    ),
    (
        "OrganizationConnection",
        &["pageInfo", "edges", "nodes"],
        Rule::Everyone,
    ),
    ("OrganizationEdge", &["node", "cursor"], Rule::Everyone),
    ("TenantConnection", &["pageInfo", "edges", "nodes"], Rule::Everyone),
    ("TenantEdge", &["node", "cursor"], Rule::Everyone),
    ("FolderConnection", &["pageInfo", "edges", "nodes"], Rule::Everyone),
    ("FolderEdge", &["node", "cursor"], Rule::Everyone),
    ("ProcessConnection", &["pageInfo", "edges", "nodes"], Rule::Everyone),
    ("ProcessEdge", &["node", "cursor"], Rule::Everyone),
    (
        "PageInfo",
        &["hasPreviousPage", "hasNextPage", "startCursor", "endCursor"],
        Rule::Everyone,
    ),
    ("OrganizationPayload", &["organization"], Rule::Everyone),
    ("UnitTypePayload", &["unitType"], Rule::Everyone),
    ("CreateApiKeyPayload", &["apiKey", "secret"], Rule::Everyone),
    ("RevokeApiKeyPayload", &["apiKey"], Rule::Everyone),
    ("LicensePayload", &["license"], Rule::Everyone),
    ("TenantPayload", &["tenant"], Rule::Everyone),
    ("AllocationPayload", &["allocation"], Rule::Everyone),
    ("FolderPayload", &["folder"], Rule::Everyone),
    ("ProcessPayload", &["process"], Rule::Everyone),
    ("RecordUsagePayload", &["accepted", "duplicates"], Rule::Everyone),
    ("StartExecutionPayload", &["granted", "quota"], Rule::Everyone),
    ("ConsumptionControlPayload", &["consumptionControl"], Rule::Everyone),
];

/// Every export route (`GET /export/{report}.csv`), by report.
pub const EXPORTS: &[(&str, Rule)] = &[
    ("tenants", Rule::Readers),
    ("distribution", Rule::Readers),
    ("services", Rule::Readers),
    ("folders", Rule::Readers),
    ("processes", Rule::Readers),
    ("events", Rule::Readers),
    ("audit", Rule::Administrators),
];

/// The rule of a field, if the matrix has one.
pub fn field_rule(type_name: &str, field: &str) -> Option<Rule> {
    // Every resolved field asks (a dashboard answer has over a thousand): a hash lookup
    // instead of a scan of the whole matrix.
    static BY_FIELD: LazyLock<HashMap<(&str, &str), Rule>> = LazyLock::new(|| {
        FIELDS
            .iter()
            .flat_map(|(t, fields, rule)| fields.iter().map(move |f| ((*t, *f), *rule)))
            .collect()
    });
    BY_FIELD.get(&(type_name, field)).copied()
}

/// The rule of an export report, if the matrix has one.
pub fn export_rule(report: &str) -> Option<Rule> {
    EXPORTS.iter().find(|(r, _)| *r == report).map(|(_, rule)| *rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_one_rule() {
        let mut seen = std::collections::HashSet::new();
        for (type_name, fields, _) in FIELDS {
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
        assert_eq!(field_rule("Organization", "nothing"), None);
        assert_eq!(export_rule("audit"), Some(Rule::Administrators));
    }
}
