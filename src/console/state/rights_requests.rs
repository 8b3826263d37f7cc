//! The console's side of rights requests (issue 9): the transitions
//! `update` makes for an export (sent, answered, written) and for the
//! requests popup. The types and the file writing are
//! [`crate::console::rights`]'s.

use super::{Console, Effect};
use crate::console::popups::Popup;
use crate::console::popups::export_result::ExportView;
use crate::console::popups::requests::RequestsView;
use crate::console::rights::{ExportSaved, SaveExport, file_name};
use crate::protocol::{CommandId, ErrorFrame, RightsRequest, ViewerExport};

/// An export command left the console: the result popup waits for it.
pub(super) fn sent(state: &mut Console, effect: &Effect, name: &str) {
    if let Effect::Send(frame) = effect {
        state.rights.awaiting(frame.id.clone(), name);
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
    state.rights.answered(&id);
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
    if let Some(name) = state.rights.answered(id) {
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
