//! From the facts of one live to its figures (pure, deterministic).
//!
//! The live's window is `started_at` to `ended_at` (or now, while on air).
//! Watch time is the union of a viewer's connections, clipped to the
//! window, so it never exceeds the live's length. Average concurrency is
//! total watch time ÷ length (the time-weighted mean). Chat and question
//! facts before the start or after the end fall in the first or last
//! minute of the timeline, so every timeline column adds up to its total.

use std::collections::{BTreeMap, HashSet};

use super::{
    ATTRIBUTION_WINDOW_MS, Cell, FINAL_AFTER_MS, Figures, GameFact, MINUTE_MS, MinuteFigures,
    ReportError, ReportInput, ShopFact, ShopKind, Status, Viewer, rounded,
};
use crate::protocol::Millis;

/// Computes every figure of the live, before suppression.
pub fn figures(input: &ReportInput) -> Result<Figures, ReportError> {
    let Some(start) = input.live.started_at else {
        return Err(ReportError::NotStarted(input.live.name.clone()));
    };
    let end = input.live.ended_at.unwrap_or(input.now).max(start);
    let length = end - start;
    let minutes = usize::try_from(((length + MINUTE_MS - 1) / MINUTE_MS).max(1)).unwrap_or(1);
    let bucket = |at: Millis| bucket(start, end, minutes, at);
    let mut timeline = vec![MinuteFigures::default(); minutes];

    // Audience.
    let spans = watched_spans(input, start, end);
    let total_watch: i64 = spans.values().flatten().map(|(a, b)| b - a).sum();
    let mut everyone: HashSet<Viewer> = spans.keys().copied().collect();
    let peak = concurrency(&spans, start, minutes, &mut timeline);
    let present = distinct_per_minute(&spans, start, minutes);
    for (minute, n) in timeline.iter_mut().zip(present) {
        minute.viewers.viewers = n;
    }

    // Chat.
    let mut chatters = HashSet::new();
    let mut per_minute = Vec::with_capacity(input.messages.len());
    let mut asked_by = Vec::new();
    let mut answered_by = HashSet::new();
    let mut delays = Vec::new();
    let mut questions = 0u64;
    for m in &input.messages {
        chatters.insert(m.author);
        let b = bucket(m.at);
        timeline[b].messages.value += 1;
        per_minute.push((b, m.author));
        if m.question {
            questions += 1;
            timeline[b].questions.value += 1;
            asked_by.push((b, m.author));
            if let Some(answered) = m.answered_at {
                answered_by.insert(m.author);
                delays.push(u64::try_from(answered - m.at).unwrap_or(0));
            }
        }
    }
    fill_distinct(&mut per_minute, &mut timeline, |m| &mut m.messages);
    fill_distinct(&mut asked_by, &mut timeline, |m| &mut m.questions);
    let askers: HashSet<Viewer> = input
        .messages
        .iter()
        .filter(|m| m.question)
        .map(|m| m.author)
        .collect();
    everyone.extend(chatters.iter().copied());
    delays.sort_unstable();

    // Moderation.
    let mut by_action: BTreeMap<String, (u64, HashSet<Viewer>)> = BTreeMap::new();
    let mut by_rule: BTreeMap<String, (u64, HashSet<Viewer>)> = BTreeMap::new();
    let mut moderated = HashSet::new();
    for f in &input.moderation {
        let a = by_action.entry(f.action.to_owned()).or_default();
        a.0 += 1;
        a.1.extend(f.viewer);
        moderated.extend(f.viewer);
        if let Some(rule) = &f.rule {
            let r = by_rule.entry(rule.clone()).or_default();
            r.0 += 1;
            r.1.extend(f.viewer);
        }
    }
    let counted = |m: BTreeMap<String, (u64, HashSet<Viewer>)>| {
        m.into_iter()
            .map(|(k, (n, v))| (k, Cell::new(n, len(&v))))
            .collect()
    };

    // Commerce: attributed events (see `ATTRIBUTION`).
    let shop = commerce(&input.shop, &everyone, start, end, &mut timeline);

    let unique = len(&everyone);
    let watch = u64::try_from(total_watch).unwrap_or(0);
    Ok(Figures {
        live: input.live.name.clone(),
        started_at: start,
        ended_at: end,
        length_ms: length,
        status: Some(status(input.live.ended_at, input.now)),
        peak_concurrent: Cell::new(peak, peak),
        average_concurrent: if length > 0 {
            rounded(total_watch as f64 / length as f64, 2)
        } else {
            0.0
        },
        unique_viewers: Cell::new(unique, unique),
        total_watch_ms: Cell::new(watch, len(&spans.keys().collect())),
        average_watch_ms: watch.checked_div(len(&spans.keys().collect())).unwrap_or(0),
        messages: Cell::new(per_minute.len() as u64, len(&chatters)),
        chatters: Cell::new(len(&chatters), len(&chatters)),
        questions_asked: Cell::new(questions, len(&askers)),
        questions_answered: Cell::new(delays.len() as u64, len(&answered_by)),
        answer_delay_p50_ms: percentile(&delays, 50),
        answer_delay_p90_ms: percentile(&delays, 90),
        moderation_actions: Cell::new(input.moderation.len() as u64, len(&moderated)),
        moderation_by_action: counted(by_action),
        moderation_by_rule: counted(by_rule),
        polls: games(&input.polls),
        instant_wins: games(&input.instant_wins),
        commerce_status: Some(commerce_status(input.live.ended_at, input.now)),
        commerce_open: false,
        timeline,
        ..shop.figures()
    })
}

/// The commerce figures of `shop` overwritten with those of `events`
/// attributed to `audience` (frozen figures whose attribution window is
/// still open: see `Store::sweep`).
pub(crate) fn recount_commerce(
    figures: &mut Figures,
    events: &[ShopFact],
    audience: &HashSet<Viewer>,
) {
    for minute in &mut figures.timeline {
        minute.add_to_cart = Cell::default();
    }
    let shop = commerce(
        events,
        audience,
        figures.started_at,
        figures.ended_at,
        &mut figures.timeline,
    );
    let fresh = shop.figures();
    figures.product_views = fresh.product_views;
    figures.add_to_cart_viewers = fresh.add_to_cart_viewers;
    figures.carts = fresh.carts;
    figures.orders = fresh.orders;
    figures.buyers = fresh.buyers;
    figures.revenue = fresh.revenue;
}

/// Who the report counts as a viewer of the live: watch time in its
/// window, or a message. Shop events count for them only.
pub fn audience(input: &ReportInput) -> Result<HashSet<Viewer>, ReportError> {
    let Some(start) = input.live.started_at else {
        return Err(ReportError::NotStarted(input.live.name.clone()));
    };
    let end = input.live.ended_at.unwrap_or(input.now).max(start);
    let mut everyone: HashSet<Viewer> = watched_spans(input, start, end).into_keys().collect();
    everyone.extend(input.messages.iter().map(|m| m.author));
    Ok(everyone)
}

/// The timeline bucket of `at`: its minute in the window, clamped to the
/// first and last.
fn bucket(start: Millis, end: Millis, minutes: usize, at: Millis) -> usize {
    let m = (at.clamp(start, end) - start) / MINUTE_MS;
    usize::try_from(m)
        .unwrap_or(0)
        .min(minutes.saturating_sub(1))
}

/// The events attributed to `audience` (by a viewer who watched or
/// chatted, from the live's start to the end of the attribution window),
/// counted; add-to-cart during the live also into the timeline.
fn commerce(
    events: &[ShopFact],
    audience: &HashSet<Viewer>,
    start: Millis,
    end: Millis,
    timeline: &mut [MinuteFigures],
) -> Shop {
    let minutes = timeline.len();
    let mut shop = Shop::default();
    for e in events.iter().filter(|e| {
        e.at >= start && e.at <= end + ATTRIBUTION_WINDOW_MS && audience.contains(&e.viewer)
    }) {
        match e.kind {
            ShopKind::ProductView => {
                shop.views += 1;
                shop.viewers_viewing.insert(e.viewer);
            }
            ShopKind::AddToCart => {
                shop.carts += 1;
                shop.carting.insert(e.viewer);
                if e.at <= end && minutes > 0 {
                    let b = bucket(start, end, minutes, e.at);
                    timeline[b].add_to_cart.value += 1;
                    shop.carts_by_minute.push((b, e.viewer));
                }
            }
            ShopKind::Order => {
                shop.orders += 1;
                shop.buyers.insert(e.viewer);
                if let (Some(amount), Some(currency)) = (e.amount_minor, &e.currency) {
                    let r = shop.revenue.entry(currency.clone()).or_default();
                    r.0 += amount;
                    r.1.insert(e.viewer);
                }
            }
        }
    }
    fill_distinct(&mut shop.carts_by_minute, timeline, |m| &mut m.add_to_cart);
    shop
}

#[derive(Default)]
struct Shop {
    views: u64,
    viewers_viewing: HashSet<Viewer>,
    carts: u64,
    carting: HashSet<Viewer>,
    carts_by_minute: Vec<(usize, Viewer)>,
    orders: u64,
    buyers: HashSet<Viewer>,
    revenue: BTreeMap<String, (u64, HashSet<Viewer>)>,
}

impl Shop {
    /// The commerce cells (every other figure left at its default).
    fn figures(self) -> Figures {
        Figures {
            product_views: Cell::new(self.views, len(&self.viewers_viewing)),
            add_to_cart_viewers: Cell::new(len(&self.carting), len(&self.carting)),
            carts: Cell::new(self.carts, len(&self.carting)),
            orders: Cell::new(self.orders, len(&self.buyers)),
            buyers: Cell::new(len(&self.buyers), len(&self.buyers)),
            revenue: self
                .revenue
                .into_iter()
                .map(|(c, (sum, v))| (c, Cell::new(sum, len(&v))))
                .collect(),
            ..Figures::default()
        }
    }
}

fn len<T>(set: &HashSet<T>) -> u64 {
    set.len() as u64
}

/// Pending while on air or within [`FINAL_AFTER_MS`] of the end.
pub fn status(ended_at: Option<Millis>, now: Millis) -> Status {
    match ended_at {
        None => Status::Pending { final_at: None },
        Some(end) if now < end + FINAL_AFTER_MS => Status::Pending {
            final_at: Some(end + FINAL_AFTER_MS),
        },
        Some(_) => Status::Final,
    }
}

/// The commerce figures may still change until the attribution window
/// has closed (a minute after its end, as for the rest): shoppers buy
/// days after the live.
pub fn commerce_status(ended_at: Option<Millis>, now: Millis) -> Status {
    match ended_at {
        None => Status::Pending { final_at: None },
        Some(end) if now < end + ATTRIBUTION_WINDOW_MS + FINAL_AFTER_MS => Status::Pending {
            final_at: Some(end + ATTRIBUTION_WINDOW_MS + FINAL_AFTER_MS),
        },
        Some(_) => Status::Final,
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: usize) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn games(facts: &[GameFact]) -> BTreeMap<u64, Cell> {
    facts
        .iter()
        .map(|g| {
            let n = len(&g.participants.iter().collect());
            (g.id, Cell::new(n, n))
        })
        .collect()
}

/// Each viewer's presence, clipped to the window and merged, sorted.
fn watched_spans(
    input: &ReportInput,
    start: Millis,
    end: Millis,
) -> BTreeMap<Viewer, Vec<(Millis, Millis)>> {
    let mut raw: BTreeMap<Viewer, Vec<(Millis, Millis)>> = BTreeMap::new();
    for s in &input.presence {
        let from = s.joined_at.max(start);
        let to = s.left_at.unwrap_or(end).min(end);
        if from < to {
            raw.entry(s.viewer).or_default().push((from, to));
        }
    }
    for spans in raw.values_mut() {
        spans.sort_unstable();
        let mut merged: Vec<(Millis, Millis)> = Vec::with_capacity(spans.len());
        for &(a, b) in spans.iter() {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        *spans = merged;
    }
    raw
}

/// The peak of concurrent viewers, overall and per minute (into the
/// timeline's `viewers.value`).
fn concurrency(
    spans: &BTreeMap<Viewer, Vec<(Millis, Millis)>>,
    start: Millis,
    minutes: usize,
    timeline: &mut [MinuteFigures],
) -> u64 {
    let mut points: Vec<(Millis, i64)> = spans
        .values()
        .flatten()
        .flat_map(|&(a, b)| [(a, 1), (b, -1)])
        .collect();
    // Leaves before joins at the same instant: a reconnect is one viewer.
    points.sort_unstable();
    let mut running: i64 = 0;
    let mut peak: i64 = 0;
    let mut i = 0;
    for (m, minute) in timeline.iter_mut().enumerate().take(minutes) {
        let m_start = start + MINUTE_MS * i64::try_from(m).unwrap_or(i64::MAX / MINUTE_MS);
        let m_end = m_start + MINUTE_MS;
        while i < points.len() && points[i].0 <= m_start {
            running += points[i].1;
            i += 1;
        }
        let mut minute_peak = running;
        while i < points.len() && points[i].0 < m_end {
            running += points[i].1;
            minute_peak = minute_peak.max(running);
            i += 1;
        }
        minute.viewers.value = u64::try_from(minute_peak).unwrap_or(0);
        peak = peak.max(minute_peak);
    }
    u64::try_from(peak).unwrap_or(0)
}

/// How many distinct viewers were present in each minute.
fn distinct_per_minute(
    spans: &BTreeMap<Viewer, Vec<(Millis, Millis)>>,
    start: Millis,
    minutes: usize,
) -> Vec<u64> {
    let mut diff = vec![0i64; minutes + 1];
    let minute_of =
        |at: Millis| usize::try_from((at - start) / MINUTE_MS).map_or(0, |m| m.min(minutes - 1));
    for intervals in spans.values() {
        let mut next_free = 0usize;
        for &(a, b) in intervals {
            let from = minute_of(a).max(next_free);
            let to = minute_of(b - 1);
            if from <= to {
                diff[from] += 1;
                diff[to + 1] -= 1;
                next_free = to + 1;
            }
        }
    }
    let mut running = 0i64;
    diff.iter()
        .take(minutes)
        .map(|d| {
            running += d;
            u64::try_from(running).unwrap_or(0)
        })
        .collect()
}

/// Sets each minute's `viewers` (distinct contributors) of one column from
/// `(minute, viewer)` pairs.
fn fill_distinct(
    pairs: &mut [(usize, Viewer)],
    timeline: &mut [MinuteFigures],
    column: impl Fn(&mut MinuteFigures) -> &mut Cell,
) {
    pairs.sort_unstable();
    let mut last = None;
    for &pair in pairs.iter() {
        if last != Some(pair) {
            column(&mut timeline[pair.0]).viewers += 1;
            last = Some(pair);
        }
    }
}
