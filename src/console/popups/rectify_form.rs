//! Rectifying a viewer (Art. 16) from their card: a new first name and a
//! new pseudonym (an empty field keeps what the viewer has), checked as
//! the hub checks them, then a confirmation that names the change before
//! `rectify_viewer` is sent. The fields use the line editor's keys (Tab
//! between fields, Enter, Esc); the confirmation uses the popup layer.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::game_forms::{error_line, field_line, label};
use super::popup_box::{draw_box, draw_box_with_cursor, keys_line, popup_width, wrapped};
use super::{Context, Hints, Outcome};
use crate::console::input::{Edit, LineEditor};
use crate::console::keymap::PopupAction;
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::clean_name;
use crate::hub::identity::MAX_NAME_GRAPHEMES;
use crate::privacy::{grapheme_count, sanitize_name};
use crate::protocol::{Command, ViewerId};

/// The form, opened from a loaded card (so it knows the names it corrects).
#[derive(Debug, Clone)]
pub struct RectifyForm {
    pub viewer_id: ViewerId,
    /// The names as the card showed them.
    pub first_name_now: String,
    pub pseudonym_now: String,
    pub first_name: LineEditor,
    pub pseudonym: LineEditor,
    /// 0: first name, 1: pseudonym.
    pub focus: usize,
    pub error: Option<String>,
    /// Set once Enter found the fields valid: the confirmation is showing.
    pub confirming: Option<Command>,
}

/// A field's new value: `None` keeps it.
fn new_value(editor: &LineEditor) -> Option<String> {
    let text = editor.text().trim();
    (!text.is_empty()).then(|| text.to_string())
}

impl RectifyForm {
    pub fn new(viewer_id: ViewerId, first_name: &str, pseudonym: &str) -> Self {
        RectifyForm {
            viewer_id,
            first_name_now: first_name.to_string(),
            pseudonym_now: pseudonym.to_string(),
            first_name: LineEditor::default(),
            pseudonym: LineEditor::default(),
            focus: 0,
            error: None,
            confirming: None,
        }
    }

    /// "Marc · marc", as the card names the viewer.
    pub fn name(&self) -> String {
        format!("{} · {}", self.first_name_now, self.pseudonym_now)
    }

    pub fn focused_editor(&mut self) -> &mut LineEditor {
        if self.focus == 0 {
            &mut self.first_name
        } else {
            &mut self.pseudonym
        }
    }

    /// The `rectify_viewer` command, or what is wrong with the fields: the
    /// hub's own rules (a name as `hello` cleans it, at most
    /// [`MAX_NAME_GRAPHEMES`]), plus "something must change".
    pub fn command(&self) -> Result<Command, String> {
        let check = |editor: &LineEditor, now: &str, what: &str| match new_value(editor) {
            None => Ok(None),
            Some(raw) => {
                let n = grapheme_count(&raw);
                if n > MAX_NAME_GRAPHEMES {
                    return Err(format!(
                        "{what}: {n} characters, at most {MAX_NAME_GRAPHEMES}"
                    ));
                }
                let clean = sanitize_name(&raw, MAX_NAME_GRAPHEMES);
                if clean.is_empty() {
                    Err(format!("{what}: no letters left once cleaned"))
                } else if clean == now {
                    Err(format!("{what}: already {now}, nothing to correct"))
                } else {
                    Ok(Some(clean))
                }
            }
        };
        let first_name = check(&self.first_name, &self.first_name_now, "first name")?;
        let pseudonym = check(&self.pseudonym, &self.pseudonym_now, "pseudonym")?;
        if first_name.is_none() && pseudonym.is_none() {
            return Err("type a new first name or pseudonym (an empty field keeps it)".into());
        }
        Ok(Command::RectifyViewer {
            viewer_id: self.viewer_id.clone(),
            first_name,
            pseudonym,
        })
    }

    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        if let Some(command) = &self.confirming {
            return match ctx.keymap().popup_action_for(key) {
                Some(PopupAction::Confirm) => Outcome::Send {
                    command: command.clone(),
                    summary: format!("rectify {}", self.name()),
                },
                // No goes back to the fields, as typed.
                Some(PopupAction::Cancel) => {
                    self.confirming = None;
                    Outcome::Stay
                }
                Some(PopupAction::Close) => Outcome::Close,
                Some(PopupAction::Edit) | None => Outcome::Stay,
            };
        }
        let step = matches!(
            key.code,
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Down | KeyCode::Up
        );
        if step && !key.modifiers.contains(KeyModifiers::CONTROL) {
            self.focus = 1 - self.focus.min(1);
            return Outcome::Stay;
        }
        match self.focused_editor().handle_key(key) {
            Edit::Cancel => Outcome::Close,
            Edit::Submit => {
                match self.command() {
                    Ok(command) => {
                        self.error = None;
                        self.confirming = Some(command);
                    }
                    Err(e) => self.error = Some(e),
                }
                Outcome::Stay
            }
            _ => {
                // An error stays only while it is true.
                if self.error.is_some() && self.command().is_ok() {
                    self.error = None;
                }
                Outcome::Stay
            }
        }
    }

    fn hints(&self, ctx: &dyn Context) -> Hints {
        if self.confirming.is_some() {
            return [
                (PopupAction::Confirm, "rectify"),
                (PopupAction::Cancel, "back"),
            ]
            .into_iter()
            .filter_map(|(a, what)| ctx.keymap().popup_hint(a).map(|k| (k, what)))
            .collect();
        }
        [
            ("Tab", "next field"),
            ("Enter", "review"),
            ("Esc", "cancel"),
        ]
        .into_iter()
        .map(|(k, w)| (k.to_string(), w))
        .collect()
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = popup_width(area);
        let w = width.saturating_sub(4) as usize;
        let text = theme.style(StyleKey::PopupText);
        let name = clean_name(&self.name());
        if let Some(Command::RectifyViewer {
            first_name,
            pseudonym,
            ..
        }) = &self.confirming
        {
            let mut lines = wrapped(
                &format!("Rectify {name} (Art. 16)?"),
                w,
                theme.style(StyleKey::PopupWarning),
            );
            lines.push(ratatui::text::Line::default());
            for (what, now, new) in [
                ("first name", &self.first_name_now, first_name),
                ("pseudonym", &self.pseudonym_now, pseudonym),
            ] {
                let change = match new {
                    Some(new) => format!("{what}: {} → {}", clean_name(now), clean_name(new)),
                    None => format!("{what}: unchanged"),
                };
                lines.extend(wrapped(&change, w, text));
            }
            lines.push(ratatui::text::Line::default());
            lines.extend(wrapped(
                "Every console and player relabels their lines and wins at once; their device cannot change it back. The audit records which fields, never a name.",
                w,
                theme.style(StyleKey::PopupLabel),
            ));
            lines.push(ratatui::text::Line::default());
            lines.push(keys_line(&self.hints(ctx), theme));
            draw_box(buf, area, " Rectify viewer ", &lines, width, theme);
            return None;
        }
        let mut lines = wrapped(
            &format!("Correct the names of {name}. An empty field keeps it as it is."),
            w,
            text,
        );
        let mut cursor = None;
        for (i, (what, editor)) in [
            ("New first name", &self.first_name),
            ("New pseudonym", &self.pseudonym),
        ]
        .into_iter()
        .enumerate()
        {
            lines.push(label(what, self.focus == i, theme));
            let (line, col) = field_line("", editor, w, theme);
            if self.focus == i {
                cursor = Some((lines.len(), col));
            }
            lines.push(line);
        }
        lines.extend(error_line(self.error.as_deref(), w, theme));
        lines.push(keys_line(&self.hints(ctx), theme));
        draw_box_with_cursor(buf, area, " Rectify viewer ", &lines, width, cursor, theme)
    }
}
