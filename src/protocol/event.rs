//! Events: what happened in a live session, in order. Each travels in an
//! [`EventFrame`] with the session's `(epoch, seq)`.

use serde::{Deserialize, Serialize};

use super::claims::{ClaimEndReason, FlagColour};
use super::rules::{RuleType, RuleView};
use super::types::{
    Actor, CannedAnswer, ChatMessage, DrawView, Epoch, MessageId, Millis, PollView, Product, Role,
    Seq, Tombstone, ViewerId, Winner,
};

/// The sanction a `sanction_lifted` event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiftedSanction {
    Timeout,
    Ban,
}

impl LiftedSanction {
    pub fn as_str(self) -> &'static str {
        match self {
            LiftedSanction::Timeout => "timeout",
            LiftedSanction::Ban => "ban",
        }
    }
}

/// What a [`Event::HoldNotice`] tells the author of a held message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldOutcome {
    /// It waits for a moderator.
    Waiting,
    /// A moderator let it through: everyone sees it now.
    Approved,
    /// A moderator denied it: it is erased, nobody saw it.
    Denied,
    /// Nobody handled it within the hold timeout: the hub denied it.
    Expired,
}

/// `{"type":"event","epoch":"…","seq":42,"at":…,"event":{"type":"message",…}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventFrame {
    pub epoch: Epoch,
    pub seq: Seq,
    pub at: Millis,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A new chat message or staff answer. Staff also receive held messages
    /// (with their text's personal data already masked); viewers never do.
    Message {
        message: ChatMessage,
    },
    /// A held message was let through; viewers see it for the first time.
    Released {
        message: ChatMessage,
        /// Who let it through; absent in events stored before staff were
        /// credited. Viewers get the role only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Actor>,
        /// When it entered the hold queue, for a message that was held (a
        /// hidden message shown again has none): clients show "held 2 min"
        /// from it and the frame's `at`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        held_at: Option<Millis>,
    },
    /// What became of a held message, told to its author only (staff get
    /// it too): `waiting` when it was held, then `approved`, `denied` by a
    /// moderator, or `expired` (denied by the hub after the hold timeout).
    /// Never carries the text.
    HoldNotice {
        message_id: MessageId,
        viewer_id: ViewerId,
        outcome: HoldOutcome,
    },
    /// A message's content is gone. Carries the tombstone, never the text.
    Redacted {
        tombstone: Tombstone,
    },
    /// A viewer was erased (`erase_viewer`): every message of theirs a
    /// client holds becomes a tombstone (`reason`, `by`, `erased_at`), a
    /// reply quoting them drops the quoted name, and their card closes.
    /// History already serves their messages as tombstones.
    ViewerErased {
        viewer_id: ViewerId,
        reason: String,
        erased_at: Millis,
        by: Actor,
    },
    /// A message was hidden from viewers.
    Hidden {
        message_id: MessageId,
        by: Actor,
    },
    Pinned {
        message_id: MessageId,
        by: Actor,
    },
    Unpinned {
        message_id: MessageId,
        by: Actor,
    },
    QuestionAnswered {
        message_id: MessageId,
        by: Actor,
    },
    /// A question marked answered went back to the open queue
    /// (`reopen_question`).
    QuestionReopened {
        message_id: MessageId,
        by: Actor,
    },
    /// Staff only.
    ViewerTimedOut {
        viewer_id: ViewerId,
        until: Millis,
        reason: String,
        by: Actor,
    },
    /// Staff only.
    ViewerBanned {
        viewer_id: ViewerId,
        reason: String,
        by: Actor,
    },
    /// A ban or a timeout was lifted (`unban`, `lift_timeout`): the viewer
    /// may chat again. Staff get it whole; among viewers only the viewer
    /// concerned gets it, as a neutral notice (no reason, no staff name).
    SanctionLifted {
        viewer_id: ViewerId,
        lifted: LiftedSanction,
        reason: String,
        by: Actor,
    },
    /// Slow mode changed (`slow_mode`): each viewer now waits `secs`
    /// between two messages; 0 is off. Viewers get the staff role only.
    SlowModeChanged {
        secs: u32,
        by: Actor,
    },
    /// Shield went on (`shield_on`) or off (`shield_off`, which restores
    /// the settings from before). `slow_mode_secs` is the wait in force
    /// now. Viewers get the staff role only.
    ShieldChanged {
        on: bool,
        slow_mode_secs: u32,
        by: Actor,
    },
    /// Staff only: the live's viewer delivery changed (`delivery`): a
    /// frame every `tick_ms`, chat sampled above `chat_per_sec` lines a
    /// second (0: never). Viewers find it in the next welcome's settings.
    DeliveryChanged {
        policy: super::DeliveryPolicy,
        by: Actor,
    },
    /// Support corrected a viewer's names (Art. 16): every client relabels
    /// the viewer's lines (and answers addressed to them). An absent field
    /// did not change. Viewers get the staff role only.
    ViewerRectified {
        viewer_id: ViewerId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pseudonym: Option<String>,
        by: Actor,
    },
    /// Sent periodically when the count changed, never per join.
    ViewersOnline {
        count: u64,
    },

    PollOpened {
        poll: PollView,
    },
    /// Live counts, at most four a second.
    PollTally {
        poll_id: u64,
        counts: Vec<u64>,
        voters: u64,
    },
    /// Final, exact counts.
    PollClosed {
        poll_id: u64,
        counts: Vec<u64>,
        voters: u64,
        closed_at: Millis,
        /// The staff member who closed it; absent when the hub closed it at
        /// its deadline (audited as actor `hub`), and in events stored
        /// before staff were credited. Viewers get the role only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Actor>,
    },
    /// A finished poll's result was taken off the screen. Viewers get the
    /// staff member's role only.
    PollCleared {
        poll_id: u64,
        by: Actor,
    },
    /// Carries the commitment (hash of the secret seed), never the seed.
    InstantWinOpened {
        draw: DrawView,
    },
    /// Live entry count, at most four a second.
    InstantWinEntries {
        draw_id: u64,
        entrants: u64,
    },
    /// The draw: seed revealed, entrant-list hash, winners by first name.
    /// The full record (with every entrant id) is served at
    /// `/draws/{draw_id}.json` for `regie verify-draw`.
    InstantWinDrawn {
        draw_id: u64,
        seed: String,
        entrants: u64,
        entrants_hash: String,
        winners: Vec<Winner>,
        /// The staff member who drew early or re-drew; absent when the hub
        /// drew at the end of the window (audited as actor `hub`), and in
        /// events stored before staff were credited. Viewers get the role
        /// only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Actor>,
    },

    /// Staff only: a moderation rule was added to the live (`rule_add`).
    RuleAdded {
        rule: RuleView,
    },
    /// Staff only: a rule stopped applying, removed by `by` or, without
    /// `by`, because it expired on the live's clock.
    RuleRemoved {
        rule_id: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Actor>,
    },
    /// Staff only: the message just delivered matched a `flag` rule.
    /// Viewers received the message, never the mark.
    MessageFlagged {
        message_id: MessageId,
        rule_id: u32,
        kind: RuleType,
    },
    /// Staff only: a staff member works on a question or a held message
    /// (`claim`) until `until`, unless the claim ends sooner.
    Claimed {
        message_id: MessageId,
        by: Actor,
        until: Millis,
    },
    /// Staff only: a claim ended; `by` is who ended it (absent when it
    /// expired, or ended with a message the hub denied).
    ClaimEnded {
        message_id: MessageId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Actor>,
        reason: ClaimEndReason,
    },
    /// Staff only: a viewer was flagged (`flag_viewer`) until `until`.
    ViewerFlagged {
        viewer_id: ViewerId,
        colour: FlagColour,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
        until: Millis,
        by: Actor,
    },
    /// Staff only: a viewer's flag was lifted by `by` (`unflag_viewer`),
    /// or, without `by`, expired.
    ViewerUnflagged {
        viewer_id: ViewerId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Actor>,
    },
    /// The live moved along its lifecycle (`live_start`, `live_end`), at
    /// the frame's `at`. Everyone in the live gets it.
    LiveState {
        state: super::LiveState,
    },
    /// A product joined the live's list (`product_add`). Everyone gets it.
    ProductAdded {
        product: Product,
    },
    /// The product on the viewers' screen now, or none (`now_showing`).
    /// Everyone gets it; a late joiner finds it in the snapshot.
    NowShowing {
        #[serde(default)]
        product: Option<Product>,
    },
    /// Staff only: a canned answer was saved (`canned_add`).
    CannedAdded {
        canned: CannedAnswer,
    },
}

impl Event {
    /// The wire name (`"message"`, `"poll_tally"`…), for logs, metrics and
    /// the store's event log.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Message { .. } => "message",
            Event::Released { .. } => "released",
            Event::HoldNotice { .. } => "hold_notice",
            Event::Redacted { .. } => "redacted",
            Event::ViewerErased { .. } => "viewer_erased",
            Event::Hidden { .. } => "hidden",
            Event::Pinned { .. } => "pinned",
            Event::Unpinned { .. } => "unpinned",
            Event::QuestionAnswered { .. } => "question_answered",
            Event::QuestionReopened { .. } => "question_reopened",
            Event::ViewerTimedOut { .. } => "viewer_timed_out",
            Event::ViewerBanned { .. } => "viewer_banned",
            Event::SanctionLifted { .. } => "sanction_lifted",
            Event::SlowModeChanged { .. } => "slow_mode_changed",
            Event::ShieldChanged { .. } => "shield_changed",
            Event::DeliveryChanged { .. } => "delivery_changed",
            Event::ViewerRectified { .. } => "viewer_rectified",
            Event::ViewersOnline { .. } => "viewers_online",
            Event::PollOpened { .. } => "poll_opened",
            Event::PollTally { .. } => "poll_tally",
            Event::PollClosed { .. } => "poll_closed",
            Event::PollCleared { .. } => "poll_cleared",
            Event::InstantWinOpened { .. } => "instant_win_opened",
            Event::InstantWinEntries { .. } => "instant_win_entries",
            Event::InstantWinDrawn { .. } => "instant_win_drawn",
            Event::RuleAdded { .. } => "rule_added",
            Event::RuleRemoved { .. } => "rule_removed",
            Event::MessageFlagged { .. } => "message_flagged",
            Event::LiveState { .. } => "live_state",
            Event::ProductAdded { .. } => "product_added",
            Event::NowShowing { .. } => "now_showing",
            Event::CannedAdded { .. } => "canned_added",
            Event::Claimed { .. } => "claimed",
            Event::ClaimEnded { .. } => "claim_ended",
            Event::ViewerFlagged { .. } => "viewer_flagged",
            Event::ViewerUnflagged { .. } => "viewer_unflagged",
        }
    }

    /// `viewer_erased` without the staff member's name.
    fn erasure_for_viewers(&self) -> Event {
        let mut event = self.clone();
        if let Event::ViewerErased { by, .. } = &mut event {
            by.name = None;
        }
        event
    }

    /// The event as `role` may receive it, or `None` when that role must not
    /// see it at all. Viewers lose staff-only events, held and hidden
    /// messages, and the names of staff who acted.
    #[expect(clippy::too_many_lines, reason = "one arm per event, flat on purpose")]
    pub fn for_role(&self, role: Role) -> Option<Event> {
        if role.is_staff() {
            return Some(self.clone());
        }
        let anonymous = |by: &Actor| Actor {
            name: None,
            role: by.role,
        };
        Some(match self {
            Event::Message { message } => {
                if message.visibility != super::Visibility::Visible {
                    return None;
                }
                self.clone()
            }
            Event::ViewerTimedOut { .. }
            | Event::ViewerBanned { .. }
            | Event::RuleAdded { .. }
            | Event::RuleRemoved { .. }
            | Event::MessageFlagged { .. }
            | Event::CannedAdded { .. }
            | Event::DeliveryChanged { .. }
            | Event::Claimed { .. }
            | Event::ClaimEnded { .. }
            | Event::ViewerFlagged { .. }
            | Event::ViewerUnflagged { .. } => return None,
            Event::SanctionLifted {
                viewer_id,
                lifted,
                by,
                ..
            } => Event::SanctionLifted {
                viewer_id: viewer_id.clone(),
                lifted: *lifted,
                reason: String::new(),
                by: anonymous(by),
            },
            Event::SlowModeChanged { secs, by } => Event::SlowModeChanged {
                secs: *secs,
                by: anonymous(by),
            },
            Event::ShieldChanged {
                on,
                slow_mode_secs,
                by,
            } => Event::ShieldChanged {
                on: *on,
                slow_mode_secs: *slow_mode_secs,
                by: anonymous(by),
            },
            Event::Redacted { tombstone } => Event::Redacted {
                tombstone: Tombstone {
                    by: anonymous(&tombstone.by),
                    ..tombstone.clone()
                },
            },
            Event::ViewerErased { .. } => self.erasure_for_viewers(),
            Event::Hidden { message_id, by } => Event::Hidden {
                message_id: *message_id,
                by: anonymous(by),
            },
            Event::Pinned { message_id, by } => Event::Pinned {
                message_id: *message_id,
                by: anonymous(by),
            },
            Event::Unpinned { message_id, by } => Event::Unpinned {
                message_id: *message_id,
                by: anonymous(by),
            },
            Event::QuestionAnswered { message_id, by } => Event::QuestionAnswered {
                message_id: *message_id,
                by: anonymous(by),
            },
            Event::QuestionReopened { message_id, by } => Event::QuestionReopened {
                message_id: *message_id,
                by: anonymous(by),
            },
            Event::Released {
                message,
                by,
                held_at,
            } => Event::Released {
                message: message.clone(),
                by: by.as_ref().map(anonymous),
                held_at: *held_at,
            },
            Event::PollClosed {
                poll_id,
                counts,
                voters,
                closed_at,
                by,
            } => Event::PollClosed {
                poll_id: *poll_id,
                counts: counts.clone(),
                voters: *voters,
                closed_at: *closed_at,
                by: by.as_ref().map(anonymous),
            },
            Event::PollCleared { poll_id, by } => Event::PollCleared {
                poll_id: *poll_id,
                by: anonymous(by),
            },
            Event::InstantWinDrawn {
                draw_id,
                seed,
                entrants,
                entrants_hash,
                winners,
                by,
            } => Event::InstantWinDrawn {
                draw_id: *draw_id,
                seed: seed.clone(),
                entrants: *entrants,
                entrants_hash: entrants_hash.clone(),
                winners: winners.clone(),
                by: by.as_ref().map(anonymous),
            },
            Event::ViewerRectified {
                viewer_id,
                first_name,
                pseudonym,
                by,
            } => Event::ViewerRectified {
                viewer_id: viewer_id.clone(),
                first_name: first_name.clone(),
                pseudonym: pseudonym.clone(),
                by: anonymous(by),
            },
            Event::ViewersOnline { .. }
            | Event::HoldNotice { .. }
            | Event::PollTally { .. }
            | Event::InstantWinEntries { .. }
            | Event::LiveState { .. }
            | Event::ProductAdded { .. }
            | Event::NowShowing { .. } => self.clone(),
            Event::PollOpened { poll } => Event::PollOpened {
                poll: PollView {
                    by: anonymous(&poll.by),
                    ..poll.clone()
                },
            },
            Event::InstantWinOpened { draw } => Event::InstantWinOpened {
                draw: draw.for_viewers(),
            },
        })
    }

    /// The one viewer, among viewers, this event is for: fan-out and replay
    /// deliver it to no other viewer (staff get it all the same). A lifted
    /// sanction is that viewer's business, not the audience's.
    pub fn only_for_viewer(&self) -> Option<&ViewerId> {
        match self {
            Event::SanctionLifted { viewer_id, .. } | Event::HoldNotice { viewer_id, .. } => {
                Some(viewer_id)
            }
            _ => None,
        }
    }

    /// [`Event::for_role`] for one connection: a viewer's connection also
    /// loses the events meant for another viewer ([`Event::only_for_viewer`]).
    pub fn for_connection(&self, role: Role, viewer: Option<&ViewerId>) -> Option<Event> {
        if !role.is_staff()
            && let Some(target) = self.only_for_viewer()
            && viewer != Some(target)
        {
            return None;
        }
        self.for_role(role)
    }

    /// Whether the role-scoped form of this event differs between viewers
    /// and staff, so fan-out knows to serialise it once or twice.
    pub fn is_staff_only(&self) -> bool {
        self.for_role(Role::Viewer).is_none()
    }
}

/// Relabels every line by `viewer` (their names) and every answer
/// addressed to one of their lines (its first name), as a rectification
/// says; returns the ids of the lines changed. Shared by the hub's cache and
/// the console, so both relabel the same lines.
pub fn relabel_all<'a>(
    lines: impl Iterator<Item = &'a mut ChatMessage>,
    viewer: &ViewerId,
    first_name: Option<&str>,
    pseudonym: Option<&str>,
) -> Vec<MessageId> {
    let mut lines: Vec<&mut ChatMessage> = lines.collect();
    let mut changed = Vec::new();
    let mut theirs = std::collections::BTreeSet::new();
    for m in &mut lines {
        if m.author.viewer_id() == Some(viewer) {
            theirs.insert(m.id);
        }
        if relabel(m, viewer, first_name, pseudonym) {
            changed.push(m.id);
        }
    }
    if let Some(first_name) = first_name {
        for m in &mut lines {
            let mut addressed = false;
            for reply in m.replies_to_mut() {
                if theirs.contains(&reply.message_id) {
                    first_name.clone_into(&mut reply.first_name);
                    addressed = true;
                }
            }
            if addressed {
                changed.push(m.id);
            }
        }
    }
    changed
}

/// Relabels one line by `viewer`; whether it changed.
fn relabel(
    m: &mut ChatMessage,
    viewer: &ViewerId,
    first_name: Option<&str>,
    pseudonym: Option<&str>,
) -> bool {
    let mut changed = false;
    if let super::Author::Viewer {
        viewer_id,
        first_name: f,
        pseudonym: p,
    } = &mut m.author
        && viewer_id == viewer
    {
        if let Some(new) = first_name {
            new.clone_into(f);
            changed = true;
        }
        if let Some(new) = pseudonym {
            new.clone_into(p);
            changed = true;
        }
    }
    changed
}
