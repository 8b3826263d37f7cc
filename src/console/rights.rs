//! Data-protection requests from the console (support and admin, issue 9):
//! exporting a viewer from their card (Art. 15/20) and the requests log.
//!
//! An export goes: the card's key sends `export_viewer`; the hub answers
//! this console only with the document (and audits it); [`on_export`]
//! names the file and asks the edge to write it ([`SaveExport`]); the edge
//! writes it with [`save`] (mode 0600, never over an existing file) and
//! reports with [`Msg::ExportSaved`]; the export result popup shows where
//! it went and what it holds. The document itself lives only in that
//! effect: the console keeps counts, never the content, and logs neither.
//!
//! [`Msg::ExportSaved`]: super::state::Msg::ExportSaved

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::popups::Popup;
use super::popups::export_result::{ExportCounts, ExportView};
use super::popups::requests::RequestsView;
use super::state::{Console, Effect};
use crate::protocol::{CommandId, ErrorFrame, RightsRequest, ViewerExport};

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
}

/// The edge's job: write `export` to `path`, a new file.
#[derive(Debug, Clone, PartialEq)]
pub struct SaveExport {
    pub request: CommandId,
    pub path: PathBuf,
    pub export: Box<ViewerExport>,
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

/// An export command left the console: the result popup waits for it.
pub(super) fn sent(state: &mut Console, effect: &Effect, name: &str) {
    if let Effect::Send(frame) = effect {
        state
            .rights
            .exports
            .insert(frame.id.clone(), name.to_string());
        state.popup = Some(Popup::ExportResult(ExportView::Waiting {
            name: name.to_string(),
        }));
    }
}

/// The hub's export: name the file and hand it to the edge to write.
pub(super) fn on_export(
    state: &mut Console,
    id: CommandId,
    export: Box<ViewerExport>,
) -> Vec<Effect> {
    state.pending.remove(&id);
    state.rights.exports.remove(&id);
    let path = state.rights.export_dir.join(file_name(&export));
    vec![Effect::SaveExport(SaveExport {
        request: id,
        path,
        export,
    })]
}

/// The edge wrote the file, or could not: say so in the result popup.
pub(super) fn on_saved(state: &mut Console, saved: ExportSaved) {
    let path = saved.path.display().to_string();
    let view = match saved.failed {
        None => {
            state.note(format!("export written to {path}"), false);
            ExportView::Saved {
                path,
                counts: saved.counts,
            }
        }
        Some(why) => {
            state.note(format!("export not written: {why}"), true);
            ExportView::Failed {
                name: saved.counts.viewer,
                why,
            }
        }
    };
    state.popup = Some(Popup::ExportResult(view));
}

/// A refused export or requests list; `true` when `err` answered one.
pub(super) fn on_error(state: &mut Console, err: &ErrorFrame) -> bool {
    let Some(id) = err.id.as_ref() else {
        return false;
    };
    if let Some(name) = state.rights.exports.remove(id) {
        state.pending.remove(id);
        let why = format!("{} ({})", err.message, err.code);
        state.note(format!("export of {name}: {why}"), true);
        state.popup = Some(Popup::ExportResult(ExportView::Failed { name, why }));
        return true;
    }
    if let Some(Popup::Requests(view)) = state.popup.as_mut()
        && view.request == *id
    {
        state.pending.remove(id);
        view.failed = Some(format!("{} ({})", err.message, err.code));
        return true;
    }
    false
}

/// Opens the requests popup and asks the hub for the open requests.
pub(super) fn open_requests(state: &mut Console) -> Vec<Effect> {
    let effect = state.send(
        crate::protocol::Command::RightsRequests,
        "the requests log".into(),
    );
    if let Effect::Send(frame) = &effect {
        state.popup = Some(Popup::Requests(RequestsView::loading(frame.id.clone())));
    }
    vec![effect]
}

/// The hub's list, for the requests popup that asked for it.
pub(super) fn on_requests(state: &mut Console, id: &CommandId, requests: Vec<RightsRequest>) {
    state.pending.remove(id);
    if let Some(Popup::Requests(view)) = state.popup.as_mut()
        && view.request == *id
    {
        view.requests = Some(requests);
    }
}

/// Writes the export: a new file (never over an existing one) readable
/// by its owner only, since it holds a person's data; a file left half
/// written is removed. Blocking, and small: the edge calls it between two
/// turns of the event loop.
pub fn save(job: SaveExport) -> ExportSaved {
    let counts = ExportCounts::of(&job.export);
    let failed = write_private(&job.path, job.export.to_json().as_bytes()).err();
    ExportSaved {
        request: job.request,
        path: job.path,
        counts,
        failed,
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                format!("{} already exists; nothing was overwritten", path.display())
            }
            _ => format!("cannot create {}: {e}", path.display()),
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| {
            let _ = std::fs::remove_file(path);
            format!("cannot write {}: {e}", path.display())
        })
}
