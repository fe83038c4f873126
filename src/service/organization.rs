//! Creating and reading organizations.

use std::sync::Arc;

use chrono_tz::Tz;
use uuid::Uuid;

use serde_json::json;

use super::{AppContext, OrgScope, Seen, audit, clean_name, require};
use crate::domain::{access::Actor, ids::OrganizationId};
use crate::error::{AppError, AppResult};
use crate::store::{self, Page, PageRequest};
use entity::organization::Model;

/// What a new organization is made of.
pub struct NewOrganization {
    pub name: String,
    pub slug: String,
    pub time_zone: String,
}

/// Checks a slug: 1 to 64 lowercase letters, digits and dashes.
fn check_slug(slug: &str) -> AppResult<()> {
    let valid = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(AppError::bad_input(format!(
            "slug '{slug}' must be 1 to 64 lowercase letters, digits or dashes"
        )))
    }
}

pub async fn create(ctx: &AppContext, actor: &Actor, input: NewOrganization) -> AppResult<Seen<Model>> {
    require(actor.operate(), "organization", "create organizations")?;
    let name = clean_name("name", &input.name)?;
    check_slug(&input.slug)?;
    if input.time_zone.parse::<Tz>().is_err() {
        return Err(AppError::bad_input(format!(
            "timeZone '{}' is not an IANA time zone such as 'Europe/Paris' or 'UTC'",
            input.time_zone
        )));
    }
    if store::organization::find_by_slug(&ctx.db, &input.slug).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "an organization with slug '{}' already exists",
            input.slug
        )));
    }
    let model = Model {
        id: Uuid::now_v7(),
        name,
        slug: input.slug,
        time_zone: input.time_zone,
        created_at: ctx.clock.now(),
    };
    let tx = store::begin_write(&ctx.writer).await?;
    let model = store::organization::insert(&tx, model).await.map_err(|err| {
        if store::is_unique_violation(&err) {
            AppError::Conflict("an organization with that slug already exists".into())
        } else {
            AppError::from(err)
        }
    })?;
    let change = audit::Change::of(Some(model.id), "createOrganization", "Organization", Some(model.id))
        .after(json!({ "name": model.name, "slug": model.slug, "timeZone": model.time_zone }));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    seen(actor, model).ok_or_else(|| AppError::Internal(anyhow::anyhow!("the operator does not see what it made")))
}

/// A row of an organization with the caller's scope in it, if the caller sees it.
fn seen(actor: &Actor, organization: Model) -> Option<Seen<Model>> {
    OrgScope::check(actor, OrganizationId(organization.id)).map(|scope| Seen::new(scope, organization))
}

/// The organization, if the caller may see it.
pub async fn get(ctx: &AppContext, actor: &Actor, id: OrganizationId) -> AppResult<Option<Seen<Model>>> {
    let Some(scope) = OrgScope::check(actor, id) else {
        return Ok(None);
    };
    let read = async { Ok(store::organization::find(&ctx.db, id.0).await?.map(Arc::new)) };
    let organization = ctx.memo.found_or_read(&ctx.memo.organizations, id.0, read).await?;
    Ok(organization.map(|organization| Seen::new(scope, Arc::unwrap_or_clone(organization))))
}

/// The organization, or NOT_FOUND when it is missing or hidden.
pub async fn visible(ctx: &AppContext, actor: &Actor, id: OrganizationId) -> AppResult<Seen<Model>> {
    get(ctx, actor, id)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))
}

/// The organizations the caller may see.
pub async fn list(ctx: &AppContext, actor: &Actor, page: PageRequest) -> AppResult<Page<Seen<Model>>> {
    if actor.role == crate::domain::access::Role::Ingest {
        return Ok(Page {
            rows: Vec::new(),
            has_next: false,
        });
    }
    let only = actor.organization_id.map(|id| id.0);
    let page = store::organization::list(&ctx.db, only, page).await?;
    Ok(Page {
        rows: page.rows.into_iter().filter_map(|row| seen(actor, row)).collect(),
        has_next: page.has_next,
    })
}
