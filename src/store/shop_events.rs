//! The shop events the report's commerce figures come from
//! ([`crate::shop`]), in table `shop_events`.
//!
//! A row is content-free: a keyed digest of the shop's event id (UNIQUE:
//! a second event with the same id changes nothing), the kind, when, the
//! viewer's pseudonymous id in the live (or NULL), an order's amount and
//! currency, the product ids. Erasure blanks the viewer's link (the row
//! stays, so a replay of the same event is still a duplicate, but it is
//! attributed to no one); retention deletes a live's rows together with
//! its presence records, once the figures are frozen.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use crate::protocol::{Millis, ViewerId};
use crate::report::{ShopFact, ShopKind};
use crate::shop::{Recorded, ShopRecord};

/// How many successors an erased viewer's device may have gone through.
const MAX_ERASURES: usize = 64;

fn kind_name(kind: ShopKind) -> &'static str {
    match kind {
        ShopKind::ProductView => "product_view",
        ShopKind::AddToCart => "add_to_cart",
        ShopKind::Order => "order",
    }
}

fn kind_of(name: &str) -> Option<ShopKind> {
    match name {
        "product_view" => Some(ShopKind::ProductView),
        "add_to_cart" => Some(ShopKind::AddToCart),
        "order" => Some(ShopKind::Order),
        _ => None,
    }
}

/// Stores `event` once; `successor` is the id an erased viewer's device
/// has now (`hub::identity`), so an event after an erasure is not linked
/// to the erased id. [`StoreError::UnknownLive`] for a live the store does
/// not hold.
pub(super) fn record(
    conn: &mut Connection,
    event: &ShopRecord,
    successor: &dyn Fn(&ViewerId) -> ViewerId,
) -> Result<Recorded, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let live_id: i64 = tx
        .query_row("SELECT id FROM lives WHERE name = ?1", [&event.live], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| StoreError::UnknownLive(event.live.clone()))?;
    let mut viewer = event.viewer.clone();
    if let Some(id) = &mut viewer {
        let mut erased =
            tx.prepare_cached("SELECT 1 FROM erasures WHERE live_id = ?1 AND viewer_id = ?2")?;
        let mut steps = 0;
        while erased.exists(params![live_id, id.0])? {
            *id = successor(id);
            steps += 1;
            if steps > MAX_ERASURES {
                return Err(StoreError::Corrupt(
                    "a viewer erased more times than any device could be".to_owned(),
                ));
            }
        }
    }
    let products = serde_json::to_string(&event.products)
        .map_err(|e| StoreError::Corrupt(format!("product ids do not serialise: {e}")))?;
    let amount = event
        .amount_minor
        .map(|a| i64::try_from(a).unwrap_or(i64::MAX));
    let added = tx.execute(
        "INSERT OR IGNORE INTO shop_events \
         (live_id, digest, event_kind, happened_at, viewer_id, amount, currency, products) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            live_id,
            event.digest,
            kind_name(event.kind),
            event.at,
            viewer.as_ref().map(|v| v.0.as_str()),
            amount,
            event.currency,
            products
        ],
    )?;
    tx.commit()?;
    Ok(if added == 0 {
        Recorded::Duplicate
    } else {
        Recorded::Accepted
    })
}

/// An erased viewer's shop events are linked to no one any more.
pub(super) fn erase(conn: &Connection, live_id: i64, viewer: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE shop_events SET viewer_id = NULL WHERE live_id = ?1 AND viewer_id = ?2",
        params![live_id, viewer],
    )?;
    Ok(())
}

/// Retention: the live's shop events go (its figures are frozen first).
pub(super) fn sweep(conn: &Connection, live_id: i64) -> Result<u64, StoreError> {
    Ok(conn.execute("DELETE FROM shop_events WHERE live_id = ?1", [live_id])? as u64)
}

/// One stored event linked to a viewer, as the report reads it.
pub(super) struct Linked {
    pub viewer: String,
    pub at: Millis,
    pub kind: ShopKind,
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    pub products: Vec<u32>,
}

impl Linked {
    pub(super) fn fact(self, viewer: crate::report::Viewer) -> ShopFact {
        ShopFact {
            at: self.at,
            viewer,
            kind: self.kind,
            amount_minor: self.amount_minor,
            currency: self.currency,
            products: self.products,
        }
    }
}

/// The live's events that are linked to a viewer, in the order stored.
pub(super) fn linked(conn: &Connection, live_id: i64) -> Result<Vec<Linked>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT viewer_id, happened_at, event_kind, amount, currency, products FROM shop_events \
         WHERE live_id = ?1 AND viewer_id IS NOT NULL ORDER BY rowid",
    )?;
    let mut rows = stmt.query([live_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(2)?;
        let Some(kind) = kind_of(&kind) else {
            return Err(StoreError::Corrupt(format!(
                "unknown shop event kind {kind:?}"
            )));
        };
        let products: String = r.get(5)?;
        let products = serde_json::from_str(&products)
            .map_err(|e| StoreError::Corrupt(format!("shop event product ids: {e}")))?;
        out.push(Linked {
            viewer: r.get(0)?,
            at: r.get(1)?,
            kind,
            amount_minor: r
                .get::<_, Option<i64>>(3)?
                .map(|a| u64::try_from(a).unwrap_or(0)),
            currency: r.get(4)?,
            products,
        });
    }
    Ok(out)
}
