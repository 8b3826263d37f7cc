//! What staff read from the live's past on any node, as on SQLite: a page
//! of the staff log (the audit chain, content-free as stored) and a page of
//! a `history_search` (the rules are `store::history`'s; only the reading
//! is here).

use postgres::Client;

use super::{MESSAGE_COLUMNS, Statements, read_entry, read_message};
use crate::protocol::ChatMessage;
use crate::store::history::{HistoryPage, HistoryQuery};
use crate::store::rows::{sql_i64, sql_len, u64_from_sql};
use crate::store::{StaffLogPage, StaffLogQuery, StoreError};

/// Messages a history search reads in one round trip: a page that finds
/// its matches among the newest lines reads no further.
const SCAN_CHUNK: usize = 500;

/// The page of the staff log `query` asks for, oldest first, with the
/// `before` of the next older page when there is one.
pub(super) fn staff_log(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
    query: &StaffLogQuery,
) -> Result<StaffLogPage, StoreError> {
    let before = query.before.map_or(i64::MAX, sql_i64);
    let limit = sql_len(query.rows_to_read());
    let rows = sql.query(
        client,
        "SELECT idx, at, actor_name, actor_role, action, target, reason FROM audit \
         WHERE live_id = $1 AND idx < $2 AND ($3::TEXT IS NULL OR actor_name = $3) \
         AND ($4::TEXT IS NULL OR action = $4) ORDER BY idx DESC LIMIT $5",
        &[&live_id, &before, &query.actor, &query.action, &limit],
    )?;
    let newest_first = rows
        .iter()
        .map(|r| Ok((u64_from_sql(r.try_get(0)?), read_entry(r, 1)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(query.page(newest_first))
}

/// One page of `query` over the live's stored messages, newest first,
/// read [`SCAN_CHUNK`] at a time and no further than the search needs (at
/// most [`crate::store::history::SCAN_ROWS`], as on SQLite).
pub(super) fn history_search(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
    query: &HistoryQuery,
) -> Result<HistoryPage, StoreError> {
    let mut before = query.before.map_or(i64::MAX, |b| sql_i64(b.0));
    let mut chunk: std::vec::IntoIter<ChatMessage> = Vec::new().into_iter();
    let mut exhausted = false;
    let mut failed = None;
    let scanned = std::iter::from_fn(|| {
        loop {
            if let Some(m) = chunk.next() {
                return Some(m);
            }
            if exhausted || failed.is_some() {
                return None;
            }
            match read_chunk(sql, client, live_id, before) {
                Ok((messages, oldest)) => {
                    exhausted = oldest.is_none();
                    before = oldest.unwrap_or(before);
                    chunk = messages.into_iter();
                }
                Err(e) => failed = Some(e),
            }
        }
    });
    let page = query.page(scanned);
    match failed {
        Some(e) => Err(e),
        None => Ok(page),
    }
}

/// Up to [`SCAN_CHUNK`] stored messages older than `before`, newest first,
/// and the id of the oldest row read (`None`: the live has no older row).
fn read_chunk(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
    before: i64,
) -> Result<(Vec<ChatMessage>, Option<i64>), StoreError> {
    let rows = sql.query(
        client,
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.live_id = $1 AND m.id < $2 \
             ORDER BY m.id DESC LIMIT $3"
        ),
        &[&live_id, &before, &sql_len(SCAN_CHUNK)],
    )?;
    let oldest = match rows.last() {
        Some(r) if rows.len() == SCAN_CHUNK => Some(r.try_get::<_, i64>(0)?),
        _ => None,
    };
    let mut messages = Vec::with_capacity(rows.len());
    for r in &rows {
        messages.extend(read_message(r, 0)?);
    }
    Ok((messages, oldest))
}
