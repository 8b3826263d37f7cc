//! The published report as a terminal table and JSON (the chart is
//! [`super::chart`]).
//!
//! Everything here reads a [`Report`], which holds counts only (no name,
//! id or text): what these functions write cannot carry personal data.
//! The live's name is the brand's, sanitised for the terminal anyway.

use std::fmt::Write as _;

use super::{Report, Shown, Status};
use crate::privacy::sanitize;

/// The report's JSON, pretty-printed, ending in a newline. The same
/// report gives the same bytes (every map is sorted).
pub fn json(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\":\"the report does not serialise: {e}\"}}"));
    out.push('\n');
    out
}

pub(crate) fn figure(v: Shown) -> String {
    v.map_or_else(|| "<k".to_owned(), |n| n.to_string())
}

pub(crate) fn ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "<k".to_owned(), |x| format!("{:.1} %", x * 100.0))
}

pub(crate) fn duration(v: Shown) -> String {
    v.map_or_else(
        || "<k".to_owned(),
        |ms| {
            let s = ms / 1000;
            format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
        },
    )
}

/// The terminal table.
#[expect(
    clippy::many_single_char_names,
    reason = "one letter per section of the report"
)]
pub fn table(report: &Report) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |k: &str, v: String| rows.push((k.to_owned(), v));
    let status = match report.status {
        Status::Final => "final".to_owned(),
        Status::Pending { final_at: None } => "pending (the live is on air)".to_owned(),
        Status::Pending { final_at: Some(_) } => {
            "pending (final one minute after the end)".to_owned()
        }
    };
    row("status", status);
    row("length", duration(u64::try_from(report.length_ms).ok()));
    row("k (smallest group shown)", report.k.get().to_string());
    let a = &report.audience;
    row("peak concurrent viewers", figure(a.peak_concurrent));
    row(
        "average concurrent viewers",
        a.average_concurrent
            .map_or_else(|| "<k".to_owned(), |x| format!("{x:.2}")),
    );
    row("unique viewers", figure(a.unique_viewers));
    row("total watch time", duration(a.total_watch_ms));
    row("average watch time", duration(a.average_watch_ms));
    let c = &report.chat;
    row("messages", figure(c.messages));
    row("chatters", figure(c.chatters));
    row("chat engagement", ratio(c.engagement));
    row("questions asked", figure(c.questions_asked));
    row("questions answered", figure(c.questions_answered));
    row("answer delay p50", duration(c.answer_delay_p50_ms));
    row("answer delay p90", duration(c.answer_delay_p90_ms));
    let m = &report.moderation;
    row("moderation actions", figure(m.actions));
    for (action, n) in &m.by_action {
        row(&format!("  {action}"), figure(*n));
    }
    for (rule, n) in &m.by_rule {
        row(&format!("  by {rule}"), figure(*n));
    }
    let g = &report.games;
    row("poll votes", figure(g.poll_votes));
    for (poll, n) in &g.polls {
        row(&format!("  {poll}"), figure(*n));
    }
    row("instant-win entries", figure(g.instant_win_entries));
    for (draw, n) in &g.instant_wins {
        row(&format!("  {draw}"), figure(*n));
    }
    let s = &report.commerce;
    row("product views", figure(s.product_views));
    row(
        "add-to-cart (unique viewers)",
        figure(s.add_to_cart_viewers),
    );
    row("items added to carts", figure(s.carts));
    row("orders", figure(s.orders));
    for (currency, n) in &s.revenue {
        row(
            &format!("revenue {currency}"),
            n.map_or_else(|| "<k".to_owned(), cents),
        );
    }
    row(
        "average order value",
        s.average_order_value.map_or_else(|| "<k".to_owned(), cents),
    );
    row("conversion", ratio(s.conversion));

    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(out, "Report of live {}", sanitize::sanitize(&report.live));
    for (k, v) in &rows {
        let _ = writeln!(out, "  {k:<width$}  {v}");
    }
    let _ = writeln!(out, "  attribution: {}", s.attribution);
    let _ = writeln!(out, "\n  minute  viewers  messages  questions  add-to-cart");
    for t in &report.timeline {
        let _ = writeln!(
            out,
            "  {:>6}  {:>7}  {:>8}  {:>9}  {:>11}",
            t.minute,
            figure(t.viewers),
            figure(t.messages),
            figure(t.questions),
            figure(t.add_to_cart)
        );
    }
    let _ = writeln!(
        out,
        "\n  <k: fewer than {} viewers behind the figure, or withheld so that one cannot be worked out",
        report.k.get()
    );
    out
}

pub(crate) fn cents(minor: u64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}
