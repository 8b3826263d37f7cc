//! What the store keeps of polls and instant wins.
//!
//! The hub's decisions about games become [`GameWrite`]s attached to the
//! [`Commit`](super::Commit) of the event (or command outcome) that caused
//! them, so a vote, an entry or a draw is durable in the same transaction as
//! its acknowledgement: an acked vote is never lost, and a crash never
//! leaves a half-recorded draw. [`StoredGames`] is what a restarted hub reads
//! back to continue (open polls keep their votes, open draws their seed and
//! entrants) and to finish what ended during downtime.
//!
//! On a shared store (several hub nodes on one PostgreSQL live) a vote or
//! an entry taken on another node is not an event: nothing numbers it, so
//! nothing on the bus tells this node about it. Each node reads them with
//! [`Store::game_news`](super::Store::game_news) from a [`GamesCursor`]
//! (the store's own row numbers), so every node counts every vote.

use crate::instant_win::DrawRecord;
use crate::protocol::{DrawView, Millis, PollView, ViewerId, Winner};

/// One fact about a game, written with the commit that caused it.
#[derive(Debug, Clone, PartialEq)]
pub enum GameWrite {
    PollOpened {
        poll: PollView,
    },
    /// One row per viewer per poll; a second vote by the same viewer is a
    /// constraint violation (the hub never sends one).
    Vote {
        poll_id: u64,
        viewer: ViewerId,
        option: usize,
    },
    PollClosed {
        poll_id: u64,
        closed_at: Millis,
    },
    /// A finished poll taken off the screen.
    PollCleared {
        poll_id: u64,
        cleared_at: Millis,
    },
    /// The secret seed is stored (hex) so a restart draws with the seed the
    /// commitment was published for; it is never served before the draw.
    InstantWinOpened {
        draw: DrawView,
        seed_hex: String,
    },
    Entry {
        draw_id: u64,
        viewer: ViewerId,
    },
    /// The published record, and the winners' first names as announced.
    Drawn {
        record: DrawRecord,
        winners: Vec<Winner>,
        drawn_at: Millis,
    },
}

/// A poll as stored: its launch, every vote, and its close.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoll {
    pub poll: PollView,
    pub votes: Vec<(ViewerId, usize)>,
    pub closed_at: Option<Millis>,
    /// When staff took it off the screen; absent in polls stored before.
    pub cleared_at: Option<Millis>,
}

/// An instant win as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDraw {
    pub draw: DrawView,
    pub seed_hex: String,
    /// Entrants with their first name and pseudonym (from the viewers
    /// table), for the announcement of a draw finished after a restart.
    pub entrants: Vec<(ViewerId, String, String)>,
    pub result: Option<StoredResult>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredResult {
    pub record: DrawRecord,
    pub winners: Vec<Winner>,
    pub drawn_at: Millis,
}

/// Every poll and instant win of a live, oldest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredGames {
    pub polls: Vec<StoredPoll>,
    pub draws: Vec<StoredDraw>,
    /// Where [`GameNews`] continues from: nothing stored before it is news.
    pub cursor: GamesCursor,
}

/// How far a node has read the live's votes and entries, in the store's
/// own numbering (0: nothing read). Only a shared store numbers them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GamesCursor {
    pub votes: i64,
    pub entries: i64,
}

/// Votes and entries stored after a [`GamesCursor`], oldest first: those
/// other nodes took (and this node's own, which it already counts).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GameNews {
    /// `(poll_id, viewer, option)`.
    pub votes: Vec<(u64, ViewerId, usize)>,
    /// `(draw_id, viewer, first_name, pseudonym)`: the names they entered under.
    pub entries: Vec<(u64, ViewerId, String, String)>,
    /// Where the next read continues.
    pub cursor: GamesCursor,
}

impl GameNews {
    pub fn is_empty(&self) -> bool {
        self.votes.is_empty() && self.entries.is_empty()
    }
}

/// Sets the names of every object in `value` that names `viewer` with a
/// first name (a winner, a re-draw's kept or excluded); returns whether one
/// changed. Rectification passes the corrected names, erasure blanks.
/// Both stores keep games as JSON, so both rename in it alike.
pub(super) fn rename_in_json(
    value: &mut serde_json::Value,
    viewer: &ViewerId,
    first_name: Option<&str>,
    pseudonym: Option<&str>,
) -> bool {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter_mut().fold(false, |changed, v| {
            rename_in_json(v, viewer, first_name, pseudonym) | changed
        }),
        Value::Object(fields) => {
            let names_viewer = fields.get("viewer_id").and_then(Value::as_str)
                == Some(viewer.0.as_str())
                && fields.contains_key("first_name");
            let mut changed = false;
            if names_viewer {
                for (key, new) in [("first_name", first_name), ("pseudonym", pseudonym)] {
                    if let Some(new) = new {
                        fields.insert(key.to_owned(), Value::String(new.to_owned()));
                        changed = true;
                    }
                }
            }
            fields.values_mut().fold(changed, |changed, v| {
                rename_in_json(v, viewer, first_name, pseudonym) | changed
            })
        }
        _ => false,
    }
}
