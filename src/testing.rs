//! Fixtures shared by the crate's unit tests (`cfg(test)` only): the
//! session test world and the principals, messages and sessions that more
//! than one module's tests build. A fixture used by one module stays in
//! that module's `tests`.
//!
//! | fixture | what it is | used by |
//! |---|---|---|
//! | [`T0`] | a fixed clock for session rules | `hub::session`, `hub::engagement` |
//! | [`fresh_session`] | a session at seq 0 with no stored history | `hub::session`, `hub::engagement` |
//! | [`World`] | a session, its history and a clock that ticks per command | `hub::session` |
//! | [`MapHistory`], [`NoHistory`] | what the store would answer for old messages and viewers | `hub::session`, `hub::engagement` |
//! | [`staff`], [`viewer`] | principals as a connection makes them | `hub::session`, `hub::engagement` |
//! | [`refusal`], [`only_event`] | the parts of a decision tests look at | `hub::session`, `hub::engagement` |
//! | [`viewer_author`], [`chat_message`] | a viewer's chat message as the hub sends it | `console::feed`, `console::filter`, `crowd::viewer` |

use std::collections::{HashMap, HashSet};

use crate::hub::moderation::Moderation;
use crate::hub::session::{
    Decision, History, Principal, Reply, Session, SessionBounds, ViewerProfile,
};
use crate::protocol::{
    Author, ChatEntry, ChatMessage, Command, Epoch, Event, EventFrame, MessageId, Millis, Refusal,
    Settings, StaffRole, ViewerId, Visibility,
};
use crate::store::{LiveHead, StoreError, StoredSnapshot};

/// The session tests' clock starts here.
pub(crate) const T0: Millis = 1_700_000_000_000;

/// A session of epoch `epoch` at seq 0, with nothing stored yet.
pub(crate) fn fresh_session(
    epoch: &str,
    settings: Settings,
    blocked_terms: &[&str],
    bounds: SessionBounds,
) -> Session {
    let head = LiveHead {
        epoch: Epoch(epoch.into()),
        head: 0,
        last_message_id: 0,
    };
    let blocked: Vec<String> = blocked_terms.iter().map(ToString::to_string).collect();
    Session::restore(
        &head,
        StoredSnapshot::default(),
        settings,
        Moderation::new(&blocked),
        bounds,
    )
}

/// A store's answers from maps: the messages and viewers a test put there.
/// Counts message reads, so a test can see what the cache saved.
#[derive(Default)]
pub(crate) struct MapHistory {
    pub messages: HashMap<MessageId, ChatEntry>,
    pub viewers: HashSet<ViewerId>,
    pub reads: usize,
}

impl History for MapHistory {
    fn message(&mut self, id: MessageId) -> Result<Option<ChatEntry>, StoreError> {
        self.reads += 1;
        Ok(self.messages.get(&id).cloned())
    }
    fn viewer_known(&mut self, id: &ViewerId) -> Result<bool, StoreError> {
        Ok(self.viewers.contains(id))
    }
    fn sanctions(&mut self, _: &ViewerId) -> Result<(bool, Option<Millis>), StoreError> {
        Ok((false, None))
    }
}

/// A store that knows every viewer and no old message.
pub(crate) struct NoHistory;

impl History for NoHistory {
    fn message(&mut self, _: MessageId) -> Result<Option<ChatEntry>, StoreError> {
        Ok(None)
    }
    fn viewer_known(&mut self, _: &ViewerId) -> Result<bool, StoreError> {
        Ok(true)
    }
    fn sanctions(&mut self, _: &ViewerId) -> Result<(bool, Option<Millis>), StoreError> {
        Ok((false, None))
    }
}

/// The session test world: a session, what its store holds, and a clock
/// that moves 10 ms per command.
pub(crate) struct World {
    pub session: Session,
    pub history: MapHistory,
    pub now: Millis,
}

impl World {
    pub(crate) fn run(&mut self, who: &Principal, command: &Command) -> Decision {
        self.now += 10;
        self.session
            .decide(who, command, &mut self.history, self.now)
    }

    pub(crate) fn say(&mut self, who: &Principal, text: &str, question: bool) -> Decision {
        self.run(
            who,
            &Command::Say {
                text: text.into(),
                question,
                announcement: false,
            },
        )
    }

    /// Says something and returns the new message's id.
    pub(crate) fn posted(&mut self, who: &Principal, text: &str, question: bool) -> MessageId {
        let d = self.say(who, text, question);
        // A held viewer message is followed by its author's hold notice.
        match &d.events[..] {
            [
                EventFrame {
                    event: Event::Message { message },
                    ..
                },
            ]
            | [
                EventFrame {
                    event: Event::Message { message },
                    ..
                },
                EventFrame {
                    event: Event::HoldNotice { .. },
                    ..
                },
            ] => message.id,
            other => panic!("expected one message event, got {other:?} / {:?}", d.reply),
        }
    }
}

/// A staff member named after their role.
pub(crate) fn staff(role: StaffRole) -> Principal {
    Principal::Staff {
        role,
        name: format!("{role}-name"),
    }
}

/// A joined viewer.
pub(crate) fn viewer(id: &str, first_name: &str, pseudonym: &str) -> Principal {
    Principal::Viewer(ViewerProfile {
        id: ViewerId(id.into()),
        first_name: first_name.into(),
        pseudonym: pseudonym.into(),
        known_since: None,
    })
}

/// The code and message of a refused command.
pub(crate) fn refusal(d: &Decision) -> Option<Refusal> {
    match &d.reply {
        Reply::Error {
            code,
            message,
            retry_after_ms,
        } => Some(Refusal {
            retry_after_ms: *retry_after_ms,
            ..Refusal::new(*code, message.clone())
        }),
        _ => None,
    }
}

/// The decision's one event (fails the test if there are more or none).
pub(crate) fn only_event(d: &Decision) -> &Event {
    assert_eq!(d.events.len(), 1, "{:?}", d.events);
    &d.events[0].event
}

/// A viewer as a message's author.
pub(crate) fn viewer_author(viewer_id: &str, first_name: &str, pseudonym: &str) -> Author {
    Author::Viewer {
        viewer_id: ViewerId(viewer_id.into()),
        first_name: first_name.into(),
        pseudonym: pseudonym.into(),
    }
}

/// A visible chat message at time 0: not a question, not a reply.
pub(crate) fn chat_message(id: u64, author: Author, text: &str) -> ChatMessage {
    ChatMessage {
        id: MessageId(id),
        at: 0,
        author,
        text: text.into(),
        question: false,
        answered: false,
        reply_to: None,
        also_to: Vec::new(),
        visibility: Visibility::Visible,
        product: None,
        announcement: false,
    }
}
