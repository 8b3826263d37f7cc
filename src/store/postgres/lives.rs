//! The lives PostgreSQL holds: each one's title, lifecycle and times, as
//! the SQLite store keeps them (`lives` row, moved by the `live_state`
//! events a commit projects). Read back, so a node that restarts, or starts
//! later, runs an ended live as ended and a scheduled one as scheduled, not
//! every live on air.

use postgres::{Client, Row};

use super::{Statements, corrupt};
use crate::protocol::{LiveInfo, LiveState, Millis};
use crate::store::StoreError;

const COLUMNS: &str = "name, title, state, starts_at, started_at, ended_at";

fn read(row: &Row) -> Result<LiveInfo, StoreError> {
    let state: String = row.try_get(2)?;
    let state = LiveState::from_name(&state)
        .ok_or_else(|| corrupt(format!("unknown live state {state:?}")))?;
    Ok(LiveInfo {
        name: row.try_get(0)?,
        title: row.try_get(1)?,
        state,
        starts_at: row.try_get(3)?,
        started_at: row.try_get(4)?,
        ended_at: row.try_get(5)?,
    })
}

/// `live`'s row; `None` when no node opened or created it.
pub(super) fn live_info(
    sql: &mut Statements,
    client: &mut Client,
    live: &str,
) -> Result<Option<LiveInfo>, StoreError> {
    sql.query_opt(
        client,
        &format!("SELECT {COLUMNS} FROM lives WHERE name = $1"),
        &[&live],
    )?
    .as_ref()
    .map(read)
    .transpose()
}

/// Every live, oldest first.
pub(super) fn lives(
    sql: &mut Statements,
    client: &mut Client,
) -> Result<Vec<LiveInfo>, StoreError> {
    sql.query(
        client,
        &format!("SELECT {COLUMNS} FROM lives ORDER BY id"),
        &[],
    )?
    .iter()
    .map(read)
    .collect()
}

/// Creates `info`'s live with a fresh `epoch`; two nodes creating the same
/// name at once make one live, and the other is told it exists.
pub(super) fn create_live(
    sql: &mut Statements,
    client: &mut Client,
    info: &LiveInfo,
    epoch: &str,
    now: Millis,
) -> Result<(), StoreError> {
    let created = sql.exec(
        client,
        "INSERT INTO lives (name, epoch, head, created_at, title, starts_at, state, started_at, \
         ended_at) VALUES ($1, $2, 0, $3, $4, $5, $6, $7, $8) ON CONFLICT (name) DO NOTHING",
        &[
            &info.name,
            &epoch,
            &now,
            &info.title,
            &info.starts_at,
            &info.state.as_str(),
            &info.started_at,
            &info.ended_at,
        ],
    )?;
    if created == 0 {
        return Err(StoreError::LiveExists(info.name.clone()));
    }
    tracing::info!(live = %info.name, state = %info.state, "new live in the store");
    Ok(())
}
