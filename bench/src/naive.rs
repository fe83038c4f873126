//! "The naive peer": a second async-graphql schema that answers the same dashboard,
//! tenant view, folder view and tree queries the way a first version would: every field runs its own
//! queries, sums raw usage events (no rollups), and nested lists query once per parent.

use std::collections::HashMap;

use async_graphql::{Context, EmptyMutation, EmptySubscription, Enum, ID, Object, Schema, SimpleObject};
use chrono::NaiveDate;
use quotagraph::domain::{
    Quantity,
    metrics::{self, TenantSums},
    period::{Bundle, LicenseTerms},
    tenant::TenantState,
};
use quotagraph::graphql::node::{Kind, decode_any, encode};
use quotagraph::service::bundle::bundles_of;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryResult, Statement,
};
use uuid::Uuid;

use crate::check::{FolderRow, TenantSumsByKind};
use crate::expected::today;

type Result<T> = async_graphql::Result<T>;

fn q(scaled: i64) -> String {
    Quantity::from_scaled(scaled).to_string()
}

async fn rows(ctx: &Context<'_>, sql: &str, values: Vec<sea_orm::Value>) -> Result<Vec<QueryResult>> {
    let db = ctx.data::<DatabaseConnection>()?;
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_owned()
    };
    Ok(db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?)
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> Result<T> {
    Ok(row.try_get("", column)?)
}

pub struct NaiveQuery;

#[Object]
impl NaiveQuery {
    async fn organization(&self, id: ID) -> Option<NaiveOrganization> {
        match decode_any(&id)? {
            (Kind::Organization, id) => Some(NaiveOrganization { id }),
            _ => None,
        }
    }
}

pub type NaiveSchema = Schema<NaiveQuery, EmptyMutation, EmptySubscription>;

/// The schema over its own connection (its statements are counted apart).
pub fn schema(db: DatabaseConnection) -> NaiveSchema {
    Schema::build(NaiveQuery, EmptyMutation, EmptySubscription)
        .data(db)
        .finish()
}

pub struct NaiveOrganization {
    id: Uuid,
}

/// The current bundle of a unit type (two statements).
async fn current(ctx: &Context<'_>, org: Uuid, code: &str) -> Result<(Uuid, LicenseTerms, Bundle)> {
    let unit: Uuid = get(
        rows(ctx, "SELECT id FROM unit_types WHERE code = $1", vec![code.into()])
            .await?
            .first()
            .ok_or("unknown unit type")?,
        "id",
    )?;
    let licenses = entity::license::Entity::find()
        .filter(entity::license::Column::OrganizationId.eq(org))
        .filter(entity::license::Column::UnitTypeId.eq(unit))
        .all(ctx.data::<DatabaseConnection>()?)
        .await?;
    // The bench sells no top-ups.
    let current = bundles_of(&licenses, &[], today())
        .map_err(|e| e.message())?
        .into_iter()
        .find(|b| b.current)
        .ok_or("no current bundle")?;
    Ok((unit, current.terms, current.bundle))
}

#[Object]
impl NaiveOrganization {
    async fn usage(&self, ctx: &Context<'_>, unit_type: String) -> Result<NaiveUsage> {
        let (unit, terms, bundle) = current(ctx, self.id, &unit_type).await?;
        Ok(NaiveUsage {
            org: self.id,
            unit,
            bundle,
            limit: terms.limit(&bundle),
        })
    }

    async fn quota(&self, ctx: &Context<'_>, unit_type: String) -> Result<NaiveQuota> {
        let (unit, terms, bundle) = current(ctx, self.id, &unit_type).await?;
        let used: i64 = get(
            rows(
                ctx,
                "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) AS total FROM usage_events \
                 WHERE organization_id = $1 AND unit_type_id = $2 AND kind = 'EXECUTION' AND day >= $3 AND day < $4",
                vec![self.id.into(), unit.into(), bundle.start.into(), bundle.end.into()],
            )
            .await?
            .first()
            .ok_or("no sum")?,
            "total",
        )?;
        let view = metrics::quota_view(&terms, &bundle, Quantity::from_scaled(used));
        Ok(NaiveQuota {
            used: view.used.to_string(),
            quota: view.quota.to_string(),
            limit: view.limit.to_string(),
            remaining: view.remaining.to_string(),
            burst_active: view.burst_active,
            period_start: view.period_start.to_string(),
            period_end: view.period_end.to_string(),
            resets_on: view.resets_on.to_string(),
        })
    }

    async fn tenants(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<NaiveTenantEdges> {
        let rows = rows(
            ctx,
            "SELECT id, name FROM tenants WHERE organization_id = $1 ORDER BY id LIMIT $2",
            vec![self.id.into(), i64::from(first.unwrap_or(50)).into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NaiveTreeTenant {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(NaiveTenantEdges::of)
    }
}

/// A connection's edges, as far as the tree query reads them.
macro_rules! edges {
    ($edges:ident, $edge:ident, $node:ty) => {
        #[derive(SimpleObject)]
        pub struct $edge {
            node: $node,
        }

        #[derive(SimpleObject)]
        pub struct $edges {
            edges: Vec<$edge>,
        }

        impl $edges {
            fn of(nodes: Vec<$node>) -> Self {
                $edges {
                    edges: nodes.into_iter().map(|node| $edge { node }).collect(),
                }
            }
        }
    };
}

edges!(NaiveTenantEdges, NaiveTenantEdge, NaiveTreeTenant);
edges!(NaiveFolderEdges, NaiveFolderEdge, NaiveTreeFolder);
edges!(NaiveProcessEdges, NaiveProcessEdge, NaiveTreeProcess);
edges!(NaiveProcessUsageEdges, NaiveProcessUsageEdge, NaiveProcessUsage);

pub struct NaiveTreeTenant {
    id: Uuid,
    name: String,
}

#[Object]
impl NaiveTreeTenant {
    async fn id(&self) -> ID {
        encode(Kind::Tenant, self.id)
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn folders(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<NaiveFolderEdges> {
        let rows = rows(
            ctx,
            "SELECT id, name FROM folders WHERE tenant_id = $1 AND parent_id IS NULL ORDER BY id LIMIT $2",
            vec![self.id.into(), i64::from(first.unwrap_or(50)).into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NaiveTreeFolder {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(NaiveFolderEdges::of)
    }
}

pub struct NaiveTreeFolder {
    id: Uuid,
    name: String,
}

#[Object]
impl NaiveTreeFolder {
    async fn id(&self) -> ID {
        encode(Kind::Folder, self.id)
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn processes(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<NaiveProcessEdges> {
        let rows = rows(
            ctx,
            "SELECT id, name FROM processes WHERE folder_id = $1 ORDER BY id LIMIT $2",
            vec![self.id.into(), i64::from(first.unwrap_or(50)).into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NaiveTreeProcess {
                    id: encode(Kind::Process, get(r, "id")?),
                    name: get(r, "name")?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(NaiveProcessEdges::of)
    }
}

#[derive(SimpleObject)]
pub struct NaiveTreeProcess {
    id: ID,
    name: String,
}

#[derive(SimpleObject)]
pub struct NaiveQuota {
    used: String,
    quota: String,
    limit: String,
    remaining: String,
    burst_active: bool,
    period_start: String,
    period_end: String,
    resets_on: String,
}

#[derive(Clone, Copy)]
pub struct NaiveUsage {
    org: Uuid,
    unit: Uuid,
    bundle: Bundle,
    /// What the organization may consume in the bundle (its burst limit).
    limit: Quantity,
}

/// Every tenant's sums, from the raw events (three statements, one of them a full sum).
async fn organization_sums(ctx: &Context<'_>, usage: &NaiveUsage) -> Result<Vec<(Uuid, String, TenantSums)>> {
    let tenants = rows(
        ctx,
        "SELECT id, name, state FROM tenants WHERE organization_id = $1 ORDER BY id",
        vec![usage.org.into()],
    )
    .await?;
    let mut allocated: HashMap<Uuid, Option<i64>> = HashMap::new();
    for row in rows(
        ctx,
        "SELECT a.tenant_id, a.amount FROM allocations a JOIN tenants t ON t.id = a.tenant_id \
         WHERE t.organization_id = $1 AND a.unit_type_id = $2 AND a.effective_from <= $3 ORDER BY a.effective_from, a.id",
        vec![usage.org.into(), usage.unit.into(), today().into()],
    )
    .await?
    {
        allocated.insert(get(&row, "tenant_id")?, get(&row, "amount")?);
    }
    let mut consumed: HashMap<Uuid, i64> = HashMap::new();
    for row in rows(
        ctx,
        "SELECT tenant_id, CAST(SUM(quantity) AS BIGINT) AS total FROM usage_events \
         WHERE organization_id = $1 AND unit_type_id = $2 AND kind = 'EXECUTION' AND day >= $3 AND day <= $4 \
         GROUP BY tenant_id",
        vec![
            usage.org.into(),
            usage.unit.into(),
            usage.bundle.start.into(),
            today().into(),
        ],
    )
    .await?
    {
        consumed.insert(get(&row, "tenant_id")?, get(&row, "total")?);
    }
    tenants
        .iter()
        .map(|row| {
            let id: Uuid = get(row, "id")?;
            let state: String = get(row, "state")?;
            Ok((
                id,
                get(row, "name")?,
                TenantSums {
                    state: state.parse::<TenantState>()?,
                    allocated: allocated.get(&id).copied().flatten().map(Quantity::from_scaled),
                    consumed_before: Quantity::ZERO,
                    consumed_in_range: Quantity::from_scaled(consumed.get(&id).copied().unwrap_or(0)),
                },
            ))
        })
        .collect()
}

async fn organization_figures(ctx: &Context<'_>, usage: &NaiveUsage) -> Result<metrics::OrganizationFigures> {
    let sums: Vec<TenantSums> = organization_sums(ctx, usage)
        .await?
        .into_iter()
        .map(|(_, _, s)| s)
        .collect();
    Ok(metrics::organization_figures(usage.bundle.capacity, usage.limit, &sums))
}

#[derive(SimpleObject)]
pub struct NaiveCapacityCard {
    mode: String,
    value: String,
}

#[derive(SimpleObject)]
pub struct NaiveBreakdown {
    consumed_from_allocated: String,
    consumed_from_organization: String,
    remaining: String,
}

#[Object]
impl NaiveUsage {
    async fn from(&self) -> String {
        self.bundle.start.to_string()
    }

    async fn to(&self) -> String {
        today().to_string()
    }

    async fn total_capacity(&self) -> String {
        self.bundle.capacity.to_string()
    }

    async fn consumed(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(organization_figures(ctx, self).await?.consumed.to_string())
    }

    async fn consumed_from_allocated(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(organization_figures(ctx, self)
            .await?
            .consumed_from_allocated
            .to_string())
    }

    async fn consumed_from_organization(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(organization_figures(ctx, self)
            .await?
            .consumed_from_organization
            .to_string())
    }

    async fn remaining(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(organization_figures(ctx, self).await?.remaining.to_string())
    }

    async fn allocated(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(organization_figures(ctx, self).await?.allocated.to_string())
    }

    async fn available_for_allocation(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(organization_figures(ctx, self)
            .await?
            .available_for_allocation
            .to_string())
    }

    async fn overage(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(organization_figures(ctx, self).await?.overage.to_string())
    }

    async fn over_allocation(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(organization_figures(ctx, self).await?.over_allocation.to_string())
    }

    async fn status(&self, ctx: &Context<'_>) -> Result<&'static str> {
        Ok(organization_figures(ctx, self).await?.status.as_str())
    }

    async fn capacity_card(&self, ctx: &Context<'_>) -> Result<NaiveCapacityCard> {
        let card = organization_figures(ctx, self).await?.capacity_card;
        Ok(NaiveCapacityCard {
            mode: card.mode.as_str().into(),
            value: card.value.to_string(),
        })
    }

    async fn breakdown(&self, ctx: &Context<'_>) -> Result<NaiveBreakdown> {
        let o = organization_figures(ctx, self).await?;
        Ok(NaiveBreakdown {
            consumed_from_allocated: o.consumed_from_allocated.to_string(),
            consumed_from_organization: o.consumed_from_organization.to_string(),
            remaining: o.remaining.to_string(),
        })
    }

    async fn tenants(&self, ctx: &Context<'_>) -> Result<Vec<NaiveCard>> {
        Ok(organization_sums(ctx, self)
            .await?
            .into_iter()
            .map(|(id, name, sums)| NaiveCard {
                usage: *self,
                id,
                name,
                state: sums.state,
            })
            .collect())
    }

    /// One folder's view; EXECUTION only (the benchmark asks no other).
    async fn folder(
        &self,
        ctx: &Context<'_>,
        id: ID,
        attribution: NaiveAttribution,
    ) -> Result<Option<NaiveFolderView>> {
        if attribution != NaiveAttribution::Execution {
            return Err("the naive peer's folder view is EXECUTION only".into());
        }
        let Some((Kind::Folder, id)) = decode_any(&id) else {
            return Ok(None);
        };
        let found = rows(
            ctx,
            "SELECT f.tenant_id FROM folders f JOIN tenants t ON t.id = f.tenant_id \
             WHERE f.id = $1 AND t.organization_id = $2",
            vec![id.into(), self.org.into()],
        )
        .await?;
        let Some(row) = found.first() else {
            return Ok(None);
        };
        Ok(Some(NaiveFolderView {
            usage: *self,
            id,
            tenant: get(row, "tenant_id")?,
        }))
    }

    async fn tenant(&self, ctx: &Context<'_>, id: ID) -> Result<Option<NaiveCard>> {
        let Some((Kind::Tenant, id)) = decode_any(&id) else {
            return Ok(None);
        };
        let row = rows(
            ctx,
            "SELECT name, state FROM tenants WHERE id = $1 AND organization_id = $2",
            vec![id.into(), self.org.into()],
        )
        .await?;
        let Some(row) = row.first() else {
            return Ok(None);
        };
        let state: String = get(row, "state")?;
        Ok(Some(NaiveCard {
            usage: *self,
            id,
            name: get(row, "name")?,
            state: state.parse::<TenantState>()?,
        }))
    }
}

pub struct NaiveCard {
    usage: NaiveUsage,
    id: Uuid,
    name: String,
    state: TenantState,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum NaiveGranularity {
    Day,
    Week,
    Month,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum NaiveAttribution {
    Execution,
    Ownership,
}

#[derive(SimpleObject)]
pub struct NaiveTenantRef {
    id: ID,
}

#[derive(SimpleObject)]
pub struct NaiveBucket {
    start: String,
    end: String,
    consumed: String,
}

#[derive(SimpleObject)]
pub struct NaiveServiceRef {
    code: String,
    name: String,
}

#[derive(SimpleObject)]
pub struct NaiveServiceUsage {
    service: NaiveServiceRef,
    consumed: String,
    share: f64,
    percent: f64,
}

#[derive(SimpleObject)]
pub struct NaiveServiceBreakdown {
    total: String,
    services: Vec<NaiveServiceUsage>,
}

#[derive(SimpleObject)]
pub struct NaiveFolderRef {
    id: ID,
    name: String,
}

#[derive(SimpleObject)]
pub struct NaiveFolderUsage {
    folder: Option<NaiveFolderRef>,
    consumed: String,
    children: Vec<NaiveFolderUsage>,
}

#[derive(SimpleObject)]
pub struct NaiveProcessRef {
    id: ID,
    name: String,
}

#[derive(SimpleObject)]
pub struct NaiveProcessUsage {
    process: NaiveProcessRef,
    consumed: String,
}

impl NaiveCard {
    /// This tenant's sums (two statements, one a sum over its raw events).
    async fn sums(&self, ctx: &Context<'_>) -> Result<TenantSums> {
        let allocation = rows(
            ctx,
            "SELECT amount FROM allocations WHERE tenant_id = $1 AND unit_type_id = $2 AND effective_from <= $3 \
             ORDER BY effective_from DESC, id DESC LIMIT 1",
            vec![self.id.into(), self.usage.unit.into(), today().into()],
        )
        .await?;
        let allocated: Option<i64> = match allocation.first() {
            Some(row) => get(row, "amount")?,
            None => None,
        };
        let consumed: i64 = get(
            rows(
                ctx,
                "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) AS total FROM usage_events \
                 WHERE tenant_id = $1 AND unit_type_id = $2 AND kind = 'EXECUTION' AND day >= $3 AND day <= $4",
                vec![
                    self.id.into(),
                    self.usage.unit.into(),
                    self.usage.bundle.start.into(),
                    today().into(),
                ],
            )
            .await?
            .first()
            .ok_or("no sum")?,
            "total",
        )?;
        Ok(TenantSums {
            state: self.state,
            allocated: allocated.map(Quantity::from_scaled),
            consumed_before: Quantity::ZERO,
            consumed_in_range: Quantity::from_scaled(consumed),
        })
    }

    async fn figures(&self, ctx: &Context<'_>, available: Quantity) -> Result<metrics::TenantFigures> {
        Ok(metrics::tenant_figures(&self.sums(ctx).await?, available))
    }

    /// The figures that do not depend on the organization's.
    async fn own(&self, ctx: &Context<'_>) -> Result<metrics::TenantFigures> {
        self.figures(ctx, Quantity::ZERO).await
    }

    /// The tenant's raw events grouped by what the tenant view shows.
    async fn grouped(&self, ctx: &Context<'_>, columns: &str, joins: &str) -> Result<Vec<QueryResult>> {
        rows(
            ctx,
            &format!(
                "SELECT {columns}, CAST(SUM(e.quantity) AS BIGINT) AS total FROM usage_events e {joins} \
                 WHERE e.tenant_id = $1 AND e.unit_type_id = $2 AND e.kind = 'EXECUTION' AND e.day >= $3 AND e.day <= $4 \
                 GROUP BY {columns}"
            ),
            vec![
                self.id.into(),
                self.usage.unit.into(),
                self.usage.bundle.start.into(),
                today().into(),
            ],
        )
        .await
    }
}

#[Object]
impl NaiveCard {
    async fn tenant(&self) -> NaiveTenantRef {
        NaiveTenantRef {
            id: encode(Kind::Tenant, self.id),
        }
    }

    async fn display_name(&self) -> String {
        if self.state == TenantState::Deleted {
            self.id.to_string()
        } else {
            self.name.clone()
        }
    }

    async fn allocated(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.own(ctx).await?.allocated.map(|a| a.to_string()))
    }

    async fn consumed(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.own(ctx).await?.consumed.to_string())
    }

    async fn consumed_from_allocated(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.own(ctx).await?.consumed_from_allocated.to_string())
    }

    async fn consumed_from_organization(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.own(ctx).await?.consumed_from_organization.to_string())
    }

    async fn consumption_rate(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.own(ctx).await?.consumption_rate)
    }

    async fn remaining(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.own(ctx).await?.remaining.to_string())
    }

    async fn overage(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.own(ctx).await?.overage.to_string())
    }

    async fn available_for_allocation(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(organization_figures(ctx, &self.usage)
            .await?
            .available_for_allocation
            .to_string())
    }

    async fn status(&self, ctx: &Context<'_>) -> Result<&'static str> {
        Ok(self.own(ctx).await?.status.as_str())
    }

    async fn distribution(&self, ctx: &Context<'_>, granularity: NaiveGranularity) -> Result<Vec<NaiveBucket>> {
        distribution(&self.usage, granularity, &self.grouped(ctx, "e.day", "").await?)
    }

    async fn by_service(&self, ctx: &Context<'_>) -> Result<NaiveServiceBreakdown> {
        service_breakdown(
            &self
                .grouped(ctx, "s.code, s.name", "JOIN services s ON s.id = e.service_id")
                .await?,
        )
    }

    async fn folders(&self, ctx: &Context<'_>, attribution: NaiveAttribution) -> Result<Vec<NaiveFolderUsage>> {
        // Whom a run is owed to: its chain's owning folder (kept on the job), else the
        // folder of its process, else where it ran.
        let grouped = match attribution {
            NaiveAttribution::Execution => self.grouped(ctx, "e.folder_id", "").await?,
            NaiveAttribution::Ownership => {
                self.grouped(
                    ctx,
                    "COALESCE(j.owner_folder_id, p.folder_id, e.folder_id)",
                    "LEFT JOIN jobs j ON j.id = e.job_id LEFT JOIN processes p ON p.id = e.process_id",
                )
                .await?
            }
        };
        let mut sums = TenantSumsByKind::default();
        for row in &grouped {
            let folder: Option<Uuid> = row.try_get_by_index(0)?;
            *sums.executed.entry(folder).or_default() += get::<i64>(row, "total")?;
        }
        for row in rows(
            ctx,
            "SELECT id, name, parent_id FROM folders WHERE tenant_id = $1 ORDER BY id",
            vec![self.id.into()],
        )
        .await?
        {
            sums.folders.push(FolderRow {
                id: get(&row, "id")?,
                name: get(&row, "name")?,
                parent: get(&row, "parent_id")?,
            });
        }
        let view = sums.tenant_view(serde_json::json!({}), self.usage.bundle.start, today());
        let rows_json = &view["organization"]["usage"]["tenant"]["execution"];
        Ok(serde_json::from_value::<Vec<FolderJson>>(rows_json.clone())?
            .into_iter()
            .map(FolderJson::into_usage)
            .collect())
    }

    async fn processes(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "attribution")] _attribution: NaiveAttribution,
        first: Option<i32>,
    ) -> Result<NaiveProcessUsageEdges> {
        let mut own: Vec<(Uuid, String, i64)> = self
            .grouped(ctx, "e.process_id, p.name", "JOIN processes p ON p.id = e.process_id")
            .await?
            .iter()
            .map(|r| Ok((get(r, "process_id")?, get(r, "name")?, get(r, "total")?)))
            .collect::<Result<Vec<_>>>()?;
        own.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        own.truncate(usize::try_from(first.unwrap_or(50)).unwrap_or(0));
        Ok(NaiveProcessUsageEdges::of(
            own.into_iter()
                .map(|(id, name, total)| NaiveProcessUsage {
                    process: NaiveProcessRef {
                        id: encode(Kind::Process, id),
                        name,
                    },
                    consumed: q(total),
                })
                .collect(),
        ))
    }
}

/// Buckets of the bundle so far from sums by day.
fn distribution(usage: &NaiveUsage, granularity: NaiveGranularity, by_day: &[QueryResult]) -> Result<Vec<NaiveBucket>> {
    let granularity = match granularity {
        NaiveGranularity::Day => quotagraph::domain::analytics::Granularity::Day,
        NaiveGranularity::Week => quotagraph::domain::analytics::Granularity::Week,
        NaiveGranularity::Month => quotagraph::domain::analytics::Granularity::Month,
    };
    let daily = by_day
        .iter()
        .map(|r| Ok((get::<NaiveDate>(r, "day")?, Quantity::from_scaled(get(r, "total")?))))
        .collect::<Result<Vec<_>>>()?;
    Ok(
        quotagraph::domain::analytics::distribution(granularity, usage.bundle.start, today(), &daily)
            .into_iter()
            .map(|b| NaiveBucket {
                start: b.start.to_string(),
                end: b.end.to_string(),
                consumed: b.consumed.to_string(),
            })
            .collect(),
    )
}

/// The breakdown from sums by service code and name.
fn service_breakdown(by_service: &[QueryResult]) -> Result<NaiveServiceBreakdown> {
    let mut rows = by_service
        .iter()
        .map(|r| {
            Ok((
                (get::<String>(r, "code")?, get::<String>(r, "name")?),
                Quantity::from_scaled(get(r, "total")?),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    rows.sort();
    let (total, shares) = quotagraph::domain::analytics::by_service(&rows);
    Ok(NaiveServiceBreakdown {
        total: total.to_string(),
        services: shares
            .into_iter()
            .map(|s| NaiveServiceUsage {
                share: s.share,
                percent: s.percent(),
                consumed: s.consumed.to_string(),
                service: NaiveServiceRef {
                    code: s.service.0,
                    name: s.service.1,
                },
            })
            .collect(),
    })
}

/// One folder in EXECUTION: every field finds the folder's subtree and sums the raw
/// events that ran there (the folder they name, else their process's).
pub struct NaiveFolderView {
    usage: NaiveUsage,
    id: Uuid,
    tenant: Uuid,
}

#[derive(SimpleObject)]
pub struct NaiveTenantInfo {
    id: ID,
    name: String,
}

#[derive(SimpleObject)]
pub struct NaiveFolderInfo {
    name: String,
    tenant: NaiveTenantInfo,
}

#[derive(SimpleObject)]
pub struct NaiveFolderProcess {
    process: NaiveProcessRef,
    own: String,
    consumed: String,
}

impl NaiveFolderView {
    /// `folder` and every folder below it (one statement).
    async fn subtree(&self, ctx: &Context<'_>, folder: Uuid) -> Result<Vec<Uuid>> {
        let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for row in rows(
            ctx,
            "SELECT id, parent_id FROM folders WHERE tenant_id = $1",
            vec![self.tenant.into()],
        )
        .await?
        {
            if let Some(parent) = get::<Option<Uuid>>(&row, "parent_id")? {
                children.entry(parent).or_default().push(get(&row, "id")?);
            }
        }
        let mut folders = vec![folder];
        let mut i = 0;
        while i < folders.len() {
            folders.extend(children.get(&folders[i]).into_iter().flatten());
            i += 1;
        }
        Ok(folders)
    }

    /// The raw events of the bundle so far that ran in `folders`, grouped by `columns`
    /// (none: one total).
    async fn grouped(
        &self,
        ctx: &Context<'_>,
        folders: &[Uuid],
        columns: &str,
        joins: &str,
    ) -> Result<Vec<QueryResult>> {
        let list = (5..5 + folders.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let (select, group) = if columns.is_empty() {
            (String::new(), String::new())
        } else {
            (format!("{columns}, "), format!(" GROUP BY {columns}"))
        };
        let mut values: Vec<sea_orm::Value> = vec![
            self.tenant.into(),
            self.usage.unit.into(),
            self.usage.bundle.start.into(),
            today().into(),
        ];
        values.extend(folders.iter().map(|f| sea_orm::Value::from(*f)));
        rows(
            ctx,
            &format!(
                "SELECT {select}CAST(COALESCE(SUM(e.quantity), 0) AS BIGINT) AS total FROM usage_events e \
                 LEFT JOIN processes p ON p.id = e.process_id {joins} \
                 WHERE e.tenant_id = $1 AND e.unit_type_id = $2 AND e.kind = 'EXECUTION' AND e.day >= $3 AND e.day <= $4 \
                 AND COALESCE(e.folder_id, p.folder_id) IN ({list}){group}"
            ),
            values,
        )
        .await
    }

    /// What ran in `folder` and below it (two statements).
    async fn total(&self, ctx: &Context<'_>, folder: Uuid) -> Result<i64> {
        let folders = self.subtree(ctx, folder).await?;
        get(
            self.grouped(ctx, &folders, "", "").await?.first().ok_or("no sum")?,
            "total",
        )
    }
}

#[Object]
impl NaiveFolderView {
    async fn folder(&self, ctx: &Context<'_>) -> Result<NaiveFolderInfo> {
        let found = rows(
            ctx,
            "SELECT f.name, t.id AS tenant_id, t.name AS tenant_name FROM folders f JOIN tenants t ON t.id = f.tenant_id \
             WHERE f.id = $1",
            vec![self.id.into()],
        )
        .await?;
        let row = found.first().ok_or("no such folder")?;
        Ok(NaiveFolderInfo {
            name: get(row, "name")?,
            tenant: NaiveTenantInfo {
                id: encode(Kind::Tenant, get(row, "tenant_id")?),
                name: get(row, "tenant_name")?,
            },
        })
    }

    async fn consumed(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(q(self.total(ctx, self.id).await?))
    }

    /// Its subfolders, largest first (ties in creation order), each summed on its own.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<NaiveFolderUsage>> {
        let mut children = Vec::new();
        for row in rows(
            ctx,
            "SELECT id, name FROM folders WHERE parent_id = $1 ORDER BY id",
            vec![self.id.into()],
        )
        .await?
        {
            let id: Uuid = get(&row, "id")?;
            children.push((id, get::<String>(&row, "name")?, self.total(ctx, id).await?));
        }
        children.sort_by_key(|c| std::cmp::Reverse(c.2));
        Ok(children
            .into_iter()
            .map(|(id, name, consumed)| NaiveFolderUsage {
                folder: Some(NaiveFolderRef {
                    id: encode(Kind::Folder, id),
                    name,
                }),
                consumed: q(consumed),
                children: Vec::new(),
            })
            .collect())
    }

    /// The processes that ran directly in it, largest first (ties by id).
    async fn processes(&self, ctx: &Context<'_>) -> Result<Vec<NaiveFolderProcess>> {
        let mut own: Vec<(Uuid, String, i64)> = self
            .grouped(ctx, &[self.id], "e.process_id, p.name", "")
            .await?
            .iter()
            .filter_map(|r| {
                let process: Option<Uuid> = match get(r, "process_id") {
                    Ok(p) => p,
                    Err(e) => return Some(Err(e)),
                };
                process.map(|id| Ok((id, get(r, "name")?, get(r, "total")?)))
            })
            .collect::<Result<Vec<_>>>()?;
        own.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        Ok(own
            .into_iter()
            .map(|(id, name, total)| NaiveFolderProcess {
                process: NaiveProcessRef {
                    id: encode(Kind::Process, id),
                    name,
                },
                own: q(total),
                consumed: q(total),
            })
            .collect())
    }

    async fn distribution(&self, ctx: &Context<'_>, granularity: NaiveGranularity) -> Result<Vec<NaiveBucket>> {
        let folders = self.subtree(ctx, self.id).await?;
        distribution(
            &self.usage,
            granularity,
            &self.grouped(ctx, &folders, "e.day", "").await?,
        )
    }

    async fn by_service(&self, ctx: &Context<'_>) -> Result<NaiveServiceBreakdown> {
        let folders = self.subtree(ctx, self.id).await?;
        service_breakdown(
            &self
                .grouped(
                    ctx,
                    &folders,
                    "s.code, s.name",
                    "JOIN services s ON s.id = e.service_id",
                )
                .await?,
        )
    }
}

/// A folder row as the shared answer builder writes it.
#[derive(serde::Deserialize)]
struct FolderJson {
    folder: Option<FolderRefJson>,
    consumed: String,
    #[serde(default)]
    children: Vec<FolderJson>,
}

#[derive(serde::Deserialize)]
struct FolderRefJson {
    id: String,
    #[serde(default)]
    name: String,
}

impl FolderJson {
    fn into_usage(self) -> NaiveFolderUsage {
        NaiveFolderUsage {
            folder: self.folder.map(|f| NaiveFolderRef {
                id: ID(f.id),
                name: f.name,
            }),
            consumed: self.consumed,
            children: self.children.into_iter().map(FolderJson::into_usage).collect(),
        }
    }
}

/// The naive peer behind axum, like quotagraph's `POST /graphql`.
pub async fn serve(schema: NaiveSchema) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let router = axum::Router::new().route(
        "/graphql",
        axum::routing::post_service(async_graphql_axum::GraphQL::new(schema)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((address, task))
}
