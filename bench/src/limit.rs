//! "The limit": the same figures computed by the plainest SQL over the same rollup tables
//! (no access checks, no GraphQL, no sharing beyond one request), called in-process and
//! behind a bare axum JSON route. Writes are the ingestion's own store calls (events,
//! chain nodes, both rollups) in one transaction, without the use case's checks,
//! idempotency lookups, audit entry or quota watcher.

use std::collections::HashMap;
use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use chrono::NaiveDate;
use quotagraph::domain::{attribution, tenant::TenantState};
use quotagraph::service::bundle::bundles_of;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryResult, Statement,
};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::check::{
    Card, DashboardSums, FolderRow, FolderViewSums, TOP_PROCESSES, TREE_PAGE, TenantSumsByKind, TreeFolder, TreeTenant,
    tree,
};
use crate::expected::today;

#[derive(Clone)]
pub struct Limit {
    pub db: DatabaseConnection,
    /// Where its writes begin, as the server's do (`store::writer`).
    writer: DatabaseConnection,
}

/// One event of a write, with every id resolved (the limit looks nothing up).
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct LimitEvent {
    pub key: String,
    pub tenant: Uuid,
    pub service: Uuid,
    pub quantity: i64,
    pub process: Uuid,
    pub folder: Uuid,
    /// The folder owning the process.
    pub owner: Uuid,
}

#[derive(Deserialize, serde::Serialize)]
pub struct Ask {
    pub organization: Uuid,
    pub unit: Uuid,
    #[serde(default)]
    pub tenant: Option<Uuid>,
    #[serde(default)]
    pub folder: Option<Uuid>,
    #[serde(default)]
    pub events: Vec<LimitEvent>,
}

impl Limit {
    pub async fn connect(url: &str) -> anyhow::Result<Limit> {
        let db = quotagraph::store::connect(url).await?;
        Ok(Limit {
            writer: quotagraph::store::writer(&db, url).await?,
            db,
        })
    }

    async fn rows(&self, sql: &str, values: Vec<sea_orm::Value>) -> anyhow::Result<Vec<QueryResult>> {
        let backend = self.db.get_database_backend();
        // One spelling of numbered parameters for both: `$1` on PostgreSQL, `?1` on SQLite.
        let sql = if backend == DbBackend::Sqlite {
            sql.replace('$', "?")
        } else {
            sql.to_owned()
        };
        Ok(self
            .db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?)
    }

    /// The current bundle, from the licenses (one statement).
    async fn current(&self, org: Uuid, unit: Uuid) -> anyhow::Result<quotagraph::service::bundle::LicensedBundle> {
        let licenses = entity::license::Entity::find()
            .filter(entity::license::Column::OrganizationId.eq(org))
            .filter(entity::license::Column::UnitTypeId.eq(unit))
            .all(&self.db)
            .await?;
        // The bench sells no top-ups.
        bundles_of(&licenses, &[], today())
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?
            .into_iter()
            .find(|b| b.current)
            .ok_or_else(|| anyhow::anyhow!("no current bundle"))
    }

    /// Tenants, allocations in effect, the license and one grouped sum (4 statements).
    pub async fn dashboard_sums(&self, org: Uuid, unit: Uuid) -> anyhow::Result<DashboardSums> {
        let today = today();
        let current = self.current(org, unit).await?;
        let tenants = self
            .rows(
                "SELECT id, name, state FROM tenants WHERE organization_id = $1 ORDER BY id",
                vec![org.into()],
            )
            .await?;
        let allocations = self
            .rows(
                "SELECT a.tenant_id, a.amount FROM allocations a JOIN tenants t ON t.id = a.tenant_id \
                 WHERE t.organization_id = $1 AND a.unit_type_id = $2 AND a.effective_from <= $3 \
                 ORDER BY a.effective_from, a.id",
                vec![org.into(), unit.into(), today.into()],
            )
            .await?;
        let mut allocated: HashMap<Uuid, Option<i64>> = HashMap::new();
        for row in allocations {
            allocated.insert(row.try_get("", "tenant_id")?, row.try_get("", "amount")?);
        }
        let (first, end) = whole_months(current.bundle.start, today.succ_opt().unwrap_or(today))?;
        let consumed = self
            .rows(
                "SELECT tenant_id, CAST(SUM(quantity) AS BIGINT) AS total FROM usage_monthly \
                 WHERE organization_id = $1 AND unit_type_id = $2 AND month >= $3 AND month < $4 \
                 GROUP BY tenant_id",
                vec![org.into(), unit.into(), first.into(), end.into()],
            )
            .await?;
        let mut totals: HashMap<Uuid, i64> = HashMap::new();
        for row in consumed {
            totals.insert(row.try_get("", "tenant_id")?, row.try_get("", "total")?);
        }
        let cards = tenants
            .iter()
            .map(|row| {
                let id: Uuid = row.try_get("", "id")?;
                let state: String = row.try_get("", "state")?;
                Ok(Card {
                    id,
                    name: row.try_get("", "name")?,
                    state: state.parse::<TenantState>().map_err(|e| anyhow::anyhow!(e))?,
                    allocated: allocated.get(&id).copied().flatten(),
                    consumed: totals.get(&id).copied().unwrap_or(0),
                })
            })
            .collect::<anyhow::Result<Vec<Card>>>()?;
        Ok(DashboardSums {
            terms: current.terms,
            bundle: current.bundle,
            to: today,
            cards,
        })
    }

    pub async fn dashboard(&self, org: Uuid, unit: Uuid) -> anyhow::Result<Value> {
        Ok(self.dashboard_sums(org, unit).await?.dashboard())
    }

    /// The card (from the dashboard's sums), then one grouped sum by day and service, the
    /// services, one grouped sum by list (run folder, owning folder, process), the folders
    /// and the top processes' names.
    pub async fn tenant_view(&self, org: Uuid, unit: Uuid, tenant: Uuid) -> anyhow::Result<Value> {
        let dashboard = self.dashboard_sums(org, unit).await?;
        let card = dashboard
            .card(tenant)
            .ok_or_else(|| anyhow::anyhow!("no such tenant"))?;
        let (from, until) = (dashboard.bundle.start, today().succ_opt().unwrap_or(today()));
        let range = || -> Vec<sea_orm::Value> { vec![tenant.into(), unit.into(), from.into(), until.into()] };
        let daily = self
            .rows(
                "SELECT day, service_id, CAST(SUM(quantity) AS BIGINT) AS total FROM usage_daily \
                 WHERE tenant_id = $1 AND unit_type_id = $2 AND kind = 'EXECUTION' AND day >= $3 AND day < $4 \
                 GROUP BY day, service_id",
                range(),
            )
            .await?;
        let codes: HashMap<Uuid, String> = self
            .rows("SELECT id, code FROM services", vec![])
            .await?
            .iter()
            .map(|r| Ok((r.try_get("", "id")?, r.try_get("", "code")?)))
            .collect::<anyhow::Result<_>>()?;
        let mut by_kind = TenantSumsByKind::default();
        let mut days: HashMap<NaiveDate, i64> = HashMap::new();
        let mut services: HashMap<String, i64> = HashMap::new();
        for row in daily {
            let total: i64 = row.try_get("", "total")?;
            *days.entry(row.try_get("", "day")?).or_default() += total;
            let service: Uuid = row.try_get("", "service_id")?;
            *services
                .entry(codes.get(&service).cloned().unwrap_or_default())
                .or_default() += total;
        }
        by_kind.days = days.into_iter().collect();
        by_kind.services = services.into_iter().collect();
        let (first, end) = whole_months(from, until)?;
        let lists = self
            .rows(
                "SELECT list, item_id, CAST(SUM(quantity) AS BIGINT) AS total FROM usage_list_monthly \
                 WHERE organization_id = $1 AND tenant_id = $2 AND unit_type_id = $3 AND month >= $4 AND month < $5 \
                 GROUP BY list, item_id",
                vec![org.into(), tenant.into(), unit.into(), first.into(), end.into()],
            )
            .await?;
        // The rollup spells "none" as the nil UUID; lists 0, 1 and 2 sum by run folder,
        // owning folder and process.
        let some = |id: Uuid| (!id.is_nil()).then_some(id);
        let mut own: HashMap<Uuid, i64> = HashMap::new();
        for row in lists {
            let total: i64 = row.try_get("", "total")?;
            let item = some(row.try_get("", "item_id")?);
            match row.try_get::<i16>("", "list")? {
                0 => *by_kind.executed.entry(item).or_default() += total,
                1 => *by_kind.owned.entry(item).or_default() += total,
                _ => {
                    if let Some(process) = item {
                        *own.entry(process).or_default() += total;
                    }
                }
            }
        }
        for row in self
            .rows(
                "SELECT id, name, parent_id FROM folders WHERE tenant_id = $1 ORDER BY id",
                vec![tenant.into()],
            )
            .await?
        {
            by_kind.folders.push(FolderRow {
                id: row.try_get("", "id")?,
                name: row.try_get("", "name")?,
                parent: row.try_get("", "parent_id")?,
            });
        }
        let mut top: Vec<(Uuid, i64)> = own.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(TOP_PROCESSES);
        if !top.is_empty() {
            let list = (1..=top.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let names: HashMap<Uuid, String> = self
                .rows(
                    &format!("SELECT id, name FROM processes WHERE id IN ({list})"),
                    top.iter().map(|(id, _)| (*id).into()).collect(),
                )
                .await?
                .iter()
                .map(|r| Ok((r.try_get("", "id")?, r.try_get("", "name")?)))
                .collect::<anyhow::Result<_>>()?;
            by_kind.processes = top
                .into_iter()
                .map(|(id, own)| (id, names.get(&id).cloned().unwrap_or_default(), own))
                .collect();
        }
        Ok(by_kind.tenant_view(card, from, today()))
    }

    /// The folder view of `folder` in EXECUTION (7 statements): the current bundle, the
    /// folder with its tenant, the tenant's folders (its subtree is found here), one
    /// grouped sum by run folder and process over the monthly process rollup, one by day
    /// and service over the daily rollup by service, the services and the processes' names.
    pub async fn folder_view(&self, org: Uuid, unit: Uuid, folder: Uuid) -> anyhow::Result<Value> {
        let current = self.current(org, unit).await?;
        let (from, until) = (current.bundle.start, today().succ_opt().unwrap_or(today()));
        let found = self
            .rows(
                "SELECT f.name, f.tenant_id, t.name AS tenant_name FROM folders f JOIN tenants t ON t.id = f.tenant_id \
                 WHERE f.id = $1 AND t.organization_id = $2",
                vec![folder.into(), org.into()],
            )
            .await?;
        let found = found.first().ok_or_else(|| anyhow::anyhow!("no such folder"))?;
        let tenant: Uuid = found.try_get("", "tenant_id")?;
        let mut view = FolderViewSums {
            name: found.try_get("", "name")?,
            tenant,
            tenant_name: found.try_get("", "tenant_name")?,
            ..FolderViewSums::default()
        };
        let mut names: HashMap<Uuid, String> = HashMap::new();
        let mut parent: HashMap<Uuid, Uuid> = HashMap::new();
        for row in self
            .rows(
                "SELECT id, name, parent_id FROM folders WHERE tenant_id = $1 ORDER BY id",
                vec![tenant.into()],
            )
            .await?
        {
            let id: Uuid = row.try_get("", "id")?;
            names.insert(id, row.try_get("", "name")?);
            if let Some(p) = row.try_get::<Option<Uuid>>("", "parent_id")? {
                parent.insert(id, p);
                if p == folder {
                    view.children.push((id, String::new(), 0));
                }
            }
        }
        // Each folder of the subtree, with the child of `folder` it lies under (None: `folder`).
        let mut under: HashMap<Uuid, Option<Uuid>> = HashMap::new();
        for id in names.keys() {
            let mut at = *id;
            let mut last = None;
            loop {
                if at == folder {
                    under.insert(*id, last);
                    break;
                }
                last = Some(at);
                match parent.get(&at) {
                    Some(p) => at = *p,
                    None => break,
                }
            }
        }
        let ids: Vec<Uuid> = under.keys().copied().collect();
        let list = |first: usize| {
            (first..first + ids.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (first, end) = whole_months(from, until)?;
        let mut values: Vec<sea_orm::Value> = vec![org.into(), tenant.into(), unit.into(), first.into(), end.into()];
        values.extend(ids.iter().map(|id| sea_orm::Value::from(*id)));
        let by_process = self
            .rows(
                &format!(
                    "SELECT folder_id, process_id, CAST(SUM(quantity) AS BIGINT) AS total FROM usage_process_monthly \
                     WHERE organization_id = $1 AND tenant_id = $2 AND unit_type_id = $3 AND month >= $4 AND month < $5 \
                     AND folder_id IN ({}) GROUP BY folder_id, process_id",
                    list(6)
                ),
                values,
            )
            .await?;
        let mut below: HashMap<Uuid, i64> = HashMap::new();
        let mut own: Vec<(Uuid, i64)> = Vec::new();
        for row in by_process {
            let total: i64 = row.try_get("", "total")?;
            let (run_folder, process): (Uuid, Uuid) = (row.try_get("", "folder_id")?, row.try_get("", "process_id")?);
            view.consumed += total;
            match under.get(&run_folder).copied().flatten() {
                Some(child) => *below.entry(child).or_default() += total,
                // The rollup spells "no process" as the nil UUID.
                None if !process.is_nil() => own.push((process, total)),
                None => {}
            }
        }
        for (id, name, consumed) in &mut view.children {
            *name = names.get(id).cloned().unwrap_or_default();
            *consumed = below.get(id).copied().unwrap_or(0);
        }
        let mut values: Vec<sea_orm::Value> = vec![org.into(), tenant.into(), unit.into(), from.into(), until.into()];
        values.extend(ids.iter().map(|id| sea_orm::Value::from(*id)));
        let daily = self
            .rows(
                &format!(
                    "SELECT day, service_id, CAST(SUM(quantity) AS BIGINT) AS total FROM usage_attribution_services_daily \
                     WHERE organization_id = $1 AND tenant_id = $2 AND unit_type_id = $3 AND day >= $4 AND day < $5 \
                     AND folder_id IN ({}) GROUP BY day, service_id",
                    list(6)
                ),
                values,
            )
            .await?;
        let services: HashMap<Uuid, (String, String)> = self
            .rows("SELECT id, code, name FROM services", vec![])
            .await?
            .iter()
            .map(|r| Ok((r.try_get("", "id")?, (r.try_get("", "code")?, r.try_get("", "name")?))))
            .collect::<anyhow::Result<_>>()?;
        let mut days: HashMap<NaiveDate, i64> = HashMap::new();
        let mut by_service: HashMap<Uuid, i64> = HashMap::new();
        for row in daily {
            let total: i64 = row.try_get("", "total")?;
            *days.entry(row.try_get("", "day")?).or_default() += total;
            *by_service.entry(row.try_get("", "service_id")?).or_default() += total;
        }
        view.days = days.into_iter().collect();
        view.services = by_service
            .into_iter()
            .map(|(id, total)| {
                let (code, name) = services.get(&id).cloned().unwrap_or_default();
                (code, name, total)
            })
            .collect();
        if !own.is_empty() {
            let list = (1..=own.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let names: HashMap<Uuid, String> = self
                .rows(
                    &format!("SELECT id, name FROM processes WHERE id IN ({list})"),
                    own.iter().map(|(id, _)| (*id).into()).collect(),
                )
                .await?
                .iter()
                .map(|r| Ok((r.try_get("", "id")?, r.try_get("", "name")?)))
                .collect::<anyhow::Result<_>>()?;
            view.processes = own
                .into_iter()
                .map(|(id, total)| (id, names.get(&id).cloned().unwrap_or_default(), total))
                .collect();
        }
        Ok(view.folder_view(from, today()))
    }

    /// Three statements: the tenants, their top-level folders, and those folders' processes.
    pub async fn tree(&self, org: Uuid) -> anyhow::Result<Value> {
        let tenants = self
            .rows(
                &format!("SELECT id, name FROM tenants WHERE organization_id = $1 ORDER BY id LIMIT {TREE_PAGE}"),
                vec![org.into()],
            )
            .await?;
        let folders = self
            .rows(
                "SELECT f.id, f.name, f.tenant_id FROM folders f JOIN tenants t ON t.id = f.tenant_id \
                 WHERE t.organization_id = $1 AND f.parent_id IS NULL ORDER BY f.id",
                vec![org.into()],
            )
            .await?;
        let processes = self
            .rows(
                "SELECT p.id, p.name, p.folder_id FROM processes p JOIN folders f ON f.id = p.folder_id \
                 JOIN tenants t ON t.id = f.tenant_id WHERE t.organization_id = $1 AND f.parent_id IS NULL ORDER BY p.id",
                vec![org.into()],
            )
            .await?;
        let mut by_folder: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
        for row in processes {
            by_folder
                .entry(row.try_get("", "folder_id")?)
                .or_default()
                .push((row.try_get("", "id")?, row.try_get("", "name")?));
        }
        let mut by_tenant: HashMap<Uuid, Vec<TreeFolder>> = HashMap::new();
        for row in folders {
            let id: Uuid = row.try_get("", "id")?;
            by_tenant.entry(row.try_get("", "tenant_id")?).or_default().push((
                id,
                row.try_get("", "name")?,
                by_folder.remove(&id).unwrap_or_default(),
            ));
        }
        let tenants = tenants
            .iter()
            .map(|row| {
                let id: Uuid = row.try_get("", "id")?;
                Ok(TreeTenant {
                    id,
                    name: row.try_get("", "name")?,
                    folders: by_tenant.remove(&id).unwrap_or_default(),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(tree(&tenants))
    }

    /// Writes EXECUTION events of today with the ingestion's store calls, in one transaction.
    pub async fn ingest(&self, org: Uuid, unit: Uuid, events: Vec<LimitEvent>) -> anyhow::Result<usize> {
        use entity::{chain_node, usage_attribution_daily, usage_daily, usage_event};
        let now = crate::generator::now();
        let (day, at) = (today(), now - chrono::TimeDelta::minutes(1));
        let mut daily: HashMap<(Uuid, Uuid), usage_daily::Model> = HashMap::new();
        let mut attributed: HashMap<(Uuid, Uuid, Uuid), usage_attribution_daily::Model> = HashMap::new();
        let mut nodes: HashMap<Uuid, chain_node::Model> = HashMap::new();
        let mut rows = Vec::with_capacity(events.len());
        let n = events.len();
        for e in events {
            let node = attribution::node_id(e.tenant, None, Some(e.process));
            nodes.entry(node).or_insert(chain_node::Model {
                id: node,
                organization_id: org,
                tenant_id: e.tenant,
                parent_id: None,
                process_id: Some(e.process),
            });
            let d = daily.entry((e.tenant, e.service)).or_insert(usage_daily::Model {
                tenant_id: e.tenant,
                unit_type_id: unit,
                service_id: e.service,
                day,
                kind: "EXECUTION".into(),
                organization_id: org,
                quantity: 0,
                events: 0,
                duration_ms: 0,
            });
            d.quantity += e.quantity;
            d.events += 1;
            let a = attributed
                .entry((e.folder, e.process, e.owner))
                .or_insert(usage_attribution_daily::Model {
                    tenant_id: e.tenant,
                    unit_type_id: unit,
                    day,
                    folder_id: e.folder,
                    process_id: e.process,
                    owner_folder_id: e.owner,
                    node_id: node,
                    organization_id: org,
                    quantity: 0,
                    events: 0,
                });
            a.quantity += e.quantity;
            a.events += 1;
            rows.push(usage_event::Model {
                id: Uuid::now_v7(),
                organization_id: org,
                fingerprint: e.key.clone().into_bytes(),
                idempotency_key: e.key,
                tenant_id: e.tenant,
                unit_type_id: unit,
                service_id: e.service,
                quantity: e.quantity,
                occurred_at: at,
                day,
                kind: "EXECUTION".into(),
                job_id: None,
                process_id: Some(e.process),
                folder_id: Some(e.folder),
                duration_ms: None,
                recorded_at: now,
                voided_at: None,
                void_reason: None,
            });
        }
        // Rows in key order, so concurrent writers lock shared rollup rows in the same
        // order (in hash order, PostgreSQL finds deadlocks).
        let mut nodes: Vec<chain_node::Model> = nodes.into_values().collect();
        nodes.sort_by_key(|n| n.id);
        let mut daily: Vec<usage_daily::Model> = daily.into_values().collect();
        daily.sort_by_key(|d| (d.tenant_id, d.service_id));
        let attributed: Vec<usage_attribution_daily::Model> = attributed.into_values().collect();
        let tx = quotagraph::store::begin_write(&self.writer).await?;
        quotagraph::store::attribution::insert_nodes(&tx, nodes).await?;
        quotagraph::store::usage::insert_events(&tx, rows).await?;
        quotagraph::store::usage::add_to_rollups(&tx, daily).await?;
        quotagraph::store::attribution::add_to_rollups(&tx, attributed).await?;
        tx.commit().await?;
        Ok(n)
    }
}

type Answer = Result<Json<Value>, (StatusCode, String)>;

fn answer(result: anyhow::Result<Value>) -> Answer {
    result
        .map(Json)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn dashboard(State(limit): State<Arc<Limit>>, Json(ask): Json<Ask>) -> Answer {
    answer(limit.dashboard(ask.organization, ask.unit).await)
}

async fn tenant_view(State(limit): State<Arc<Limit>>, Json(ask): Json<Ask>) -> Answer {
    let tenant = ask.tenant.unwrap_or_default();
    answer(limit.tenant_view(ask.organization, ask.unit, tenant).await)
}

async fn folder_view(State(limit): State<Arc<Limit>>, Json(ask): Json<Ask>) -> Answer {
    let folder = ask.folder.unwrap_or_default();
    answer(limit.folder_view(ask.organization, ask.unit, folder).await)
}

async fn tree_route(State(limit): State<Arc<Limit>>, Json(ask): Json<Ask>) -> Answer {
    answer(limit.tree(ask.organization).await)
}

async fn ingest(State(limit): State<Arc<Limit>>, Json(ask): Json<Ask>) -> Answer {
    answer(
        limit
            .ingest(ask.organization, ask.unit, ask.events)
            .await
            .map(|n| serde_json::json!({ "accepted": n })),
    )
}

/// The limit behind a bare axum JSON route: `POST /dashboard`, `/tenant`, `/folder`, `/tree`, `/ingest`.
pub async fn serve(limit: Limit) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let router = Router::new()
        .route("/dashboard", post(dashboard))
        .route("/tenant", post(tenant_view))
        .route("/folder", post(folder_view))
        .route("/tree", post(tree_route))
        .route("/ingest", post(ingest))
        .with_state(Arc::new(limit));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((address, task))
}

/// The month keys covering `[from, until)`: the limit reads the monthly rollups only, which
/// the benchmark's pinned clock (the last day of a month) and bundle (starting on the 1st)
/// make exact.
fn whole_months(from: NaiveDate, until: NaiveDate) -> anyhow::Result<(NaiveDate, NaiveDate)> {
    let split = quotagraph::domain::rollup::split(from, until);
    match split.months {
        Some(months) if split.days.is_empty() => Ok(months),
        _ => anyhow::bail!("the limit reads whole months only, not {from}..{until}"),
    }
}
