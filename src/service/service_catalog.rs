//! The service catalogue (docs/design.md §15.3): every service seen is listed, created on
//! first use with its code as its name; the operator gives it a display name, which every
//! answer and export that shows the service then carries.

use super::{AppContext, audit, clean_name, require};
use crate::domain::access::Actor;
use crate::error::{AppError, AppResult};
use crate::store;
use entity::service::Model;

/// Every service seen, by code: visible to every caller, like the unit types.
pub async fn all(ctx: &AppContext) -> AppResult<Vec<Model>> {
    Ok(store::service_catalog::all(&ctx.db).await?)
}

/// Sets a service's display name (SYSTEM only).
pub async fn rename(ctx: &AppContext, actor: &Actor, code: &str, name: &str) -> AppResult<Model> {
    require(actor.operate(), "service", "name services")?;
    let name = clean_name("name", name)?;
    let tx = store::begin_write(&ctx.writer).await?;
    let service = store::service_catalog::find_by_code(&tx, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("code: no service '{code}' has been seen")))?;
    store::service_catalog::rename(&tx, service.id, &name).await?;
    let change = audit::Change::of(None, "updateService", "Service", Some(service.id))
        .before(serde_json::json!({ "code": service.code, "name": service.name }))
        .after(serde_json::json!({ "code": service.code, "name": name }));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    // Every organization's views name their services.
    ctx.memo.forget_all();
    Ok(Model { name, ..service })
}
