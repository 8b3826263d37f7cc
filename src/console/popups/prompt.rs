//! One line of text asked in a popup: the feed filter, a redaction's
//! reason. (A timeout's duration has presets: [`super::sanction`].)

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, keys_line, popup_width, wrapped};
use super::{Context, Hints, Outcome, Popup, Target};
use crate::console::filter::Filter;
use crate::console::input::{Edit, LineEditor};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::clean_name;
use crate::console::wrap::{display_width, truncate};
use crate::protocol::{Command, MessageId, ViewerId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    /// The Staff activity pane's filter: staff member and action.
    StaffLogFilter,
    /// Words to search the live's older chat for, on the hub.
    HistorySearch,
    RedactReason {
        message_id: MessageId,
    },
    /// A staff-only note on the viewer a card shows (`name` as the card
    /// names them).
    Note {
        viewer_id: ViewerId,
        name: String,
    },
    /// The title of the canned answer `text` (the reply line's, `ctrl-s`).
    CannedTitle {
        text: String,
    },
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub editor: LineEditor,
}

impl Prompt {
    pub fn new(kind: PromptKind, text: &str) -> Prompt {
        Prompt {
            kind,
            editor: LineEditor::with_text(text),
        }
    }

    /// Enter submits, Esc cancels: the line editor's keys, not the keymap's.
    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        match self.editor.handle_key(key) {
            Edit::Cancel => Outcome::Close,
            Edit::Submit => {
                let text = self.editor.text().trim().to_string();
                self.submit(&text, ctx)
            }
            _ => Outcome::Stay,
        }
    }

    fn submit(&mut self, text: &str, ctx: &dyn Context) -> Outcome {
        match &self.kind {
            PromptKind::Filter => {
                let filter = Filter::parse(text);
                Outcome::Filter((!filter.is_empty()).then_some(filter))
            }
            PromptKind::StaffLogFilter => Outcome::StaffLogFilter(text.to_string()),
            PromptKind::HistorySearch => {
                let chars = text.chars().count();
                let max = crate::protocol::MAX_HISTORY_QUERY_CHARS;
                if text.is_empty() {
                    Outcome::Refuse("type a word to search for".to_string())
                } else if chars > max {
                    Outcome::Refuse(format!("{chars} characters; a search holds {max} at most"))
                } else {
                    Outcome::HistorySearch(text.to_string())
                }
            }
            PromptKind::RedactReason { message_id } => {
                if text.is_empty() {
                    self.editor = LineEditor::default();
                    return Outcome::Refuse("a redaction needs a reason".to_string());
                }
                if ctx.message(*message_id).is_none() {
                    return Outcome::Abort("that message is already gone".to_string());
                }
                Outcome::Open(Popup::confirm(Target::Redact {
                    message_id: *message_id,
                    reason: text.to_string(),
                }))
            }
            // A note changes nothing a viewer sees: no confirmation.
            PromptKind::Note { viewer_id, name } => {
                if text.is_empty() {
                    return Outcome::Refuse("a note cannot be empty".to_string());
                }
                Outcome::Send {
                    command: Command::NoteAdd {
                        viewer_id: viewer_id.clone(),
                        text: text.to_string(),
                    },
                    summary: format!("note on {}", clean_name(name)),
                }
            }
            PromptKind::CannedTitle { text: answer } => {
                match crate::catalogue::canned(text, answer) {
                    Ok(canned) => Outcome::Send {
                        summary: format!("save canned answer {}", clean_name(&canned.title)),
                        command: Command::CannedAdd {
                            title: canned.title,
                            text: canned.text,
                        },
                    },
                    Err(why) => Outcome::Refuse(why),
                }
            }
        }
    }

    pub fn hints(&self) -> Hints {
        vec![("Enter".into(), "ok"), ("Esc".into(), "cancel")]
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = popup_width(area);
        let (title, question, hint) = self.texts(ctx);
        let field_w = usize::from(width.saturating_sub(6));
        let text = self.editor.text();
        let cursor = self.editor.cursor_column();
        let shown = if display_width(text) > field_w {
            truncate(text, field_w).into_owned()
        } else {
            text.to_string()
        };
        let mut lines = wrapped(&question, field_w + 2, theme.style(StyleKey::PopupText));
        let field_row = u16::try_from(lines.len()).unwrap_or(u16::MAX);
        lines.extend([
            Line::from(vec![
                Span::styled("› ", theme.style(StyleKey::InputPrompt)),
                Span::styled(shown, theme.style(StyleKey::InputText)),
            ]),
            Line::styled(hint, theme.style(StyleKey::PopupLabel)),
            keys_line(&self.hints(), theme),
        ]);
        let inner = draw_box(buf, area, title, &lines, width, theme);
        Some((
            inner.x
                + 2
                + u16::try_from(cursor.min(field_w))
                    .unwrap_or(u16::MAX)
                    .min(inner.width.saturating_sub(3)),
            inner.y.saturating_add(field_row),
        ))
    }

    /// The title, the question and the hint under the field.
    fn texts(&self, ctx: &dyn Context) -> (&'static str, String, &'static str) {
        match &self.kind {
            PromptKind::Filter => (
                " Filter ",
                "Show only lines matching (empty shows all):".to_string(),
                "words, from:NAME, is:question, is:held",
            ),
            PromptKind::RedactReason { message_id } => (
                " Redact ",
                match ctx.message(*message_id) {
                    Some(m) => format!(
                        "Why remove {}'s message {}? (shown on the tombstone)",
                        clean_name(m.author.display_name()),
                        message_id
                    ),
                    None => format!("Why remove message {message_id}?"),
                },
                "the next step shows exactly what goes",
            ),
            PromptKind::HistorySearch => (
                " Search the live ",
                "Search the live's whole chat on the hub for:".to_string(),
                "every word must match; case and accents aside",
            ),
            PromptKind::StaffLogFilter => (
                " Staff log ",
                "Show only the staff log entries (empty shows all):".to_string(),
                "by:NAME action:ban (a command's name)",
            ),
            PromptKind::Note { name, .. } => (
                " Note ",
                format!(
                    "A note on {} (staff only, on their card):",
                    clean_name(name)
                ),
                "audited without its text; erased with the viewer",
            ),
            PromptKind::CannedTitle { text } => (
                " Save canned answer ",
                format!(
                    "A title for this answer (ctrl-t finds it by title or text): {}",
                    clean_name(text)
                ),
                "merge tags like {first_name} stay tags, filled in each time",
            ),
        }
    }
}
