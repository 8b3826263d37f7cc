//! The console's state and its one transition function, [`update`].
//!
//! Everything that happens — a key, a pasted string, a frame from the hub, a
//! change of connection, the clock — is a [`Msg`]. `update` changes the
//! state and returns the [`Effect`]s to carry out (send a command, quit).
//! No I/O here, so every behaviour is tested by feeding messages.

use std::collections::{BTreeSet, HashMap, VecDeque};

use crossterm::event::KeyEvent;

use crate::protocol::{
    Actor, Author, ChatEntry, ChatMessage, Command, CommandFrame, CommandId, DrawResult, Epoch,
    ErrorFrame, Event, EventFrame, LiftedSanction, MessageId, Millis, Role, Sanction, Seq,
    ServerFrame, Settings, Snapshot, StaffAction, StaffRole, Tombstone, ViewerId, Visibility,
    Welcome,
};

use super::activity::{ActivityText, Mention};
use super::feed::{DEFAULT_SCROLLBACK, Feed, Pos};
use super::filter::Filter;
use super::games::{Games, InstantWinForm, PollForm, RedrawForm};
use super::input::{Edit, History, LineEditor};
use super::keymap::{Action, Keymap};
use super::permissions;
use super::popups::confirm::REDACT_REASON;
use super::popups::sanction::{Choice, DEFAULT_SANCTION_REASONS, first_reason};
pub use super::popups::{CardView, Confirm, Outcome, Popup, Prompt, PromptKind, Target};
use super::popups::{Context, GamesList, Help, LogEntry, MessageLog};
use super::rights::{ExportSaved, Rights, SaveExport};
use super::sanctioned::Sanctioned;
use crate::questions::{GroupId, QuestionGroups};

mod claims;
mod flags;
mod hold;
mod lives;
pub mod pause;
mod rights_requests;
mod rules;
mod search;
pub mod showcase;
pub mod staff_log;
pub mod staff_post;

/// How long a note stays in the status line.
const NOTE_MILLIS: Millis = 8_000;
/// Answered questions kept in the Questions pane (struck through) beyond
/// the open ones. Open questions and held messages are never dropped: the
/// hub sends its whole working set, so the queues and their counts are
/// exact, and they are as big as the hub's working set, no bigger.
const MAX_ANSWERED_QUESTIONS: usize = 500;
/// Staff activity lines kept: a long show must not grow memory.
const MAX_ACTIVITY: usize = 500;
/// How many status messages the log popup keeps.
const MAX_LOG: usize = 50;
/// Width of one sparkline bucket, and how many are kept.
pub const RATE_BUCKET_MILLIS: Millis = 5_000;
pub const RATE_BUCKETS: usize = 24;

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Frame(ServerFrame),
    Connection(ConnStatus),
    /// The clock, in Unix milliseconds. Sent on every render tick.
    Tick(Millis),
    /// The terminal's new size, in cells (also sent once at start).
    Resize {
        width: u16,
        height: u16,
    },
    /// The edge wrote a viewer's export (or could not).
    ExportSaved(ExportSaved),
}

/// What `update` asks the edges to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(CommandFrame),
    Quit,
    /// Write a viewer's export to a new private file ([`super::rights::save`]),
    /// then hand back [`Msg::ExportSaved`].
    SaveExport(SaveExport),
    /// Reconnect to the hub with a `hello` naming this live (the Lives
    /// popup); the new live's welcome replaces what the console held.
    SwitchLive(String),
    /// Ring the bell and/or send a desktop notification
    /// ([`super::notify::escape`] gives the bytes).
    Notify(super::notify::Notification),
}

/// The connection as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnStatus {
    Connecting,
    Connected,
    Reconnecting { attempt: u32, next_try_at: Millis },
    Offline { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Feed,
    Questions,
    Hold,
    Activity,
}

impl Pane {
    pub fn title(self) -> &'static str {
        match self {
            Pane::Feed => "Chat",
            Pane::Questions => "Questions",
            Pane::Hold => "Hold queue",
            Pane::Activity => "Staff activity",
        }
    }
}

/// Where the feed is scrolled. While following, the newest line is at the
/// bottom and nothing is selected.
#[derive(Debug, Clone, Default)]
pub struct FeedScroll {
    pub follow: bool,
    pub selected: Option<Pos>,
    /// Where `update` anchored the bottom of the view when not following
    /// (a jump, a filter). Where the view then settled, given the
    /// selection and the pane's height, is the view's own state
    /// (`view::FeedView`), not written back here.
    pub bottom: Option<Pos>,
}

/// The reply being typed in the input line, bound to one message (or,
/// for a question group, to its first question and `also` the others).
#[derive(Debug, Clone)]
pub struct Compose {
    pub target: MessageId,
    /// Whom the line says it answers: a first name, or "Léa, Sophie +3".
    pub first_name: String,
    /// The group's other questions, answered by the same reply.
    pub also: Vec<MessageId>,
    pub editor: LineEditor,
}

/// One row of the Questions pane: a group (its oldest question, which
/// stands for it) or, under an expanded group, one of its other members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuestionRow {
    pub id: MessageId,
    pub group: GroupId,
    /// Questions in the group.
    pub size: usize,
    /// A member row under an expanded group (not the group's own row).
    pub member: bool,
}

/// A command sent and not yet answered. Commands typed while the hub is
/// unreachable wait here, visibly, and the network task sends them (same
/// id, so the hub applies each once) when the connection is back.
#[derive(Debug, Clone)]
pub struct Pending {
    pub summary: String,
    pub at: Millis,
    pub sent_offline: bool,
    /// The action that undoes this one, named in its confirmation.
    pub undo: Option<Action>,
    /// Commands to send once the hub accepted this one (reply, then mark
    /// answered: one per question of a group), dropped if it refuses: no
    /// question is closed by a reply that never went out.
    pub then: Vec<FollowUp>,
}

/// The second half of a two-step action, sent on the first one's ack.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub command: Command,
    pub summary: String,
    pub undo: Option<Action>,
}

#[derive(Debug, Clone)]
pub struct Note {
    pub text: String,
    pub error: bool,
    pub at: Millis,
}

/// One line of staff activity. Never the content of a message.
#[derive(Debug, Clone)]
pub struct ActivityEntry {
    pub at: Millis,
    pub actor: Option<Actor>,
    pub what: String,
    /// Where `what` names viewers, so a rectification relabels it.
    pub about: Vec<Mention>,
}

/// The pinned message ("now on screen").
#[derive(Debug, Clone)]
pub struct Pinned {
    pub message_id: MessageId,
    /// Absent when the message is older than anything this console holds.
    pub message: Option<ChatMessage>,
    pub by: Option<Actor>,
}

/// Messages per 5-second bucket, for the status bar's sparkline.
#[derive(Debug, Clone, Default)]
pub struct RateMeter {
    buckets: VecDeque<(i64, u64)>,
}

impl RateMeter {
    pub fn record(&mut self, now: Millis) {
        let b = now.div_euclid(RATE_BUCKET_MILLIS);
        match self.buckets.back_mut() {
            Some((last, n)) if *last == b => *n += 1,
            _ => {
                self.buckets.push_back((b, 1));
                while self.buckets.len() > RATE_BUCKETS {
                    self.buckets.pop_front();
                }
            }
        }
    }

    /// Per-minute rates of the last [`RATE_BUCKETS`] buckets, oldest first;
    /// empty buckets count as zero.
    pub fn series(&self, now: Millis) -> Vec<u64> {
        let current = now.div_euclid(RATE_BUCKET_MILLIS);
        let per_minute = (60_000 / RATE_BUCKET_MILLIS) as u64;
        // A few dozen buckets: the conversion cannot fail.
        let count = i64::try_from(RATE_BUCKETS).unwrap_or(i64::MAX);
        (0..count)
            .rev()
            .map(|back| {
                let b = current - back;
                self.buckets
                    .iter()
                    .find(|(k, _)| *k == b)
                    .map_or(0, |(_, n)| n * per_minute)
            })
            .collect()
    }

    /// Messages in the last minute.
    pub fn per_minute(&self, now: Millis) -> u64 {
        let current = now.div_euclid(RATE_BUCKET_MILLIS);
        let span = 60_000 / RATE_BUCKET_MILLIS;
        self.buckets
            .iter()
            .filter(|(k, _)| *k > current - span && *k <= current)
            .map(|(_, n)| n)
            .sum()
    }
}

/// Who this console is logged in as.
#[derive(Debug, Clone)]
pub struct Session {
    pub role: StaffRole,
    pub name: String,
    pub live: String,
}

/// The whole console.
#[derive(Debug, Clone)]
pub struct Console {
    pub session: Session,
    pub keymap: Keymap,
    pub conn: ConnStatus,
    pub feed: Feed,
    pub scroll: FeedScroll,
    /// Questions, oldest first (answered ones stay, marked).
    pub questions: Vec<ChatMessage>,
    /// The same questions in groups of those that ask the same thing; the
    /// Questions pane shows one row per group.
    pub question_groups: QuestionGroups,
    /// Groups whose members the pane lists under the group's row.
    pub expanded_groups: BTreeSet<GroupId>,
    /// A question whose group `=` marked, to merge into the next `=`'s.
    pub merge_mark: Option<MessageId>,
    pub questions_newest_first: bool,
    /// The selected question, by message id: it stays on that question
    /// while others arrive or leave around it (never on a row number).
    pub question_sel: Option<MessageId>,
    /// Held messages, oldest first.
    pub held: Vec<ChatMessage>,
    /// The selected held message, by message id, like `question_sel`.
    pub held_sel: Option<MessageId>,
    /// Held messages marked (`space`) for a batch approval (`A`).
    pub hold_marks: std::collections::BTreeSet<MessageId>,
    /// The staff log behind the Staff activity pane (paging, filter).
    pub staff_log: staff_log::StaffLogView,
    /// Newest last.
    pub activity: VecDeque<ActivityEntry>,
    pub activity_scroll: usize,
    pub pinned: Option<Pinned>,
    /// This show's polls and instant wins, for the now-on-screen card.
    pub games: Games,
    /// Viewers connected, as the hub last told; `None` while disconnected
    /// and until a welcome (a count from before would be stale).
    pub viewers_online: Option<u64>,
    /// The live's SMS counts (start alert, follow-ups) as the hub last
    /// pushed them to staff; `None` until it does.
    pub sms: Option<crate::protocol::SmsProgress>,
    pub settings: Settings,
    /// What the hub's Shield preset changes (staff snapshot), for the
    /// Shield key's confirmation.
    pub shield_preset: Option<crate::protocol::ShieldPresetView>,
    pub rate: RateMeter,
    pub focus: Pane,
    pub popup: Option<Popup>,
    pub compose: Option<Compose>,
    pub history: History,
    pub pending: HashMap<CommandId, Pending>,
    pub note: Option<Note>,
    /// Every status message shown, newest last, for the log popup.
    pub log: VecDeque<LogEntry>,
    /// Viewers under a ban or a running timeout: their lines are marked,
    /// and a second ban is a no-op.
    pub sanctioned: Sanctioned,
    /// Messages a `flag` rule matched (`message_flagged`), marked in the
    /// feed; bounded like the feed, oldest dropped first.
    pub flagged: BTreeSet<MessageId>,
    /// The reasons a sanction offers: the console config's
    /// `sanction_reasons` (the brand's templates), else the defaults.
    pub sanction_reasons: Vec<String>,
    /// `regie demo`'s console: the quit dialog says the demo stops too.
    pub demo: bool,
    /// In `regie demo`: the command that attaches a second console, so the
    /// help popup can show it after the first status note is gone.
    pub attach: Option<String>,
    pub now: Millis,
    /// The last event applied: the dedupe guard and the resume point.
    pub epoch: Option<Epoch>,
    pub seq: Seq,
    /// Rows the feed pane shows, for paging; from the last [`Msg::Resize`].
    pub feed_rows: u16,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// Exports and the requests log (support, admin).
    pub rights: Rights,
    /// The live's title, lifecycle state and times (welcome, then
    /// `live_state` events); the status bar shows the state.
    pub live_info: Option<crate::protocol::LiveInfo>,
    /// The live's products, the one showing and the canned answers.
    pub showcase: super::showcase::Showcase,
    /// What arrived in each pane since it last had the focus.
    pub unread: pause::Unread,
    /// The last search typed (`/` or `F`): `n`/`N` jump between its
    /// matches once no filter is set.
    pub search: Option<Filter>,
    /// Bell and desktop notifications (the config's `[notify]`), rate-limited.
    pub notify: super::notify::Notifier,
    /// Who is answering which question or held message (`claims`).
    pub claims: std::collections::BTreeMap<MessageId, crate::protocol::Claim>,
    /// Viewer flags in force, shared by every staff console (`flags`).
    pub flags: std::collections::BTreeMap<ViewerId, crate::protocol::ViewerFlag>,
    /// A staff message or announcement being typed (`staff_post`).
    pub staff_post: Option<staff_post::StaffPost>,
    id_prefix: String,
    next_id: u64,
}

impl Console {
    /// `id_prefix` makes command ids unique across consoles sharing a token
    /// (a random word in production, fixed in tests).
    pub fn new(session: Session, keymap: Keymap, scrollback: usize, id_prefix: &str) -> Self {
        Console {
            session,
            keymap,
            conn: ConnStatus::Connecting,
            feed: Feed::new(scrollback),
            scroll: FeedScroll {
                follow: true,
                ..FeedScroll::default()
            },
            questions: Vec::new(),
            question_groups: QuestionGroups::default(),
            expanded_groups: BTreeSet::new(),
            merge_mark: None,
            questions_newest_first: false,
            question_sel: None,
            held: Vec::new(),
            held_sel: None,
            hold_marks: std::collections::BTreeSet::new(),
            staff_log: staff_log::StaffLogView::default(),
            activity: VecDeque::new(),
            activity_scroll: 0,
            pinned: None,
            games: Games::default(),
            viewers_online: None,
            sms: None,
            settings: Settings::default(),
            shield_preset: None,
            rate: RateMeter::default(),
            focus: Pane::Feed,
            popup: None,
            compose: None,
            history: History::default(),
            pending: HashMap::new(),
            note: None,
            log: VecDeque::new(),
            sanctioned: Sanctioned::default(),
            flagged: BTreeSet::new(),
            sanction_reasons: DEFAULT_SANCTION_REASONS.map(String::from).to_vec(),
            demo: false,
            attach: None,
            now: 0,
            epoch: None,
            seq: 0,
            feed_rows: 10,
            dirty: true,
            rights: Rights::default(),
            live_info: None,
            showcase: super::showcase::Showcase::default(),
            unread: pause::Unread::default(),
            search: None,
            notify: super::notify::Notifier::default(),
            claims: std::collections::BTreeMap::new(),
            flags: std::collections::BTreeMap::new(),
            staff_post: None,
            id_prefix: id_prefix.to_string(),
            next_id: 0,
        }
    }

    pub fn with_default_scrollback(session: Session) -> Self {
        Console::new(session, Keymap::default(), DEFAULT_SCROLLBACK, "c")
    }

    pub fn role(&self) -> StaffRole {
        self.session.role
    }

    /// The panes this role sees, in Tab order.
    pub fn panes(&self) -> Vec<Pane> {
        let mut panes = vec![Pane::Feed, Pane::Questions];
        if permissions::sees_hold_queue(self.role()) {
            panes.push(Pane::Hold);
        }
        panes.push(Pane::Activity);
        panes
    }

    /// The Questions pane's rows in display order: one per group, by its
    /// oldest question, and the other members of an expanded group.
    pub fn question_rows(&self) -> Vec<QuestionRow> {
        self.question_rows_iter().collect()
    }

    /// [`Console::question_rows`] without building the list: the pane
    /// draws a window of it on every frame, whatever the number of groups.
    pub fn question_rows_iter(&self) -> Box<dyn Iterator<Item = QuestionRow> + '_> {
        let groups = self.question_groups.in_order();
        if self.questions_newest_first {
            Box::new(self.rows_of(groups.rev()))
        } else {
            Box::new(self.rows_of(groups))
        }
    }

    /// How many rows the Questions pane has: one per group, and the other
    /// members of the expanded ones (no walk over the groups).
    pub fn question_row_count(&self) -> usize {
        let members = self
            .expanded_groups
            .iter()
            .map(|&g| self.question_groups.members(g).count().saturating_sub(1))
            .sum::<usize>();
        self.question_groups.len() + members
    }

    /// The rows of a few groups either side of `id`'s, in display order:
    /// enough to find a neighbour when `id` leaves, at a cost that does not
    /// grow with the number of questions (it is taken on every event).
    fn question_rows_near(&self, id: MessageId) -> Vec<QuestionRow> {
        const SPAN: usize = 16;
        let Some(&lead) = self.question_groups.members_with(id).first() else {
            return Vec::new();
        };
        let (before, after) = self.question_groups.around(lead, SPAN);
        if self.questions_newest_first {
            self.rows_of(after.into_iter().rev().chain(before))
                .collect()
        } else {
            self.rows_of(before.into_iter().rev().chain(after))
                .collect()
        }
    }

    /// Whether the Questions pane shows a row for `id`: a group's lead, or
    /// a member of an expanded group.
    fn question_shown(&self, id: MessageId) -> bool {
        self.question_groups.is_lead(id)
            || (!self.expanded_groups.is_empty()
                && self
                    .question_groups
                    .group_of(id)
                    .is_some_and(|g| self.expanded_groups.contains(&g)))
    }

    fn rows_of<'a>(
        &'a self,
        groups: impl Iterator<Item = (MessageId, GroupId, usize)> + 'a,
    ) -> impl Iterator<Item = QuestionRow> + 'a {
        // No expanded group (the usual case): no lookup per group.
        let any_open = !self.expanded_groups.is_empty();
        groups.flat_map(move |(lead, group, size)| {
            let open = any_open && size > 1 && self.expanded_groups.contains(&group);
            let members = open
                .then(|| self.question_groups.members(group).skip(1))
                .into_iter()
                .flatten()
                .map(move |id| QuestionRow {
                    id,
                    group,
                    size,
                    member: true,
                });
            std::iter::once(QuestionRow {
                id: lead,
                group,
                size,
                member: false,
            })
            .chain(members)
        })
    }

    /// A question this console holds, by id.
    pub fn question(&self, id: MessageId) -> Option<&ChatMessage> {
        self.questions
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .map(|i| &self.questions[i])
    }

    /// "Léa, Sophie +3": the first two askers of `members` by first name,
    /// and how many more questions the group holds.
    pub fn askers_label(&self, members: &[MessageId]) -> String {
        let names: Vec<&str> = members
            .iter()
            .filter_map(|id| self.question(*id))
            .map(|m| m.author.display_name())
            .take(2)
            .collect();
        let more = members.len().saturating_sub(names.len());
        let mut label = names.join(", ");
        if more > 0 {
            use std::fmt::Write;
            let _ = write!(label, " +{more}");
        }
        label
    }

    /// Questions in display order.
    pub fn questions_in_order(&self) -> Vec<&ChatMessage> {
        let mut list: Vec<&ChatMessage> = self.questions.iter().collect();
        if self.questions_newest_first {
            list.reverse();
        }
        list
    }

    pub fn open_questions(&self) -> usize {
        self.questions.iter().filter(|q| !q.answered).count()
    }

    /// The message the focused pane has selected, if any.
    pub fn target(&self) -> Option<&ChatMessage> {
        match self.focus {
            Pane::Feed => self
                .scroll
                .selected
                .and_then(|p| self.feed.at(p))
                .and_then(|e| e.message()),
            Pane::Questions => self.question_sel.and_then(|id| self.question(id)),
            Pane::Hold => self
                .held_sel
                .and_then(|id| self.held.iter().find(|m| m.id == id)),
            Pane::Activity => None,
        }
    }

    /// Where the selected question is in display order.
    pub fn question_index(&self) -> Option<usize> {
        let id = self.question_sel?;
        self.question_rows_iter().position(|r| r.id == id)
    }

    /// Where the selected held message is in the hold queue.
    pub fn held_index(&self) -> Option<usize> {
        let id = self.held_sel?;
        self.held.iter().position(|m| m.id == id)
    }

    /// The ids of a list pane in display order (empty for the others).
    fn pane_ids(&self, pane: Pane) -> Vec<MessageId> {
        match pane {
            Pane::Questions => self.question_rows_iter().map(|r| r.id).collect(),
            Pane::Hold => self.held.iter().map(|m| m.id).collect(),
            Pane::Feed | Pane::Activity => Vec::new(),
        }
    }

    fn selection(&self, pane: Pane) -> Option<MessageId> {
        match pane {
            Pane::Questions => self.question_sel,
            Pane::Hold => self.held_sel,
            Pane::Feed | Pane::Activity => None,
        }
    }

    fn set_selection(&mut self, pane: Pane, id: Option<MessageId>) {
        match pane {
            Pane::Questions => self.question_sel = id,
            Pane::Hold => self.held_sel = id,
            Pane::Feed | Pane::Activity => {}
        }
    }

    /// What the list panes looked like before a change, so that a
    /// selection whose message leaves can move to a neighbour.
    fn lists_before(&self) -> ListsBefore {
        let name = |m: &ChatMessage| m.author.display_name().to_string();
        ListsBefore {
            // Only the rows near the selection: this runs on every event.
            questions: self.question_sel.map(|id| ListBefore {
                ids: self.question_rows_near(id).iter().map(|r| r.id).collect(),
                name: self.question(id).map(name),
            }),
            held: self.held_sel.map(|id| ListBefore {
                ids: self.pane_ids(Pane::Hold),
                name: self.held.iter().find(|m| m.id == id).map(name),
            }),
        }
    }

    fn next_command_id(&mut self) -> CommandId {
        self.next_id += 1;
        CommandId(format!("{}-{}", self.id_prefix, self.next_id))
    }

    /// Builds a command frame and records it as pending until answered.
    pub(super) fn send(&mut self, command: Command, summary: String) -> Effect {
        let id = self.next_command_id();
        self.pending.insert(
            id.clone(),
            Pending {
                summary,
                at: self.now,
                sent_offline: self.conn != ConnStatus::Connected,
                undo: None,
                then: Vec::new(),
            },
        );
        Effect::Send(CommandFrame { id, command })
    }

    /// Like [`Console::send`]; the confirmation then says which key undoes it.
    fn send_undoable(&mut self, command: Command, summary: String, undo: Action) -> Effect {
        let effect = self.send(command, summary);
        if let Effect::Send(frame) = &effect
            && let Some(p) = self.pending.get_mut(&frame.id)
        {
            p.undo = Some(undo);
        }
        effect
    }

    /// "Done: hide Marc's message #7 (a shows it again)"; "Done (u reopens
    /// it): mark Julie's message #2 answered", the key first so that an
    /// 80-column status line still shows it after a long name.
    fn confirmation(&self, done: &Pending) -> String {
        let undo = done
            .undo
            .filter(|a| permissions::allows(self.role(), *a))
            .and_then(|a| Some((a, self.keymap.keys_for(a).first()?.to_string())));
        match undo {
            Some((Action::ReopenQuestion, key)) => {
                format!("Done ({key} reopens it): {}", done.summary)
            }
            Some((_, key)) => format!("Done: {} ({key} shows it again)", done.summary),
            None => format!("Done: {}", done.summary),
        }
    }

    /// Shows `text` in the status line, replacing whatever was there (an
    /// old error included), and keeps it in the log.
    pub(super) fn note(&mut self, text: impl Into<String>, error: bool) {
        let text = text.into();
        self.log.push_back(LogEntry {
            at: self.now,
            text: text.clone(),
            error,
        });
        while self.log.len() > MAX_LOG {
            self.log.pop_front();
        }
        self.note = Some(Note {
            text,
            error,
            at: self.now,
        });
    }

    /// Drops the show's state before a fresh snapshot (a `reload`).
    fn reset_show(&mut self) {
        self.feed.clear();
        self.scroll = FeedScroll {
            follow: true,
            ..FeedScroll::default()
        };
        self.questions.clear();
        self.question_groups.clear();
        self.expanded_groups.clear();
        self.merge_mark = None;
        self.question_sel = None;
        self.held.clear();
        self.sanctioned.clear();
        self.flagged.clear();
        self.claims.clear();
        self.flags.clear();
        self.held_sel = None;
        self.pinned = None;
        self.games.clear();
        self.showcase = super::showcase::Showcase::default();
        self.epoch = None;
        self.seq = 0;
    }

    fn apply_snapshot(&mut self, snapshot: Snapshot) {
        // A hub that lists held messages lists them all; an older one only
        // has those among the recent chat.
        let held_listed = !snapshot.held.is_empty();
        self.shield_preset = snapshot.shield_preset.clone();
        self.showcase.load(&snapshot);
        self.feed
            .mark_shared(snapshot.shared_names.iter().map(String::as_str));
        self.sanctioned.reset(snapshot.sanctioned);
        self.claims = snapshot
            .claims
            .into_iter()
            .map(|c| (c.message_id, c))
            .collect();
        self.flags = snapshot
            .flags
            .into_iter()
            .map(|f| (f.viewer_id.clone(), f))
            .collect();
        for m in snapshot.held {
            push_unique(&mut self.held, m);
        }
        for entry in snapshot.recent {
            if let ChatEntry::Message(m) = &entry
                && !held_listed
                && matches!(m.visibility, Visibility::Held { .. })
            {
                push_unique(&mut self.held, m.clone());
            }
            self.feed.push(entry);
        }
        for q in snapshot.open_questions {
            self.upsert_question(q);
        }
        self.pinned = snapshot.pinned.map(|m| Pinned {
            message_id: m.id,
            message: Some(m),
            by: None,
        });
        self.viewers_online = Some(snapshot.viewers_online);
        self.settings = snapshot.settings;
        self.games.load(snapshot.polls, snapshot.instant_wins);
        // The snapshot's activity is the whole recent past: it replaces
        // what this console logged before (a reconnect would repeat it).
        if !snapshot.activity.is_empty() {
            self.activity.clear();
            for action in snapshot.activity {
                let what = self.staff_action_text(&action);
                self.log_activity(action.at, action.by, what);
            }
        }
    }

    /// A staff action from the audit log as the activity pane says it,
    /// with the same words as the live events use. Targets are ids; a
    /// message or viewer this console holds is named by first name.
    fn staff_action_text(&self, action: &StaffAction) -> ActivityText {
        let target = action.target.as_str();
        let message = |verb: &str, tail: &str| {
            target.trim_start_matches('#').parse().map_or_else(
                |_| format!("{verb} {target}{tail}").into(),
                |n| self.about_message(verb, MessageId(n), tail),
            )
        };
        let viewer = |verb: &str| about_viewer(self, verb, &ViewerId(target.to_owned()), "");
        match action.action.as_str() {
            "say" => "posted in the chat".to_owned().into(),
            "answer" => message("answered", ""),
            "pin" => message("pinned", ""),
            "unpin" => message("unpinned", ""),
            "mark_answered" => message("marked", " answered"),
            "hide" => message("hid", ""),
            "release" => message("released", ""),
            "redact" => message("redacted", ""),
            "timeout" => viewer("timed out"),
            "ban" => viewer("banned"),
            "unban" => viewer("unbanned"),
            "lift_timeout" => viewer("lifted the timeout of"),
            "slow_mode" => match target.parse() {
                Ok(secs) => format!(
                    "set slow mode {}",
                    super::popups::sanction::slow_label(secs)
                ),
                Err(_) => "set slow mode".to_owned(),
            }
            .into(),
            "viewer_card" => viewer("viewed the contact data of"),
            "poll_open" => format!("launched poll #{target}").into(),
            "poll_close" => format!("closed poll #{target}").into(),
            "instant_win_open" => format!("launched instant win #{target}").into(),
            "instant_win_draw" => format!("drew instant win #{target}").into(),
            "redraw" => format!("re-drew instant win {target}").into(),
            "deny" => message("denied", ""),
            "note_add" => viewer("added a note on"),
            "flag_viewer" => viewer("flagged"),
            "unflag_viewer" => viewer("lifted the flag on"),
            other => format!("{} {target}", other.replace('_', " ")).into(),
        }
    }

    fn upsert_question(&mut self, q: ChatMessage) {
        self.question_groups.insert(q.id, &q.text, q.answered);
        match self.questions.binary_search_by_key(&q.id, |m| m.id) {
            Ok(i) => self.questions[i] = q,
            Err(i) => self.questions.insert(i, q),
        }
        self.trim_answered_questions();
    }

    /// Takes questions out of the pane and out of their groups.
    fn drop_questions(&mut self, gone: impl Fn(&ChatMessage) -> bool) {
        let groups = &mut self.question_groups;
        self.questions.retain(|m| {
            let drop = gone(m);
            if drop {
                groups.remove(m.id);
            }
            !drop
        });
    }

    /// Drops the oldest answered questions past [`MAX_ANSWERED_QUESTIONS`];
    /// an open question is never dropped.
    fn trim_answered_questions(&mut self) {
        let answered = self.questions.iter().filter(|m| m.answered).count();
        let mut excess = answered.saturating_sub(MAX_ANSWERED_QUESTIONS);
        if excess > 0 {
            let groups = &mut self.question_groups;
            self.questions.retain(|m| {
                let drop = excess > 0 && m.answered;
                excess -= usize::from(drop);
                if drop {
                    groups.remove(m.id);
                }
                !drop
            });
        }
    }

    fn find_message(&self, id: MessageId) -> Option<ChatMessage> {
        self.feed
            .message(id)
            .or_else(|| self.question(id))
            .or_else(|| self.held.iter().find(|m| m.id == id))
            .cloned()
    }

    /// "Julie's message" — a first name is fine to show staff, text never.
    fn describe(&self, id: MessageId) -> String {
        match self.find_message(id) {
            Some(m) => format!("{}'s message {}", m.author.display_name(), id),
            None => format!("message {id}"),
        }
    }

    /// "`verb` Julie's message #7`tail`", naming the author where known.
    fn about_message(&self, verb: &str, id: MessageId, tail: &str) -> ActivityText {
        let line = ActivityText::default().push(verb).push(" ");
        match self.find_message(id) {
            Some(m) => match m.author.viewer_id() {
                Some(v) => line.name(v, m.author.display_name()),
                None => line.push(m.author.display_name()),
            }
            .push(&format!("'s message {id}{tail}")),
            None => line.push(&format!("message {id}{tail}")),
        }
    }

    fn log_activity(&mut self, at: Millis, actor: Option<Actor>, what: impl Into<ActivityText>) {
        let ActivityText { what, about } = what.into();
        self.unread.bump(Pane::Activity, self.focus);
        self.activity.push_back(ActivityEntry {
            at,
            actor,
            what,
            about,
        });
        while self.activity.len() > MAX_ACTIVITY {
            self.activity.pop_front();
        }
    }

    /// Keeps every selection on a message that is there: a list pane's
    /// selection stays on its message id; when that message left the list
    /// it moves to the neighbour that followed it (else the one before)
    /// and, in the focused pane, the status line says so. An empty
    /// selection takes the first row once the list has one, unless the
    /// pane has the focus: there a key selects first, so no key acts on a
    /// row that arrived after the screen showed nothing selected.
    fn fix_selections(&mut self, before: &ListsBefore) {
        self.fix_list_selection(Pane::Questions, before.questions.as_ref());
        self.fix_list_selection(Pane::Hold, before.held.as_ref());
        if let Some(sel) = self.scroll.selected
            && self.feed.at(sel).is_none()
        {
            self.scroll.selected = self.feed.view_pos(self.feed.view_index(sel));
        }
    }
}

/// A list pane before a change: its ids in display order and the author
/// of its selected message.
#[derive(Debug, Clone)]
struct ListBefore {
    ids: Vec<MessageId>,
    name: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct ListsBefore {
    questions: Option<ListBefore>,
    held: Option<ListBefore>,
}

impl Console {
    fn fix_list_selection(&mut self, pane: Pane, before: Option<&ListBefore>) {
        // The usual case, checked without listing the rows.
        if pane == Pane::Questions && self.question_sel.is_some_and(|id| self.question_shown(id)) {
            return;
        }
        let ids = self.pane_ids(pane);
        let Some(selected) = self.selection(pane) else {
            if self.focus != pane {
                self.set_selection(pane, ids.first().copied());
            }
            return;
        };
        if ids.contains(&selected) {
            return;
        }
        // A question now inside a collapsed group: its group's row.
        if pane == Pane::Questions
            && let Some(lead) = self.question_groups.members_with(selected).first()
            && ids.contains(lead)
        {
            self.set_selection(pane, Some(*lead));
            return;
        }
        // The neighbours in the order the pane showed them: the rows below
        // first, then the rows above, nearest first.
        let neighbour = before.and_then(|b| {
            let at = b.ids.iter().position(|id| *id == selected)?;
            let below = b.ids[at + 1..].iter();
            let above = b.ids[..at].iter().rev();
            below.chain(above).find(|id| ids.contains(id)).copied()
        });
        let next = neighbour.or_else(|| ids.first().copied());
        self.set_selection(pane, next);
        if self.focus != pane {
            return;
        }
        let what = match pane {
            Pane::Questions => "question",
            _ => "held message",
        };
        let gone = match before.and_then(|b| b.name.as_deref()) {
            Some(name) => format!("{}'s {what}", super::view::text::clean_name(name)),
            None => format!("the selected {what}"),
        };
        let list = if pane == Pane::Questions {
            &self.questions
        } else {
            &self.held
        };
        let text = match next.and_then(|id| list.iter().find(|m| m.id == id)) {
            Some(m) => format!(
                "{gone} left the list; {}'s is selected now",
                super::view::text::clean_name(m.author.display_name())
            ),
            None => format!("{gone} left the list"),
        };
        self.note(text, false);
    }
}

/// Adds a message to a queue, or replaces it when already there.
fn push_unique(list: &mut Vec<ChatMessage>, m: ChatMessage) {
    if let Some(existing) = list.iter_mut().find(|x| x.id == m.id) {
        *existing = m;
        return;
    }
    list.push(m);
}

/// The one transition function.
pub fn update(state: &mut Console, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => {
            let second_changed = now / 1000 != state.now / 1000;
            state.now = now;
            if state
                .note
                .as_ref()
                .is_some_and(|n| now - n.at > NOTE_MILLIS)
            {
                state.note = None;
                state.dirty = true;
            }
            if second_changed {
                state.dirty = true;
                state.forget_stale_claims(now);
                state.forget_stale_flags(now);
            }
            Vec::new()
        }
        Msg::Connection(status) => {
            if status == ConnStatus::Connected {
                for p in state.pending.values_mut() {
                    p.sent_offline = false;
                }
            }
            if status != ConnStatus::Connected {
                state.viewers_online = None;
            }
            state.conn = status;
            state.dirty = true;
            Vec::new()
        }
        Msg::Frame(frame) => {
            state.dirty = true;
            let mut effects = on_frame(state, frame);
            effects.extend(state.notify.take().map(Effect::Notify));
            effects
        }
        Msg::Paste(text) => {
            state.dirty = true;
            if let Some(c) = state.compose.as_mut() {
                c.editor.insert(&text);
            } else if let Some(p) = state.staff_post.as_mut() {
                p.editor.insert(&text);
            } else if let Some(popup) = state.popup.as_mut() {
                popup.paste(&text);
            }
            Vec::new()
        }
        Msg::Key(key) => {
            state.dirty = true;
            let effects = on_key(state, key);
            state.unread.seen(state.focus);
            effects
        }
        Msg::Resize { width, height } => {
            state.dirty = true;
            if let Some(rows) = super::view::layout::feed_rows(width, height) {
                state.feed_rows = rows;
            }
            Vec::new()
        }
        Msg::ExportSaved(saved) => {
            state.dirty = true;
            rights_requests::on_saved(state, saved);
            Vec::new()
        }
    }
}

// ── frames from the hub ──────────────────────────────────────────────────

/// Returns the follow-up commands an ack releases (see [`FollowUp`]).
fn on_frame(state: &mut Console, frame: ServerFrame) -> Vec<Effect> {
    match frame {
        ServerFrame::Welcome(w) => {
            on_welcome(state, *w);
            return staff_log::after_welcome(state);
        }
        ServerFrame::Reload { reason } => {
            state.reset_show();
            state.note(format!("history reloaded: {reason}"), false);
        }
        ServerFrame::Event(ev) => on_event(state, ev),
        // Viewers' frames: the hub sends a console (staff) `event`s.
        ServerFrame::Events { events, .. } => {
            for ev in events {
                on_event(state, ev);
            }
        }
        ServerFrame::Ack { id, .. } => {
            if let Some(done) = state.pending.remove(&id) {
                let text = state.confirmation(&done);
                state.note(text, false);
                return done
                    .then
                    .into_iter()
                    .map(|next| match next.undo {
                        Some(undo) => state.send_undoable(next.command, next.summary, undo),
                        None => state.send(next.command, next.summary),
                    })
                    .collect();
            }
        }
        ServerFrame::Error(err) => on_error(state, &err),
        ServerFrame::ViewerCard { id, card } => {
            state.pending.remove(&id);
            if let Some(Popup::ViewerCard(view)) = state.popup.as_mut()
                && view.request == id
            {
                view.card = Some(card);
            }
        }
        ServerFrame::ViewerExport { id, export } => {
            return rights_requests::on_export(state, id, export);
        }
        ServerFrame::RightsRequests { id, requests } => {
            rights_requests::on_requests(state, &id, requests);
        }
        ServerFrame::Rules { id, rules } => rules::on_rules(state, &id, rules),
        // The editor tests sentences itself (same engine, same rules).
        ServerFrame::RuleTest { id, .. } => {
            state.pending.remove(&id);
        }
        ServerFrame::StaffLog {
            id,
            entries,
            before,
        } => staff_log::on_page(state, &id, entries, before),
        ServerFrame::HistorySearch {
            id,
            messages,
            next_before,
        } => search::on_page(state, &id, messages, next_before),
        // Shield went on; the hub lists who used the preset's terms.
        ServerFrame::ShieldReview { id, viewers, .. } => {
            if let Some(done) = state.pending.remove(&id) {
                let text = state.confirmation(&done);
                state.note(text, false);
            }
            if !viewers.is_empty() {
                state.popup = Some(Popup::ShieldReview(
                    super::popups::shield::ShieldReview::new(viewers),
                ));
            }
        }
        ServerFrame::Bye { code, message } => {
            state.note(format!("hub closing ({code}): {message}"), true);
        }
        ServerFrame::Lives { id, lives } => lives::on_lives(state, &id, lives),
        ServerFrame::Report { id, report } => lives::on_report(state, &id, *report),
        ServerFrame::SmsSegments { id, segments } => lives::on_segments(state, &id, segments),
        ServerFrame::SmsProgress { progress } => state.sms = Some(*progress),
        // The connection assembles a paged snapshot into its welcome.
        ServerFrame::SnapshotPage(_) | ServerFrame::SnapshotEnd { .. } => {}
    }
    Vec::new()
}

fn on_welcome(state: &mut Console, welcome: Welcome) {
    let before = state.lists_before();
    if let Role::Staff(role) = welcome.you.role {
        state.session.role = role;
    }
    state.session.name = welcome.you.name;
    state.session.live = welcome.live;
    if welcome.live_info.is_some() {
        state.live_info = welcome.live_info;
    }
    let epoch_changed = state.epoch.as_ref() != Some(&welcome.epoch);
    match welcome.snapshot {
        Some(snapshot) => {
            state.reset_show();
            state.apply_snapshot(snapshot);
            // What the snapshot brought is not news.
            state.unread = pause::Unread::default();
            state.seq = welcome.seq;
        }
        None if epoch_changed && state.epoch.is_some() => {
            // A resume into another history without a snapshot should not
            // happen; keep what we have rather than mix two histories.
            state.note("the hub's history changed; showing what we had", true);
        }
        None => {}
    }
    if let Some(count) = welcome.viewers_online {
        state.viewers_online = Some(count);
    }
    state.epoch = Some(welcome.epoch);
    if !state.panes().contains(&state.focus) {
        state.focus = Pane::Feed;
    }
    state.fix_selections(&before);
}

fn on_event(state: &mut Console, frame: EventFrame) {
    if state.epoch.as_ref() == Some(&frame.epoch) && frame.seq <= state.seq {
        return; // already applied: a replay overlapping the live stream
    }
    state.epoch = Some(frame.epoch);
    state.seq = frame.seq;
    let before = state.lists_before();
    let at = frame.at;
    match frame.event {
        Event::ViewersOnline { count } => state.viewers_online = Some(count),
        event @ (Event::ViewerTimedOut { .. }
        | Event::ViewerBanned { .. }
        | Event::SanctionLifted { .. }) => {
            on_sanction_event(state, at, event);
        }
        Event::ShieldChanged {
            on,
            slow_mode_secs,
            by,
        } => {
            state.settings.shield = on;
            state.settings.slow_mode_secs = slow_mode_secs;
            let what = if on {
                "applied Shield"
            } else {
                "lifted Shield"
            };
            state.log_activity(at, Some(by), what.to_owned());
        }
        Event::DeliveryChanged { policy, by } => {
            state.settings.delivery = policy;
            let what = format!(
                "set viewer delivery: a frame every {} ms, {}",
                policy.tick_ms,
                delivery_lines(policy.chat_per_sec)
            );
            state.log_activity(at, Some(by), what);
        }
        Event::SlowModeChanged { secs, by } => {
            state.settings.slow_mode_secs = secs;
            let what = format!(
                "set slow mode {}",
                super::popups::sanction::slow_label(secs)
            );
            state.log_activity(at, Some(by), what);
        }
        event @ (Event::PollOpened { .. }
        | Event::PollTally { .. }
        | Event::PollClosed { .. }
        | Event::PollCleared { .. }
        | Event::InstantWinOpened { .. }
        | Event::InstantWinEntries { .. }
        | Event::InstantWinDrawn { .. }) => on_game_event(state, at, event),
        event @ (Event::RuleAdded { .. }
        | Event::RuleRemoved { .. }
        | Event::MessageFlagged { .. }) => rules::on_rule_event(state, at, event),
        Event::LiveState { state: next } => lives::on_live_state(state, at, next),
        event @ (Event::ProductAdded { .. }
        | Event::NowShowing { .. }
        | Event::CannedAdded { .. }) => showcase::on_event(state, event),
        event @ (Event::Claimed { .. } | Event::ClaimEnded { .. }) => {
            claims::on_claim_event(state, event);
        }
        event @ (Event::ViewerFlagged { .. } | Event::ViewerUnflagged { .. }) => {
            flags::on_flag_event(state, at, event);
        }
        event => on_chat_event(state, at, event),
    }
    state.fix_selections(&before);
}

/// "20 lines a second at most", or "every line" for a rate of 0.
fn delivery_lines(chat_per_sec: u32) -> String {
    if chat_per_sec == 0 {
        "every line".to_owned()
    } else {
        format!("{chat_per_sec} lines a second at most")
    }
}

/// Messages and what staff did to them.
fn on_chat_event(state: &mut Console, at: Millis, event: Event) {
    match event {
        Event::Message { message } => {
            state.rate.record(state.now.max(at));
            if matches!(message.visibility, Visibility::Held { .. }) {
                push_unique(&mut state.held, message.clone());
            }
            if message.question && !message.answered {
                state.upsert_question(message.clone());
            }
            if let (Author::Staff { name, role }, Some(reply)) =
                (&message.author, &message.reply_to)
            {
                let line = ActivityText::default().push("answered ");
                let line = match state
                    .find_message(reply.message_id)
                    .and_then(|m| m.author.viewer_id().cloned())
                {
                    Some(v) => line.name(&v, &reply.first_name),
                    None => line.push(&reply.first_name),
                };
                state.log_activity(
                    at,
                    Some(Actor {
                        name: Some(name.clone()),
                        role: *role,
                    }),
                    line,
                );
            }
            let new = state.feed.pos_of(message.id).is_none();
            pause::on_message(state, &message, new);
            state.feed.push(ChatEntry::Message(message));
        }
        Event::Released { message, by, .. } => {
            let id = message.id;
            state.held.retain(|m| m.id != id);
            if !state
                .feed
                .update_message(id, |m| m.visibility = Visibility::Visible)
            {
                state.feed.push(ChatEntry::Message(message));
            }
            let what = state.about_message("released", id, "");
            state.log_activity(at, by, what);
        }
        Event::Redacted { tombstone } => on_redacted(state, at, &tombstone),
        event @ (Event::ViewerRectified { .. } | Event::ViewerErased { .. }) => {
            on_rights_request(state, at, event);
        }
        Event::Hidden { message_id, by } => {
            let what = state.about_message("hid", message_id, "");
            state
                .feed
                .update_message(message_id, |m| m.visibility = Visibility::Hidden);
            state.held.retain(|m| m.id != message_id);
            search::forget(state, |m| m.id == message_id);
            state.log_activity(at, Some(by), what);
        }
        Event::Pinned { message_id, by } => {
            let what = state.about_message("pinned", message_id, "");
            state.pinned = Some(Pinned {
                message_id,
                message: state.find_message(message_id),
                by: Some(by.clone()),
            });
            state.log_activity(at, Some(by), what);
        }
        Event::Unpinned { message_id, by } => {
            if state
                .pinned
                .as_ref()
                .is_some_and(|p| p.message_id == message_id)
            {
                state.pinned = None;
            }
            let what = state.about_message("unpinned", message_id, "");
            state.log_activity(at, Some(by), what);
        }
        Event::QuestionAnswered { message_id, by } => {
            state.feed.update_message(message_id, |m| m.answered = true);
            if let Ok(i) = state.questions.binary_search_by_key(&message_id, |m| m.id) {
                state.questions[i].answered = true;
                state.question_groups.set_answered(message_id, true);
            }
            state.trim_answered_questions();
            if let Some(p) = state.pinned.as_mut()
                && p.message_id == message_id
                && let Some(m) = p.message.as_mut()
            {
                m.answered = true;
            }
            let what = state.about_message("marked", message_id, " answered");
            state.log_activity(at, Some(by), what);
        }
        Event::QuestionReopened { message_id, by } => on_reopened(state, at, message_id, by),
        _ => {}
    }
}

/// A question back in the open queue: unmarked wherever this console holds
/// it, and listed again in its place if the queue had dropped it.
fn on_reopened(state: &mut Console, at: Millis, message_id: MessageId, by: Actor) {
    state
        .feed
        .update_message(message_id, |m| m.answered = false);
    if let Some(p) = state.pinned.as_mut()
        && p.message_id == message_id
        && let Some(m) = p.message.as_mut()
    {
        m.answered = false;
    }
    if let Some(mut q) = state.find_message(message_id) {
        q.answered = false;
        state.upsert_question(q);
    }
    let what = state.about_message("reopened", message_id, "");
    state.log_activity(at, Some(by), what);
}

/// Timeouts and bans; an open card of that viewer shows them at once.
fn on_sanction_event(state: &mut Console, at: Millis, event: Event) {
    // Shield's review list shows the bans that hold, whoever sent them.
    if let Some(Popup::ShieldReview(review)) = state.popup.as_mut() {
        match &event {
            Event::ViewerBanned { viewer_id, .. } => review.note_banned(viewer_id, true),
            Event::SanctionLifted {
                viewer_id,
                lifted: crate::protocol::LiftedSanction::Ban,
                ..
            } => review.note_banned(viewer_id, false),
            _ => {}
        }
    }
    match event {
        Event::ViewerTimedOut {
            viewer_id,
            until,
            reason,
            by,
        } => {
            let minutes = ((until - at).max(0) + 59_999) / 60_000;
            let what = about_viewer(
                state,
                "timed out",
                &viewer_id,
                &format!(" for {minutes} min"),
            );
            if let Some(Popup::ViewerCard(view)) = state.popup.as_mut()
                && view.viewer_id == viewer_id
                && let Some(card) = view.card.as_mut()
            {
                card.sanctions.push(Sanction::TimedOut {
                    until,
                    reason,
                    by: by.clone(),
                    at,
                });
            }
            state.sanctioned.time_out(viewer_id, until);
            state.log_activity(at, Some(by), what);
        }
        Event::ViewerBanned {
            viewer_id,
            reason,
            by,
        } => {
            let what = about_viewer(state, "banned", &viewer_id, "");
            state.sanctioned.ban(viewer_id.clone());
            if let Some(Popup::ViewerCard(view)) = state.popup.as_mut()
                && view.viewer_id == viewer_id
                && let Some(card) = view.card.as_mut()
            {
                card.sanctions.push(Sanction::Banned {
                    reason,
                    by: by.clone(),
                    at,
                });
            }
            state.log_activity(at, Some(by), what);
        }
        Event::SanctionLifted {
            viewer_id,
            lifted,
            by,
            ..
        } => {
            let what = match lifted {
                LiftedSanction::Ban => about_viewer(state, "unbanned", &viewer_id, ""),
                LiftedSanction::Timeout => {
                    about_viewer(state, "lifted the timeout of", &viewer_id, "")
                }
            };
            state.sanctioned.lift(&viewer_id, lifted);
            if let Some(Popup::ViewerCard(view)) = state.popup.as_mut()
                && view.viewer_id == viewer_id
                && let Some(card) = view.card.as_mut()
            {
                card.sanctions.retain(|s| {
                    !matches!(
                        (s, lifted),
                        (Sanction::Banned { .. }, LiftedSanction::Ban)
                            | (Sanction::TimedOut { .. }, LiftedSanction::Timeout)
                    )
                });
            }
            state.log_activity(at, Some(by), what);
        }
        _ => {}
    }
}

/// Polls and instant wins.
fn on_game_event(state: &mut Console, at: Millis, event: Event) {
    match event {
        Event::PollOpened { poll } => {
            let by = poll.by.clone();
            let what = format!("launched poll #{}", poll.id);
            state.games.poll_opened(poll);
            state.log_activity(at, Some(by), what);
        }
        Event::PollTally {
            poll_id,
            counts,
            voters,
        } => state.games.poll_tally(poll_id, counts, voters),
        Event::PollClosed {
            poll_id,
            counts,
            voters,
            closed_at,
            by,
        } => {
            state.games.poll_closed(poll_id, counts, voters, closed_at);
            state.log_activity(at, by, format!("poll #{poll_id} closed: {voters} voters"));
        }
        Event::PollCleared { poll_id, by } => {
            state.games.poll_cleared(poll_id, at);
            state.log_activity(at, Some(by), format!("took poll #{poll_id} off the screen"));
        }
        Event::InstantWinOpened { draw } => {
            let by = draw.by.clone();
            let what = match (draw.redraw_of, &draw.replaces) {
                (Some(of), Some(rep)) => {
                    let reason = if rep.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", rep.reason)
                    };
                    ActivityText::from(format!(
                        "re-draw #{} of instant win #{of}: excluded ",
                        draw.id
                    ))
                    .winners(&rep.excluded, "")
                    .push(&reason)
                }
                (Some(of), None) => format!("re-draw #{} of instant win #{of}", draw.id).into(),
                (None, _) => format!("launched instant win #{}", draw.id).into(),
            };
            state.games.draw_opened(draw);
            state.log_activity(at, Some(by), what);
        }
        Event::InstantWinEntries { draw_id, entrants } => {
            state.games.draw_entries(draw_id, entrants);
        }
        Event::InstantWinDrawn {
            draw_id,
            seed,
            entrants,
            entrants_hash,
            winners,
            by,
        } => {
            let what = ActivityText::from(format!("instant win #{draw_id} drawn: "))
                .winners(&winners, "no winner")
                .push(&format!(" ({entrants} entries)"));
            state.games.drawn(
                draw_id,
                entrants,
                DrawResult {
                    seed,
                    entrants_hash,
                    winners,
                    drawn_at: at,
                },
            );
            state.log_activity(at, by, what);
        }
        _ => {}
    }
}

/// A data-protection request carried out by support: a viewer's names
/// corrected (Art. 16) or the viewer erased (Art. 17).
fn on_rights_request(state: &mut Console, at: Millis, event: Event) {
    match event {
        Event::ViewerRectified {
            viewer_id,
            first_name,
            pseudonym,
            by,
        } => on_rectified(
            state,
            at,
            &viewer_id,
            first_name.as_deref(),
            pseudonym.as_deref(),
            by,
        ),
        Event::ViewerErased {
            viewer_id,
            reason,
            erased_at,
            by,
        } => on_viewer_erased(state, &viewer_id, &reason, erased_at, by),
        _ => {}
    }
}

/// A redaction removes the text from every place this console holds it:
/// the feed (tombstone in place), the queues, the pinned card, an open
/// viewer card, a pending redact confirmation.
/// Support corrected a viewer's names: every line of theirs on screen
/// (feed, questions, held, pin) and every answer to them is relabelled.
/// The activity line names no value, as the audit does not.
fn on_rectified(
    state: &mut Console,
    at: Millis,
    viewer: &ViewerId,
    first_name: Option<&str>,
    pseudonym: Option<&str>,
    by: Actor,
) {
    state.feed.relabel(viewer, first_name, pseudonym);
    let pinned = state.pinned.as_mut().and_then(|p| p.message.as_mut());
    crate::protocol::relabel_all(
        state
            .questions
            .iter_mut()
            .chain(state.held.iter_mut())
            .chain(pinned),
        viewer,
        first_name,
        pseudonym,
    );
    state.games.rename(viewer, first_name, pseudonym);
    for entry in &mut state.activity {
        super::activity::relabel(
            &mut entry.what,
            &mut entry.about,
            viewer,
            first_name,
            pseudonym,
        );
    }
    relabel_popup(state, viewer, first_name, pseudonym);
    let what = about_viewer(state, "rectified", viewer, "");
    state.log_activity(at, Some(by), what);
}

/// An open card of the rectified viewer, or a rectify form about them,
/// shows the corrected names (the form's confirmation then says what
/// changes from them).
fn relabel_popup(
    state: &mut Console,
    viewer: &ViewerId,
    first_name: Option<&str>,
    pseudonym: Option<&str>,
) {
    let set = |field: &mut String, new: Option<&str>| {
        if let Some(new) = new {
            new.clone_into(field);
        }
    };
    match state.popup.as_mut() {
        Some(Popup::ViewerCard(view)) if view.viewer_id == *viewer => {
            set(&mut view.name, first_name);
            if let Some(card) = view.card.as_mut() {
                set(&mut card.first_name, first_name);
                set(&mut card.pseudonym, pseudonym);
                crate::protocol::relabel_all(
                    card.recent.iter_mut().filter_map(|e| match e {
                        ChatEntry::Message(m) => Some(m),
                        ChatEntry::Redacted(_) => None,
                    }),
                    viewer,
                    first_name,
                    pseudonym,
                );
            }
        }
        Some(Popup::RectifyForm(form)) if form.viewer_id == *viewer => {
            set(&mut form.first_name_now, first_name);
            set(&mut form.pseudonym_now, pseudonym);
            // A confirmation showing would name the change from old names.
            form.confirming = None;
        }
        _ => {}
    }
}

fn on_redacted(state: &mut Console, at: Millis, tombstone: &Tombstone) {
    let id = tombstone.message_id;
    let what = state.about_message("redacted", id, "");
    state.feed.redact(tombstone);
    search::forget(state, |m| m.id == id);
    state.drop_questions(|m| m.id == id);
    state.held.retain(|m| m.id != id);
    if let Some(p) = state.pinned.as_mut()
        && p.message_id == id
    {
        p.message = None;
    }
    if let Some(compose) = &state.compose
        && compose.target == id
    {
        state.compose = None;
    }
    drop_from_compose(state, &[id]);
    match state.popup.as_mut() {
        Some(Popup::ViewerCard(view)) => {
            if let Some(card) = view.card.as_mut() {
                for entry in &mut card.recent {
                    if entry.id() == id {
                        *entry = ChatEntry::Redacted(tombstone.clone());
                    }
                }
            }
        }
        Some(Popup::Confirm(Confirm {
            what: Target::Redact { message_id, .. },
        })) if *message_id == id => state.popup = None,
        Some(Popup::Prompt(Prompt {
            kind: PromptKind::RedactReason { message_id },
            ..
        })) if *message_id == id => state.popup = None,
        _ => {}
    }
    let by = tombstone.by.clone();
    state.log_activity(at, Some(by), what);
}

/// An erased viewer leaves no trace on this console: their messages
/// become tombstones in the feed, leave the queues and the pinned card,
/// replies to them lose the name, and their card (or a confirmation about
/// them) closes. The activity line names nobody.
fn on_viewer_erased(
    state: &mut Console,
    viewer: &ViewerId,
    reason: &str,
    erased_at: Millis,
    by: Actor,
) {
    let tombstone = |m: &ChatMessage| Tombstone {
        message_id: m.id,
        posted_at: m.at,
        redacted_at: erased_at,
        author_id: None,
        reason: reason.to_string(),
        by: by.clone(),
    };
    let mut erased = state.feed.erase_author(viewer, tombstone);
    let theirs = |m: &ChatMessage| m.author.viewer_id() == Some(viewer);
    search::forget(state, theirs);
    erased.extend(state.questions.iter().filter(|m| theirs(m)).map(|m| m.id));
    erased.extend(state.held.iter().filter(|m| theirs(m)).map(|m| m.id));
    state.drop_questions(theirs);
    state.held.retain(|m| !theirs(m));
    for m in state.questions.iter_mut().chain(state.held.iter_mut()) {
        for r in m.replies_to_mut() {
            if erased.contains(&r.message_id) {
                r.first_name.clear();
            }
        }
    }
    if let Some(p) = state.pinned.as_mut()
        && (erased.contains(&p.message_id) || p.message.as_ref().is_some_and(theirs))
    {
        p.message = None;
    }
    if let Some(compose) = &state.compose
        && erased.contains(&compose.target)
    {
        state.compose = None;
    }
    drop_from_compose(state, &erased);
    state.sanctioned.forget(viewer);
    // Their flag goes with them, note and all; so do claims on their lines.
    state.flags.remove(viewer);
    state.claims.retain(|id, _| !erased.contains(id));
    let about_them = match state.popup.as_ref() {
        Some(Popup::ViewerCard(view)) => view.viewer_id == *viewer,
        Some(Popup::Flag(form)) => form.viewer_id == *viewer,
        Some(Popup::Confirm(Confirm {
            what: Target::Ban { viewer_id, .. } | Target::Erase { viewer_id, .. },
        })) => viewer_id == viewer,
        Some(Popup::Confirm(Confirm {
            what: Target::Redact { message_id, .. },
        })) => erased.contains(message_id),
        _ => false,
    };
    if about_them {
        state.popup = None;
    }
    state.log_activity(erased_at, Some(by), "erased a viewer".to_string());
}

/// "`verb` Marc`tail`": the viewer by the first name on their latest line,
/// else by id.
fn about_viewer(state: &Console, verb: &str, viewer_id: &ViewerId, tail: &str) -> ActivityText {
    let line = ActivityText::default().push(verb).push(" ");
    match shown_name(state, viewer_id) {
        Some(name) => line.name(viewer_id, &name),
        None => line.push(&format!("viewer {viewer_id}")),
    }
    .push(tail)
}

/// The first name on the viewer's latest line in the feed, if any.
fn shown_name(state: &Console, viewer_id: &ViewerId) -> Option<String> {
    state
        .feed
        .view_iter()
        .rev()
        .take(2_000)
        .filter_map(|e| e.message())
        .find(|m| m.author.viewer_id() == Some(viewer_id))
        .map(|m| m.author.display_name().to_string())
}

fn on_error(state: &mut Console, err: &ErrorFrame) {
    if rights_requests::on_error(state, err)
        || search::on_error(state, err)
        || rules::on_error(state, err)
        || lives::on_error(state, err)
    {
        return;
    }
    // A refused first step drops its follow-up, and the note says so.
    let what = err
        .id
        .as_ref()
        .and_then(|id| state.pending.remove(id))
        .map(|p| (p.summary, !p.then.is_empty()));
    if let Some(Popup::ViewerCard(view)) = &state.popup
        && err.id.as_ref() == Some(&view.request)
    {
        state.popup = None;
    }
    let text = match what {
        Some((summary, false)) => format!("{summary}: {} ({})", err.message, err.code),
        Some((summary, true)) => format!(
            "{summary}: {} ({}); not marked answered",
            err.message, err.code
        ),
        None => format!("{} ({})", err.message, err.code),
    };
    state.note(text, true);
}

// ── keys ─────────────────────────────────────────────────────────────────

fn on_key(state: &mut Console, key: KeyEvent) -> Vec<Effect> {
    if state.popup.is_some() {
        return on_popup_key(state, key);
    }
    if state.compose.is_some() {
        return on_compose_key(state, key);
    }
    if state.staff_post.is_some() {
        return staff_post::on_key(state, key);
    }
    let Some(action) = state.keymap.action_for(&key) else {
        return Vec::new();
    };
    if !permissions::allows(state.role(), action) {
        state.note(not_allowed(state.role(), action), true);
        return Vec::new();
    }
    run_action(state, action)
}

/// "A moderator can't launch an instant win.": the action's help line
/// without its parenthesis, never the keymap name or the role's id.
fn not_allowed(role: StaffRole, action: Action) -> String {
    let what = action.help();
    let what = what.split(" (").next().unwrap_or(what);
    let who = match role {
        StaffRole::Host => "A host",
        StaffRole::Moderator => "A moderator",
        StaffRole::Support => "Support staff",
        StaffRole::Admin => "An admin",
    };
    format!("{who} can't {what}.")
}

fn run_action(state: &mut Console, action: Action) -> Vec<Effect> {
    match action {
        Action::FocusNext
        | Action::FocusPrev
        | Action::MoveDown
        | Action::MoveUp
        | Action::PageDown
        | Action::PageUp
        | Action::JumpTop
        | Action::JumpBottom
        | Action::SortQuestions => {
            navigate(state, action);
            staff_log::maybe_older(state)
        }
        Action::Pause | Action::SearchNext | Action::SearchPrev | Action::HistorySearch => {
            search::on_action(state, action);
            Vec::new()
        }
        Action::GroupExpand | Action::GroupSplit | Action::GroupMerge => {
            on_group_action(state, action);
            Vec::new()
        }
        Action::Filter if state.focus == Pane::Activity => {
            let text = state.staff_log.filter_text();
            state.popup = Some(Popup::Prompt(Prompt::new(
                PromptKind::StaffLogFilter,
                &text,
            )));
            Vec::new()
        }
        Action::Reply
        | Action::ReplyAnswered
        | Action::Pin
        | Action::MarkAnswered
        | Action::ReopenQuestion
        | Action::Hide
        | Action::Release => on_message_action(state, action),
        Action::Deny | Action::HoldMark | Action::ApproveMarked => hold::on_action(state, action),
        Action::Claim => claims::toggle(state),
        Action::FlagViewer => flags::open(state),
        Action::StaffSay => staff_post::open(state, false),
        Action::Announce => staff_post::open(state, true),
        Action::Timeout | Action::Ban | Action::Redact | Action::Filter | Action::ViewerCard => {
            on_viewer_action(state, action)
        }
        Action::SlowMode => {
            let current = state.settings.slow_mode_secs;
            state.popup = Some(Popup::Choice(Choice::slow_mode(current)));
            Vec::new()
        }
        // One key applies Shield and, while on, lifts it; both ask first.
        Action::Shield => {
            state.popup = Some(Popup::ShieldConfirm(super::popups::shield::ShieldConfirm {
                on: state.settings.shield,
                slow_mode_secs: state.settings.slow_mode_secs,
                preset: state.shield_preset.clone(),
            }));
            Vec::new()
        }
        Action::LiftSanction
        | Action::Erase
        | Action::Rectify
        | Action::Export
        | Action::AddNote => {
            card_first(state, action);
            Vec::new()
        }
        Action::ClosePoll if state.games.live_poll().is_none() => clear_poll(state),
        Action::Requests => rights_requests::open_requests(state),
        Action::Products | Action::Canned | Action::CannedSave => {
            showcase::on_action(state, action)
        }
        Action::Rules => rules::open_rules(state),
        Action::Lives => lives::open_lives(state),
        // Started and ended from the Lives popup, which shows the live.
        Action::LiveStart | Action::LiveEnd | Action::LiveReport | Action::SmsFollowUp => {
            state.note(
                "To start or end a live, read its report or text its viewers after it, open the Lives popup (O) first",
                false,
            );
            Vec::new()
        }
        Action::Help
        | Action::Messages
        | Action::Quit
        | Action::Poll
        | Action::InstantWin
        | Action::ClosePoll
        | Action::DrawNow
        | Action::Redraw
        | Action::Games => {
            open_popup(state, action);
            Vec::new()
        }
    }
}

/// A viewer is sanctioned, erased, rectified, exported or noted from their
/// card, where the console shows who it is about: from the panes, say so.
fn card_first(state: &mut Console, action: Action) {
    let what = match action {
        Action::LiftSanction => "To lift a ban or a timeout, open the viewer's card (v) first",
        Action::Erase => "To erase a viewer, open their card (v) first",
        Action::Rectify => "To rectify a viewer, open their card (v) first",
        Action::Export => "To export a viewer, open their card (v) first",
        _ => "To add a note, open the viewer's card (v) first",
    };
    state.note(what, false);
}

/// With no live poll, the close key takes the finished poll's result off
/// "Now on screen", for every console and player (`poll_clear`).
fn clear_poll(state: &mut Console) -> Vec<Effect> {
    if let Some(poll_id) = state.games.shown_poll().map(|p| p.poll.id) {
        vec![state.send(
            Command::PollClear { poll_id },
            format!("take poll #{poll_id} off the screen"),
        )]
    } else {
        state.note("no poll is on screen", true);
        Vec::new()
    }
}

/// Focus, selection and scrolling: no command, no popup.
fn navigate(state: &mut Console, action: Action) {
    match action {
        Action::FocusNext | Action::FocusPrev => {
            let panes = state.panes();
            let i = panes.iter().position(|p| *p == state.focus).unwrap_or(0);
            let n = panes.len();
            let next = if action == Action::FocusNext {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            state.focus = panes[next];
            if state.selection(state.focus).is_none() {
                let first = state.pane_ids(state.focus).first().copied();
                state.set_selection(state.focus, first);
            }
        }
        Action::MoveDown => move_selection(state, 1),
        Action::MoveUp => move_selection(state, -1),
        Action::PageDown => move_selection(state, i64::from(state.feed_rows.max(2) - 1)),
        Action::PageUp => move_selection(state, -i64::from(state.feed_rows.max(2) - 1)),
        Action::JumpTop => match state.focus {
            Pane::Feed => {
                state.scroll.follow = false;
                state.scroll.selected = state.feed.view_pos(0);
                state.scroll.bottom = state.scroll.selected;
            }
            Pane::Questions | Pane::Hold => {
                let first = state.pane_ids(state.focus).first().copied();
                state.set_selection(state.focus, first);
            }
            Pane::Activity => state.activity_scroll = state.activity.len().saturating_sub(1),
        },
        Action::JumpBottom => match state.focus {
            Pane::Feed => follow(state),
            Pane::Questions | Pane::Hold => {
                let last = state.pane_ids(state.focus).last().copied();
                state.set_selection(state.focus, last);
            }
            Pane::Activity => state.activity_scroll = 0,
        },
        Action::SortQuestions => {
            state.questions_newest_first = !state.questions_newest_first;
            state.question_sel = state.pane_ids(Pane::Questions).first().copied();
        }
        _ => {}
    }
}

/// Actions on the selected message that send a command at once.
fn on_message_action(state: &mut Console, action: Action) -> Vec<Effect> {
    match action {
        Action::Reply | Action::ReplyAnswered => return open_reply(state),
        Action::Pin => {
            let Some(m) = selected_message(state) else {
                return Vec::new();
            };
            let id = m.id;
            let is_pinned = state.pinned.as_ref().is_some_and(|p| p.message_id == id);
            let summary = state.describe(id);
            return vec![if is_pinned {
                state.send(Command::Unpin, format!("unpin {summary}"))
            } else {
                state.send(Command::Pin { message_id: id }, format!("pin {summary}"))
            }];
        }
        Action::MarkAnswered => {
            let Some(m) = selected_message(state) else {
                return Vec::new();
            };
            let id = m.id;
            if m.answered {
                state.note(format!("{} is already answered", state.describe(id)), false);
                return Vec::new();
            }
            let summary = format!("mark {} answered", state.describe(id));
            return vec![state.send_undoable(
                Command::MarkAnswered { message_id: id },
                summary,
                Action::ReopenQuestion,
            )];
        }
        Action::ReopenQuestion => {
            let Some(m) = selected_message(state) else {
                return Vec::new();
            };
            let id = m.id;
            if !m.question {
                state.note(format!("{} is not a question", state.describe(id)), false);
                return Vec::new();
            }
            if !m.answered {
                state.note(format!("{} is already open", state.describe(id)), false);
                return Vec::new();
            }
            let summary = format!("reopen {}", state.describe(id));
            return vec![state.send(Command::ReopenQuestion { message_id: id }, summary)];
        }
        Action::Hide => {
            let Some(m) = selected_viewer_message(state) else {
                return Vec::new();
            };
            let id = m.id;
            if m.visibility == Visibility::Hidden {
                state.note(format!("{} is already hidden", state.describe(id)), false);
                return Vec::new();
            }
            let summary = format!("hide {}{}", state.describe(id), state.claim_suffix(id));
            return vec![state.send_undoable(
                Command::Hide {
                    message_id: id,
                    reason: String::new(),
                },
                summary,
                Action::Release,
            )];
        }
        Action::Release => {
            let Some(m) = selected_message(state) else {
                return Vec::new();
            };
            // As the protocol says: release lets a held or a hidden
            // message through; a visible one has nothing to release.
            if m.visibility == Visibility::Visible {
                state.note(
                    format!("{} is already visible", state.describe(m.id)),
                    false,
                );
                return Vec::new();
            }
            let id = m.id;
            let summary = format!("release {}{}", state.describe(id), state.claim_suffix(id));
            return vec![state.send(Command::Release { message_id: id }, summary)];
        }
        _ => {}
    }
    Vec::new()
}

/// Actions on the selected message's author, and the filter: they open a
/// prompt, a confirmation or the viewer card.
fn on_viewer_action(state: &mut Console, action: Action) -> Vec<Effect> {
    match action {
        Action::Timeout => {
            if let Some((viewer_id, name)) = selected_author(state) {
                state.popup = Some(Popup::Choice(Choice::timeout(viewer_id, name)));
            }
        }
        Action::Ban => {
            if let Some((viewer_id, name)) = selected_author(state) {
                if state.sanctioned.is_banned(&viewer_id) {
                    let name = super::view::text::clean_name(&name);
                    state.note(format!("{name} is already banned"), false);
                } else {
                    let reason = first_reason(&state.sanction_reasons);
                    state.popup = Some(Popup::confirm(Target::Ban {
                        viewer_id,
                        name,
                        reason,
                    }));
                }
            }
        }
        Action::Redact => {
            let Some(m) = selected_viewer_message(state) else {
                return Vec::new();
            };
            state.popup = Some(Popup::confirm(Target::Redact {
                message_id: m.id,
                reason: REDACT_REASON.to_string(),
            }));
        }
        Action::Filter => {
            let current = state.feed.filter().map(|f| f.as_str().to_string());
            let text = current.as_deref().unwrap_or("");
            state.popup = Some(Popup::Prompt(Prompt::new(PromptKind::Filter, text)));
        }
        Action::ViewerCard => {
            if let Some((viewer_id, name)) = selected_author(state) {
                return open_card(state, viewer_id, name);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// Actions that open a popup: help, quit, the game forms and confirmations.
fn open_popup(state: &mut Console, action: Action) {
    match action {
        Action::Help => state.popup = Some(Popup::Help(Help::default())),
        Action::Messages => {
            state.popup = Some(Popup::Log(MessageLog {
                entries: state.log.iter().cloned().collect(),
                scroll: 0,
            }));
        }
        Action::Quit => state.popup = Some(Popup::confirm(Target::Quit)),
        Action::Poll if state.games.live_poll().is_some() => state.note(
            "A poll is already live: close it first, then launch the next one",
            true,
        ),
        Action::Poll => state.popup = Some(Popup::PollForm(PollForm::default())),
        Action::InstantWin => state.popup = Some(Popup::InstantWinForm(InstantWinForm::default())),
        Action::ClosePoll => match state.games.live_poll() {
            Some(p) => {
                state.popup = Some(Popup::confirm(Target::ClosePoll {
                    poll_id: p.poll.id,
                    question: p.poll.question.clone(),
                }));
            }
            None => state.note("no poll is open", true),
        },
        Action::DrawNow => match state.games.live_draw() {
            Some(d) => {
                state.popup = Some(Popup::confirm(Target::DrawNow {
                    draw_id: d.draw.id,
                    prize: d.draw.prize.clone(),
                }));
            }
            None => state.note("no instant win is taking entries", true),
        },
        Action::Redraw => match state.games.last_drawn() {
            Some(d) => {
                let winners = d.result.as_ref().map(|r| r.winners.clone());
                match winners {
                    Some(w) if !w.is_empty() => {
                        state.popup = Some(Popup::RedrawForm(RedrawForm::new(d.draw.id, w)));
                    }
                    _ => state.note("that draw has no winner to replace", true),
                }
            }
            None => state.note("no instant win has been drawn yet", true),
        },
        Action::Games => state.popup = Some(Popup::Games(GamesList::default())),
        _ => {}
    }
}

fn open_card(state: &mut Console, viewer_id: ViewerId, name: String) -> Vec<Effect> {
    let effect = state.send(
        Command::ViewerCard {
            viewer_id: viewer_id.clone(),
        },
        format!("viewer card of {name}"),
    );
    let Effect::Send(frame) = &effect else {
        unreachable!("send returns a Send effect")
    };
    state.popup = Some(Popup::ViewerCard(CardView {
        viewer_id,
        name,
        request: frame.id.clone(),
        card: None,
    }));
    vec![effect]
}

/// Makes the feed follow the newest line again.
fn follow(state: &mut Console) {
    state.scroll = FeedScroll {
        follow: true,
        selected: None,
        bottom: None,
    };
}

fn move_selection(state: &mut Console, delta: i64) {
    match state.focus {
        Pane::Feed => {
            let len = state.feed.view_len();
            if len == 0 {
                return;
            }
            let current = match (state.scroll.follow, state.scroll.selected) {
                (false, Some(sel)) => state.feed.view_index(sel),
                // Leaving follow mode selects the newest line first.
                _ if delta < 0 => len,
                _ => return,
            };
            let next = moved(current, delta);
            if next >= len {
                follow(state);
                return;
            }
            state.scroll.follow = false;
            state.scroll.selected = state.feed.view_pos(next);
            if state.scroll.bottom.is_none() {
                state.scroll.bottom = state.feed.last_view_pos();
            }
        }
        pane @ (Pane::Questions | Pane::Hold) => {
            let ids = state.pane_ids(pane);
            // Nothing selected yet: the first key selects the first row.
            let next = match state
                .selection(pane)
                .and_then(|id| ids.iter().position(|x| *x == id))
            {
                Some(at) => ids.get(step(at, delta, ids.len())).copied(),
                None => ids.first().copied(),
            };
            state.set_selection(pane, next);
        }
        // The activity list shows newest first; "down" goes back in time.
        Pane::Activity => {
            state.activity_scroll = step(state.activity_scroll, delta, state.activity.len());
        }
    }
}

/// `at` moved `delta` places, stopping at 0 (and at `usize::MAX`).
fn moved(at: usize, delta: i64) -> usize {
    let by = usize::try_from(delta.unsigned_abs()).unwrap_or(usize::MAX);
    if delta < 0 {
        at.saturating_sub(by)
    } else {
        at.saturating_add(by)
    }
}

/// `at` moved `delta` places within a list of `len`, stopping at its ends.
fn step(at: usize, delta: i64, len: usize) -> usize {
    len.checked_sub(1)
        .map_or(0, |last| moved(at, delta).min(last))
}

fn selected_message(state: &mut Console) -> Option<ChatMessage> {
    let found = state.target().cloned();
    if found.is_none() {
        let hint = match state.focus {
            Pane::Feed => "select a message first (k or ↑ stops following)",
            Pane::Activity => "select a message in the chat, questions or hold queue",
            _ => "nothing selected",
        };
        state.note(hint, true);
    }
    found
}

fn selected_viewer_message(state: &mut Console) -> Option<ChatMessage> {
    let m = selected_message(state)?;
    if m.author.viewer_id().is_none() {
        state.note("that is a staff message", true);
        return None;
    }
    Some(m)
}

fn selected_author(state: &mut Console) -> Option<(ViewerId, String)> {
    let m = selected_viewer_message(state)?;
    let id = m.author.viewer_id()?.clone();
    Some((id, m.author.display_name().to_string()))
}

fn on_compose_key(state: &mut Console, key: KeyEvent) -> Vec<Effect> {
    // The second send key is the keymap's (rebindable); every other key
    // is the line editor's.
    match state.keymap.action_for(&key) {
        Some(Action::ReplyAnswered) => return send_reply(state, true),
        Some(Action::Canned) => return showcase::open_picker(state),
        Some(Action::CannedSave) if permissions::allows(state.role(), Action::CannedSave) => {
            return showcase::open_save(state);
        }
        Some(Action::CannedSave) => {
            state.note(not_allowed(state.role(), Action::CannedSave), true);
            return Vec::new();
        }
        _ => {}
    }
    let Some(compose) = state.compose.as_mut() else {
        return Vec::new();
    };
    match compose.editor.handle_key(&key) {
        Edit::Submit => send_reply(state, false),
        Edit::Cancel => {
            state.compose = None;
            Vec::new()
        }
        Edit::HistoryPrev => {
            state.history.prev(&mut compose.editor);
            Vec::new()
        }
        Edit::HistoryNext => {
            state.history.next(&mut compose.editor);
            Vec::new()
        }
        Edit::Changed | Edit::Ignored => Vec::new(),
    }
}

/// Whether the reply line's second send key applies: the reply's target is
/// a question still open. The reply line's footer offers it only then.
pub fn reply_can_mark(state: &Console) -> bool {
    state.compose.as_ref().is_some_and(|c| {
        std::iter::once(c.target)
            .chain(c.also.iter().copied())
            .filter_map(|id| state.find_message(id))
            .any(|m| m.question && !m.answered)
    }) && permissions::allows(state.role(), Action::ReplyAnswered)
}

/// Sends the reply being typed; with `mark`, the question is marked
/// answered once the hub has accepted the reply (two commands, each
/// audited as the action it is; the second only after the first's ack).
/// A line longer than the hub takes is kept in its editor, with a note
/// saying why (the reply line and the staff post line both).
pub(super) fn refuse_too_long(state: &mut Console, text: &str) -> bool {
    let count = crate::privacy::grapheme_count(text);
    let max = state.settings.max_message_graphemes;
    if count > max {
        state.note(
            format!("too long: {count} characters, the limit is {max}"),
            true,
        );
    }
    count > max
}

fn send_reply(state: &mut Console, mark: bool) -> Vec<Effect> {
    let Some(compose) = state.compose.as_ref() else {
        return Vec::new();
    };
    let text = compose.editor.text().trim().to_string();
    let (target, name) = (compose.target, compose.first_name.clone());
    let also = compose.also.clone();
    if mark && !reply_can_mark(state) {
        let why = match state.find_message(target) {
            Some(m) if m.question => "is already answered",
            _ => "is not a question",
        };
        let enter = "Enter sends the reply alone";
        state.note(format!("{} {why}; {enter}", state.describe(target)), false);
        return Vec::new();
    }
    if text.is_empty() {
        state.compose = None;
        return Vec::new();
    }
    // A merge tag is never sent raw: the picker fills tags in, a typed or
    // pasted one must go.
    if let Some(tag) = crate::merge_tags::tags_in(&text).first() {
        let tag = crate::console::view::text::clean_name(tag);
        state.note(
            format!(
                "not sent: the reply still holds the merge tag {{{tag}}}; pick the answer with ctrl-t (it fills tags in) or edit the tag out"
            ),
            true,
        );
        return Vec::new();
    }
    if refuse_too_long(state, &text) {
        return Vec::new();
    }
    state.history.push(&text);
    state.compose = None;
    // Every open question the reply answers is marked, each by its own
    // command (one audit record per question, as a single mark makes).
    let then = if mark {
        std::iter::once(target)
            .chain(also.iter().copied())
            .filter(|id| {
                state
                    .find_message(*id)
                    .is_some_and(|m| m.question && !m.answered)
            })
            .map(|id| FollowUp {
                command: Command::MarkAnswered { message_id: id },
                summary: format!("mark {} answered", state.describe(id)),
                undo: Some(Action::ReopenQuestion),
            })
            .collect()
    } else {
        Vec::new()
    };
    let effect = state.send(
        Command::Answer {
            message_id: target,
            text,
            also,
        },
        format!("answer to {name}"),
    );
    if let Effect::Send(frame) = &effect
        && let Some(p) = state.pending.get_mut(&frame.id)
    {
        p.then = then;
    }
    vec![effect]
}

/// The open popup takes the key; its [`Outcome`] is carried out here.
fn on_popup_key(state: &mut Console, key: KeyEvent) -> Vec<Effect> {
    let Some(mut popup) = state.popup.take() else {
        return Vec::new();
    };
    let outcome = popup.on_key(&key, state);
    apply_outcome(state, popup, outcome)
}

fn apply_outcome(state: &mut Console, popup: Popup, outcome: Outcome) -> Vec<Effect> {
    match outcome {
        Outcome::Stay => state.popup = Some(popup),
        Outcome::Close => {}
        Outcome::Open(next) => state.popup = Some(next),
        Outcome::Send { command, summary } => {
            let export = matches!(command, Command::ExportViewer { .. });
            let name = summary.clone();
            let effect = state.send(command, summary);
            if export {
                rights_requests::sent(state, &effect, &name);
            }
            return vec![effect];
        }
        Outcome::SendStay { command, summary } => {
            let effect = state.send(command, summary);
            state.popup = Some(popup);
            return vec![effect];
        }
        Outcome::Quit => return vec![Effect::Quit],
        Outcome::Filter(filter) => apply_filter(state, filter),
        Outcome::StaffLogFilter(text) => return staff_log::filter(state, &text),
        Outcome::Refuse(why) => {
            state.note(why, true);
            state.popup = Some(popup);
        }
        Outcome::Abort(why) => state.note(why, true),
        Outcome::SwitchLive(live) => return lives::switch(state, live),
        Outcome::LiveReport(live) => return lives::open_report(state, &live),
        Outcome::InsertReply(text) => match state.compose.as_mut() {
            Some(compose) => compose.editor.insert(&text),
            None => state.note("the reply line was closed: nothing inserted", true),
        },
        Outcome::HistorySearch(query) => return search::start(state, query),
        Outcome::HistoryMore => {
            return match popup {
                Popup::HistorySearch(p) => search::more(state, p),
                other => {
                    state.popup = Some(other);
                    Vec::new()
                }
            };
        }
        Outcome::ShowInFeed(id) => search::show_in_feed(state, id),
    }
    Vec::new()
}

fn apply_filter(state: &mut Console, filter: Option<Filter>) {
    if let Some(f) = &filter {
        search::remember(state, f.as_str());
    }
    state.feed.set_filter(filter);
    // Keep the selection on screen if it still matches, else follow.
    match state.scroll.selected {
        Some(sel) if state.feed.view_pos(state.feed.view_index(sel)) == Some(sel) => {
            state.scroll.bottom = Some(sel);
        }
        _ => follow(state),
    }
}

impl Context for Console {
    fn now(&self) -> Millis {
        self.now
    }

    fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    fn role(&self) -> StaffRole {
        self.session.role
    }

    fn games(&self) -> &Games {
        &self.games
    }

    fn feed(&self) -> &Feed {
        &self.feed
    }

    fn message(&self, id: MessageId) -> Option<ChatMessage> {
        self.find_message(id)
    }

    fn describe(&self, id: MessageId) -> String {
        Console::describe(self, id)
    }

    fn pending(&self) -> Vec<String> {
        let mut list: Vec<&Pending> = self.pending.values().collect();
        list.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.summary.cmp(&b.summary)));
        list.into_iter().map(|p| p.summary.clone()).collect()
    }

    fn demo(&self) -> bool {
        self.demo
    }

    fn attach(&self) -> Option<&str> {
        self.attach.as_deref()
    }

    fn flag(&self, viewer: &ViewerId) -> Option<&crate::protocol::ViewerFlag> {
        self.flag_on(viewer)
    }

    fn sanction_reasons(&self) -> &[String] {
        &self.sanction_reasons
    }

    fn showcase(&self) -> &super::showcase::Showcase {
        &self.showcase
    }
}

/// Looks a message up wherever the console holds it (feed, questions, hold
/// queue): the redact confirmation shows exactly this text.
pub fn message_for_confirm(state: &Console, id: MessageId) -> Option<ChatMessage> {
    state.find_message(id)
}

/// The reply line for a whole question group: bound to its oldest
/// question and `also` to the others, at most [`MAX_ANSWER_ALSO`] of them
/// (the status line says when a larger group is answered in part).
///
/// [`MAX_ANSWER_ALSO`]: crate::protocol::MAX_ANSWER_ALSO
fn group_compose(state: &mut Console, members: &[MessageId]) -> Compose {
    let limit = crate::protocol::MAX_ANSWER_ALSO + 1;
    let bound = &members[..members.len().min(limit)];
    if members.len() > limit {
        state.note(
            format!(
                "this reply goes to the first {limit} of {} questions; the others stay open",
                members.len()
            ),
            false,
        );
    }
    Compose {
        target: bound[0],
        first_name: state.askers_label(bound),
        also: bound[1..].to_vec(),
        editor: LineEditor::default(),
    }
}

/// Questions gone (redacted, erased) leave the group reply being typed;
/// its label counts the askers left.
fn drop_from_compose(state: &mut Console, gone: &[MessageId]) {
    let Some(compose) = state.compose.as_mut() else {
        return;
    };
    let before = compose.also.len();
    compose.also.retain(|id| !gone.contains(id));
    if compose.also.len() != before {
        let bound: Vec<MessageId> = std::iter::once(compose.target)
            .chain(compose.also.iter().copied())
            .collect();
        let label = state.askers_label(&bound);
        if let Some(compose) = state.compose.as_mut() {
            compose.first_name = label;
        }
    }
}

/// `+`, `-` and `=` in the Questions pane: expand or collapse a group,
/// split a question out of its group, merge two groups.
fn on_group_action(state: &mut Console, action: Action) {
    if state.focus != Pane::Questions {
        state.note("select a question in the Questions pane first", true);
        return;
    }
    let Some(row) = state
        .question_sel
        .and_then(|id| state.question_rows_iter().find(|r| r.id == id))
    else {
        state.note("nothing selected", true);
        return;
    };
    match action {
        Action::GroupExpand => {
            if row.size < 2 {
                state.note("that question is alone: there is no group to expand", false);
            } else if state.expanded_groups.remove(&row.group) {
                // Collapsed: the selection goes to the group's row.
                let lead = state.question_groups.members(row.group).next();
                state.question_sel = lead.or(Some(row.id));
            } else {
                state.expanded_groups.insert(row.group);
            }
        }
        Action::GroupSplit => {
            let who = state.describe(row.id);
            if state.question_groups.split(row.id) {
                state.note(format!("split {who} out of its group"), false);
            } else {
                state.note(format!("{who} is alone in its group already"), false);
            }
        }
        Action::GroupMerge => match state.merge_mark.take() {
            Some(marked) if state.question_groups.group_of(marked).is_none() => {
                state.merge_mark = Some(row.id);
                state.note("the marked group is gone; marked this one instead", false);
            }
            Some(marked) if state.question_groups.group_of(marked) == Some(row.group) => {
                state.note("merge cancelled (the same group)", false);
            }
            Some(marked) => {
                state.question_groups.merge(row.id, marked);
                let members = state.question_groups.members_with(row.id);
                let label = state.askers_label(&members);
                state.note(
                    format!("merged: {} questions from {label}", members.len()),
                    false,
                );
            }
            None => {
                state.merge_mark = Some(row.id);
                let key = state
                    .keymap
                    .hint(Action::GroupMerge)
                    .unwrap_or_else(|| "group_merge".into());
                state.note(
                    format!("group marked; {key} on another group merges them"),
                    false,
                );
            }
        },
        _ => {}
    }
}

/// Opens the reply line on the selected message; on a group's row in the
/// Questions pane, one reply to every question of the group.
fn open_reply(state: &mut Console) -> Vec<Effect> {
    let Some(m) = selected_viewer_message(state) else {
        return Vec::new();
    };
    let group = match state.focus {
        Pane::Questions => state
            .question_rows_iter()
            .find(|r| r.id == m.id && !r.member && r.size > 1)
            .map(|_| state.question_groups.members_with(m.id)),
        _ => None,
    };
    state.compose = Some(match group {
        Some(members) => group_compose(state, &members),
        None => Compose {
            target: m.id,
            first_name: m.author.display_name().to_string(),
            also: Vec::new(),
            editor: LineEditor::default(),
        },
    });
    state.staff_post = None;
    // Someone else is on it: say so, and let the reply go on.
    if let Some(warning) = state.claim_warning(m.id) {
        state.note(format!("{warning}; your reply goes out too"), true);
    }
    Vec::new()
}
