//! What the store keeps of polls and instant wins.
//!
//! The hub's decisions about games become [`GameWrite`]s attached to the
//! [`Commit`](super::Commit) of the event (or command outcome) that caused
//! them, so a vote, an entry or a draw is durable in the same transaction as
//! its acknowledgement: an acked vote is never lost, and a crash never
//! leaves a half-recorded draw. [`StoredGames`] is what a restarted hub reads
//! back to continue (open polls keep their votes, open draws their seed and
//! entrants) and to finish what ended during downtime.

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
}
