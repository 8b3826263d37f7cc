//! The console's side of lives (issue 10): the transitions `update` makes
//! for the Lives popup (asked, answered, refused), a switch to another
//! live, and the live's lifecycle events. The popup itself is
//! [`crate::console::popups::lives`].

use super::{Console, Effect};
use crate::console::popups::Popup;
use crate::console::popups::lives::LivesView;
use crate::console::popups::report::ReportView;
use crate::console::popups::sms_segments::SegmentsView;
use crate::console::view::text::clean_name;
use crate::protocol::{CommandId, ErrorFrame, LiveInfo, LiveState, Millis, Settings};
use crate::report::Report;

/// The popup opens and asks the hub for its lives.
pub(super) fn open_lives(state: &mut Console) -> Vec<Effect> {
    let effect = state.send(crate::protocol::Command::LiveList, "the lives".into());
    if let Effect::Send(frame) = &effect {
        let view = LivesView::loading(frame.id.clone(), &state.session.live);
        state.popup = Some(Popup::Lives(view));
    }
    vec![effect]
}

/// The hub's list, for the popup that asked for it.
pub(super) fn on_lives(state: &mut Console, id: &CommandId, lives: Vec<LiveInfo>) {
    state.pending.remove(id);
    if let Some(Popup::Lives(view)) = state.popup.as_mut()
        && view.request == *id
    {
        view.answered(lives);
    }
}

/// The report popup opens and asks the hub for `live`'s report.
pub(super) fn open_report(state: &mut Console, live: &str) -> Vec<Effect> {
    let summary = format!("the report of live {}", clean_name(live));
    let effect = state.send(
        crate::protocol::Command::Report {
            live: live.to_owned(),
        },
        summary,
    );
    if let Effect::Send(frame) = &effect {
        state.popup = Some(Popup::Report(ReportView::loading(frame.id.clone(), live)));
    }
    vec![effect]
}

/// The hub counted the ended live's follow-up segments: their popup
/// opens (in place of the Lives popup that asked).
pub(super) fn on_segments(
    state: &mut Console,
    id: &CommandId,
    segments: Vec<crate::protocol::SegmentCount>,
) {
    if state.pending.remove(id).is_some() {
        state.popup = Some(Popup::SmsSegments(SegmentsView::new(segments)));
    }
}

/// The hub's report, for the popup that asked for it.
pub(super) fn on_report(state: &mut Console, id: &CommandId, report: Report) {
    state.pending.remove(id);
    if let Some(Popup::Report(view)) = state.popup.as_mut()
        && view.request == *id
    {
        view.report = Some(Box::new(report));
    }
}

/// A refused list or report; `true` when `err` answered the open popup.
pub(super) fn on_error(state: &mut Console, err: &ErrorFrame) -> bool {
    let (request, failed) = match state.popup.as_mut() {
        Some(Popup::Lives(view)) => (&view.request, &mut view.failed),
        Some(Popup::Report(view)) => (&view.request, &mut view.failed),
        _ => return false,
    };
    if err.id.as_ref() != Some(request) {
        return false;
    }
    *failed = Some(format!("{} ({})", err.message, err.code));
    let request = request.clone();
    state.pending.remove(&request);
    true
}

/// Leaves this live for `live`: what the console held of this one goes
/// (its chat, queues, games, activity, commands not yet answered: they
/// were for this live), and the network reconnects naming the other one.
pub(super) fn switch(state: &mut Console, live: String) -> Vec<Effect> {
    state.reset_show();
    state.activity.clear();
    state.activity_scroll = 0;
    state.pending.clear();
    state.viewers_online = None;
    state.settings = Settings::default();
    state.live_info = None;
    state.sms = None;
    state.compose = None;
    state.note(format!("switching to live {}", clean_name(&live)), false);
    live.clone_into(&mut state.session.live);
    vec![Effect::SwitchLive(live)]
}

/// The live moved along its lifecycle.
pub(super) fn on_live_state(state: &mut Console, at: Millis, next: LiveState) {
    if let Some(info) = state.live_info.take() {
        state.live_info = Some(info.moved(next, at));
    }
    let what = match next {
        LiveState::Scheduled => "scheduled the live",
        LiveState::OnAir => "put the live on air",
        LiveState::Ended => "ended the live",
    };
    state.log_activity(at, None, what.to_string());
}
