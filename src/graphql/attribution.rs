//! Folder and process figures in both attribution modes (docs/design.md §4).

use std::sync::Arc;

use async_graphql::{
    Enum, Object,
    connection::{Connection, Edge},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use async_graphql::Context;

use super::{
    DEFAULT_PAGE, MAX_PAGE,
    analytics::{Granularity, ServiceBreakdown, UsageBucket},
    folder::{Folder, Process},
    reads::Reads,
    scalars::Decimal,
};
use crate::domain::attribution::{self, FolderFigure, ProcessFigure};
use crate::error::AppError;
use crate::service::attribution::Attributed;

/// How folder and process figures attribute consumption.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::attribution::Attribution")]
pub enum Attribution {
    /// Where it ran: the folder the run executed in; a process's own events.
    Execution,
    /// Whom it is owed to: the root process of the job chain and the folder owning it.
    Ownership,
}

/// A folder's consumption, its subfolders included.
pub struct FolderUsage {
    reads: Arc<Reads>,
    attributed: Arc<Attributed>,
    mode: attribution::Attribution,
    /// The tenant the row belongs to, when the list is one tenant's.
    tenant: Option<Uuid>,
    figure: FolderFigure,
}

impl FolderUsage {
    pub fn new(
        reads: Arc<Reads>,
        attributed: Arc<Attributed>,
        mode: attribution::Attribution,
        tenant: Option<Uuid>,
        figure: FolderFigure,
    ) -> Self {
        FolderUsage {
            reads,
            attributed,
            mode,
            tenant,
            figure,
        }
    }
}

#[Object]
impl FolderUsage {
    /// The folder; null on the "no folder" row.
    async fn folder(&self) -> Option<Folder> {
        let id = self.figure.folder?;
        self.attributed.folder(id).map(Folder::one)
    }

    /// Its consumption and its subfolders'.
    async fn consumed(&self) -> Decimal {
        self.figure.consumed.into()
    }

    /// Its subfolders, largest first.
    #[graphql(complexity = "super::limits::tree_cost(child_complexity)")]
    async fn children(&self) -> Vec<FolderUsage> {
        self.figure
            .children
            .iter()
            .cloned()
            .map(|figure| {
                FolderUsage::new(
                    self.reads.clone(),
                    self.attributed.clone(),
                    self.mode,
                    self.tenant,
                    figure,
                )
            })
            .collect()
    }

    /// EXECUTION: the processes that ran directly in it. OWNERSHIP: the root processes it
    /// owns, with their chains.
    #[graphql(complexity = "super::limits::tree_cost(child_complexity)")]
    async fn processes(&self) -> Vec<ProcessUsage> {
        self.figure
            .processes
            .iter()
            .cloned()
            .map(|figure| ProcessUsage::new(self.attributed.clone(), figure))
            .collect()
    }

    /// Its consumption (as `consumed` counts it) over the range in buckets of a day, an ISO
    /// week or a month.
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn distribution(
        &self,
        ctx: &Context<'_>,
        granularity: Granularity,
    ) -> async_graphql::Result<Vec<UsageBucket>> {
        self.reads
            .folder_distribution(
                ctx,
                &self.attributed,
                self.mode,
                self.tenant,
                self.figure.folder,
                granularity.into(),
            )
            .await
    }

    /// Its consumption (as `consumed` counts it) over the range by service.
    async fn by_service(&self, ctx: &Context<'_>) -> async_graphql::Result<ServiceBreakdown> {
        self.reads
            .folder_by_service(ctx, &self.attributed, self.mode, self.tenant, self.figure.folder)
            .await
    }
}

/// A process's consumption.
pub struct ProcessUsage {
    attributed: Arc<Attributed>,
    figure: ProcessFigure,
}

impl ProcessUsage {
    pub fn new(attributed: Arc<Attributed>, figure: ProcessFigure) -> Self {
        ProcessUsage { attributed, figure }
    }
}

#[Object]
impl ProcessUsage {
    /// The process.
    async fn process(&self) -> async_graphql::Result<Process> {
        let model = self
            .attributed
            .process(self.figure.process)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("process {} was not loaded", self.figure.process)))?;
        Ok(Process(model))
    }

    /// Its own events.
    async fn own(&self) -> Decimal {
        self.figure.own.into()
    }

    /// EXECUTION: its own events. OWNERSHIP: its own and everything its runs orchestrated.
    async fn consumed(&self) -> Decimal {
        self.figure.consumed.into()
    }

    /// OWNERSHIP: the processes its runs started, largest first. EXECUTION: empty.
    #[graphql(complexity = "super::limits::tree_cost(child_complexity)")]
    async fn children(&self) -> Vec<ProcessUsage> {
        self.figure
            .children
            .iter()
            .cloned()
            .map(|figure| ProcessUsage::new(self.attributed.clone(), figure))
            .collect()
    }
}

/// A cursor names a row by its sort key (consumption, then process id), so a page still
/// follows on correctly when figures move between requests.
fn cursor(figure: &ProcessFigure) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", figure.consumed.scaled(), figure.process))
}

fn read_cursor(text: &str) -> Result<(i64, Uuid), AppError> {
    let bad = || AppError::bad_input("after is not a cursor from this connection");
    let bytes = URL_SAFE_NO_PAD.decode(text.as_bytes()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (consumed, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((consumed.parse().map_err(|_| bad())?, id.parse().map_err(|_| bad())?))
}

/// A page of process figures sorted largest first.
pub fn process_page(
    attributed: Arc<Attributed>,
    figures: Vec<ProcessFigure>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<String, ProcessUsage>, AppError> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(AppError::bad_input(format!("first must be between 0 and {MAX_PAGE}")));
    }
    let limit = usize::try_from(first).unwrap_or(0);
    let start = match after.as_deref() {
        Some(text) => {
            let (consumed, id) = read_cursor(text)?;
            // Rows sort by consumption descending, then id ascending.
            figures.partition_point(|f| {
                (std::cmp::Reverse(f.consumed.scaled()), f.process) <= (std::cmp::Reverse(consumed), id)
            })
        }
        None => 0,
    };
    let has_next = figures.len() > start + limit;
    let mut connection = Connection::new(after.is_some(), has_next);
    connection.edges.extend(
        figures
            .into_iter()
            .skip(start)
            .take(limit)
            .map(|figure| Edge::new(cursor(&figure), ProcessUsage::new(attributed.clone(), figure))),
    );
    Ok(connection)
}
