//! Rows of one page load their children together. The first child list asked for (with
//! some page arguments) is loaded for every row of the page in one statement; the other
//! rows read their share. So a nested query costs a statement per level, not per row,
//! and the count does not depend on timing (no batching window to wait for).

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::error::AppResult;
use crate::service::{Page, PageRequest};

/// Every sibling's page, and the rows of all those pages: the next level's siblings.
type Shares<M> = Arc<(HashMap<Uuid, Page<M>>, Arc<Siblings>)>;

/// The loads made so far, by children and page arguments (each a `OnceCell<Shares<M>>`).
type Loads = Mutex<HashMap<(&'static str, PageRequest), Arc<dyn Any + Send + Sync>>>;

/// The rows of one level (or a row on its own).
#[derive(Default)]
pub struct Siblings {
    ids: Vec<Uuid>,
    loads: Loads,
}

impl Siblings {
    pub fn of(ids: Vec<Uuid>) -> Arc<Siblings> {
        Arc::new(Siblings {
            ids,
            loads: Mutex::default(),
        })
    }

    /// `id`'s page of the children called `what`, loading them for every sibling the
    /// first time they are asked for with these page arguments; with the siblings of those
    /// children (every row loaded, whichever parent it has).
    pub async fn children<M, F, Fut>(
        &self,
        id: Uuid,
        what: &'static str,
        page: PageRequest,
        row_id: impl Fn(&M) -> Uuid,
        load: F,
    ) -> AppResult<(Page<M>, Arc<Siblings>)>
    where
        M: Clone + Send + Sync + 'static,
        F: FnOnce(Vec<Uuid>) -> Fut,
        Fut: Future<Output = AppResult<HashMap<Uuid, Page<M>>>>,
    {
        let level = |pages: HashMap<Uuid, Page<M>>| {
            let ids = pages.values().flat_map(|p| p.rows.iter().map(&row_id)).collect();
            (pages, Siblings::of(ids))
        };
        if !self.ids.contains(&id) {
            let (mut pages, next) = level(load(vec![id]).await?);
            return Ok((pages.remove(&id).unwrap_or_else(empty), next));
        }
        let cell = {
            let mut loads = self.loads.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let entry = loads
                .entry((what, page))
                .or_insert_with(|| Arc::new(OnceCell::<Shares<M>>::new()))
                .clone();
            entry
                .downcast::<OnceCell<Shares<M>>>()
                .unwrap_or_else(|_| Arc::new(OnceCell::new()))
        };
        let shares = cell
            .get_or_try_init(|| async {
                Ok::<_, crate::error::AppError>(Arc::new(level(load(self.ids.clone()).await?)))
            })
            .await?;
        let (pages, next) = &**shares;
        Ok((pages.get(&id).cloned().unwrap_or_else(empty), next.clone()))
    }
}

fn empty<M>() -> Page<M> {
    Page {
        rows: Vec::new(),
        has_next: false,
    }
}
