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

/// How the export names a line's visibility: `visible`, `held` or
/// `hidden` (a hold's reason is the moderators', not the viewer's).
pub(crate) fn visibility_name(visibility: &crate::protocol::Visibility) -> &'static str {
    use crate::protocol::Visibility;
    match visibility {
        Visibility::Visible => "visible",
        Visibility::Held { .. } => "held",
        Visibility::Hidden => "hidden",
    }
}

/// A poll or draw as launched, without who launched it: a staff member's
/// name is theirs, not the viewer's.
pub(crate) fn without_staff(mut view: serde_json::Value) -> serde_json::Value {
    if let Some(fields) = view.as_object_mut() {
        fields.remove("by");
    }
    view
}

impl ViewerExport {
    /// The document as pretty JSON, as `regie privacy export` writes it.
    pub fn to_json(&self) -> String {
        // Only strings, numbers and JSON values: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the document to `path`, a new file (never over an existing
    /// one: `AlreadyExists`) readable by its owner only, since it holds a
    /// person's data, and never half written ([`write_private`]). The command line
    /// and the console both write exports through here.
    pub fn write_new(&self, path: &std::path::Path) -> std::io::Result<()> {
        write_private(path, self.to_json().as_bytes(), false)
    }
}

/// Writes `contents` to `path` with mode 0600, through a temporary file in
/// the same directory renamed into place: never half written, never
/// readable by others even for a moment. An existing `path` is an
/// `AlreadyExists` error unless `force`, which replaces it (a symlink is
/// replaced, not followed).
pub fn write_private(path: &std::path::Path, contents: &[u8], force: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the file exists (pass --force to replace it)",
        ));
    }
    // tempfile creates with mode 0600 and O_EXCL.
    let mut file = tempfile::Builder::new()
        .prefix(".regie-private-")
        .tempfile_in(dir)?;
    std::io::Write::write_all(&mut file, contents)?;
    file.as_file().sync_all()?;
    let persisted = if force {
        file.persist(path)
    } else {
        file.persist_noclobber(path)
    };
    persisted.map(drop).map_err(|e| e.error)
}

/// Whether a [`write_private`] error is about the path itself
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_private_and_not_overwritten_unless_forced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("optins.csv");
        write_private(&path, b"one", false).expect("first write");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let refused = write_private(&path, b"two", false).expect_err("exists");
        assert_eq!(refused.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("read"), b"one");
        // A world-readable file replaced with --force ends up 0600.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_private(&path, b"three", true).expect("forced");
        assert_eq!(std::fs::read(&path).expect("read"), b"three");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }
}
