//! Views: functions from the console's state to a ratatui frame, one per
//! pane or popup. Every colour comes from the [`Theme`]; every piece of
//! text that a viewer or staff member typed is sanitised again here before
//! it reaches a cell (defence in depth: the hub sanitised it at ingest).
//!
//! Drawing only reads the console. What depends on the pane's size (the
//! feed's layout cache, its resolved scroll anchor) lives in [`FeedView`],
//! apart from the model, like ratatui's `StatefulWidget` with a `ListState`.

mod feed;
mod games;
pub mod layout;
mod panes;
pub(crate) mod text;

use text::{clean, clean_name, put_line};

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};
use unicode_segmentation::UnicodeSegmentation;

use super::state::{ConnStatus, Console, Pane};
use super::theme::{StyleKey, Theme};
use super::wrap::{display_width, truncate};

pub use feed::FeedView;
pub use layout::{MIN_HEIGHT, MIN_WIDTH};

/// The status bar's mark for commands waiting for the hub's answer ("on
/// its way"). Like the held mark ([`HELD_GLYPH`]) it is a character every
/// common terminal font has (both are in the WGL4 set, so in `DejaVu Sans
/// Mono`, Menlo, Consolas, `Liberation Mono`…), one cell wide even where
/// East Asian ambiguous-width characters take two.
pub const PENDING_GLYPH: &str = "»";
/// The mark of a held message, in the feed and the hold queue ("stopped").
pub const HELD_GLYPH: &str = "▪";

/// Draws the whole console. Reads `state`; only `feed_view` (the view's own
/// state) changes.
pub fn draw(frame: &mut Frame, state: &Console, feed_view: &mut FeedView, theme: &Theme) {
    let area = frame.area();
    frame
        .buffer_mut()
        .set_style(area, theme.style(StyleKey::Base));
    let Some(screen) = layout::screen(area) else {
        draw_too_small(frame.buffer_mut(), area, theme);
        return;
    };
    feed::draw_feed(frame.buffer_mut(), screen.feed, state, feed_view, theme);
    // Tall terminals get the roomier side column.
    let wide = area.height >= 40;
    draw_side(frame.buffer_mut(), screen.side, wide, state, theme);
    let buf = frame.buffer_mut();
    draw_status(buf, screen.status, state, theme);
    draw_reply_footer(buf, screen.feed, state, theme);
    if let Some(cursor) = draw_input(buf, screen.input, state, theme) {
        frame.set_cursor_position(cursor);
    }
    let popup_cursor = state
        .popup
        .as_ref()
        .and_then(|p| p.draw(frame.buffer_mut(), area, state, theme));
    if let Some(cursor) = popup_cursor {
        frame.set_cursor_position(cursor);
    }
}

/// The side column: now on screen, questions, the hold queue, activity.
fn draw_side(buf: &mut Buffer, side: Rect, wide: bool, state: &Console, theme: &Theme) {
    let activity_height = if wide { 12 } else { 5 };
    let panes = state.panes();
    // A live poll or instant win grows the card, leaving the other panes
    // at least three rows each.
    let others = if panes.contains(&Pane::Hold) { 6 } else { 3 };
    let max_now = side.height.saturating_sub(others + activity_height);
    let now_height =
        panes::now_on_screen_height(state, side.width, theme, wide).min(max_now.max(5));
    let mut constraints = vec![Constraint::Length(now_height), Constraint::Min(3)];
    if panes.contains(&Pane::Hold) {
        constraints.push(Constraint::Min(3));
    }
    constraints.push(Constraint::Length(activity_height));
    let areas = Layout::vertical(constraints).split(side);
    panes::draw_now_on_screen(buf, areas[0], state, theme);
    panes::draw_questions(buf, areas[1], state, theme);
    let mut next = 2;
    if panes.contains(&Pane::Hold) {
        panes::draw_hold(buf, areas[2], state, theme);
        next = 3;
    }
    panes::draw_activity(buf, areas[next], state, theme);
}

fn draw_too_small(buf: &mut Buffer, area: Rect, theme: &Theme) {
    let lines = [
        "Terminal too small".to_string(),
        format!(
            "{}×{} — needs {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        ),
    ];
    let style = theme.style(StyleKey::TooSmall);
    let height = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let top = area.y + area.height.saturating_sub(height) / 2;
    for (y, text) in (top..area.bottom()).zip(&lines) {
        let text = truncate(text, usize::from(area.width));
        // Truncated to the area's width, so it fits.
        let text_w = u16::try_from(display_width(&text)).unwrap_or(area.width);
        let x = area.x + area.width.saturating_sub(text_w) / 2;
        buf.set_stringn(x, y, &text, area.width as usize, style);
    }
}

/// A bordered pane; the focused one stands out.
pub(crate) fn pane_block<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    let (border, title_style) = if focused {
        (StyleKey::BorderFocused, StyleKey::TitleFocused)
    } else {
        (StyleKey::Border, StyleKey::Title)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(theme.style(border))
        .title(title.style(theme.style(title_style)))
}

/// The status bar. The connection state and the pending count always show
/// (the pending count shortened if need be); then the most important of
/// the other segments that fit; the note takes the rest, truncated with an
/// ellipsis.
fn draw_status(buf: &mut Buffer, area: Rect, state: &Console, theme: &Theme) {
    let bar = theme.style(StyleKey::StatusBar);
    buf.set_style(area, bar);
    let width = usize::from(area.width);
    let note = state.note.as_ref().map(|n| {
        let style = if n.error {
            StyleKey::StatusError
        } else {
            StyleKey::StatusInfo
        };
        (format!(" {} ", clean(&n.text)), theme.style(style))
    });
    // The note keeps up to half the bar from the optional segments.
    let note_width = note.as_ref().map_or(0, |(t, _)| display_width(t));
    let budget = width.saturating_sub(note_width.min(width / 2));
    let conn = connection_span(state, theme);
    // Shield changes the whole chat: it always shows, beside the connection.
    let shield = state
        .settings
        .shield
        .then(|| Span::styled(" SHIELD ", theme.style(StyleKey::StatusShield)));
    let mut pending = pending_span(state, theme, false);
    let width_of = |spans: &[&Span]| spans.iter().map(|s| s.width()).sum::<usize>();
    let first: Vec<&Span> = std::iter::once(&conn)
        .chain(shield.as_ref())
        .chain(pending.as_ref())
        .collect();
    if width_of(&first) > budget {
        pending = pending_span(state, theme, true);
    }
    let mut spans: Vec<Span> = std::iter::once(conn).chain(shield).chain(pending).collect();
    let mut used: usize = spans.iter().map(Span::width).sum();
    // The optional segments, most important first, after the ones that
    // always show; a segment that does not fit is left out.
    let optional = status_segments(area, state, theme);
    for segment in optional {
        if used + segment.width() <= budget {
            used += segment.width();
            spans.push(segment);
        }
    }
    if let Some((text, style)) = note {
        spans.push(Span::styled(text, style));
    }
    // The note (last) takes what is left.
    fit_with_ellipsis(&mut spans, width);
    put_line(buf, area, area.y, &Line::from(spans));
}

/// Shortens the last spans so the line fits `width`, ending in an
/// ellipsis when something was cut.
fn fit_with_ellipsis(spans: &mut Vec<Span<'static>>, width: usize) {
    let mut total: usize = spans.iter().map(Span::width).sum();
    while total > width {
        let Some(last) = spans.pop() else { return };
        let before = total - last.width();
        if before < width {
            let cut = truncate(&last.content, width - before).into_owned();
            spans.push(Span::styled(cut, last.style));
            return;
        }
        total = before;
    }
}

/// "» 3 pending (2 wait for the hub)", or just "↑ 3 pending" when `short`.
fn pending_span(state: &Console, theme: &Theme, short: bool) -> Option<Span<'static>> {
    if state.pending.is_empty() {
        return None;
    }
    let n = state.pending.len();
    let offline = state.pending.values().filter(|p| p.sent_offline).count();
    let text = if offline > 0 && !short {
        format!(" {PENDING_GLYPH} {n} pending ({offline} wait for the hub) ")
    } else {
        format!(" {PENDING_GLYPH} {n} pending ")
    };
    Some(Span::styled(text, theme.style(StyleKey::StatusPending)))
}

/// The status bar's optional segments, most important first; they show in
/// this order too.
fn status_segments(area: Rect, state: &Console, theme: &Theme) -> Vec<Span<'static>> {
    let role = Span::styled(
        format!(
            " {} {} ",
            state.session.role,
            truncate(&clean_name(&state.session.name), 16)
        ),
        theme.style(StyleKey::StatusRole),
    );
    let live = Span::styled(
        format!(" live {} ", truncate(&clean_name(&state.session.live), 16)),
        theme.style(StyleKey::StatusLive),
    );
    let viewers = Span::styled(
        match state.viewers_online {
            Some(count) => format!(" {count} online "),
            None => " — online ".to_string(),
        },
        theme.style(StyleKey::StatusViewers),
    );
    let series = state.rate.series(state.now);
    let spark_len = if area.width >= 140 { 24 } else { 10 };
    let spark = sparkline(&series[series.len().saturating_sub(spark_len)..]);
    let rate = Span::styled(
        format!(" {}/min {spark} ", state.rate.per_minute(state.now)),
        theme.style(StyleKey::StatusSparkline),
    );
    let questions = Span::styled(
        format!(" ? {} open ", state.open_questions()),
        theme.style(StyleKey::StatusQuestions),
    );
    let mut segments = vec![role, questions, viewers, live, rate];
    // The SMS counts while a live's alert or follow-up is on its way:
    // after the live's name, before the rate.
    if let Some(text) = state.sms.as_ref().and_then(sms_label) {
        segments.insert(4, Span::styled(text, theme.style(StyleKey::StatusViewers)));
    }
    // Where the live is in its life, beside its name (after the rate, the
    // first to go when the bar is short).
    if let Some(info) = &state.live_info {
        let key = match info.state {
            crate::protocol::LiveState::OnAir => StyleKey::StatusLive,
            crate::protocol::LiveState::Scheduled | crate::protocol::LiveState::Ended => {
                StyleKey::StatusPending
            }
        };
        segments.push(Span::styled(format!(" {} ", info.state), theme.style(key)));
    }
    // How viewers get the live, last (the first to go when the bar is
    // short), like slow mode only when it is not the usual: sampling now,
    // or a policy other than the default.
    if let Some(label) = delivery_label(state) {
        segments.push(Span::styled(label, theme.style(StyleKey::StatusViewers)));
    }
    // Slow mode changes what viewers can do: it shows right after the role.
    let slow = state.settings.slow_mode_secs;
    if slow > 0 {
        let text = format!(
            " slow mode {} ",
            crate::console::popups::sanction::slow_label(slow)
        );
        segments.insert(1, Span::styled(text, theme.style(StyleKey::StatusPending)));
    }
    segments
}

/// " viewers: sampled 1/4 · 100ms ": the live's delivery policy, and the
/// share of the chat a viewer gets now (this console's last minute of
/// chat against the policy's rate; the hub samples per tick). `None` for
/// the default policy while it sends every line.
fn delivery_label(state: &Console) -> Option<String> {
    let policy = state.settings.delivery;
    let cap = u64::from(policy.chat_per_sec) * 60;
    let per_minute = state.rate.per_minute(state.now);
    let share = if cap > 0 && per_minute > cap {
        format!("sampled 1/{}", per_minute.div_ceil(cap))
    } else if policy.is_default() {
        return None;
    } else if policy.samples() {
        format!("every line to {}/s", policy.chat_per_sec)
    } else {
        "every line".to_owned()
    };
    Some(format!(" viewers: {share} · {}ms ", policy.tick_ms))
}

/// " SMS 120/300 sent · 80 delivered · 2 failed ": the follow-up's
/// counts once there is one (after the live, what is on its way), else
/// the start alert's; `None` when neither was queued.
fn sms_label(progress: &crate::protocol::SmsProgress) -> Option<String> {
    use std::fmt::Write as _;
    let (what, c) = match (&progress.follow_up, &progress.alert) {
        (Some(c), _) => ("follow-up SMS", c),
        (None, Some(c)) => ("SMS", c),
        (None, None) => return None,
    };
    let mut text = format!(" {what} {}/{} sent", c.sent, c.total());
    if c.delivered > 0 {
        let _ = write!(text, " · {} delivered", c.delivered);
    }
    if c.deferred > 0 {
        let _ = write!(text, " · {} held for quiet hours", c.deferred);
    }
    let failed = c.failed + c.uncertain;
    if failed > 0 {
        let _ = write!(text, " · {failed} failed");
    }
    text.push(' ');
    Some(text)
}

fn connection_span(state: &Console, theme: &Theme) -> Span<'static> {
    match &state.conn {
        ConnStatus::Connected => {
            Span::styled(" ● Connected ", theme.style(StyleKey::StatusConnected))
        }
        ConnStatus::Connecting => {
            Span::styled(" … Connecting ", theme.style(StyleKey::StatusReconnecting))
        }
        ConnStatus::Reconnecting {
            attempt,
            next_try_at,
        } => {
            let secs = ((next_try_at - state.now).max(0) + 999) / 1000;
            Span::styled(
                format!(" ◌ Reconnecting (attempt {attempt}, next try in {secs}s) "),
                theme.style(StyleKey::StatusReconnecting),
            )
        }
        ConnStatus::Offline { reason } => Span::styled(
            format!(" ✕ Offline: {} ", truncate(&clean(reason), 30)),
            theme.style(StyleKey::StatusOffline),
        ),
    }
}

/// Eight levels of block characters, scaled to the series' maximum.
fn sparkline(series: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = series.iter().copied().max().unwrap_or(0);
    series
        .iter()
        .map(|&v| match (v * 7 + max / 2).checked_div(max) {
            None => BARS[0],
            Some(level) => BARS[level.min(7) as usize],
        })
        .collect()
}

/// The reply line. Returns where the terminal cursor goes while typing.
fn draw_input(buf: &mut Buffer, area: Rect, state: &Console, theme: &Theme) -> Option<(u16, u16)> {
    let (prompt, editor) = match (&state.compose, &state.staff_post) {
        (Some(compose), _) => (
            format!("↳ {} › ", truncate(&clean_name(&compose.first_name), 20)),
            &compose.editor,
        ),
        // A staff post says what it will be: a chat line or an announcement.
        (None, Some(post)) if post.announcement => ("announcement › ".to_string(), &post.editor),
        (None, Some(post)) => ("as staff › ".to_string(), &post.editor),
        (None, None) => {
            let hint = hint_line(state);
            put_line(
                buf,
                area,
                area.y,
                &Line::styled(hint, theme.style(StyleKey::InputPlaceholder)),
            );
            return None;
        }
    };
    let count = editor.grapheme_count();
    let max = state.settings.max_message_graphemes;
    let counter = format!(" {count}/{max}");
    let counter_style = if count > max {
        StyleKey::InputCounterOver
    } else {
        StyleKey::InputCounter
    };
    let prompt_w = u16::try_from(display_width(&prompt)).unwrap_or(u16::MAX);
    let counter_w = u16::try_from(display_width(&counter)).unwrap_or(u16::MAX);
    let text_w = usize::from(
        area.width
            .saturating_sub(prompt_w.saturating_add(counter_w)),
    );
    let text = editor.text();
    let cursor_col = editor.cursor_column();
    // Scroll the text so the cursor stays visible.
    let skip = cursor_col.saturating_sub(text_w.saturating_sub(1));
    let visible = skip_columns(text, skip);
    let line = Line::from(vec![
        Span::styled(prompt, theme.style(StyleKey::InputPrompt)),
        Span::styled(
            truncate(&visible, text_w).into_owned(),
            theme.style(StyleKey::InputText),
        ),
    ]);
    put_line(buf, area, area.y, &line);
    buf.set_stringn(
        area.right().saturating_sub(counter_w),
        area.y,
        &counter,
        usize::from(counter_w),
        theme.style(counter_style),
    );
    let column = u16::try_from(cursor_col - skip).unwrap_or(u16::MAX);
    Some((
        area.x.saturating_add(prompt_w).saturating_add(column),
        area.y,
    ))
}

/// The reply line's keys, on the chat pane's bottom border right above it
/// (like a popup's footer): Enter sends; on an open question a second key
/// sends and marks it answered. The longest wording that fits is shown.
fn draw_reply_footer(buf: &mut Buffer, feed: Rect, state: &Console, theme: &Theme) {
    use super::keymap::Action;
    if (state.compose.is_none() && state.staff_post.is_none()) || feed.height < 2 || feed.width < 4
    {
        return;
    }
    let mark_key = super::state::reply_can_mark(state)
        .then(|| state.keymap.hint(Action::ReplyAnswered))
        .flatten();
    let post = state
        .staff_post
        .as_ref()
        .map(|p| if p.announcement { "announce" } else { "post" });
    let variants: Vec<Vec<(String, &str)>> = match (&mark_key, post) {
        // A staff post: no reply target, nothing to mark.
        (_, Some(verb)) => vec![
            vec![("Enter".into(), verb), ("Esc".into(), "cancel")],
            vec![("Enter".into(), ""), ("Esc".into(), "")],
        ],
        (Some(k), None) => vec![
            vec![
                ("Enter".into(), "send"),
                (k.clone(), "send + mark answered"),
                ("Esc".into(), "cancel"),
            ],
            vec![
                ("Enter".into(), "send"),
                (k.clone(), "+ answered"),
                ("Esc".into(), "cancel"),
            ],
            vec![("Enter".into(), ""), (k.clone(), "+answered")],
            vec![(k.clone(), "+answered")],
        ],
        (None, None) => vec![
            vec![("Enter".into(), "send"), ("Esc".into(), "cancel")],
            vec![("Enter".into(), ""), ("Esc".into(), "")],
        ],
    };
    // The border may already say something on its right ("paused · G
    // follows", "4 new ↓"): the keys take only the plain border left of it.
    let row_y = feed.bottom() - 1;
    let room = usize::from(
        match (feed.x + 1..feed.right() - 1)
            .find(|&x| !matches!(buf[(x, row_y)].symbol(), "─" | "━" | " "))
        {
            // One cell of border between the keys and what is said.
            Some(said) => said.saturating_sub(feed.x + 2),
            None => feed.width - 2,
        },
    );
    let text_of = |keys: &[(String, &str)]| {
        let parts: Vec<String> = keys
            .iter()
            .map(|(k, what)| format!("{k} {what}").trim_end().to_string())
            .collect();
        format!(" {} ", parts.join(" · "))
    };
    let Some(keys) = variants
        .iter()
        .find(|v| display_width(&text_of(v)) <= room)
        .or(variants.last())
    else {
        return;
    };
    let mut spans = vec![Span::styled(" ", theme.style(StyleKey::InputPlaceholder))];
    for (i, (k, what)) in keys.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.style(StyleKey::InputPlaceholder)));
        }
        spans.push(Span::styled(k.clone(), theme.style(StyleKey::InputPrompt)));
        if !what.is_empty() {
            spans.push(Span::styled(
                format!(" {what}"),
                theme.style(StyleKey::InputPlaceholder),
            ));
        }
    }
    spans.push(Span::styled(" ", theme.style(StyleKey::InputPlaceholder)));
    let width = u16::try_from(room).unwrap_or(u16::MAX);
    buf.set_line(feed.x + 1, row_y, &Line::from(spans), width);
}

/// The text after its first `cols` cells, whole graphemes only.
fn skip_columns(text: &str, cols: usize) -> Cow<'_, str> {
    if cols == 0 {
        return Cow::Borrowed(text);
    }
    let mut used = 0;
    for (i, g) in text.grapheme_indices(true) {
        if used >= cols {
            return Cow::Borrowed(&text[i..]);
        }
        used += super::wrap::grapheme_width(g);
    }
    Cow::Borrowed("")
}

/// "Enter reply · p pin · ? help" for the actions this role has.
fn hint_line(state: &Console) -> String {
    use super::keymap::Action;
    // The hold queue has its own work: approve, deny, mark a batch.
    let hold = [
        (Action::Release, "approve"),
        (Action::Deny, "deny"),
        (Action::HoldMark, "mark"),
        (Action::ApproveMarked, "approve marked"),
        (Action::ViewerCard, "card"),
        (Action::Help, "help"),
        (Action::Quit, "quit"),
    ];
    let candidates = [
        (Action::Reply, "reply"),
        (Action::Pin, "pin"),
        (Action::MarkAnswered, "answered"),
        (Action::Hide, "hide"),
        (Action::Release, "release"),
        (Action::Redact, "redact"),
        (Action::ViewerCard, "card"),
        (Action::Filter, "filter"),
        (Action::Help, "help"),
        (Action::Quit, "quit"),
    ];
    let candidates: &[(Action, &str)] = if state.focus == super::state::Pane::Hold {
        &hold
    } else {
        &candidates
    };
    let parts: Vec<String> = candidates
        .iter()
        .filter(|(a, _)| super::permissions::allows(state.role(), *a))
        .filter_map(|(a, label)| state.keymap.hint(*a).map(|k| format!("{k} {label}")))
        .collect();
    format!(" {}", parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::text::{age, clock};
    use super::*;

    #[test]
    fn clock_and_age() {
        assert_eq!(clock(12 * 3_600_000 + 3 * 60_000 + 59_000), "12:03");
        assert_eq!(age(200_000, 20_000), "3m");
        assert_eq!(age(20_000, 30_000), "0s");
    }

    #[test]
    fn clean_name_shortcut_matches_the_sanitiser() {
        let forty = "a".repeat(40);
        let forty_one = "b".repeat(41);
        for name in [
            "Julie",
            "p4999",
            "Jean Marc",
            " Jean",
            "Jean ",
            "Jean  Marc",
            "Inès",
            "a\u{1b}[31mb",
            "",
            forty.as_str(),
            forty_one.as_str(),
        ] {
            let slow = crate::privacy::sanitize_name(name, 40);
            let slow = super::super::wrap::terminal_safe(&slow).into_owned();
            assert_eq!(clean_name(name), slow, "{name:?}");
        }
    }

    #[test]
    fn sparkline_scales() {
        assert_eq!(sparkline(&[0, 0]), "▁▁");
        assert_eq!(sparkline(&[0, 7, 14]), "▁▅█");
    }
}
