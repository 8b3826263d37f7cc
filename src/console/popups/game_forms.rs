//! The poll, instant-win and re-draw forms as popups. The forms' fields
//! and validation live with the games ([`crate::console::games`]); their
//! keys are the line editor's (Tab, Enter, Esc), not the keymap's.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::text::Span;

use super::popup_box::{draw_box_with_cursor, keys_line, popup_width, wrapped};
use super::{Hints, Outcome, Popup, Target};
use crate::console::games::{FormOutcome, Games, InstantWinForm, PollForm, RedrawForm};
use crate::console::input::LineEditor;
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{clean, winner_label};
use crate::console::wrap::{display_width, truncate};
use crate::instant_win::NO_PURCHASE_NECESSARY;
use crate::protocol::Command;

/// The launch forms' footer.
const LAUNCH: &[(&str, &str)] = &[
    ("Tab", "next field"),
    ("Enter", "launch"),
    ("Esc", "cancel"),
];
/// The re-draw form's footer.
const REDRAW: &[(&str, &str)] = &[("Tab", "list/reason"), ("Enter", "next"), ("Esc", "cancel")];

fn hints(keys: &[(&str, &'static str)]) -> Hints {
    keys.iter().map(|(k, w)| (k.to_string(), *w)).collect()
}

pub fn on_poll_key(form: &mut PollForm, key: &KeyEvent) -> Outcome {
    match form.handle_key(key) {
        FormOutcome::Editing => {
            // An error stays only while it is true: once the fields are
            // fixed, it goes.
            if form.error.is_some() && form.command().is_ok() {
                form.error = None;
            }
            Outcome::Stay
        }
        FormOutcome::Cancel => Outcome::Close,
        FormOutcome::Done(command) => {
            let summary = match &command {
                Command::PollOpen { options, .. } => {
                    format!("launch a poll with {} options", options.len())
                }
                _ => "launch a poll".to_string(),
            };
            Outcome::Send { command, summary }
        }
    }
}

pub fn on_instant_win_key(form: &mut InstantWinForm, key: &KeyEvent) -> Outcome {
    match form.handle_key(key) {
        FormOutcome::Editing => {
            if form.error.is_some() && form.command().is_ok() {
                form.error = None;
            }
            Outcome::Stay
        }
        FormOutcome::Cancel => Outcome::Close,
        FormOutcome::Done(command) => Outcome::Send {
            command,
            summary: "launch an instant win".to_string(),
        },
    }
}

/// A complete re-draw form asks to confirm, naming who is excluded.
pub fn on_redraw_key(form: &mut RedrawForm, key: &KeyEvent, games: &Games) -> Outcome {
    match form.handle_key(key) {
        FormOutcome::Editing => Outcome::Stay,
        FormOutcome::Cancel => Outcome::Close,
        FormOutcome::Done(command) => {
            let excluded = form
                .winners
                .iter()
                .zip(&form.excluded)
                .filter(|(_, x)| **x)
                .map(|(w, _)| crate::console::games::winner_name(w))
                .collect();
            let prize = games
                .draws
                .iter()
                .find(|d| d.draw.id == form.draw_id)
                .map(|d| d.draw.prize.clone())
                .unwrap_or_default();
            Outcome::Open(Popup::confirm(Target::Redraw {
                draw_id: form.draw_id,
                prize,
                excluded,
                command,
            }))
        }
    }
}

/// One editable field: `prefix › text`; returns the line and the cursor
/// column within it when focused.
pub(super) fn field_line(
    prefix: &str,
    editor: &LineEditor,
    width: usize,
    theme: &Theme,
) -> (Line<'static>, u16) {
    let prefix = format!("{prefix}› ");
    let prefix_w = display_width(&prefix);
    let field_w = width.saturating_sub(prefix_w + 1);
    let text = clean(editor.text());
    let shown = truncate(&text, field_w).into_owned();
    let cursor = prefix_w + editor.cursor_column().min(field_w);
    (
        Line::from(vec![
            Span::styled(prefix, theme.style(StyleKey::InputPrompt)),
            Span::styled(shown, theme.style(StyleKey::InputText)),
        ]),
        u16::try_from(cursor).unwrap_or(u16::MAX),
    )
}

pub(super) fn label(text: &str, focused: bool, theme: &Theme) -> Line<'static> {
    let key = if focused {
        StyleKey::FormLabelFocused
    } else {
        StyleKey::FormLabel
    };
    Line::styled(text.to_string(), theme.style(key))
}

pub(super) fn error_line(error: Option<&str>, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    match error {
        Some(e) => wrapped(
            &format!("✕ {}", clean(e)),
            width,
            theme.style(StyleKey::FormError),
        ),
        None => vec![Line::default()],
    }
}

pub fn draw_poll_form(
    buf: &mut Buffer,
    area: Rect,
    form: &PollForm,
    theme: &Theme,
) -> Option<(u16, u16)> {
    let width = popup_width(area);
    let w = width.saturating_sub(4) as usize;
    let mut lines = Vec::new();
    let mut cursor = None;
    lines.push(label("Question", form.focus == 0, theme));
    let (line, col) = field_line("", &form.question, w, theme);
    if form.focus == 0 {
        cursor = Some((lines.len(), col));
    }
    lines.push(line);
    lines.push(label(
        "Options, 2 to 6 (ctrl-n add · ctrl-d remove)",
        form.focused_option().is_some(),
        theme,
    ));
    for (i, o) in form.options.iter().enumerate() {
        let (line, col) = field_line(&format!("{} ", i + 1), o, w, theme);
        if form.focus == i + 1 {
            cursor = Some((lines.len(), col));
        }
        lines.push(line);
    }
    let on_duration = form.focus == form.options.len() + 1;
    lines.push(label(
        "Duration in seconds (60, 2m), empty = until closed",
        on_duration,
        theme,
    ));
    let (line, col) = field_line("", &form.duration, w, theme);
    if on_duration {
        cursor = Some((lines.len(), col));
    }
    lines.push(line);
    lines.extend(error_line(form.error.as_deref(), w, theme));
    lines.push(keys_line(&hints(LAUNCH), theme));
    draw_box_with_cursor(buf, area, " Launch a poll ", &lines, width, cursor, theme)
}

pub fn draw_instant_win_form(
    buf: &mut Buffer,
    area: Rect,
    form: &InstantWinForm,
    theme: &Theme,
) -> Option<(u16, u16)> {
    let width = popup_width(area);
    let w = width.saturating_sub(4) as usize;
    let mut lines = Vec::new();
    let mut cursor = None;
    let fields = [
        ("Prize", &form.prize),
        ("Number of winners", &form.winners),
        ("Entry window in seconds (120, 2m)", &form.entry),
        ("Rules text or link", &form.rules),
    ];
    for (i, (name, editor)) in fields.iter().enumerate() {
        lines.push(label(name, form.focus == i, theme));
        let (line, col) = field_line("", editor, w, theme);
        if form.focus == i {
            cursor = Some((lines.len(), col));
        }
        lines.push(line);
    }
    lines.extend(wrapped(
        &format!(
            "Viewers see the rules starting with “{NO_PURCHASE_NECESSARY}” Entering never depends on marketing consent."
        ),
        w,
        theme.style(StyleKey::FormNote),
    ));
    lines.extend(error_line(form.error.as_deref(), w, theme));
    lines.push(keys_line(&hints(LAUNCH), theme));
    draw_box_with_cursor(
        buf,
        area,
        " Launch an instant win ",
        &lines,
        width,
        cursor,
        theme,
    )
}

pub fn draw_redraw_form(
    buf: &mut Buffer,
    area: Rect,
    form: &RedrawForm,
    theme: &Theme,
) -> Option<(u16, u16)> {
    let width = popup_width(area);
    let w = width.saturating_sub(4) as usize;
    let mut lines = wrapped(
        &format!(
            "Re-draw instant win #{}: choose the winner(s) to exclude.",
            form.draw_id
        ),
        w,
        theme.style(StyleKey::PopupText),
    );
    lines.push(label("Winners (space toggles)", !form.on_reason, theme));
    for (i, (winner, out)) in form.winners.iter().zip(&form.excluded).enumerate() {
        let mark = if *out { "[x] exclude " } else { "[ ] keep    " };
        let style = if i == form.selected && !form.on_reason {
            theme.style(StyleKey::FeedSelected)
        } else {
            theme.style(StyleKey::PopupText)
        };
        lines.push(Line::styled(
            truncate(&format!("{mark}{}", winner_label(winner)), w).into_owned(),
            style,
        ));
    }
    lines.push(label("Reason (recorded)", form.on_reason, theme));
    let (line, col) = field_line("", &form.reason, w, theme);
    let cursor = form.on_reason.then_some((lines.len(), col));
    lines.push(line);
    lines.extend(error_line(form.error.as_deref(), w, theme));
    lines.push(keys_line(&hints(REDRAW), theme));
    draw_box_with_cursor(buf, area, " Re-draw ", &lines, width, cursor, theme)
}
