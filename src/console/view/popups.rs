//! Popups: help, confirmations, prompts, the viewer card.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use super::feed::tombstone_text;
use super::games;
use super::{author_label, centered, clean, clean_name, clock, put_line};
use crate::console::input::LineEditor;
use crate::console::keymap::Action;
use crate::console::permissions;
use crate::console::state::{CardView, Console, Popup, PromptKind, message_for_confirm};
use crate::console::theme::{StyleKey, Theme};
use crate::console::wrap::{display_width, truncate, wrap};
use crate::protocol::{ChatEntry, Sanction};

/// Draws the open popup, if any; returns where the cursor goes.
pub fn draw_popup(
    buf: &mut Buffer,
    area: Rect,
    state: &Console,
    theme: &Theme,
) -> Option<(u16, u16)> {
    let popup = state.popup.as_ref()?;
    let width = (area.width * 7 / 10).clamp(40, 90).min(area.width);
    match popup {
        Popup::Help { scroll } => {
            draw_help(buf, area, state, theme, *scroll);
            None
        }
        Popup::QuitConfirm => {
            let lines = vec![
                Line::styled("Quit the console?", theme.style(StyleKey::PopupText)),
                Line::default(),
                keys_line(&[("y", "quit"), ("n", "stay")], theme),
            ];
            draw_box(buf, area, " Quit ", lines, 36, theme);
            None
        }
        Popup::BanConfirm { name, .. } => {
            let mut lines = wrapped(
                &format!("Ban {} from this live for good?", clean_name(name)),
                width.saturating_sub(4) as usize,
                theme.style(StyleKey::PopupWarning),
            );
            lines.push(Line::default());
            lines.push(keys_line(&[("y", "ban"), ("n", "cancel")], theme));
            draw_box(buf, area, " Ban ", lines, width, theme);
            None
        }
        Popup::RedactConfirm { message_id, reason } => {
            let inner_w = width.saturating_sub(4) as usize;
            let mut lines = wrapped(
                "This text is removed for good from every screen, the store and replays:",
                inner_w,
                theme.style(StyleKey::PopupWarning),
            );
            lines.push(Line::default());
            match message_for_confirm(state, *message_id) {
                Some(m) => {
                    lines.push(Line::from(vec![
                        Span::styled(
                            format!("{} ", clock(m.at)),
                            theme.style(StyleKey::PopupLabel),
                        ),
                        Span::styled(
                            author_label(state, &m.author),
                            theme.name_color(
                                m.author.viewer_id().map(|v| v.0.as_str()).unwrap_or(""),
                            ),
                        ),
                    ]));
                    let text = clean(&m.text);
                    let wrapped = wrap(&text, inner_w.saturating_sub(2));
                    let max_lines = (area.height as usize).saturating_sub(12).max(3);
                    for r in wrapped.iter().take(max_lines) {
                        lines.push(Line::styled(
                            format!("  {}", &text[r.clone()]),
                            theme.style(StyleKey::PopupText),
                        ));
                    }
                    if wrapped.len() > max_lines {
                        lines.push(Line::styled(
                            format!("  … and {} more lines", wrapped.len() - max_lines),
                            theme.style(StyleKey::PopupLabel),
                        ));
                    }
                }
                None => lines.push(Line::styled(
                    format!("message {message_id}"),
                    theme.style(StyleKey::PopupText),
                )),
            }
            lines.push(Line::default());
            lines.push(Line::from(vec![
                Span::styled("reason: ", theme.style(StyleKey::PopupLabel)),
                Span::styled(clean(reason).into_owned(), theme.style(StyleKey::PopupText)),
            ]));
            lines.push(keys_line(&[("y", "redact"), ("n", "cancel")], theme));
            draw_box(buf, area, " Redact ", lines, width, theme);
            None
        }
        Popup::Prompt { kind, editor } => draw_prompt(buf, area, state, kind, editor, width, theme),
        Popup::ViewerCard(view) => {
            draw_card(buf, area, state, view, width, theme);
            None
        }
        Popup::PollForm(form) => games::draw_poll_form(buf, area, form, width, theme),
        Popup::InstantWinForm(form) => games::draw_instant_win_form(buf, area, form, width, theme),
        Popup::RedrawForm(form) => games::draw_redraw_form(buf, area, form, width, theme),
        Popup::GameConfirm(confirm) => {
            games::draw_game_confirm(buf, area, confirm, width, theme);
            None
        }
        Popup::Games { scroll } => {
            games::draw_games_list(buf, area, state, theme, *scroll);
            None
        }
    }
}

/// `text` wrapped to `width` cells, one styled line per row.
pub(super) fn wrapped(
    text: &str,
    width: usize,
    style: ratatui::style::Style,
) -> Vec<Line<'static>> {
    wrap(text, width)
        .into_iter()
        .map(|r| Line::styled(text[r].to_string(), style))
        .collect()
}

pub(super) fn keys_line<'a>(keys: &[(&'a str, &'a str)], theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, (k, what)) in keys.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.style(StyleKey::PopupLabel)));
        }
        spans.push(Span::styled(*k, theme.style(StyleKey::PopupKey)));
        spans.push(Span::styled(
            format!(" {what}"),
            theme.style(StyleKey::PopupLabel),
        ));
    }
    Line::from(spans)
}

/// A bordered box sized to its lines; returns its inner area.
pub(super) fn draw_box(
    buf: &mut Buffer,
    area: Rect,
    title: &str,
    lines: Vec<Line<'_>>,
    width: u16,
    theme: &Theme,
) -> Rect {
    let rect = centered(area, width, lines.len() as u16 + 2);
    Clear.render(rect, buf);
    buf.set_style(rect, theme.style(StyleKey::Base));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.style(StyleKey::PopupBorder))
        .title(Line::styled(
            title.to_string(),
            theme.style(StyleKey::PopupTitle),
        ));
    let inner = block.inner(rect);
    block.render(rect, buf);
    let inner = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };
    for (i, line) in lines.iter().enumerate() {
        put_line(buf, inner, inner.y + i as u16, line);
    }
    inner
}

fn draw_prompt(
    buf: &mut Buffer,
    area: Rect,
    state: &Console,
    kind: &PromptKind,
    editor: &LineEditor,
    width: u16,
    theme: &Theme,
) -> Option<(u16, u16)> {
    let (title, question, hint) = match kind {
        PromptKind::Filter => (
            " Filter ".to_string(),
            "Show only lines matching (empty shows all):".to_string(),
            "words, from:NAME, is:question, is:held".to_string(),
        ),
        PromptKind::TimeoutDuration { name, .. } => (
            " Timeout ".to_string(),
            format!("Silence {} for how long?", clean_name(name)),
            "e.g. 30s, 10m, 1h".to_string(),
        ),
        PromptKind::RedactReason { message_id } => (
            " Redact ".to_string(),
            match message_for_confirm(state, *message_id) {
                Some(m) => format!(
                    "Why remove {}'s message {}? (shown on the tombstone)",
                    clean_name(m.author.display_name()),
                    message_id
                ),
                None => format!("Why remove message {message_id}?"),
            },
            "the next step shows exactly what goes".to_string(),
        ),
    };
    let field_w = width.saturating_sub(6) as usize;
    let text = editor.text();
    let cursor = editor.cursor_column();
    let shown = if display_width(text) > field_w {
        truncate(text, field_w).into_owned()
    } else {
        text.to_string()
    };
    let mut lines = wrapped(&question, field_w + 2, theme.style(StyleKey::PopupText));
    let field_row = lines.len() as u16;
    lines.extend([
        Line::from(vec![
            Span::styled("› ", theme.style(StyleKey::InputPrompt)),
            Span::styled(shown, theme.style(StyleKey::InputText)),
        ]),
        Line::styled(hint, theme.style(StyleKey::PopupLabel)),
        keys_line(&[("Enter", "ok"), ("Esc", "cancel")], theme),
    ]);
    let inner = draw_box(buf, area, &title, lines, width, theme);
    Some((
        inner.x + 2 + (cursor.min(field_w) as u16).min(inner.width.saturating_sub(3)),
        inner.y + field_row,
    ))
}

fn draw_card(
    buf: &mut Buffer,
    area: Rect,
    state: &Console,
    view: &CardView,
    width: u16,
    theme: &Theme,
) {
    let label = theme.style(StyleKey::PopupLabel);
    let text = theme.style(StyleKey::PopupText);
    let inner_w = width.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let Some(card) = &view.card else {
        lines.push(Line::styled(
            format!("loading {}'s card…", clean_name(&view.name)),
            label,
        ));
        draw_box(buf, area, " Viewer ", lines, width, theme);
        return;
    };
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<11}"), label),
            Span::styled(value, text),
        ])
    };
    lines.push(Line::from(vec![
        Span::styled(format!("{:<11}", "first name"), label),
        Span::styled(
            clean_name(&card.first_name),
            theme.name_color(&card.viewer_id.0),
        ),
    ]));
    lines.push(field("pseudonym", clean_name(&card.pseudonym)));
    lines.push(field("first seen", clock(card.first_seen)));
    if permissions::sees_contact(state.role())
        && let Some(contact) = &card.contact
    {
        let phone = contact.phone.as_deref().map(clean).map(|c| c.into_owned());
        let email = contact.email.as_deref().map(clean).map(|c| c.into_owned());
        lines.push(field("phone", phone.unwrap_or_else(|| "—".into())));
        lines.push(field("e-mail", email.unwrap_or_else(|| "—".into())));
    }
    if !card.consents.is_empty() {
        let consents: Vec<String> = card
            .consents
            .iter()
            .map(|c| {
                format!("{:?} {}", c.purpose, if c.granted { "yes" } else { "no" }).to_lowercase()
            })
            .collect();
        lines.push(field("consents", consents.join(", ")));
    }
    if card.sanctions.is_empty() {
        lines.push(field("sanctions", "none".into()));
    } else {
        for (i, s) in card.sanctions.iter().enumerate() {
            let desc = match s {
                Sanction::TimedOut {
                    until, reason, by, ..
                } => format!(
                    "timed out until {} by {}{}",
                    clock(*until),
                    super::actor_label(by),
                    reason_suffix(reason)
                ),
                Sanction::Banned { reason, by, at } => format!(
                    "banned {} by {}{}",
                    clock(*at),
                    super::actor_label(by),
                    reason_suffix(reason)
                ),
            };
            lines.push(field(if i == 0 { "sanctions" } else { "" }, desc));
        }
    }
    lines.push(Line::default());
    lines.push(Line::styled("recent messages", label));
    let room = (area.height as usize)
        .saturating_sub(lines.len() + 6)
        .max(1);
    if card.recent.is_empty() {
        lines.push(Line::styled("  none", label));
    }
    for entry in card.recent.iter().take(room) {
        let line = match entry {
            ChatEntry::Message(m) => Line::from(vec![
                Span::styled(format!("  {} ", clock(m.at)), label),
                Span::styled(
                    truncate(&clean(&m.text), inner_w.saturating_sub(8)).into_owned(),
                    text,
                ),
            ]),
            ChatEntry::Redacted(t) => Line::from(vec![
                Span::styled(format!("  {} ", clock(t.posted_at)), label),
                Span::styled(
                    truncate(&tombstone_text(t), inner_w.saturating_sub(8)).into_owned(),
                    theme.style(StyleKey::FeedTombstone),
                ),
            ]),
        };
        lines.push(line);
    }
    lines.push(Line::default());
    let mut keys: Vec<(String, &str)> = Vec::new();
    for (action, what) in [(Action::Timeout, "timeout"), (Action::Ban, "ban")] {
        if permissions::allows(state.role(), action)
            && let Some(k) = state.keymap.hint(action)
        {
            keys.push((k, what));
        }
    }
    keys.push(("Esc".into(), "close"));
    let keys: Vec<(&str, &str)> = keys.iter().map(|(k, w)| (k.as_str(), *w)).collect();
    lines.push(keys_line(&keys, theme));
    draw_box(buf, area, " Viewer ", lines, width, theme);
}

fn reason_suffix(reason: &str) -> String {
    if reason.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", clean(reason))
    }
}

/// The help overlay, generated from the active keymap and the role's
/// permissions: it only lists what this console will actually do.
fn draw_help(buf: &mut Buffer, area: Rect, state: &Console, theme: &Theme, scroll: u16) {
    let mut lines: Vec<Line> = Vec::new();
    for action in Action::ALL {
        if !permissions::allows(state.role(), *action) {
            continue;
        }
        let keys: Vec<String> = state
            .keymap
            .keys_for(*action)
            .iter()
            .map(ToString::to_string)
            .collect();
        if keys.is_empty() {
            continue;
        }
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<16}", keys.join(" ")),
                theme.style(StyleKey::HelpKey),
            ),
            Span::styled(action.help(), theme.style(StyleKey::HelpAction)),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        "typing: ←/→ move · ctrl-w delete word · Home/End · ↑/↓ history · Enter send · Esc cancel",
        theme.style(StyleKey::PopupLabel),
    ));
    let max_rows = area.height.saturating_sub(4) as usize;
    let skip = (scroll as usize).min(lines.len().saturating_sub(max_rows));
    let visible: Vec<Line> = lines.into_iter().skip(skip).take(max_rows).collect();
    let width = (area.width * 8 / 10).clamp(40, 96).min(area.width);
    draw_box(
        buf,
        area,
        &format!(" Help — {} ", state.role()),
        visible,
        width,
        theme,
    );
}
