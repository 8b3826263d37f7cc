//! The help overlay, generated from the active keymap and the role's
//! permissions: it only lists what this console will actually do.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, wide_width, wrapped};
use super::{Context, Outcome, scroll_key};
use crate::console::keymap::{Action, Keymap};
use crate::console::permissions;
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::clean;

#[derive(Debug, Clone, Default)]
pub struct Help {
    pub scroll: u16,
}

impl Help {
    pub fn on_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> Outcome {
        scroll_key(&mut self.scroll, key, keymap, Action::Help)
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let mut lines: Vec<Line> = Vec::new();
        if let Some(attach) = ctx.attach() {
            lines.extend(attach_lines(attach, wide_width(area), theme));
        }
        for action in Action::ALL {
            if !permissions::allows(ctx.role(), *action) {
                continue;
            }
            let keys: Vec<String> = ctx
                .keymap()
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
        let total = lines.len();
        let visible = if total <= max_rows {
            lines
        } else {
            // Too long for the screen: one row says there is more and how to
            // reach it, so no key goes unseen.
            let rows = max_rows.saturating_sub(1);
            let skip = (self.scroll as usize).min(total.saturating_sub(rows));
            let below = total.saturating_sub(skip + rows);
            let mut visible: Vec<Line> = lines.into_iter().skip(skip).take(rows).collect();
            visible.push(scroll_hint(skip, below, ctx.keymap(), theme));
            visible
        };
        let title = format!(" Help — {} ", ctx.role());
        draw_box(buf, area, &title, &visible, wide_width(area), theme);
        None
    }
}

/// `regie demo`'s second console: the command that attaches it (this
/// binary's real path, the token read from its file), wrapped whole in the
/// box so it can be copied, then a blank line.
fn attach_lines(attach: &str, box_width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let w = usize::from(box_width.saturating_sub(4)).max(1);
    let mut lines = vec![Line::styled(
        "A second console, in another terminal:",
        theme.style(StyleKey::HelpKey),
    )];
    lines.extend(wrapped(
        &clean(attach),
        w,
        theme.style(StyleKey::HelpAction),
    ));
    lines.push(Line::default());
    lines
}

/// "↓ 9 more · j/k scroll": what is hidden above and below, and the keys.
fn scroll_hint(above: usize, below: usize, keymap: &Keymap, theme: &Theme) -> Line<'static> {
    let mut parts = Vec::new();
    if above > 0 {
        parts.push(format!("↑ {above} more"));
    }
    if below > 0 {
        parts.push(format!("↓ {below} more"));
    }
    let keys: Vec<String> = [Action::MoveDown, Action::MoveUp]
        .iter()
        .filter_map(|a| keymap.hint(*a))
        .collect();
    if !keys.is_empty() {
        parts.push(format!("{} scroll", keys.join("/")));
    }
    Line::styled(parts.join(" · "), theme.style(StyleKey::PopupKey))
}
