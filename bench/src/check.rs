//! The answers: the queries every system is asked, the JSON they must answer (built
//! from sums by one set of functions, whoever computed the sums: the generator, the
//! limit's SQL or the naive peer), and the comparison of each response with it.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use quotagraph::domain::{
    Quantity,
    analytics::{self, Granularity},
    metrics::{self, TenantSums},
    period::{Bundle, LicenseTerms},
    tenant::TenantState,
};
use quotagraph::graphql::node::{Kind, encode};
use serde_json::{Value, json};
use uuid::Uuid;

/// Every card of docs/design.md §3: the organization's figures, the capacity card and bar,
/// the status, a card per tenant, and the quota view.
pub const DASHBOARD: &str = "query Dashboard($org: ID!, $unit: String!) {
  organization(id: $org) {
    usage(unitType: $unit) {
      from to totalCapacity consumed consumedFromAllocated consumedFromOrganization
      remaining allocated availableForAllocation overage overAllocation status
      capacityCard { mode value }
      breakdown { consumedFromAllocated consumedFromOrganization remaining }
      tenants { tenant { id } displayName allocated consumed consumedFromAllocated consumedFromOrganization
        consumptionRate remaining overage availableForAllocation status }
    }
    quota(unitType: $unit) { used quota limit remaining burstActive periodStart periodEnd resetsOn }
  }
}";

/// One tenant's view: its card, its distribution by week, by service, its folders in
/// both attribution modes and its top 20 processes.
pub const TENANT_VIEW: &str = "query TenantView($org: ID!, $unit: String!, $tenant: ID!) {
  organization(id: $org) {
    usage(unitType: $unit) {
      tenant(id: $tenant) {
        displayName allocated consumed consumedFromAllocated consumedFromOrganization
        consumptionRate remaining overage availableForAllocation status
        distribution(granularity: WEEK) { start end consumed }
        byService { total services { service { code } consumed percent } }
        execution: folders(attribution: EXECUTION) { folder { id name } consumed children { folder { id } consumed } }
        ownership: folders(attribution: OWNERSHIP) { folder { id name } consumed children { folder { id } consumed } }
        processes(attribution: EXECUTION, first: 20) { edges { node { process { id name } consumed } } }
      }
    }
  }
}";

/// The dashboard page's folder view (docs/dashboard.md) of one folder in EXECUTION over
/// the current bundle: the folder and its tenant, its subfolders, the processes that ran
/// directly in it, its distribution by week and by service. In EXECUTION processes have no
/// children, so the page's `children` under `processes` is left out.
pub const FOLDER_VIEW: &str = "query FolderView($org: ID!, $unit: String!, $folder: ID!) {
  organization(id: $org) {
    usage(unitType: $unit) {
      folder(id: $folder, attribution: EXECUTION) {
        folder { name tenant { id name } } consumed
        children { folder { id name } consumed }
        processes { process { name } own consumed }
        distribution(granularity: WEEK) { start end consumed }
        byService { total services { service { code name } consumed share } }
      }
    }
  }
}";

/// The nested organization → tenants → folders → processes query (W4).
pub const TREE: &str = "query Tree($org: ID!) {
  organization(id: $org) {
    tenants(first: 100) { edges { node { id name
      folders(first: 100) { edges { node { id name
        processes(first: 100) { edges { node { id name } } }
      } } }
    } } }
  }
}";

/// Top processes the tenant view lists.
pub const TOP_PROCESSES: usize = 20;
/// Page size of every connection in [`TREE`].
pub const TREE_PAGE: usize = 100;

/// A selection's depth: how deeply its fields nest (braces outside strings).
pub fn depth(query: &str) -> usize {
    let (mut level, mut deepest, mut quoted) = (0usize, 0usize, false);
    for c in query.chars() {
        match c {
            '"' => quoted = !quoted,
            '{' if !quoted => {
                level += 1;
                deepest = deepest.max(level);
            }
            '}' if !quoted => level = level.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn q(scaled: i64) -> Value {
    Value::String(Quantity::from_scaled(scaled).to_string())
}

fn quantity(value: Quantity) -> Value {
    Value::String(value.to_string())
}

/// One tenant as the cards need it.
#[derive(Clone, Debug)]
pub struct Card {
    pub id: Uuid,
    pub name: String,
    pub state: TenantState,
    pub allocated: Option<i64>,
    pub consumed: i64,
}

/// What the dashboard is computed from: the bundle and every tenant (in id order).
#[derive(Clone, Debug)]
pub struct DashboardSums {
    pub terms: LicenseTerms,
    pub bundle: Bundle,
    pub to: NaiveDate,
    pub cards: Vec<Card>,
}

impl DashboardSums {
    fn sums(&self) -> Vec<TenantSums> {
        self.cards
            .iter()
            .map(|c| TenantSums {
                state: c.state,
                allocated: c.allocated.map(Quantity::from_scaled),
                consumed_before: Quantity::ZERO,
                consumed_in_range: Quantity::from_scaled(c.consumed),
            })
            .collect()
    }

    fn card_json(&self, card: &Card, figures: &metrics::TenantFigures) -> Value {
        json!({
            "displayName": if card.state == TenantState::Deleted { card.id.to_string() } else { card.name.clone() },
            "allocated": figures.allocated.map(quantity),
            "consumed": quantity(figures.consumed),
            "consumedFromAllocated": quantity(figures.consumed_from_allocated),
            "consumedFromOrganization": quantity(figures.consumed_from_organization),
            "consumptionRate": figures.consumption_rate,
            "remaining": quantity(figures.remaining),
            "overage": quantity(figures.overage),
            "availableForAllocation": quantity(figures.available_for_allocation),
            "status": figures.status.as_str(),
        })
    }

    /// The `data` of [`DASHBOARD`].
    pub fn dashboard(&self) -> Value {
        let usage = metrics::usage(self.bundle.capacity, self.terms.limit(&self.bundle), &self.sums());
        let o = &usage.organization;
        let cards: Vec<Value> = self
            .cards
            .iter()
            .zip(&usage.tenants)
            .map(|(card, figures)| {
                let mut value = self.card_json(card, figures);
                value["tenant"] = json!({ "id": encode(Kind::Tenant, card.id).0 });
                value
            })
            .collect();
        let used = self.cards.iter().map(|c| c.consumed).sum();
        let view = metrics::quota_view(&self.terms, &self.bundle, Quantity::from_scaled(used));
        json!({ "organization": {
            "usage": {
                "from": self.bundle.start.to_string(),
                "to": self.to.to_string(),
                "totalCapacity": quantity(o.total_capacity),
                "consumed": quantity(o.consumed),
                "consumedFromAllocated": quantity(o.consumed_from_allocated),
                "consumedFromOrganization": quantity(o.consumed_from_organization),
                "remaining": quantity(o.remaining),
                "allocated": quantity(o.allocated),
                "availableForAllocation": quantity(o.available_for_allocation),
                "overage": quantity(o.overage),
                "overAllocation": quantity(o.over_allocation),
                "status": o.status.as_str(),
                "capacityCard": { "mode": o.capacity_card.mode.as_str(), "value": quantity(o.capacity_card.value) },
                "breakdown": {
                    "consumedFromAllocated": quantity(o.consumed_from_allocated),
                    "consumedFromOrganization": quantity(o.consumed_from_organization),
                    "remaining": quantity(o.remaining),
                },
                "tenants": cards,
            },
            "quota": {
                "used": quantity(view.used),
                "quota": quantity(view.quota),
                "limit": quantity(view.limit),
                "remaining": quantity(view.remaining),
                "burstActive": view.burst_active,
                "periodStart": view.period_start.to_string(),
                "periodEnd": view.period_end.to_string(),
                "resetsOn": view.resets_on.to_string(),
            },
        } })
    }

    /// The card of one tenant, as the tenant view shows it.
    pub fn card(&self, tenant: Uuid) -> Option<Value> {
        let usage = metrics::usage(self.bundle.capacity, self.terms.limit(&self.bundle), &self.sums());
        let index = self.cards.iter().position(|c| c.id == tenant)?;
        Some(self.card_json(&self.cards[index], &usage.tenants[index]))
    }
}

/// A folder of the tenant, in creation order.
#[derive(Clone, Debug)]
pub struct FolderRow {
    pub id: Uuid,
    pub name: String,
    pub parent: Option<Uuid>,
}

/// What the tenant view adds to the card: its sums by day, service, folder and process.
#[derive(Clone, Debug, Default)]
pub struct TenantSumsByKind {
    pub days: Vec<(NaiveDate, i64)>,
    /// Service codes that consumed, with their sums.
    pub services: Vec<(String, i64)>,
    pub folders: Vec<FolderRow>,
    /// Consumption directly in each folder (None: the "no folder" row) by where it ran…
    pub executed: HashMap<Option<Uuid>, i64>,
    /// …and by whom it is owed to.
    pub owned: HashMap<Option<Uuid>, i64>,
    /// Each process's own consumption, with its name.
    pub processes: Vec<(Uuid, String, i64)>,
}

impl TenantSumsByKind {
    /// The folder rows of one attribution mode: top level largest first (ties in
    /// creation order), each with its direct subfolders, then the "no folder" row.
    fn folder_rows(&self, direct: &HashMap<Option<Uuid>, i64>) -> Value {
        let mut children: HashMap<Option<Uuid>, Vec<&FolderRow>> = HashMap::new();
        for folder in &self.folders {
            children.entry(folder.parent).or_default().push(folder);
        }
        fn total(
            id: Uuid,
            children: &HashMap<Option<Uuid>, Vec<&FolderRow>>,
            direct: &HashMap<Option<Uuid>, i64>,
        ) -> i64 {
            direct.get(&Some(id)).copied().unwrap_or(0)
                + children
                    .get(&Some(id))
                    .into_iter()
                    .flatten()
                    .map(|c| total(c.id, children, direct))
                    .sum::<i64>()
        }
        let ranked = |parent: Option<Uuid>| {
            let mut rows: Vec<(&FolderRow, i64)> = children
                .get(&parent)
                .into_iter()
                .flatten()
                .map(|f| (*f, total(f.id, &children, direct)))
                .collect();
            rows.sort_by_key(|(_, consumed)| std::cmp::Reverse(*consumed));
            rows
        };
        let mut rows: Vec<Value> = ranked(None)
            .into_iter()
            .map(|(folder, consumed)| {
                let subfolders: Vec<Value> = ranked(Some(folder.id))
                    .into_iter()
                    .map(|(child, consumed)| {
                        json!({ "folder": { "id": encode(Kind::Folder, child.id).0 }, "consumed": q(consumed) })
                    })
                    .collect();
                json!({
                    "folder": { "id": encode(Kind::Folder, folder.id).0, "name": folder.name },
                    "consumed": q(consumed),
                    "children": subfolders,
                })
            })
            .collect();
        rows.push(json!({ "folder": null, "consumed": q(direct.get(&None).copied().unwrap_or(0)), "children": [] }));
        Value::Array(rows)
    }

    /// The `data` of [`TENANT_VIEW`], around the tenant's card.
    pub fn tenant_view(&self, mut card: Value, from: NaiveDate, to: NaiveDate) -> Value {
        let daily: Vec<(NaiveDate, Quantity)> =
            self.days.iter().map(|(d, s)| (*d, Quantity::from_scaled(*s))).collect();
        let buckets: Vec<Value> = analytics::distribution(Granularity::Week, from, to, &daily)
            .into_iter()
            .map(
                |b| json!({ "start": b.start.to_string(), "end": b.end.to_string(), "consumed": quantity(b.consumed) }),
            )
            .collect();
        let mut services: Vec<(String, Quantity)> = self
            .services
            .iter()
            .map(|(code, s)| (code.clone(), Quantity::from_scaled(*s)))
            .collect();
        services.sort();
        let (total, shares) = analytics::by_service(&services);
        let mut processes: Vec<&(Uuid, String, i64)> = self.processes.iter().filter(|p| p.2 != 0).collect();
        processes.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        let edges: Vec<Value> = processes
            .into_iter()
            .take(TOP_PROCESSES)
            .map(|(id, name, own)| {
                json!({ "node": { "process": { "id": encode(Kind::Process, *id).0, "name": name }, "consumed": q(*own) } })
            })
            .collect();
        card["distribution"] = Value::Array(buckets);
        card["byService"] = json!({
            "total": quantity(total),
            "services": shares.into_iter().map(|s| json!({
                "service": { "code": s.service }, "consumed": quantity(s.consumed), "percent": s.percent(),
            })).collect::<Vec<_>>(),
        });
        card["execution"] = self.folder_rows(&self.executed);
        card["ownership"] = self.folder_rows(&self.owned);
        card["processes"] = json!({ "edges": edges });
        json!({ "organization": { "usage": { "tenant": card } } })
    }
}

/// What the folder view shows, as sums: its subtree's consumption, its direct subfolders
/// (each with its subtree's), the processes that ran directly in it, and its subtree's
/// consumption by day and by service.
#[derive(Clone, Debug, Default)]
pub struct FolderViewSums {
    pub name: String,
    pub tenant: Uuid,
    pub tenant_name: String,
    pub consumed: i64,
    /// Direct subfolders in creation (id) order: id, name, consumption with theirs.
    pub children: Vec<(Uuid, String, i64)>,
    /// Processes that ran directly in the folder: id, name, consumption there.
    pub processes: Vec<(Uuid, String, i64)>,
    pub days: Vec<(NaiveDate, i64)>,
    /// Services that consumed: code, name, sum.
    pub services: Vec<(String, String, i64)>,
}

impl FolderViewSums {
    /// The `data` of [`FOLDER_VIEW`]: subfolders largest first (ties in creation order),
    /// processes largest first (ties by id), services largest first (ties by code).
    pub fn folder_view(&self, from: NaiveDate, to: NaiveDate) -> Value {
        let daily: Vec<(NaiveDate, Quantity)> =
            self.days.iter().map(|(d, s)| (*d, Quantity::from_scaled(*s))).collect();
        let buckets: Vec<Value> = analytics::distribution(Granularity::Week, from, to, &daily)
            .into_iter()
            .map(
                |b| json!({ "start": b.start.to_string(), "end": b.end.to_string(), "consumed": quantity(b.consumed) }),
            )
            .collect();
        let mut services: Vec<((String, String), Quantity)> = self
            .services
            .iter()
            .filter(|(_, _, s)| *s != 0)
            .map(|(code, name, s)| ((code.clone(), name.clone()), Quantity::from_scaled(*s)))
            .collect();
        services.sort();
        let (total, shares) = analytics::by_service(&services);
        let mut children: Vec<&(Uuid, String, i64)> = self.children.iter().collect();
        children.sort_by_key(|c| c.0);
        children.sort_by_key(|c| std::cmp::Reverse(c.2));
        let mut processes: Vec<&(Uuid, String, i64)> = self.processes.iter().filter(|p| p.2 != 0).collect();
        processes.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        json!({ "organization": { "usage": { "folder": {
            "folder": {
                "name": self.name,
                "tenant": { "id": encode(Kind::Tenant, self.tenant).0, "name": self.tenant_name },
            },
            "consumed": q(self.consumed),
            "children": children.into_iter().map(|(id, name, consumed)| json!({
                "folder": { "id": encode(Kind::Folder, *id).0, "name": name }, "consumed": q(*consumed),
            })).collect::<Vec<_>>(),
            "processes": processes.into_iter().map(|(_, name, own)| json!({
                "process": { "name": name }, "own": q(*own), "consumed": q(*own),
            })).collect::<Vec<_>>(),
            "distribution": buckets,
            "byService": {
                "total": quantity(total),
                "services": shares.into_iter().map(|s| json!({
                    "service": { "code": s.service.0, "name": s.service.1 },
                    "consumed": quantity(s.consumed),
                    "share": s.share,
                })).collect::<Vec<_>>(),
            },
        } } } })
    }
}

/// A top-level folder of the tree: id, name and its processes (id, name).
pub type TreeFolder = (Uuid, String, Vec<(Uuid, String)>);

/// One tenant of the tree, with its top-level folders and their processes (id order).
#[derive(Clone, Debug)]
pub struct TreeTenant {
    pub id: Uuid,
    pub name: String,
    pub folders: Vec<TreeFolder>,
}

/// The `data` of [`TREE`]; every list cut to its page.
pub fn tree(tenants: &[TreeTenant]) -> Value {
    let edges = |nodes: Vec<Value>| json!({ "edges": nodes.into_iter().take(TREE_PAGE).map(|n| json!({ "node": n })).collect::<Vec<_>>() });
    let tenants: Vec<Value> = tenants
        .iter()
        .map(|t| {
            let folders = t
                .folders
                .iter()
                .map(|(id, name, processes)| {
                    let processes = processes
                        .iter()
                        .map(|(id, name)| json!({ "id": encode(Kind::Process, *id).0, "name": name }))
                        .collect();
                    json!({ "id": encode(Kind::Folder, *id).0, "name": name, "processes": edges(processes) })
                })
                .collect();
            json!({ "id": encode(Kind::Tenant, t.id).0, "name": t.name, "folders": edges(folders) })
        })
        .collect();
    json!({ "organization": { "tenants": edges(tenants) } })
}

/// The first difference between what was expected and what came, as a path.
pub fn difference(expected: &Value, got: &Value, path: &str) -> Option<String> {
    match (expected, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let here = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => {
                        if let Some(d) = difference(value, other, &here) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{here}: missing")),
                }
            }
            b.keys()
                .find(|k| !a.contains_key(*k))
                .map(|k| format!("{path}.{k}: unexpected"))
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(format!("{path}: {} items, expected {}", b.len(), a.len()));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (x, y))| difference(x, y, &format!("{path}[{i}]")))
        }
        _ if expected == got => None,
        // serde_json's default number parser (without `float_roundtrip`) can read the
        // shortest spelling of a float back one unit in the last place off: a share sent as
        // 0.09109825416159155 reads 0.09109825416159156. Floats within two such units agree.
        (Value::Number(a), Value::Number(b))
            if (a.is_f64() || b.is_f64())
                && a.as_f64()
                    .zip(b.as_f64())
                    .is_some_and(|(x, y)| (x - y).abs() <= 2.0 * f64::EPSILON * x.abs().max(y.abs())) =>
        {
            None
        }
        _ => Some(format!("{path}: got {got}, expected {expected}")),
    }
}

/// One expected answer. The first response that matches it deeply becomes the
/// reference; later ones are compared byte for byte (and deeply again when the bytes
/// differ), so checking every response stays cheap for the client.
pub struct Expected {
    pub value: Value,
    graphql: bool,
    reference: OnceLock<Vec<u8>>,
}

impl Expected {
    /// An answer a GraphQL response must hold in `data`, with no `errors`.
    pub fn graphql(value: Value) -> Expected {
        Expected {
            value,
            graphql: true,
            reference: OnceLock::new(),
        }
    }

    /// An answer a plain JSON response must be.
    pub fn plain(value: Value) -> Expected {
        Expected {
            value,
            graphql: false,
            reference: OnceLock::new(),
        }
    }

    pub fn check(&self, body: &[u8]) -> Result<(), String> {
        if self.reference.get().is_some_and(|r| r.as_slice() == body) {
            return Ok(());
        }
        let got: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
        let data = if self.graphql {
            if let Some(errors) = got.get("errors") {
                return Err(format!("GraphQL errors: {errors}"));
            }
            got.get("data").cloned().unwrap_or(Value::Null)
        } else {
            got
        };
        self.check_value(&data)?;
        let _ = self.reference.set(body.to_vec());
        Ok(())
    }

    pub fn check_value(&self, got: &Value) -> Result<(), String> {
        match difference(&self.value, got, "data") {
            None => Ok(()),
            Some(d) => Err(format!("wrong answer at {d}")),
        }
    }
}
