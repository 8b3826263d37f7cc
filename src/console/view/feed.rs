//! The chat feed pane: lays out only the entries that fit, from the bottom
//! (following) or around the selection (scrolled back).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{author_label, author_style, clean, clock, pane_block, put_line};
use crate::console::feed::Pos;
use crate::console::state::{Console, Pane};
use crate::console::theme::{StyleKey, Theme};
use crate::console::wrap::truncate;
use crate::protocol::{Author, ChatEntry, ChatMessage, Tombstone, Visibility};

const TIME_W: u16 = 6;
const MARKER_W: u16 = 2;

pub fn draw_feed(buf: &mut Buffer, area: Rect, state: &mut Console, theme: &Theme) {
    let focused = state.focus == Pane::Feed && state.compose.is_none();
    let mut title = vec![Span::raw(" Chat ")];
    if let Some(f) = state.feed.filter() {
        title.push(Span::styled(
            format!(
                "/{} ({}) ",
                truncate(&clean(f.as_str()), 24),
                state.feed.view_len()
            ),
            theme.style(StyleKey::FeedFilter),
        ));
    }
    let block = pane_block(Line::from(title), focused, theme);
    let inner = block.inner(area);
    block.render(area, buf);
    state.feed_rows = inner.height;
    let name_w: u16 = if inner.width >= 100 {
        16
    } else if inner.width >= 60 {
        12
    } else {
        9
    };
    let text_x_offset = TIME_W + MARKER_W + name_w + 1;
    if inner.height == 0 || inner.width <= text_x_offset + 4 {
        return;
    }
    let text_w = inner.width - text_x_offset;

    let len = state.feed.view_len();
    if len == 0 {
        let text = if state.feed.filter().is_some() {
            "no line matches the filter"
        } else {
            "waiting for chat…"
        };
        put_line(
            buf,
            inner,
            inner.y,
            &Line::styled(text, theme.style(StyleKey::FeedEmpty)),
        );
        return;
    }

    // Which entries are visible: measure heights from the anchor.
    let rows = inner.height as usize;
    let selected = if state.scroll.follow {
        None
    } else {
        state.scroll.selected.map(|p| state.feed.view_index(p))
    };
    let mut bottom = if state.scroll.follow {
        len - 1
    } else {
        state
            .scroll
            .bottom
            .map(|p| state.feed.view_index(p))
            .unwrap_or(len - 1)
    };
    if let Some(sel) = selected
        && sel > bottom
    {
        bottom = sel;
    }
    let height_of = |k: usize, feed: &mut crate::console::feed::Feed| -> usize {
        let Some(pos) = feed.view_pos(k) else {
            return 0;
        };
        feed.layout(pos, text_w, display_text)
            .map(|(_, l)| l.lines.len())
            .unwrap_or(0)
    };
    // Walk up from the bottom until the pane is full.
    let mut top = bottom;
    let mut used = height_of(bottom, &mut state.feed);
    while used < rows && top > 0 {
        top -= 1;
        used += height_of(top, &mut state.feed);
    }
    // Rows of the top entry hidden above the pane (bottom-aligned view).
    let mut cut_top = used.saturating_sub(rows);
    if let Some(sel) = selected
        && sel < top + usize::from(cut_top > 0 && sel == top)
    {
        // The selection is above the view: show it at the top instead.
        top = sel;
        cut_top = 0;
        bottom = top;
        used = height_of(top, &mut state.feed);
        while used < rows && bottom + 1 < len {
            bottom += 1;
            used += height_of(bottom, &mut state.feed);
        }
        if used > rows && bottom > top {
            // The last entry does not fit whole; it shows partly, and is not
            // the anchor.
            bottom -= 1;
        }
    }
    if !state.scroll.follow {
        state.scroll.bottom = state.feed.view_pos(bottom);
    }

    // Draw top to bottom.
    let selected_pos = selected.and_then(|k| state.feed.view_pos(k));
    let mut y = inner.y;
    let mut k = top;
    let mut skip = cut_top;
    while y < inner.bottom() && k < len {
        let Some(pos) = state.feed.view_pos(k) else {
            break;
        };
        if state.feed.cached_layout(pos).is_none() {
            height_of(k, &mut state.feed);
        }
        y = draw_entry(
            buf,
            inner,
            y,
            pos,
            skip,
            selected_pos == Some(pos),
            state,
            theme,
            name_w,
        );
        skip = 0;
        k += 1;
    }

    if !state.scroll.follow {
        let unseen = len - 1 - bottom.min(len - 1);
        let jump = state
            .keymap
            .hint(crate::console::keymap::Action::JumpBottom)
            .unwrap_or_default();
        let badge = if unseen > 0 {
            format!(" {unseen} new ↓ {jump} ")
        } else {
            format!(" paused · {jump} follows ")
        };
        let w = crate::console::wrap::display_width(&badge) as u16;
        if w + 2 < area.width {
            buf.set_stringn(
                area.right() - w - 2,
                area.bottom() - 1,
                &badge,
                w as usize,
                theme.style(StyleKey::FeedNewBelow),
            );
        }
    }
}

/// The text drawn for an entry: sanitised at render, with the reply's
/// addressee in front of a staff answer. A tombstone's text is about the
/// removal only.
fn display_text(entry: &ChatEntry) -> String {
    match entry {
        ChatEntry::Message(m) => match &m.reply_to {
            Some(reply) => format!(
                "@{} {}",
                super::clean_name(&reply.first_name),
                clean(&m.text)
            ),
            None => clean(&m.text).into_owned(),
        },
        ChatEntry::Redacted(t) => tombstone_text(t),
    }
}

/// "removed at the viewer's request · support · 12:03"
pub(crate) fn tombstone_text(t: &Tombstone) -> String {
    let reason = clean(t.reason.trim());
    let reason = if reason.is_empty() {
        "removed".to_string()
    } else if ["at ", "for ", "by ", "on "]
        .iter()
        .any(|p| reason.starts_with(p))
    {
        format!("removed {reason}")
    } else {
        format!("removed: {reason}")
    };
    format!(
        "{reason} · {} · {}",
        super::actor_label(&t.by),
        clock(t.redacted_at)
    )
}

/// The one-cell marker for a message, most important state first.
pub(crate) fn marker(m: &ChatMessage) -> (&'static str, StyleKey) {
    match m.visibility {
        Visibility::Held { .. } => ("⧗", StyleKey::MarkerHeld),
        Visibility::Hidden => ("⊘", StyleKey::MarkerHidden),
        Visibility::Visible if matches!(m.author, Author::Staff { .. }) => {
            ("↳", StyleKey::MarkerStaffAnswer)
        }
        Visibility::Visible if m.question && m.answered => ("✓", StyleKey::MarkerAnswered),
        Visibility::Visible if m.question => ("?", StyleKey::MarkerQuestion),
        Visibility::Visible => (" ", StyleKey::FeedText),
    }
}

pub(crate) fn text_style(m: &ChatMessage) -> StyleKey {
    match m.visibility {
        Visibility::Held { .. } => StyleKey::FeedHeldText,
        Visibility::Hidden => StyleKey::FeedHiddenText,
        Visibility::Visible if matches!(m.author, Author::Staff { .. }) => StyleKey::FeedStaffText,
        Visibility::Visible => StyleKey::FeedText,
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_entry(
    buf: &mut Buffer,
    inner: Rect,
    mut y: u16,
    pos: Pos,
    skip: usize,
    selected: bool,
    state: &Console,
    theme: &Theme,
    name_w: u16,
) -> u16 {
    let Some((entry, layout)) = state.feed.cached_layout(pos) else {
        return y;
    };
    let text_x = inner.x + TIME_W + MARKER_W + name_w + 1;
    let text_w = inner.right().saturating_sub(text_x);
    let pinned = state
        .pinned
        .as_ref()
        .is_some_and(|p| p.message_id == entry.id());
    for (i, _) in layout.lines.iter().enumerate().skip(skip) {
        if y >= inner.bottom() {
            break;
        }
        if i == 0 {
            let (time, mark, name, name_style, pin) = match entry {
                ChatEntry::Message(m) => {
                    let (mark, mark_style) = marker(m);
                    (
                        clock(m.at),
                        Span::styled(mark, theme.style(mark_style)),
                        author_label(state, &m.author),
                        author_style(&m.author, theme),
                        pinned,
                    )
                }
                ChatEntry::Redacted(t) => (
                    clock(t.posted_at),
                    Span::styled("⌫", theme.style(StyleKey::FeedTombstone)),
                    "—".to_string(),
                    theme.style(StyleKey::FeedTombstone),
                    false,
                ),
            };
            buf.set_stringn(
                inner.x,
                y,
                &time,
                TIME_W as usize,
                theme.style(StyleKey::FeedTime),
            );
            buf.set_span(inner.x + TIME_W, y, &mark, 1);
            if pin {
                buf.set_stringn(
                    inner.x + TIME_W + 1,
                    y,
                    "★",
                    1,
                    theme.style(StyleKey::MarkerPinned),
                );
            }
            let name = truncate(&name, name_w as usize);
            let name_x = inner.x + TIME_W + MARKER_W + name_w
                - crate::console::wrap::display_width(&name) as u16;
            buf.set_stringn(name_x, y, &name, name_w as usize, name_style);
        }
        let style = match entry {
            ChatEntry::Message(m) => theme.style(text_style(m)),
            ChatEntry::Redacted(_) => theme.style(StyleKey::FeedTombstone),
        };
        buf.set_stringn(text_x, y, layout.line(i), text_w as usize, style);
        if selected {
            buf.set_style(
                Rect::new(inner.x, y, inner.width, 1),
                theme.style(StyleKey::FeedSelected),
            );
        }
        y += 1;
    }
    y
}
