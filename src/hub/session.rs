//! The rules of one live session, as a pure state machine.
//!
//! [`Session::decide`] takes who is asking, what they ask and the time, and
//! returns the events to append (already numbered), the answer for the
//! client and what else must be persisted (audit entry, consent). It does no
//! I/O of its own: messages older than its in-memory window are read through
//! the [`History`] trait, which the session actor implements on the store
//! and the tests on a map. So every rule — validation, moderation, rate
//! limits, sanctions, pin rules, idempotent redaction — is tested without a
//! socket or a database.
//!
//! The session's state runs *ahead* of the store by at most one batch: the
//! actor decides a batch, commits it, and only then fans out. If the commit
//! fails, the actor rebuilds the session from the store ([`Session::restore`]),
//! so no client ever saw an event that is not durable.

mod claims;
mod erasure;
mod flags;
mod follow;
mod rules;

pub use rules::MAX_RULE_EXPIRY_SECS;
mod hold;
mod lifecycle;
mod notes;
mod showcase;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::engagement::{Engagement, Step};
use super::moderation::{Moderation, Review};
use super::rate_limit::RateLimiter;
use super::shield::{Overlay, Shield, ShieldPreset};
use crate::instant_win::InstantWinSpec;
use crate::moderation::Action;
use crate::poll::PollSpec;
use crate::privacy::{grapheme_count, sanitize, sanitize_name};
use crate::protocol::ShieldSuspect;
use crate::protocol::{
    Actor, Author, ChatEntry, ChatMessage, ClaimEndReason, Command, ConsentPurpose, ConsentState,
    Contact, Epoch, ErrorCode, Event, EventFrame, HoldOutcome, HoldReason, LiftedSanction,
    MAX_SLOW_MODE_SECS, MessageId, Millis, Refusal, ReplyTo, Role, Seq, Settings, Snapshot,
    StaffRole, Tombstone, ViewerId, Visibility, permissions,
};
use crate::store::contact::ContactField;
use crate::store::{
    AuditEntry, GameNews, GameWrite, GamesCursor, LiveHead, NameCorrection, NoteWrite, StoreError,
    StoredGames, StoredSnapshot,
};

/// Longest reason (hide, timeout, ban, redact) kept, in graphemes.
pub const MAX_REASON_GRAPHEMES: usize = 200;

/// Longest timeout a moderator can give: a week. Longer is a ban.
pub const MAX_TIMEOUT_SECS: u32 = 7 * 24 * 3600;

/// Who sent a command, as the session needs to know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Viewer(ViewerProfile),
    Staff { role: StaffRole, name: String },
}

/// A joined viewer: their pseudonymous id and the names they show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerProfile {
    pub id: ViewerId,
    pub first_name: String,
    pub pseudonym: String,
    /// When the viewer's identity came to be (their pass was issued), on
    /// the session clock; `None` for an identity older than any game (a
    /// brand account). Votes and entries need an identity that existed
    /// before the poll or instant win opened: otherwise a new pass per
    /// vote would be a new vote.
    pub known_since: Option<Millis>,
}

impl ViewerProfile {
    /// Whether this identity existed when a game opened at `opened_at`.
    fn predates(&self, opened_at: Millis) -> bool {
        self.known_since.is_none_or(|since| since <= opened_at)
    }
}

impl Principal {
    pub fn role(&self) -> Role {
        match self {
            Principal::Viewer(_) => Role::Viewer,
            Principal::Staff { role, .. } => Role::Staff(*role),
        }
    }

    /// The name command outcomes are remembered under, so a retry after a
    /// reconnect (same viewer pass or brand account, same staff member) finds the first answer.
    pub fn outcome_key(&self) -> String {
        match self {
            Principal::Viewer(v) => format!("viewer:{}", v.id),
            Principal::Staff { role, name } => format!("staff:{role}:{name}"),
        }
    }

    fn actor(&self) -> Option<Actor> {
        match self {
            Principal::Viewer(_) => None,
            Principal::Staff { role, name } => Some(Actor {
                name: Some(name.clone()),
                role: *role,
            }),
        }
    }

    fn author(&self) -> Author {
        match self {
            Principal::Viewer(v) => Author::Viewer {
                viewer_id: v.id.clone(),
                first_name: v.first_name.clone(),
                pseudonym: v.pseudonym.clone(),
            },
            Principal::Staff { role, name } => Author::Staff {
                name: name.clone(),
                role: *role,
            },
        }
    }
}

/// Reads of history older than the session's in-memory window.
pub trait History {
    /// A message as history serves it (the message or its tombstone).
    fn message(&mut self, id: MessageId) -> Result<Option<ChatEntry>, StoreError>;
    /// Whether this viewer ever joined the live.
    fn viewer_known(&mut self, id: &ViewerId) -> Result<bool, StoreError>;
    /// The sanctions the store holds on a viewer now (banned, end of a
    /// running timeout): lifting one must find it even when the viewer has
    /// not joined since the hub started.
    fn sanctions(&mut self, id: &ViewerId) -> Result<(bool, Option<Millis>), StoreError>;
    /// The live's polls and instant wins as stored (another hub node
    /// opened, closed or drew one).
    fn games(&mut self) -> Result<StoredGames, StoreError> {
        Err(StoreError::Unsupported("read the games"))
    }
    /// The votes and entries stored after `since` (by other hub nodes).
    fn game_news(&mut self, since: GamesCursor) -> Result<GameNews, StoreError> {
        Ok(GameNews {
            cursor: since,
            ..GameNews::default()
        })
    }
}

/// What a command produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Events to persist and then fan out, numbered from the session's head.
    pub events: Vec<EventFrame>,
    pub reply: Reply,
    /// The staff action's audit record, when one was taken.
    pub audit: Option<AuditEntry>,
    /// A viewer's consent to record.
    pub consent: Option<ConsentState>,
    /// The contact data given with that consent (stored, or removed, in
    /// the same transaction as the consent record).
    pub consent_contact: Contact,
    /// With an `sms_subscribe`: which alerts the viewer asked for (stored
    /// beside the consent, [`crate::sms`]).
    pub sms_scope: Option<crate::protocol::SmsScope>,
    /// A viewer who was just banned: their connections must be closed.
    pub banned: Option<ViewerId>,
    /// Poll and instant-win facts to store with this decision's commit.
    pub games: Vec<GameWrite>,
    /// A moderation note to store (`note_add`).
    pub note: Option<NoteWrite>,
}

/// The answer a client gets for a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// It took effect (or was already in effect); `seq` is the first event
    /// it produced.
    Ack { seq: Option<Seq> },
    Error {
        code: ErrorCode,
        message: String,
        /// When a retry may succeed, if known ([`Refusal::retry_after_ms`]).
        retry_after_ms: Option<u64>,
    },
    /// The actor reads the card from the store and answers with it.
    ViewerCard {
        viewer_id: ViewerId,
        with_contact: bool,
    },
    /// The actor reads the viewer's export from the store, answers the
    /// sender only and audits it.
    ViewerExport { viewer_id: ViewerId },
    /// The actor reads the requests log's open entries.
    RightsRequests,
    /// The live's rules in force, answered to the sender only.
    Rules(Vec<crate::protocol::RuleView>),
    /// What a tested sentence fires, answered to the sender only.
    RuleTest(Vec<crate::protocol::RuleFiring>),
    /// The actor reads a page of the staff log (`staff_log`).
    StaffLog(crate::store::StaffLogQuery),
    /// The actor searches the live's stored chat (`history_search`).
    HistorySearch(crate::store::history::HistoryQuery),
    /// Shield went on (`seq`, as an ack's) and these viewers used one of
    /// its `ban_recent_terms` lately: the sender reviews the list.
    ShieldReview {
        seq: Option<Seq>,
        viewers: Vec<ShieldSuspect>,
    },
    /// The actor creates this live in the store (`live_create`).
    LiveCreate(crate::protocol::LiveInfo),
    /// The actor lists the store's lives (`live_list`).
    LiveList,
    /// The actor computes a live's report from the store (`report`).
    Report(String),
    /// The actor counts the ended live's follow-up segments (`sms_segments`).
    SmsSegments,
    /// The actor queues the follow-up for a segment of the ended live when
    /// it still has the confirmed count (`sms_follow_up`), and audits it.
    SmsFollowUp {
        segment: crate::protocol::SmsSegment,
        recipients: u64,
    },
    /// The actor logs the viewer's request in the requests log, once per
    /// open request of that kind (`privacy_request`), and acks.
    PrivacyRequest {
        kind: crate::protocol::PrivacyRequestKind,
        viewer_id: ViewerId,
    },
}

impl Decision {
    fn refuse(refusal: Refusal) -> Self {
        Self {
            events: Vec::new(),
            reply: Reply::Error {
                code: refusal.code,
                message: refusal.message,
                retry_after_ms: refusal.retry_after_ms,
            },
            audit: None,
            consent: None,
            consent_contact: Contact::default(),
            sms_scope: None,
            banned: None,
            games: Vec::new(),
            note: None,
        }
    }

    fn reply(reply: Reply) -> Self {
        Self {
            events: Vec::new(),
            reply,
            audit: None,
            consent: None,
            consent_contact: Contact::default(),
            sms_scope: None,
            banned: None,
            games: Vec::new(),
            note: None,
        }
    }
}

/// How much of the show the session keeps in memory.
#[derive(Debug, Clone, Copy)]
pub struct SessionBounds {
    /// Chat entries in a snapshot.
    pub recent: usize,
    /// Open questions in a snapshot.
    pub open_questions_in_snapshot: usize,
    /// Messages kept in memory (at least `recent`); older ones are read
    /// through [`History`] when a staff command targets them, and open
    /// questions beyond this leave the in-memory queue (oldest first).
    pub message_cache: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Sanctions {
    banned: bool,
    timed_out_until: Millis,
}

/// One live session's state. See the module docs.
#[derive(Debug)]
pub struct Session {
    epoch: Epoch,
    head: Seq,
    last_message_id: u64,
    settings: Settings,
    moderation: Moderation,
    bounds: SessionBounds,
    rate: RateLimiter,
    /// Recently seen messages, and every message the snapshot refers to.
    messages: BTreeMap<MessageId, ChatEntry>,
    recent: VecDeque<MessageId>,
    pinned: Option<MessageId>,
    open_questions: BTreeSet<MessageId>,
    /// Only viewers with a sanction (or a recently ended one).
    sanctions: HashMap<ViewerId, Sanctions>,
    viewers_online: u64,
    /// Polls and instant wins (`engagement`).
    games: Engagement,
    /// Another node reshaped a game and reading the games failed: read
    /// them at the next catch-up.
    games_stale: bool,
    /// Viewers connected now, as the actor last told: a poll's
    /// participation denominator at launch.
    audience: u64,
    /// Names support corrected (Art. 16), this session or before (noted
    /// from the store as viewers join): a viewer still connected under the
    /// old name posts, and enters draws, under the corrected one.
    rectified: HashMap<ViewerId, NameCorrection>,
    /// Viewers erased while connected: their old connections may send
    /// nothing more (a reconnect joins as a new viewer; see `erasure`).
    erased: BTreeSet<ViewerId>,
    /// The hold queue: every held message, kept here (not only in the
    /// message cache) so the hold timeout denies each one (see `hold`).
    held: BTreeMap<MessageId, hold::HeldItem>,
    /// How long a message may wait in the hold queue before the hub denies
    /// it ([`super::config::DEFAULT_HOLD_TIMEOUT`] unless the hub sets it).
    hold_timeout_ms: Millis,
    /// The brand's emergency preset and whether it is on (`shield`).
    shield: Shield,
    /// The live's title, lifecycle state and times (`lifecycle`).
    live: crate::protocol::LiveInfo,
    /// Who is answering which question or held message (`claims`), in
    /// memory only.
    claims: BTreeMap<MessageId, crate::protocol::Claim>,
    /// How long a claim lasts ([`super::config::DEFAULT_CLAIM_TIMEOUT`]
    /// unless the hub sets it).
    claim_timeout_ms: Millis,
    /// Viewer flags in force (`flags`), in memory only.
    flags: BTreeMap<ViewerId, crate::protocol::ViewerFlag>,
    /// The hashes of the consent texts this hub offered (the brand's
    /// `[consent]` texts, and earlier versions the registry holds): a
    /// `consent` for one of their purposes must name one of them.
    consent_texts: std::collections::BTreeSet<String>,
    /// The live's products, now showing and canned answers (`showcase`).
    showcase: showcase::Showcase,
}

impl Session {
    /// A session continuing from what the store holds.
    pub fn restore(
        head: &LiveHead,
        stored: StoredSnapshot,
        settings: Settings,
        moderation: Moderation,
        bounds: SessionBounds,
    ) -> Self {
        let bounds = SessionBounds {
            message_cache: bounds.message_cache.max(bounds.recent).max(1),
            ..bounds
        };
        let mut session = Session {
            epoch: head.epoch.clone(),
            head: head.head,
            last_message_id: head.last_message_id,
            settings,
            moderation,
            bounds,
            rate: RateLimiter::default(),
            messages: BTreeMap::new(),
            recent: VecDeque::new(),
            pinned: None,
            open_questions: BTreeSet::new(),
            sanctions: HashMap::new(),
            viewers_online: 0,
            games: Engagement::default(),
            games_stale: false,
            audience: 0,
            rectified: HashMap::new(),
            erased: BTreeSet::new(),
            held: BTreeMap::new(),
            hold_timeout_ms: hold::default_hold_timeout_ms(),
            shield: Shield::default(),
            live: lifecycle::on_air(),
            claims: BTreeMap::new(),
            claim_timeout_ms: claims::default_claim_timeout_ms(),
            flags: BTreeMap::new(),
            consent_texts: super::consent_texts::ConsentTexts::default().accepted(),
            showcase: showcase::Showcase::default(),
        };
        for entry in stored.recent {
            // Shield: who posted in the restored chat has chatted before.
            if let ChatEntry::Message(m) = &entry
                && let Some(viewer) = m.author.viewer_id()
            {
                session.shield.note_chatted(viewer);
            }
            session.remember_recent(entry);
        }
        for q in stored.open_questions {
            session.open_questions.insert(q.id);
            session.messages.insert(q.id, ChatEntry::Message(q));
        }
        if let Some(p) = stored.pinned {
            session.pinned = Some(p.id);
            session.messages.insert(p.id, ChatEntry::Message(p));
        }
        session
    }

    pub fn epoch(&self) -> &Epoch {
        &self.epoch
    }

    /// The last event's seq (0 before the first).
    pub fn head(&self) -> Seq {
        self.head
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sets the brand's Shield preset (off), keeping who has chatted.
    pub fn set_shield(&mut self, preset: ShieldPreset) {
        self.shield.set_preset(preset);
    }

    /// Sets the hashes of the consent texts this hub offers
    /// ([`super::consent_texts::ConsentTexts::accepted`]).
    pub fn set_consent_texts(&mut self, accepted: std::collections::BTreeSet<String>) {
        self.consent_texts = accepted;
    }

    /// Shield was on when the hub stopped: on again, over the settings the
    /// live restarts with (which `shield_off` then restores), without an
    /// event. Everyone posting from now is counted anew, except the
    /// restored recent chat's authors.
    pub fn resume_shield(&mut self) {
        if let Some(settings) = self.shield.on(&self.settings) {
            self.settings = settings;
        }
    }

    /// Remembers a joining viewer's sanctions (read from the store), so a
    /// timeout survives a reconnect and a restart.
    pub fn note_sanctions(
        &mut self,
        viewer: &ViewerId,
        banned: bool,
        timed_out_until: Option<Millis>,
    ) {
        if banned || timed_out_until.is_some() {
            let s = self.sanctions.entry(viewer.clone()).or_default();
            s.banned |= banned;
            s.timed_out_until = s.timed_out_until.max(timed_out_until.unwrap_or(0));
        }
    }

    /// Remembers the names support corrected for a joining viewer (read
    /// from the store), so every connection of theirs posts under them.
    pub fn note_rectified(&mut self, viewer: &ViewerId, corrected: &NameCorrection) {
        if !corrected.is_empty() {
            self.rectified.insert(viewer.clone(), corrected.clone());
        }
    }

    pub fn is_banned(&self, viewer: &ViewerId) -> bool {
        self.sanctions.get(viewer).is_some_and(|s| s.banned)
    }

    /// The snapshot `role` may see: viewers get no held or hidden message
    /// and no staff names on tombstones.
    pub fn snapshot_for(&self, role: Role) -> Snapshot {
        let visible = |m: &ChatMessage| role.is_staff() || m.visibility == Visibility::Visible;
        let message = |id: &MessageId| match self.messages.get(id) {
            Some(ChatEntry::Message(m)) if visible(m) => Some(m.clone()),
            _ => None,
        };
        let recent = self
            .recent
            .iter()
            .filter_map(|id| match self.messages.get(id)? {
                ChatEntry::Message(m) => visible(m).then(|| ChatEntry::Message(m.clone())),
                ChatEntry::Redacted(t) if role.is_staff() => Some(ChatEntry::Redacted(t.clone())),
                ChatEntry::Redacted(t) => Some(ChatEntry::Redacted(Tombstone {
                    by: Actor {
                        name: None,
                        role: t.by.role,
                    },
                    ..t.clone()
                })),
            })
            .collect();
        let (polls, instant_wins) = self.games.snapshot_for(role);
        Snapshot {
            pinned: self.pinned.as_ref().and_then(message),
            open_questions: self
                .open_questions
                .iter()
                .filter_map(message)
                .take(self.bounds.open_questions_in_snapshot)
                .collect(),
            held: Vec::new(),
            recent,
            viewers_online: self.viewers_online,
            settings: self.settings.clone(),
            polls,
            instant_wins,
            activity: Vec::new(),
            shared_names: Vec::new(),
            sanctioned: Vec::new(),
            shield_preset: role.is_staff().then(|| self.shield.view()),
            products: if role.is_staff() {
                self.showcase.products.clone()
            } else {
                Vec::new()
            },
            now_showing: self.showcase.now_showing.clone(),
            canned: if role.is_staff() {
                self.showcase.canned.clone()
            } else {
                Vec::new()
            },
            claims: if role.is_staff() {
                self.claims_in_force()
            } else {
                Vec::new()
            },
            flags: if role.is_staff() {
                self.flags_in_force()
            } else {
                Vec::new()
            },
        }
    }

    /// Continues the live's polls and instant wins from the store.
    /// `second_ms` is the length of a game "second" (1,000 but in tests).
    pub fn restore_games(&mut self, stored: StoredGames, second_ms: Millis) {
        self.games = Engagement::restore(stored, second_ms);
        self.games_stale = false;
    }

    /// Reads the games again from the store: another hub node opened,
    /// closed, cleared or drew one.
    pub(super) fn reload_games(&mut self, history: &mut dyn History) {
        match history.games() {
            Ok(stored) => {
                let second_ms = self.games.second_ms();
                self.restore_games(stored, second_ms);
            }
            Err(error) => {
                tracing::warn!(%error, "could not read the games another node changed");
                self.games_stale = true;
            }
        }
    }

    /// On a store several hub nodes share: counts the votes and entries the
    /// other nodes stored, while a game is in play, so this node's tallies,
    /// deadlines and draws count every one and a viewer who voted on
    /// another node is told they already did. The actor calls it in each
    /// turn after following the other nodes (inside the live's turn lock
    /// when the turn decides commands or a game's deadline).
    pub fn catch_up_games(&mut self, history: &mut dyn History, now: Millis) {
        if self.games_stale {
            self.reload_games(history);
        }
        if !self.games.in_play(now) {
            return;
        }
        match history.game_news(self.games.cursor()) {
            Ok(news) => self.games.merge(news),
            Err(error) => tracing::warn!(%error, "could not read the votes other nodes stored"),
        }
    }

    /// Whether the clock has a game's deadline or a changed count to
    /// announce by `now` (on a shared store, worth holding the live for).
    pub fn games_due(&self, now: Millis) -> bool {
        self.games.due(now)
    }

    /// Viewers connected now (the actor tells before a poll launch).
    pub fn set_audience(&mut self, viewers: u64) {
        self.audience = viewers;
    }

    /// The published record of a drawn instant win, if drawn.
    pub fn draw_record(&self, draw_id: u64) -> Option<crate::instant_win::DrawRecord> {
        self.games.record(draw_id)
    }

    /// What time did by `now` (deadlines, throttled tallies): one decision
    /// per step, each with its events numbered, its facts and its audit.
    pub fn clock(&mut self, now: Millis) -> Vec<Decision> {
        let mut decisions: Vec<Decision> = self
            .games
            .clock(now)
            .into_iter()
            .map(|step| self.step(step, now))
            .collect();
        decisions.extend(self.expire_rules(now));
        decisions.extend(self.expire_holds(now));
        decisions.extend(self.expire_claims(now));
        decisions.extend(self.expire_flags(now));
        decisions
    }

    fn step(&mut self, step: Step, now: Millis) -> Decision {
        let mut d = self.emit(step.events, now);
        d.audit = step.audit;
        d.games = step.writes;
        d
    }

    /// The periodic viewers-online event, only when the count changed.
    pub fn viewers_online(&mut self, count: u64, now: Millis) -> Option<EventFrame> {
        if count == self.viewers_online {
            return None;
        }
        self.viewers_online = count;
        Some(self.next_frame(Event::ViewersOnline { count }, now))
    }

    /// Drops what memory no longer needs: old messages beyond the cache
    /// (never the pinned one, open questions or recent chat), idle rate
    /// buckets, ended timeouts. The actor calls it after each commit, never
    /// mid-batch, so a batch always sees its own changes.
    pub fn trim(&mut self, now: Millis) {
        while self.open_questions.len() > self.bounds.message_cache {
            self.open_questions.pop_first();
        }
        let keep: BTreeSet<MessageId> = self
            .recent
            .iter()
            .chain(self.pinned.iter())
            .chain(self.open_questions.iter())
            .copied()
            .collect();
        let excess = self
            .messages
            .len()
            .saturating_sub(self.bounds.message_cache);
        if excess > 0 {
            let evict: Vec<MessageId> = self
                .messages
                .keys()
                .filter(|id| !keep.contains(id))
                .take(excess)
                .copied()
                .collect();
            for id in evict {
                self.messages.remove(&id);
            }
        }
        self.rate.forget_idle(&self.settings, now);
        self.sanctions
            .retain(|_, s| s.banned || s.timed_out_until > now);
    }

    /// Decides one command. `who` has joined; the permission table is
    /// checked here, so no caller can forget it.
    pub fn decide(
        &mut self,
        who: &Principal,
        command: &Command,
        history: &mut dyn History,
        now: Millis,
    ) -> Decision {
        let (role, kind) = (who.role(), command.kind());
        let result = if let Some(refusal) = self.refuse_erased(who) {
            Err(refusal)
        } else if permissions::allows(role, kind) {
            self.apply(who, command, history, now)
        } else {
            Err(Refusal::new(
                ErrorCode::Forbidden,
                format!("a {} may not send {kind}", permissions::role_name(role)),
            ))
        };
        result.unwrap_or_else(Decision::refuse)
    }

    /// The rule of each command, once its sender may send it.
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per command, flat on purpose"
    )]
    fn apply(
        &mut self,
        who: &Principal,
        command: &Command,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        match command {
            Command::Say {
                text,
                question,
                announcement,
            } => self.say(who, text, *question, *announcement, now),
            Command::Consent {
                purpose,
                granted,
                channel,
                text_sha256,
                contact,
            } => self.consent(
                who,
                ConsentState {
                    purpose: *purpose,
                    granted: *granted,
                    at: now,
                    channel: *channel,
                    text_sha256: text_sha256.to_ascii_lowercase(),
                },
                contact,
            ),
            Command::SmsSubscribe {
                scope,
                phone,
                channel,
                text_sha256,
            } => self.sms_subscribe(who, *scope, phone, *channel, text_sha256, now),
            Command::Answer {
                message_id,
                text,
                also,
            } => self.answer(who, *message_id, also, text, history, now),
            Command::Pin { message_id } => self.pin(who, *message_id, history, now),
            Command::Unpin => Ok(self.unpin(who, now)),
            Command::MarkAnswered { message_id } => {
                self.set_answered(who, *message_id, true, history, now)
            }
            Command::ReopenQuestion { message_id } => {
                self.set_answered(who, *message_id, false, history, now)
            }
            Command::Hide { message_id, reason } => {
                self.hide(who, *message_id, reason, history, now)
            }
            Command::Release { .. } | Command::Deny { .. } => {
                self.settle_hold(who, command, history, now)
            }
            Command::Timeout {
                viewer_id,
                seconds,
                reason,
            } => self.timeout(who, viewer_id, *seconds, reason, history, now),
            Command::Ban { viewer_id, reason } => self.ban(who, viewer_id, reason, history, now),
            Command::Unban { .. }
            | Command::LiftTimeout { .. }
            | Command::SlowMode { .. }
            | Command::Delivery { .. }
            | Command::ShieldOn
            | Command::ShieldOff => self.lift_or_pace(who, command, history, now),
            Command::Redact { message_id, reason } => {
                self.redact(who, *message_id, reason, history, now)
            }
            Command::RectifyViewer { .. } | Command::EraseViewer { .. } => {
                self.rights_request(who, command, history, now)
            }
            Command::ViewerCard { .. } | Command::NoteAdd { .. } | Command::StaffLog { .. } => {
                self.viewer_card_work(who, command, history, now)
            }
            // A read, like `staff_log`: no event, no audit record (the
            // query is not kept anywhere).
            Command::HistorySearch { .. } => crate::store::history::HistoryQuery::of(command)
                .map(|q| Decision::reply(Reply::HistorySearch(q))),
            Command::ExportViewer { viewer_id } => Ok(Decision::reply(Reply::ViewerExport {
                viewer_id: viewer_id.clone(),
            })),
            Command::RightsRequests => Ok(Decision::reply(Reply::RightsRequests)),
            Command::PrivacyRequest { kind } => Ok(Decision::reply(Reply::PrivacyRequest {
                kind: *kind,
                viewer_id: Self::viewer(who)?.id.clone(),
            })),
            // A read of the store, like `live_list`: no event, no audit.
            Command::Report { live } => Ok(Decision::reply(Reply::Report(live.clone()))),
            Command::LiveCreate { .. }
            | Command::LiveList
            | Command::LiveStart
            | Command::LiveEnd
            | Command::SmsSegments
            | Command::SmsFollowUp { .. } => self.lifecycle(who, command, now),
            Command::PollOpen {
                question,
                options,
                duration_secs,
            } => {
                let spec = PollSpec {
                    question: question.clone(),
                    options: options.clone(),
                    duration_secs: *duration_secs,
                };
                self.open_poll(who, &spec, now)
            }
            Command::PollClose { poll_id } => self.close_poll(who, *poll_id, now),
            Command::Vote { poll_id, option } => self.vote(who, *poll_id, *option, now),
            Command::InstantWinOpen {
                prize,
                winners,
                entry_secs,
                rules,
            } => {
                let spec = InstantWinSpec {
                    prize: prize.clone(),
                    winners: *winners,
                    entry_secs: *entry_secs,
                    rules: rules.clone(),
                };
                self.open_draw(who, &spec, now)
            }
            Command::PollClear { poll_id } => {
                let by = Self::actor(who);
                let step = self.games.clear_poll(&by, *poll_id, now)?;
                Ok(self.step(step, now))
            }
            Command::InstantWinClose { draw_id } => self.close_draw(who, *draw_id, now),
            Command::Enter { draw_id } => self.enter(who, *draw_id, now),
            Command::Redraw {
                draw_id,
                exclude,
                reason,
            } => self.redraw(who, *draw_id, exclude, reason, now),
            Command::RuleAdd { .. }
            | Command::RuleRemove { .. }
            | Command::Rules
            | Command::RuleTest { .. } => self.rules_command(who, command, now),
            Command::ProductAdd { .. } | Command::NowShowing { .. } | Command::CannedAdd { .. } => {
                self.showcase_command(who, command, now)
            }
            Command::Claim { .. } | Command::Unclaim { .. } => {
                self.claim_command(who, command, history, now)
            }
            Command::FlagViewer { .. } | Command::UnflagViewer { .. } => {
                self.flag_command(who, command, history, now)
            }
        }
    }

    /// A data-protection request support carries out: correct a viewer's
    /// names (Art. 16) or erase the viewer (Art. 17).
    fn rights_request(
        &mut self,
        who: &Principal,
        command: &Command,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        match command {
            Command::RectifyViewer {
                viewer_id,
                first_name,
                pseudonym,
            } => self.rectify_viewer(
                who,
                viewer_id,
                first_name.as_deref(),
                pseudonym.as_deref(),
                history,
                now,
            ),
            Command::EraseViewer { viewer_id, reason } => {
                self.erase_viewer(who, viewer_id, reason, history, now)
            }
            other => Err(Refusal::invalid(format!(
                "{} is not a rights request",
                other.kind().name()
            ))),
        }
    }

    // ── polls and instant wins (the rules are `engagement`'s) ───────────

    fn open_poll(
        &mut self,
        who: &Principal,
        spec: &PollSpec,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let by = Self::actor(who);
        let step = self.games.open_poll(&by, spec, self.audience, now)?;
        Ok(self.step(step, now))
    }

    fn close_poll(
        &mut self,
        who: &Principal,
        poll_id: u64,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let by = Self::actor(who);
        let step = self.games.close_poll(&by, poll_id, now)?;
        Ok(self.step(step, now))
    }

    fn open_draw(
        &mut self,
        who: &Principal,
        spec: &InstantWinSpec,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let by = Self::actor(who);
        let step = self.games.open_draw(&by, spec, now)?;
        Ok(self.step(step, now))
    }

    fn close_draw(
        &mut self,
        who: &Principal,
        draw_id: u64,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let by = Self::actor(who);
        let step = self.games.close_draw(&by, draw_id, now)?;
        Ok(self.step(step, now))
    }

    fn redraw(
        &mut self,
        who: &Principal,
        draw_id: u64,
        exclude: &[ViewerId],
        reason: &str,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let by = Self::actor(who);
        let reason = clean_reason(reason);
        let step = self.games.redraw(&by, draw_id, exclude, &reason, now)?;
        Ok(self.step(step, now))
    }

    // ── viewer commands ─────────────────────────────────────────────────

    fn viewer(who: &Principal) -> Result<&ViewerProfile, Refusal> {
        match who {
            Principal::Viewer(v) => Ok(v),
            Principal::Staff { .. } => Err(Refusal::invalid("only viewers take part")),
        }
    }

    /// One final vote per viewer (see `poll`).
    fn vote(
        &mut self,
        who: &Principal,
        poll_id: u64,
        option: usize,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let v = Self::viewer(who)?;
        if let Some(opened_at) = self.games.poll_opened_at(poll_id)
            && !v.predates(opened_at)
        {
            return Err(Refusal::invalid(
                "you joined after this poll opened: only viewers who were here before it can vote",
            ));
        }
        let step = self.games.vote(&v.id, poll_id, option, now)?;
        Ok(self.step(step, now))
    }

    /// One entry per viewer; sanctions refuse, consent is never asked.
    fn enter(&mut self, who: &Principal, draw_id: u64, now: Millis) -> Result<Decision, Refusal> {
        let v = Self::viewer(who)?;
        self.check_sanctions(&v.id, now)?;
        if let Some(opened_at) = self.games.draw_opened_at(draw_id)
            && !v.predates(opened_at)
        {
            return Err(Refusal::invalid(
                "you joined after this instant win opened: only viewers who were here before it can enter",
            ));
        }
        let (first_name, pseudonym) = self.names_of(v);
        let step = self
            .games
            .enter(&v.id, (&first_name, &pseudonym), draw_id, now)?;
        Ok(self.step(step, now))
    }

    /// Banned and timed-out viewers are refused with the reason.
    fn check_sanctions(&self, viewer: &ViewerId, now: Millis) -> Result<(), Refusal> {
        if let Some(s) = self.sanctions.get(viewer) {
            if s.banned {
                return Err(Refusal::new(
                    ErrorCode::Banned,
                    "you are banned from this live",
                ));
            }
            if s.timed_out_until > now {
                let secs = (s.timed_out_until - now).div_euclid(1000) + 1;
                return Err(Refusal::new(
                    ErrorCode::TimedOut,
                    format!("you are timed out for another {secs} s"),
                ));
            }
        }
        Ok(())
    }

    fn say(
        &mut self,
        who: &Principal,
        raw: &str,
        question: bool,
        announcement: bool,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        if announcement {
            Self::may_announce(who, question)?;
        }
        if let Principal::Viewer(v) = who {
            self.refuse_after_the_end()?;
            self.check_sanctions(&v.id, now)?;
        }
        let text = self.clean_text(raw)?;
        let mut flagged = None;
        let (text, visibility) = match who {
            Principal::Viewer(v) => {
                if let Err(wait_ms) = self.rate.take(&v.id, &self.settings, now) {
                    let gap = self.settings.slow_mode_secs;
                    let message = if gap > 0 {
                        format!(
                            "slow mode: one message every {gap} s; try again in {} s",
                            wait_ms.div_ceil(1000)
                        )
                    } else {
                        format!("too many messages: try again in {wait_ms} ms")
                    };
                    return Err(Refusal::new(ErrorCode::RateLimited, message).retry_after(wait_ms));
                }
                let Review {
                    text,
                    hold,
                    verdict,
                } = self.moderation.review(&text, now);
                let held_by = verdict
                    .as_ref()
                    .filter(|v| v.action == Action::Hold)
                    .map(|v| v.rule.0);
                match verdict.map(|v| (v.action, v)) {
                    // Nothing is stored nor shown: only the sender hears.
                    Some((Action::Block, _)) => {
                        return Err(Refusal::new(
                            ErrorCode::Blocked,
                            "your message was not posted: it breaks this live's rules",
                        ));
                    }
                    Some((Action::Flag, v)) if hold.is_none() => flagged = Some(v),
                    _ => {}
                }
                // Shield's overlay, after the live's own review.
                let rectified = &self.rectified;
                let hold = match self
                    .shield
                    .review(&v.id, || names_of(rectified, v), &text, now)
                {
                    Overlay::Block => {
                        return Err(Refusal::new(
                            ErrorCode::Blocked,
                            "Shield is on: this message was blocked",
                        ));
                    }
                    Overlay::Hold(reason) => hold.or(Some(reason)),
                    Overlay::Pass => hold,
                };
                // A held message is not flagged: staff see it in the queue.
                if hold.is_some() {
                    flagged = None;
                }
                let visibility = match hold {
                    Some(reason) => Visibility::Held {
                        reason,
                        // The live's rule, when one of them held it (not
                        // personal data, not Shield's overlay).
                        rule_id: held_by.filter(|_| {
                            matches!(
                                reason,
                                HoldReason::BlockedTerm
                                    | HoldReason::RegexRule
                                    | HoldReason::LinkPolicy
                            )
                        }),
                    },
                    None => Visibility::Visible,
                };
                (text, visibility)
            }
            // Staff posts are not moderated: staff are the moderators.
            Principal::Staff { .. } => (text, Visibility::Visible),
        };
        let mut message = self.new_message(who, text, question, None, visibility, now);
        if announcement {
            message.announcement = true;
            self.messages
                .insert(message.id, ChatEntry::Message(message.clone()));
        }
        let notice = self.hold_queued(&message);
        // Staff-only, right behind the message viewers get unmarked.
        let flag = flagged.map(|v| Event::MessageFlagged {
            message_id: message.id,
            rule_id: v.rule.0,
            kind: super::moderation::wire_kind(v.kind),
        });
        let events = std::iter::once(Event::Message { message })
            .chain(notice)
            .chain(flag)
            .collect();
        let mut d = self.emit(events, now);
        d.audit = Self::audit(who, "say", "", "", now);
        Ok(d)
    }

    /// Staff post announcements, and an announcement is not a question.
    fn may_announce(who: &Principal, question: bool) -> Result<(), Refusal> {
        if matches!(who, Principal::Viewer(_)) {
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                "only staff post announcements",
            ));
        }
        if question {
            return Err(Refusal::invalid(
                "an announcement is not a question: send one or the other",
            ));
        }
        Ok(())
    }

    /// A consent, with the contact data given under it: only values its
    /// purpose is collected for, and none with a withdrawal (withdrawing
    /// deletes what was given for the purpose).
    fn consent(
        &self,
        who: &Principal,
        consent: ConsentState,
        contact: &Contact,
    ) -> Result<Decision, Refusal> {
        if !matches!(who, Principal::Viewer(_)) {
            return Err(Refusal::invalid("only viewers give consent"));
        }
        // The brand's `[collect]` switches: an opt-in it does not offer is
        // not recorded, nor its contact data. A withdrawal still is.
        let offered = match consent.purpose {
            ConsentPurpose::Marketing => self.settings.email_opt_in,
            // A brand that texts its viewers may ask for either SMS use.
            ConsentPurpose::SmsReminders | ConsentPurpose::SmsMarketing => self.settings.sms_alerts,
            ConsentPurpose::PrizeContact => true,
        };
        if consent.granted && !offered {
            return Err(Refusal::new(
                ErrorCode::NotOffered,
                match consent.purpose {
                    ConsentPurpose::SmsReminders | ConsentPurpose::SmsMarketing => {
                        "this brand does not offer SMS alerts"
                    }
                    _ => "this brand does not collect e-mail opt-ins",
                },
            ));
        }
        let hash = &consent.text_sha256;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Refusal::invalid(
                "text_sha256 must be the 64 hex digits of a SHA-256",
            ));
        }
        // What is recorded is what the viewer saw: a text of the page's.
        let worded_by_the_brand = !matches!(consent.purpose, ConsentPurpose::PrizeContact);
        if worded_by_the_brand && !self.consent_texts.contains(&hash.to_ascii_lowercase()) {
            return Err(Refusal::invalid(
                "text_sha256 names no consent text this hub offered: reload the page to see the current text",
            ));
        }
        let mut contact = contact.clone().cleaned().map_err(Refusal::invalid)?;
        // A phone for SMS is texted: E.164, as the alert's subscription.
        if consent.purpose == ConsentPurpose::SmsMarketing
            && let Some(phone) = contact.phone.as_deref().filter(|p| !p.is_empty())
        {
            let e164 = crate::privacy::to_e164(phone).ok_or_else(|| {
                Refusal::invalid(
                    "the phone is not a valid number: write it like 06 12 34 56 78 or +33 6 12 34 56 78",
                )
            })?;
            contact.phone = Some(e164);
        }
        for field in ContactField::ALL {
            if field.of(&contact).is_none_or(str::is_empty) {
                continue;
            }
            if !consent.granted {
                return Err(Refusal::invalid(
                    "a withdrawn consent takes no contact data: withdrawing deletes it",
                ));
            }
            if !field.serves(consent.purpose) {
                return Err(Refusal::invalid(match field {
                    ContactField::Phone => "a phone number is not collected for this purpose",
                    ContactField::Email => "an e-mail address is not collected for this purpose",
                }));
            }
        }
        let mut d = Decision::reply(Reply::Ack { seq: None });
        d.consent = Some(consent);
        d.consent_contact = contact;
        Ok(d)
    }

    /// An SMS alert subscription: a consent for `sms_reminders` with the
    /// phone in E.164, and which alerts (the actor stores both).
    fn sms_subscribe(
        &self,
        who: &Principal,
        scope: crate::protocol::SmsScope,
        phone: &str,
        channel: crate::protocol::ConsentChannel,
        text_sha256: &str,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let Some(e164) = crate::privacy::to_e164(phone) else {
            return Err(Refusal::invalid(
                "the phone is not a valid number: write it like 06 12 34 56 78 or +33 6 12 34 56 78",
            ));
        };
        let consent = ConsentState {
            purpose: ConsentPurpose::SmsReminders,
            granted: true,
            at: now,
            channel,
            text_sha256: text_sha256.to_ascii_lowercase(),
        };
        let contact = Contact {
            phone: Some(e164),
            email: None,
        };
        let mut d = self.consent(who, consent, &contact)?;
        d.sms_scope = Some(scope);
        Ok(d)
    }

    // ── staff commands ──────────────────────────────────────────────────

    /// One answer, bound to `id` and, for a question group, to every
    /// message of `also` (each a live question, none twice): each asker
    /// is named by first name in `reply_to` or `also_to`.
    fn answer(
        &mut self,
        who: &Principal,
        id: MessageId,
        also: &[MessageId],
        raw: &str,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let target = self.live_message(id, history)?;
        if also.len() > crate::protocol::MAX_ANSWER_ALSO {
            return Err(Refusal::invalid(format!(
                "an answer is bound to at most {} other messages, not {}",
                crate::protocol::MAX_ANSWER_ALSO,
                also.len()
            )));
        }
        let mut seen = std::collections::BTreeSet::from([id]);
        let mut also_to = Vec::with_capacity(also.len());
        for other in also {
            if !seen.insert(*other) {
                return Err(Refusal::invalid(format!(
                    "message {other} is named twice in one answer"
                )));
            }
            let m = self.live_message(*other, history)?;
            if !m.question {
                return Err(Refusal::invalid(format!(
                    "message {other} is not a question: only questions are answered together"
                )));
            }
            also_to.push(ReplyTo {
                message_id: *other,
                first_name: m.author.display_name().to_owned(),
            });
        }
        let text = self.clean_text(raw)?;
        let reply_to = ReplyTo {
            message_id: id,
            first_name: target.author.display_name().to_owned(),
        };
        let mut message =
            self.new_message(who, text, false, Some(reply_to), Visibility::Visible, now);
        if !also_to.is_empty() {
            if let Some(ChatEntry::Message(kept)) = self.messages.get_mut(&message.id) {
                kept.also_to.clone_from(&also_to);
            }
            message.also_to = also_to;
        }
        // Every question the answer is bound to is answered: their claims end.
        let targets: Vec<MessageId> = std::iter::once(id)
            .chain(message.also_to.iter().map(|r| r.message_id))
            .collect();
        let ended: Vec<Event> = targets
            .into_iter()
            .filter_map(|target| self.claim_ends(target, ClaimEndReason::Answered, who.actor()))
            .collect();
        let events = std::iter::once(Event::Message { message })
            .chain(ended)
            .collect();
        let mut d = self.emit(events, now);
        d.audit = Self::audit(who, "answer", &id.to_string(), "", now);
        Ok(d)
    }

    fn pin(
        &mut self,
        who: &Principal,
        id: MessageId,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let target = self.live_message(id, history)?;
        if target.visibility != Visibility::Visible {
            return Err(Refusal::invalid(format!(
                "message {id} is not visible to viewers; release it before pinning"
            )));
        }
        if self.pinned == Some(id) {
            return Ok(Decision::reply(Reply::Ack { seq: None }));
        }
        self.pinned = Some(id);
        let mut d = self.emit(
            vec![Event::Pinned {
                message_id: id,
                by: Self::actor(who),
            }],
            now,
        );
        d.audit = Self::audit(who, "pin", &id.to_string(), "", now);
        Ok(d)
    }

    fn unpin(&mut self, who: &Principal, now: Millis) -> Decision {
        let Some(id) = self.pinned.take() else {
            return Decision::reply(Reply::Ack { seq: None });
        };
        let mut d = self.emit(
            vec![Event::Unpinned {
                message_id: id,
                by: Self::actor(who),
            }],
            now,
        );
        d.audit = Self::audit(who, "unpin", &id.to_string(), "", now);
        d
    }

    /// Marks a question answered or, with `answered == false`, open again
    /// (the undo of a mark): back in its place by id, since the queue is
    /// ordered by id and does not put it at the end. A question already in
    /// that state is a no-op ack, so a repeated key press changes nothing.
    fn set_answered(
        &mut self,
        who: &Principal,
        id: MessageId,
        answered: bool,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let mut target = self.live_message(id, history)?;
        if !target.question {
            return Err(Refusal::invalid(format!("message {id} is not a question")));
        }
        if target.answered == answered {
            return Ok(Decision::reply(Reply::Ack { seq: None }));
        }
        target.answered = answered;
        if answered {
            self.open_questions.remove(&id);
        } else {
            self.open_questions.insert(id);
        }
        self.messages.insert(id, ChatEntry::Message(target));
        let by = Self::actor(who);
        let claim = if answered {
            self.claim_ends(id, ClaimEndReason::Answered, Some(by.clone()))
        } else {
            None
        };
        let (event, action) = if answered {
            (
                Event::QuestionAnswered { message_id: id, by },
                "mark_answered",
            )
        } else {
            (
                Event::QuestionReopened { message_id: id, by },
                "reopen_question",
            )
        };
        let mut d = self.emit(std::iter::once(event).chain(claim).collect(), now);
        d.audit = Self::audit(who, action, &id.to_string(), "", now);
        Ok(d)
    }

    fn hide(
        &mut self,
        who: &Principal,
        id: MessageId,
        reason: &str,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let mut target = self.live_message(id, history)?;
        if target.visibility == Visibility::Hidden {
            return Ok(Decision::reply(Reply::Ack { seq: None }));
        }
        let reason = clean_reason(reason);
        // A hidden message was handled: it leaves the hold queue.
        self.held.remove(&id);
        target.visibility = Visibility::Hidden;
        self.messages.insert(id, ChatEntry::Message(target));
        let by = Self::actor(who);
        let mut events = vec![Event::Hidden {
            message_id: id,
            by: by.clone(),
        }];
        events.extend(self.claim_ends(id, ClaimEndReason::Released, Some(by.clone())));
        // Only visible messages stay pinned.
        if self.pinned == Some(id) {
            self.pinned = None;
            events.push(Event::Unpinned { message_id: id, by });
        }
        let mut d = self.emit(events, now);
        d.audit = Self::audit(who, "hide", &id.to_string(), &reason, now);
        Ok(d)
    }

    pub(super) fn release(
        &mut self,
        who: &Principal,
        id: MessageId,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let mut target = self.live_message(id, history)?;
        if target.visibility == Visibility::Visible {
            return Ok(Decision::reply(Reply::Ack { seq: None }));
        }
        target.visibility = Visibility::Visible;
        self.messages.insert(id, ChatEntry::Message(target.clone()));
        let (held_at, notice) = self.hold_settled(&target, HoldOutcome::Approved);
        let claim = self.claim_ends(id, ClaimEndReason::Answered, who.actor());
        let released = Event::Released {
            message: target,
            by: Some(Self::actor(who)),
            held_at,
        };
        let events = std::iter::once(released).chain(notice).chain(claim);
        let mut d = self.emit(events.collect(), now);
        d.audit = Self::audit(who, "release", &id.to_string(), "", now);
        Ok(d)
    }

    fn timeout(
        &mut self,
        who: &Principal,
        viewer: &ViewerId,
        seconds: u32,
        reason: &str,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        if seconds == 0 || seconds > MAX_TIMEOUT_SECS {
            return Err(Refusal::invalid(format!(
                "a timeout lasts 1 to {MAX_TIMEOUT_SECS} seconds; longer is a ban"
            )));
        }
        self.known_viewer(viewer, history)?;
        let reason = clean_reason(reason);
        let until = now.saturating_add(i64::from(seconds) * 1000);
        let s = self.sanctions.entry(viewer.clone()).or_default();
        s.timed_out_until = s.timed_out_until.max(until);
        let mut d = self.emit(
            vec![Event::ViewerTimedOut {
                viewer_id: viewer.clone(),
                until,
                reason: reason.clone(),
                by: Self::actor(who),
            }],
            now,
        );
        d.audit = Self::audit(who, "timeout", &viewer.0, &reason, now);
        Ok(d)
    }

    fn ban(
        &mut self,
        who: &Principal,
        viewer: &ViewerId,
        reason: &str,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        if self.is_banned(viewer) {
            return Ok(Decision::reply(Reply::Ack { seq: None }));
        }
        self.known_viewer(viewer, history)?;
        let reason = clean_reason(reason);
        self.sanctions.entry(viewer.clone()).or_default().banned = true;
        let mut d = self.emit(
            vec![Event::ViewerBanned {
                viewer_id: viewer.clone(),
                reason: reason.clone(),
                by: Self::actor(who),
            }],
            now,
        );
        d.audit = Self::audit(who, "ban", &viewer.0, &reason, now);
        d.banned = Some(viewer.clone());
        Ok(d)
    }

    /// Lifting a sanction (`unban`, `lift_timeout`), slow mode and Shield.
    fn lift_or_pace(
        &mut self,
        who: &Principal,
        command: &Command,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let (viewer, lifted, reason) = match command {
            Command::Unban { viewer_id, reason } => (viewer_id, LiftedSanction::Ban, reason),
            Command::LiftTimeout { viewer_id, reason } => {
                (viewer_id, LiftedSanction::Timeout, reason)
            }
            Command::SlowMode { secs } => return self.slow_mode(who, *secs, now),
            Command::Delivery {
                tick_ms,
                chat_per_sec,
            } => {
                let policy = crate::protocol::DeliveryPolicy {
                    tick_ms: *tick_ms,
                    chat_per_sec: *chat_per_sec,
                };
                return self.delivery(who, policy, now);
            }
            Command::ShieldOn => return Ok(self.shield_on(who, now)),
            Command::ShieldOff => return Ok(self.shield_off(who, now)),
            other => {
                return Err(Refusal::invalid(format!(
                    "{} lifts no sanction",
                    other.kind().name()
                )));
            }
        };
        self.lift(who, viewer, lifted, reason, history, now)
    }

    /// Ends a ban or a running timeout now. Nothing to lift is refused
    /// (`not_found`), so a console learns it acted on a stale card.
    fn lift(
        &mut self,
        who: &Principal,
        viewer: &ViewerId,
        lifted: LiftedSanction,
        reason: &str,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let (banned, until) = history.sanctions(viewer).map_err(|e| store_refusal(&e))?;
        self.note_sanctions(viewer, banned, until);
        let reason = clean_reason(reason);
        let Some(s) = self.sanctions.get_mut(viewer) else {
            return Err(Refusal::not_found(format!(
                "{viewer} has no sanction to lift"
            )));
        };
        match lifted {
            LiftedSanction::Ban if s.banned => s.banned = false,
            LiftedSanction::Timeout if s.timed_out_until > now => s.timed_out_until = now,
            LiftedSanction::Ban => {
                return Err(Refusal::not_found(format!("{viewer} is not banned")));
            }
            LiftedSanction::Timeout => {
                return Err(Refusal::not_found(format!("{viewer} is not timed out")));
            }
        }
        let mut d = self.emit(
            vec![Event::SanctionLifted {
                viewer_id: viewer.clone(),
                lifted,
                reason: reason.clone(),
                by: Self::actor(who),
            }],
            now,
        );
        let action = match lifted {
            LiftedSanction::Ban => "unban",
            LiftedSanction::Timeout => "lift_timeout",
        };
        d.audit = Self::audit(who, action, &viewer.0, &reason, now);
        Ok(d)
    }

    /// Turns slow mode on (`secs` between two messages per viewer) or off
    /// (0). Setting what is already set acknowledges without an event.
    fn slow_mode(&mut self, who: &Principal, secs: u32, now: Millis) -> Result<Decision, Refusal> {
        if secs > MAX_SLOW_MODE_SECS {
            return Err(Refusal::invalid(format!(
                "slow mode is 0 (off) to {MAX_SLOW_MODE_SECS} seconds"
            )));
        }
        if secs == self.settings.slow_mode_secs {
            return Ok(Decision::reply(Reply::Ack { seq: None }));
        }
        self.settings.slow_mode_secs = secs;
        let mut d = self.emit(
            vec![Event::SlowModeChanged {
                secs,
                by: Self::actor(who),
            }],
            now,
        );
        d.audit = Self::audit(who, "slow_mode", &secs.to_string(), "", now);
        Ok(d)
    }

    /// Sets how viewers receive the live; the fan-out reads the event.
    /// Setting what is already set acknowledges without an event.
    fn delivery(
        &mut self,
        who: &Principal,
        policy: crate::protocol::DeliveryPolicy,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        policy.check().map_err(Refusal::invalid)?;
        if policy == self.settings.delivery {
            return Ok(Decision::reply(Reply::Ack { seq: None }));
        }
        self.settings.delivery = policy;
        let mut d = self.emit(
            vec![Event::DeliveryChanged {
                policy,
                by: Self::actor(who),
            }],
            now,
        );
        let target = format!("{}ms {}/s", policy.tick_ms, policy.chat_per_sec);
        d.audit = Self::audit(who, "delivery", &target, "", now);
        Ok(d)
    }

    /// Shield on: the preset's settings in force, the previous ones kept.
    /// On already: a no-op ack that keeps what was remembered first.
    fn shield_on(&mut self, who: &Principal, now: Millis) -> Decision {
        let Some(settings) = self.shield.on(&self.settings) else {
            return Decision::reply(Reply::Ack { seq: None });
        };
        self.settings = settings;
        let mut d = self.shield_changed(who, true, now);
        if self.shield.reviews_recent_terms() {
            let viewers = self.shield.suspects(now, |v| self.is_banned(v));
            let seq = d.events.first().map(|f| f.seq);
            d.reply = Reply::ShieldReview { seq, viewers };
        }
        d
    }

    /// Shield off: the settings from before `shield_on`, exactly. Off
    /// already: a no-op ack.
    fn shield_off(&mut self, who: &Principal, now: Millis) -> Decision {
        let Some(mut previous) = self.shield.off() else {
            return Decision::reply(Reply::Ack { seq: None });
        };
        // Shield does not touch the viewers' delivery: a change made while
        // it was on stays.
        previous.delivery = self.settings.delivery;
        self.settings = previous;
        self.shield_changed(who, false, now)
    }

    fn shield_changed(&mut self, who: &Principal, on: bool, now: Millis) -> Decision {
        let secs = self.settings.slow_mode_secs;
        let mut d = self.emit(
            vec![Event::ShieldChanged {
                on,
                slow_mode_secs: secs,
                by: Self::actor(who),
            }],
            now,
        );
        let action = if on { "shield_on" } else { "shield_off" };
        d.audit = Self::audit(who, action, "", "", now);
        d
    }

    fn redact(
        &mut self,
        who: &Principal,
        id: MessageId,
        reason: &str,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let reason = required_reason(reason, "a redaction")?;
        let target = match self.entry(id, history)? {
            None => return Err(Refusal::not_found(format!("no message {id}"))),
            // Redacting twice is a no-op: the first tombstone stays.
            Some(ChatEntry::Redacted(_)) => return Ok(Decision::reply(Reply::Ack { seq: None })),
            Some(ChatEntry::Message(m)) => m,
        };
        let by = Self::actor(who);
        let tombstone = Tombstone {
            message_id: id,
            posted_at: target.at,
            redacted_at: now,
            author_id: target.author.viewer_id().cloned(),
            reason: reason.clone(),
            by: by.clone(),
        };
        self.messages
            .insert(id, ChatEntry::Redacted(tombstone.clone()));
        self.open_questions.remove(&id);
        self.held.remove(&id);
        let mut events = vec![Event::Redacted { tombstone }];
        events.extend(self.claim_ends(id, ClaimEndReason::Released, Some(by.clone())));
        if self.pinned == Some(id) {
            self.pinned = None;
            events.push(Event::Unpinned { message_id: id, by });
        }
        let mut d = self.emit(events, now);
        d.audit = Self::audit(who, "redact", &id.to_string(), &reason, now);
        Ok(d)
    }

    // ── rectification (Art. 16) ─────────────────────────────────────────

    /// Corrects a viewer's first name and/or pseudonym. Names are cleaned
    /// as at hello; a field that is absent or unchanged-empty is refused
    /// when nothing is left to change. The cached lines are relabelled
    /// here, the store's in the commit; the audit says which fields, never
    /// a value (old or new).
    fn rectify_viewer(
        &mut self,
        who: &Principal,
        viewer: &ViewerId,
        first_name: Option<&str>,
        pseudonym: Option<&str>,
        history: &mut dyn History,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let clean = |name: Option<&str>, what: &str| -> Result<Option<String>, Refusal> {
            match name.map(|n| sanitize_name(n, super::identity::MAX_NAME_GRAPHEMES)) {
                Some(n) if n.is_empty() => Err(Refusal::invalid(format!(
                    "a {what} cannot be empty (absent keeps it as it is)"
                ))),
                other => Ok(other),
            }
        };
        let first_name = clean(first_name, "first name")?;
        let pseudonym = clean(pseudonym, "pseudonym")?;
        if first_name.is_none() && pseudonym.is_none() {
            return Err(Refusal::invalid(
                "rectify_viewer needs a first_name or a pseudonym",
            ));
        }
        self.known_viewer(viewer, history)?;
        let fields = match (&first_name, &pseudonym) {
            (Some(_), Some(_)) => "first name, pseudonym",
            (Some(_), None) => "first name",
            _ => "pseudonym",
        };
        self.relabel(viewer, first_name.as_deref(), pseudonym.as_deref());
        let mut d = self.emit(
            vec![Event::ViewerRectified {
                viewer_id: viewer.clone(),
                first_name,
                pseudonym,
                by: Self::actor(who),
            }],
            now,
        );
        d.audit = Self::audit(who, "rectify_viewer", &viewer.0, fields, now);
        Ok(d)
    }

    /// A viewer's corrected names in memory: kept for their next lines,
    /// and the cached lines and game entries relabelled (also for a
    /// correction another hub node committed, `follow`).
    fn relabel(&mut self, viewer: &ViewerId, first_name: Option<&str>, pseudonym: Option<&str>) {
        let correction = self.rectified.entry(viewer.clone()).or_default();
        correction.first_name = first_name
            .map(str::to_owned)
            .or(correction.first_name.take());
        correction.pseudonym = pseudonym.map(str::to_owned).or(correction.pseudonym.take());
        crate::protocol::relabel_all(
            self.messages.values_mut().filter_map(|e| match e {
                ChatEntry::Message(m) => Some(m),
                ChatEntry::Redacted(_) => None,
            }),
            viewer,
            first_name,
            pseudonym,
        );
        self.games.rename(viewer, first_name, pseudonym);
    }

    /// Who a new line is by: the sender, under any name support corrected.
    fn author_of(&self, who: &Principal) -> Author {
        match who {
            Principal::Viewer(v) => {
                let (first_name, pseudonym) = self.names_of(v);
                Author::Viewer {
                    viewer_id: v.id.clone(),
                    first_name,
                    pseudonym,
                }
            }
            Principal::Staff { .. } => who.author(),
        }
    }

    /// A viewer's first name and pseudonym, as support corrected them.
    fn names_of(&self, v: &ViewerProfile) -> (String, String) {
        names_of(&self.rectified, v)
    }

    // ── shared steps ────────────────────────────────────────────────────

    /// Sanitise, then refuse empty and over-long text. Length is counted
    /// after sanitising, on what people would actually see.
    fn clean_text(&self, raw: &str) -> Result<String, Refusal> {
        let clean = sanitize(raw);
        let text = clean.trim();
        if text.is_empty() {
            return Err(Refusal::new(
                ErrorCode::EmptyMessage,
                "the message is empty",
            ));
        }
        let max = self.settings.max_message_graphemes;
        let n = grapheme_count(text);
        if n > max {
            return Err(Refusal::new(
                ErrorCode::MessageTooLong,
                format!("the message has {n} characters; the limit is {max}"),
            ));
        }
        Ok(text.to_owned())
    }

    fn entry(
        &mut self,
        id: MessageId,
        history: &mut dyn History,
    ) -> Result<Option<ChatEntry>, Refusal> {
        if let Some(e) = self.messages.get(&id) {
            return Ok(Some(e.clone()));
        }
        let found = history.message(id).map_err(|e| store_refusal(&e))?;
        if let Some(e) = &found {
            self.messages.insert(id, e.clone());
        }
        Ok(found)
    }

    /// A message that exists and was not redacted.
    fn live_message(
        &mut self,
        id: MessageId,
        history: &mut dyn History,
    ) -> Result<ChatMessage, Refusal> {
        match self.entry(id, history)? {
            Some(ChatEntry::Message(m)) => Ok(m),
            Some(ChatEntry::Redacted(_)) => {
                Err(Refusal::not_found(format!("message {id} was redacted")))
            }
            None => Err(Refusal::not_found(format!("no message {id}"))),
        }
    }

    fn known_viewer(&mut self, id: &ViewerId, history: &mut dyn History) -> Result<(), Refusal> {
        if self.sanctions.contains_key(id)
            || history.viewer_known(id).map_err(|e| store_refusal(&e))?
        {
            Ok(())
        } else {
            Err(Refusal::not_found(format!("no viewer {id} in this live")))
        }
    }

    fn new_message(
        &mut self,
        who: &Principal,
        text: String,
        question: bool,
        reply_to: Option<ReplyTo>,
        visibility: Visibility,
        now: Millis,
    ) -> ChatMessage {
        self.last_message_id += 1;
        let message = ChatMessage {
            id: MessageId(self.last_message_id),
            at: now,
            author: self.author_of(who),
            text,
            question,
            answered: false,
            reply_to,
            also_to: Vec::new(),
            visibility,
            product: if question { self.showing_id() } else { None },
            announcement: false,
        };
        if question {
            self.open_questions.insert(message.id);
        }
        self.remember_recent(ChatEntry::Message(message.clone()));
        message
    }

    fn remember_recent(&mut self, entry: ChatEntry) {
        let id = entry.id();
        self.messages.insert(id, entry);
        self.recent.push_back(id);
        while self.recent.len() > self.bounds.recent {
            self.recent.pop_front();
        }
    }

    fn next_frame(&mut self, event: Event, now: Millis) -> EventFrame {
        self.head += 1;
        EventFrame {
            epoch: self.epoch.clone(),
            seq: self.head,
            at: now,
            event,
        }
    }

    fn emit(&mut self, events: Vec<Event>, now: Millis) -> Decision {
        let frames: Vec<EventFrame> = events
            .into_iter()
            .map(|e| self.next_frame(e, now))
            .collect();
        let seq = frames.first().map(|f| f.seq);
        Decision {
            events: frames,
            ..Decision::reply(Reply::Ack { seq })
        }
    }

    fn actor(who: &Principal) -> Actor {
        who.actor()
            .expect("only staff reach staff commands: the permission table is checked first")
    }

    /// Staff actions are audited; viewers' own posts are not staff actions.
    fn audit(
        who: &Principal,
        action: &str,
        target: &str,
        reason: &str,
        now: Millis,
    ) -> Option<AuditEntry> {
        let Principal::Staff { role, name } = who else {
            return None;
        };
        Some(AuditEntry {
            actor_name: name.clone(),
            actor_role: *role,
            action: action.to_owned(),
            target: target.to_owned(),
            reason: reason.to_owned(),
            at: now,
        })
    }
}

fn clean_reason(reason: &str) -> String {
    sanitize_name(reason, MAX_REASON_GRAPHEMES)
}

/// [`clean_reason`] for an action that must say why, because the reason
/// is its only trace in the audit log: blank is refused, naming `what`.
fn required_reason(reason: &str, what: &str) -> Result<String, Refusal> {
    let reason = clean_reason(reason);
    if reason.is_empty() {
        return Err(Refusal::invalid(format!(
            "{what} needs a reason (it goes in the audit log)"
        )));
    }
    Ok(reason)
}

fn store_refusal(e: &StoreError) -> Refusal {
    tracing::warn!(error = %e, "store read failed while deciding a command");
    Refusal::new(
        ErrorCode::Internal,
        "the hub could not read its store; try again",
    )
}

/// The names `v` posts under: support's corrections (Art. 16) over the
/// viewer's own.
fn names_of(rectified: &HashMap<ViewerId, NameCorrection>, v: &ViewerProfile) -> (String, String) {
    let c = rectified.get(&v.id);
    (
        c.and_then(|c| c.first_name.clone())
            .unwrap_or_else(|| v.first_name.clone()),
        c.and_then(|c| c.pseudonym.clone())
            .unwrap_or_else(|| v.pseudonym.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ConsentChannel, ConsentPurpose, HoldReason};
    use crate::testing::{MapHistory, T0, World, fresh_session, only_event, refusal, staff};

    fn bounds() -> SessionBounds {
        SessionBounds {
            recent: 5,
            open_questions_in_snapshot: 10,
            message_cache: 8,
        }
    }

    fn world_with(settings: Settings) -> World {
        let mut history = MapHistory::default();
        history.viewers.insert(ViewerId("v-julie".into()));
        history.viewers.insert(ViewerId("v-marc".into()));
        World {
            session: fresh_session("e1", settings, &["idiot"], bounds()),
            history,
            now: T0,
        }
    }

    fn world() -> World {
        world_with(Settings {
            viewer_burst: 100,
            viewer_rate_per_sec: 100,
            ..Settings::default()
        })
    }

    fn julie() -> Principal {
        crate::testing::viewer("v-julie", "Julie", "#3fa9")
    }

    fn marc() -> Principal {
        crate::testing::viewer("v-marc", "Marc", "#77aa")
    }

    fn host() -> Principal {
        staff(StaffRole::Host)
    }
    fn moderator() -> Principal {
        staff(StaffRole::Moderator)
    }
    fn support() -> Principal {
        staff(StaffRole::Support)
    }

    fn error_code(d: &Decision) -> Option<ErrorCode> {
        refusal(d).map(|r| r.code)
    }

    fn every_staff_command(id: MessageId) -> Vec<Command> {
        let v = ViewerId("v-marc".into());
        vec![
            Command::Answer {
                message_id: id,
                text: "yes".into(),
                also: Vec::new(),
            },
            Command::Pin { message_id: id },
            Command::Unpin,
            Command::MarkAnswered { message_id: id },
            Command::ReopenQuestion { message_id: id },
            Command::Hide {
                message_id: id,
                reason: String::new(),
            },
            Command::Release { message_id: id },
            Command::Timeout {
                viewer_id: v.clone(),
                seconds: 60,
                reason: String::new(),
            },
            Command::Ban {
                viewer_id: v.clone(),
                reason: String::new(),
            },
            Command::Redact {
                message_id: id,
                reason: "request".into(),
            },
            Command::ViewerCard { viewer_id: v },
        ]
    }

    #[test]
    fn a_viewer_message_is_numbered_sanitised_and_acked() {
        let mut w = world();
        let d = w.say(&julie(), "Elle existe en 38 ?\u{1b}[31m \u{202e}", false);
        assert_eq!(d.reply, Reply::Ack { seq: Some(1) });
        assert_eq!(d.events[0].seq, 1);
        assert_eq!(d.events[0].epoch, Epoch("e1".into()));
        let Event::Message { message } = only_event(&d) else {
            panic!()
        };
        assert_eq!(message.id, MessageId(1));
        assert_eq!(message.text, "Elle existe en 38 ?");
        assert_eq!(message.visibility, Visibility::Visible);
        assert_eq!(message.author.display_name(), "Julie");
        assert!(d.audit.is_none(), "viewer posts are not staff actions");
        let d2 = w.say(&marc(), "Et en 40 ?", false);
        assert_eq!(d2.events[0].seq, 2);
        assert_eq!(w.session.head(), 2);
    }

    #[test]
    fn empty_and_overlong_messages_are_refused_without_effect() {
        let mut w = world();
        assert_eq!(
            error_code(&w.say(&julie(), "   \u{200b}\u{1b}[2J ", false)),
            Some(ErrorCode::EmptyMessage)
        );
        let long = "é".repeat(MAX_MESSAGE + 1);
        assert_eq!(
            error_code(&w.say(&julie(), &long, false)),
            Some(ErrorCode::MessageTooLong)
        );
        // 500 emoji are 500 characters to a person, whatever their bytes.
        let d = w.say(&julie(), &"👩‍👩‍👧".repeat(MAX_MESSAGE), false);
        assert_eq!(d.reply, Reply::Ack { seq: Some(1) });
        assert_eq!(w.session.head(), 1);
    }

    const MAX_MESSAGE: usize = crate::protocol::MAX_MESSAGE_GRAPHEMES;

    #[test]
    fn personal_data_is_masked_and_held_for_staff_only() {
        let mut w = world();
        let d = w.say(&julie(), "mon 06 12 34 56 78, écrivez-moi", false);
        let Event::Message { message } = &d.events[0].event else {
            panic!()
        };
        assert_eq!(
            message.visibility,
            Visibility::Held {
                reason: HoldReason::PersonalData,
                rule_id: None,
            }
        );
        assert!(!message.text.contains("12 34 56"), "{}", message.text);
        assert!(&d.events[0].event.for_role(Role::Viewer).is_none());
        let staff_view = w.session.snapshot_for(Role::Staff(StaffRole::Moderator));
        assert_eq!(staff_view.recent.len(), 1);
        assert!(w.session.snapshot_for(Role::Viewer).recent.is_empty());
    }

    #[test]
    fn blocked_terms_are_held() {
        let mut w = world();
        let d = w.say(&marc(), "quel idiot", false);
        let Event::Message { message } = &d.events[0].event else {
            panic!()
        };
        assert!(
            matches!(
                message.visibility,
                Visibility::Held {
                    reason: HoldReason::BlockedTerm,
                    rule_id: Some(_),
                }
            ),
            "held by a rule, named by its id: {:?}",
            message.visibility
        );
    }

    #[test]
    fn viewers_are_rate_limited_per_viewer() {
        let mut w = world_with(Settings {
            viewer_burst: 2,
            viewer_rate_per_sec: 1,
            ..Settings::default()
        });
        assert!(error_code(&w.say(&julie(), "1", false)).is_none());
        assert!(error_code(&w.say(&julie(), "2", false)).is_none());
        let d = w.say(&julie(), "3", false);
        assert_eq!(error_code(&d), Some(ErrorCode::RateLimited));
        assert!(ErrorCode::RateLimited.is_temporary());
        assert!(d.events.is_empty());
        assert!(error_code(&w.say(&marc(), "hello", false)).is_none());
        // Staff are not rate limited.
        let admin = staff(StaffRole::Admin);
        for i in 0..10 {
            assert!(error_code(&w.say(&admin, &format!("a{i}"), false)).is_none());
        }
    }

    #[test]
    fn viewers_are_forbidden_every_staff_command() {
        let mut w = world();
        let id = w.posted(&marc(), "hello", true);
        let head = w.session.head();
        for command in every_staff_command(id) {
            let name = command.name();
            let d = w.run(&julie(), &command);
            assert_eq!(error_code(&d), Some(ErrorCode::Forbidden), "{name}");
            assert!(d.events.is_empty() && d.audit.is_none(), "{name}");
        }
        assert_eq!(w.session.head(), head);
    }

    #[test]
    fn staff_roles_are_held_to_the_table() {
        let mut w = world();
        let id = w.posted(&marc(), "hello", true);
        let d = w.run(
            &host(),
            &Command::Ban {
                viewer_id: ViewerId("v-marc".into()),
                reason: String::new(),
            },
        );
        assert_eq!(error_code(&d), Some(ErrorCode::Forbidden));
        let d = w.run(
            &moderator(),
            &Command::Redact {
                message_id: id,
                reason: "x".into(),
            },
        );
        assert_eq!(error_code(&d), Some(ErrorCode::Forbidden));
    }

    #[test]
    fn question_answer_mark_answered() {
        let mut w = world();
        let q = w.posted(&julie(), "Elle existe en 38 ?", true);
        assert_eq!(w.session.snapshot_for(Role::Viewer).open_questions.len(), 1);

        let d = w.run(
            &host(),
            &Command::Answer {
                message_id: q,
                text: "Oui, en 38 et 40".into(),
                also: Vec::new(),
            },
        );
        let Event::Message { message: answer } = only_event(&d) else {
            panic!()
        };
        assert_eq!(
            answer.reply_to,
            Some(ReplyTo {
                message_id: q,
                first_name: "Julie".into()
            })
        );
        assert!(matches!(
            &answer.author,
            Author::Staff { role: StaffRole::Host, name } if name == "host-name"
        ));
        assert_eq!(answer.visibility, Visibility::Visible);
        assert_eq!(d.audit.as_ref().map(|a| a.action.as_str()), Some("answer"));

        let d = w.run(&host(), &Command::MarkAnswered { message_id: q });
        assert!(
            matches!(only_event(&d), Event::QuestionAnswered { message_id, .. } if *message_id == q)
        );
        assert!(
            w.session
                .snapshot_for(Role::Viewer)
                .open_questions
                .is_empty()
        );
        let again = w.run(&host(), &Command::MarkAnswered { message_id: q });
        assert_eq!(again.reply, Reply::Ack { seq: None });
        assert!(again.events.is_empty());

        let not_q = w.posted(&marc(), "super", false);
        let d = w.run(&host(), &Command::MarkAnswered { message_id: not_q });
        assert_eq!(error_code(&d), Some(ErrorCode::Invalid));
        let d = w.run(
            &host(),
            &Command::Answer {
                message_id: MessageId(999),
                text: "?".into(),
                also: Vec::new(),
            },
        );
        assert_eq!(error_code(&d), Some(ErrorCode::NotFound));
    }

    #[test]
    fn a_reopened_question_is_open_again_in_its_place() {
        let mut w = world();
        let first = w.posted(&julie(), "Elle existe en 38 ?", true);
        let second = w.posted(&marc(), "Livraison en Belgique ?", true);
        let open_ids = |w: &World| -> Vec<MessageId> {
            w.session
                .snapshot_for(Role::Staff(StaffRole::Host))
                .open_questions
                .iter()
                .map(|m| m.id)
                .collect()
        };
        w.run(&host(), &Command::MarkAnswered { message_id: first });
        assert_eq!(open_ids(&w), [second]);

        let d = w.run(&host(), &Command::ReopenQuestion { message_id: first });
        assert!(matches!(
            only_event(&d),
            Event::QuestionReopened { message_id, by } if *message_id == first
                && by.name.as_deref() == Some("host-name")
        ));
        assert_eq!(
            d.audit
                .as_ref()
                .map(|a| (a.action.as_str(), a.target.as_str())),
            Some(("reopen_question", first.to_string().as_str()))
        );
        // Back in its place by id, not at the end of the queue.
        assert_eq!(open_ids(&w), [first, second]);
        assert!(
            w.session
                .snapshot_for(Role::Staff(StaffRole::Host))
                .open_questions
                .iter()
                .all(|m| !m.answered)
        );

        // Reopening an open question changes nothing, like a second mark.
        let again = w.run(&host(), &Command::ReopenQuestion { message_id: first });
        assert_eq!(again.reply, Reply::Ack { seq: None });
        assert!(again.events.is_empty());
        let chat = w.posted(&marc(), "super", false);
        let d = w.run(&host(), &Command::ReopenQuestion { message_id: chat });
        assert_eq!(error_code(&d), Some(ErrorCode::Invalid));
        let d = w.run(&moderator(), &Command::ReopenQuestion { message_id: first });
        assert_eq!(error_code(&d), Some(ErrorCode::Forbidden));
    }

    #[test]
    fn pin_only_visible_messages_and_unpin() {
        let mut w = world();
        let m = w.posted(&julie(), "joli", false);
        let held = w.posted(&marc(), "idiot", false);
        let d = w.run(&host(), &Command::Pin { message_id: held });
        assert_eq!(error_code(&d), Some(ErrorCode::Invalid));

        let d = w.run(&host(), &Command::Pin { message_id: m });
        assert!(matches!(only_event(&d), Event::Pinned { message_id, .. } if *message_id == m));
        assert_eq!(
            w.session.snapshot_for(Role::Viewer).pinned.map(|p| p.id),
            Some(m)
        );
        let again = w.run(&moderator(), &Command::Pin { message_id: m });
        assert!(again.events.is_empty());
        assert_eq!(again.reply, Reply::Ack { seq: None });

        let d = w.run(&host(), &Command::Unpin);
        assert!(matches!(only_event(&d), Event::Unpinned { message_id, .. } if *message_id == m));
        assert!(w.session.snapshot_for(Role::Viewer).pinned.is_none());
        let again = w.run(&host(), &Command::Unpin);
        assert!(again.events.is_empty());
    }

    #[test]
    fn redaction_leaves_only_a_tombstone_and_unpins() {
        let mut w = world();
        let m = w.posted(&julie(), "secret-marker-7731", true);
        w.run(&host(), &Command::Pin { message_id: m });
        let d = w.run(
            &support(),
            &Command::Redact {
                message_id: m,
                reason: "viewer request".into(),
            },
        );
        assert_eq!(d.events.len(), 2);
        let Event::Redacted { tombstone } = &d.events[0].event else {
            panic!("{:?}", d.events)
        };
        assert_eq!(tombstone.message_id, m);
        assert_eq!(tombstone.author_id, Some(ViewerId("v-julie".into())));
        assert_eq!(tombstone.reason, "viewer request");
        assert!(matches!(d.events[1].event, Event::Unpinned { .. }));
        assert_eq!(
            d.reply,
            Reply::Ack {
                seq: Some(d.events[0].seq)
            }
        );
        let audit = d.audit.as_ref().expect("redaction is audited");
        assert_eq!(
            (audit.action.as_str(), audit.target.as_str()),
            ("redact", "#1")
        );

        for role in [Role::Viewer, Role::Staff(StaffRole::Support)] {
            let snap = w.session.snapshot_for(role);
            let json = serde_json::to_string(&snap).unwrap();
            assert!(!json.contains("secret-marker-7731"), "{json}");
            assert!(snap.pinned.is_none() && snap.open_questions.is_empty());
            assert!(matches!(snap.recent[..], [ChatEntry::Redacted(_)]));
        }
        let events = serde_json::to_string(&d.events).unwrap();
        assert!(!events.contains("secret-marker-7731"));
        let ChatEntry::Redacted(t) = &w.session.snapshot_for(Role::Viewer).recent[0] else {
            panic!()
        };
        assert_eq!(t.by.name, None, "viewers do not learn staff names");

        let twice = w.run(
            &support(),
            &Command::Redact {
                message_id: m,
                reason: "again".into(),
            },
        );
        assert_eq!(twice.reply, Reply::Ack { seq: None });
        assert!(twice.events.is_empty() && twice.audit.is_none());
        let pin = w.run(&host(), &Command::Pin { message_id: m });
        assert_eq!(error_code(&pin), Some(ErrorCode::NotFound));
        let no_reason = w.run(
            &support(),
            &Command::Redact {
                message_id: m,
                reason: " \u{1b} ".into(),
            },
        );
        assert_eq!(error_code(&no_reason), Some(ErrorCode::Invalid));
    }

    #[test]
    fn hide_unpins_and_release_shows() {
        let mut w = world();
        let m = w.posted(&julie(), "joli", false);
        w.run(&moderator(), &Command::Pin { message_id: m });
        let d = w.run(
            &moderator(),
            &Command::Hide {
                message_id: m,
                reason: "off topic".into(),
            },
        );
        assert!(matches!(d.events[0].event, Event::Hidden { .. }));
        assert!(matches!(d.events[1].event, Event::Unpinned { .. }));
        let viewer = w.session.snapshot_for(Role::Viewer);
        assert!(viewer.recent.is_empty() && viewer.pinned.is_none());

        let held = w.posted(&marc(), "idiot", false);
        let d = w.run(&moderator(), &Command::Release { message_id: held });
        let Event::Released { message, .. } = &d.events[0].event else {
            panic!()
        };
        assert_eq!(message.visibility, Visibility::Visible);
        assert!(&d.events[0].event.for_role(Role::Viewer).is_some());
        assert_eq!(w.session.snapshot_for(Role::Viewer).recent.len(), 1);
        let again = w.run(&moderator(), &Command::Release { message_id: held });
        assert!(again.events.is_empty());
    }

    #[test]
    fn timeouts_and_bans() {
        let mut w = world();
        let marc_id = ViewerId("v-marc".into());
        let d = w.run(
            &moderator(),
            &Command::Timeout {
                viewer_id: marc_id.clone(),
                seconds: 60,
                reason: "spam".into(),
            },
        );
        assert!(
            matches!(only_event(&d), Event::ViewerTimedOut { until, .. } if *until == w.now + 60_000)
        );
        assert!(only_event(&d).for_role(Role::Viewer).is_none());
        assert_eq!(
            error_code(&w.say(&marc(), "hi", false)),
            Some(ErrorCode::TimedOut)
        );
        assert!(ErrorCode::TimedOut.is_temporary());
        w.now += 61_000;
        assert!(error_code(&w.say(&marc(), "sorry", false)).is_none());

        let d = w.run(
            &moderator(),
            &Command::Ban {
                viewer_id: marc_id.clone(),
                reason: "abuse".into(),
            },
        );
        assert_eq!(d.banned.as_ref(), Some(&marc_id));
        assert_eq!(
            error_code(&w.say(&marc(), "hi", false)),
            Some(ErrorCode::Banned)
        );
        assert!(w.session.is_banned(&marc_id));
        let again = w.run(
            &moderator(),
            &Command::Ban {
                viewer_id: marc_id,
                reason: String::new(),
            },
        );
        assert!(again.events.is_empty() && again.banned.is_none());

        let unknown = w.run(
            &moderator(),
            &Command::Timeout {
                viewer_id: ViewerId("v-nobody".into()),
                seconds: 60,
                reason: String::new(),
            },
        );
        assert_eq!(error_code(&unknown), Some(ErrorCode::NotFound));
        let zero = w.run(
            &moderator(),
            &Command::Timeout {
                viewer_id: ViewerId("v-julie".into()),
                seconds: 0,
                reason: String::new(),
            },
        );
        assert_eq!(error_code(&zero), Some(ErrorCode::Invalid));
    }

    #[test]
    fn sanctions_noted_at_join_apply() {
        let mut w = world();
        w.session
            .note_sanctions(&ViewerId("v-julie".into()), false, Some(w.now + 5_000));
        assert_eq!(
            error_code(&w.say(&julie(), "hi", false)),
            Some(ErrorCode::TimedOut)
        );
        w.session
            .note_sanctions(&ViewerId("v-marc".into()), true, None);
        assert!(w.session.is_banned(&ViewerId("v-marc".into())));
    }

    #[test]
    fn consent_is_recorded_without_an_event() {
        let mut w = world();
        let hash = "ab".repeat(32);
        let d = w.run(
            &julie(),
            &Command::Consent {
                purpose: ConsentPurpose::PrizeContact,
                granted: true,
                channel: ConsentChannel::Player,
                text_sha256: hash.clone(),
                contact: Contact::default(),
            },
        );
        assert_eq!(d.reply, Reply::Ack { seq: None });
        assert!(d.events.is_empty());
        assert_eq!(
            d.consent.as_ref().map(|c| c.text_sha256.as_str()),
            Some(hash.as_str())
        );
        let bad = w.run(
            &julie(),
            &Command::Consent {
                purpose: ConsentPurpose::Marketing,
                granted: true,
                channel: ConsentChannel::Player,
                text_sha256: "nope".into(),
                contact: Contact::default(),
            },
        );
        assert_eq!(error_code(&bad), Some(ErrorCode::Invalid));
    }

    #[test]
    fn consent_takes_only_the_contact_data_its_purpose_is_for() {
        let mut w = world();
        let consent = |purpose, granted, phone: &str| Command::Consent {
            purpose,
            granted,
            channel: ConsentChannel::Player,
            text_sha256: "ab".repeat(32),
            contact: Contact {
                phone: Some(phone.into()),
                email: None,
            },
        };
        let d = w.run(
            &julie(),
            &consent(ConsentPurpose::PrizeContact, true, " 06 12 34 56 78 "),
        );
        assert_eq!(d.reply, Reply::Ack { seq: None });
        assert_eq!(d.consent_contact.phone.as_deref(), Some("06 12 34 56 78"));
        let marketing = w.run(
            &julie(),
            &consent(ConsentPurpose::Marketing, true, "06 12 34 56 78"),
        );
        assert_eq!(error_code(&marketing), Some(ErrorCode::Invalid));
        let withdrawal = w.run(
            &julie(),
            &consent(ConsentPurpose::PrizeContact, false, "06 12 34 56 78"),
        );
        assert_eq!(error_code(&withdrawal), Some(ErrorCode::Invalid));
        let emptied = w.run(&julie(), &consent(ConsentPurpose::PrizeContact, false, ""));
        assert_eq!(emptied.reply, Reply::Ack { seq: None });
        let not_a_phone = w.run(
            &julie(),
            &consent(ConsentPurpose::PrizeContact, true, "call me"),
        );
        assert_eq!(error_code(&not_a_phone), Some(ErrorCode::Invalid));
    }

    #[test]
    fn viewer_cards_carry_contact_for_support_only() {
        let mut w = world();
        let v = ViewerId("v-julie".into());
        let card = |w: &mut World, who: Principal| {
            w.run(
                &who,
                &Command::ViewerCard {
                    viewer_id: v.clone(),
                },
            )
            .reply
        };
        assert_eq!(
            card(&mut w, support()),
            Reply::ViewerCard {
                viewer_id: v.clone(),
                with_contact: true
            }
        );
        assert_eq!(
            card(&mut w, moderator()),
            Reply::ViewerCard {
                viewer_id: v.clone(),
                with_contact: false
            }
        );
    }

    #[test]
    fn old_messages_are_read_from_history() {
        let mut w = world();
        let old = ChatMessage {
            id: MessageId(3),
            at: T0 - 1_000,
            author: Author::Viewer {
                viewer_id: ViewerId("v-julie".into()),
                first_name: "Julie".into(),
                pseudonym: "#3fa9".into(),
            },
            text: "ancienne question".into(),
            question: true,
            answered: false,
            reply_to: None,
            also_to: Vec::new(),
            visibility: Visibility::Visible,
            product: None,
            announcement: false,
        };
        w.history
            .messages
            .insert(MessageId(3), ChatEntry::Message(old));
        let d = w.run(
            &host(),
            &Command::Pin {
                message_id: MessageId(3),
            },
        );
        assert!(matches!(only_event(&d), Event::Pinned { .. }));
        assert_eq!(w.history.reads, 1);
        // Cached from now on: a second command does not read again.
        w.run(
            &host(),
            &Command::MarkAnswered {
                message_id: MessageId(3),
            },
        );
        assert_eq!(w.history.reads, 1);
    }

    #[test]
    fn restore_continues_numbering_and_state() {
        let pinned = ChatMessage {
            id: MessageId(40),
            at: T0,
            author: Author::Staff {
                name: "Sophie".into(),
                role: StaffRole::Host,
            },
            text: "Code promo LIVE10".into(),
            question: false,
            answered: false,
            also_to: Vec::new(),
            reply_to: None,
            visibility: Visibility::Visible,
            product: None,
            announcement: false,
        };
        let stored = StoredSnapshot {
            pinned: Some(pinned.clone()),
            open_questions: vec![],
            recent: vec![ChatEntry::Message(pinned)],
        };
        let head = LiveHead {
            epoch: Epoch("e9".into()),
            head: 120,
            last_message_id: 41,
        };
        let mut w = world();
        w.session = Session::restore(
            &head,
            stored,
            Settings::default(),
            Moderation::new(&[]),
            bounds(),
        );
        let d = w.say(&julie(), "re", false);
        assert_eq!(d.events[0].seq, 121);
        assert_eq!(d.events[0].epoch, Epoch("e9".into()));
        let Event::Message { message } = only_event(&d) else {
            panic!()
        };
        assert_eq!(message.id, MessageId(42));
        assert_eq!(
            w.session.snapshot_for(Role::Viewer).pinned.map(|m| m.id),
            Some(MessageId(40))
        );
    }

    #[test]
    fn trim_keeps_what_snapshots_need() {
        let mut w = world();
        let q = w.posted(&julie(), "question ?", true);
        let pinned = w.posted(&julie(), "pin me", false);
        w.run(&host(), &Command::Pin { message_id: pinned });
        for i in 0..20 {
            w.posted(&marc(), &format!("m{i}"), false);
        }
        w.session.trim(w.now);
        assert!(w.session.messages.len() <= bounds().message_cache);
        assert!(w.session.messages.contains_key(&q));
        assert!(w.session.messages.contains_key(&pinned));
        let snap = w.session.snapshot_for(Role::Viewer);
        assert_eq!(snap.recent.len(), bounds().recent);
        assert_eq!(snap.open_questions.len(), 1);
        assert_eq!(snap.pinned.map(|p| p.id), Some(pinned));
    }

    #[test]
    fn viewers_online_only_when_changed() {
        let mut w = world();
        assert!(w.session.viewers_online(0, T0).is_none());
        let e = w.session.viewers_online(3, T0).unwrap();
        assert_eq!(e.event, Event::ViewersOnline { count: 3 });
        assert!(w.session.viewers_online(3, T0).is_none());
        assert_eq!(w.session.snapshot_for(Role::Viewer).viewers_online, 3);
    }
}
