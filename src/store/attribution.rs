//! The merged chain tree and the attribution rollup per day and per month (docs/design.md §4).
//! Ingestion writes them in its transaction; folder and process figures read only these.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::{
    chain_node, folder, job, usage_attribution_daily as daily, usage_attribution_monthly as monthly,
    usage_attribution_services_daily as by_service, usage_event, usage_list_daily as list_daily,
    usage_list_monthly as list_monthly, usage_process_daily as process_daily, usage_process_monthly as process_monthly,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, ExprTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use super::Scope;
use crate::domain::{
    attribution::{AttributedSum, Attribution, ChainNode, List},
    rollup,
};

/// Adds the chain nodes runs were placed on, each with its tenant, whose organization
/// `organization_of` tells.
pub async fn insert_chain_nodes(
    db: &impl ConnectionTrait,
    nodes: Vec<(Uuid, ChainNode)>,
    organization_of: impl Fn(Uuid) -> Uuid,
) -> Result<(), DbErr> {
    let rows = nodes
        .into_iter()
        .map(|(tenant, node)| chain_node::Model {
            id: node.id,
            organization_id: organization_of(tenant),
            tenant_id: tenant,
            parent_id: node.parent,
            process_id: node.process,
        })
        .collect();
    insert_nodes(db, rows).await
}

/// Adds chain nodes; those already known are left as they are (ids are derived).
pub async fn insert_nodes(db: &impl ConnectionTrait, nodes: Vec<chain_node::Model>) -> Result<(), DbErr> {
    for chunk in nodes.chunks(super::ROWS_PER_STATEMENT) {
        let rows: Vec<chain_node::ActiveModel> = chunk
            .iter()
            .cloned()
            .map(|m| m.into_active_model().reset_all())
            .collect();
        chain_node::Entity::insert_many(rows)
            .on_conflict_do_nothing_on(super::key(
                db,
                chain_node::Column::OrganizationId,
                [chain_node::Column::Id],
            ))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Adds to the attribution rollup per day and per month: each row's figures are added to
/// the stored ones. Rows are written in key order, so two concurrent batches lock shared
/// rows in the same order and wait for each other instead of deadlocking (PostgreSQL).
pub async fn add_to_rollups(db: &impl ConnectionTrait, mut rows: Vec<daily::Model>) -> Result<(), DbErr> {
    rows.sort_by_key(|r| {
        (
            r.tenant_id,
            r.unit_type_id,
            r.day,
            r.folder_id,
            r.process_id,
            r.owner_folder_id,
            r.node_id,
        )
    });
    type Key = (Uuid, Uuid, NaiveDate, Uuid, Uuid, Uuid, Uuid);
    let mut months: BTreeMap<Key, monthly::Model> = BTreeMap::new();
    for row in &rows {
        let month = rollup::month_of(row.day);
        let total = months
            .entry((
                row.tenant_id,
                row.unit_type_id,
                month,
                row.folder_id,
                row.process_id,
                row.owner_folder_id,
                row.node_id,
            ))
            .or_insert_with(|| monthly::Model {
                tenant_id: row.tenant_id,
                unit_type_id: row.unit_type_id,
                month,
                folder_id: row.folder_id,
                process_id: row.process_id,
                owner_folder_id: row.owner_folder_id,
                node_id: row.node_id,
                organization_id: row.organization_id,
                quantity: 0,
                events: 0,
            });
        total.quantity += row.quantity;
        total.events += row.events;
    }
    {
        use daily::Column as C;
        let added =
            |column: C, name: &str| Expr::col((daily::Entity, column)).add(Expr::cust(format!("excluded.{name}")));
        let on_conflict = OnConflict::columns(super::key(
            db,
            C::OrganizationId,
            [
                C::TenantId,
                C::UnitTypeId,
                C::Day,
                C::FolderId,
                C::ProcessId,
                C::OwnerFolderId,
                C::NodeId,
            ],
        ))
        .value(C::Quantity, added(C::Quantity, "quantity"))
        .value(C::Events, added(C::Events, "events"))
        .to_owned();
        for chunk in rows.chunks(super::ROWS_PER_STATEMENT) {
            let rows: Vec<daily::ActiveModel> = chunk
                .iter()
                .cloned()
                .map(|m| m.into_active_model().reset_all())
                .collect();
            daily::Entity::insert_many(rows)
                .on_conflict(on_conflict.clone())
                .exec_without_returning(db)
                .await?;
        }
    }
    use monthly::Column as M;
    let added =
        |column: M, name: &str| Expr::col((monthly::Entity, column)).add(Expr::cust(format!("excluded.{name}")));
    let on_conflict = OnConflict::columns(super::key(
        db,
        M::OrganizationId,
        [
            M::TenantId,
            M::UnitTypeId,
            M::Month,
            M::FolderId,
            M::ProcessId,
            M::OwnerFolderId,
            M::NodeId,
        ],
    ))
    .value(M::Quantity, added(M::Quantity, "quantity"))
    .value(M::Events, added(M::Events, "events"))
    .to_owned();
    let months: Vec<monthly::Model> = months.into_values().collect();
    for chunk in months.chunks(super::ROWS_PER_STATEMENT) {
        let rows: Vec<monthly::ActiveModel> = chunk
            .iter()
            .cloned()
            .map(|m| m.into_active_model().reset_all())
            .collect();
        monthly::Entity::insert_many(rows)
            .on_conflict(on_conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    add_to_process_rollups(db, &rows).await?;
    add_to_list_rollups(db, &rows).await
}

/// The key of a process rollup's row: tenant, unit type, day or month, run folder, process
/// and owning folder.
type ProcessKey = (Uuid, Uuid, NaiveDate, Uuid, Uuid, Uuid);

/// The same sums without the chain node, per day and per month, in key order.
fn process_rows(rows: &[daily::Model]) -> (Vec<process_daily::Model>, Vec<process_monthly::Model>) {
    let mut days: BTreeMap<ProcessKey, process_daily::Model> = BTreeMap::new();
    let mut months: BTreeMap<ProcessKey, process_monthly::Model> = BTreeMap::new();
    for row in rows {
        let key = |period| {
            (
                row.tenant_id,
                row.unit_type_id,
                period,
                row.folder_id,
                row.process_id,
                row.owner_folder_id,
            )
        };
        let day = days.entry(key(row.day)).or_insert_with(|| process_daily::Model {
            tenant_id: row.tenant_id,
            unit_type_id: row.unit_type_id,
            day: row.day,
            folder_id: row.folder_id,
            process_id: row.process_id,
            owner_folder_id: row.owner_folder_id,
            organization_id: row.organization_id,
            quantity: 0,
            events: 0,
        });
        day.quantity += row.quantity;
        day.events += row.events;
        let month = rollup::month_of(row.day);
        let total = months.entry(key(month)).or_insert_with(|| process_monthly::Model {
            tenant_id: row.tenant_id,
            unit_type_id: row.unit_type_id,
            month,
            folder_id: row.folder_id,
            process_id: row.process_id,
            owner_folder_id: row.owner_folder_id,
            organization_id: row.organization_id,
            quantity: 0,
            events: 0,
        });
        total.quantity += row.quantity;
        total.events += row.events;
    }
    (days.into_values().collect(), months.into_values().collect())
}

/// Adds attribution rows to the rollups without the chain node (what folder and EXECUTION
/// process figures read), in key order.
async fn add_to_process_rollups(db: &impl ConnectionTrait, rows: &[daily::Model]) -> Result<(), DbErr> {
    let (days, months) = process_rows(rows);
    {
        use process_daily::Column as C;
        let on_conflict = super::adding::<process_daily::Entity>(
            super::key(
                db,
                C::OrganizationId,
                [
                    C::TenantId,
                    C::UnitTypeId,
                    C::Day,
                    C::FolderId,
                    C::ProcessId,
                    C::OwnerFolderId,
                ],
            ),
            [C::Quantity, C::Events],
        );
        super::upsert_rows::<process_daily::ActiveModel>(db, &days, &on_conflict).await?;
    }
    use process_monthly::Column as M;
    let on_conflict = super::adding::<process_monthly::Entity>(
        super::key(
            db,
            M::OrganizationId,
            [
                M::TenantId,
                M::UnitTypeId,
                M::Month,
                M::FolderId,
                M::ProcessId,
                M::OwnerFolderId,
            ],
        ),
        [M::Quantity, M::Events],
    );
    super::upsert_rows::<process_monthly::ActiveModel>(db, &months, &on_conflict).await
}

/// The key of a list rollup's row: tenant, unit type, day or month, list and item.
type ListKey = (Uuid, Uuid, NaiveDate, i16, Uuid);

/// The same sums by each list a view shows (docs/design.md §11), per day and per month, in
/// key order.
fn list_rows(rows: &[daily::Model]) -> (Vec<list_daily::Model>, Vec<list_monthly::Model>) {
    let mut days: BTreeMap<ListKey, list_daily::Model> = BTreeMap::new();
    let mut months: BTreeMap<ListKey, list_monthly::Model> = BTreeMap::new();
    let some = |id: Uuid| (!id.is_nil()).then_some(id);
    for row in rows {
        let sum = AttributedSum {
            folder: some(row.folder_id),
            process: some(row.process_id),
            owner_folder: some(row.owner_folder_id),
            node: row.node_id,
            quantity: crate::domain::Quantity::from_scaled(row.quantity),
        };
        let month = rollup::month_of(row.day);
        for list in List::ALL {
            let item = list.item(&sum).unwrap_or_default();
            let key = |period| (row.tenant_id, row.unit_type_id, period, list.number(), item);
            let day = days.entry(key(row.day)).or_insert_with(|| list_daily::Model {
                organization_id: row.organization_id,
                tenant_id: row.tenant_id,
                unit_type_id: row.unit_type_id,
                day: row.day,
                list: list.number(),
                item_id: item,
                quantity: 0,
                events: 0,
            });
            day.quantity += row.quantity;
            day.events += row.events;
            let total = months.entry(key(month)).or_insert_with(|| list_monthly::Model {
                organization_id: row.organization_id,
                tenant_id: row.tenant_id,
                unit_type_id: row.unit_type_id,
                month,
                list: list.number(),
                item_id: item,
                quantity: 0,
                events: 0,
            });
            total.quantity += row.quantity;
            total.events += row.events;
        }
    }
    (days.into_values().collect(), months.into_values().collect())
}

/// Adds attribution rows to the rollups by list (what a tenant view's folder and EXECUTION
/// process lists read), in key order.
async fn add_to_list_rollups(db: &impl ConnectionTrait, rows: &[daily::Model]) -> Result<(), DbErr> {
    let (days, months) = list_rows(rows);
    {
        use list_daily::Column as C;
        let on_conflict = super::adding::<list_daily::Entity>(
            [
                C::OrganizationId,
                C::TenantId,
                C::UnitTypeId,
                C::Day,
                C::List,
                C::ItemId,
            ],
            [C::Quantity, C::Events],
        );
        super::upsert_rows::<list_daily::ActiveModel>(db, &days, &on_conflict).await?;
    }
    use list_monthly::Column as M;
    let on_conflict = super::adding::<list_monthly::Entity>(
        [
            M::OrganizationId,
            M::TenantId,
            M::UnitTypeId,
            M::Month,
            M::List,
            M::ItemId,
        ],
        [M::Quantity, M::Events],
    );
    super::upsert_rows::<list_monthly::ActiveModel>(db, &months, &on_conflict).await
}

/// Deletes the rows of the rollups without the chain node (by process and by list) left
/// with nothing on the tenants' days and months of `rows`, after voided figures were taken
/// off.
async fn delete_empty_rows(db: &impl ConnectionTrait, rows: &[daily::Model]) -> Result<(), DbErr> {
    let mut days: Vec<(Uuid, Uuid, Uuid, NaiveDate)> = rows
        .iter()
        .map(|r| (r.organization_id, r.tenant_id, r.unit_type_id, r.day))
        .collect();
    days.sort();
    days.dedup();
    let mut months: Vec<(Uuid, Uuid, Uuid, NaiveDate)> = days
        .iter()
        .map(|(organization, tenant, unit_type, day)| (*organization, *tenant, *unit_type, rollup::month_of(*day)))
        .collect();
    months.sort();
    months.dedup();
    delete_empty::<process_daily::Entity>(db, "day", &days).await?;
    delete_empty::<process_monthly::Entity>(db, "month", &months).await?;
    delete_empty::<list_daily::Entity>(db, "day", &days).await?;
    delete_empty::<list_monthly::Entity>(db, "month", &months).await
}

/// Deletes one rollup's rows with nothing in them on these (organization, tenant, unit type,
/// period) keys; `period` names its day or month column.
async fn delete_empty<E: EntityTrait>(
    db: &impl ConnectionTrait,
    period: &str,
    periods: &[(Uuid, Uuid, Uuid, NaiveDate)],
) -> Result<(), DbErr> {
    let column = |name: &str| Expr::col((E::default(), sea_orm::sea_query::Alias::new(name)));
    for chunk in periods.chunks(super::usage::KEYS_PER_DELETE) {
        let mut rows_of = Condition::any();
        for (organization, tenant, unit_type, at) in chunk {
            rows_of = rows_of.add(
                Condition::all()
                    .add(column("organization_id").eq(*organization))
                    .add(column("tenant_id").eq(*tenant))
                    .add(column("unit_type_id").eq(*unit_type))
                    .add(column(period).eq(*at)),
            );
        }
        E::delete_many()
            .filter(rows_of)
            .filter(column("quantity").eq(0))
            .filter(column("events").eq(0))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Adds to the attribution rollup by service, in key order as [`add_to_rollups`] does.
pub async fn add_to_service_rollup(db: &impl ConnectionTrait, mut rows: Vec<by_service::Model>) -> Result<(), DbErr> {
    rows.sort_by_key(|r| {
        (
            r.organization_id,
            r.tenant_id,
            r.unit_type_id,
            r.day,
            r.folder_id,
            r.owner_folder_id,
            r.service_id,
        )
    });
    use by_service::Column as C;
    let on_conflict = OnConflict::columns([
        C::OrganizationId,
        C::TenantId,
        C::UnitTypeId,
        C::Day,
        C::FolderId,
        C::OwnerFolderId,
        C::ServiceId,
    ])
    .value(
        C::Quantity,
        Expr::col((by_service::Entity, C::Quantity)).add(Expr::cust("excluded.quantity")),
    )
    .to_owned();
    for chunk in rows.chunks(super::ROWS_PER_STATEMENT) {
        let rows: Vec<by_service::ActiveModel> = chunk
            .iter()
            .cloned()
            .map(|m| m.into_active_model().reset_all())
            .collect();
        by_service::Entity::insert_many(rows)
            .on_conflict(on_conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Takes voided events' figures off the attribution rollups per day and per month: `rows`
/// are added negated, in the order [`add_to_rollups`] adds, and a row left with nothing is
/// deleted (this transaction holds its lock already), so the rollups read as if those
/// events had never been recorded.
pub async fn remove_from_rollups(db: &impl ConnectionTrait, rows: Vec<daily::Model>) -> Result<(), DbErr> {
    let negated = rows
        .iter()
        .map(|r| daily::Model {
            quantity: -r.quantity,
            events: -r.events,
            ..r.clone()
        })
        .collect();
    add_to_rollups(db, negated).await?;
    delete_empty_rows(db, &rows).await?;
    let keys = |r: &daily::Model| {
        (
            r.organization_id,
            r.tenant_id,
            r.unit_type_id,
            r.day,
            r.folder_id,
            r.process_id,
            r.owner_folder_id,
            r.node_id,
        )
    };
    for chunk in rows.chunks(super::usage::KEYS_PER_DELETE) {
        use daily::Column as C;
        let mut rows_of = Condition::any();
        for (organization, tenant, unit_type, day, folder, process, owner, node) in chunk.iter().map(keys) {
            rows_of = rows_of.add(
                Condition::all()
                    .add(C::OrganizationId.eq(organization))
                    .add(C::TenantId.eq(tenant))
                    .add(C::UnitTypeId.eq(unit_type))
                    .add(C::Day.eq(day))
                    .add(C::FolderId.eq(folder))
                    .add(C::ProcessId.eq(process))
                    .add(C::OwnerFolderId.eq(owner))
                    .add(C::NodeId.eq(node)),
            );
        }
        daily::Entity::delete_many()
            .filter(rows_of)
            .filter(C::Quantity.eq(0))
            .filter(C::Events.eq(0))
            .exec(db)
            .await?;
    }
    let mut months: Vec<_> = rows
        .iter()
        .map(|r| (keys(r), rollup::month_of(r.day)))
        .map(
            |((organization, tenant, unit_type, _, folder, process, owner, node), month)| {
                (organization, tenant, unit_type, month, folder, process, owner, node)
            },
        )
        .collect();
    months.sort();
    months.dedup();
    for chunk in months.chunks(super::usage::KEYS_PER_DELETE) {
        use monthly::Column as M;
        let mut rows_of = Condition::any();
        for (organization, tenant, unit_type, month, folder, process, owner, node) in chunk.iter().copied() {
            rows_of = rows_of.add(
                Condition::all()
                    .add(M::OrganizationId.eq(organization))
                    .add(M::TenantId.eq(tenant))
                    .add(M::UnitTypeId.eq(unit_type))
                    .add(M::Month.eq(month))
                    .add(M::FolderId.eq(folder))
                    .add(M::ProcessId.eq(process))
                    .add(M::OwnerFolderId.eq(owner))
                    .add(M::NodeId.eq(node)),
            );
        }
        monthly::Entity::delete_many()
            .filter(rows_of)
            .filter(M::Quantity.eq(0))
            .filter(M::Events.eq(0))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Takes voided events' figures off the attribution rollup by service, as
/// [`remove_from_rollups`] does.
pub async fn remove_from_service_rollup(db: &impl ConnectionTrait, rows: Vec<by_service::Model>) -> Result<(), DbErr> {
    let negated = rows
        .iter()
        .map(|r| by_service::Model {
            quantity: -r.quantity,
            ..r.clone()
        })
        .collect();
    add_to_service_rollup(db, negated).await?;
    use by_service::Column as C;
    for chunk in rows.chunks(super::usage::KEYS_PER_DELETE) {
        let mut rows_of = Condition::any();
        for r in chunk {
            rows_of = rows_of.add(
                Condition::all()
                    .add(C::OrganizationId.eq(r.organization_id))
                    .add(C::UnitTypeId.eq(r.unit_type_id))
                    .add(C::Day.eq(r.day))
                    .add(C::TenantId.eq(r.tenant_id))
                    .add(C::FolderId.eq(r.folder_id))
                    .add(C::OwnerFolderId.eq(r.owner_folder_id))
                    .add(C::ServiceId.eq(r.service_id)),
            );
        }
        by_service::Entity::delete_many()
            .filter(rows_of)
            .filter(C::Quantity.eq(0))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// One grouped sum of the rollup by service: tenant, day, run folder, owning folder (nil =
/// none), service and ten-thousandths.
pub type ServiceSumRow = (Uuid, NaiveDate, Uuid, Uuid, Uuid, i64);

/// EXECUTION consumption of a scope over the days `[from, until)`, by tenant, day, run
/// folder, owning folder and service: one statement, whatever the number of folders. With
/// `only`, the rows whose run folder (EXECUTION) or owning folder (OWNERSHIP) is one of
/// these: one folder's view then reads its own subtree's rows, not its whole tenant's.
pub async fn service_sums(
    db: &impl ConnectionTrait,
    scope: Scope,
    unit_type: Uuid,
    (from, until): (NaiveDate, NaiveDate),
    only: Option<(Attribution, &[Uuid])>,
) -> Result<Vec<ServiceSumRow>, DbErr> {
    use by_service::Column as C;
    let mut query = by_service::Entity::find();
    if let Some((mode, folders)) = only {
        let column = match mode {
            Attribution::Execution => C::FolderId,
            Attribution::Ownership => C::OwnerFolderId,
        };
        query = query.filter(super::one_of(db, column, folders));
    }
    query
        .select_only()
        .columns([C::TenantId, C::Day, C::FolderId, C::OwnerFolderId, C::ServiceId])
        .column_as(Expr::cust(super::SUM_QUANTITY), "total")
        .filter(scope.rows_tenant_by_tenant(C::OrganizationId, C::TenantId))
        .filter(C::UnitTypeId.eq(unit_type))
        .filter(C::Day.gte(from))
        .filter(C::Day.lt(until))
        .group_by(C::TenantId)
        .group_by(C::Day)
        .group_by(C::FolderId)
        .group_by(C::OwnerFolderId)
        .group_by(C::ServiceId)
        .into_tuple()
        .all(db)
        .await
}

/// One grouped rollup sum: tenant, run folder, process, owning folder, node (nil = none)
/// and ten-thousandths.
pub type SumRow = (Uuid, Uuid, Uuid, Uuid, Uuid, i64);

/// EXECUTION consumption of a scope over the days `[from, until)`, by tenant, run folder,
/// process, owning folder and, with `by_node`, chain node (else the nil UUID): whole
/// months from a monthly rollup, the other days from a daily one. Only OWNERSHIP process
/// figures need the nodes, and a busy tenant has many more nodes than processes: without
/// them, the rollups without the chain node are read. With `only`, the rows whose run
/// folder is one of these.
pub async fn sums(
    db: &impl ConnectionTrait,
    scope: Scope,
    unit_type: Uuid,
    from: NaiveDate,
    until: NaiveDate,
    by_node: bool,
    only: Option<&[Uuid]>,
) -> Result<Vec<SumRow>, DbErr> {
    let split = rollup::split(from, until);
    let within = |column: Expr| match only {
        Some(folders) => Condition::all().add(super::one_of_expr(db, column, folders)),
        None => Condition::all(),
    };
    let mut rows: Vec<SumRow> = Vec::new();
    if let Some((first, end)) = split.months {
        let months: Vec<SumRow> = if by_node {
            use monthly::Column as M;
            let period = M::Month.gte(first).and(M::Month.lt(end));
            grouped_sums(monthly::Entity::find(), scope, unit_type, period, by_node)
                .into_tuple()
                .all(db)
                .await?
        } else {
            use process_monthly::Column as M;
            let period = Condition::all()
                .add(M::Month.gte(first).and(M::Month.lt(end)))
                .add(within(Expr::col((process_monthly::Entity, M::FolderId))));
            grouped_sums(process_monthly::Entity::find(), scope, unit_type, period, by_node)
                .into_tuple()
                .all(db)
                .await?
        };
        rows.extend(months);
    }
    if !split.days.is_empty() {
        let days: Vec<SumRow> = if by_node {
            let period = super::days_in(daily::Column::Day, &split.days);
            grouped_sums(daily::Entity::find(), scope, unit_type, period, by_node)
                .into_tuple()
                .all(db)
                .await?
        } else {
            let period = Condition::all()
                .add(super::days_in(process_daily::Column::Day, &split.days))
                .add(within(Expr::col((
                    process_daily::Entity,
                    process_daily::Column::FolderId,
                ))));
            grouped_sums(process_daily::Entity::find(), scope, unit_type, period, by_node)
                .into_tuple()
                .all(db)
                .await?
        };
        rows.extend(days);
    }
    let mut totals: BTreeMap<(Uuid, Uuid, Uuid, Uuid, Uuid), i64> = BTreeMap::new();
    for (tenant, folder, process, owner, node, total) in rows {
        *totals.entry((tenant, folder, process, owner, node)).or_default() += total;
    }
    Ok(totals
        .into_iter()
        .map(|((tenant, folder, process, owner, node), total)| (tenant, folder, process, owner, node, total))
        .collect())
}

/// The grouped sum of one attribution rollup over the rows `period` selects, in [`SumRow`]'s
/// columns. Every attribution rollup has these columns, and the node one only its own.
fn grouped_sums<E: EntityTrait>(
    query: sea_orm::Select<E>,
    scope: Scope,
    unit_type: Uuid,
    period: impl sea_orm::sea_query::IntoCondition,
    by_node: bool,
) -> sea_orm::Select<E> {
    let column = |name: &str| Expr::col((E::default(), sea_orm::sea_query::Alias::new(name)));
    let mut query = query
        .select_only()
        .filter(column("organization_id").eq(scope.organization));
    if let Some(tenant) = scope.tenant {
        query = query.filter(column("tenant_id").eq(tenant));
    }
    let mut query = query.filter(column("unit_type_id").eq(unit_type)).filter(period);
    for name in ["tenant_id", "folder_id", "process_id", "owner_folder_id"] {
        query = query.column_as(column(name), name).group_by(column(name));
    }
    query = if by_node {
        query
            .column_as(column("node_id"), "node_id")
            .group_by(column("node_id"))
    } else {
        query.column_as(Expr::val(Uuid::nil()), "node_id")
    };
    query.column_as(Expr::cust(super::SUM_QUANTITY), "total")
}

/// One list sum: tenant, list number ([`List::number`]), item (nil = none) and
/// ten-thousandths.
pub type ListSumRow = (Uuid, i16, Uuid, i64);

/// EXECUTION consumption of a scope over the days `[from, until)` by tenant and by each
/// list a view shows (run folder, owning folder, process): whole months from the monthly
/// rollup by list, the other days from the daily one. A row per row the lists show.
pub async fn list_sums(
    db: &impl ConnectionTrait,
    scope: Scope,
    unit_type: Uuid,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<ListSumRow>, DbErr> {
    let split = rollup::split(from, until);
    let mut rows: Vec<ListSumRow> = Vec::new();
    if let Some((first, end)) = split.months {
        use list_monthly::Column as M;
        let period = M::Month.gte(first).and(M::Month.lt(end));
        rows.extend(
            list_grouped_sums(list_monthly::Entity::find(), scope, unit_type, period)
                .into_tuple::<ListSumRow>()
                .all(db)
                .await?,
        );
    }
    if !split.days.is_empty() {
        let period = super::days_in(list_daily::Column::Day, &split.days);
        rows.extend(
            list_grouped_sums(list_daily::Entity::find(), scope, unit_type, period)
                .into_tuple::<ListSumRow>()
                .all(db)
                .await?,
        );
    }
    let mut totals: BTreeMap<(Uuid, i16, Uuid), i64> = BTreeMap::new();
    for (tenant, list, item, total) in rows {
        *totals.entry((tenant, list, item)).or_default() += total;
    }
    Ok(totals
        .into_iter()
        .map(|((tenant, list, item), total)| (tenant, list, item, total))
        .collect())
}

/// The grouped sum of one rollup by list over the rows `period` selects, in
/// [`ListSumRow`]'s columns.
fn list_grouped_sums<E: EntityTrait>(
    query: sea_orm::Select<E>,
    scope: Scope,
    unit_type: Uuid,
    period: impl sea_orm::sea_query::IntoCondition,
) -> sea_orm::Select<E> {
    let column = |name: &str| Expr::col((E::default(), sea_orm::sea_query::Alias::new(name)));
    let mut query = query
        .select_only()
        .filter(column("organization_id").eq(scope.organization));
    if let Some(tenant) = scope.tenant {
        query = query.filter(column("tenant_id").eq(tenant));
    }
    let mut query = query.filter(column("unit_type_id").eq(unit_type)).filter(period);
    for name in ["tenant_id", "list", "item_id"] {
        query = query.column_as(column(name), name).group_by(column(name));
    }
    query.column_as(Expr::cust(super::SUM_QUANTITY), "total")
}

/// Every folder of a scope, in creation order.
pub async fn folders(db: &impl ConnectionTrait, scope: Scope) -> Result<Vec<folder::Model>, DbErr> {
    folder::Entity::find()
        .filter(scope.rows_tenant_by_tenant(folder::Column::OrganizationId, folder::Column::TenantId))
        .order_by_asc(folder::Column::Id)
        .all(db)
        .await
}

/// Every chain node of a scope.
pub async fn nodes(db: &impl ConnectionTrait, scope: Scope) -> Result<Vec<chain_node::Model>, DbErr> {
    chain_node::Entity::find()
        .filter(scope.rows_tenant_by_tenant(chain_node::Column::OrganizationId, chain_node::Column::TenantId))
        .all(db)
        .await
}

/// Whether usage recorded before attribution existed still has to be attributed: a job
/// without a node, or EXECUTION events while a rollup is empty (the rollup by service
/// arrived after the others).
pub async fn needs_backfill(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    // Each question stops at its first row: a count would read every row at each start.
    let unplaced = job::Entity::find()
        .filter(job::Column::NodeId.is_null())
        .one(db)
        .await?
        .is_some();
    if unplaced {
        return Ok(true);
    }
    let empty = daily::Entity::find().one(db).await?.is_none()
        || by_service::Entity::find().one(db).await?.is_none()
        || process_daily::Entity::find().one(db).await?.is_none()
        || list_daily::Entity::find().one(db).await?.is_none();
    Ok(empty
        && usage_event::Entity::find()
            .filter(usage_event::Column::Kind.eq("EXECUTION"))
            .filter(usage_event::Column::VoidedAt.is_null())
            .one(db)
            .await?
            .is_some())
}

/// Every job of a scope, oldest first.
pub async fn jobs_oldest_first(db: &impl ConnectionTrait, scope: Scope) -> Result<Vec<job::Model>, DbErr> {
    job::Entity::find()
        .filter(scope.rows_tenant_by_tenant(job::Column::OrganizationId, job::Column::TenantId))
        .order_by_asc(job::Column::Id)
        .all(db)
        .await
}

/// Records a job's place in its chain.
pub async fn place_job(db: &impl ConnectionTrait, job: Uuid, node: Uuid, owner: Option<Uuid>) -> Result<(), DbErr> {
    job::Entity::update_many()
        .col_expr(job::Column::NodeId, Expr::value(node))
        .col_expr(job::Column::OwnerFolderId, Expr::value(owner))
        .filter(job::Column::Id.eq(job))
        .exec(db)
        .await?;
    Ok(())
}

/// Live (not voided) EXECUTION events grouped by what attribution needs of them: organization, tenant, unit
/// type, day, job, process, folder and service, with their quantity and count.
pub type RunSum = (
    Uuid,
    Uuid,
    Uuid,
    NaiveDate,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
    Uuid,
    i64,
    i64,
);

pub async fn execution_sums_by_run(db: &impl ConnectionTrait, scope: Scope) -> Result<Vec<RunSum>, DbErr> {
    use usage_event::Column as C;
    usage_event::Entity::find()
        .filter(scope.rows(C::OrganizationId, C::TenantId))
        .select_only()
        .columns([
            C::OrganizationId,
            C::TenantId,
            C::UnitTypeId,
            C::Day,
            C::JobId,
            C::ProcessId,
            C::FolderId,
            C::ServiceId,
        ])
        .column_as(Expr::cust(super::SUM_QUANTITY), "total")
        .column_as(Expr::cust("COUNT(*)"), "events")
        .filter(C::Kind.eq("EXECUTION"))
        .filter(C::VoidedAt.is_null())
        .group_by(C::OrganizationId)
        .group_by(C::TenantId)
        .group_by(C::UnitTypeId)
        .group_by(C::Day)
        .group_by(C::JobId)
        .group_by(C::ProcessId)
        .group_by(C::FolderId)
        .group_by(C::ServiceId)
        .into_tuple()
        .all(db)
        .await
}

/// Empties a scope's attribution rollups (before they are rebuilt from the events).
pub async fn clear_rollups(db: &impl ConnectionTrait, scope: Scope) -> Result<(), DbErr> {
    daily::Entity::delete_many()
        .filter(scope.rows(daily::Column::OrganizationId, daily::Column::TenantId))
        .exec(db)
        .await?;
    monthly::Entity::delete_many()
        .filter(scope.rows(monthly::Column::OrganizationId, monthly::Column::TenantId))
        .exec(db)
        .await?;
    by_service::Entity::delete_many()
        .filter(scope.rows(by_service::Column::OrganizationId, by_service::Column::TenantId))
        .exec(db)
        .await?;
    process_daily::Entity::delete_many()
        .filter(scope.rows(process_daily::Column::OrganizationId, process_daily::Column::TenantId))
        .exec(db)
        .await?;
    process_monthly::Entity::delete_many()
        .filter(scope.rows(
            process_monthly::Column::OrganizationId,
            process_monthly::Column::TenantId,
        ))
        .exec(db)
        .await?;
    list_daily::Entity::delete_many()
        .filter(scope.rows(list_daily::Column::OrganizationId, list_daily::Column::TenantId))
        .exec(db)
        .await?;
    list_monthly::Entity::delete_many()
        .filter(scope.rows(list_monthly::Column::OrganizationId, list_monthly::Column::TenantId))
        .exec(db)
        .await?;
    Ok(())
}
