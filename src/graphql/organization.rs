//! Organizations: the root of every dashboard.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, connection::Connection};
use tokio::sync::OnceCell;

use super::{
    analytics::Activity,
    audit::AuditEntry,
    connection,
    license::{Bundle, License},
    node::{Kind, decode_as, decode_field, decode_optional, encode},
    notification, page_request,
    scalars::Date,
    session, sibling_connection,
    siblings::Siblings,
    subscription::{QuotaEvent, QuotaEventKind},
    tenant::{Tenant, TenantState},
    usage::{DateRangeInput, OrganizationUsage, QuotaBalance},
};
use crate::domain::ids::OrganizationId;
use crate::error::AppResult;
use crate::service::{
    self, AppContext, Seen, control::OrganizationThresholds, notification::HistoryQuery, organization::NewOrganization,
    usage::Basis,
};

/// A customer: it buys capacity per unit type and splits it among its tenants.
pub struct Organization {
    model: Seen<entity::organization::Model>,
    /// Per unit type, read once per answer: `usage` and `quota` side by side share it.
    bases: Mutex<HashMap<String, Arc<OnceCell<Arc<Basis>>>>>,
}

impl Organization {
    /// An organization the caller was found to see.
    pub fn new(model: Seen<entity::organization::Model>) -> Self {
        Organization {
            model,
            bases: Mutex::default(),
        }
    }

    fn organization_id(&self) -> OrganizationId {
        self.model.scope().organization_id()
    }

    async fn basis(&self, app: &AppContext, unit_type: &str) -> AppResult<Arc<Basis>> {
        let cell = self
            .bases
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(unit_type.to_owned())
            .or_default()
            .clone();
        let basis = cell
            .get_or_try_init(|| async { service::usage::basis(app, &self.model, unit_type).await.map(Arc::new) })
            .await?;
        Ok(basis.clone())
    }
}

#[Object]
impl Organization {
    /// The organization's global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Organization, self.model.id)
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.model.name
    }

    /// Unique short name used in URLs.
    async fn slug(&self) -> &str {
        &self.model.slug
    }

    /// IANA time zone: every calendar rule (periods, days, weeks) uses it.
    async fn time_zone(&self) -> &str {
        &self.model.time_zone
    }

    /// The licenses bought, optionally of one unit type (by code), oldest first.
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn licenses(&self, ctx: &Context<'_>, unit_type: Option<String>) -> async_graphql::Result<Vec<License>> {
        let (app, _) = session(ctx)?;
        let rows = service::license::list(app, self.model.scope(), unit_type.as_deref()).await?;
        Ok(rows.into_iter().map(License).collect())
    }

    /// The bundles (periods) of a unit type's licenses: the current one first, then older ones.
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn bundles(&self, ctx: &Context<'_>, unit_type: String) -> async_graphql::Result<Vec<Bundle>> {
        let (app, _) = session(ctx)?;
        let rows = service::license::bundles(app, &self.model, &unit_type).await?;
        Ok(rows.into_iter().map(Bundle).collect())
    }

    /// Usage of a unit type in a bundle (its start date; default: the current one) over a
    /// range of days inside it (default: the bundle to date).
    async fn usage(
        &self,
        ctx: &Context<'_>,
        unit_type: String,
        bundle: Option<Date>,
        range: Option<DateRangeInput>,
    ) -> async_graphql::Result<OrganizationUsage> {
        let (app, _) = session(ctx)?;
        let basis = self.basis(app, &unit_type).await?;
        let range = range.map(|r| (r.from.0, r.to.0));
        let report = service::usage::report_on(app, &basis, bundle.map(|d| d.0), range).await?;
        Ok(OrganizationUsage::new(report))
    }

    /// The quota view of a unit type's bundle that starts on `bundle` (a bundle's
    /// startDate; default: the current one).
    async fn quota(
        &self,
        ctx: &Context<'_>,
        unit_type: String,
        bundle: Option<Date>,
    ) -> async_graphql::Result<QuotaBalance> {
        let (app, _) = session(ctx)?;
        let basis = self.basis(app, &unit_type).await?;
        let (unit_type, bundle, view) = service::usage::quota_on(app, &basis, bundle.map(|d| d.0)).await?;
        Ok(QuotaBalance {
            unit_type,
            bundle,
            view,
        })
    }

    /// Weekly activity of a unit type: EXECUTION and UPLOAD events and their duration for
    /// the last `weeks` weeks up to the current one, and the week before them. A
    /// TENANT_ADMIN sees its own tenant's.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        unit_type: String,
        #[graphql(default = 12)] weeks: i32,
    ) -> async_graphql::Result<Activity> {
        let (app, _) = session(ctx)?;
        let (weeks, preceding) = service::analytics::activity(app, &self.model, &unit_type, weeks).await?;
        Ok(Activity {
            weeks: weeks.into_iter().map(Into::into).collect(),
            preceding_week: preceding.into(),
        })
    }

    /// Its alert thresholds of a unit type: fractions of the capacity at which subscribers
    /// hear THRESHOLD_CROSSED (default 0.5, 0.75, 0.95, 1.0).
    async fn alert_thresholds(&self, ctx: &Context<'_>, unit_type: String) -> async_graphql::Result<Vec<f64>> {
        let (app, _) = session(ctx)?;
        Ok(service::control::organization_thresholds(app, &self.model, &unit_type).await?)
    }

    /// Every change made through the API in this organization, oldest first. OWNER, ADMIN
    /// and SYSTEM keys only.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEntry>> {
        let (app, actor) = session(ctx)?;
        let has_previous = after.is_some();
        let page = page_request(first, after)?;
        let rows = service::audit::list(app, actor, self.organization_id(), page).await?;
        Ok(connection(rows, has_previous, |e| e.id, AuditEntry))
    }

    /// The organization's stored quota events (every kind but USAGE_RECORDED), oldest first
    /// after the cursor `after`, optionally of some kinds or one tenant; kept
    /// `QUOTAGRAPH_NOTIFICATION_RETENTION_DAYS` days. A TENANT_ADMIN reads its own tenant's.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        kinds: Option<Vec<QuotaEventKind>>,
        tenant_id: Option<ID>,
    ) -> async_graphql::Result<Connection<String, QuotaEvent>> {
        let (app, actor) = session(ctx)?;
        let query = HistoryQuery {
            organization_id: self.organization_id(),
            after: notification::after(after.as_deref())?,
            kinds: kinds.unwrap_or_default().into_iter().map(Into::into).collect(),
            tenant_id: decode_optional(tenant_id.as_ref(), "tenantId")?,
            unit_type: None,
        };
        let wanted = service::notification::wanted(app, actor, query).await?;
        notification::history(app, &wanted, first).await
    }

    /// Where its quota events are POSTed (OWNER, ADMIN).
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::webhook::WebhookEndpoint>> {
        let (app, actor) = session(ctx)?;
        Ok(service::webhook::list(app, actor, &self.model)
            .await?
            .into_iter()
            .map(super::webhook::WebhookEndpoint)
            .collect())
    }

    /// The tenants, optionally only those in some states. A TENANT_ADMIN sees its own tenant only.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        states: Option<Vec<TenantState>>,
    ) -> async_graphql::Result<Connection<String, Tenant>> {
        let (app, _) = session(ctx)?;
        let has_previous = after.is_some();
        let page = page_request(first, after)?;
        let states: Vec<_> = states.unwrap_or_default().into_iter().map(Into::into).collect();
        let rows = service::tenant::list(app, self.model.scope(), &states, page).await?;
        let siblings = Siblings::of(rows.rows.iter().map(|t| t.id).collect());
        Ok(sibling_connection(
            rows,
            has_previous,
            siblings,
            |t| t.id,
            Tenant::sibling,
        ))
    }
}

/// Reading organizations.
#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// An organization by id; null when it does not exist or is outside your scope.
    async fn organization(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Organization>> {
        let (app, actor) = session(ctx)?;
        let Some(id) = decode_as::<OrganizationId>(&id) else {
            return Ok(None);
        };
        Ok(service::organization::get(app, actor, id).await?.map(Organization::new))
    }

    /// The organizations you may see: all of them for SYSTEM, else your own.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Organization>> {
        let (app, actor) = session(ctx)?;
        let has_previous = after.is_some();
        let page = page_request(first, after)?;
        let rows = service::organization::list(app, actor, page).await?;
        Ok(connection(rows, has_previous, |o| o.id, Organization::new))
    }
}

/// A new organization (SYSTEM only).
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Display name.
    pub name: String,
    /// Unique short name: lowercase letters, digits and dashes.
    pub slug: String,
    /// IANA time zone, e.g. "Europe/Paris".
    #[graphql(default = "UTC")]
    pub time_zone: String,
}

/// The organization made or changed.
#[derive(SimpleObject)]
pub struct OrganizationPayload {
    /// The organization.
    pub organization: Organization,
}

/// An organization's alert thresholds for a unit type (OWNER, ADMIN).
#[derive(InputObject)]
pub struct SetOrganizationAlertThresholdsInput {
    pub organization_id: ID,
    /// The unit type's code.
    pub unit_type: String,
    /// Fractions of the capacity, each in (0, 10], at most 10; kept sorted.
    pub thresholds: Vec<f64>,
}

/// Creating organizations.
#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    /// Creates an organization (SYSTEM only).
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> async_graphql::Result<OrganizationPayload> {
        let (app, actor) = session(ctx)?;
        let model = service::organization::create(
            app,
            actor,
            NewOrganization {
                name: input.name,
                slug: input.slug,
                time_zone: input.time_zone,
            },
        )
        .await?;
        Ok(OrganizationPayload {
            organization: Organization::new(model),
        })
    }

    /// Sets the organization's alert thresholds of a unit type, which the watcher then
    /// announces THRESHOLD_CROSSED at (OWNER, ADMIN).
    async fn set_organization_alert_thresholds(
        &self,
        ctx: &Context<'_>,
        input: SetOrganizationAlertThresholdsInput,
    ) -> async_graphql::Result<OrganizationPayload> {
        let (app, actor) = session(ctx)?;
        let change = OrganizationThresholds {
            organization_id: decode_field(&input.organization_id, "organizationId")?,
            unit_type: input.unit_type,
            thresholds: input.thresholds,
        };
        let model = service::control::set_organization_thresholds(app, actor, change).await?;
        Ok(OrganizationPayload {
            organization: Organization::new(model),
        })
    }
}
