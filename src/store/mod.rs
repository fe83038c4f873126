//! Every query and write. Functions take any connection or transaction, so a use case
//! composes them inside its one transaction. Every read of an organization's rows takes
//! the [`Scope`] it is filtered by (the organization, and a tenant when the reader is
//! narrowed to one), so no statement reads across organizations by accident; the service
//! layer makes that scope from what `domain::access` let the caller see.

pub mod allocation;
pub mod api_key;
pub mod attribution;
pub mod audit;
pub mod control;
pub mod folder;
pub mod job;
pub mod license;
pub mod mark;
pub mod notification;
pub mod organization;
pub mod service_catalog;
pub mod tenant;
pub mod unit_type;
pub mod usage;
pub mod webhook;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait, sea_query::Query,
};
use uuid::Uuid;

use crate::config::PoolSettings;

/// Rows per multi-row statement, well under SQLite's and PostgreSQL's bind-parameter limits.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// `SUM` of a BIGINT is NUMERIC on PostgreSQL: cast back so both backends decode an i64.
pub(crate) const SUM_QUANTITY: &str = "CAST(COALESCE(SUM(quantity), 0) AS BIGINT)";

/// Whose rows a read returns: one organization's, or one tenant's of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    pub organization: Uuid,
    pub tenant: Option<Uuid>,
}

impl Scope {
    /// Every row of an organization.
    pub fn organization(organization: Uuid) -> Scope {
        Scope {
            organization,
            tenant: None,
        }
    }

    /// The rows of one tenant of an organization (none when the tenant is another's).
    pub fn tenant(organization: Uuid, tenant: Uuid) -> Scope {
        Scope {
            organization,
            tenant: Some(tenant),
        }
    }

    /// Rows whose `tenant_id` column names a tenant in scope, through the tenant's row.
    fn tenants<C: ColumnTrait>(self, tenant_column: C) -> Condition {
        let mut tenants = Query::select()
            .column(entity::tenant::Column::Id)
            .from(entity::tenant::Entity)
            .and_where(entity::tenant::Column::OrganizationId.eq(self.organization))
            .to_owned();
        if let Some(tenant) = self.tenant {
            tenants.and_where(entity::tenant::Column::Id.eq(tenant));
        }
        Condition::all().add(tenant_column.in_subquery(tenants))
    }

    /// [`Scope::rows`] of a table keyed or indexed by tenant: every tenant of an
    /// organization in scope is named too, so that each tenant's rows are read from its own
    /// part of the key, not the organization's whole history.
    pub(crate) fn rows_tenant_by_tenant<O: ColumnTrait, T: ColumnTrait>(
        self,
        organization_column: O,
        tenant_column: T,
    ) -> Condition {
        let rows = self.rows(organization_column, tenant_column);
        match self.tenant {
            Some(_) => rows,
            None => rows.add(self.tenants(tenant_column)),
        }
    }

    /// Rows of a table that carries both its organization and its tenant.
    pub(crate) fn rows<O: ColumnTrait, T: ColumnTrait>(self, organization_column: O, tenant_column: T) -> Condition {
        let mut rows = Condition::all().add(organization_column.eq(self.organization));
        if let Some(tenant) = self.tenant {
            rows = rows.add(tenant_column.eq(tenant));
        }
        rows
    }
}

/// The start of a statement that reads or writes every organization's rows on purpose: a
/// background sweep (the webhook sender's queue, its gauge). On a database split by
/// organization it runs on every node; a request's statements always name their
/// organization (docs/operator.md, "Scaling out with Citus").
pub const SWEEP: &str = "/* every organization */ ";

/// `statement`, marked as a [`SWEEP`].
pub(crate) fn sweep(statement: sea_orm::Statement) -> sea_orm::Statement {
    sea_orm::Statement {
        sql: format!("{SWEEP}{}", statement.sql),
        ..statement
    }
}

/// The organization of one row of `entity` found by its id: the one statement that cannot
/// name the organization, since it finds it out (a request naming a bare id; on a database
/// split by organization, it asks every node for one row).
pub(crate) async fn organization_of<E: sea_orm::EntityTrait>(
    db: &impl sea_orm::ConnectionTrait,
    entity: E,
    organization_column: E::Column,
    id_column: E::Column,
    id: Uuid,
) -> Result<Option<Uuid>, DbErr> {
    use sea_orm::ExprTrait;
    let query = Query::select()
        .column((entity, organization_column))
        .from(entity)
        .and_where(sea_orm::sea_query::Expr::col((entity, id_column)).eq(id))
        .to_owned();
    let row = db.query_one(&query).await?;
    row.map(|r| r.try_get_by_index::<Uuid>(0)).transpose()
}

/// Connects to a `sqlite://` or `postgres://` URL with the default pool. A SQLite file is
/// created when missing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, &PoolSettings::default()).await
}

/// Connects with a pool of `pool.db_max_connections`, where a statement waits at most
/// `pool.db_acquire_timeout_ms` for a free connection (then `DbErr::ConnectionAcquire`).
pub async fn connect_with(url: &str, pool: &PoolSettings) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(url, pool.db_max_connections, pool.db_acquire_timeout_ms)).await
}

/// [`writer_with`] the default pool settings.
pub async fn writer(db: &DatabaseConnection, url: &str) -> Result<DatabaseConnection, DbErr> {
    writer_with(db, url, &PoolSettings::default()).await
}

/// The connection write transactions begin on ([`begin_write`]). SQLite takes one writer
/// at a time: on a pool of one connection, concurrent writers queue for it in arrival
/// order (each at most `pool.db_writer_acquire_timeout_ms`), instead of polling SQLite's
/// lock through its busy handler, which sleeps up to 100 ms between tries (a tail of
/// hundreds of milliseconds under concurrent writes). PostgreSQL, and an in-memory SQLite
/// database (private to its connections), write through the main pool.
pub async fn writer_with(db: &DatabaseConnection, url: &str, pool: &PoolSettings) -> Result<DatabaseConnection, DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite && !url.contains(":memory:") {
        Database::connect(options(url, 1, pool.db_writer_acquire_timeout_ms)).await
    } else {
        Ok(db.clone())
    }
}

fn options(url: &str, connections: u32, acquire_timeout_ms: u64) -> ConnectOptions {
    let url = if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}mode=rwc")
    } else {
        url.to_owned()
    };
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_millis(acquire_timeout_ms))
        .sqlx_logging(false)
        // SQLite: readers do not wait for the writer (WAL), and a commit does not wait for
        // the disk twice (NORMAL is durable in WAL up to a power loss). Pages are read
        // through a memory map and a 32 MiB cache per connection instead of a read call per
        // page into the 2 MiB default cache.
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .pragma("cache_size", "-32768")
                .pragma("mmap_size", "1073741824")
        });
    options
}

/// How busy the connection pool is.
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

pub fn pool_stats(db: &DatabaseConnection) -> PoolStats {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            PoolStats {
                size: pool.size(),
                idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                max: pool.options().get_max_connections(),
            }
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            PoolStats {
                size: pool.size(),
                idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                max: pool.options().get_max_connections(),
            }
        }
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a transaction that will write, on the [`writer`] connection. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so two writers wait for each other instead of failing when
/// a read inside one of them is upgraded to a write.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// One page of a list ordered by id (ids are UUID v7, so this is creation order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// Only rows whose id is greater than this.
    pub after: Option<Uuid>,
    /// How many rows at most; one more is fetched to tell whether a next page exists.
    pub limit: u64,
}

/// A page of rows and whether more follow.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub has_next: bool,
}

impl<T> Page<T> {
    /// Cuts the extra row fetched by a query with `limit + 1`.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let has_next = rows.len() > limit;
        rows.truncate(limit);
        Page { rows, has_next }
    }
}

/// Whether a database error is a unique-constraint violation (a lost race for a key).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// Inserts a whole row given as a model.
pub(crate) async fn insert_row<A>(
    db: &impl sea_orm::ConnectionTrait,
    model: <A::Entity as sea_orm::EntityTrait>::Model,
) -> Result<(), DbErr>
where
    A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    use sea_orm::{EntityTrait, IntoActiveModel};
    <A::Entity as EntityTrait>::insert(model.into_active_model().reset_all())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Inserts rows [`ROWS_PER_STATEMENT`] to a statement.
pub(crate) async fn insert_rows<A>(
    db: &impl sea_orm::ConnectionTrait,
    models: &[<A::Entity as sea_orm::EntityTrait>::Model],
) -> Result<(), DbErr>
where
    A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    use sea_orm::{EntityTrait, IntoActiveModel};
    for chunk in models.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<A> = chunk
            .iter()
            .cloned()
            .map(|m| m.into_active_model().reset_all())
            .collect();
        <A::Entity as EntityTrait>::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Inserts rows [`ROWS_PER_STATEMENT`] to a statement; a row whose key is stored already
/// is resolved by `on_conflict` (a rollup adds its figures, see [`adding`]).
pub(crate) async fn upsert_rows<A>(
    db: &impl sea_orm::ConnectionTrait,
    models: &[<A::Entity as sea_orm::EntityTrait>::Model],
    on_conflict: &sea_orm::sea_query::OnConflict,
) -> Result<(), DbErr>
where
    A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    use sea_orm::{EntityTrait, IntoActiveModel};
    for chunk in models.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<A> = chunk
            .iter()
            .cloned()
            .map(|m| m.into_active_model().reset_all())
            .collect();
        <A::Entity as EntityTrait>::insert_many(rows)
            .on_conflict(on_conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The key of a table distributed by organization as the database holds it: `rest` led by
/// `organization_id` on PostgreSQL (laid out for Citus, migration 000020); SQLite's keys
/// stayed `rest`. What an upsert names as its conflict target.
pub(crate) fn key<C: ColumnTrait>(
    db: &impl sea_orm::ConnectionTrait,
    organization: C,
    rest: impl IntoIterator<Item = C>,
) -> Vec<C> {
    let led = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    led.then_some(organization).into_iter().chain(rest).collect()
}

/// The conflict clause of a rollup: on its `keys`, the stored `sums` grow by the new row's.
pub(crate) fn adding<E: sea_orm::EntityTrait>(
    keys: impl IntoIterator<Item = E::Column>,
    sums: impl IntoIterator<Item = E::Column>,
) -> sea_orm::sea_query::OnConflict {
    use sea_orm::{ExprTrait, IdenStatic, sea_query::Expr};
    let mut on_conflict = sea_orm::sea_query::OnConflict::columns(keys);
    for column in sums {
        on_conflict.value(
            column,
            Expr::col((E::default(), column)).add(Expr::cust(format!("excluded.{}", column.as_str()))),
        );
    }
    on_conflict
}

/// Counts the SQL statements a connection runs (for the bound on statements per request,
/// checked by the tests and reported by the benchmark), and keeps their distinct texts once
/// asked to (the tests check that every statement on an organization's data names it).
#[derive(Clone, Debug, Default)]
pub struct StatementCounter {
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
    texts: std::sync::Arc<std::sync::OnceLock<std::sync::Mutex<std::collections::BTreeSet<String>>>>,
}

impl StatementCounter {
    /// Installs a counter on a connection.
    pub fn install(db: &mut DatabaseConnection) -> Self {
        let counter = StatementCounter::default();
        let (count, texts) = (counter.count.clone(), counter.texts.clone());
        db.set_metric_callback(move |info| {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Some(texts) = texts.get() {
                let mut texts = texts.lock().unwrap_or_else(|e| e.into_inner());
                if !texts.contains(&info.statement.sql) {
                    texts.insert(info.statement.sql.clone());
                }
            }
        });
        counter
    }

    /// Statements run so far.
    pub fn get(&self) -> u64 {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// From now on, keeps the text of every distinct statement run.
    pub fn keep_texts(&self) {
        let _ = self.texts.set(Default::default());
    }

    /// The distinct statement texts kept so far.
    pub fn texts(&self) -> Vec<String> {
        self.texts
            .get()
            .map(|t| t.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// How many values one `IN` condition takes: all of them on PostgreSQL, which gets them as
/// one array parameter ([`one_of`]); on SQLite a list well under its bind-parameter limit.
pub(crate) fn in_chunk(db: &impl sea_orm::ConnectionTrait, values: usize) -> usize {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => values.max(1),
        _ => ROWS_PER_STATEMENT,
    }
}

/// `column IN (values)`. On PostgreSQL as `column = ANY($1)`: with a list of hundreds of
/// parameters after an equality on the index's first column, its planner used only that
/// equality as the index condition and filtered every row of the organization.
pub(crate) fn one_of<C, V>(db: &impl sea_orm::ConnectionTrait, column: C, values: &[V]) -> sea_orm::sea_query::Expr
where
    C: sea_orm::ColumnTrait,
    V: Clone + Into<sea_orm::Value> + sea_orm::sea_query::ValueType + sea_orm::sea_query::value::postgres_array::NotU8,
{
    one_of_expr(db, sea_orm::sea_query::Expr::col(column.as_column_ref()), values)
}

/// [`one_of`] for a column named by an expression.
pub(crate) fn one_of_expr<V>(
    db: &impl sea_orm::ConnectionTrait,
    column: sea_orm::sea_query::Expr,
    values: &[V],
) -> sea_orm::sea_query::Expr
where
    V: Clone + Into<sea_orm::Value> + sea_orm::sea_query::ValueType + sea_orm::sea_query::value::postgres_array::NotU8,
{
    use sea_orm::{
        ExprTrait,
        sea_query::{Expr, PgFunc},
    };
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => column.eq(PgFunc::any(Expr::val(values.to_vec()))),
        _ => column.is_in(values.iter().cloned()),
    }
}

/// Rows whose day column falls in any of these half-open ranges of days (the edge days
/// of a [`crate::domain::rollup::Split`]). No range: no row.
pub(crate) fn days_in<C: sea_orm::ColumnTrait>(
    column: C,
    ranges: &[(chrono::NaiveDate, chrono::NaiveDate)],
) -> sea_orm::Condition {
    let mut any = sea_orm::Condition::any();
    for (from, until) in ranges {
        any = any.add(sea_orm::Condition::all().add(column.gte(*from)).add(column.lt(*until)));
    }
    any
}
