//! `schema.graphql` is what the code generates, the contract's names are in it, and the
//! domain stays free of I/O crates.

const SCHEMA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");

#[test]
fn schema_file_is_the_generated_sdl() {
    let generated = quotagraph::graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(SCHEMA_FILE, &generated).expect("write schema.graphql");
    }
    let stored = std::fs::read_to_string(SCHEMA_FILE).expect("schema.graphql at the repository root");
    assert!(
        stored == generated,
        "schema.graphql is stale: run `UPDATE_SCHEMA=1 cargo test --test api schema` and commit it"
    );
}

#[test]
fn print_schema_prints_the_stored_sdl() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_quotagraph"))
        .arg("print-schema")
        .output()
        .expect("run quotagraph print-schema");
    assert!(output.status.success());
    let stored = std::fs::read_to_string(SCHEMA_FILE).expect("schema.graphql");
    assert_eq!(String::from_utf8_lossy(&output.stdout), stored);
}

#[test]
fn contract_names_are_in_the_schema() {
    let sdl = quotagraph::graphql::sdl();
    let names = [
        "scalar Date",
        "scalar DateTime",
        "scalar Decimal",
        "enum Period",
        "enum TenantState",
        "enum Role",
        "enum UsageKind",
        "node(id: ID!): Node",
        "viewer: Viewer!",
        "organization(id: ID!): Organization",
        "organizations(first: Int, after: String): OrganizationConnection!",
        "licenses(unitType: String): [License!]!",
        "bundles(unitType: String!): [Bundle!]!",
        "tenants(first: Int, after: String, states: [TenantState!]): TenantConnection!",
        "createOrganization(input: CreateOrganizationInput!): OrganizationPayload!",
        "createUnitType(input: CreateUnitTypeInput!): UnitTypePayload!",
        "createLicense(input: CreateLicenseInput!): LicensePayload!",
        "upgradeLicense(input: UpgradeLicenseInput!): LicensePayload!",
        "createTenant(input: CreateTenantInput!): TenantPayload!",
        "updateTenant(input: UpdateTenantInput!): TenantPayload!",
        "setAllocation(input: SetAllocationInput!): AllocationPayload!",
        "createFolder(input: CreateFolderInput!): FolderPayload!",
        "createProcess(input: CreateProcessInput!): ProcessPayload!",
        "recordUsage(input: RecordUsageInput!): RecordUsagePayload!",
        "createApiKey(input: CreateApiKeyInput!): CreateApiKeyPayload!",
        "revokeApiKey(input: RevokeApiKeyInput!): RevokeApiKeyPayload!",
        "timeZone: String! = \"UTC\"",
        "burstPercent: Int! = 100",
        "burstPeriods: Int! = 0",
        "enforced: Boolean! = false",
        "kind: UsageKind! = EXECUTION",
        "accepted: Int!",
        "duplicates: Int!",
        "secret: String!",
        "startDate: Date!",
        "endDate: Date!",
        "current: Boolean!",
        "usage(unitType: String!, bundle: Date, range: DateRangeInput): OrganizationUsage!",
        "quota(unitType: String!, bundle: Date): QuotaBalance!",
        "input DateRangeInput",
        "tenants(states: [TenantState!]): [TenantUsage!]!",
        "tenant(id: ID!): TenantUsage",
        "consumptionRate: Float",
        "capacityCard: CapacityCard!",
        "breakdown: CapacityBreakdown!",
        "status: OrganizationStatus!",
        "status: TenantStatus!",
        "displayName: String!",
        "availableForAllocation: Decimal!",
        "overAllocation: Decimal!",
        "burstActive: Boolean!",
        "resetsOn: Date!",
        "enum OrganizationStatus",
        "enum TenantStatus",
        "enum CapacityCardMode",
        // Release 2 (docs/design.md §15.1, §15.2).
        "addCapacity(input: AddCapacityInput!): LicensePayload!",
        "input AddCapacityInput",
        "licenseId: ID!",
        "amount: Decimal!",
        "effectiveOn: Date",
        "limit: Decimal!",
        "finishExecution(input: FinishExecutionInput!): FinishExecutionPayload!",
        "input FinishExecutionInput",
        "type FinishExecutionPayload",
        "durationMs: Int!",
        "runs: Int!",
        "executions: Decimal!",
        "uploads: Decimal!",
        // Release 2 (docs/design.md §15.3).
        "services: [Service!]!",
        "alertThresholds(unitType: String!): [Float!]!",
        "consumptionControl(unitType: String!): ConsumptionControl",
        "stopAtAllocation: [String!]!",
        "share: Float!",
        "updateService(input: UpdateServiceInput!): ServicePayload!",
        "input UpdateServiceInput",
        "code: String!",
        "type ServicePayload",
        "service: Service!",
        "setOrganizationAlertThresholds(input: SetOrganizationAlertThresholdsInput!): OrganizationPayload!",
        "input SetOrganizationAlertThresholdsInput",
        "thresholds: [Float!]!",
        // §15.3: the folder view.
        "folder(id: ID!, attribution: Attribution!): FolderUsage",
        "distribution(granularity: Granularity!): [UsageBucket!]!",
        "byService: ServiceBreakdown!",
        // §15.4: stored notifications.
        "notifications(first: Int, after: String, kinds: [QuotaEventKind!], tenantId: ID): QuotaEventConnection!",
        "quotaEvents(organizationId: ID!, unitType: String, tenantId: ID, after: String): QuotaEvent!",
        "cursor: String",
        "webhookEndpoints: [WebhookEndpoint!]!",
        "type WebhookEndpoint",
        "kinds: [QuotaEventKind!]!",
        "enabled: Boolean!",
        "deliveries(first: Int, after: String): WebhookDeliveryConnection!",
        "type WebhookDeliveryConnection",
        "edges: [WebhookDeliveryEdge!]!",
        "type WebhookDeliveryEdge",
        "node: WebhookDelivery!",
        "type WebhookDelivery",
        "event: QuotaEvent!",
        "status: WebhookDeliveryStatus!",
        "attempts: Int!",
        "responseStatus: Int",
        "enum WebhookDeliveryStatus",
        "createWebhookEndpoint(input: CreateWebhookEndpointInput!): CreateWebhookEndpointPayload!",
        "deleteWebhookEndpoint(input: DeleteWebhookEndpointInput!): DeleteWebhookEndpointPayload!",
        "retryWebhookDelivery(input: RetryWebhookDeliveryInput!): WebhookDeliveryPayload!",
        "input CreateWebhookEndpointInput",
        "type CreateWebhookEndpointPayload",
        "endpoint: WebhookEndpoint!",
        "input DeleteWebhookEndpointInput",
        "type DeleteWebhookEndpointPayload",
        "deletedId: ID!",
        "input RetryWebhookDeliveryInput",
        "type WebhookDeliveryPayload",
        "delivery: WebhookDelivery!",
        // §15.5: export links.
        "createExportLink(input: CreateExportLinkInput!): ExportLink!",
        "type ExportLink",
        "url: String!",
        "expiresAt: DateTime!",
        "input CreateExportLinkInput",
        "report: String!",
        "organizationId: ID!",
        "granularity: Granularity",
        "attribution: Attribution",
        // §15.6: voiding usage.
        "voidUsage(input: VoidUsageInput!): VoidUsagePayload!",
        "input VoidUsageInput",
        "idempotencyKeys: [String!]!",
        "reason: String!",
        "type VoidUsagePayload",
        "voided: Int!",
        "alreadyVoided: Int!",
        // §15.6: forecasts and what-if.
        "forecast: Forecast!",
        "type Forecast",
        "dailyRate: Decimal!",
        "projected: Decimal!",
        "runsOutOn: Date",
        "previewAllocations(input: SetAllocationsInput!): OrganizationUsage!",
        "setAllocations(input: SetAllocationsInput!): SetAllocationsPayload!",
        "input SetAllocationsInput",
        "changes: [AllocationChangeInput!]!",
        "input AllocationChangeInput",
        "tenantId: ID!",
        "amount: Decimal",
        "type SetAllocationsPayload",
        "usage: OrganizationUsage!",
    ];
    let flat: String = sdl.split_whitespace().collect::<Vec<_>>().join(" ");
    for name in names {
        let flat_name: String = name.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&flat_name), "schema.graphql lacks `{name}`");
    }
    for value in [
        "MONTH",
        "YEAR",
        "TERM",
        "ACTIVE",
        "DISABLED",
        "DELETED",
        "BILLING_MANAGER",
        "TENANT_ADMIN",
        "INGEST",
        "UPLOAD",
    ] {
        assert!(sdl.contains(value), "schema.graphql lacks enum value {value}");
    }
}
