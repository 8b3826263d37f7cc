//! Builders for store tests: events, messages and staff as the hub makes them.

use regie::protocol::{
    Actor, Author, ChatMessage, ConsentChannel, ConsentPurpose, ConsentState, Contact, Epoch,
    Event, EventFrame, MessageId, Millis, ReplyTo, Seq, StaffRole, Tombstone, ViewerId, Visibility,
};
use regie::store::{AuditEntry, Commit, LiveHead, Store};

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
