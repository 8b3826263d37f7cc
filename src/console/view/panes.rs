//! The side panes: now on screen, questions, hold queue, staff activity.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::feed::marker;
use super::pane_block;
use super::text::{actor_label, age, author_label, author_style, clean, clock, put_line};
use crate::console::keymap::Action;
use crate::console::state::{Console, Pane, QuestionRow};
use crate::console::theme::{StyleKey, Theme};
use crate::console::wrap::{truncate, wrap};
use crate::protocol::{ChatMessage, HoldReason, Visibility};

/// The pinned message, as viewers see it on screen. Room is left below it
/// for the live poll and the instant win (a later issue).
pub(crate) fn draw_now_on_screen(buf: &mut Buffer, area: Rect, state: &Console, theme: &Theme) {
    // The product on the viewers' screen rides in the title, so the pin,
    // poll and instant win keep their rows.
    let title = match &state.showcase.now_showing {
        Some(p) => Line::from(vec![
            Span::raw(" Now on screen · "),
            Span::styled(
                format!("▶ {} {} ", clean(&p.name), clean(&p.price)),
                theme.style(StyleKey::MarkerPinned),
            ),
        ]),
        None => Line::from(" Now on screen "),
    };
    let block = pane_block(title, false, theme);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 || inner.width < 4 {
        return;
    }
    if shows_games(state) {
        let lines = game_card_lines(state, inner.width as usize, theme);
        for (y, line) in (inner.y..inner.bottom()).zip(&lines) {
            put_line(buf, inner, y, line);
        }
        return;
    }
    let Some(pinned) = &state.pinned else {
        let hint = match state.keymap.hint(Action::Pin) {
            Some(k) if crate::console::permissions::allows(state.role(), Action::Pin) => {
                format!("nothing pinned — {k} pins the selected message")
            }
            _ => "nothing pinned".to_string(),
        };
        let lines = wrap(&hint, inner.width as usize);
        for (y, r) in (inner.y..inner.bottom()).zip(&lines) {
            put_line(
                buf,
                inner,
                y,
                &Line::styled(&hint[r.clone()], theme.style(StyleKey::NowEmpty)),
            );
        }
        return;
    };
    let Some(m) = &pinned.message else {
        put_line(
            buf,
            inner,
            inner.y,
            &Line::styled(
                format!(
                    "★ message {} (removed or older than this console)",
                    pinned.message_id
                ),
                theme.style(StyleKey::NowEmpty),
            ),
        );
        return;
    };
    let (mark, mark_style) = marker(m);
    let mut head = vec![
        Span::styled("★ ", theme.style(StyleKey::MarkerPinned)),
        Span::styled(
            author_label(&state.feed, &m.author),
            author_style(&m.author, theme),
        ),
        Span::styled(
            format!(" · {} ", clock(m.at)),
            theme.style(StyleKey::NowLabel),
        ),
        Span::styled(mark, theme.style(mark_style)),
    ];
    if let Some(by) = &pinned.by {
        head.push(Span::styled(
            format!(" pinned by {}", actor_label(by)),
            theme.style(StyleKey::NowLabel),
        ));
    }
    put_line(buf, inner, inner.y, &Line::from(head));
    let text = clean(&m.text);
    let lines = wrap(&text, inner.width as usize);
    let room = inner.height.saturating_sub(1) as usize;
    let rows = inner.y + 1..inner.bottom();
    for ((i, r), y) in lines.iter().enumerate().take(room).zip(rows) {
        let mut line = text[r.clone()].to_string();
        if i + 1 == room && lines.len() > room {
            line = truncate(&format!("{line}…"), inner.width as usize).into_owned();
        }
        put_line(
            buf,
            inner,
            y,
            &Line::styled(line, theme.style(StyleKey::NowText)),
        );
    }
}

fn shows_games(state: &Console) -> bool {
    state.games.shown_poll().is_some() || state.games.shown_draw().is_some()
}

/// Rows the card wants: its usual height without games; with a poll or an
/// instant win, room for them and a one-line pin.
pub(crate) fn now_on_screen_height(state: &Console, width: u16, theme: &Theme, wide: bool) -> u16 {
    let base = if wide { 8 } else { 5 };
    if !shows_games(state) {
        return base;
    }
    let lines = game_card_lines(state, width.saturating_sub(2) as usize, theme);
    u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .max(base)
}

/// The card with games: the pin on one line, the poll (live, else the last
/// result), the instant win (live, else the last draw).
fn game_card_lines(state: &Console, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(pinned) = &state.pinned {
        let (name, text) = match &pinned.message {
            Some(m) => (
                author_label(&state.feed, &m.author),
                clean(&m.text).into_owned(),
            ),
            None => (
                format!("message {}", pinned.message_id),
                "(removed or older than this console)".to_string(),
            ),
        };
        let head = format!("★ {name}: ");
        let room = width.saturating_sub(crate::console::wrap::display_width(&head));
        lines.push(Line::from(vec![
            Span::styled(head, theme.style(StyleKey::MarkerPinned)),
            Span::styled(
                truncate(&text, room).into_owned(),
                theme.style(StyleKey::NowText),
            ),
        ]));
    }
    let poll = state.games.shown_poll();
    let draw = state.games.shown_draw();
    // A finished game shrinks to a summary line when the other one is live
    // or finished later; the draw wins a tie (it carries the proof).
    let poll_done = poll.and_then(|p| p.closed_at);
    let draw_done = draw.and_then(|d| d.result.as_ref().map(|r| r.drawn_at));
    let (poll_full, draw_full) = match (poll_done, draw_done) {
        (Some(_), None) if draw.is_some() => (false, true),
        (None, Some(_)) if poll.is_some() => (true, false),
        (Some(p), Some(d)) => (p > d, p <= d),
        _ => (true, true),
    };
    if let Some(p) = poll {
        lines.extend(if poll_full {
            super::games::poll_lines(state, p, width, theme)
        } else {
            super::games::poll_summary(p, width, theme)
        });
    }
    if let Some(d) = draw {
        lines.extend(if draw_full {
            super::games::draw_lines(state, d, width, theme)
        } else {
            super::games::draw_summary(d, width, theme)
        });
    }
    lines
}

/// Rows of a list pane: keeps `selected` in view and returns the first row.
fn list_window(selected: usize, len: usize, rows: usize) -> usize {
    if rows == 0 || len <= rows {
        return 0;
    }
    selected.saturating_sub(rows - 1).min(len - rows)
}

pub(crate) fn draw_questions(buf: &mut Buffer, area: Rect, state: &Console, theme: &Theme) {
    let focused = state.focus == Pane::Questions && state.compose.is_none();
    let order = if state.questions_newest_first {
        "newest first"
    } else {
        "oldest first"
    };
    let unread = if focused {
        String::new()
    } else {
        super::text::unread_suffix(state.unread.of(Pane::Questions))
    };
    let title = Line::from(format!(
        " Questions {} open {unread}· {order} ",
        state.open_questions()
    ));
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 {
        return;
    }
    let count = state.question_row_count();
    if count == 0 {
        put_line(
            buf,
            inner,
            inner.y,
            &Line::styled("no questions yet", theme.style(StyleKey::FeedEmpty)),
        );
        return;
    }
    // A window of the rows, never the whole list: this runs every frame.
    let height = inner.height as usize;
    let selected = state.question_index();
    let first = list_window(selected.unwrap_or(0), count, height);
    let rows = state.question_rows_iter().skip(first).take(height);
    for ((i, row), y) in (first..).zip(rows).zip(inner.y..inner.bottom()) {
        let Some(q) = state.question(row.id) else {
            continue;
        };
        let line = question_line(state, &row, q, inner.width, theme);
        put_line(buf, inner, y, &line);
        if focused && Some(i) == selected {
            buf.set_style(
                Rect::new(inner.x, y, inner.width, 1),
                theme.style(StyleKey::FeedSelected),
            );
        }
    }
}

/// `[Robe Lina] ` before a question asked while that product showed
/// (its id when the console does not know the product); nothing otherwise.
pub(crate) fn product_tag(state: &Console, m: &ChatMessage, theme: &Theme) -> Span<'static> {
    let Some(id) = m.product else {
        return Span::raw("");
    };
    let name = state.showcase.product(id).map_or_else(
        || format!("#{id}"),
        |p| truncate(&clean(&p.name), 24).into_owned(),
    );
    Span::styled(format!("[{name}] "), theme.style(StyleKey::QuestionsAge))
}

/// One row: a question alone ("Julie: Elle existe en 38 ?"), a group
/// ("▸5 Elle existe en 38 ? · Léa, Sophie +3"), or a member under an
/// expanded group ("  └ Sophie: vous l'avez en 38 ?").
fn question_line(
    state: &Console,
    row: &QuestionRow,
    q: &ChatMessage,
    width: u16,
    theme: &Theme,
) -> Line<'static> {
    let group = row.size > 1 && !row.member;
    let answered = if group {
        state.question_groups.group_answered(row.group)
    } else {
        q.answered
    };
    let pinned = state.pinned.as_ref().is_some_and(|p| p.message_id == q.id);
    let marked = group
        && state
            .merge_mark
            .is_some_and(|m| state.question_groups.group_of(m) == Some(row.group));
    let (mark, mark_style) = if answered {
        ("✓", StyleKey::MarkerAnswered)
    } else {
        ("?", StyleKey::MarkerQuestion)
    };
    let text_style = if answered {
        StyleKey::QuestionsAnswered
    } else {
        StyleKey::QuestionsItem
    };
    let (second, second_style) = match (pinned, marked) {
        (true, _) => ("★", StyleKey::MarkerPinned),
        (false, true) => ("=", StyleKey::QuestionsAge),
        (false, false) => (" ", StyleKey::MarkerPinned),
    };
    let mut spans = vec![
        Span::styled(mark, theme.style(mark_style)),
        Span::styled(second, theme.style(second_style)),
        Span::styled(
            format!("{:>4} ", age(state.now, q.at)),
            theme.style(StyleKey::QuestionsAge),
        ),
    ];
    spans.extend(claim_and_flag(state, q, width, theme));
    if group {
        let open = state.expanded_groups.contains(&row.group);
        spans.push(Span::styled(
            format!("{}{} ", if open { "▾" } else { "▸" }, row.size),
            theme.style(StyleKey::QuestionsAge),
        ));
        spans.push(product_tag(state, q, theme));
        spans.push(Span::styled(
            clean(&q.text).into_owned(),
            theme.style(text_style),
        ));
        let members: Vec<_> = state.question_groups.members(row.group).collect();
        let names: Vec<String> = members
            .iter()
            .filter_map(|id| state.question(*id))
            .take(2)
            .map(|m| author_label(&state.feed, &m.author))
            .collect();
        let more = members.len().saturating_sub(names.len());
        let mut askers = format!(" · {}", names.join(", "));
        if more > 0 {
            use std::fmt::Write;
            let _ = write!(askers, " +{more}");
        }
        spans.push(Span::styled(askers, author_style(&q.author, theme)));
    } else {
        if row.member {
            spans.push(Span::styled("└ ", theme.style(StyleKey::QuestionsAge)));
        }
        spans.push(Span::styled(
            author_label(&state.feed, &q.author),
            author_style(&q.author, theme),
        ));
        spans.push(Span::styled(": ", theme.style(text_style)));
        spans.push(product_tag(state, q, theme));
        spans.push(Span::styled(
            clean(&q.text).into_owned(),
            theme.style(text_style),
        ));
    }
    Line::from(spans)
}

pub(crate) fn draw_hold(buf: &mut Buffer, area: Rect, state: &Console, theme: &Theme) {
    let focused = state.focus == Pane::Hold && state.compose.is_none();
    let marked = if state.hold_marks.is_empty() {
        0
    } else {
        state
            .held
            .iter()
            .filter(|m| state.hold_marks.contains(&m.id))
            .count()
    };
    let unread = if focused {
        String::new()
    } else {
        super::text::unread_suffix(state.unread.of(Pane::Hold))
    };
    let title = if marked == 0 {
        Line::from(format!(" Hold queue {} {unread}", state.held.len()))
    } else {
        Line::from(format!(
            " Hold queue {} · {marked} marked {unread}",
            state.held.len()
        ))
    };
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 {
        return;
    }
    if state.held.is_empty() {
        put_line(
            buf,
            inner,
            inner.y,
            &Line::styled("nothing held", theme.style(StyleKey::FeedEmpty)),
        );
        return;
    }
    let rows = inner.height as usize;
    let selected = state.held_index();
    let first = list_window(selected.unwrap_or(0), state.held.len(), rows);
    let ys = inner.y..inner.bottom();
    for ((i, m), y) in state.held.iter().enumerate().skip(first).zip(ys) {
        let mark = if state.hold_marks.contains(&m.id) {
            "■ "
        } else {
            "  "
        };
        let mut spans = vec![
            Span::styled(super::HELD_GLYPH, theme.style(StyleKey::MarkerHeld)),
            Span::styled(mark, theme.style(StyleKey::MarkerHeld)),
            Span::styled(
                format!("{:>3} ", age(state.now, m.at)),
                theme.style(StyleKey::HoldText),
            ),
        ];
        spans.extend(claim_and_flag(state, m, inner.width, theme));
        spans.extend([
            Span::styled(
                format!("{} · ", clean(&hold_reason(m))),
                theme.style(StyleKey::HoldReason),
            ),
            Span::styled(
                author_label(&state.feed, &m.author),
                author_style(&m.author, theme),
            ),
            Span::styled(": ", theme.style(StyleKey::HoldText)),
            Span::styled(clean(&m.text).into_owned(), theme.style(StyleKey::HoldText)),
        ]);
        let line = Line::from(spans);
        put_line(buf, inner, y, &line);
        if focused && Some(i) == selected {
            buf.set_style(
                Rect::new(inner.x, y, inner.width, 1),
                theme.style(StyleKey::FeedSelected),
            );
        }
    }
}

/// Below this inner width a list row says "[Claire]" for "Claire is
/// answering", so the asker and the question still show.
const CLAIM_LABEL_MIN_WIDTH: u16 = 48;

/// "Claire is answering · " when the line is claimed, then the author's
/// flag colour when they are flagged: what a list row shows before the
/// name.
fn claim_and_flag(
    state: &Console,
    m: &ChatMessage,
    width: u16,
    theme: &Theme,
) -> Vec<Span<'static>> {
    use crate::console::popups::flag::{FLAG_GLYPH, colour_style};
    let mut spans = Vec::new();
    if let Some(claim) = state.claim_on(m.id) {
        // A narrow pane keeps room for the question: "[Claire] ".
        let text = if width < CLAIM_LABEL_MIN_WIDTH {
            format!("[{}] ", state.claim_short_label(claim))
        } else {
            format!("{} · ", state.claim_label(claim))
        };
        spans.push(Span::styled(text, theme.style(StyleKey::Claim)));
    }
    if let Some(flag) = state.flag_of(&m.author) {
        spans.push(Span::styled(
            FLAG_GLYPH,
            theme.style(colour_style(flag.colour)),
        ));
        spans.push(Span::raw(" "));
    }
    spans
}

/// Why `m` waits in the hold queue, as a moderator needs it: the rule that
/// held it, or the kind of personal data with its value as masked in the
/// text ("phone +33 6•• •• •• 78"). The match names every reason, so a new
/// kind of hold (a rule with a label) gets its words here.
pub(crate) fn hold_reason(m: &ChatMessage) -> String {
    let Visibility::Held { reason, rule_id } = m.visibility else {
        return String::new();
    };
    // "rule #7 term": the id the rules editor (`M`) lists it under.
    let rule = |kind: &str| match rule_id {
        Some(id) => format!("rule #{id} {kind}"),
        None => format!("{kind} rule"),
    };
    match reason {
        HoldReason::PersonalData => masked_value(&m.text).map_or_else(
            || "personal data".to_owned(),
            |(kind, value)| format!("{kind} {value}"),
        ),
        HoldReason::BlockedTerm => rule("term"),
        HoldReason::RegexRule => rule("regex"),
        HoldReason::LinkPolicy => rule("link"),
        HoldReason::FirstTimeChatter => "first-time chatter (Shield)".to_owned(),
        HoldReason::ShieldRule => "Shield rule".to_owned(),
    }
}

/// The first masked value in `text` (the hub masks personal data with `•`
/// before it stores or shows it) and what kind it looks like, from the
/// shape each mask keeps: an e-mail keeps `@`, an IBAN its country letters,
/// a card only its last digits, a phone its first and last digits.
fn masked_value(text: &str) -> Option<(&'static str, String)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let first = words.iter().position(|w| w.contains('•'))?;
    // A phone or an IBAN is spaced: take the digits and groups around it.
    let part = |w: &&str| {
        w.contains('•')
            || (w.chars().count() <= 4
                && w.chars().any(|c| c.is_ascii_digit())
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+().-".contains(c)))
    };
    let start = words[..first]
        .iter()
        .rposition(|w| !part(w))
        .map_or(0, |i| i + 1);
    let end = words[first..]
        .iter()
        .position(|w| !part(w))
        .map_or(words.len(), |i| first + i);
    let value = words[start..end].join(" ");
    let kind = if value.contains('@') {
        "e-mail"
    } else if value.chars().take(2).all(|c| c.is_ascii_alphabetic()) {
        "IBAN"
    } else if value.starts_with('•') {
        "card"
    } else {
        "phone"
    };
    Some((kind, value))
}

pub(crate) fn draw_activity(buf: &mut Buffer, area: Rect, state: &Console, theme: &Theme) {
    let focused = state.focus == Pane::Activity && state.compose.is_none();
    let filter = state.staff_log.filter_text();
    let unread = if focused {
        String::new()
    } else {
        super::text::unread_suffix(state.unread.of(Pane::Activity))
    };
    let title = if filter.is_empty() {
        format!(" Staff activity {unread}")
    } else {
        format!(" Staff activity · {} {unread}", clean(&filter))
    };
    let block = pane_block(Line::from(title), focused, theme);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 {
        return;
    }
    if state.activity.is_empty() {
        put_line(
            buf,
            inner,
            inner.y,
            &Line::styled("no staff action yet", theme.style(StyleKey::FeedEmpty)),
        );
        return;
    }
    let ys = inner.y..inner.bottom();
    for (entry, y) in state
        .activity
        .iter()
        .rev()
        .skip(state.activity_scroll)
        .zip(ys)
    {
        let actor = entry
            .actor
            .as_ref()
            .map_or_else(|| "hub".to_string(), actor_label);
        let line = Line::from(vec![
            Span::styled(
                format!("{} ", clock(entry.at)),
                theme.style(StyleKey::ActivityTime),
            ),
            Span::styled(actor, theme.style(StyleKey::ActivityActor)),
            Span::styled(
                format!(" {}", clean(&entry.what)),
                theme.style(StyleKey::ActivityText),
            ),
        ]);
        put_line(buf, inner, y, &line);
    }
}
