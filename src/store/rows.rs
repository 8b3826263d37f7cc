//! What the SQL stores ([`super::SqliteStore`], [`super::PostgresStore`])
//! share about their rows: how an event is written to the log without its
//! text, how it is read back, and the integer conversions of SQL's signed
//! columns. One definition, so both stores log and replay alike.

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::protocol::{
    Actor, ChatMessage, Event, EventFrame, MessageId, Millis, Tombstone, Visibility,
};

/// What the event log keeps of an event that carried a whole message: the
/// id and the state at the time. Text and author are read back from the
/// `messages` row, so redaction deletes them in one place.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct MessageRef {
    pub(super) message_id: MessageId,
    pub(super) answered: bool,
    pub(super) visibility: Visibility,
    /// Who released it (`released` events); absent in older rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) by: Option<Actor>,
    /// When a released message was held (`released` events of held
    /// messages); absent in older rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) held_at: Option<Millis>,
}

/// The log row of `frame`: the message it carries, if any, and its payload
/// (a [`MessageRef`] for `message` and `released`, the event's JSON else).
pub(super) fn log_payload(frame: &EventFrame) -> Result<(Option<MessageId>, String), StoreError> {
    let (message_id, payload) = match &frame.event {
        Event::Message { message } | Event::Released { message, .. } => {
            let (by, held_at) = match &frame.event {
                Event::Released { by, held_at, .. } => (by.clone(), *held_at),
                _ => (None, None),
            };
            let r = MessageRef {
                message_id: message.id,
                answered: message.answered,
                visibility: message.visibility,
                by,
                held_at,
            };
            (Some(message.id), serde_json::to_string(&r))
        }
        other => (None, serde_json::to_string(other)),
    };
    let payload =
        payload.map_err(|e| StoreError::Corrupt(format!("event does not serialise: {e}")))?;
    Ok((message_id, payload))
}

/// Whether a log row of this kind holds a [`MessageRef`] (read back with
/// [`message_event`]) rather than the event itself.
pub(super) fn refers_to_message(kind: &str) -> bool {
    kind == "message" || kind == "released"
}

/// A `message` or `released` log row served as replay serves it: the
/// tombstone if the message was redacted since, else the message as it was
/// then (except that a message hidden since is never served visible
/// again). `None` when neither the message nor a tombstone is stored.
pub(super) fn message_event(
    kind: &str,
    reference: MessageRef,
    tombstone: Option<Tombstone>,
    message: Option<ChatMessage>,
) -> Option<Event> {
    match (tombstone, message) {
        (Some(tombstone), _) => Some(Event::Redacted { tombstone }),
        (None, Some(mut message)) => {
            message.answered = reference.answered;
            if message.visibility != Visibility::Hidden {
                message.visibility = reference.visibility;
            }
            Some(if kind == "message" {
                Event::Message { message }
            } else {
                Event::Released {
                    message,
                    by: reference.by,
                    held_at: reference.held_at,
                }
            })
        }
        (None, None) => None,
    }
}

/// A serde enum's wire name (`"prize_contact"`), for text columns.
pub(super) fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// A wire name read back from a text column ([`wire_name`]).
pub(super) fn parse_wire_name<T: for<'de> Deserialize<'de>>(s: String) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s)).map_err(|e| e.to_string())
}

/// SQL integers are signed: ids, seqs and indexes are written through
/// here (saturating; none comes near 2^63).
pub(super) fn sql_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A length or position, for SQL; saturating like [`sql_i64`].
pub(super) fn sql_len(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// An id, seq or index read back. [`sql_i64`] never writes a negative one,
/// so a negative value can only be a damaged row; it reads as 0.
pub(super) fn u64_from_sql(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
