//! A live's moderation rules on PostgreSQL: the `rules` table (schema
//! version 2), kept by the `rule_added` / `rule_removed` events in the
//! commit that numbers them, and seeded once with the brand's defaults,
//! as the SQLite store keeps them (`store::rules`). A rule is shared by
//! every node of the live from the moment staff hear of it; a node that
//! starts later reads them here.
//!
//! A removed or expired rule keeps its row with `removed_at` set: a live
//! that has rows was seeded, so no restart puts back a default a moderator
//! removed.

use postgres::{Client, GenericClient, Row};

use super::{Batch, Statements, corrupt, role, wire};
use crate::protocol::{Actor, Millis, RuleView};
use crate::store::StoreError;

/// The columns [`read_rule`] expects, in order.
const RULE_COLUMNS: &str = "rule_id, kind, pattern, action, expires_at, created_by_name, \
                            created_by_role, created_at";

impl Batch<'_, '_, '_> {
    /// A `rule_added` event: the rule in force (an id used before by a
    /// since-removed rule is taken again, as the session numbers them).
    pub(super) fn insert_rule(&mut self, rule: &RuleView) -> Result<(), StoreError> {
        insert_rule(self.sql, self.tx, self.live_id, rule)
    }

    /// A `rule_removed` event (removed by staff, or expired) at `at`.
    pub(super) fn remove_rule(&mut self, rule_id: u32, at: Millis) -> Result<(), StoreError> {
        let live_id = self.live_id;
        self.exec(
            "UPDATE rules SET removed_at = $3 WHERE live_id = $1 AND rule_id = $2 \
             AND removed_at IS NULL",
            &[&live_id, &i64::from(rule_id), &at],
        )?;
        Ok(())
    }
}

fn insert_rule(
    sql: &mut Statements,
    conn: &mut impl GenericClient,
    live_id: i64,
    rule: &RuleView,
) -> Result<(), StoreError> {
    let (by_name, by_role) = match &rule.created_by {
        Some(actor) => (actor.name.as_deref(), Some(actor.role.as_str())),
        None => (None, None),
    };
    sql.exec(
        conn,
        "INSERT INTO rules (live_id, rule_id, kind, pattern, action, expires_at, \
         created_by_name, created_by_role, created_at, removed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL) \
         ON CONFLICT (live_id, rule_id) DO UPDATE SET kind = excluded.kind, \
         pattern = excluded.pattern, action = excluded.action, \
         expires_at = excluded.expires_at, created_by_name = excluded.created_by_name, \
         created_by_role = excluded.created_by_role, created_at = excluded.created_at, \
         removed_at = NULL",
        &[
            &live_id,
            &i64::from(rule.rule_id),
            &rule.kind.as_str(),
            &rule.pattern,
            &rule.action.as_str(),
            &rule.expires_at,
            &by_name,
            &by_role,
            &rule.created_at,
        ],
    )?;
    Ok(())
}

/// The rules in force of a live, oldest first; `None` when it never had
/// one (so the hub seeds the brand's defaults).
pub(super) fn load_rules(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
) -> Result<Option<Vec<RuleView>>, StoreError> {
    let any: bool = sql
        .query_one(
            client,
            "SELECT EXISTS (SELECT 1 FROM rules WHERE live_id = $1)",
            &[&live_id],
        )?
        .try_get(0)?;
    if !any {
        return Ok(None);
    }
    let rows = sql.query(
        client,
        &format!(
            "SELECT {RULE_COLUMNS} FROM rules WHERE live_id = $1 AND removed_at IS NULL \
             ORDER BY rule_id"
        ),
        &[&live_id],
    )?;
    rows.iter()
        .map(read_rule)
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Seeds a live that never had rules with `defaults`, in one transaction
/// under the live's row lock: nodes starting together seed it once, and
/// the later ones find the first one's rows (and store nothing).
pub(super) fn seed_rules(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
    defaults: &[RuleView],
) -> Result<(), StoreError> {
    let mut tx = sql.begin(client)?;
    sql.query_one(
        &mut tx,
        "SELECT id FROM lives WHERE id = $1 FOR UPDATE",
        &[&live_id],
    )?;
    let seeded: bool = sql
        .query_one(
            &mut tx,
            "SELECT EXISTS (SELECT 1 FROM rules WHERE live_id = $1)",
            &[&live_id],
        )?
        .try_get(0)?;
    if !seeded {
        for rule in defaults {
            insert_rule(sql, &mut tx, live_id, rule)?;
        }
    }
    sql.finish(tx)
}

fn read_rule(row: &Row) -> Result<RuleView, StoreError> {
    let rule_id: i64 = row.try_get(0)?;
    let created_by = match row.try_get::<_, Option<String>>(6)? {
        Some(by_role) => Some(Actor {
            name: row.try_get(5)?,
            role: role(&by_role)?,
        }),
        None => None,
    };
    Ok(RuleView {
        rule_id: u32::try_from(rule_id).map_err(|_| corrupt(format!("rule id {rule_id}")))?,
        kind: wire(row, 1)?,
        pattern: row.try_get(2)?,
        action: wire(row, 3)?,
        expires_at: row.try_get(4)?,
        created_by,
        created_at: row.try_get(7)?,
    })
}
