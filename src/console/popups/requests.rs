//! The requests log for support: the open data-protection requests,
//! soonest due first, with how long is left (or how late it is).
//!
//! A popup rather than a fifth pane: support consults the log between two
//! requests, not all show long, and the panes' layout stays the one every
//! role shares. The hub sends the list when the popup opens (the log
//! changes from `regie privacy requests`, outside the hub, so there is no
//! event to follow); opening it again reads it again.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, keys_line, wide_width};
use super::{Context, Hints, Outcome, scroll_key};
use crate::console::keymap::{Action, PopupAction};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::clean;
use crate::console::wrap::truncate;
use crate::protocol::{CommandId, Millis, RightsRequest};

const DAY_MS: Millis = 86_400_000;

/// The popup; `requests` is `None` until the hub answers `request`.
#[derive(Debug, Clone)]
pub struct RequestsView {
    pub request: CommandId,
    pub requests: Option<Vec<RightsRequest>>,
    /// Why the hub could not send the list.
    pub failed: Option<String>,
    pub scroll: u16,
}

impl RequestsView {
    pub fn loading(request: CommandId) -> Self {
        RequestsView {
            request,
            requests: None,
            failed: None,
            scroll: 0,
        }
    }

    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        scroll_key(&mut self.scroll, key, ctx.keymap(), Action::Requests)
    }

    fn hints(ctx: &dyn Context) -> Hints {
        let keymap = ctx.keymap();
        let mut keys = Hints::new();
        if let Some(k) = keymap.hint(Action::MoveDown) {
            keys.push((k, "scroll"));
        }
        if let Some(k) = keymap.popup_hint(PopupAction::Close) {
            keys.push((k, "close"));
        }
        keys
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ctx: &dyn Context,
        now: Millis,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = wide_width(area);
        let inner = width.saturating_sub(4) as usize;
        let label = theme.style(StyleKey::PopupLabel);
        let mut lines: Vec<Line<'static>> = Vec::new();
        match (&self.requests, &self.failed) {
            (_, Some(why)) => lines.push(Line::styled(
                format!("The hub could not send the requests: {}", clean(why)),
                theme.style(StyleKey::PopupWarning),
            )),
            (None, None) => lines.push(Line::styled("loading the requests log…", label)),
            (Some(list), None) if list.is_empty() => {
                lines.push(Line::styled("No open request.", label));
            }
            (Some(list), None) => {
                let mut list = list.clone();
                list.sort_by_key(|r| (r.due_at, r.id));
                let overdue = list.iter().filter(|r| r.due_at < now).count();
                let head = format!(
                    "{} open, soonest due first{}",
                    list.len(),
                    if overdue > 0 {
                        format!(" · {overdue} overdue")
                    } else {
                        String::new()
                    }
                );
                lines.push(Line::styled(head, label));
                lines.push(Line::default());
                for r in &list {
                    lines.extend(request_lines(r, now, inner, theme));
                }
            }
        }
        let max_rows = area.height.saturating_sub(6) as usize;
        let skip = (self.scroll as usize).min(lines.len().saturating_sub(max_rows));
        let mut visible: Vec<Line> = lines.into_iter().skip(skip).take(max_rows).collect();
        visible.push(Line::default());
        visible.push(keys_line(&Self::hints(ctx), theme));
        draw_box(buf, area, " Rights requests ", &visible, width, theme);
        None
    }
}

/// "12 days left", "due today", "3 days overdue", and whether it is late.
pub fn time_left(due_at: Millis, now: Millis) -> (String, bool) {
    let plural = |n: Millis| if n == 1 { "" } else { "s" };
    if due_at < now {
        // Late by part of a day is a day late: the deadline is a date.
        let days = (now - due_at + DAY_MS - 1) / DAY_MS;
        (format!("{days} day{} overdue", plural(days)), true)
    } else {
        let days = (due_at - now) / DAY_MS;
        if days == 0 {
            ("due today".into(), false)
        } else {
            (format!("{days} day{} left", plural(days)), false)
        }
    }
}

/// The UTC date of a Unix-millisecond time (`2026-05-01`).
fn date(at: Millis) -> String {
    let at = std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(at).unwrap_or(0));
    let mut text = humantime::format_rfc3339_seconds(at).to_string();
    text.truncate(10);
    text
}

/// One request: number, kind, due date and time left on the first row
/// (late ones in the warning style), who asked and when on the second,
/// the extension's reason on a third when there is one.
fn request_lines(
    r: &RightsRequest,
    now: Millis,
    inner: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let label = theme.style(StyleKey::PopupLabel);
    let text = theme.style(StyleKey::PopupText);
    let (left, late) = time_left(r.due_at, now);
    let left_style: Style = if late {
        theme.style(StyleKey::PopupWarning)
    } else {
        text
    };
    let kind = truncate(&clean(&r.kind), 8).into_owned();
    let number = format!("#{:<4}", r.id);
    let mut lines = vec![Line::from(vec![
        Span::styled(number, label),
        Span::styled(format!("{kind:<9}"), text),
        Span::styled(format!("due {}  ", date(r.due_at)), text),
        Span::styled(left, left_style),
    ])];
    let indent = "      ";
    let received = format!("  received {}", date(r.received_at));
    let room = inner.saturating_sub(indent.len() + received.len());
    lines.push(Line::from(vec![
        Span::raw(indent),
        Span::styled(truncate(&clean(&r.subject), room).into_owned(), text),
        Span::styled(received, label),
    ]));
    if let Some(reason) = &r.extension {
        let room = inner.saturating_sub(indent.len() + "extended: ".len());
        lines.push(Line::from(vec![
            Span::raw(indent),
            Span::styled("extended: ", label),
            Span::styled(truncate(&clean(reason), room).into_owned(), text),
        ]));
    }
    lines
}
