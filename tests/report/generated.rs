//! A generated live written into a real store, with the facts kept aside
//! so the tests can work out the figures on their own, the slow way.

use regie::protocol::{
    Actor, Author, ChatMessage, Event, EventFrame, LiveInfo, LiveState, MessageId, Millis,
    StaffRole, ViewerId, Visibility,
};
use regie::store::{Commit, Presence, SqliteStore, Store, ViewerRecord};

pub(crate) const LIVE: &str = "show";
pub(crate) const START: Millis = 1_750_000_000_000;
pub(crate) const MINUTES: i64 = 30;
pub(crate) const END: Millis = START + MINUTES * 60_000;

/// A small deterministic generator (no seed file, same live every run).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn between(&mut self, a: Millis, b: Millis) -> Millis {
        a + Millis::try_from(self.below(u64::try_from(b - a).expect("b > a"))).expect("small")
    }
}

pub(crate) fn viewer(n: u32) -> ViewerId {
    ViewerId(format!("viewer-{n:04}"))
}

pub(crate) fn first_name(n: u32) -> String {
    format!("Prenom{n}")
}

#[derive(Debug, Clone)]
pub(crate) struct Msg {
    pub(crate) id: u64,
    pub(crate) at: Millis,
    pub(crate) author: u32,
    pub(crate) question: bool,
    pub(crate) answered_at: Option<Millis>,
    pub(crate) text: String,
}

/// What was written, to check the report against.
#[derive(Debug, Clone, Default)]
pub(crate) struct Truth {
    /// (viewer, joined, left), non-overlapping per viewer.
    pub(crate) spans: Vec<(u32, Millis, Millis)>,
    pub(crate) messages: Vec<Msg>,
    /// (message id, rule id) of `message_flagged` events.
    pub(crate) flagged: Vec<(u64, u32)>,
    /// Viewers timed out.
    pub(crate) timeouts: Vec<u32>,
}

pub(crate) struct Written {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) store: SqliteStore,
    pub(crate) truth: Truth,
    epoch: regie::protocol::Epoch,
    head: u64,
}

impl Written {
    pub(crate) fn commit(&mut self, at: Millis, event: Event) {
        self.head += 1;
        let frame = EventFrame {
            epoch: self.epoch.clone(),
            seq: self.head,
            at,
            event,
        };
        self.store
            .commit(LIVE, &[Commit::event(frame)])
            .expect("the store commits the next event");
    }
}

fn moderator() -> Actor {
    Actor {
        name: Some("Ines".into()),
        role: StaffRole::Moderator,
    }
}

#[expect(clippy::too_many_lines, reason = "the whole live, in time order")]
/// `viewers` viewers, of whom the first `chatters` write `messages`
/// messages over a 30-minute live.
pub(crate) fn live(seed: u64, viewers: u32, chatters: u32, messages: u64) -> Written {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::open(dir.path()).expect("open the store");
    store
        .create_live(
            &LiveInfo {
                name: LIVE.into(),
                title: "Soldes".into(),
                state: LiveState::Scheduled,
                starts_at: Some(START),
                started_at: None,
                ended_at: None,
            },
            START - 3_600_000,
        )
        .expect("create the live");
    let head = store.open_live(LIVE).expect("open the live");
    let mut rng = Lcg(seed);
    let mut truth = Truth::default();

    for v in 0..viewers {
        store
            .upsert_viewer(
                LIVE,
                &ViewerRecord {
                    id: viewer(v),
                    first_name: first_name(v),
                    pseudonym: format!("pseudo{v}"),
                    first_seen: START - 120_000,
                    last_seen: START - 120_000,
                },
                &regie::protocol::Contact::default(),
            )
            .expect("store a viewer");
        // One to three stretches, some before the start or past the end.
        let mut from = rng.between(START - 120_000, START + 600_000);
        for _ in 0..=rng.below(3) {
            let to = rng.between(from + 1, (from + 900_000).min(END + 120_000).max(from + 2));
            store
                .presence(LIVE, from, &[(viewer(v), Presence::Joined)])
                .expect("join");
            store
                .presence(LIVE, to, &[(viewer(v), Presence::Left)])
                .expect("leave");
            truth.spans.push((v, from, to));
            from = to + Millis::try_from(rng.below(200_000)).expect("small");
            if from >= END + 60_000 {
                break;
            }
        }
    }

    let mut w = Written {
        dir,
        store,
        truth,
        epoch: head.epoch,
        head: head.head,
    };
    w.commit(
        START,
        Event::LiveState {
            state: LiveState::OnAir,
        },
    );

    let mut times: Vec<Millis> = (0..messages)
        .map(|_| rng.between(START - 30_000, END))
        .collect();
    times.sort_unstable();
    let mut pending_answers: Vec<(Millis, u64)> = Vec::new();
    for (i, at) in times.into_iter().enumerate() {
        let id = i as u64 + 1;
        // Answers due before this message go first, in time order.
        pending_answers.sort_unstable();
        while let Some(&(due, q)) = pending_answers.first() {
            if due > at {
                break;
            }
            pending_answers.remove(0);
            w.commit(
                due,
                Event::QuestionAnswered {
                    message_id: MessageId(q),
                    by: moderator(),
                },
            );
            if let Some(m) = w.truth.messages.iter_mut().find(|m| m.id == q) {
                m.answered_at = Some(due);
            }
        }
        let author = u32::try_from(rng.below(u64::from(chatters))).expect("small");
        let question = rng.below(5) == 0;
        let text = format!("message secret {id} from {}", first_name(author));
        let message = ChatMessage {
            id: MessageId(id),
            at,
            author: Author::Viewer {
                viewer_id: viewer(author),
                first_name: first_name(author),
                pseudonym: format!("pseudo{author}"),
            },
            text: text.clone(),
            question,
            answered: false,
            reply_to: None,
            also_to: Vec::new(),
            visibility: Visibility::Visible,
            product: None,
            announcement: false,
        };
        w.commit(at, Event::Message { message });
        w.truth.messages.push(Msg {
            id,
            at,
            author,
            question,
            answered_at: None,
            text,
        });
        if question && rng.below(3) > 0 {
            pending_answers.push((
                at + 1000 + Millis::try_from(rng.below(120_000)).expect("small"),
                id,
            ));
        }
        if rng.below(10) == 0 {
            let rule_id = 1 + u32::try_from(rng.below(3)).expect("small");
            w.commit(
                at,
                Event::MessageFlagged {
                    message_id: MessageId(id),
                    rule_id,
                    kind: regie::protocol::RuleType::Term,
                },
            );
            w.truth.flagged.push((id, rule_id));
        }
    }
    // Answers past the last message, still before the end.
    pending_answers.sort_unstable();
    for (due, q) in pending_answers {
        let due = due.min(END);
        w.commit(
            due,
            Event::QuestionAnswered {
                message_id: MessageId(q),
                by: moderator(),
            },
        );
        if let Some(m) = w.truth.messages.iter_mut().find(|m| m.id == q) {
            m.answered_at = Some(due);
        }
    }
    for v in [1u32, 2] {
        w.commit(
            END - 1000,
            Event::ViewerTimedOut {
                viewer_id: viewer(v),
                until: END + 60_000,
                reason: "spam".into(),
                by: moderator(),
            },
        );
        w.truth.timeouts.push(v);
    }
    w.commit(
        END,
        Event::LiveState {
            state: LiveState::Ended,
        },
    );
    w
}
