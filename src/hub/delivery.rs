//! Viewer delivery: one tick's events, coalesced into `events` frames and,
//! above the live's chat rate, sampled.
//!
//! Each event is put in the viewers' form and serialised once, when it is
//! committed; a tick's frames are then concatenations of those pieces. A
//! viewer whose command is answered mid-tick gets the tick so far at once
//! (sampled by the same rule), then its answer: an ack never waits for the
//! tick, and still follows the event it names. Most
//! viewers get the same frames (one allocation the fan-out shares between
//! every queue); a viewer with a line of its own among those sampled out,
//! or a notice for it alone, gets frames of its own.
//!
//! The sample is fair across senders and deterministic: the tick's budget
//! (the live's `chat_per_sec` times the tick, plus what quieter ticks left
//! unused, up to one second's worth) is filled round-robin over the tick's senders,
//! one line each per round, their first lines first; the senders' order
//! in a round is a hash of their id and the tick's first seq, so no sender
//! is always first and one sending 50 lines a tick takes no more than one
//! sending one while the budget is short. The same events and policy give
//! the same sample on every run.

use std::collections::{HashMap, HashSet};

use crate::protocol::{DeliveryPolicy, Event, EventFrame, Role, Seq, ViewerId};

/// An `events` frame is cut before its events pass this many bytes, so it
/// stays within what any client reads in one frame.
const FRAME_BUDGET_BYTES: usize = crate::protocol::MAX_FRAME_BYTES - 1024;

/// A line's credit, in thousandths of a line (the rate is per second, the
/// tick in milliseconds).
const LINE: u64 = 1000;

/// How much of the rate quiet ticks save up, in milliseconds: a burst of
/// up to one second's worth of lines after a calmer moment goes through
/// whole, so a chat whose rate stays under `chat_per_sec` is never
/// sampled (real chats come in bursts: four lines in one tick of a chat
/// averaging ten a second), while above it viewers still average at most
/// `chat_per_sec` lines a second.
const SAVED_UP_MS: u64 = 1000;

/// Whether an event ends the viewers' tick at once instead of waiting for
/// it: one that takes content off their screens (a redaction, an erasure,
/// a hidden message). A data-protection request must not leave the text
/// on 50,000 screens for another tick, and these are rare: ending a tick
/// early costs one frame more per viewer, now and then.
pub(crate) fn ends_tick(event: &Event) -> bool {
    matches!(
        event,
        Event::Redacted { .. } | Event::ViewerErased { .. } | Event::Hidden { .. }
    )
}

/// Who among viewers an event is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Class {
    /// Every viewer: staff lines, questions, pins, polls, moderation,
    /// lifecycle.
    Everyone,
    /// A viewer's chat line, which may be sampled out (never for its
    /// author).
    Line(ViewerId),
    /// Only this viewer (a hold notice, a lifted sanction).
    Only(ViewerId),
}

#[derive(Debug)]
struct Entry {
    seq: Seq,
    /// The event frame in the viewers' form, serialised.
    json: String,
    class: Class,
}

/// The events committed since the last tick, and the sampling credit.
#[derive(Debug)]
pub(crate) struct Tick {
    policy: DeliveryPolicy,
    entries: Vec<Entry>,
    credit: u64,
}

impl Tick {
    pub(crate) fn new(policy: DeliveryPolicy) -> Self {
        let mut tick = Self {
            policy,
            entries: Vec::new(),
            credit: 0,
        };
        tick.credit = tick.cap();
        tick
    }

    pub(crate) fn policy(&self) -> DeliveryPolicy {
        self.policy
    }

    /// A new policy from the next tick on (the credit starts full).
    pub(crate) fn set_policy(&mut self, policy: DeliveryPolicy) {
        self.policy = policy;
        self.credit = self.cap();
    }

    /// Events waiting for the tick: a viewer registered now starts after
    /// them (its welcome covers them).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds a committed event; one viewers never see is left out.
    pub(crate) fn push(&mut self, frame: &EventFrame) {
        let Some(event) = frame.event.for_role(Role::Viewer) else {
            return;
        };
        let class = match (&event, frame.event.only_for_viewer()) {
            (_, Some(viewer)) => Class::Only(viewer.clone()),
            (Event::Message { message } | Event::Released { message, .. }, None)
                if !message.question && !message.announcement =>
            {
                message
                    .author
                    .viewer_id()
                    .map_or(Class::Everyone, |v| Class::Line(v.clone()))
            }
            _ => Class::Everyone,
        };
        let viewer_frame = EventFrame {
            event,
            ..frame.clone()
        };
        let json = serde_json::to_string(&viewer_frame).expect("event frames always serialise");
        self.entries.push(Entry {
            seq: frame.seq,
            json,
            class,
        });
    }

    /// The tick's events so far from the `from`th on for `viewer`, their
    /// chat lines sampled by the same rule and budget as the tick's:
    /// what a viewer whose command was just answered gets before its
    /// answer, so the answer never waits for the tick. It then starts
    /// after them ([`Tick::len`]) at the tick's end.
    pub(crate) fn so_far(&self, viewer: Option<&ViewerId>, from: usize) -> Vec<String> {
        let mut kept = vec![true; self.entries.len()];
        if self.policy.samples() {
            let budget = usize::try_from(self.credit_at_end() / LINE).unwrap_or(usize::MAX);
            sample(&self.entries[from..], budget, &mut kept[from..]);
        }
        frames_of(&self.entries, |i| kept[i], viewer, from)
    }

    /// The credit the tick will have at its end.
    fn credit_at_end(&self) -> u64 {
        let gained = u64::from(self.policy.chat_per_sec) * u64::from(self.policy.tick_ms);
        (self.credit + gained).min(self.cap())
    }

    /// The most credit kept: [`SAVED_UP_MS`] of the rate (and never less
    /// than a tick's, nor than one line).
    fn cap(&self) -> u64 {
        let rate = u64::from(self.policy.chat_per_sec);
        (rate * SAVED_UP_MS.max(u64::from(self.policy.tick_ms))).max(LINE)
    }

    /// Ends the tick: decides the sample and hands over its events.
    pub(crate) fn take(&mut self) -> Plan {
        let entries = std::mem::take(&mut self.entries);
        let mut kept = vec![true; entries.len()];
        if self.policy.samples() {
            self.credit = self.credit_at_end();
            let budget = usize::try_from(self.credit / LINE).unwrap_or(usize::MAX);
            let taken = sample(&entries, budget, &mut kept);
            self.credit -= taken as u64 * LINE;
        }
        let mut personal = HashSet::new();
        for (e, &k) in entries.iter().zip(&kept) {
            match &e.class {
                Class::Line(author) if !k => {
                    personal.insert(author.clone());
                }
                Class::Only(viewer) => {
                    personal.insert(viewer.clone());
                }
                _ => {}
            }
        }
        Plan {
            entries,
            kept,
            personal,
        }
    }
}

/// Keeps at most `budget` of the entries' chat lines (clearing `kept` for
/// the others), fairly across senders; returns how many lines it kept.
fn sample(entries: &[Entry], budget: usize, kept: &mut [bool]) -> usize {
    let mut senders: Vec<(&ViewerId, Vec<usize>)> = Vec::new();
    let mut at: HashMap<&ViewerId, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if let Class::Line(author) = &e.class {
            let slot = *at.entry(author).or_insert_with(|| {
                senders.push((author, Vec::new()));
                senders.len() - 1
            });
            senders[slot].1.push(i);
        }
    }
    let lines: usize = senders.iter().map(|(_, l)| l.len()).sum();
    if lines <= budget {
        return lines;
    }
    let salt = entries.first().map_or(0, |e| e.seq);
    senders.sort_by_key(|(author, _)| (rank(author, salt), author.0.clone()));
    let mut chosen = HashSet::with_capacity(budget);
    let mut round = 0;
    while chosen.len() < budget {
        let mut any = false;
        for (_, lines) in &senders {
            if let Some(&i) = lines.get(round) {
                any = true;
                if chosen.len() < budget {
                    chosen.insert(i);
                }
            }
        }
        if !any {
            break;
        }
        round += 1;
    }
    for (i, e) in entries.iter().enumerate() {
        if matches!(e.class, Class::Line(_)) {
            kept[i] = chosen.contains(&i);
        }
    }
    chosen.len()
}

/// A sender's place in a tick's rounds: FNV-1a of its id, mixed with the
/// tick's first seq (splitmix64's finaliser). Not stored, not a key of
/// anything: only an order.
fn rank(viewer: &ViewerId, salt: Seq) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in viewer.0.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One tick's events with their sample: the frames each viewer gets.
#[derive(Debug)]
pub(crate) struct Plan {
    entries: Vec<Entry>,
    kept: Vec<bool>,
    /// Viewers whose frames differ from the shared ones.
    personal: HashSet<ViewerId>,
}

impl Plan {
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a viewer registered at `from` with id `viewer` gets frames
    /// of its own rather than [`Plan::frames`]`(None, 0)`.
    pub(crate) fn is_personal(&self, viewer: Option<&ViewerId>, from: usize) -> bool {
        from > 0 || viewer.is_some_and(|v| self.personal.contains(v))
    }

    /// Chat lines sampled out of the shared frames.
    pub(crate) fn sampled_out(&self) -> u64 {
        self.kept.iter().filter(|k| !**k).count() as u64
    }

    /// The `events` frames for `viewer`, from the `from`th event of the
    /// tick on (a viewer that joined during the tick has the earlier ones
    /// in its welcome). Empty when nothing is for it.
    pub(crate) fn frames(&self, viewer: Option<&ViewerId>, from: usize) -> Vec<String> {
        frames_of(&self.entries, |i| self.kept[i], viewer, from)
    }
}

/// The `events` frames of `entries[from..]` for `viewer`, the chat lines
/// `kept` says in (and the viewer's own), the others skipped.
fn frames_of(
    entries: &[Entry],
    kept: impl Fn(usize) -> bool,
    viewer: Option<&ViewerId>,
    from: usize,
) -> Vec<String> {
    let mut out = Frames::default();
    for (i, e) in entries.iter().enumerate().skip(from) {
        let delivered = match &e.class {
            Class::Everyone => true,
            Class::Line(author) => viewer == Some(author) || kept(i),
            Class::Only(target) => viewer == Some(target),
        };
        if delivered {
            out.event(&e.json);
        } else if matches!(e.class, Class::Line(_)) {
            out.skip(e.seq);
        }
    }
    out.finish()
}

/// `events` frames being written.
#[derive(Default)]
struct Frames {
    done: Vec<String>,
    events: Vec<String>,
    bytes: usize,
    skipped: Vec<(Seq, Seq)>,
    /// A run of skipped seqs not closed by a delivered event yet.
    open: Option<(Seq, Seq)>,
}

impl Frames {
    fn event(&mut self, json: &str) {
        if let Some(range) = self.open.take() {
            self.skipped.push(range);
        }
        if !self.events.is_empty() && self.bytes + json.len() > FRAME_BUDGET_BYTES {
            self.cut();
        }
        self.bytes += json.len() + 1;
        self.events.push(json.to_owned());
    }

    fn skip(&mut self, seq: Seq) {
        self.open = Some(match self.open {
            Some((from, _)) => (from, seq),
            None => (seq, seq),
        });
    }

    fn cut(&mut self) {
        let mut text = String::with_capacity(self.bytes + 64);
        text.push_str(r#"{"type":"events","events":["#);
        text.push_str(&self.events.join(","));
        text.push(']');
        if !self.skipped.is_empty() {
            text.push_str(r#","skipped":["#);
            let ranges: Vec<String> = self
                .skipped
                .iter()
                .map(|(from, to)| format!(r#"{{"from":{from},"to":{to}}}"#))
                .collect();
            text.push_str(&ranges.join(","));
            text.push(']');
        }
        text.push('}');
        self.done.push(text);
        self.events.clear();
        self.skipped.clear();
        self.bytes = 0;
    }

    fn finish(mut self) -> Vec<String> {
        if let Some(range) = self.open.take() {
            self.skipped.push(range);
        }
        if !self.events.is_empty() || !self.skipped.is_empty() {
            self.cut();
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        Actor, Author, ChatMessage, Epoch, MessageId, ServerFrame, Skip, StaffRole, Visibility,
        parse_server_frame,
    };

    fn line(seq: Seq, author: &str, question: bool) -> EventFrame {
        EventFrame {
            epoch: Epoch("e".into()),
            seq,
            at: 0,
            event: Event::Message {
                message: ChatMessage {
                    id: MessageId(seq),
                    at: 0,
                    author: Author::Viewer {
                        viewer_id: ViewerId(author.into()),
                        first_name: author.into(),
                        pseudonym: author.into(),
                    },
                    text: format!("line {seq}"),
                    question,
                    answered: false,
                    reply_to: None,
                    also_to: Vec::new(),
                    visibility: Visibility::Visible,
                    announcement: false,
                    product: None,
                },
            },
        }
    }

    fn pin(seq: Seq) -> EventFrame {
        EventFrame {
            epoch: Epoch("e".into()),
            seq,
            at: 0,
            event: Event::Pinned {
                message_id: MessageId(1),
                by: Actor {
                    name: Some("Claire".into()),
                    role: StaffRole::Host,
                },
            },
        }
    }

    fn policy(chat_per_sec: u32) -> DeliveryPolicy {
        DeliveryPolicy {
            tick_ms: 100,
            chat_per_sec,
        }
    }

    /// What a client reads from the frames: seqs received, ranges skipped.
    fn read(frames: &[String]) -> (Vec<Seq>, Vec<Skip>) {
        let (mut seqs, mut skips) = (Vec::new(), Vec::new());
        for f in frames {
            let Ok(ServerFrame::Events { events, skipped }) = parse_server_frame(f) else {
                panic!("an events frame: {f}");
            };
            seqs.extend(events.iter().map(|e| e.seq));
            skips.extend(skipped);
        }
        (seqs, skips)
    }

    /// A tick whose saved-up credit a burst used up: from now on each
    /// tick gets only its own share of the rate.
    fn drained(policy: DeliveryPolicy) -> Tick {
        let mut tick = Tick::new(policy);
        for seq in 1..=u64::from(policy.chat_per_sec) * 2 {
            tick.push(&line(1000 + seq, "burst", false));
        }
        tick.take();
        tick
    }

    #[test]
    fn under_the_rate_every_line_goes_in_one_frame() {
        let mut tick = Tick::new(policy(20));
        tick.push(&line(1, "a", false));
        tick.push(&pin(2));
        let plan = tick.take();
        let frames = plan.frames(None, 0);
        assert_eq!(frames.len(), 1);
        assert_eq!(read(&frames), (vec![1, 2], vec![]));
    }

    #[test]
    fn above_the_rate_senders_share_the_budget_and_skips_name_the_rest() {
        // Budget: 20 lines/s × 100 ms = 2 lines. "spam" sends 5, "b" one.
        let mut tick = drained(policy(20));
        for seq in 1..=5 {
            tick.push(&line(seq, "spam", false));
        }
        tick.push(&line(6, "b", false));
        tick.push(&line(7, "c", true));
        let plan = tick.take();
        let (seqs, skips) = read(&plan.frames(None, 0));
        // One line of each sender, then the question.
        assert_eq!(seqs, vec![1, 6, 7]);
        assert_eq!(skips, vec![Skip { from: 2, to: 5 }]);
        // The spammer gets its own lines back, nothing skipped for it.
        let spam = ViewerId("spam".into());
        assert!(plan.is_personal(Some(&spam), 0));
        assert_eq!(
            read(&plan.frames(Some(&spam), 0)),
            (vec![1, 2, 3, 4, 5, 6, 7], vec![])
        );
        assert_eq!(plan.sampled_out(), 4);
    }

    #[test]
    fn the_sample_is_the_same_for_the_same_events() {
        let run = || {
            let mut tick = drained(policy(10));
            for seq in 1..=40 {
                tick.push(&line(seq, &format!("v{}", seq % 7), false));
            }
            read(&tick.take().frames(None, 0))
        };
        assert_eq!(run(), run());
        assert_eq!(run().0.len(), 1, "10/s at 100 ms is one line a tick");
    }

    #[test]
    fn a_late_viewer_starts_after_what_its_welcome_covers() {
        let mut tick = Tick::new(policy(0));
        tick.push(&line(1, "a", false));
        tick.push(&line(2, "b", false));
        let plan = tick.take();
        assert!(plan.is_personal(None, 1));
        assert_eq!(read(&plan.frames(None, 1)), (vec![2], vec![]));
        assert!(plan.frames(None, 2).is_empty());
    }

    #[test]
    fn an_answered_viewer_gets_the_tick_so_far_then_the_rest() {
        let mut tick = Tick::new(policy(1));
        for seq in 1..=3 {
            tick.push(&line(seq, "a", false));
        }
        let julie = ViewerId("julie".into());
        // Sampled as the tick would be: one line of "a", two skipped.
        let (seqs, skips) = read(&tick.so_far(Some(&julie), 0));
        assert_eq!(seqs, vec![1]);
        assert_eq!(skips, vec![Skip { from: 2, to: 3 }]);
        let from = tick.len();
        tick.push(&line(4, "a", false));
        tick.push(&line(5, "b", false));
        let plan = tick.take();
        assert!(plan.is_personal(Some(&julie), from));
        let (seqs, skips) = read(&plan.frames(Some(&julie), from));
        // 4 and 5, each received or skipped once; never 1 to 3 again.
        let mut covered = seqs.clone();
        covered.extend(skips.iter().flat_map(|s| s.from..=s.to));
        covered.sort_unstable();
        assert_eq!(covered, vec![4, 5], "{seqs:?} {skips:?}");
    }

    #[test]
    fn big_ticks_are_cut_into_frames_in_seq_order() {
        let mut tick = Tick::new(policy(0));
        for seq in 1..=400 {
            tick.push(&line(seq, "a", false));
        }
        let frames = tick.take().frames(None, 0);
        assert!(frames.len() > 1);
        assert!(
            frames
                .iter()
                .all(|f| f.len() <= crate::protocol::MAX_FRAME_BYTES)
        );
        assert_eq!(read(&frames).0, (1..=400).collect::<Vec<_>>());
    }

    /// A chat averaging 10 lines a second in bursts of 4 (four lines in one
    /// tick, then three quiet ticks) stays under the 20/s rate: nothing is
    /// sampled out, though a burst is twice a tick's share.
    #[test]
    fn bursts_under_the_rate_are_never_sampled() {
        let mut tick = Tick::new(policy(20));
        let mut seq = 0;
        for round in 0..100 {
            if round % 4 == 0 {
                for sender in ["a", "b", "c", "d"] {
                    seq += 1;
                    tick.push(&line(seq, sender, false));
                }
            }
            assert_eq!(tick.take().sampled_out(), 0, "tick {round}");
        }
    }

    /// Above the rate, viewers average at most the rate: 50 lines a second
    /// for 10 s at 20/s carry the 10 s share plus one second saved up.
    #[test]
    fn above_the_rate_the_average_is_the_rate() {
        let mut tick = Tick::new(policy(20));
        let (mut seq, mut sent, mut skipped) = (0, 0, 0);
        for _ in 0..100 {
            for sender in ["a", "b", "c", "d", "e"] {
                seq += 1;
                sent += 1;
                tick.push(&line(seq, sender, false));
            }
            skipped += tick.take().sampled_out();
        }
        let kept = sent - skipped;
        assert!((200..=220).contains(&kept), "kept {kept} of {sent}");
    }
}
