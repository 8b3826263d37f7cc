//! The envelopes: every text frame is one JSON object with a `type`.

use serde::{Deserialize, Serialize};

use super::claims::{Claim, ViewerFlag};
use super::command::{CommandFrame, CommandId};
use super::error::{ErrorCode, ErrorFrame};
use super::event::EventFrame;
use super::rights::{RightsRequest, ViewerExport};
use super::rules::{RuleFiring, RuleView};
use super::types::{
    CannedAnswer, ChatEntry, ChatMessage, Contact, DrawState, Epoch, PollState, Product, Role,
    SanctionedViewer, Seq, Settings, ShieldPresetView, ShieldSuspect, StaffAction, ViewerCard,
    ViewerId, Winner,
};
use super::{MAX_COMMAND_ID_BYTES, MAX_FRAME_BYTES};

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Hello(Hello),
    Command(CommandFrame),
}

/// The first frame of every connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub version: u16,
    /// The live session to join.
    pub live: String,
    pub auth: Auth,
    /// Where the client left off, to replay only what it missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Auth {
    Viewer {
        first_name: String,
        /// Shown beside the first name when two viewers share it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pseudonym: Option<String>,
        /// The signed pass the hub issued this device (in an earlier
        /// `welcome`), so a reconnecting viewer stays the same viewer: one
        /// vote, one entry, sanctions that stick. Opaque to the client; one
        /// the hub did not issue counts as none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pass: Option<String>,
        /// A brand-signed viewer token (a JWT, HS256) naming a logged-in
        /// shopper's account: one account is one viewer on every device.
        /// Wins over `pass`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// Optional, opt-in contact data. Never broadcast.
        #[serde(default, skip_serializing_if = "Contact::is_empty")]
        contact: Contact,
    },
    Staff {
        /// A token minted by `regie token`.
        token: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub epoch: Epoch,
    pub seq: Seq,
}

/// Frames the hub sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[expect(
    clippy::large_enum_variant,
    reason = "almost every frame is an event: boxing it would allocate once per message"
)]
pub enum ServerFrame {
    Welcome(Box<Welcome>),
    /// One part of the snapshot's lists, after a `welcome` with `counts`.
    SnapshotPage(Box<SnapshotPage>),
    /// The last frame of a paged snapshot: live events follow.
    SnapshotEnd {
        pages: u32,
    },
    /// The requested resume is impossible (history lost, or too far back);
    /// a `welcome` with a fresh snapshot follows. Drop local state.
    Reload {
        reason: String,
    },
    Event(EventFrame),
    /// Viewers only: one tick's events, in seq order, after the replay. A
    /// chat line the live's delivery policy sampled out is not there but
    /// inside one of `skipped` (see [`Skip`]).
    Events {
        events: Vec<EventFrame>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skipped: Vec<Skip>,
    },
    /// The command took effect (or had already, for a retried id).
    Ack {
        id: CommandId,
        /// The event the command produced, when it produced one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
    },
    Error(ErrorFrame),
    ViewerCard {
        id: CommandId,
        card: Box<ViewerCard>,
    },
    /// The answer to `export_viewer`, to the sender only: everything held
    /// about the viewer, the document `regie privacy export` writes.
    ViewerExport {
        id: CommandId,
        export: Box<ViewerExport>,
    },
    /// The answer to `rights_requests`: the open requests of the data
    /// dir's log, soonest due first.
    RightsRequests {
        id: CommandId,
        requests: Vec<RightsRequest>,
    },
    /// The answer to `rules`, to the sender only: the live's rules in
    /// force (expired ones are gone), oldest first.
    Rules {
        id: CommandId,
        rules: Vec<RuleView>,
    },
    /// The answer to `rule_test`, to the sender only: every rule that
    /// fires on the sentence, the one that decides first; empty when it
    /// would pass.
    RuleTest {
        id: CommandId,
        firings: Vec<RuleFiring>,
    },
    /// The answer to `staff_log`, to the sender only: a page of the audit
    /// log, oldest first, content-free. `before` is the index to ask for
    /// the next older page with; absent when there is none.
    StaffLog {
        id: CommandId,
        entries: Vec<super::StaffAction>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
    },
    /// The answer to `history_search`, to the sender only: the matching
    /// visible messages, newest first. `next_before` is the `before` to ask
    /// for the next older page with; absent when the search reached the
    /// live's oldest message. A page may hold fewer than `limit` messages
    /// (even none) and still have a `next_before`: the hub reads a bounded
    /// stretch of history per page.
    HistorySearch {
        id: CommandId,
        messages: Vec<ChatMessage>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_before: Option<super::MessageId>,
    },
    /// The answer to a `shield_on` whose preset has `ban_recent_terms`,
    /// to the sender only: it took effect (`seq`, as an ack's) and these
    /// viewers used one of the terms in the preset's last minutes. A
    /// moderator bans from the list (`ban`) and can undo (`unban`); the
    /// list itself is never stored.
    ShieldReview {
        id: CommandId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        viewers: Vec<ShieldSuspect>,
    },
    /// The answer to `live_list`: every live of the hub, oldest first.
    Lives {
        id: CommandId,
        lives: Vec<super::LiveInfo>,
    },
    /// The answer to `report`: the live's published report (k-anonymous,
    /// counts only; the JSON schema of `docs/report.md`).
    Report {
        id: CommandId,
        report: Box<crate::report::Report>,
    },
    /// The answer to `sms_segments`, to the sender only: each post-live
    /// segment's recipients now (counts only).
    SmsSegments {
        id: CommandId,
        segments: Vec<super::SegmentCount>,
    },
    /// Staff only, pushed while the live's SMS counts change (and once on
    /// joining, when the live has any): counts, nothing about anyone.
    SmsProgress {
        progress: Box<super::SmsProgress>,
    },
    /// The hub is about to close this connection, and why.
    Bye {
        code: ErrorCode,
        message: String,
    },
}

impl ServerFrame {
    /// The wire name (`"welcome"`, `"event"`…), for logs and error messages.
    pub fn name(&self) -> &'static str {
        match self {
            ServerFrame::Welcome(_) => "welcome",
            ServerFrame::SnapshotPage(_) => "snapshot_page",
            ServerFrame::SnapshotEnd { .. } => "snapshot_end",
            ServerFrame::Reload { .. } => "reload",
            ServerFrame::Event(_) => "event",
            ServerFrame::Events { .. } => "events",
            ServerFrame::Ack { .. } => "ack",
            ServerFrame::Error(_) => "error",
            ServerFrame::ViewerCard { .. } => "viewer_card",
            ServerFrame::ViewerExport { .. } => "viewer_export",
            ServerFrame::RightsRequests { .. } => "rights_requests",
            ServerFrame::Rules { .. } => "rules",
            ServerFrame::RuleTest { .. } => "rule_test",
            ServerFrame::StaffLog { .. } => "staff_log",
            ServerFrame::HistorySearch { .. } => "history_search",
            ServerFrame::ShieldReview { .. } => "shield_review",
            ServerFrame::Lives { .. } => "lives",
            ServerFrame::Report { .. } => "report",
            ServerFrame::SmsSegments { .. } => "sms_segments",
            ServerFrame::SmsProgress { .. } => "sms_progress",
            ServerFrame::Bye { .. } => "bye",
        }
    }
}

/// Seqs `from..=to` hold nothing for this viewer in this frame: chat lines
/// sampled out, and events between them the viewer never receives (staff
/// only, another viewer's notices). A client moves its resume point past
/// `to` as if it had received them; a seq neither received nor skipped is
/// a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    pub from: Seq,
    pub to: Seq,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub version: u16,
    pub live: String,
    pub epoch: Epoch,
    /// The session's head when this welcome was sent: the snapshot reflects
    /// every event up to it, and the replay (when resuming) ends at it.
    pub seq: Seq,
    pub you: WhoAmI,
    /// True when the hub will replay the gap after the client's resume point
    /// instead of sending a snapshot.
    pub resumed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Snapshot>,
    /// Viewers connected when this welcome was sent, so a resuming client
    /// (no snapshot) does not keep a count from before. Absent from older
    /// hubs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewers_online: Option<u64>,
    /// Present when the snapshot's lists (polls, instant wins, open
    /// questions, held messages, recent chat, staff activity, shared
    /// names) follow in `snapshot_page` frames, then `snapshot_end`, before
    /// any live event: how many of each the pages carry in all. The
    /// welcome itself keeps only the head (pin, settings, counts), so it
    /// stays small whatever the show holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<SnapshotCounts>,
    /// The live's title, state and times when this welcome was sent;
    /// later moves come as `live_state` events. Absent from older hubs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_info: Option<super::LiveInfo>,
    /// A viewer pass the hub has just issued (the viewer came without a
    /// valid one): the client keeps it and sends it as `auth.pass` in every
    /// later `hello`. Absent when none was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
}

/// The state a client needs to draw the show from scratch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<ChatMessage>,
    /// Open (unanswered, not redacted) questions, oldest first.
    pub open_questions: Vec<ChatMessage>,
    /// Staff only: every held message, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<ChatMessage>,
    /// The most recent chat, oldest first, tombstones in place.
    pub recent: Vec<ChatEntry>,
    pub viewers_online: u64,
    pub settings: Settings,
    /// This show's polls, oldest first, each with its current tally.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polls: Vec<PollState>,
    /// This show's instant wins, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instant_wins: Vec<DrawState>,
    /// Staff only: the last staff actions from the audit log, oldest
    /// first, so a late console's Staff activity pane is not empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activity: Vec<StaffAction>,
    /// Staff only: the first names two or more viewers have posted under
    /// in this live, so every console shows the same pseudonyms whenever
    /// it joined. A console adds names from the messages it receives
    /// after the snapshot, by the same rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_names: Vec<String>,
    /// Staff only: the viewers under a ban or a running timeout, so a
    /// console marks all their lines, including those it loads later
    /// from further back than its scrollback.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sanctioned: Vec<SanctionedViewer>,
    /// Staff only: what the brand's Shield preset changes, so a console
    /// can say it before applying it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shield_preset: Option<ShieldPresetView>,
    /// Staff only: the live's products, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<Product>,
    /// The product on screen now (everyone: the viewers' card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now_showing: Option<Product>,
    /// Staff only: the canned answers (the brand file's, then those saved
    /// live), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canned: Vec<CannedAnswer>,
    /// Staff only: the claims in force ("Claire is answering").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
    /// Staff only: the viewer flags in force.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<ViewerFlag>,
}

/// How many entries of each list a paged snapshot carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SnapshotCounts {
    pub open_questions: u64,
    pub held: u64,
    pub recent: u64,
    /// Polls and instant wins (an instant win split over pages counts
    /// once). These four are left out when zero.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub polls: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub instant_wins: u64,
    /// Staff only: recent staff actions, shared first names and
    /// sanctioned viewers.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub activity: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shared_names: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sanctioned: u64,
    /// Staff only: claims and viewer flags in force.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub claims: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub flags: u64,
    pub pages: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One page of a snapshot's lists; each list continues the previous page's.
/// An instant win too big for one page (many winners with long names) is
/// split: its next part, on a following page, has the same draw id and
/// carries the following winners.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SnapshotPage {
    /// 0, 1, 2… in the order sent.
    pub page: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polls: Vec<PollState>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instant_wins: Vec<DrawState>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sanctioned: Vec<SanctionedViewer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_questions: Vec<ChatMessage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<ChatMessage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent: Vec<ChatEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activity: Vec<StaffAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<super::Claim>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<super::ViewerFlag>,
}

impl SnapshotPage {
    fn is_empty(&self) -> bool {
        self.polls.is_empty()
            && self.instant_wins.is_empty()
            && self.shared_names.is_empty()
            && self.sanctioned.is_empty()
            && self.open_questions.is_empty()
            && self.held.is_empty()
            && self.recent.is_empty()
            && self.activity.is_empty()
            && self.claims.is_empty()
            && self.flags.is_empty()
    }
}

/// Room kept in a page for its envelope (`type`, `page`, list names).
const PAGE_ENVELOPE_BYTES: usize = 256;

impl Welcome {
    /// Whether `snapshot_page` frames and a `snapshot_end` follow.
    pub fn expects_pages(&self) -> bool {
        self.counts.is_some()
    }

    /// Appends one page's lists to the snapshot; the next part of a split
    /// instant win joins its first part.
    pub fn add_page(&mut self, page: SnapshotPage) {
        let s = self.snapshot.get_or_insert_with(Snapshot::default);
        s.polls.extend(page.polls);
        for part in page.instant_wins {
            match s.instant_wins.last_mut() {
                Some(last) if last.draw.id == part.draw.id => {
                    if let (Some(result), Some(more)) = (last.result.as_mut(), part.result) {
                        result.winners.extend(more.winners);
                    }
                }
                _ => s.instant_wins.push(part),
            }
        }
        s.shared_names.extend(page.shared_names);
        s.sanctioned.extend(page.sanctioned);
        s.open_questions.extend(page.open_questions);
        s.held.extend(page.held);
        s.recent.extend(page.recent);
        s.activity.extend(page.activity);
        s.claims.extend(page.claims);
        s.flags.extend(page.flags);
    }
}

/// Fills pages up to a byte budget, in order.
struct Pager {
    budget: usize,
    pages: Vec<SnapshotPage>,
    current: SnapshotPage,
    used: usize,
}

impl Pager {
    /// Makes room for an entry of `size` bytes (and its comma): a new page
    /// when the current one is not empty and would overflow. One entry
    /// alone always fits (see [`split_draw`]).
    fn room(&mut self, size: usize) -> &mut SnapshotPage {
        if self.used > 0 && self.used + size + 1 > self.budget {
            let page = u32::try_from(self.pages.len() + 1).unwrap_or(u32::MAX);
            let full = std::mem::replace(
                &mut self.current,
                SnapshotPage {
                    page,
                    ..SnapshotPage::default()
                },
            );
            self.pages.push(full);
            self.used = 0;
        }
        self.used += size + 1;
        &mut self.current
    }

    fn finish(mut self) -> Vec<SnapshotPage> {
        if !self.current.is_empty() {
            self.pages.push(self.current);
        }
        self.pages
    }
}

/// Moves the snapshot's lists into pages of at most [`MAX_FRAME_BYTES`]
/// once serialised, in order (polls, instant wins, shared names,
/// sanctioned viewers, open
/// questions, held, recent, staff activity, claims, viewer flags), and
/// counts them. The snapshot
/// keeps its head: pin, settings, viewers online.
pub fn paginate(snapshot: &mut Snapshot) -> (SnapshotCounts, Vec<SnapshotPage>) {
    let budget = MAX_FRAME_BYTES - PAGE_ENVELOPE_BYTES;
    let mut counts = SnapshotCounts {
        open_questions: snapshot.open_questions.len() as u64,
        held: snapshot.held.len() as u64,
        recent: snapshot.recent.len() as u64,
        polls: snapshot.polls.len() as u64,
        instant_wins: snapshot.instant_wins.len() as u64,
        activity: snapshot.activity.len() as u64,
        shared_names: snapshot.shared_names.len() as u64,
        sanctioned: snapshot.sanctioned.len() as u64,
        claims: snapshot.claims.len() as u64,
        flags: snapshot.flags.len() as u64,
        pages: 0,
    };
    let mut pager = Pager {
        budget,
        pages: Vec::new(),
        current: SnapshotPage::default(),
        used: 0,
    };
    for p in std::mem::take(&mut snapshot.polls) {
        pager.room(json_len(&p)).polls.push(p);
    }
    for d in std::mem::take(&mut snapshot.instant_wins) {
        for part in split_draw(d, budget) {
            pager.room(json_len(&part)).instant_wins.push(part);
        }
    }
    for n in std::mem::take(&mut snapshot.shared_names) {
        pager.room(json_len(&n)).shared_names.push(n);
    }
    for v in std::mem::take(&mut snapshot.sanctioned) {
        pager.room(json_len(&v)).sanctioned.push(v);
    }
    for m in std::mem::take(&mut snapshot.open_questions) {
        pager.room(json_len(&m)).open_questions.push(m);
    }
    for m in std::mem::take(&mut snapshot.held) {
        pager.room(json_len(&m)).held.push(m);
    }
    for e in std::mem::take(&mut snapshot.recent) {
        pager.room(json_len(&e)).recent.push(e);
    }
    for a in std::mem::take(&mut snapshot.activity) {
        pager.room(json_len(&a)).activity.push(a);
    }
    for c in std::mem::take(&mut snapshot.claims) {
        pager.room(json_len(&c)).claims.push(c);
    }
    for f in std::mem::take(&mut snapshot.flags) {
        pager.room(json_len(&f)).flags.push(f);
    }
    let filled = pager.finish();
    counts.pages = u32::try_from(filled.len()).unwrap_or(u32::MAX);
    (counts, filled)
}

/// An instant win as parts that each fit `budget`: the draw with as many
/// winners as fit, then the same draw with the next winners, and so on.
/// (A drawn instant win has up to 100 winners of up to 40 graphemes each,
/// which can exceed one frame; the rest of a draw is far below it.)
fn split_draw(mut d: DrawState, budget: usize) -> Vec<DrawState> {
    if json_len(&d) <= budget {
        return vec![d];
    }
    let Some(winners) = d.result.as_mut().map(|r| std::mem::take(&mut r.winners)) else {
        return vec![d];
    };
    let base = json_len(&d);
    let mut parts = Vec::new();
    let mut part: Vec<Winner> = Vec::new();
    let mut used = base;
    for w in winners {
        let size = json_len(&w) + 1;
        if !part.is_empty() && used + size > budget {
            parts.push(with_winners(&d, std::mem::take(&mut part)));
            used = base;
        }
        used += size;
        part.push(w);
    }
    parts.push(with_winners(&d, part));
    parts
}

fn with_winners(d: &DrawState, winners: Vec<Winner>) -> DrawState {
    let mut part = d.clone();
    if let Some(r) = part.result.as_mut() {
        r.winners = winners;
    }
    part
}

/// The serialised length of a list entry.
fn json_len<T: Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(0, |v| v.len())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub role: Role,
    /// First name (viewer) or display name (staff).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer_id: Option<ViewerId>,
}

/// Parses one client text frame, bounding size first so a hostile frame
/// costs nothing to refuse. The error is ready to send back.
pub fn parse_client_frame(text: &str) -> Result<ClientFrame, ErrorFrame> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(ErrorFrame::new(
            None,
            ErrorCode::FrameTooLarge,
            format!(
                "frame of {} bytes exceeds the {MAX_FRAME_BYTES}-byte limit",
                text.len()
            ),
        ));
    }
    let frame: ClientFrame = serde_json::from_str(text).map_err(|e| {
        ErrorFrame::new(None, ErrorCode::BadFrame, format!("not a valid frame: {e}"))
    })?;
    if let ClientFrame::Command(c) = &frame
        && (c.id.0.is_empty() || c.id.0.len() > MAX_COMMAND_ID_BYTES)
    {
        return Err(ErrorFrame::new(
            None,
            ErrorCode::BadFrame,
            format!("a command id must be 1 to {MAX_COMMAND_ID_BYTES} bytes"),
        ));
    }
    Ok(frame)
}

/// Parses one hub text frame (console and crowd side).
pub fn parse_server_frame(text: &str) -> Result<ServerFrame, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(id: &str) -> String {
        format!(r#"{{"type":"command","id":"{id}","command":{{"type":"say","text":"hi"}}}}"#)
    }

    #[test]
    fn unknown_fields_are_ignored_at_every_level() {
        let hello = r#"{"type":"hello","version":1,"live":"show","x":1,
            "auth":{"kind":"viewer","first_name":"Julie","colour":"red"},"extra":[1,2]}"#;
        let Ok(ClientFrame::Hello(h)) = parse_client_frame(hello) else {
            panic!("a hello with unknown fields parses");
        };
        assert_eq!(h.live, "show");
        assert!(matches!(h.auth, Auth::Viewer { ref first_name, .. } if first_name == "Julie"));
        let command = r#"{"type":"command","id":"c1","later":true,
            "command":{"type":"say","text":"hi","font":"big"}}"#;
        assert!(matches!(
            parse_client_frame(command),
            Ok(ClientFrame::Command(c)) if c.id.0 == "c1"
        ));
    }

    #[test]
    fn a_command_id_is_one_to_the_limit_in_bytes() {
        let limit = MAX_COMMAND_ID_BYTES;
        assert!(parse_client_frame(&say(&"i".repeat(limit))).is_ok());
        for bad in [String::new(), "i".repeat(limit + 1)] {
            let err = parse_client_frame(&say(&bad)).expect_err("refused");
            assert_eq!(err.code, ErrorCode::BadFrame, "{bad:?}");
        }
    }

    #[test]
    fn a_frame_of_exactly_the_limit_is_read_and_one_byte_more_is_refused() {
        let padded = |total: usize| {
            let base = say("c1");
            let pad = total - base.len() - r#","pad":"""#.len();
            let text = format!(
                r#"{},"pad":"{}"}}"#,
                &base[..base.len() - 1],
                "p".repeat(pad)
            );
            assert_eq!(text.len(), total);
            text
        };
        assert!(parse_client_frame(&padded(MAX_FRAME_BYTES)).is_ok());
        let err = parse_client_frame(&padded(MAX_FRAME_BYTES + 1)).expect_err("too big");
        assert_eq!(err.code, ErrorCode::FrameTooLarge);
    }
}
