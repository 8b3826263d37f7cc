//! What the post-live report ([`crate::report`]) is computed from, read
//! from the SQLite store, and the presence records it needs.
//!
//! Presence (`presence`) is content-free: a viewer's pseudonymous id and
//! when one of their connections joined and left. It is deleted with the
//! viewer on erasure and with the live's chat by retention; just before
//! retention deletes them, the sweep freezes the live's figures
//! (`report_figures`: counts only, no id, name or text) so the report can
//! still be produced afterwards.
//!
//! Viewer ids never leave this file: each is mapped to a dense index for
//! the one computation. Erased viewers drop out entirely (their presence
//! rows are gone; their ids, still in a few log payloads, are skipped).

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;

use super::StoreError;
use crate::protocol::{Event, HoldOutcome, HoldReason, LiveInfo, Millis, Visibility};
use crate::report::{
    Figures, GameFact, LiveWindow, MessageFact, ModerationFact, PresenceSpan, ReportInput,
    ShopFact, Source, Status, Viewer, compute,
};

/// A connection of `viewer` joined at `at`.
pub(super) fn joined(
    conn: &Connection,
    live_id: i64,
    viewer: &str,
    at: Millis,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO presence (live_id, viewer_id, joined_at, left_at) VALUES (?1, ?2, ?3, NULL)",
    )?
    .execute(params![live_id, viewer, at])?;
    Ok(())
}

/// A connection of `viewer` left at `at`: closes their oldest open stretch.
pub(super) fn left(
    conn: &Connection,
    live_id: i64,
    viewer: &str,
    at: Millis,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE presence SET left_at = max(?3, joined_at) WHERE rowid = (SELECT rowid FROM presence \
         WHERE live_id = ?1 AND viewer_id = ?2 AND left_at IS NULL ORDER BY joined_at LIMIT 1)",
    )?
    .execute(params![live_id, viewer, at])?;
    Ok(())
}

/// An erased viewer's presence, and their place in a frozen live's
/// audience, go with them.
pub(super) fn erase(conn: &Connection, live_id: i64, viewer: &str) -> Result<(), StoreError> {
    for table in ["presence", "report_audience"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE live_id = ?1 AND viewer_id = ?2"),
            params![live_id, viewer],
        )?;
    }
    Ok(())
}

/// Before retention deletes the live's chat (`chat` is its cutoff, the
/// live ended before it): freezes the figures once, then deletes the
/// presence records. Shoppers buy for 30 days after the live, longer than
/// the chat is kept: while that attribution window is open, the live's
/// audience (the pseudonymous ids the report counts as its viewers) is
/// kept in `report_audience`, and the shop events stay, so later ones
/// still count against the frozen figures. Once the window has closed,
/// the commerce figures are frozen too and the audience and shop events
/// go. Returns how many of their rows went.
pub(super) fn sweep(
    conn: &Connection,
    live_id: i64,
    info: &LiveInfo,
    now: Millis,
) -> Result<u64, StoreError> {
    let closed = compute::commerce_status(info.ended_at, now) == Status::Final;
    let frozen: Option<String> = conn
        .query_row(
            "SELECT figures FROM report_figures WHERE live_id = ?1",
            [live_id],
            |r| r.get(0),
        )
        .optional()?;
    match frozen {
        None => {
            let (input, ids) = read_log(conn, live_id, info, now)?;
            // A live that never started has no figures to keep.
            if let Ok(figures) = compute::figures(&input) {
                if !closed {
                    let mut add = conn.prepare_cached(
                        "INSERT OR IGNORE INTO report_audience (live_id, viewer_id) VALUES (?1, ?2)",
                    )?;
                    for v in compute::audience(&input).unwrap_or_default() {
                        if let Some(id) = usize::try_from(v).ok().and_then(|i| ids.get(i)) {
                            add.execute(params![live_id, id])?;
                        }
                    }
                }
                freeze(conn, live_id, now, figures, !closed, false)?;
            }
        }
        Some(json) => {
            let figures: Figures = serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("frozen report figures: {e}")))?;
            if figures.commerce_open && closed {
                let figures = recounted(conn, live_id, figures)?;
                freeze(conn, live_id, now, figures, false, true)?;
            }
        }
    }
    let mut gone = conn.execute("DELETE FROM presence WHERE live_id = ?1", [live_id])? as u64;
    if closed {
        gone += conn.execute("DELETE FROM report_audience WHERE live_id = ?1", [live_id])? as u64;
        gone += super::shop_events::sweep(conn, live_id)?;
    }
    Ok(gone)
}

/// Stores `figures` as the live's frozen ones (counts only), the commerce
/// figures still open or not.
fn freeze(
    conn: &Connection,
    live_id: i64,
    now: Millis,
    figures: Figures,
    commerce_open: bool,
    again: bool,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(&Figures {
        status: None,
        commerce_status: None,
        commerce_open,
        ..figures
    })
    .map_err(|e| StoreError::Corrupt(format!("report figures do not serialise: {e}")))?;
    let sql = if again {
        "UPDATE report_figures SET computed_at = ?2, figures = ?3 WHERE live_id = ?1"
    } else {
        "INSERT INTO report_figures (live_id, computed_at, figures) VALUES (?1, ?2, ?3)"
    };
    conn.execute(sql, params![live_id, now, json])?;
    Ok(())
}

/// Frozen figures with their commerce counted again from the shop events
/// of the audience kept (erased viewers are out of both).
fn recounted(conn: &Connection, live_id: i64, mut figures: Figures) -> Result<Figures, StoreError> {
    let mut viewers = Viewers::load(conn, live_id)?;
    let mut audience = HashSet::new();
    let mut stmt = conn.prepare("SELECT viewer_id FROM report_audience WHERE live_id = ?1")?;
    let ids = stmt.query_map([live_id], |r| r.get::<_, String>(0))?;
    for id in ids {
        audience.extend(viewers.of(&id?));
    }
    let mut shop = Vec::new();
    for event in super::shop_events::linked(conn, live_id)? {
        if let Some(viewer) = viewers.of(&event.viewer) {
            shop.push(event.fact(viewer));
        }
    }
    compute::recount_commerce(&mut figures, &shop, &audience);
    Ok(figures)
}

/// Just the visibility of a `message` event's stored reference.
#[derive(Deserialize)]
struct Visible {
    visibility: Visibility,
}

/// Dense indexes for the viewers of one computation.
#[derive(Default)]
struct Viewers {
    erased: HashSet<String>,
    index: HashMap<String, Viewer>,
    /// The stored id of each index, in order.
    ids: Vec<String>,
}

impl Viewers {
    /// With the live's erased viewers, who never get an index.
    fn load(conn: &Connection, live_id: i64) -> Result<Self, StoreError> {
        let mut viewers = Viewers::default();
        let mut stmt = conn.prepare("SELECT viewer_id FROM erasures WHERE live_id = ?1")?;
        let erased = stmt.query_map([live_id], |r| r.get::<_, String>(0))?;
        for id in erased {
            viewers.erased.insert(id?);
        }
        Ok(viewers)
    }

    fn of(&mut self, id: &str) -> Option<Viewer> {
        if self.erased.contains(id) {
            return None;
        }
        if let Some(&v) = self.index.get(id) {
            return Some(v);
        }
        let next = Viewer::try_from(self.ids.len()).unwrap_or(Viewer::MAX);
        self.index.insert(id.to_owned(), next);
        self.ids.push(id.to_owned());
        Some(next)
    }
}

/// What the report of the live is computed from: its frozen figures
/// (their commerce counted again while the attribution window is open),
/// else its facts.
pub(super) fn read(
    conn: &Connection,
    live_id: i64,
    info: &LiveInfo,
    now: Millis,
) -> Result<Source, StoreError> {
    let frozen: Option<String> = conn
        .query_row(
            "SELECT figures FROM report_figures WHERE live_id = ?1",
            [live_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(json) = frozen {
        let mut figures: Figures = serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("frozen report figures: {e}")))?;
        let commerce = if figures.commerce_open {
            figures = recounted(conn, live_id, figures)?;
            compute::commerce_status(info.ended_at, now)
        } else {
            Status::Final
        };
        return Ok(Source::Frozen(Box::new(Figures {
            status: Some(Status::Final),
            commerce_status: Some(commerce),
            ..figures
        })));
    }
    let (input, _) = read_log(conn, live_id, info, now)?;
    Ok(Source::Log(Box::new(input)))
}

/// The live's facts from the event log and presence records, and the
/// stored id behind each viewer index.
#[expect(
    clippy::too_many_lines,
    reason = "one query per kind of fact, in report order"
)]
fn read_log(
    conn: &Connection,
    live_id: i64,
    info: &LiveInfo,
    now: Millis,
) -> Result<(ReportInput, Vec<String>), StoreError> {
    let mut viewers = Viewers::load(conn, live_id)?;

    let mut presence = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT viewer_id, joined_at, left_at FROM presence WHERE live_id = ?1 ORDER BY rowid",
    )?;
    let mut rows = stmt.query([live_id])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        if let Some(viewer) = viewers.of(&id) {
            presence.push(PresenceSpan {
                viewer,
                joined_at: r.get(1)?,
                left_at: r.get(2)?,
            });
        }
    }

    // Viewer messages, and the redacted ones still linked to their author.
    let mut messages: Vec<(u64, MessageFact)> = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT id, at, viewer_id, question FROM messages \
         WHERE live_id = ?1 AND author_kind = 'viewer' AND viewer_id IS NOT NULL \
         UNION ALL SELECT message_id, posted_at, author_id, 0 FROM tombstones \
         WHERE live_id = ?1 AND author_id IS NOT NULL \
         ORDER BY 1",
    )?;
    let mut rows = stmt.query([live_id])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(2)?;
        if let Some(author) = viewers.of(&id) {
            messages.push((
                unsigned(r.get(0)?),
                MessageFact {
                    at: r.get(1)?,
                    author,
                    question: r.get(3)?,
                    answered_at: None,
                },
            ));
        }
    }
    let position: HashMap<u64, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let author_of = |id: u64| position.get(&id).map(|&i| messages[i].1.author);

    let mut moderation = Vec::new();
    let mut answered: HashMap<u64, Option<Millis>> = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT at, kind, message_id, payload FROM events WHERE live_id = ?1 AND kind IN \
         ('message', 'hold_notice', 'message_flagged', 'hidden', 'redacted', \
          'viewer_timed_out', 'viewer_banned', 'question_answered', 'question_reopened') \
         ORDER BY seq",
    )?;
    let mut rows = stmt.query([live_id])?;
    while let Some(r) = rows.next()? {
        let at: Millis = r.get(0)?;
        let kind: String = r.get(1)?;
        let payload: String = r.get(3)?;
        if kind == "message" {
            // Only a held message's reference says "held".
            if !payload.contains("held") {
                continue;
            }
            let message_id = r.get::<_, Option<i64>>(2)?.map(unsigned);
            if let Ok(Visible {
                visibility: Visibility::Held { reason, rule_id },
            }) = serde_json::from_str(&payload)
                && let Some(viewer) = message_id.and_then(author_of)
            {
                moderation.push(ModerationFact {
                    action: "held",
                    rule: Some(
                        rule_id.map_or_else(|| hold_reason(reason), |r| format!("rule {r}")),
                    ),
                    viewer: Some(viewer),
                });
            }
            continue;
        }
        let Ok(event) = serde_json::from_str::<Event>(&payload) else {
            continue;
        };
        let fact = |action: &'static str, viewer: Option<Viewer>| {
            viewer.map(|v| ModerationFact {
                action,
                rule: None,
                viewer: Some(v),
            })
        };
        let found = match event {
            Event::HoldNotice {
                message_id,
                outcome,
                ..
            } => {
                let action = match outcome {
                    HoldOutcome::Waiting => None,
                    HoldOutcome::Approved => Some("approved"),
                    HoldOutcome::Denied => Some("denied"),
                    HoldOutcome::Expired => Some("expired"),
                };
                action.and_then(|a| fact(a, author_of(message_id.0)))
            }
            Event::MessageFlagged {
                message_id,
                rule_id,
                ..
            } => author_of(message_id.0).map(|v| ModerationFact {
                action: "flagged",
                rule: Some(format!("rule {rule_id}")),
                viewer: Some(v),
            }),
            Event::Hidden { message_id, .. } => fact("hidden", author_of(message_id.0)),
            Event::Redacted { tombstone } => fact(
                "redacted",
                tombstone.author_id.and_then(|id| viewers.of(&id.0)),
            ),
            Event::ViewerTimedOut { viewer_id, .. } => fact("timeout", viewers.of(&viewer_id.0)),
            Event::ViewerBanned { viewer_id, .. } => fact("ban", viewers.of(&viewer_id.0)),
            Event::QuestionAnswered { message_id, .. } => {
                answered
                    .entry(message_id.0)
                    .or_insert(Some(at))
                    .get_or_insert(at);
                None
            }
            Event::QuestionReopened { message_id, .. } => {
                answered.insert(message_id.0, None);
                None
            }
            _ => None,
        };
        moderation.extend(found);
    }
    for (id, at) in answered {
        if let (Some(at), Some(&i)) = (at, position.get(&id))
            && messages[i].1.question
        {
            messages[i].1.answered_at = Some(at);
        }
    }

    let polls = games(
        conn,
        live_id,
        "SELECT id FROM polls WHERE live_id = ?1",
        "SELECT poll_id, viewer_id FROM votes WHERE live_id = ?1",
        &mut viewers,
    )?;
    let instant_wins = games(
        conn,
        live_id,
        "SELECT id FROM instant_wins WHERE live_id = ?1",
        "SELECT draw_id, viewer_id FROM entries WHERE live_id = ?1",
        &mut viewers,
    )?;
    let mut shop: Vec<ShopFact> = Vec::new();
    for event in super::shop_events::linked(conn, live_id)? {
        if let Some(viewer) = viewers.of(&event.viewer) {
            shop.push(event.fact(viewer));
        }
    }

    let input = ReportInput {
        live: LiveWindow {
            name: info.name.clone(),
            started_at: info.started_at,
            ended_at: info.ended_at,
        },
        now,
        presence,
        messages: messages.into_iter().map(|(_, m)| m).collect(),
        moderation,
        polls,
        instant_wins,
        shop,
    };
    Ok((input, viewers.ids))
}

/// A stored id or seq (never negative).
fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A hold without a rule, by its reason's wire name (`personal_data`).
fn hold_reason(reason: HoldReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "other".to_owned())
}

/// Each game with its participants (votes or entries).
fn games(
    conn: &Connection,
    live_id: i64,
    ids: &str,
    participants: &str,
    viewers: &mut Viewers,
) -> Result<Vec<GameFact>, StoreError> {
    let mut out: std::collections::BTreeMap<u64, Vec<Viewer>> = std::collections::BTreeMap::new();
    let mut stmt = conn.prepare(ids)?;
    let mut rows = stmt.query([live_id])?;
    while let Some(r) = rows.next()? {
        out.entry(unsigned(r.get(0)?)).or_default();
    }
    let mut stmt = conn.prepare(participants)?;
    let mut rows = stmt.query([live_id])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(1)?;
        if let Some(v) = viewers.of(&id) {
            out.entry(unsigned(r.get(0)?)).or_default().push(v);
        }
    }
    Ok(out
        .into_iter()
        .map(|(id, participants)| GameFact { id, participants })
        .collect())
}
