//! Stored notifications (docs/design.md §15.4): `Organization.notifications`, and the
//! cursors that `quotaEvents(after:)` resumes from.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::{DEFAULT_PAGE, MAX_PAGE, subscription::QuotaEvent};
use crate::error::AppError;
use crate::service::{self, AppContext, notification::Wanted};

/// What a cursor starts with, so that another connection's cursor is told apart.
const CURSOR_TAG: u8 = b'n';

/// The opaque cursor of a stored event.
pub(super) fn cursor(seq: i64) -> String {
    // Webhook bodies carry the same cursor.
    crate::domain::webhook::cursor(seq)
}

/// The `seq` a cursor names; none for no cursor (from the oldest kept).
pub(super) fn after(cursor: Option<&str>) -> Result<i64, AppError> {
    let Some(text) = cursor else { return Ok(0) };
    let refused = || AppError::bad_input("after is not a notification cursor");
    let bytes = URL_SAFE_NO_PAD.decode(text.as_bytes()).map_err(|_| refused())?;
    match bytes.split_first() {
        Some((&CURSOR_TAG, seq)) => Ok(i64::from_be_bytes(seq.try_into().map_err(|_| refused())?)),
        _ => Err(refused()),
    }
}

/// A page of notifications after the wanted cursor, oldest first.
pub(super) async fn history(
    app: &AppContext,
    wanted: &Wanted,
    first: Option<i32>,
) -> async_graphql::Result<Connection<String, QuotaEvent>> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(AppError::bad_input(format!("first must be between 0 and {MAX_PAGE}")).into());
    }
    let (events, more) = service::notification::page(app, wanted, u64::try_from(first).unwrap_or(0)).await?;
    let mut connection = Connection::new(wanted.after > 0, more);
    connection.edges.extend(
        events
            .into_iter()
            .map(|event| Edge::new(cursor(event.seq.unwrap_or_default()), QuotaEvent::new(Arc::new(event)))),
    );
    Ok(connection)
}
