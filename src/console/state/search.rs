//! Search: `n`/`N` jump to the next older / newer line of the chat matching
//! the filter (`/`), or the last search when no filter is set, without
//! filtering the feed; `F` searches the live's older history on the hub
//! (`history_search`), beyond this console's scrollback, in a popup.

use super::{Console, Effect, Pane, Popup};
use crate::console::filter::Filter;
use crate::console::keymap::Action;
use crate::console::popups::history_search::HistorySearch;
use crate::console::popups::{Prompt, PromptKind};
use crate::protocol::{
    ChatMessage, Command, CommandId, DEFAULT_HISTORY_PAGE, ErrorFrame, MessageId,
};

/// `n` (`older`) or `N`: the chat selects the nearest matching line.
pub(super) fn jump(state: &mut Console, older: bool) {
    let Some(filter) = state
        .feed
        .filter()
        .cloned()
        .or_else(|| state.search.clone())
    else {
        state.note(
            "no search yet: / filters the chat; n and N then jump between matches",
            false,
        );
        return;
    };
    state.focus = Pane::Feed;
    let from = if state.scroll.follow {
        None
    } else {
        state.scroll.selected
    };
    if let Some(pos) = state.feed.find(from, older, |e| filter.matches(e)) {
        state.scroll.follow = false;
        state.scroll.selected = Some(pos);
        if state.scroll.bottom.is_none() {
            state.scroll.bottom = state.feed.last_view_pos();
        }
    } else {
        let which = if older { "older" } else { "newer" };
        let what = crate::console::view::text::clean(filter.as_str()).into_owned();
        state.note(format!("no {which} line matches “{what}”"), false);
    }
}

/// `z`, `n`, `N` and `F`: pause, the jumps between matches, the history
/// search's prompt.
pub(super) fn on_action(state: &mut Console, action: Action) {
    match action {
        Action::Pause => super::pause::toggle(state),
        Action::SearchNext | Action::SearchPrev => jump(state, action == Action::SearchNext),
        Action::HistorySearch => open_prompt(state),
        _ => {}
    }
}

/// Remembers what was searched for, for `n`/`N` once the filter is gone.
pub(super) fn remember(state: &mut Console, text: &str) {
    let filter = Filter::parse(text);
    if !filter.is_empty() {
        state.search = Some(filter);
    }
}

/// `F`: asks for the words to search for (the last search, to edit).
pub(super) fn open_prompt(state: &mut Console) {
    let last = state
        .search
        .as_ref()
        .map(|f| f.as_str().to_owned())
        .unwrap_or_default();
    state.popup = Some(Popup::Prompt(Prompt::new(PromptKind::HistorySearch, &last)));
}

fn command(query: &str, before: Option<MessageId>) -> Command {
    Command::HistorySearch {
        query: query.to_owned(),
        before,
        limit: Some(DEFAULT_HISTORY_PAGE),
    }
}

/// The prompt's query: the first page is asked, the popup shows it coming.
pub(super) fn start(state: &mut Console, query: String) -> Vec<Effect> {
    remember(state, &query);
    let effect = state.send(command(&query, None), format!("search for “{query}”"));
    let Effect::Send(frame) = &effect else {
        return vec![effect];
    };
    state.popup = Some(Popup::HistorySearch(HistorySearch::new(
        query,
        frame.id.clone(),
    )));
    vec![effect]
}

/// The popup asks for its next older page.
pub(super) fn more(state: &mut Console, mut popup: HistorySearch) -> Vec<Effect> {
    let Some(before) = popup.next_before.filter(|_| popup.can_load_more()) else {
        state.popup = Some(Popup::HistorySearch(popup));
        return Vec::new();
    };
    let summary = format!("search for “{}”, older", popup.query);
    let effect = state.send(command(&popup.query, Some(before)), summary);
    if let Effect::Send(frame) = &effect {
        popup.request = Some(frame.id.clone());
    }
    state.popup = Some(Popup::HistorySearch(popup));
    vec![effect]
}

/// A page from the hub, for the popup if it still waits for it.
pub(super) fn on_page(
    state: &mut Console,
    id: &CommandId,
    messages: Vec<ChatMessage>,
    next_before: Option<MessageId>,
) {
    state.pending.remove(id);
    if let Some(Popup::HistorySearch(popup)) = state.popup.as_mut() {
        popup.page(id, messages, next_before);
    }
}

/// A refused search shows in its popup; true when the error was one.
pub(super) fn on_error(state: &mut Console, err: &ErrorFrame) -> bool {
    let Some(id) = err.id.as_ref() else {
        return false;
    };
    let Some(Popup::HistorySearch(popup)) = state.popup.as_mut() else {
        return false;
    };
    if !popup.failed(id, format!("{} ({})", err.message, err.code)) {
        return false;
    }
    state.pending.remove(id);
    true
}

/// Enter on a result: the chat selects it when this console holds it.
pub(super) fn show_in_feed(state: &mut Console, id: MessageId) {
    match state.feed.pos_of(id) {
        Some(pos) if state.feed.view_pos(state.feed.view_index(pos)) == Some(pos) => {
            state.focus = Pane::Feed;
            state.scroll.follow = false;
            state.scroll.selected = Some(pos);
            state.scroll.bottom = Some(pos);
        }
        Some(_) => state.note(
            "that message is hidden by the chat's filter (/ with nothing shows all)",
            false,
        ),
        None => state.note(
            "that message is older than this console's scrollback",
            false,
        ),
    }
}

/// Results a redaction, an erasure or a hide took away leave the popup.
pub(super) fn forget(state: &mut Console, gone: impl Fn(&ChatMessage) -> bool) {
    if let Some(Popup::HistorySearch(popup)) = state.popup.as_mut() {
        popup.forget(gone);
    }
}
