//! Polls and instant wins: their part of the now-on-screen card. The
//! forms, confirmations and the list of past games are popups
//! (`console::popups`).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::text::{clean, clean_name, clock, winner_labels};
use crate::console::games::{countdown, short_hex, tally};
use crate::console::state::Console;
use crate::console::theme::{StyleKey, Theme};
use crate::console::wrap::{display_width, truncate, wrap};
use crate::protocol::{DrawResult, DrawState, PollState, Replacement};

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

/// The poll part of the card: question, one bar per option with count and
/// percentage, then voters, participation and the countdown (or "final").
pub(crate) fn poll_lines(
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
    let tally = tally(p);
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
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a share of the bar's width, within 0..=bar_w (and clamped below)"
        )]
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
pub(crate) fn poll_summary(p: &PollState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let tally = tally(p);
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
pub(crate) fn draw_summary(d: &DrawState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let names = d
        .result
        .as_ref()
        .map(|r| winner_labels(&r.winners))
        .unwrap_or_default();
    facts(
        vec![
            (
                format!("Instant win #{}", d.draw.id),
                theme.style(StyleKey::DrawPrize),
            ),
            (
                format!("winners: {names}"),
                theme.style(StyleKey::DrawWinner),
            ),
        ],
        width,
    )
}

/// `label` in the meta style, then `text` in `style`, on two lines at most.
fn labelled(
    label: &str,
    text: &str,
    width: usize,
    label_style: Style,
    style: Style,
) -> Vec<Line<'static>> {
    let full = format!("{label}{text}");
    let mut lines = Vec::new();
    for (i, r) in wrap(&full, width).into_iter().enumerate().take(2) {
        let part = &full[r];
        lines.push(match part.strip_prefix(label) {
            Some(rest) if i == 0 => Line::from(vec![
                Span::styled(label.to_string(), label_style),
                Span::styled(rest.to_string(), style),
            ]),
            _ => Line::styled(part.to_string(), style),
        });
    }
    lines
}

/// A re-draw's result: who is new, who kept their prize, who was excluded
/// and why (the reason only when the hub sent it: staff get it).
fn replacement_lines(
    rep: &Replacement,
    new: &str,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let meta = theme.style(StyleKey::DrawMeta);
    let winner = theme.style(StyleKey::DrawWinner);
    let mut lines = labelled("new: ", new, width, meta, winner);
    if !rep.kept.is_empty() {
        lines.extend(labelled(
            "kept: ",
            &winner_labels(&rep.kept),
            width,
            meta,
            winner,
        ));
    }
    let reason = clean(rep.reason.trim());
    let excluded = if reason.is_empty() {
        winner_labels(&rep.excluded)
    } else {
        format!("{} — {reason}", winner_labels(&rep.excluded))
    };
    lines.extend(labelled("excluded: ", &excluded, width, meta, meta));
    lines
}

/// The instant-win part of the card: prize, live entries and countdown,
/// the commitment; once drawn, the winners by first name and the proof.
pub(crate) fn draw_lines(
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
        Some(r) => lines.extend(drawn_lines(d, r, width, theme)),
    }
    lines
}

/// A drawn instant win: entries, winners as `First~pseudonym`, and the
/// proof. A re-draw shows its whole result: the new winners, the earlier
/// winners kept, and who was excluded and why.
fn drawn_lines(d: &DrawState, r: &DrawResult, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let proof = theme.style(StyleKey::DrawProof);
    let meta = theme.style(StyleKey::DrawMeta);
    let winner = theme.style(StyleKey::DrawWinner);
    let mut lines = Vec::new();
    lines.push(Line::styled(
        format!("{} entries · drawn {}", d.entrants, clock(r.drawn_at)),
        meta,
    ));
    let names = if r.winners.is_empty() {
        "no winner (no entries)".to_string()
    } else {
        winner_labels(&r.winners)
    };
    match &d.draw.replaces {
        None => lines.extend(labelled("winners: ", &names, width, meta, winner)),
        Some(rep) => lines.extend(replacement_lines(rep, &names, width, theme)),
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
    lines
}
