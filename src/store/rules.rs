//! A live's moderation rules in the store: the `rules` table, kept by the
//! `rule_added` / `rule_removed` events in the commit that numbers them (so
//! a rule is durable exactly when staff hear of it), and seeded once from
//! the brand's defaults when a live first runs.
//!
//! A removed or expired rule keeps its row with `removed_at` set: a live
//! that has rows was seeded, so a hub restart never puts back a default a
//! moderator removed.

use rusqlite::types::Type;
use rusqlite::{Connection, Row, Transaction, params};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::protocol::{Actor, RuleView, StaffRole};

/// Stores one rule of a live (a `rule_added` event, or a brand default).
pub(crate) fn insert_rule(
    tx: &Transaction<'_>,
    live_id: i64,
    rule: &RuleView,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO rules (live_id, rule_id, kind, pattern, action, expires_at, \
         created_by_name, created_by_role, created_at, removed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL)",
    )?
    .execute(params![
        live_id,
        rule.rule_id,
        rule.kind.as_str(),
        rule.pattern,
        rule.action.as_str(),
        rule.expires_at,
        rule.created_by.as_ref().and_then(|a| a.name.clone()),
        rule.created_by.as_ref().map(|a| a.role.as_str()),
        rule.created_at,
    ])?;
    Ok(())
}

/// Ends a rule of a live at `at` (a `rule_removed` event: removed by staff
/// or expired); its row stays, so a default is never seeded again.
pub(crate) fn remove_rule(
    tx: &Transaction<'_>,
    live_id: i64,
    rule_id: u32,
    at: crate::protocol::Millis,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE rules SET removed_at = ?3 WHERE live_id = ?1 AND rule_id = ?2 \
         AND removed_at IS NULL",
    )?
    .execute(params![live_id, rule_id, at])?;
    Ok(())
}

/// The rules in force of a live (not removed), oldest first; `None` when
/// the live never had one, so the hub seeds the brand's defaults.
pub(crate) fn load_rules(
    conn: &Connection,
    live_id: i64,
) -> Result<Option<Vec<RuleView>>, StoreError> {
    let any: i64 = conn.query_row(
        "SELECT count(*) FROM rules WHERE live_id = ?1",
        [live_id],
        |r| r.get(0),
    )?;
    if any == 0 {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT rule_id, kind, pattern, action, expires_at, created_by_name, created_by_role, \
         created_at FROM rules WHERE live_id = ?1 AND removed_at IS NULL ORDER BY rule_id",
    )?;
    let rules = stmt
        .query_map([live_id], row_rule)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(rules))
}

/// Seeds a live that never had rules with `defaults`, in one transaction;
/// a live that has rows (in force or removed) keeps them.
pub(crate) fn seed_rules(
    conn: &mut Connection,
    live_id: i64,
    defaults: &[RuleView],
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    let seeded: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM rules WHERE live_id = ?1)",
        [live_id],
        |r| r.get(0),
    )?;
    if !seeded {
        for rule in defaults {
            insert_rule(&tx, live_id, rule)?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn row_rule(row: &Row<'_>) -> rusqlite::Result<RuleView> {
    let role: Option<String> = row.get(6)?;
    let created_by = match role {
        Some(role) => Some(Actor {
            name: row.get(5)?,
            role: wire::<StaffRole>(&role, 6)?,
        }),
        None => None,
    };
    Ok(RuleView {
        rule_id: row.get(0)?,
        kind: wire(&row.get::<_, String>(1)?, 1)?,
        pattern: row.get(2)?,
        action: wire(&row.get::<_, String>(3)?, 3)?,
        expires_at: row.get(4)?,
        created_by,
        created_at: row.get(7)?,
    })
}

/// A value stored under its wire name.
fn wire<T: for<'de> Deserialize<'de> + Serialize>(s: &str, idx: usize) -> rusqlite::Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, e.into()))
}
