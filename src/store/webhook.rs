//! Webhook endpoints and deliveries (docs/design.md §15.4).

use chrono::{DateTime, Utc};
use entity::{webhook_delivery as delivery, webhook_endpoint as endpoint};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Statement, sea_query::Expr,
};
use uuid::Uuid;

pub async fn insert_endpoint(db: &impl ConnectionTrait, model: endpoint::Model) -> Result<(), DbErr> {
    endpoint::Entity::insert(model.into_active_model()).exec(db).await?;
    Ok(())
}

/// The organization of an endpoint named by its id alone.
pub async fn organization_of_endpoint(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Uuid>, DbErr> {
    super::organization_of(
        db,
        endpoint::Entity,
        endpoint::Column::OrganizationId,
        endpoint::Column::Id,
        id,
    )
    .await
}

pub async fn endpoint(
    db: &impl ConnectionTrait,
    organization: Uuid,
    id: Uuid,
) -> Result<Option<endpoint::Model>, DbErr> {
    endpoint::Entity::find()
        .filter(endpoint::Column::OrganizationId.eq(organization))
        .filter(endpoint::Column::Id.eq(id))
        .one(db)
        .await
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
pub async fn delete_endpoint(db: &impl ConnectionTrait, organization: Uuid, id: Uuid) -> Result<(), DbErr> {
    delivery::Entity::delete_many()
        .filter(delivery::Column::OrganizationId.eq(organization))
        .filter(delivery::Column::EndpointId.eq(id))
        .exec(db)
        .await?;
    endpoint::Entity::delete_many()
        .filter(endpoint::Column::OrganizationId.eq(organization))
        .filter(endpoint::Column::Id.eq(id))
        .exec(db)
        .await?;
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

/// The organization of a delivery named by its id alone.
pub async fn organization_of_delivery(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Uuid>, DbErr> {
    super::organization_of(
        db,
        delivery::Entity,
        delivery::Column::OrganizationId,
        delivery::Column::Id,
        id,
    )
    .await
}

pub async fn delivery(
    db: &impl ConnectionTrait,
    organization: Uuid,
    id: Uuid,
) -> Result<Option<delivery::Model>, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::OrganizationId.eq(organization))
        .filter(delivery::Column::Id.eq(id))
        .one(db)
        .await
}

/// An endpoint's deliveries, newest first, after the delivery `after` (in that order).
pub async fn deliveries_of(
    db: &impl ConnectionTrait,
    endpoint: &endpoint::Model,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    let mut query = delivery::Entity::find()
        .filter(delivery::Column::OrganizationId.eq(endpoint.organization_id))
        .filter(delivery::Column::EndpointId.eq(endpoint.id));
    if let Some(after) = after {
        query = query.filter(delivery::Column::Id.lt(after));
    }
    query.order_by_desc(delivery::Column::Id).limit(limit).all(db).await
}

/// Whether any PENDING delivery is due and free: a read, so that an idle sender never
/// takes the write lock (SQLite's one writer) just to find nothing. A sweep of every
/// organization's queue.
pub async fn any_due(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<bool, DbErr> {
    use sea_orm::QueryTrait;
    let query = delivery::Entity::find()
        .filter(delivery::Column::Status.eq("PENDING"))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .filter(
            sea_orm::Condition::any()
                .add(delivery::Column::LockedUntil.is_null())
                .add(delivery::Column::LockedUntil.lt(now)),
        )
        .limit(1)
        .build(db.get_database_backend());
    Ok(db.query_one_raw(super::sweep(query)).await?.is_some())
}

/// Takes up to `limit` due PENDING deliveries no other replica holds, holding them until
/// `lease_until`. On PostgreSQL the rows are locked with SKIP LOCKED, so concurrent
/// replicas take different ones; SQLite has one writer at a time. A sweep of every
/// organization's queue.
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
    let statement = super::sweep(Statement::from_sql_and_values(
        backend,
        sql,
        [lease_until.into(), now.into(), limit.into()],
    ));
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

/// Records an outcome of an organization's delivery and lets go of it.
pub async fn record(
    db: &impl ConnectionTrait,
    organization: Uuid,
    id: Uuid,
    outcome: Outcome,
) -> Result<delivery::Model, DbErr> {
    use delivery::Column as C;
    delivery::Entity::update_many()
        .col_expr(C::Status, Expr::value(outcome.status))
        .col_expr(C::Attempts, Expr::value(outcome.attempts))
        .col_expr(C::NextAttemptAt, Expr::value(outcome.next_attempt_at))
        .col_expr(C::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(C::LastAttemptAt, Expr::value(outcome.last_attempt_at))
        .col_expr(C::LastResponseStatus, Expr::value(outcome.last_response_status))
        .col_expr(C::LastError, Expr::value(outcome.last_error))
        .col_expr(C::UpdatedAt, Expr::value(outcome.updated_at))
        .filter(C::OrganizationId.eq(organization))
        .filter(C::Id.eq(id))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| DbErr::RecordNotFound(format!("webhook delivery {id}")))
}

/// How many deliveries wait to be sent, across organizations (a gauge; a sweep).
pub async fn pending(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'PENDING'";
    let row = db
        .query_one_raw(super::sweep(Statement::from_string(backend, sql)))
        .await?;
    let count = row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0);
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Deletes an organization's deliveries whose notification is gone (the retention keeps
/// those pending).
pub async fn delete_orphans(db: &impl ConnectionTrait, organization: Uuid) -> Result<u64, DbErr> {
    let notifications = sea_orm::sea_query::Query::select()
        .column(entity::notification::Column::Seq)
        .from(entity::notification::Entity)
        .and_where(entity::notification::Column::OrganizationId.eq(organization))
        .to_owned();
    Ok(delivery::Entity::delete_many()
        .filter(delivery::Column::OrganizationId.eq(organization))
        .filter(delivery::Column::NotificationSeq.not_in_subquery(notifications))
        .exec(db)
        .await?
        .rows_affected)
}
