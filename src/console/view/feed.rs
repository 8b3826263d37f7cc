//! The chat feed pane: lays out only the entries that fit, from the bottom
//! (following) or around the selection (scrolled back).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::pane_block;
use super::text::{
    author_label_fit, author_style, clean, clean_name, clock, put_line, thousands, tombstone_text,
    unread_suffix,
};
use std::collections::HashMap;

use crate::console::feed::{Feed, Layout, Pos};
use crate::console::popups::flag::{FLAG_GLYPH, colour_style};
use crate::console::state::{Console, FeedScroll, Pane};
use crate::console::theme::{StyleKey, Theme};
use crate::console::wrap::truncate;
use crate::protocol::{Author, ChatEntry, ChatMessage, FlagColour, Visibility};

const TIME_W: u16 = 6;
const MARKER_W: u16 = 2;
/// The name column's bounds, in cells: the narrowest keeps a short first
/// name whole; the widest keeps two thirds of a wide pane for the text.
const NAME_MIN_W: u16 = 9;
const NAME_MAX_W: u16 = 24;

/// The name column's width for a feed `inner_width` cells wide: a fifth of
/// the pane, so a wider window shows longer names whole ("Jean-Philippe~#4821"
/// fits from about 150 columns) while the text keeps most of the row. A
/// share of the width rather than the longest name on screen, so the column
/// (and every line's wrapping) stays put while the chat scrolls.
pub(crate) fn name_width(inner_width: u16) -> u16 {
    (inner_width / 5).clamp(NAME_MIN_W, NAME_MAX_W)
}

/// The feed pane's own state, kept by the caller between draws (ratatui's
/// `StatefulWidget` pattern): the wrapped lines of the visible entries and
/// where the view settled when scrolled back. The model never sees it.
#[derive(Debug, Clone, Default)]
pub struct FeedView {
    /// Layouts of the entries drawn last, by position, with the revision
    /// and width they were made for.
    layouts: HashMap<Pos, (u64, Layout)>,
    /// The bottom entry the view settled on (kept consistent with the
    /// selection and the pane's height).
    bottom: Option<Pos>,
    /// The model's anchor when `bottom` was settled: a new anchor from
    /// `update` (jump, filter) wins over where the view settled.
    anchor_seen: Option<Pos>,
}

impl FeedView {
    /// The entry at `pos` laid out for `width` cells, from the cache while
    /// the entry and the width are unchanged.
    fn layout(&mut self, feed: &Feed, pos: Pos, width: u16) -> Option<&Layout> {
        let slot = feed.at(pos)?;
        let fresh = self
            .layouts
            .get(&pos)
            .is_some_and(|(rev, l)| *rev == slot.revision() && l.width == width);
        if !fresh {
            let layout = Layout::new(display_text(&slot.entry), width);
            self.layouts.insert(pos, (slot.revision(), layout));
        }
        self.layouts.get(&pos).map(|(_, l)| l)
    }

    fn height(&mut self, feed: &Feed, k: usize, width: u16) -> usize {
        feed.view_pos(k)
            .and_then(|pos| self.layout(feed, pos, width))
            .map_or(0, |l| l.lines.len())
    }

    /// The bottom entry to lay out from: the model's anchor when `update`
    /// moved it since the last draw, else where the view settled.
    fn anchor(&self, scroll: &FeedScroll) -> Option<Pos> {
        if scroll.bottom == self.anchor_seen {
            self.bottom.or(scroll.bottom)
        } else {
            scroll.bottom
        }
    }
}

/// Which entries fill the pane: view indices `top..=bottom`, with
/// `cut_top` rows of the top entry hidden above it.
struct Window {
    top: usize,
    bottom: usize,
    cut_top: usize,
}

/// The pane's geometry for this draw: its inner area and column widths.
struct Columns {
    inner: Rect,
    name_w: u16,
    text_w: u16,
}

pub(crate) fn draw_feed(
    buf: &mut Buffer,
    area: Rect,
    state: &Console,
    view: &mut FeedView,
    theme: &Theme,
) {
    let inner = draw_frame(buf, area, state, theme);
    let name_w = name_width(inner.width);
    let text_x_offset = TIME_W + MARKER_W + name_w + 1;
    if inner.height == 0 || inner.width <= text_x_offset + 4 {
        return;
    }
    let cols = Columns {
        inner,
        name_w,
        text_w: inner.width - text_x_offset,
    };
    let len = state.feed.view_len();
    if len == 0 {
        draw_empty(buf, inner, state, theme);
        return;
    }
    let selected = if state.scroll.follow {
        None
    } else {
        state.scroll.selected.map(|p| state.feed.view_index(p))
    };
    let window = visible_window(state, view, inner.height as usize, selected, cols.text_w);
    if !state.scroll.follow {
        view.bottom = state.feed.view_pos(window.bottom);
        view.anchor_seen = state.scroll.bottom;
    }
    let selected_pos = selected.and_then(|k| state.feed.view_pos(k));
    draw_window(buf, &cols, &window, selected_pos, state, view, theme);
    if !state.scroll.follow {
        draw_paused_badge(buf, area, len, window.bottom, state, theme);
    }
}

/// The pane's border and title (with the filter, when one is set); returns
/// the inner area.
fn draw_frame(buf: &mut Buffer, area: Rect, state: &Console, theme: &Theme) -> Rect {
    let focused = state.focus == Pane::Feed && state.compose.is_none();
    let mut title = vec![Span::raw(" Chat ")];
    if let Some((at, len)) = crate::console::state::pause::position(state) {
        title.push(Span::raw(format!(
            "{}/{} ",
            thousands(at as u64),
            thousands(len as u64)
        )));
    }
    if !focused {
        let unread = unread_suffix(state.unread.of(Pane::Feed));
        if !unread.is_empty() {
            title.push(Span::raw(unread));
        }
    }
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
    inner
}

fn draw_empty(buf: &mut Buffer, inner: Rect, state: &Console, theme: &Theme) {
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
}

/// Which entries are visible: heights measured from the anchor, up until
/// the pane is full; a selection above that shows at the top instead.
fn visible_window(
    state: &Console,
    view: &mut FeedView,
    rows: usize,
    selected: Option<usize>,
    text_w: u16,
) -> Window {
    let feed = &state.feed;
    let len = feed.view_len();
    let mut bottom = if state.scroll.follow {
        len - 1
    } else {
        view.anchor(&state.scroll)
            .map_or(len - 1, |p| feed.view_index(p))
    };
    if let Some(sel) = selected
        && sel > bottom
    {
        bottom = sel;
    }
    // Walk up from the bottom until the pane is full.
    let mut top = bottom;
    let mut used = view.height(feed, bottom, text_w);
    while used < rows && top > 0 {
        top -= 1;
        used += view.height(feed, top, text_w);
    }
    // Rows of the top entry hidden above the pane (bottom-aligned view).
    let cut_top = used.saturating_sub(rows);
    match selected {
        Some(sel) if sel < top + usize::from(cut_top > 0 && sel == top) => {
            top_aligned(feed, view, rows, sel, text_w)
        }
        _ => Window {
            top,
            bottom,
            cut_top,
        },
    }
}

/// The selection is above the view: show it at the top, and as many
/// entries under it as fit.
fn top_aligned(feed: &Feed, view: &mut FeedView, rows: usize, top: usize, text_w: u16) -> Window {
    let len = feed.view_len();
    let mut bottom = top;
    let mut used = view.height(feed, top, text_w);
    while used < rows && bottom + 1 < len {
        bottom += 1;
        used += view.height(feed, bottom, text_w);
    }
    if used > rows && bottom > top {
        // The last entry does not fit whole; it shows partly, and is not
        // the anchor.
        bottom -= 1;
    }
    Window {
        top,
        bottom,
        cut_top: 0,
    }
}

/// Draws the window's entries top to bottom; forgets the layouts of
/// entries no longer on screen.
fn draw_window(
    buf: &mut Buffer,
    cols: &Columns,
    window: &Window,
    selected_pos: Option<Pos>,
    state: &Console,
    view: &mut FeedView,
    theme: &Theme,
) {
    let inner = cols.inner;
    let len = state.feed.view_len();
    let mut y = inner.y;
    let mut k = window.top;
    let mut skip = window.cut_top;
    let mut shown = Vec::new();
    while y < inner.bottom() && k < len {
        let Some(pos) = state.feed.view_pos(k) else {
            break;
        };
        let Some(entry) = state.feed.at(pos) else {
            break;
        };
        if let Some(layout) = view.layout(&state.feed, pos, cols.text_w) {
            let row = EntryRow {
                entry: &entry.entry,
                layout,
                skip,
                selected: selected_pos == Some(pos),
            };
            y = draw_entry(buf, inner, y, &row, state, theme, cols.name_w);
        }
        shown.push(pos);
        skip = 0;
        k += 1;
    }
    let measured = state
        .feed
        .view_pos(window.top)
        .zip(state.feed.view_pos(window.bottom));
    view.layouts.retain(|pos, _| {
        shown.contains(pos) || measured.is_some_and(|(a, b)| (a..=b).contains(pos))
    });
}

/// "3 new ↓ G" (or "paused · G follows") while scrolled back.
fn draw_paused_badge(
    buf: &mut Buffer,
    area: Rect,
    len: usize,
    bottom: usize,
    state: &Console,
    theme: &Theme,
) {
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
    let w = u16::try_from(crate::console::wrap::display_width(&badge)).unwrap_or(u16::MAX);
    if w.saturating_add(2) < area.width {
        buf.set_stringn(
            area.right() - w - 2,
            area.bottom() - 1,
            &badge,
            usize::from(w),
            theme.style(StyleKey::FeedNewBelow),
        );
    }
}

/// The text drawn for an entry: sanitised at render, with the reply's
/// addressee in front of a staff answer. A tombstone's text is about the
/// removal only.
fn display_text(entry: &ChatEntry) -> String {
    match entry {
        ChatEntry::Message(m) if m.announcement => {
            format!("{ANNOUNCEMENT_LABEL} {}", clean(&m.text))
        }
        ChatEntry::Message(m) => match &m.reply_to {
            Some(reply) if m.also_to.is_empty() => {
                format!("@{} {}", clean_name(&reply.first_name), clean(&m.text))
            }
            // A group answer: its first two askers, and how many more.
            Some(_) => {
                let all: Vec<&str> = m.replies_to().map(|r| r.first_name.as_str()).collect();
                let named: Vec<String> = all
                    .iter()
                    .filter(|n| !n.is_empty())
                    .take(2)
                    .map(|n| clean_name(n))
                    .collect();
                let more = all.len().saturating_sub(named.len());
                let more = if more > 0 {
                    format!(" +{more}")
                } else {
                    String::new()
                };
                format!("@{}{more} {}", named.join(", "), clean(&m.text))
            }
            None => clean(&m.text).into_owned(),
        },
        ChatEntry::Redacted(t) => tombstone_text(t),
    }
}

/// What an announcement's line starts with, so it reads apart from the
/// chat even without colours.
pub(crate) const ANNOUNCEMENT_LABEL: &str = "ANNOUNCEMENT ·";

/// The one-cell marker for a message, most important state first.
pub(crate) fn marker(m: &ChatMessage) -> (&'static str, StyleKey) {
    match m.visibility {
        Visibility::Visible if m.announcement => ("!", StyleKey::MarkerAnnouncement),
        Visibility::Held { .. } => (super::HELD_GLYPH, StyleKey::MarkerHeld),
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
        Visibility::Visible if m.announcement => StyleKey::FeedAnnouncement,
        Visibility::Held { .. } => StyleKey::FeedHeldText,
        Visibility::Hidden => StyleKey::FeedHiddenText,
        Visibility::Visible if matches!(m.author, Author::Staff { .. }) => StyleKey::FeedStaffText,
        Visibility::Visible => StyleKey::FeedText,
    }
}

/// The marker of a line whose author is banned or timed out.
const SANCTIONED_GLYPH: &str = "✕";

/// The marker of a line a `flag` rule matched (staff only: viewers got
/// the line unmarked).
const FLAGGED_GLYPH: &str = "⚑";

/// Whether the author of `m` is under a ban or a running timeout: looked
/// up at drawing time, so every line of theirs is marked, whenever it was
/// loaded.
fn is_sanctioned(state: &Console, m: &ChatMessage) -> bool {
    match &m.author {
        Author::Viewer { viewer_id, .. } => state.sanctioned.marks(viewer_id, state.now),
        Author::Staff { .. } => false,
    }
}

/// "[Claire is answering]" (or "[Claire]") at the right end of a claimed
/// line's first row, where the row's text leaves room for it.
#[expect(clippy::too_many_arguments, reason = "the row's geometry, drawn once")]
fn draw_claim(
    buf: &mut Buffer,
    text_x: u16,
    y: u16,
    text_w: u16,
    first_row: &str,
    entry: &ChatEntry,
    state: &Console,
    theme: &Theme,
) {
    let Some(claim) = state.claim_on(entry.id()) else {
        return;
    };
    let used = crate::console::wrap::display_width(first_row);
    let room = usize::from(text_w).saturating_sub(used + 1);
    let long = format!("[{}]", state.claim_label(claim));
    let short = format!("[{}]", state.claim_short_label(claim));
    let Some(label) = [long, short]
        .into_iter()
        .find(|l| crate::console::wrap::display_width(l) <= room)
    else {
        return;
    };
    let w = u16::try_from(crate::console::wrap::display_width(&label)).unwrap_or(text_w);
    let x = text_x + text_w - w;
    buf.set_stringn(x, y, &label, usize::from(w), theme.style(StyleKey::Claim));
}

/// A flagged viewer's colour mark, left of their name.
fn draw_flag(buf: &mut Buffer, x: u16, y: u16, colour: FlagColour, theme: &Theme) {
    buf.set_stringn(x, y, FLAG_GLYPH, 1, theme.style(colour_style(colour)));
}

/// One entry to draw, from `skip` rows into its layout.
struct EntryRow<'a> {
    entry: &'a ChatEntry,
    layout: &'a Layout,
    skip: usize,
    selected: bool,
}

fn draw_entry(
    buf: &mut Buffer,
    inner: Rect,
    mut y: u16,
    row: &EntryRow<'_>,
    state: &Console,
    theme: &Theme,
    name_w: u16,
) -> u16 {
    let EntryRow {
        entry,
        layout,
        skip,
        selected,
    } = *row;
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
            let (time, mark, name, name_style, pin, flag) = match entry {
                ChatEntry::Message(m) => {
                    let sanctioned = is_sanctioned(state, m);
                    let flagged = state.flagged.contains(&m.id);
                    let (mark, mark_style) = match marker(m) {
                        // Held and hidden say more than who wrote it, or
                        // than a rule's flag.
                        (" " | "?" | "✓", _) if sanctioned => {
                            (SANCTIONED_GLYPH, StyleKey::MarkerSanctioned)
                        }
                        (" " | "?" | "✓", _) if flagged => {
                            (FLAGGED_GLYPH, StyleKey::MarkerFlagged)
                        }
                        other => other,
                    };
                    let name_style = if sanctioned {
                        author_style(&m.author, theme)
                            .patch(theme.style(StyleKey::FeedSanctionedName))
                    } else {
                        author_style(&m.author, theme)
                    };
                    // A flagged viewer's colour, left of their name: the
                    // name gives up two cells for it.
                    let flag = state.flag_of(&m.author).map(|f| f.colour);
                    let label_w = name_w as usize - if flag.is_some() { 2 } else { 0 };
                    (
                        clock(m.at),
                        Span::styled(mark, theme.style(mark_style)),
                        author_label_fit(&state.feed, &m.author, label_w),
                        name_style,
                        pinned,
                        flag,
                    )
                }
                ChatEntry::Redacted(t) => (
                    clock(t.posted_at),
                    Span::styled("⌫", theme.style(StyleKey::FeedTombstone)),
                    "—".to_string(),
                    theme.style(StyleKey::FeedTombstone),
                    false,
                    None,
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
            // Truncated to `name_w`, so its width fits.
            let shown_w =
                u16::try_from(crate::console::wrap::display_width(&name)).unwrap_or(name_w);
            let name_x = inner.x + TIME_W + MARKER_W + name_w - shown_w;
            buf.set_stringn(name_x, y, &name, name_w as usize, name_style);
            if let Some(colour) = flag {
                draw_flag(buf, name_x.saturating_sub(2), y, colour, theme);
            }
        }
        let style = match entry {
            ChatEntry::Message(m) => theme.style(text_style(m)),
            ChatEntry::Redacted(_) => theme.style(StyleKey::FeedTombstone),
        };
        buf.set_stringn(text_x, y, layout.line(i), text_w as usize, style);
        if i == 0 {
            draw_claim(buf, text_x, y, text_w, layout.line(0), entry, state, theme);
        }
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
