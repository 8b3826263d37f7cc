//! Data-protection requests from the console (support and admin, issue 9):
//! exporting a viewer from their card (Art. 15/20) and the requests log.
//!
//! An export goes: the card's key sends `export_viewer`; the hub answers
//! this console only with the document (and audits it); the console's
//! `update` names the file ([`file_name`]) and asks the edge to write it
//! ([`SaveExport`]); the edge writes it with [`save`] (mode 0600, never
//! over an existing file) and reports with an [`ExportSaved`]; the export
//! result popup shows where it went and what it holds. The document itself
//! lives only in that effect: the console keeps counts, never the content,
//! and logs neither. The transitions are in `state`'s `rights_requests`;
//! this module is the leaf both the state and the edge use.

use std::collections::HashMap;
use std::path::PathBuf;

use super::popups::export_result::ExportCounts;
use crate::protocol::{CommandId, ViewerExport};

/// What the console tracks of its rights requests.
#[derive(Debug, Clone, Default)]
pub struct Rights {
    /// Where exports are written (the console's `export_dir` setting).
    pub export_dir: PathBuf,
    /// Export commands sent and not answered yet: whom each is about.
    exports: HashMap<CommandId, String>,
}

impl Rights {
    pub fn new(export_dir: PathBuf) -> Self {
        Rights {
            export_dir,
            exports: HashMap::new(),
        }
    }

    /// Export command `id`, about `name`, was sent.
    pub fn awaiting(&mut self, id: CommandId, name: &str) {
        self.exports.insert(id, name.to_string());
    }

    /// The hub answered export command `id`: whom it was about, if it was
    /// one.
    pub fn answered(&mut self, id: &CommandId) -> Option<String> {
        self.exports.remove(id)
    }
}

/// The edge's job: write `export` to `path`, a new file.
#[derive(Clone, PartialEq)]
pub struct SaveExport {
    pub request: CommandId,
    pub path: PathBuf,
    pub export: Box<ViewerExport>,
}

/// Effects are logged and printed in test failures: the document (a
/// person's data, contact in clear) never is, only what it counts.
impl std::fmt::Debug for SaveExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaveExport")
            .field("request", &self.request)
            .field("path", &self.path)
            .field("messages", &self.export.messages.len())
            .finish_non_exhaustive()
    }
}

/// How writing an export went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSaved {
    pub request: CommandId,
    pub path: PathBuf,
    pub counts: ExportCounts,
    /// Why the file could not be written.
    pub failed: Option<String>,
}

/// The file an export goes to: the live, the viewer and the export's time,
/// with anything but `[A-Za-z0-9._-]` replaced, so no id can name a path.
pub fn file_name(export: &ViewerExport) -> String {
    fn part(s: &str) -> String {
        s.chars()
            .take(64)
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
    format!(
        "regie-export-{}-{}-{}.json",
        part(&export.live),
        part(&export.profile.viewer_id),
        export.exported_at
    )
}

/// Writes the export: a new file (never over an existing one) readable
/// by its owner only, since it holds a person's data; a file left half
/// written is removed. Blocking, and small: the edge calls it between two
/// turns of the event loop.
pub fn save(job: SaveExport) -> ExportSaved {
    let counts = ExportCounts::of(&job.export);
    let failed = write_private(&job).err();
    ExportSaved {
        request: job.request,
        path: job.path,
        counts,
        failed,
    }
}

/// Says what went wrong in words for the popup.
fn write_private(job: &SaveExport) -> Result<(), String> {
    let path = job.path.display();
    job.export.write_new(&job.path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!("{path} already exists; nothing was overwritten")
        }
        _ if crate::privacy::export::path_refused(&e) => format!("cannot create {path}: {e}"),
        _ => format!("cannot write {path}: {e}"),
    })
}
