//! What the hub sends support about data-protection requests: the open
//! entries of the requests log (`rights_requests`) and one viewer's export
//! (`viewer_export`). Both answer only the console that asked.
//!
//! The export travels as [`ViewerExport`], the very type `regie privacy
//! export` writes, so a document saved by the console and one written on
//! the command line have one format.

use serde::{Deserialize, Serialize};

use super::types::Millis;
pub use crate::privacy::export::ViewerExport;

/// What a viewer may ask for from the page (`privacy_request`): a copy of
/// their data (Art. 15/20) or its erasure (Art. 17). Rectification and
/// objection go through support, who log them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyRequestKind {
    Access,
    Erase,
}

/// One open request of the data dir's requests log (Art. 12(3)): what was
/// asked, by whom, when it arrived and when the answer is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsRequest {
    /// The log's number for it (`regie privacy requests --close ID`).
    pub id: i64,
    /// `access`, `rectify`, `erase` or `object`.
    pub kind: String,
    /// Who asked: a viewer id, or how to reach them (typed by staff: a
    /// client sanitises it before showing it).
    pub subject: String,
    pub received_at: Millis,
    /// One month after receipt, three once extended.
    pub due_at: Millis,
    /// Why the deadline was extended, once it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
}
