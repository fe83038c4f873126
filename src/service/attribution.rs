//! Folder and process figures (docs/design.md §4) for one range: loaded in a fixed number of
//! statements (sums, folders, chain nodes, processes) and computed by
//! `domain::attribution`. Also the one-time attribution of usage recorded before the
//! attribution rollup existed.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::{AppContext, OrgScope, Seen, analytics::DailyUsage, memo::RangeKey, usage::UsageReport};
use crate::domain::{
    Quantity,
    attribution::{
        self, AttributedSum, Attribution, AttributionInput, ChainNode, Chains, CountedFolders, FolderFigure,
        FolderNode, List, ListSum, Placement, ProcessFigure, Run,
    },
};
use crate::error::AppResult;
use crate::store::{self, Scope};
use entity::{folder, process, service, usage_attribution_daily, usage_attribution_services_daily};

/// The nil UUID stands for "none" in the rollup's key columns.
fn some(id: Uuid) -> Option<Uuid> {
    (!id.is_nil()).then_some(id)
}

/// Everything a scope's folder and process figures over one range are computed from.
#[derive(Clone, Debug)]
pub struct Attributed {
    scope: OrgScope,
    detail: Detail,
    /// Sums with their tenant ([`Detail::Folders`] and [`Detail::Chains`]).
    sums: Vec<(Uuid, AttributedSum)>,
    /// The lists' sums with their tenant ([`Detail::Lists`]).
    lists: Vec<(Uuid, ListSum)>,
    folders: Vec<folder::Model>,
    nodes: Vec<ChainNode>,
    processes: HashMap<Uuid, process::Model>,
    folder_models: HashMap<Uuid, folder::Model>,
}

impl Attributed {
    /// A folder the figures name.
    pub fn folder(&self, id: Uuid) -> Option<Seen<folder::Model>> {
        let folder = self.folder_models.get(&id)?.clone();
        Some(self.scope.seen(folder))
    }

    /// A process the figures name.
    pub fn process(&self, id: Uuid) -> Option<Seen<process::Model>> {
        let process = self.processes.get(&id)?.clone();
        Some(self.scope.seen(process))
    }

    fn tree(&self, tenant: Option<Uuid>) -> Vec<FolderNode> {
        folder_nodes(
            self.folders
                .iter()
                .filter(|f| tenant.is_none_or(|only| only == f.tenant_id)),
        )
    }

    fn lists(&self, tenant: Option<Uuid>) -> Vec<ListSum> {
        self.lists
            .iter()
            .filter(|(t, _)| tenant.is_none_or(|only| only == *t))
            .map(|(_, sum)| *sum)
            .collect()
    }

    fn input(&self, tenant: Option<Uuid>) -> AttributionInput {
        let mine = |t: Uuid| tenant.is_none_or(|only| only == t);
        AttributionInput {
            folders: self.tree(tenant),
            nodes: self.nodes.clone(),
            process_folders: self.processes.values().map(|p| (p.id, p.folder_id)).collect(),
            sums: self
                .sums
                .iter()
                .filter(|(t, _)| mine(*t))
                .map(|(_, sum)| *sum)
                .collect(),
        }
    }

    /// One folder's row of [`Attributed::folders`] for its tenant: the same figures as
    /// there, wherever it sits in the tree.
    pub fn folder_figure(&self, mode: Attribution, tenant: Uuid, folder: Uuid) -> Option<FolderFigure> {
        attribution::find_folder(&self.folders(mode, Some(tenant)), folder).cloned()
    }

    /// The folders of the rollup the row of `folder` (`None`: "no folder") counts, for one
    /// tenant or all of the scope.
    pub fn counted(&self, tenant: Option<Uuid>, folder: Option<Uuid>) -> CountedFolders {
        CountedFolders::of(&self.tree(tenant), folder)
    }

    /// Top-level folders then the "no folder" row, for one tenant or all of the scope. At
    /// [`Detail::Lists`] the rows have no processes.
    pub fn folders(&self, mode: Attribution, tenant: Option<Uuid>) -> Vec<FolderFigure> {
        match self.detail {
            Detail::Lists => attribution::folders_from_lists(mode, &self.tree(tenant), &self.lists(tenant)),
            Detail::Folders | Detail::Chains => attribution::folders(mode, &self.input(tenant)),
        }
    }

    /// Top-level processes, largest first, for one tenant or all of the scope. OWNERSHIP
    /// processes are there at [`Detail::Chains`] only.
    pub fn processes(&self, mode: Attribution, tenant: Option<Uuid>) -> Vec<ProcessFigure> {
        match (self.detail, mode) {
            (Detail::Lists, Attribution::Execution) => attribution::execution_processes_from_lists(&self.lists(tenant)),
            (Detail::Lists, Attribution::Ownership) => Vec::new(),
            (Detail::Folders | Detail::Chains, _) => attribution::processes(mode, &self.input(tenant)),
        }
    }
}

fn folder_nodes<'a>(folders: impl IntoIterator<Item = &'a folder::Model>) -> Vec<FolderNode> {
    folders
        .into_iter()
        .map(|f| FolderNode {
            id: f.id,
            parent: f.parent_id,
        })
        .collect()
}

/// What a read needs of the attribution rollup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Folder figures in both modes without their processes, and EXECUTION process
    /// figures: the sums by list, a row per row shown.
    Lists,
    /// Folder figures in both modes and EXECUTION process figures: sums by folder, owning
    /// folder and process. OWNERSHIP figures then have no processes.
    Folders,
    /// Everything, OWNERSHIP process figures too: sums by chain node and the chain tree.
    Chains,
}

/// Loads the attribution of a report's range, of one tenant or all the caller sees. With
/// `subtree_of`, the sums at [`Detail::Folders`] are those whose run folder lies in that
/// folder's subtree: a folder's view in EXECUTION reads its own rows, not its tenant's
/// (EXECUTION only: OWNERSHIP figures place a sum by its owning folder).
pub async fn load(
    ctx: &AppContext,
    report: &UsageReport,
    tenant: Option<Uuid>,
    detail: Detail,
    subtree_of: Option<Uuid>,
) -> AppResult<Attributed> {
    let db = &ctx.db;
    let scope = report.rows(tenant);
    let until = report.to.succ_opt().unwrap_or(report.to);
    let unit_type = report.unit_type.id;
    let folders = store::attribution::folders(db, scope).await?;
    let only: Option<Vec<Uuid>> = subtree_of.filter(|_| detail == Detail::Folders).and_then(|root| {
        match CountedFolders::of(&folder_nodes(&folders), Some(root)) {
            CountedFolders::Subtree(ids) => Some(ids.into_iter().collect()),
            CountedFolders::Unplaced { .. } => None,
        }
    });
    let (sums, lists) = match detail {
        Detail::Lists => {
            let key = RangeKey {
                scope,
                unit_type,
                from: report.from,
                until,
            };
            let read = load_lists(db, key);
            let lists = ctx
                .memo
                .kept_or_read(&ctx.memo.lists, scope.organization, key, async {
                    read.await.map(Arc::new)
                })
                .await?;
            (Vec::new(), lists.to_vec())
        }
        Detail::Folders | Detail::Chains => (
            load_sums(db, scope, unit_type, (report.from, until), detail, only.as_deref()).await?,
            Vec::new(),
        ),
    };
    let nodes: Vec<ChainNode> = if detail == Detail::Chains {
        store::attribution::nodes(db, scope).await?
    } else {
        Vec::new()
    }
    .into_iter()
    .map(|n| ChainNode {
        id: n.id,
        parent: n.parent_id,
        process: n.process_id,
    })
    .collect();
    let mut wanted: Vec<Uuid> = nodes
        .iter()
        .filter_map(|n| n.process)
        .chain(sums.iter().filter_map(|(_, s)| s.process))
        .chain(
            lists
                .iter()
                .filter(|(_, s)| s.list == List::Process)
                .filter_map(|(_, s)| s.item),
        )
        .collect();
    wanted.sort();
    wanted.dedup();
    let processes = store::folder::find_processes(db, scope, &wanted)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let folder_models = folders.iter().map(|f| (f.id, f.clone())).collect();
    Ok(Attributed {
        scope: *report.scope(),
        detail,
        sums,
        lists,
        folders,
        nodes,
        processes,
        folder_models,
    })
}

/// The rollup's sums over `[from, until)`, by chain node at [`Detail::Chains`].
async fn load_sums(
    db: &impl ConnectionTrait,
    scope: Scope,
    unit_type: Uuid,
    (from, until): (NaiveDate, NaiveDate),
    detail: Detail,
    only: Option<&[Uuid]>,
) -> AppResult<Vec<(Uuid, AttributedSum)>> {
    let by_node = detail == Detail::Chains;
    Ok(
        store::attribution::sums(db, scope, unit_type, from, until, by_node, only)
            .await?
            .into_iter()
            .map(|(tenant, folder, process, owner, node, quantity)| {
                (
                    tenant,
                    AttributedSum {
                        folder: some(folder),
                        process: some(process),
                        owner_folder: some(owner),
                        node,
                        quantity: Quantity::from_scaled(quantity),
                    },
                )
            })
            .collect(),
    )
}

/// The sums by list over `[from, until)`.
async fn load_lists(db: &impl ConnectionTrait, key: RangeKey) -> AppResult<Vec<(Uuid, ListSum)>> {
    Ok(
        store::attribution::list_sums(db, key.scope, key.unit_type, key.from, key.until)
            .await?
            .into_iter()
            .filter_map(|(tenant, list, item, quantity)| {
                let sum = ListSum {
                    list: List::from_number(list)?,
                    item: some(item),
                    quantity: Quantity::from_scaled(quantity),
                };
                Some((tenant, sum))
            })
            .collect(),
    )
}

/// The tenant of a folder the caller sees in the report's organization; `None` for any
/// other id, which then reads as unknown.
pub async fn folder_tenant(db: &impl ConnectionTrait, report: &UsageReport, folder: Uuid) -> AppResult<Option<Uuid>> {
    let found = store::folder::find_folder(db, report.rows(None), folder).await?;
    Ok(found.map(|f| f.tenant_id))
}

/// A scope's EXECUTION consumption over a range by tenant, day, run folder, owning folder
/// and service: what every folder row's distribution and by-service figures are cut from.
#[derive(Clone, Debug, Default)]
pub struct FolderDays {
    rows: Vec<FolderDay>,
    services: HashMap<Uuid, service::Model>,
}

#[derive(Clone, Copy, Debug)]
struct FolderDay {
    tenant: Uuid,
    day: NaiveDate,
    folder: Option<Uuid>,
    owner: Option<Uuid>,
    service: Uuid,
    quantity: Quantity,
}

impl FolderDays {
    /// The consumption a folder row counts in `mode` (`counted`, of one tenant or all of
    /// the scope), by day and service.
    pub fn usage(&self, mode: Attribution, tenant: Option<Uuid>, counted: &CountedFolders) -> DailyUsage {
        let rows = self
            .rows
            .iter()
            .filter(|r| tenant.is_none_or(|only| only == r.tenant))
            .filter(|r| {
                counted.counts(match mode {
                    Attribution::Execution => r.folder,
                    Attribution::Ownership => r.owner,
                })
            })
            .map(|r| (r.tenant, r.day, r.service, r.quantity))
            .collect();
        DailyUsage::new(rows, self.services.clone())
    }
}

/// Loads a report range's consumption by folder, day and service, of one tenant or all the
/// caller sees, or only of the folders `only` names in a mode: two statements, whatever the
/// number of folders.
pub async fn folder_days(
    db: &impl ConnectionTrait,
    report: &UsageReport,
    tenant: Option<Uuid>,
    only: Option<(Attribution, &[Uuid])>,
) -> AppResult<FolderDays> {
    let until = report.to.succ_opt().unwrap_or(report.to);
    let sums =
        store::attribution::service_sums(db, report.rows(tenant), report.unit_type.id, (report.from, until), only)
            .await?;
    let rows: Vec<FolderDay> = sums
        .into_iter()
        .map(|(tenant, day, folder, owner, service, quantity)| FolderDay {
            tenant,
            day,
            folder: some(folder),
            owner: some(owner),
            service,
            quantity: Quantity::from_scaled(quantity),
        })
        .collect();
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.service).collect();
    ids.sort();
    ids.dedup();
    let services = store::service_catalog::find_many(db, &ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    Ok(FolderDays { rows, services })
}

/// Attributes usage recorded before attribution existed, with the job-chain rule ingestion
/// uses (`domain::attribution::Chains`): every job gets its chain node and owning folder,
/// and the rollup is rebuilt from the events, organization by organization. Does nothing
/// when there is nothing to do. The service does this for itself at start, for no caller.
pub async fn backfill(db: &DatabaseConnection) -> AppResult<bool> {
    if !store::attribution::needs_backfill(db).await? {
        return Ok(false);
    }
    let tx = store::begin_write(db).await?;
    for organization in store::organization::all_ids(&tx).await? {
        backfill_organization(&tx, Scope::organization(organization)).await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn backfill_organization(tx: &sea_orm::DatabaseTransaction, scope: Scope) -> AppResult<()> {
    let jobs = store::attribution::jobs_oldest_first(tx, scope).await?;
    let runs = store::attribution::execution_sums_by_run(tx, scope).await?;
    let mut wanted: Vec<Uuid> = jobs
        .iter()
        .filter_map(|j| j.process_id)
        .chain(runs.iter().filter_map(|r| r.5))
        .collect();
    wanted.sort();
    wanted.dedup();
    let process_folders: HashMap<Uuid, Uuid> = store::folder::find_processes(tx, scope, &wanted)
        .await?
        .into_iter()
        .map(|p| (p.id, p.folder_id))
        .collect();
    let run = |tenant, process: Option<Uuid>, folder| Run {
        tenant,
        process,
        folder,
        process_folder: process.and_then(|p| process_folders.get(&p).copied()),
    };
    let mut chains = Chains::default();
    // A parent is always recorded before its child, so it is placed first.
    let mut placed: HashMap<Uuid, Placement> = HashMap::new();
    for job in &jobs {
        let parent = job.parent_id.and_then(|p| placed.get(&p).copied());
        let placement = chains.place(run(job.tenant_id, job.process_id, job.folder_id), parent);
        placed.insert(job.id, placement);
    }
    let mut rows = RollupRows::default();
    for (organization, tenant, unit_type, day, job, process, folder, service, quantity, events) in runs {
        let placement = match job.and_then(|j| placed.get(&j).copied()) {
            Some(placement) => placement,
            None => chains.place(run(tenant, process, folder), None),
        };
        let key = RollupKey {
            tenant,
            unit_type,
            day,
            folder: attribution::execution_folder(folder, run(tenant, process, folder).process_folder),
            process,
            owner: placement.owner,
            node: placement.node,
        };
        rows.add(key, organization, service, quantity, events);
    }
    store::attribution::insert_chain_nodes(tx, chains.into_nodes(), |_| scope.organization).await?;
    for job in &jobs {
        if let Some(placement) = placed.get(&job.id)
            && (job.node_id != Some(placement.node) || job.owner_folder_id != placement.owner)
        {
            store::attribution::place_job(tx, job.id, placement.node, placement.owner).await?;
        }
    }
    store::attribution::clear_rollups(tx, scope).await?;
    rows.write(tx).await
}

/// The rollup row an EXECUTION event adds to; `None` is stored as the nil UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RollupKey {
    pub(crate) tenant: Uuid,
    pub(crate) unit_type: Uuid,
    pub(crate) day: NaiveDate,
    pub(crate) folder: Option<Uuid>,
    pub(crate) process: Option<Uuid>,
    pub(crate) owner: Option<Uuid>,
    pub(crate) node: Uuid,
}

impl RollupKey {
    fn row(self, organization: Uuid) -> usage_attribution_daily::Model {
        usage_attribution_daily::Model {
            tenant_id: self.tenant,
            unit_type_id: self.unit_type,
            day: self.day,
            folder_id: self.folder.unwrap_or_default(),
            process_id: self.process.unwrap_or_default(),
            owner_folder_id: self.owner.unwrap_or_default(),
            node_id: self.node,
            organization_id: organization,
            quantity: 0,
            events: 0,
        }
    }

    /// Its row of the rollup by service.
    fn by_service(self, organization: Uuid, service: Uuid) -> usage_attribution_services_daily::Model {
        usage_attribution_services_daily::Model {
            organization_id: organization,
            unit_type_id: self.unit_type,
            day: self.day,
            tenant_id: self.tenant,
            folder_id: self.folder.unwrap_or_default(),
            owner_folder_id: self.owner.unwrap_or_default(),
            service_id: service,
            quantity: 0,
        }
    }
}

/// A row of the rollup by service: tenant, unit type, day, run folder, owning folder and
/// service. It has no process nor node (a folder's figures by day and service need
/// neither), so runs that differ only there share it.
type ServiceKey = (Uuid, Uuid, NaiveDate, Option<Uuid>, Option<Uuid>, Uuid);

/// What EXECUTION events add to the attribution rollups, gathered before one write: each
/// row once, so one statement never touches a row twice.
#[derive(Debug, Default)]
pub(crate) struct RollupRows {
    attributed: HashMap<RollupKey, usage_attribution_daily::Model>,
    by_service: HashMap<ServiceKey, usage_attribution_services_daily::Model>,
}

impl RollupRows {
    /// Adds `quantity` (ten-thousandths) of `events` events of `service` at `key`.
    pub(crate) fn add(&mut self, key: RollupKey, organization: Uuid, service: Uuid, quantity: i64, events: i64) {
        let row = self.attributed.entry(key).or_insert_with(|| key.row(organization));
        row.quantity += quantity;
        row.events += events;
        let row = self
            .by_service
            .entry((key.tenant, key.unit_type, key.day, key.folder, key.owner, service))
            .or_insert_with(|| key.by_service(organization, service));
        row.quantity += quantity;
    }

    pub(crate) async fn write(self, db: &impl ConnectionTrait) -> AppResult<()> {
        store::attribution::add_to_rollups(db, self.attributed.into_values().collect()).await?;
        store::attribution::add_to_service_rollup(db, self.by_service.into_values().collect()).await?;
        Ok(())
    }

    /// Takes what was gathered off the rollups (voided events), in the order
    /// [`RollupRows::write`] adds.
    pub(crate) async fn remove(self, db: &impl ConnectionTrait) -> AppResult<()> {
        store::attribution::remove_from_rollups(db, self.attributed.into_values().collect()).await?;
        store::attribution::remove_from_service_rollup(db, self.by_service.into_values().collect()).await?;
        Ok(())
    }
}
