//! Every SQL statement a test server runs on an organization's data names that organization:
//! the layout Citus needs to route each statement to one node (docs/operator.md, "Scaling
//! out with Citus"). Each test server keeps the text of every distinct statement it ran, and
//! the test fails at its end on one that reads or writes a table distributed by
//! `organization_id` without naming it.

/// Tables distributed by `organization_id`. The others are reference tables, copied to
/// every node: organizations, unit types and services (catalogs), API keys (found by their
/// secret before the organization is known), tenants and licenses (few per organization,
/// written rarely, and found by id when a request names a bare tenant or license), and the
/// audit log (a change to a unit type or a service belongs to no organization; it grows
/// with changes, not with usage).
pub const DISTRIBUTED: &[&str] = &[
    "allocations",
    "capacity_top_ups",
    "chain_nodes",
    "consumption_controls",
    "folders",
    "jobs",
    "notifications",
    "organization_alert_thresholds",
    "processes",
    "quota_marks",
    "usage_attribution_daily",
    "usage_attribution_monthly",
    "usage_attribution_services_daily",
    "usage_daily",
    "usage_events",
    "usage_list_daily",
    "usage_list_monthly",
    "usage_monthly",
    "usage_process_daily",
    "usage_process_monthly",
    "webhook_deliveries",
    "webhook_endpoints",
];

/// The distributed tables a statement touches without naming their organization: every
/// table of its `FROM`, `JOIN`, `UPDATE`, `DELETE` or `INSERT` must come with a condition on
/// its `organization_id` (or, inserted, a value for it). One shape is let through: the
/// organization of one row found by its id (`SELECT "t"."organization_id" FROM "t" WHERE
/// "t"."id" = $1`), where a request naming a bare id learns which organization to go to; and
/// a statement marked as a sweep ([`quotagraph::store::SWEEP`]) reads every organization's
/// rows on purpose (the webhook sender's queue).
pub fn unnamed_organization(sql: &str) -> Vec<&'static str> {
    if sql.starts_with(quotagraph::store::SWEEP) {
        return Vec::new();
    }
    let head = sql.trim_start().to_ascii_uppercase();
    if [
        "CREATE",
        "ALTER",
        "DROP",
        "PRAGMA",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
    ]
    .iter()
    .any(|word| head.starts_with(word))
    {
        return Vec::new();
    }
    DISTRIBUTED
        .iter()
        .copied()
        .filter(|table| mentions(sql, table) && !names_organization(sql, table) && !routes(sql, table))
        .collect()
}

fn mentions(sql: &str, table: &str) -> bool {
    words(sql).any(|word| word == table)
}

/// The identifiers and keywords of a statement, quoted or not.
fn words(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
}

fn names_organization(sql: &str, table: &str) -> bool {
    if let Some(rest) = sql.strip_prefix(&format!("INSERT INTO \"{table}\" (")) {
        return rest[..rest.find(')').unwrap_or(rest.len())].contains("\"organization_id\"");
    }
    let conditions = match sql.find(" WHERE ") {
        Some(at) => &sql[at..],
        None => return false,
    };
    let conditions = &conditions[..conditions.find(" RETURNING ").unwrap_or(conditions.len())];
    let quoted = sql.contains(&format!("\"{table}\""));
    if quoted {
        conditions.contains(&format!("\"{table}\".\"organization_id\""))
    } else {
        words(conditions).any(|word| word == "organization_id")
    }
}

fn routes(sql: &str, table: &str) -> bool {
    let lookup = format!("SELECT \"{table}\".\"organization_id\" FROM \"{table}\" WHERE \"{table}\".\"id\" = ");
    sql.strip_prefix(&lookup).is_some_and(|rest| {
        let mut words = rest.split(' ');
        matches!(words.next(), Some("$1" | "?")) && matches!(words.next(), None | Some("LIMIT"))
    })
}
