//! The published report as a terminal table, JSON and an SVG chart.
//!
//! Everything here reads a [`Report`], which holds counts only (no name,
//! id or text): what these functions write cannot carry personal data.
//! The live's name is the brand's, sanitised for the terminal anyway.

use std::fmt::Write as _;

use super::{MINUTE_MS, Report, Shown, Status};
use crate::privacy::sanitize;

/// The report's JSON, pretty-printed, ending in a newline. The same
/// report gives the same bytes (every map is sorted).
pub fn json(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\":\"the report does not serialise: {e}\"}}"));
    out.push('\n');
    out
}

fn figure(v: Shown) -> String {
    v.map_or_else(|| "<k".to_owned(), |n| n.to_string())
}

fn ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "<k".to_owned(), |x| format!("{:.1} %", x * 100.0))
}

fn duration(v: Shown) -> String {
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

fn cents(minor: u64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// The timeline as an SVG line chart: viewers and messages per minute
/// (a withheld minute breaks the line), with axis labels.
pub fn svg(report: &Report) -> String {
    const W: f64 = 800.0;
    const H: f64 = 300.0;
    const PAD: f64 = 40.0;
    let n = report.timeline.len().max(1);
    let series: [(&str, &str, Vec<Shown>); 2] = [
        (
            "viewers",
            "#1f77b4",
            report.timeline.iter().map(|m| m.viewers).collect(),
        ),
        (
            "messages",
            "#ff7f0e",
            report.timeline.iter().map(|m| m.messages).collect(),
        ),
    ];
    let top = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().flatten())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let x = |i: usize| PAD + (W - 2.0 * PAD) * i as f64 / (n.saturating_sub(1).max(1)) as f64;
    let y = |v: u64| H - PAD - (H - 2.0 * PAD) * v as f64 / top;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}">
<rect width="{W}" height="{H}" fill="white"/>
<line x1="{PAD}" y1="{b}" x2="{r}" y2="{b}" stroke="black"/>
<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{b}" stroke="black"/>
<text x="{PAD}" y="{t}" font-family="sans-serif" font-size="12">0</text>
<text x="{r}" y="{t}" font-family="sans-serif" font-size="12" text-anchor="end">{mins} min</text>
<text x="4" y="{PAD}" font-family="sans-serif" font-size="12">{top}</text>"#,
        b = H - PAD,
        r = W - PAD,
        t = H - PAD + 16.0,
        mins = (report.length_ms / MINUTE_MS),
    );
    for (legend, (name, colour, values)) in series.iter().enumerate() {
        let mut path = String::new();
        let mut pen_down = false;
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(i),
                        y(*v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = writeln!(
            out,
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>
<text x="{}" y="20" font-family="sans-serif" font-size="12" fill="{colour}">{name}</text>"#,
            path.trim_end(),
            PAD + 100.0 * legend as f64,
        );
    }
    out.push_str("</svg>\n");
    out
}
