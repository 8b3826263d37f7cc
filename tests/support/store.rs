//! Builders for store tests: events, messages and staff as the hub makes them.

use regie::instant_win::{DrawRecord, Seed};
use regie::protocol::{
    Actor, Author, ChatMessage, ConsentChannel, ConsentPurpose, ConsentState, Contact, DrawView,
    Epoch, Event, EventFrame, MessageId, Millis, Replacement, ReplyTo, Seq, StaffRole, Tombstone,
    ViewerId, Visibility, Winner,
};
use regie::store::{AuditEntry, Commit, GameWrite, LiveHead, Store};

pub(crate) const LIVE: &str = "show";
pub(crate) const T0: Millis = 1_750_000_000_000;

/// `n` ms after [`T0`]: when message `n`, or the event at seq `n`, happened.
fn at(n: u64) -> Millis {
    T0 + Millis::try_from(n).expect("test ids and seqs are far below i64::MAX")
}

pub(crate) fn viewer(n: u32) -> ViewerId {
    ViewerId(format!("v-{n}"))
}

/// Records that `viewer` granted `purpose`: a contact value is stored only
/// under a consent its field serves.
pub(crate) fn grant(store: &mut dyn Store, viewer: &ViewerId, purpose: ConsentPurpose) {
    store
        .record_consent(
            LIVE,
            viewer,
            &ConsentState {
                purpose,
                granted: true,
                at: T0,
                channel: ConsentChannel::Player,
                text_sha256: "ab".repeat(32),
            },
            &Contact::default(),
        )
        .expect("record a consent");
}

pub(crate) fn moderator() -> Actor {
    Actor {
        name: Some("Inès".into()),
        role: StaffRole::Moderator,
    }
}

pub(crate) fn support() -> Actor {
    Actor {
        name: Some("Sam".into()),
        role: StaffRole::Support,
    }
}

pub(crate) fn viewer_message(id: u64, author: u32, text: &str, question: bool) -> ChatMessage {
    ChatMessage {
        id: MessageId(id),
        at: at(id),
        author: Author::Viewer {
            viewer_id: viewer(author),
            first_name: "Julie".into(),
            pseudonym: format!("julie{author}"),
        },
        text: text.into(),
        question,
        answered: false,
        reply_to: None,
        also_to: Vec::new(),
        visibility: Visibility::Visible,
        product: None,
        announcement: false,
    }
}

pub(crate) fn answer(id: u64, to: &ChatMessage, text: &str) -> ChatMessage {
    ChatMessage {
        id: MessageId(id),
        at: at(id),
        author: Author::Staff {
            name: "Léa".into(),
            role: StaffRole::Host,
        },
        text: text.into(),
        question: false,
        answered: false,
        reply_to: Some(ReplyTo {
            message_id: to.id,
            first_name: to.author.display_name().into(),
        }),
        also_to: Vec::new(),
        visibility: Visibility::Visible,
        product: None,
        announcement: false,
    }
}

pub(crate) fn tombstone(m: &ChatMessage, reason: &str, at: Millis) -> Tombstone {
    Tombstone {
        message_id: m.id,
        posted_at: m.at,
        redacted_at: at,
        author_id: m.author.viewer_id().cloned(),
        reason: reason.into(),
        by: support(),
    }
}

pub(crate) fn audit(action: &str, target: &str, reason: &str) -> AuditEntry {
    AuditEntry {
        actor_name: "Sam".into(),
        actor_role: StaffRole::Support,
        action: action.into(),
        target: target.into(),
        reason: reason.into(),
        at: T0,
    }
}

/// Numbers events the way the hub's session actor does.
pub(crate) struct Sequencer {
    pub(crate) epoch: Epoch,
    pub(crate) head: Seq,
}

impl Sequencer {
    pub(crate) fn new(head: &LiveHead) -> Self {
        Self {
            epoch: head.epoch.clone(),
            head: head.head,
        }
    }

    pub(crate) fn frame(&mut self, event: Event) -> EventFrame {
        self.head += 1;
        EventFrame {
            epoch: self.epoch.clone(),
            seq: self.head,
            at: at(self.head),
            event,
        }
    }

    /// Commits one event, returning its seq.
    pub(crate) fn commit(&mut self, store: &mut impl Store, event: Event) -> Seq {
        let frame = self.frame(event);
        let seq = frame.seq;
        store
            .commit(LIVE, &[Commit::event(frame)])
            .expect("the store commits the next event");
        seq
    }

    pub(crate) fn say(&mut self, store: &mut impl Store, m: &ChatMessage) -> Seq {
        self.commit(store, Event::Message { message: m.clone() })
    }

    /// Instant win 1 with `winner` its only entrant, drawn and announced;
    /// then re-drawn as instant win 2 with `winner` excluded: the winner's
    /// names are in both draws' rows and in their events.
    #[allow(dead_code, reason = "not every test binary uses every builder")]
    pub(crate) fn win_and_redraw(&mut self, store: &mut impl Store, winner: &Winner) {
        let host = Actor {
            name: Some("Sophie".into()),
            role: StaffRole::Host,
        };
        let view = |id: u64, seed: &Seed, replaces: Option<Replacement>| DrawView {
            id,
            prize: "Sac".into(),
            winners: 1,
            opened_at: T0,
            closes_at: T0 + 120_000,
            rules: "No purchase necessary.".into(),
            commitment: seed.commitment(),
            redraw_of: (id > 1).then_some(1),
            replaces: replaces.map(Box::new),
            by: host.clone(),
        };
        let seed = Seed::generate().expect("a seed");
        let opened = |seq: &mut Self, draw: DrawView, seed: &Seed| {
            Commit::event(seq.frame(Event::InstantWinOpened { draw: draw.clone() })).with_game(
                GameWrite::InstantWinOpened {
                    draw,
                    seed_hex: seed.to_hex(),
                },
            )
        };
        let first = opened(self, view(1, &seed, None), &seed);
        let entry = Commit::without_event().with_game(GameWrite::Entry {
            draw_id: 1,
            viewer: winner.viewer_id.clone(),
        });
        let record = DrawRecord::close(
            1,
            "Sac".into(),
            1,
            &seed,
            vec![winner.viewer_id.clone()],
            None,
        )
        .expect("a draw among one entrant");
        let drawn = Commit::event(self.frame(Event::InstantWinDrawn {
            draw_id: 1,
            seed: seed.to_hex(),
            entrants: 1,
            entrants_hash: record.entrants_hash.clone(),
            winners: vec![winner.clone()],
            by: Some(host.clone()),
        }))
        .with_game(GameWrite::Drawn {
            record,
            winners: vec![winner.clone()],
            drawn_at: T0 + 120_000,
        });
        let again = Seed::generate().expect("a seed");
        let excluded = Replacement {
            kept: Vec::new(),
            excluded: vec![winner.clone()],
            reason: "did not answer".into(),
        };
        let redraw = opened(self, view(2, &again, Some(excluded)), &again);
        store
            .commit(LIVE, &[first, entry, drawn, redraw])
            .expect("the store commits the draws");
    }

    /// Redacts in one commit with its audit entry, as the hub does.
    pub(crate) fn redact(&mut self, store: &mut impl Store, m: &ChatMessage, reason: &str) -> Seq {
        let frame = self.frame(Event::Redacted {
            tombstone: tombstone(m, reason, T0 + 10_000),
        });
        let seq = frame.seq;
        store
            .commit(
                LIVE,
                &[Commit::event(frame).with_audit(audit("redact", &m.id.to_string(), reason))],
            )
            .expect("the store commits the redaction with its audit entry");
        seq
    }
}

/// Whether `needle` appears in the raw bytes of the database in `dir`, its
/// WAL or its shared-memory index: what a forensic look at the disk finds.
pub(crate) fn on_disk(dir: &std::path::Path, needle: impl AsRef<[u8]>) -> bool {
    let needle = needle.as_ref();
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            std::fs::read(dir.join(format!("{}{suffix}", regie::store::DB_FILE))).ok()
        })
        .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}
