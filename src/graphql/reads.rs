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
use crate::domain::{analytics::Granularity, attribution::Attribution};
use crate::service::{
    analytics::{self, DailyUsage},
    attribution::{self, Attributed, Detail},
    usage::UsageReport,
};

pub struct Reads {
    pub report: Arc<UsageReport>,
    /// The one tenant these reads are narrowed to (a tenant's view), if any; the report's
    /// scope narrows them further for a key limited to a tenant.
    narrowed: Option<Uuid>,
    /// Loaded with [`Detail::Folders`] unless a field needs the chains first.
    attributed: OnceCell<Arc<Attributed>>,
    chained: OnceCell<Arc<Attributed>>,
    daily: OnceCell<DailyUsage>,
}

impl Reads {
    pub fn new(report: UsageReport) -> Self {
        Reads {
            report: Arc::new(report),
            narrowed: None,
            attributed: OnceCell::new(),
            chained: OnceCell::new(),
            daily: OnceCell::new(),
        }
    }

    /// The same report read for one tenant: a tenant's view then loads that tenant's rows
    /// only, not the whole organization's.
    pub fn narrowed(&self, tenant: Uuid) -> Self {
        Reads {
            report: self.report.clone(),
            narrowed: Some(tenant),
            attributed: OnceCell::new(),
            chained: OnceCell::new(),
            daily: OnceCell::new(),
        }
    }

    async fn daily(&self, ctx: &Context<'_>) -> async_graphql::Result<&DailyUsage> {
        let (app, _) = session(ctx)?;
        Ok(self
            .daily
            .get_or_try_init(|| analytics::daily(&app.db, &self.report, self.narrowed))
            .await?)
    }

    /// The attribution data at `detail`; a request that already loaded the chains reuses
    /// them for folder figures instead of loading again.
    async fn attributed(&self, ctx: &Context<'_>, detail: Detail) -> async_graphql::Result<Arc<Attributed>> {
        let (app, _) = session(ctx)?;
        let cell = match detail {
            Detail::Chains => &self.chained,
            Detail::Folders => match self.chained.get() {
                Some(chained) => return Ok(chained.clone()),
                None => &self.attributed,
            },
        };
        let loaded = cell
            .get_or_try_init(|| async {
                attribution::load(&app.db, &self.report, self.narrowed, detail)
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

    pub async fn folders(
        &self,
        ctx: &Context<'_>,
        mode: Attribution,
        tenant: Option<Uuid>,
    ) -> async_graphql::Result<Vec<FolderUsage>> {
        let detail = if mode == Attribution::Ownership && selects(ctx.field(), "processes") {
            Detail::Chains
        } else {
            Detail::Folders
        };
        let attributed = self.attributed(ctx, detail).await?;
        Ok(attributed
            .folders(mode, tenant)
            .into_iter()
            .map(|figure| FolderUsage::new(attributed.clone(), figure))
            .collect())
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
            Attribution::Execution => Detail::Folders,
            Attribution::Ownership => Detail::Chains,
        };
        let attributed = self.attributed(ctx, detail).await?;
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
