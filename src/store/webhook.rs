//! Webhook endpoints and deliveries (docs/design.md §15.4).

use chrono::{DateTime, Utc};
use entity::{webhook_delivery as delivery, webhook_endpoint as endpoint};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{Set, Unchanged},
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

pub async fn insert_endpoint(db: &impl ConnectionTrait, model: endpoint::Model) -> Result<(), DbErr> {
    endpoint::Entity::insert(model.into_active_model()).exec(db).await?;
    Ok(())
}

pub async fn endpoint(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<endpoint::Model>, DbErr> {
    endpoint::Entity::find_by_id(id).one(db).await
}

/// An organization's endpoints, oldest first.
pub async fn endpoints_of(db: &impl ConnectionTrait, organization: Uuid) -> Result<Vec<endpoint::Model>, DbErr> {
    endpoint::Entity::find()
        .filter(endpoint::Column::OrganizationId.eq(organization))
        .order_by_asc(endpoint::Column::Id)
        .all(db)
        .await
}

/// The enabled endpoints of an organization that may want an event of `tenant` (those of
/// the whole organization, and that tenant's); the caller checks their kinds.
pub async fn listening(
    db: &impl ConnectionTrait,
    organization: Uuid,
    tenant: Option<Uuid>,
) -> Result<Vec<endpoint::Model>, DbErr> {
    let mut query = endpoint::Entity::find()
        .filter(endpoint::Column::OrganizationId.eq(organization))
        .filter(endpoint::Column::Enabled.eq(true));
    query = match tenant {
        Some(t) => query.filter(
            sea_orm::Condition::any()
                .add(endpoint::Column::TenantId.is_null())
                .add(endpoint::Column::TenantId.eq(t)),
        ),
        None => query.filter(endpoint::Column::TenantId.is_null()),
    };
    query.all(db).await
}

/// Deletes an endpoint and its deliveries (its log goes with it).
pub async fn delete_endpoint(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    delivery::Entity::delete_many()
        .filter(delivery::Column::EndpointId.eq(id))
        .exec(db)
        .await?;
    endpoint::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn insert_deliveries(db: &impl ConnectionTrait, rows: Vec<delivery::Model>) -> Result<(), DbErr> {
    for chunk in rows.chunks(super::ROWS_PER_STATEMENT) {
        delivery::Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn delivery(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<delivery::Model>, DbErr> {
    delivery::Entity::find_by_id(id).one(db).await
}

/// An endpoint's deliveries, newest first, after the delivery `after` (in that order).
pub async fn deliveries_of(
    db: &impl ConnectionTrait,
    endpoint: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    let mut query = delivery::Entity::find().filter(delivery::Column::EndpointId.eq(endpoint));
    if let Some(after) = after {
        query = query.filter(delivery::Column::Id.lt(after));
    }
    query.order_by_desc(delivery::Column::Id).limit(limit).all(db).await
}

/// Whether any PENDING delivery is due and free: a read, so that an idle sender never
/// takes the write lock (SQLite's one writer) just to find nothing.
pub async fn any_due(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let found = delivery::Entity::find()
        .filter(delivery::Column::Status.eq("PENDING"))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .filter(
            sea_orm::Condition::any()
                .add(delivery::Column::LockedUntil.is_null())
                .add(delivery::Column::LockedUntil.lt(now)),
        )
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Takes up to `limit` due PENDING deliveries no other replica holds, holding them until
/// `lease_until`. On PostgreSQL the rows are locked with SKIP LOCKED, so concurrent
/// replicas take different ones; SQLite has one writer at a time.
pub async fn claim(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        "UPDATE webhook_deliveries SET locked_until = $1 WHERE id IN (SELECT id FROM webhook_deliveries \
         WHERE status = 'PENDING' AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until < $2) \
         ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *"
    } else {
        "UPDATE webhook_deliveries SET locked_until = ? WHERE id IN (SELECT id FROM webhook_deliveries \
         WHERE status = 'PENDING' AND next_attempt_at <= ?2 AND (locked_until IS NULL OR locked_until < ?2) \
         ORDER BY next_attempt_at LIMIT ?3) RETURNING *"
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let statement = Statement::from_sql_and_values(backend, sql, [lease_until.into(), now.into(), limit.into()]);
    delivery::Model::find_by_statement(statement).all(db).await
}

/// What an attempt (or a manual retry) changed.
pub struct Outcome {
    pub status: &'static str,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_response_status: Option<i32>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Records an outcome and lets go of the delivery.
pub async fn record(db: &impl ConnectionTrait, id: Uuid, outcome: Outcome) -> Result<delivery::Model, DbErr> {
    delivery::ActiveModel {
        id: Unchanged(id),
        status: Set(outcome.status.to_owned()),
        attempts: Set(outcome.attempts),
        next_attempt_at: Set(outcome.next_attempt_at),
        locked_until: Set(None),
        last_attempt_at: Set(outcome.last_attempt_at),
        last_response_status: Set(outcome.last_response_status),
        last_error: Set(outcome.last_error),
        updated_at: Set(outcome.updated_at),
        ..Default::default()
    }
    .update(db)
    .await
}

/// How many deliveries wait to be sent, across organizations (a gauge).
pub async fn pending(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::Status.eq("PENDING"))
        .count(db)
        .await
}

/// Deletes the deliveries whose notification is gone (the retention keeps those pending).
pub async fn delete_orphans(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = "DELETE FROM webhook_deliveries WHERE notification_seq NOT IN (SELECT seq FROM notifications)";
    Ok(db
        .execute_raw(Statement::from_string(backend, sql))
        .await?
        .rows_affected())
}
