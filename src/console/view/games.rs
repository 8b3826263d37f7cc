//! Polls and instant wins: their part of the now-on-screen card, the launch
//! forms, the confirmations and the list of the show's past games.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::popups::{draw_box, keys_line, wrapped};
use super::{clean, clean_name, clock};
use crate::console::games::{
    GameConfirm, InstantWinForm, PollForm, RedrawForm, countdown, short_hex,
};
use crate::console::input::LineEditor;
use crate::console::state::Console;
use crate::console::theme::{StyleKey, Theme};
use crate::console::wrap::{display_width, truncate, wrap};
use crate::instant_win::NO_PURCHASE_NECESSARY;
use crate::poll::Tally;
use crate::protocol::{DrawState, PollState};

/// Short facts joined by " · ", as many per line as fit in `width`.
fn facts(segments: Vec<(String, Style)>, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (text, style) in segments {
        let text = truncate(&text, width).into_owned();
        let w = display_width(&text);
        if !spans.is_empty() && used + 3 + w > width {
            lines.push(Line::from(std::mem::take(&mut spans)));
            used = 0;
        }
        if !spans.is_empty() {
            spans.push(Span::styled(" · ", style));
            used += 3;
        }
        used += w;
        spans.push(Span::styled(text, style));
    }
    if !spans.is_empty() {
        lines.push(Line::from(spans));
    }
    lines
}

/// Percentages and participation, computed the one way the crate does.
fn tally_of(p: &PollState) -> Tally {
    Tally {
        poll_id: p.poll.id,
        counts: p.counts.clone(),
        voters: p.voters,
        audience_at_launch: p.poll.audience_at_launch,
    }
}

/// The poll part of the card: question, one bar per option with count and
/// percentage, then voters, participation and the countdown (or "final").
pub fn poll_lines(
    state: &Console,
    p: &PollState,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let question = clean(&p.poll.question);
    let head = format!("Poll #{} · {question}", p.poll.id);
    for r in wrap(&head, width).into_iter().take(2) {
        lines.push(Line::styled(
            head[r].to_string(),
            theme.style(StyleKey::PollQuestion),
        ));
    }
    let tally = tally_of(p);
    let pcts = tally.percentages();
    let labels: Vec<String> = p.poll.options.iter().map(|o| clean_name(o)).collect();
    let label_w = labels
        .iter()
        .map(|l| display_width(l))
        .max()
        .unwrap_or(0)
        .clamp(1, (width / 3).max(4));
    let count_w = p
        .counts
        .iter()
        .map(|c| c.to_string().len())
        .max()
        .unwrap_or(1);
    for (i, label) in labels.iter().enumerate() {
        let count = p.counts.get(i).copied().unwrap_or(0);
        let pct = pcts.get(i).copied().unwrap_or(0.0);
        let right = format!(" {count:>count_w$} {pct:>3.0}%");
        let bar_w = width.saturating_sub(label_w + 1 + right.len());
        let filled = ((pct / 100.0) * bar_w as f64).round() as usize;
        let filled = filled.min(bar_w);
        let label = truncate(label, label_w);
        let pad = label_w.saturating_sub(display_width(&label));
        lines.push(Line::from(vec![
            Span::styled(
                format!("{label}{} ", " ".repeat(pad)),
                theme.style(StyleKey::PollCount),
            ),
            Span::styled("█".repeat(filled), theme.style(StyleKey::PollBar)),
            Span::styled(
                "░".repeat(bar_w - filled),
                theme.style(StyleKey::PollBarTrack),
            ),
            Span::styled(right, theme.style(StyleKey::PollCount)),
        ]));
    }
    let meta = theme.style(StyleKey::PollMeta);
    let mut segments = Vec::new();
    if p.closed_at.is_some() {
        segments.push(("final".to_string(), theme.style(StyleKey::PollFinal)));
    }
    segments.push((format!("{} voters", p.voters), meta));
    segments.push((
        format!(
            "{:.0}% of {}",
            tally.participation(),
            p.poll.audience_at_launch
        ),
        meta,
    ));
    segments.push((
        match (p.closed_at, p.poll.closes_at) {
            (Some(at), _) => format!("closed {}", clock(at)),
            (None, Some(until)) if until > state.now => {
                format!("{} left", countdown(state.now, until))
            }
            (None, Some(_)) => "closing…".to_string(),
            (None, None) => "until closed".to_string(),
        },
        meta,
    ));
    lines.extend(facts(segments, width));
    lines
}

/// A finished poll in one line or two: its leading option and turnout.
pub fn poll_summary(p: &PollState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let tally = tally_of(p);
    let pcts = tally.percentages();
    let meta = theme.style(StyleKey::PollMeta);
    let mut segments = vec![(
        format!("Poll #{} final", p.poll.id),
        theme.style(StyleKey::PollFinal),
    )];
    let top = (0..p.poll.options.len())
        .max_by_key(|&i| (p.counts.get(i).copied().unwrap_or(0), std::cmp::Reverse(i)));
    if let Some(i) = top {
        segments.push((
            format!(
                "{} {:.0}%",
                clean_name(&p.poll.options[i]),
                pcts.get(i).copied().unwrap_or(0.0)
            ),
            theme.style(StyleKey::PollCount),
        ));
    }
    segments.push((format!("{} voters", p.voters), meta));
    facts(segments, width)
}

/// A finished draw in one line or two: its winners.
pub fn draw_summary(d: &DrawState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let names: Vec<String> = d
        .result
        .iter()
        .flat_map(|r| r.winners.iter().map(|w| clean_name(&w.first_name)))
        .collect();
    facts(
        vec![
            (
                format!("Instant win #{}", d.draw.id),
                theme.style(StyleKey::DrawPrize),
            ),
            (
                format!("winners: {}", names.join(", ")),
                theme.style(StyleKey::DrawWinner),
            ),
        ],
        width,
    )
}

/// The instant-win part of the card: prize, live entries and countdown,
/// the commitment; once drawn, the winners by first name and the proof.
pub fn draw_lines(
    state: &Console,
    d: &DrawState,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let redraw = d
        .draw
        .redraw_of
        .map(|of| format!(" (re-draw of #{of})"))
        .unwrap_or_default();
    let prize = theme.style(StyleKey::DrawPrize);
    lines.extend(facts(
        vec![
            (format!("Instant win #{}{redraw}", d.draw.id), prize),
            (
                format!("{}× {}", d.draw.winners, clean_name(&d.draw.prize)),
                prize,
            ),
        ],
        width,
    ));
    let proof = theme.style(StyleKey::DrawProof);
    let meta = theme.style(StyleKey::DrawMeta);
    match &d.result {
        None => {
            let when = if d.draw.closes_at > state.now {
                format!("{} left", countdown(state.now, d.draw.closes_at))
            } else {
                "drawing…".to_string()
            };
            lines.push(Line::styled(
                format!("{} entries · {when}", d.entrants),
                meta,
            ));
            lines.push(Line::styled(
                format!("commitment {}…", short_hex(&clean(&d.draw.commitment))),
                proof,
            ));
        }
        Some(r) => {
            lines.push(Line::styled(
                format!("{} entries · drawn {}", d.entrants, clock(r.drawn_at)),
                meta,
            ));
            let names: Vec<String> = r
                .winners
                .iter()
                .map(|w| clean_name(&w.first_name))
                .collect();
            let names = if names.is_empty() {
                "no winner (no entries)".to_string()
            } else {
                names.join(", ")
            };
            let text = format!("winners: {names}");
            for (i, r) in wrap(&text, width).into_iter().enumerate().take(2) {
                let part = &text[r];
                lines.push(if i == 0 && part.starts_with("winners: ") {
                    Line::from(vec![
                        Span::styled("winners: ", meta),
                        Span::styled(
                            part["winners: ".len()..].to_string(),
                            theme.style(StyleKey::DrawWinner),
                        ),
                    ])
                } else {
                    Line::styled(part.to_string(), theme.style(StyleKey::DrawWinner))
                });
            }
            lines.extend(facts(
                vec![
                    (format!("seed {}…", short_hex(&clean(&r.seed))), proof),
                    (
                        format!("entrants {}…", short_hex(&clean(&r.entrants_hash))),
                        proof,
                    ),
                ],
                width,
            ));
            lines.extend(facts(
                vec![
                    (format!("verify: /draws/{}.json", d.draw.id), proof),
                    ("regie verify-draw".to_string(), proof),
                ],
                width,
            ));
        }
    }
    lines
}

/// One editable field: `prefix › text`; returns the line and the cursor
/// column within it when focused.
fn field_line(
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
        cursor as u16,
    )
}

fn label(text: &str, focused: bool, theme: &Theme) -> Line<'static> {
    let key = if focused {
        StyleKey::FormLabelFocused
    } else {
        StyleKey::FormLabel
    };
    Line::styled(text.to_string(), theme.style(key))
}

fn error_line(error: &Option<String>, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    match error {
        Some(e) => wrapped(
            &format!("✕ {}", clean(e)),
            width,
            theme.style(StyleKey::FormError),
        ),
        None => vec![Line::default()],
    }
}

/// Draws `lines` in a box and places the cursor on `cursor_row`.
fn boxed(
    buf: &mut Buffer,
    area: Rect,
    title: &str,
    lines: Vec<Line<'_>>,
    width: u16,
    cursor: Option<(usize, u16)>,
    theme: &Theme,
) -> Option<(u16, u16)> {
    let inner = draw_box(buf, area, title, lines, width, theme);
    let (row, col) = cursor?;
    let y = inner.y + row as u16;
    (y < inner.bottom()).then_some((inner.x + col.min(inner.width.saturating_sub(1)), y))
}

pub fn draw_poll_form(
    buf: &mut Buffer,
    area: Rect,
    form: &PollForm,
    width: u16,
    theme: &Theme,
) -> Option<(u16, u16)> {
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
    lines.extend(error_line(&form.error, w, theme));
    lines.push(keys_line(
        &[
            ("Tab", "next field"),
            ("Enter", "launch"),
            ("Esc", "cancel"),
        ],
        theme,
    ));
    boxed(buf, area, " Launch a poll ", lines, width, cursor, theme)
}

pub fn draw_instant_win_form(
    buf: &mut Buffer,
    area: Rect,
    form: &InstantWinForm,
    width: u16,
    theme: &Theme,
) -> Option<(u16, u16)> {
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
    lines.extend(error_line(&form.error, w, theme));
    lines.push(keys_line(
        &[
            ("Tab", "next field"),
            ("Enter", "launch"),
            ("Esc", "cancel"),
        ],
        theme,
    ));
    boxed(
        buf,
        area,
        " Launch an instant win ",
        lines,
        width,
        cursor,
        theme,
    )
}

pub fn draw_redraw_form(
    buf: &mut Buffer,
    area: Rect,
    form: &RedrawForm,
    width: u16,
    theme: &Theme,
) -> Option<(u16, u16)> {
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
            truncate(&format!("{mark}{}", clean_name(&winner.first_name)), w).into_owned(),
            style,
        ));
    }
    lines.push(label("Reason (recorded)", form.on_reason, theme));
    let (line, col) = field_line("", &form.reason, w, theme);
    let cursor = form.on_reason.then_some((lines.len(), col));
    lines.push(line);
    lines.extend(error_line(&form.error, w, theme));
    lines.push(keys_line(
        &[("Tab", "list/reason"), ("Enter", "next"), ("Esc", "cancel")],
        theme,
    ));
    boxed(buf, area, " Re-draw ", lines, width, cursor, theme)
}

pub fn draw_game_confirm(
    buf: &mut Buffer,
    area: Rect,
    confirm: &GameConfirm,
    width: u16,
    theme: &Theme,
) {
    let w = width.saturating_sub(4) as usize;
    let warn = theme.style(StyleKey::PopupWarning);
    let text = theme.style(StyleKey::PopupText);
    let (title, mut lines, yes) = match confirm {
        GameConfirm::ClosePoll { poll_id, question } => (
            " Close poll ",
            wrapped(
                &format!(
                    "Close poll #{poll_id} now? Votes stop and the result is final: {}",
                    clean(question)
                ),
                w,
                text,
            ),
            "close",
        ),
        GameConfirm::DrawNow { draw_id, prize } => (
            " Draw now ",
            wrapped(
                &format!(
                    "End the entry window of instant win #{draw_id} ({}) and draw now?",
                    clean_name(prize)
                ),
                w,
                text,
            ),
            "draw",
        ),
        GameConfirm::Redraw {
            draw_id,
            prize,
            excluded,
            command,
        } => {
            let mut lines = wrapped(
                &format!(
                    "This is a new recorded draw with its own commitment. Draw #{draw_id} ({}) stays on record.",
                    clean_name(prize)
                ),
                w,
                warn,
            );
            let names: Vec<String> = excluded.iter().map(|n| clean_name(n)).collect();
            lines.extend(wrapped(&format!("Excluded: {}", names.join(", ")), w, text));
            if let crate::protocol::Command::Redraw { reason, .. } = command {
                lines.extend(wrapped(&format!("Reason: {}", clean(reason)), w, text));
            }
            (" Re-draw ", lines, "re-draw")
        }
    };
    lines.push(Line::default());
    lines.push(keys_line(&[("y", yes), ("n", "cancel")], theme));
    draw_box(buf, area, title, lines, width, theme);
}

/// The show's polls and instant wins, newest first.
pub fn draw_games_list(buf: &mut Buffer, area: Rect, state: &Console, theme: &Theme, scroll: u16) {
    let width = (area.width * 8 / 10).clamp(40, 96).min(area.width);
    let w = width.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let meta = theme.style(StyleKey::PollMeta);
    if state.games.polls.is_empty() && state.games.draws.is_empty() {
        lines.push(Line::styled("no poll or instant win yet", meta));
    }
    for p in state.games.polls.iter().rev() {
        let tally = tally_of(p);
        let status = match p.closed_at {
            Some(at) => format!("closed {}", clock(at)),
            None => "live".to_string(),
        };
        lines.push(Line::styled(
            truncate(
                &format!(
                    "Poll #{} · {} · {status}",
                    p.poll.id,
                    clean(&p.poll.question)
                ),
                w,
            )
            .into_owned(),
            theme.style(StyleKey::PollQuestion),
        ));
        let pcts = tally.percentages();
        let results: Vec<String> = p
            .poll
            .options
            .iter()
            .enumerate()
            .map(|(i, o)| {
                format!(
                    "{} {} ({:.0}%)",
                    clean_name(o),
                    p.counts.get(i).copied().unwrap_or(0),
                    pcts.get(i).copied().unwrap_or(0.0)
                )
            })
            .collect();
        lines.extend(wrapped(
            &format!(
                "  {} · {} voters, {:.0}% of {}",
                results.join(" · "),
                p.voters,
                tally.participation(),
                p.poll.audience_at_launch
            ),
            w,
            theme.style(StyleKey::PollCount),
        ));
    }
    for d in state.games.draws.iter().rev() {
        let status = match &d.result {
            Some(r) => {
                let names: Vec<String> = r
                    .winners
                    .iter()
                    .map(|w| clean_name(&w.first_name))
                    .collect();
                format!("{} entries · winners: {}", d.entrants, names.join(", "))
            }
            None => format!("{} entries · open", d.entrants),
        };
        lines.push(Line::styled(
            truncate(
                &format!(
                    "Instant win #{} · {}× {}",
                    d.draw.id,
                    d.draw.winners,
                    clean_name(&d.draw.prize)
                ),
                w,
            )
            .into_owned(),
            theme.style(StyleKey::DrawPrize),
        ));
        lines.extend(wrapped(&format!("  {status}"), w, meta));
    }
    let max_rows = area.height.saturating_sub(5) as usize;
    let skip = (scroll as usize).min(lines.len().saturating_sub(max_rows));
    let mut visible: Vec<Line> = lines.into_iter().skip(skip).take(max_rows).collect();
    visible.push(keys_line(&[("j/k", "scroll"), ("Esc", "close")], theme));
    draw_box(buf, area, " Polls and instant wins ", visible, width, theme);
}
