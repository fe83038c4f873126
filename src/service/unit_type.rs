//! The unit-type catalogue: created by the operator, read by everyone.

use std::sync::Arc;

use uuid::Uuid;

use super::{AppContext, audit, clean_name, require};
use crate::domain::{access::Actor, ingestion::check_code};
use crate::error::{AppError, AppResult};
use crate::store;
use entity::unit_type::Model;

pub async fn create(ctx: &AppContext, actor: &Actor, code: String, name: String) -> AppResult<Model> {
    require(actor.operate(), "unit type", "create unit types")?;
    check_code(&code).map_err(|m| AppError::bad_input(format!("code: {m}")))?;
    let name = clean_name("name", &name)?;
    if store::unit_type::find_by_code(&ctx.db, &code).await?.is_some() {
        return Err(AppError::Conflict(format!("unit type '{code}' already exists")));
    }
    let model = Model {
        id: Uuid::now_v7(),
        code,
        name,
        created_at: ctx.clock.now(),
    };
    let tx = store::begin_write(&ctx.writer).await?;
    let model = store::unit_type::insert(&tx, model).await.map_err(|err| {
        if store::is_unique_violation(&err) {
            AppError::Conflict("that unit type already exists".into())
        } else {
            AppError::from(err)
        }
    })?;
    let change = audit::Change::of(None, "createUnitType", "UnitType", Some(model.id))
        .after(serde_json::json!({ "code": model.code, "name": model.name }));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok(model)
}

/// The unit type with this code, or BAD_USER_INPUT naming the field.
pub async fn by_code(db: &impl sea_orm::ConnectionTrait, field: &str, code: &str) -> AppResult<Model> {
    store::unit_type::find_by_code(db, code)
        .await?
        .ok_or_else(|| AppError::bad_input(format!("{field}: unknown unit type '{code}'")))
}

/// [`by_code`] outside a transaction, as kept in memory or read.
pub async fn kept_by_code(ctx: &AppContext, field: &str, code: &str) -> AppResult<Arc<Model>> {
    let read = async { Ok(store::unit_type::find_by_code(&ctx.db, code).await?.map(Arc::new)) };
    ctx.memo
        .found_or_read(&ctx.memo.unit_types, code.to_owned(), read)
        .await?
        .ok_or_else(|| AppError::bad_input(format!("{field}: unknown unit type '{code}'")))
}

/// A unit type by id: the catalogue is visible to every caller.
pub async fn get(ctx: &AppContext, id: Uuid) -> AppResult<Option<Model>> {
    Ok(store::unit_type::find(&ctx.db, id).await?)
}

/// The whole catalogue, by code.
pub async fn all(ctx: &AppContext) -> AppResult<Vec<Model>> {
    Ok(store::unit_type::all(&ctx.db).await?)
}
