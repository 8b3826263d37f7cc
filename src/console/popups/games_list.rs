//! This show's polls and instant wins, newest first, scrollable.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::popup_box::{draw_box, keys_line, wide_width, wrapped};
use super::{Context, Hints, Outcome, scroll_key};
use crate::console::games::{Games, tally};
use crate::console::keymap::{Action, Keymap, PopupAction};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{clean, clean_name, clock, winner_labels};
use crate::console::wrap::truncate;
use crate::protocol::{DrawState, PollState};

#[derive(Debug, Clone, Default)]
pub struct GamesList {
    pub scroll: u16,
}

impl GamesList {
    pub fn on_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> Outcome {
        scroll_key(&mut self.scroll, key, keymap, Action::Games)
    }

    /// "j/k scroll · Esc close".
    pub fn hints(&self, keymap: &Keymap) -> Hints {
        let mut keys = Hints::new();
        if let (Some(down), Some(up)) = (keymap.hint(Action::MoveDown), keymap.hint(Action::MoveUp))
        {
            keys.push((format!("{down}/{up}"), "scroll"));
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
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        draw_list(
            buf,
            area,
            ctx.games(),
            &self.hints(ctx.keymap()),
            theme,
            self.scroll,
        );
        None
    }
}

/// The show's polls and instant wins, newest first.
fn draw_list(
    buf: &mut Buffer,
    area: Rect,
    games: &Games,
    keys: &Hints,
    theme: &Theme,
    scroll: u16,
) {
    let width = wide_width(area);
    let w = width.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let meta = theme.style(StyleKey::PollMeta);
    if games.polls.is_empty() && games.draws.is_empty() {
        lines.push(Line::styled("no poll or instant win yet", meta));
    }
    for p in games.polls.iter().rev() {
        lines.extend(poll_rows(p, w, theme));
    }
    for d in games.draws.iter().rev() {
        lines.extend(draw_rows(d, games.redrawn_as(d.draw.id), w, theme));
    }
    let max_rows = area.height.saturating_sub(5) as usize;
    let skip = (scroll as usize).min(lines.len().saturating_sub(max_rows));
    let mut visible: Vec<Line> = lines.into_iter().skip(skip).take(max_rows).collect();
    visible.push(keys_line(keys, theme));
    draw_box(
        buf,
        area,
        " Polls and instant wins ",
        &visible,
        width,
        theme,
    );
}

/// A poll: its question and status, then every option's count and share.
fn poll_rows(p: &PollState, w: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let tally = tally(p);
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
    lines
}

/// An instant win: its prize and how it links to other draws (the one it
/// re-draws, the one that re-drew it), then its entries and winners; a
/// re-draw also says who kept their prize and who was excluded, and why.
fn draw_rows(
    d: &DrawState,
    redrawn_as: Option<u64>,
    w: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let meta = theme.style(StyleKey::PollMeta);
    let mut lines = Vec::new();
    let mut head = vec![format!("Instant win #{}", d.draw.id)];
    if let Some(of) = d.draw.redraw_of {
        head.push(format!("re-draw of #{of}"));
    }
    head.push(format!("{}× {}", d.draw.winners, clean_name(&d.draw.prize)));
    if let Some(by) = redrawn_as {
        head.push(format!("re-drawn as #{by}"));
    }
    let head = head.join(" · ");
    lines.push(Line::styled(
        truncate(&head, w).into_owned(),
        theme.style(StyleKey::DrawPrize),
    ));
    let mut status = vec![format!("{} entries", d.entrants)];
    status.push(match &d.result {
        Some(r) if d.draw.replaces.is_some() => format!("new: {}", winner_labels(&r.winners)),
        Some(r) => format!("winners: {}", winner_labels(&r.winners)),
        None => "open".to_string(),
    });
    if let Some(rep) = &d.draw.replaces {
        if !rep.kept.is_empty() {
            status.push(format!("kept: {}", winner_labels(&rep.kept)));
        }
        let reason = clean(rep.reason.trim());
        status.push(if reason.is_empty() {
            format!("excluded: {}", winner_labels(&rep.excluded))
        } else {
            format!("excluded: {} — {reason}", winner_labels(&rep.excluded))
        });
    }
    let status = status.join(" · ");
    lines.extend(wrapped(&format!("  {status}"), w, meta));
    lines
}
