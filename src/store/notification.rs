//! The notification outbox (docs/design.md §15.4): stored quota events, read in `seq`
//! order after a cursor.

use chrono::{DateTime, Utc};
use entity::notification::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
    sea_query::Query,
};
use uuid::Uuid;

/// The advisory lock every PostgreSQL transaction takes before it numbers a notification,
/// held until it commits: `seq` values then become visible in the order they were taken,
/// so a reader that has passed a cursor can never later find a smaller `seq` behind it (a
/// plain sequence hands numbers out at insert time, and a slower transaction would commit
/// its smaller number after a faster one's bigger).
const NUMBERING_LOCK: i64 = 0x7167_6e6f_7469_6679; // "qgnotify"

/// What a new notification holds (`seq` is given by the database).
pub struct NewNotification {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub unit_type: String,
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    pub event: String,
}

/// Stores notifications in the caller's transaction, in order; returns their `seq`.
pub async fn insert(db: &impl ConnectionTrait, notifications: Vec<NewNotification>) -> Result<Vec<i64>, DbErr> {
    if notifications.is_empty() {
        return Ok(Vec::new());
    }
    if db.get_database_backend() == DbBackend::Postgres {
        let lock = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [NUMBERING_LOCK.into()],
        );
        db.execute_raw(lock).await?;
    }
    let mut numbers = Vec::with_capacity(notifications.len());
    for n in notifications {
        let row = ActiveModel {
            seq: NotSet,
            id: Set(n.id),
            organization_id: Set(n.organization_id),
            tenant_id: Set(n.tenant_id),
            unit_type: Set(n.unit_type),
            kind: Set(n.kind.to_owned()),
            at: Set(n.at),
            event: Set(n.event),
        };
        numbers.push(Entity::insert(row).exec(db).await?.last_insert_id);
    }
    Ok(numbers)
}

/// Which notifications of an organization a reader wants.
#[derive(Clone, Debug, Default)]
pub struct Wanted {
    pub organization: Uuid,
    /// Only after this `seq`.
    pub after: i64,
    /// Only these kinds (all when empty).
    pub kinds: Vec<&'static str>,
    /// Only this tenant's.
    pub tenant: Option<Uuid>,
    /// Only tenants' (a reader that may not see organization-wide figures).
    pub tenants_only: bool,
    pub unit_type: Option<String>,
}

/// Up to `limit` notifications after the cursor, oldest first.
pub async fn after(db: &impl ConnectionTrait, wanted: &Wanted, limit: u64) -> Result<Vec<Model>, DbErr> {
    let mut condition = Condition::all()
        .add(Column::OrganizationId.eq(wanted.organization))
        .add(Column::Seq.gt(wanted.after));
    if !wanted.kinds.is_empty() {
        condition = condition.add(Column::Kind.is_in(wanted.kinds.iter().copied()));
    }
    if let Some(tenant) = wanted.tenant {
        condition = condition.add(Column::TenantId.eq(tenant));
    }
    if wanted.tenants_only {
        condition = condition.add(Column::TenantId.is_not_null());
    }
    if let Some(unit_type) = &wanted.unit_type {
        condition = condition.add(Column::UnitType.eq(unit_type.as_str()));
    }
    Entity::find()
        .filter(condition)
        .order_by_asc(Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Deletes notifications older than `before` but those a webhook delivery still waits to
/// send; how many went.
pub async fn delete_older_than(
    db: &impl ConnectionTrait,
    organization: Uuid,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use entity::webhook_delivery::{Column as D, Entity as Deliveries};
    let waiting = Query::select()
        .column(D::NotificationSeq)
        .from(Deliveries)
        .and_where(D::OrganizationId.eq(organization))
        .and_where(D::Status.eq("PENDING"))
        .to_owned();
    Ok(Entity::delete_many()
        .filter(Column::OrganizationId.eq(organization))
        .filter(Column::At.lt(before))
        .filter(Column::Seq.not_in_subquery(waiting))
        .exec(db)
        .await?
        .rows_affected)
}

/// An organization's notifications of these `seq` values (a delivery names its notification
/// by `seq`).
pub async fn by_seqs(db: &impl ConnectionTrait, organization: Uuid, seqs: &[i64]) -> Result<Vec<Model>, DbErr> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .filter(Column::OrganizationId.eq(organization))
        .filter(Column::Seq.is_in(seqs.iter().copied()))
        .all(db)
        .await
}
