//! The last status-line messages in full, newest first: a note that was
//! cut short or went by while the operator looked away can be read here.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, wide_width, wrapped};
use super::{Context, Outcome, scroll_key};
use crate::console::keymap::{Action, Keymap};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{clean, clock};
use crate::protocol::Millis;

/// One status message as it was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub at: Millis,
    pub text: String,
    pub error: bool,
}

/// The log popup: a copy of the messages when it opened, newest first.
#[derive(Debug, Clone, Default)]
pub struct MessageLog {
    pub entries: Vec<LogEntry>,
    pub scroll: u16,
}

impl MessageLog {
    pub fn on_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> Outcome {
        scroll_key(&mut self.scroll, key, keymap, Action::Messages)
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        _ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = wide_width(area);
        let inner = width.saturating_sub(4) as usize;
        let mut lines: Vec<Line> = Vec::new();
        if self.entries.is_empty() {
            lines.push(Line::styled(
                "No messages yet.",
                theme.style(StyleKey::PopupLabel),
            ));
        }
        for e in self.entries.iter().rev() {
            let style = theme.style(if e.error {
                StyleKey::PopupWarning
            } else {
                StyleKey::PopupText
            });
            let text = clean(&e.text);
            let mut rows = wrapped(&text, inner.saturating_sub(6), style).into_iter();
            let first = rows.next().unwrap_or_default();
            let mut spans = vec![Span::styled(
                format!("{} ", clock(e.at)),
                theme.style(StyleKey::PopupLabel),
            )];
            spans.extend(first.spans);
            lines.push(Line::from(spans));
            for r in rows {
                let mut spans = vec![Span::raw("      ")];
                spans.extend(r.spans);
                lines.push(Line::from(spans));
            }
        }
        let max_rows = area.height.saturating_sub(4) as usize;
        let skip = (self.scroll as usize).min(lines.len().saturating_sub(max_rows));
        let visible: Vec<Line> = lines.into_iter().skip(skip).take(max_rows).collect();
        draw_box(buf, area, " Messages ", &visible, width, theme);
        None
    }
}
