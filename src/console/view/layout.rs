//! Where each part of the screen goes, from the terminal's size alone. A
//! leaf, so `update` can learn the feed's height from a resize without
//! drawing.

use ratatui::layout::{Constraint, Layout, Rect};

/// Below this the console shows the "terminal too small" screen.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// The screen's regions.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    pub feed: Rect,
    pub side: Rect,
    pub input: Rect,
    pub status: Rect,
}

/// The regions of `area`, or `None` when it is too small to draw in.
pub fn screen(area: Rect) -> Option<Screen> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [main, input, status] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let side_width = if area.width >= 120 {
        (area.width * 35 / 100).clamp(40, 64)
    } else {
        (area.width * 38 / 100).clamp(24, 40)
    };
    let [feed, side] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(side_width)]).areas(main);
    Some(Screen {
        feed,
        side,
        input,
        status,
    })
}

/// Rows of chat the feed pane shows on a `width`×`height` terminal (inside
/// its border), or `None` when the terminal is too small to draw in.
pub fn feed_rows(width: u16, height: u16) -> Option<u16> {
    screen(Rect::new(0, 0, width, height)).map(|s| s.feed.height.saturating_sub(2))
}
