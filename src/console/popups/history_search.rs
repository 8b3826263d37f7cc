//! The live's older chat searched on the hub (`F`, `history_search`): the
//! matching messages, newest first, a page at a time. `j`/`k` move, `PgDn`
//! (or `j` on the last row) loads the next older page, Enter shows the
//! selected message in the chat when this console still holds it, Esc
//! closes. What the hub returns is what it still holds as visible: a
//! message redacted, erased or hidden while the popup is open leaves it too
//! (the console's `update` calls [`HistorySearch::forget`]).

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, keys_line, wide_width};
use super::{Context, Hints, Outcome};
use crate::console::keymap::{Action, PopupAction};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{clean, clean_name, clock};
use crate::console::wrap::truncate;
use crate::protocol::{ChatMessage, CommandId, MessageId};

/// The popup: the query, the pages loaded so far, and the request in flight.
#[derive(Debug, Clone)]
pub struct HistorySearch {
    pub query: String,
    pub results: Vec<ChatMessage>,
    pub selected: usize,
    /// The `before` of the next page; `None` once the oldest was reached.
    pub next_before: Option<MessageId>,
    /// Whether a first page has come back.
    pub loaded: bool,
    /// The command whose answer is awaited, if any.
    pub request: Option<CommandId>,
    /// Why the last request failed.
    pub error: Option<String>,
}

impl HistorySearch {
    pub fn new(query: String, request: CommandId) -> HistorySearch {
        HistorySearch {
            query,
            results: Vec::new(),
            selected: 0,
            next_before: None,
            loaded: false,
            request: Some(request),
            error: None,
        }
    }

    /// Whether another page can be asked for now.
    pub fn can_load_more(&self) -> bool {
        self.loaded && self.request.is_none() && self.next_before.is_some()
    }

    /// A page came back for `id`; false when it answers another request.
    pub fn page(
        &mut self,
        id: &CommandId,
        messages: Vec<ChatMessage>,
        next: Option<MessageId>,
    ) -> bool {
        if self.request.as_ref() != Some(id) {
            return false;
        }
        self.request = None;
        self.loaded = true;
        self.error = None;
        self.results.extend(messages);
        self.next_before = next;
        true
    }

    /// The request `id` failed; false when it is not this popup's.
    pub fn failed(&mut self, id: &CommandId, why: String) -> bool {
        if self.request.as_ref() != Some(id) {
            return false;
        }
        self.request = None;
        self.loaded = true;
        self.error = Some(why);
        true
    }

    /// Drops the results `gone` names (redacted, erased, hidden since).
    pub fn forget(&mut self, gone: impl Fn(&ChatMessage) -> bool) {
        self.results.retain(|m| !gone(m));
        self.selected = self.selected.min(self.results.len().saturating_sub(1));
    }

    pub fn selected_message(&self) -> Option<&ChatMessage> {
        self.results.get(self.selected)
    }

    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let keymap = ctx.keymap();
        if keymap.popup_action_for(key) == Some(PopupAction::Close) {
            return Outcome::Close;
        }
        if key.code == KeyCode::Enter {
            return match self.selected_message() {
                Some(m) => Outcome::ShowInFeed(m.id),
                None => Outcome::Stay,
            };
        }
        let last = self.results.len().saturating_sub(1);
        match keymap.action_for(key) {
            Some(Action::Quit | Action::HistorySearch) => Outcome::Close,
            Some(Action::MoveDown) if self.selected < last => {
                self.selected += 1;
                Outcome::Stay
            }
            Some(Action::MoveDown | Action::PageDown) if self.can_load_more() => {
                Outcome::HistoryMore
            }
            Some(Action::PageDown) => {
                self.selected = last;
                Outcome::Stay
            }
            Some(Action::MoveUp) => {
                self.selected = self.selected.saturating_sub(1);
                Outcome::Stay
            }
            Some(Action::PageUp | Action::JumpTop) => {
                self.selected = 0;
                Outcome::Stay
            }
            _ => Outcome::Stay,
        }
    }

    pub fn hints(&self) -> Hints {
        let mut hints: Hints = vec![("j/k".into(), "move")];
        if self.can_load_more() {
            hints.push(("PgDn".into(), "older"));
        }
        hints.push(("Enter".into(), "show in chat"));
        hints.push(("Esc".into(), "close"));
        hints
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        _ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = wide_width(area);
        let w = usize::from(width.saturating_sub(4));
        let label = theme.style(StyleKey::PopupLabel);
        let text = theme.style(StyleKey::PopupText);
        let mut lines = vec![Line::from(vec![
            Span::styled("Search: ", label),
            Span::styled(
                truncate(&clean(&self.query), w.saturating_sub(8)).into_owned(),
                text,
            ),
        ])];
        let status = match (&self.error, &self.request, self.loaded) {
            (Some(why), _, _) => Line::styled(
                truncate(&clean(why), w).into_owned(),
                theme.style(StyleKey::PopupWarning),
            ),
            (None, Some(_), false) => Line::styled("searching the hub…", label),
            (None, Some(_), true) => Line::styled(
                format!("{} found · loading older…", self.results.len()),
                label,
            ),
            (None, None, _) if self.next_before.is_some() => Line::styled(
                format!("{} found so far · PgDn searches older", self.results.len()),
                label,
            ),
            (None, None, _) if self.results.is_empty() => {
                Line::styled("no visible message matches", label)
            }
            (None, None, _) => Line::styled(
                format!("{} found · the start of the live", self.results.len()),
                label,
            ),
        };
        lines.push(status);
        // Rows for results: the box's borders, the two lines above, the keys.
        let rows = usize::from(area.height.saturating_sub(6)).max(1);
        let top = self.selected.saturating_sub(rows.saturating_sub(1));
        for (i, m) in self.results.iter().enumerate().skip(top).take(rows) {
            let name = clean_name(m.author.display_name());
            let row = format!("{} {}: {}", clock(m.at), name, clean(&m.text));
            let (mark, style) = if i == self.selected {
                ("▸ ", theme.style(StyleKey::InputText))
            } else {
                ("  ", text)
            };
            lines.push(Line::styled(
                truncate(&format!("{mark}{row}"), w).into_owned(),
                style,
            ));
        }
        lines.push(keys_line(&self.hints(), theme));
        draw_box(buf, area, " Search the live ", &lines, width, theme);
        None
    }
}
