//! What a node reads back from the live's event log when it starts (or
//! rebuilds its session), as the SQLite store does: whether Shield is on,
//! the slow mode staff set, the viewers' delivery policy, and the showcase
//! (products added, the one now showing, canned answers saved). These have
//! no table of their own: the events are the record.

use postgres::Client;

use super::{Statements, json_text};
use crate::protocol::{DeliveryPolicy, Event};
use crate::store::{StoreError, StoredShowcase};

/// The live's events of these kinds, oldest first.
fn logged(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
    kinds: &[&str],
) -> Result<Vec<Event>, StoreError> {
    let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
    sql.query(
        client,
        "SELECT seq, payload FROM events WHERE live_id = $1 AND kind = ANY($2) ORDER BY seq",
        &[&live_id, &kinds],
    )?
    .iter()
    .map(|r| {
        let seq: i64 = r.try_get(0)?;
        json_text(&r.try_get::<_, String>(1)?, &format!("event {seq}"))
    })
    .collect()
}

/// Whether the last `shield_changed` turned Shield on.
pub(super) fn shield_on(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
) -> Result<bool, StoreError> {
    Ok(logged(sql, client, live_id, &["shield_changed"])?
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::ShieldChanged { on, .. } => Some(*on),
            _ => None,
        })
        .unwrap_or(false))
}

/// The slow mode staff set. A change while Shield is on is Shield's
/// business: lifting it restores the wait from before, which its event
/// carries.
pub(super) fn slow_mode(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
) -> Result<Option<u32>, StoreError> {
    let (mut shield, mut set) = (false, None);
    for e in logged(
        sql,
        client,
        live_id,
        &["slow_mode_changed", "shield_changed"],
    )? {
        match e {
            Event::SlowModeChanged { secs, .. } if !shield => set = Some(secs),
            Event::ShieldChanged {
                on, slow_mode_secs, ..
            } => {
                shield = on;
                if !on {
                    set = Some(slow_mode_secs);
                }
            }
            _ => {}
        }
    }
    Ok(set)
}

/// The last delivery policy staff set; one this build cannot check is the
/// brand's default.
pub(super) fn delivery(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
) -> Result<Option<DeliveryPolicy>, StoreError> {
    Ok(logged(sql, client, live_id, &["delivery_changed"])?
        .into_iter()
        .rev()
        .find_map(|e| match e {
            Event::DeliveryChanged { policy, .. } => Some(policy),
            _ => None,
        })
        .filter(|p| p.check().is_ok()))
}

/// Products added, the one now showing, and canned answers saved.
pub(super) fn showcase(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
) -> Result<StoredShowcase, StoreError> {
    let mut out = StoredShowcase::default();
    for e in logged(
        sql,
        client,
        live_id,
        &["product_added", "now_showing", "canned_added"],
    )? {
        match e {
            Event::ProductAdded { product } => out.added.push(product),
            Event::NowShowing { product } => out.now_showing = product,
            Event::CannedAdded { canned } => out.canned.push(canned),
            _ => {}
        }
    }
    Ok(out)
}
