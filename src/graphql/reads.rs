//! What the fields of one usage answer share: the report, the caller's scope, and the
//! analytics and attribution data, each loaded once on first use, so every tenant card of
//! a dashboard query reads from the same few statements.

use std::sync::Arc;

use async_graphql::{Context, SelectionField, connection::Connection};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{
    analytics::{ServiceBreakdown, UsageBucket},
    attribution::{FolderUsage, ProcessUsage, process_page},
    session,
};
use crate::domain::forecast::Forecast;
use crate::domain::{
    analytics::Granularity,
    attribution::{Attribution, CountedFolders},
};
use crate::service::{
    analytics::{self, DailyUsage},
    attribution::{self, Attributed, Detail, FolderDays},
    usage::{self, RecentConsumption, UsageReport},
};

pub struct Reads {
    pub report: Arc<UsageReport>,
    /// The one tenant these reads are narrowed to (a tenant's view), if any; the report's
    /// scope narrows them further for a key limited to a tenant.
    narrowed: Option<Uuid>,
    /// The attribution data at each [`Detail`]; a field reads the least detailed one it
    /// needs unless a more detailed one was loaded first.
    listed: OnceCell<Arc<Attributed>>,
    attributed: OnceCell<Arc<Attributed>>,
    chained: OnceCell<Arc<Attributed>>,
    daily: OnceCell<Arc<DailyUsage>>,
    /// By folder, day and service: what every folder row's distribution and byService cut.
    folder_days: OnceCell<FolderDays>,
    /// One folder's view: the only folders (its subtree, in its mode's column) its rows
    /// come from, so that it reads them and not its whole tenant's.
    subtree: Option<(Attribution, Vec<Uuid>)>,
    /// What every card's forecast measures its rate over.
    recent: OnceCell<RecentConsumption>,
}

impl Reads {
    pub fn new(report: UsageReport) -> Self {
        Reads {
            report: Arc::new(report),
            narrowed: None,
            listed: OnceCell::new(),
            attributed: OnceCell::new(),
            chained: OnceCell::new(),
            daily: OnceCell::new(),
            folder_days: OnceCell::new(),
            subtree: None,
            recent: OnceCell::new(),
        }
    }

    /// The same report read for one tenant: a tenant's view then loads that tenant's rows
    /// only, not the whole organization's.
    pub fn narrowed(&self, tenant: Uuid) -> Self {
        Reads {
            report: self.report.clone(),
            narrowed: Some(tenant),
            listed: OnceCell::new(),
            attributed: OnceCell::new(),
            chained: OnceCell::new(),
            daily: OnceCell::new(),
            folder_days: OnceCell::new(),
            subtree: None,
            recent: OnceCell::new(),
        }
    }

    async fn daily(&self, ctx: &Context<'_>) -> async_graphql::Result<&DailyUsage> {
        let (app, _) = session(ctx)?;
        Ok(self
            .daily
            .get_or_try_init(|| analytics::daily(app, &self.report, self.narrowed))
            .await?
            .as_ref())
    }

    /// The forecast of the organization (`None`) or of the tenant at `index` of the figures.
    pub async fn forecast(&self, ctx: &Context<'_>, index: Option<usize>) -> async_graphql::Result<Forecast> {
        let (app, _) = session(ctx)?;
        let recent = self
            .recent
            .get_or_try_init(|| usage::recent_consumption(&app.db, &self.report))
            .await?;
        Ok(match index {
            Some(index) => self.report.tenant_forecast(index, recent),
            None => self.report.organization_forecast(recent),
        })
    }

    /// The attribution data at `detail`; a request that already loaded more detail reuses
    /// it instead of loading again. `subtree_of` narrows the sums at [`Detail::Folders`] to
    /// one folder's subtree (its view).
    async fn attributed(
        &self,
        ctx: &Context<'_>,
        detail: Detail,
        subtree_of: Option<Uuid>,
    ) -> async_graphql::Result<Arc<Attributed>> {
        let (app, _) = session(ctx)?;
        let richer: &[&OnceCell<Arc<Attributed>>] = match detail {
            Detail::Lists => &[&self.chained, &self.attributed],
            Detail::Folders => &[&self.chained],
            Detail::Chains => &[],
        };
        if let Some(loaded) = richer.iter().find_map(|cell| cell.get()) {
            return Ok(loaded.clone());
        }
        let cell = match detail {
            Detail::Lists => &self.listed,
            Detail::Folders => &self.attributed,
            Detail::Chains => &self.chained,
        };
        let loaded = cell
            .get_or_try_init(|| async {
                attribution::load(app, &self.report, self.narrowed, detail, subtree_of)
                    .await
                    .map(Arc::new)
            })
            .await?;
        Ok(loaded.clone())
    }

    pub async fn distribution(
        &self,
        ctx: &Context<'_>,
        granularity: Granularity,
        tenant: Option<Uuid>,
    ) -> async_graphql::Result<Vec<UsageBucket>> {
        let daily = self.daily(ctx).await?;
        Ok(daily
            .distribution(granularity, self.report.from, self.report.to, tenant)
            .into_iter()
            .map(UsageBucket)
            .collect())
    }

    pub async fn by_service(&self, ctx: &Context<'_>, tenant: Option<Uuid>) -> async_graphql::Result<ServiceBreakdown> {
        let (total, services) = self.daily(ctx).await?.by_service(tenant);
        Ok(ServiceBreakdown { total, services })
    }

    /// Folder rows without their processes read the lists; with them, EXECUTION rows need
    /// the sums by process and folder, OWNERSHIP rows the chains.
    fn detail(ctx: &Context<'_>, mode: Attribution) -> Detail {
        match (selects(ctx.field(), "processes"), mode) {
            (false, _) => Detail::Lists,
            (true, Attribution::Execution) => Detail::Folders,
            (true, Attribution::Ownership) => Detail::Chains,
        }
    }

    pub async fn folders(
        self: &Arc<Self>,
        ctx: &Context<'_>,
        mode: Attribution,
        tenant: Option<Uuid>,
    ) -> async_graphql::Result<Vec<FolderUsage>> {
        let attributed = self.attributed(ctx, Self::detail(ctx, mode), None).await?;
        Ok(attributed
            .folders(mode, tenant)
            .into_iter()
            .map(|figure| FolderUsage::new(self.clone(), attributed.clone(), mode, tenant, figure))
            .collect())
    }

    /// One folder's row, as its tenant's list has it; `None` when the caller does not see
    /// the folder. Reads that tenant's rows only.
    pub async fn folder(
        &self,
        ctx: &Context<'_>,
        folder: Uuid,
        mode: Attribution,
    ) -> async_graphql::Result<Option<FolderUsage>> {
        let (app, _) = session(ctx)?;
        let Some(tenant) = attribution::folder_tenant(&app.db, &self.report, folder).await? else {
            return Ok(None);
        };
        let mut reads = self.narrowed(tenant);
        // Its EXECUTION rows lie in its subtree; OWNERSHIP rows are placed by owner.
        let subtree_of = (mode == Attribution::Execution).then_some(folder);
        let attributed = reads.attributed(ctx, Self::detail(ctx, mode), subtree_of).await?;
        // Its subfolders' rows, the only others it shows, are in its subtree.
        if let CountedFolders::Subtree(ids) = attributed.counted(Some(tenant), Some(folder)) {
            reads.subtree = Some((mode, ids.into_iter().collect()));
        }
        let reads = Arc::new(reads);
        Ok(attributed
            .folder_figure(mode, tenant, folder)
            .map(|figure| FolderUsage::new(reads.clone(), attributed.clone(), mode, Some(tenant), figure)))
    }

    /// What the folder row of `folder` (`None`: "no folder") counts, by day and service.
    async fn folder_usage(
        &self,
        ctx: &Context<'_>,
        attributed: &Attributed,
        mode: Attribution,
        tenant: Option<Uuid>,
        folder: Option<Uuid>,
    ) -> async_graphql::Result<DailyUsage> {
        let (app, _) = session(ctx)?;
        let days = self
            .folder_days
            .get_or_try_init(|| {
                let only = self.subtree.as_ref().map(|(mode, ids)| (*mode, ids.as_slice()));
                attribution::folder_days(&app.db, &self.report, self.narrowed, only)
            })
            .await?;
        Ok(days.usage(mode, tenant, &attributed.counted(tenant, folder)))
    }

    pub async fn folder_distribution(
        &self,
        ctx: &Context<'_>,
        attributed: &Attributed,
        mode: Attribution,
        tenant: Option<Uuid>,
        folder: Option<Uuid>,
        granularity: Granularity,
    ) -> async_graphql::Result<Vec<UsageBucket>> {
        let usage = self.folder_usage(ctx, attributed, mode, tenant, folder).await?;
        Ok(usage
            .distribution(granularity, self.report.from, self.report.to, None)
            .into_iter()
            .map(UsageBucket)
            .collect())
    }

    pub async fn folder_by_service(
        &self,
        ctx: &Context<'_>,
        attributed: &Attributed,
        mode: Attribution,
        tenant: Option<Uuid>,
        folder: Option<Uuid>,
    ) -> async_graphql::Result<ServiceBreakdown> {
        let (total, services) = self
            .folder_usage(ctx, attributed, mode, tenant, folder)
            .await?
            .by_service(None);
        Ok(ServiceBreakdown { total, services })
    }

    pub async fn processes(
        &self,
        ctx: &Context<'_>,
        mode: Attribution,
        tenant: Option<Uuid>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, ProcessUsage>> {
        let detail = match mode {
            Attribution::Execution => Detail::Lists,
            Attribution::Ownership => Detail::Chains,
        };
        let attributed = self.attributed(ctx, detail, None).await?;
        let figures = attributed.processes(mode, tenant);
        Ok(process_page(attributed, figures, first, after)?)
    }
}

/// Whether a field named `name` is selected anywhere below `field`.
fn selects(field: SelectionField<'_>, name: &str) -> bool {
    field
        .selection_set()
        .any(|child| child.name() == name || selects(child, name))
}
