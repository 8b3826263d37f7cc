//! The CRM queue's rows an erasure writes, inside the erasure's own
//! transaction ([`crate::store`] calls these; no other dependency, so the
//! store does not reach the CRM's task).

use rusqlite::{Connection, params};

use crate::protocol::Millis;

/// Whether the CRM was given an opt-in of this viewer (read before the
/// erasure deletes the viewer, and their queue rows with them).
pub fn was_pushed(tx: &Connection, live_id: i64, viewer: &str) -> rusqlite::Result<bool> {
    tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM crm_outbox WHERE live_id = ?1 AND viewer_id = ?2 \
         AND event = 'opt_in' AND state = 'sent')",
    )?
    .query_row(params![live_id, viewer], |r| r.get(0))
}

/// Queues the erasure notice of a viewer whose opt-in was pushed: the CRM
/// must erase its copy too (Art. 17(2), 19). Written after the viewer's
/// row is gone; the notice row is deleted once it is settled.
pub fn queue_erasure(
    tx: &Connection,
    live_id: i64,
    viewer: &str,
    at: Millis,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO crm_outbox (live_id, viewer_id, event, state, next_at, updated_at) \
         VALUES (?1, ?2, 'erased', 'queued', ?3, ?3)",
    )?
    .execute(params![live_id, viewer, at])?;
    Ok(())
}
