//! The export result: where a viewer's export was written and what it
//! holds (counts only, never content), with the reminder that the file is
//! personal data; or, plainly, why there is no file.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, keys_line, popup_width, wrapped};
use super::{Context, Hints, Outcome};
use crate::console::keymap::{Action, PopupAction};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{clean, clean_name};
use crate::protocol::ViewerExport;

/// What an export holds, by kind: what the popup tells the operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportCounts {
    /// "Léa · #3fa9", as staff know the viewer.
    pub viewer: String,
    pub viewer_id: String,
    pub messages: usize,
    pub redacted: usize,
    pub replies: usize,
    pub consents: usize,
    pub votes: usize,
    pub entries: usize,
    pub sanctions: usize,
    /// Contact values held (phone, e-mail), in clear in the file.
    pub contact: usize,
}

impl ExportCounts {
    pub fn of(export: &ViewerExport) -> Self {
        let p = &export.profile;
        ExportCounts {
            viewer: format!("{} · {}", p.first_name, p.pseudonym),
            viewer_id: p.viewer_id.clone(),
            messages: export.messages.len(),
            redacted: export.redacted.len(),
            replies: export.replies.len(),
            consents: export.consents.len(),
            votes: export.votes.len(),
            entries: export.entries.len(),
            sanctions: export.sanctions.len(),
            contact: usize::from(p.phone.is_some()) + usize::from(p.email.is_some()),
        }
    }

    /// "3 messages, 1 redacted, 0 replies, …": every kind, zeros too, so
    /// the operator sees the export looked everywhere.
    fn summary(&self) -> String {
        let n = |count: usize, one: &str, many: &str| {
            format!("{count} {}", if count == 1 { one } else { many })
        };
        [
            n(self.messages, "message", "messages"),
            n(self.redacted, "redacted message", "redacted messages"),
            n(self.replies, "reply", "replies"),
            n(self.consents, "consent", "consents"),
            n(self.votes, "vote", "votes"),
            n(self.entries, "draw entry", "draw entries"),
            n(self.sanctions, "sanction", "sanctions"),
            n(self.contact, "contact value", "contact values"),
        ]
        .join(", ")
    }
}

/// The popup, from the key press to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportView {
    /// Sent; the hub's answer (then the write) is on its way.
    Waiting {
        name: String,
    },
    Saved {
        path: String,
        counts: ExportCounts,
    },
    Failed {
        name: String,
        why: String,
    },
}

/// The reminder every saved export carries.
pub const PERSONAL_DATA_NOTICE: &str = "This file holds the viewer's personal data, contact \
     data in clear. Send it only to them, over a channel they agreed to, and delete your \
     copy once it is sent.";

impl ExportView {
    pub fn on_key(&self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let keymap = ctx.keymap();
        match keymap.popup_action_for(key) {
            Some(PopupAction::Close | PopupAction::Confirm | PopupAction::Cancel) => {
                return Outcome::Close;
            }
            Some(PopupAction::Edit) | None => {}
        }
        match keymap.action_for(key) {
            Some(Action::Quit | Action::Export) => Outcome::Close,
            _ => Outcome::Stay,
        }
    }

    fn hints(ctx: &dyn Context) -> Hints {
        ctx.keymap()
            .popup_hint(PopupAction::Close)
            .map(|k| vec![(k, "close")])
            .unwrap_or_default()
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = popup_width(area);
        let inner = width.saturating_sub(4) as usize;
        let label = theme.style(StyleKey::PopupLabel);
        let text = theme.style(StyleKey::PopupText);
        let warning = theme.style(StyleKey::PopupWarning);
        // "label      value", the value wrapped under itself.
        let field = |lines: &mut Vec<Line<'static>>, name: &str, value: &str| {
            for (i, row) in wrapped(value, inner.saturating_sub(LABEL_W), text)
                .into_iter()
                .enumerate()
            {
                let head = if i == 0 { name } else { "" };
                let mut spans = vec![Span::styled(format!("{head:<LABEL_W$}"), label)];
                spans.extend(row.spans);
                lines.push(Line::from(spans));
            }
        };
        let mut lines = Vec::new();
        let title = match self {
            ExportView::Waiting { name } => {
                lines.push(Line::styled(
                    format!("exporting {}…", clean_name(name)),
                    label,
                ));
                " Export "
            }
            ExportView::Saved { path, counts } => {
                field(&mut lines, "file", &clean(path));
                field(&mut lines, "mode", "0600 (only you can read it)");
                let who = format!("{} ({})", clean(&counts.viewer), clean(&counts.viewer_id));
                field(&mut lines, "viewer", &who);
                field(&mut lines, "holds", &counts.summary());
                lines.push(Line::default());
                lines.extend(wrapped(PERSONAL_DATA_NOTICE, inner, warning));
                " Export written "
            }
            ExportView::Failed { name, why } => {
                field(&mut lines, "viewer", &clean_name(name));
                field(&mut lines, "why", &clean(why));
                lines.push(Line::default());
                lines.push(Line::styled("No file was written.", label));
                " Export failed "
            }
        };
        lines.push(Line::default());
        lines.push(keys_line(&Self::hints(ctx), theme));
        draw_box(buf, area, title, &lines, width, theme);
        None
    }
}

/// The width of the first column ("viewer ").
const LABEL_W: usize = 8;
