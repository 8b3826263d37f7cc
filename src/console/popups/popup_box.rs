//! The box every popup is drawn in, its wrapped text and its footer of
//! keys. A leaf shared by all popups.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use super::Hints;
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{centered, put_line};
use crate::console::wrap::wrap;

/// The usual popup width for a screen `area`.
pub fn popup_width(area: Rect) -> u16 {
    (area.width * 7 / 10).clamp(40, 90).min(area.width)
}

/// The width of the wide popups (help, the games list).
pub fn wide_width(area: Rect) -> u16 {
    (area.width * 8 / 10).clamp(40, 96).min(area.width)
}

/// `text` wrapped to `width` cells, one styled line per row.
pub fn wrapped(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, width)
        .into_iter()
        .map(|r| Line::styled(text[r].to_string(), style))
        .collect()
}

/// A footer: "y ban · n cancel".
pub fn keys_line(keys: &Hints, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (k, what)) in keys.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.style(StyleKey::PopupLabel)));
        }
        spans.push(Span::styled(k.clone(), theme.style(StyleKey::PopupKey)));
        spans.push(Span::styled(
            format!(" {what}"),
            theme.style(StyleKey::PopupLabel),
        ));
    }
    Line::from(spans)
}

/// A bordered box sized to its lines; returns its inner area.
pub fn draw_box(
    buf: &mut Buffer,
    area: Rect,
    title: &str,
    lines: &[Line<'_>],
    width: u16,
    theme: &Theme,
) -> Rect {
    let height = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let rect = centered(area, width, height.saturating_add(2));
    clear_left_neighbours(buf, rect);
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
    for (y, line) in (inner.y..inner.bottom()).zip(lines) {
        put_line(buf, inner, y, line);
    }
    inner
}

/// The widest a character gets in a cell grid (CJK, emoji: two cells).
const MAX_CHAR_CELLS: u16 = 2;

/// Blanks a wide character just left of `rect` whose right half would
/// otherwise cover the popup's left border: clearing the popup's own cells
/// does not stop the terminal from drawing the second half over them.
fn clear_left_neighbours(buf: &mut Buffer, rect: Rect) {
    let reach = rect.x.saturating_sub(buf.area.x).min(MAX_CHAR_CELLS - 1);
    for y in rect.top()..rect.bottom() {
        for back in 1..=reach {
            let cell = &mut buf[(rect.x - back, y)];
            if usize::from(back) < unicode_width::UnicodeWidthStr::width(cell.symbol()) {
                cell.set_symbol(" ");
            }
        }
    }
}

/// Draws `lines` in a box and places the cursor at `(row, column)` of it.
pub fn draw_box_with_cursor(
    buf: &mut Buffer,
    area: Rect,
    title: &str,
    lines: &[Line<'_>],
    width: u16,
    cursor: Option<(usize, u16)>,
    theme: &Theme,
) -> Option<(u16, u16)> {
    let inner = draw_box(buf, area, title, lines, width, theme);
    let (row, col) = cursor?;
    let y = inner
        .y
        .saturating_add(u16::try_from(row).unwrap_or(u16::MAX));
    (y < inner.bottom()).then_some((inner.x + col.min(inner.width.saturating_sub(1)), y))
}
