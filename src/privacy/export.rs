//! A viewer's data, as one document (GDPR Art. 15 access, Art. 20
//! portability).
//!
//! [`ViewerExport`] is everything the store holds about one viewer of one
//! live, and nothing about anyone else: their profile with contact data in
//! clear (it is theirs), every consent they gave or withdrew with the exact
//! words they were shown, their messages, the staff answers to them, their
//! votes and draw entries, and the sanctions taken against them. The store
//! fills it (`SqliteStore::export_viewer`); `regie privacy export` writes
//! it as JSON (mode 0600) and audits that it did, without content; the
//! hub sends the same document to a support console that asks
//! (`export_viewer`), which writes it the same way.
//!
//! Consent texts come from the store's registry (`consent_texts`, filled by
//! `regie privacy consent-text`): a consent row holds only the SHA-256 of
//! the text, so a text the brand never registered is exported as `null`
//! with its hash, never guessed.
//!
//! Staff names are left out (the viewer gets the role that acted, not who):
//! they are the staff member's personal data, not the viewer's. Redacted
//! messages are listed without text: their text no longer exists.

use serde::{Deserialize, Deserializer, Serialize};

/// The document's format tag, so a reader can tell versions apart.
pub const EXPORT_FORMAT: ExportFormat = ExportFormat;

/// Why the hub audits an export: the same words wherever it is made.
pub const EXPORT_AUDIT_REASON: &str = "access request (Art. 15/20)";

/// The format this build writes, `"regie.viewer-export.v1"` on the wire.
/// Reading one back refuses any other version: a reader must never take
/// another format's fields for these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportFormat;

impl ExportFormat {
    pub const TAG: &'static str = "regie.viewer-export.v1";
}

impl Serialize for ExportFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(Self::TAG)
    }
}

impl<'de> Deserialize<'de> for ExportFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let tag = String::deserialize(d)?;
        if tag == Self::TAG {
            Ok(ExportFormat)
        } else {
            Err(serde::de::Error::custom(format!(
                "an export in format {tag:?}, not {}",
                Self::TAG
            )))
        }
    }
}

/// Everything held about one viewer of one live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerExport {
    pub format: ExportFormat,
    pub live: String,
    /// Unix milliseconds.
    pub exported_at: i64,
    pub profile: ExportedProfile,
    /// Every consent record, oldest first (the latest per purpose applies).
    pub consents: Vec<ExportedConsent>,
    /// The viewer's messages, oldest first.
    pub messages: Vec<ExportedMessage>,
    /// Messages of theirs that were redacted: what remains (no text).
    pub redacted: Vec<ExportedRedaction>,
    /// Staff answers to the viewer's messages, oldest first.
    pub replies: Vec<ExportedReply>,
    pub votes: Vec<ExportedVote>,
    pub entries: Vec<ExportedEntry>,
    /// Every sanction ever taken against the viewer, oldest first.
    pub sanctions: Vec<ExportedSanction>,
    /// Staff notes about the viewer (`note_add`), oldest first: the
    /// viewer has a right to what is written about them. The author is
    /// named by role only, as for sanctions and replies.
    pub notes: Vec<ExportedNote>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedProfile {
    pub viewer_id: String,
    pub first_name: String,
    pub pseudonym: String,
    pub first_seen: i64,
    pub last_seen: i64,
    /// In clear: the viewer's own value.
    pub phone: Option<String>,
    /// The consent purpose the phone was collected for.
    pub phone_purpose: Option<String>,
    pub email: Option<String>,
    pub email_purpose: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedConsent {
    pub purpose: String,
    pub granted: bool,
    pub at: i64,
    pub channel: String,
    pub text_sha256: String,
    /// The exact text shown, from the registry; `None` when the brand never
    /// registered a text with this hash.
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedMessage {
    pub id: u64,
    pub at: i64,
    pub text: String,
    pub question: bool,
    pub answered: bool,
    /// `visible`, `held` or `hidden`.
    pub visibility: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedRedaction {
    pub message_id: u64,
    pub posted_at: i64,
    pub redacted_at: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedReply {
    pub id: u64,
    /// The viewer's message it answers.
    pub reply_to_id: u64,
    pub at: i64,
    /// The staff role that answered (host, moderator...).
    pub by_role: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedVote {
    pub poll_id: u64,
    /// The option voted for, 0-based, in the poll as launched.
    pub option: u64,
    /// The poll as launched (question and options).
    pub poll: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedEntry {
    pub draw_id: u64,
    /// The instant win as launched (prize and rules).
    pub draw: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedSanction {
    /// `timeout` or `ban`.
    pub kind: String,
    /// End of a timeout; `None` for a ban.
    pub until: Option<i64>,
    pub reason: String,
    pub at: i64,
    pub by_role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedNote {
    pub at: i64,
    pub by_role: String,
    pub text: String,
}

impl ViewerExport {
    /// The document as pretty JSON, as `regie privacy export` writes it.
    pub fn to_json(&self) -> String {
        // Only strings, numbers and JSON values: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the document to `path`, a new file (never over an existing
    /// one: `AlreadyExists`) readable by its owner only, since it holds a
    /// person's data. A file left half written is removed. The command line
    /// and the console both write exports through here.
    pub fn write_new(&self, path: &std::path::Path) -> std::io::Result<()> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(self.to_json().as_bytes())
            .and_then(|()| file.sync_all())
            .inspect_err(|_| {
                let _ = std::fs::remove_file(path);
            })
    }
}

/// Whether a [`ViewerExport::write_new`] error is about the path itself
/// (it exists, its directory does not, or it may not be created there),
/// which the user fixes, rather than the write failing (a full disk).
pub fn path_refused(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::AlreadyExists
            | std::io::ErrorKind::NotFound
            | std::io::ErrorKind::PermissionDenied
    )
}
