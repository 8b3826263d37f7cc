//! An ended live's report (key `B` in the Lives popup), as the hub
//! computes it for `report`: the headline figures of each section, then
//! the timeline's viewers and messages per minute as sparklines (a blank
//! column is a withheld minute). A report still pending says so, and so
//! does a commerce section whose attribution window is still open.
//!
//! The report holds counts only; the live's name is sanitised anyway.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Sparkline, Widget};

use super::lives::when;
use super::popup_box::{draw_box, keys_line, wide_width};
use super::{Context, Hints, Outcome};
use crate::console::keymap::{Action, PopupAction};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{clean, clean_name};
use crate::console::wrap::truncate;
use crate::protocol::CommandId;
use crate::report::render::{cents, duration, figure, ratio};
use crate::report::{Report, Shown, Status};

/// The popup; `report` is `None` until the hub answers `request`.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub request: CommandId,
    pub live: String,
    pub report: Option<Box<Report>>,
    /// Why the hub sent no report.
    pub failed: Option<String>,
}

impl ReportView {
    pub fn loading(request: CommandId, live: &str) -> Self {
        ReportView {
            request,
            live: live.to_owned(),
            report: None,
            failed: None,
        }
    }

    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let keymap = ctx.keymap();
        if keymap.popup_action_for(key) == Some(PopupAction::Close) {
            return Outcome::Close;
        }
        match keymap.action_for(key) {
            Some(Action::LiveReport | Action::Quit) => Outcome::Close,
            _ => Outcome::Stay,
        }
    }

    fn hints(ctx: &dyn Context) -> Hints {
        let mut keys = Hints::new();
        if let Some(k) = ctx.keymap().popup_hint(PopupAction::Close) {
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
        let width = wide_width(area);
        let inner = usize::from(width.saturating_sub(4));
        let label = theme.style(StyleKey::PopupLabel);
        let text = theme.style(StyleKey::PopupText);
        let mut lines: Vec<Line<'static>> = Vec::new();
        // (row in the box, values) of each sparkline, drawn after the box.
        let mut sparks: Vec<(usize, Vec<Shown>)> = Vec::new();
        match (&self.report, &self.failed) {
            (_, Some(why)) => lines.push(Line::styled(
                format!("The hub sent no report: {}", clean(why)),
                theme.style(StyleKey::PopupWarning),
            )),
            (None, None) => lines.push(Line::styled("computing the report…", label)),
            (Some(r), None) => {
                lines.push(Line::styled(
                    truncate(&headline(r), inner).into_owned(),
                    label,
                ));
                for row in sections(r) {
                    lines.push(Line::styled(truncate(&row, inner).into_owned(), text));
                }
                let viewers: Vec<Shown> = r.timeline.iter().map(|m| m.viewers).collect();
                let messages: Vec<Shown> = r.timeline.iter().map(|m| m.messages).collect();
                for (name, values) in [("viewers", viewers), ("messages", messages)] {
                    let values = columns(&values, inner);
                    let top = values.iter().flatten().max().copied().unwrap_or(0);
                    lines.push(Line::styled(
                        format!("{name} per minute (highest {top})"),
                        label,
                    ));
                    sparks.push((lines.len(), values));
                    lines.push(Line::default());
                    lines.push(Line::default());
                }
                lines.push(Line::styled(
                    format!(
                        "a blank column: fewer than {} viewers behind the figure",
                        r.k.get()
                    ),
                    label,
                ));
            }
        }
        lines.push(Line::default());
        lines.push(keys_line(&Self::hints(ctx), theme));
        let title = format!(" Report · {} ", truncate(&clean_name(&self.live), 40));
        let room = draw_box(buf, area, &title, &lines, width, theme);
        let style = theme.style(StyleKey::PopupKey);
        for (row, values) in sparks {
            let Ok(row) = u16::try_from(row) else {
                continue;
            };
            let at = Rect {
                y: room.y.saturating_add(row),
                height: 2,
                ..room
            };
            if at.bottom() <= room.bottom() {
                Sparkline::default()
                    .data(values)
                    .style(style)
                    .absent_value_symbol(" ")
                    .render(at, buf);
            }
        }
        None
    }
}

/// Status, length and k on one line.
fn headline(r: &Report) -> String {
    let status = match r.status {
        Status::Final => "final".to_owned(),
        Status::Pending { final_at: None } => "pending: the live is on air".to_owned(),
        Status::Pending { final_at: Some(at) } => format!("pending: final at {}", when(at)),
    };
    format!(
        "{status} · {} long · k = {} (smallest group shown)",
        duration(u64::try_from(r.length_ms).ok()),
        r.k.get()
    )
}

/// The headline figures of each section, a label and one or two short
/// lines (they fit the popup on an 80-column terminal).
#[expect(
    clippy::many_single_char_names,
    reason = "one letter per section of the report"
)]
fn sections(r: &Report) -> Vec<String> {
    let a = &r.audience;
    let c = &r.chat;
    let g = &r.games;
    let s = &r.commerce;
    let revenue = s
        .revenue
        .iter()
        .map(|(currency, v)| {
            format!(
                "{} {}",
                clean_name(currency),
                v.map_or_else(|| "<k".to_owned(), cents)
            )
        })
        .collect::<Vec<_>>()
        .join(" + ");
    let revenue = if revenue.is_empty() {
        "no revenue".to_owned()
    } else {
        revenue
    };
    let commerce_status = match s.status {
        Status::Final => "final".to_owned(),
        Status::Pending { final_at: None } => "pending".to_owned(),
        Status::Pending { final_at: Some(at) } => {
            format!("pending: orders count until {}", when(at))
        }
    };
    let rows = [
        (
            "audience",
            format!(
                "peak {} · unique {} · average {}",
                figure(a.peak_concurrent),
                figure(a.unique_viewers),
                a.average_concurrent
                    .map_or_else(|| "<k".to_owned(), |x| format!("{x:.1}"))
            ),
        ),
        (
            "",
            format!("watch time {} each", duration(a.average_watch_ms)),
        ),
        (
            "chat",
            format!(
                "{} messages · {} chatters ({})",
                figure(c.messages),
                figure(c.chatters),
                ratio(c.engagement)
            ),
        ),
        (
            "",
            format!(
                "{} questions, {} answered, p50 {}",
                figure(c.questions_asked),
                figure(c.questions_answered),
                duration(c.answer_delay_p50_ms)
            ),
        ),
        (
            "moderation",
            format!("{} actions", figure(r.moderation.actions)),
        ),
        (
            "games",
            format!(
                "{} poll votes · {} instant-win entries",
                figure(g.poll_votes),
                figure(g.instant_win_entries)
            ),
        ),
        (
            "commerce",
            format!(
                "{} views · {} carts · {} orders",
                figure(s.product_views),
                figure(s.carts),
                figure(s.orders)
            ),
        ),
        (
            "",
            format!("{revenue} · conversion {}", ratio(s.conversion)),
        ),
        ("", commerce_status),
    ];
    rows.into_iter()
        .map(|(label, text)| format!("{label:<11} {text}"))
        .collect()
}

/// The minutes in at most `width` columns: each column the highest of
/// its minutes, withheld only when all of them are.
fn columns(values: &[Shown], width: usize) -> Vec<Shown> {
    if values.len() <= width || width == 0 {
        return values.to_vec();
    }
    let per = values.len().div_ceil(width);
    values
        .chunks(per)
        .map(|c| c.iter().flatten().max().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_keep_the_peak_and_withhold_only_all_withheld() {
        let v = [Some(1), None, Some(5), None, None, Some(2)];
        assert_eq!(columns(&v, 10), v.to_vec());
        assert_eq!(columns(&v, 3), vec![Some(1), Some(5), Some(2)]);
        assert_eq!(columns(&[None, None, Some(3)], 2), vec![None, Some(3)]);
    }
}
