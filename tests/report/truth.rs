//! A generated live with known truth: every figure, worked out here the
//! slow way from what was written, matches the report exactly; erasure
//! and retention change it as they should.

use std::collections::{BTreeMap, BTreeSet};

use regie::protocol::{Actor, Event, Millis, StaffRole};
use regie::report::{Figures, K, Source, compute, render, suppress};
use regie::store::{RetentionPolicy, Store};

use crate::generated::{self, END, LIVE, MINUTES, START, Truth, viewer};

const AFTER: Millis = END + 61_000;

fn figures(store: &mut impl Store, now: Millis) -> Figures {
    let source = store
        .report_source(LIVE, now)
        .expect("read the report source")
        .expect("the live exists");
    source.figures().expect("the live started")
}

fn clip(from: Millis, to: Millis) -> Option<(Millis, Millis)> {
    let (a, b) = (from.max(START), to.min(END));
    (a < b).then_some((a, b))
}

/// How many viewers were present at instant `t`.
fn present_at(truth: &Truth, t: Millis) -> u64 {
    truth
        .spans
        .iter()
        .filter_map(|&(_, a, b)| clip(a, b))
        .filter(|&(a, b)| a <= t && t < b)
        .count() as u64
}

fn nearest_rank(sorted: &[u64], p: usize) -> Option<u64> {
    (!sorted.is_empty()).then(|| sorted[(sorted.len() * p).div_ceil(100).max(1) - 1])
}

fn minute(at: Millis) -> usize {
    usize::try_from((at.clamp(START, END) - START) / 60_000)
        .expect("in the window")
        .min(usize::try_from(MINUTES).expect("small") - 1)
}

#[expect(clippy::too_many_lines, reason = "every figure, one after the other")]
fn check(f: &Figures, truth: &Truth) {
    let watch: i64 = truth
        .spans
        .iter()
        .filter_map(|&(_, a, b)| clip(a, b))
        .map(|(a, b)| b - a)
        .sum();
    let watchers: BTreeSet<u32> = truth
        .spans
        .iter()
        .filter(|&&(_, a, b)| clip(a, b).is_some())
        .map(|s| s.0)
        .collect();
    let chatters: BTreeSet<u32> = truth.messages.iter().map(|m| m.author).collect();
    let unique = watchers.union(&chatters).count() as u64;
    // The peak is reached at some join.
    let peak = truth
        .spans
        .iter()
        .filter_map(|&(_, a, b)| clip(a, b))
        .map(|(a, _)| present_at(truth, a))
        .max()
        .unwrap_or(0);

    assert_eq!(f.length_ms, END - START);
    assert_eq!(
        f.total_watch_ms.value,
        u64::try_from(watch).expect("positive")
    );
    assert!(f.total_watch_ms.value <= (END - START) as u64 * watchers.len() as u64);
    assert_eq!(f.unique_viewers.value, unique);
    assert_eq!(f.peak_concurrent.value, peak);
    // Rounded to two decimals, like the report.
    let average = watch as f64 / (END - START) as f64;
    assert!((f.average_concurrent - average).abs() <= 0.005, "{average}");
    assert_eq!(f.messages.value, truth.messages.len() as u64);
    assert_eq!(f.chatters.value, chatters.len() as u64);
    let questions: Vec<_> = truth.messages.iter().filter(|m| m.question).collect();
    assert_eq!(f.questions_asked.value, questions.len() as u64);
    let mut delays: Vec<u64> = questions
        .iter()
        .filter_map(|m| {
            m.answered_at
                .map(|a| u64::try_from(a - m.at).expect("after"))
        })
        .collect();
    delays.sort_unstable();
    assert_eq!(f.questions_answered.value, delays.len() as u64);
    assert_eq!(f.answer_delay_p50_ms, nearest_rank(&delays, 50));
    assert_eq!(f.answer_delay_p90_ms, nearest_rank(&delays, 90));

    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    for (_, rule) in &truth.flagged {
        *by_rule.entry(format!("rule {rule}")).or_default() += 1;
    }
    let got: BTreeMap<String, u64> = f
        .moderation_by_rule
        .iter()
        .map(|(k, c)| (k.clone(), c.value))
        .collect();
    assert_eq!(got, by_rule);
    assert_eq!(
        f.moderation_by_action.get("flagged").map(|c| c.value),
        (!truth.flagged.is_empty()).then_some(truth.flagged.len() as u64)
    );
    assert_eq!(
        f.moderation_by_action
            .get("timeout")
            .map(|c| (c.value, c.viewers)),
        Some((truth.timeouts.len() as u64, truth.timeouts.len() as u64))
    );

    // The timeline: one bucket a minute, each column adding up.
    assert_eq!(f.timeline.len(), usize::try_from(MINUTES).expect("small"));
    for (i, bucket) in f.timeline.iter().enumerate() {
        let m_start = START + 60_000 * i64::try_from(i).expect("small");
        let in_minute: Vec<_> = truth
            .messages
            .iter()
            .filter(|m| minute(m.at) == i)
            .collect();
        assert_eq!(bucket.messages.value, in_minute.len() as u64, "minute {i}");
        assert_eq!(
            bucket.messages.viewers,
            in_minute
                .iter()
                .map(|m| m.author)
                .collect::<BTreeSet<_>>()
                .len() as u64
        );
        assert_eq!(
            bucket.questions.value,
            in_minute.iter().filter(|m| m.question).count() as u64
        );
        let minute_peak = std::iter::once(m_start)
            .chain(
                truth
                    .spans
                    .iter()
                    .filter_map(|&(_, a, b)| clip(a, b))
                    .map(|(a, _)| a)
                    .filter(|&a| a > m_start && a < m_start + 60_000),
            )
            .map(|t| present_at(truth, t))
            .max()
            .unwrap_or(0);
        assert_eq!(bucket.viewers.value, minute_peak, "minute {i}");
    }
    let summed: u64 = f.timeline.iter().map(|m| m.messages.value).sum();
    assert_eq!(summed, f.messages.value);
}

#[test]
fn a_generated_live_gives_its_known_figures_exactly() {
    let mut w = generated::live(7, 60, 30, 600);
    let f = figures(&mut w.store, AFTER);
    check(&f, &w.truth);
    assert_eq!(f.status, Some(regie::report::Status::Final));
    // Recomputing gives the same bytes.
    let again = figures(&mut w.store, AFTER);
    let k = K::default();
    assert_eq!(
        render::json(&suppress::publish(&f, k)),
        render::json(&suppress::publish(&again, k))
    );
}

#[test]
fn the_report_is_pending_until_a_minute_after_the_end() {
    let mut w = generated::live(3, 12, 6, 50);
    let pending = figures(&mut w.store, END + 10_000);
    assert_eq!(
        pending.status,
        Some(regie::report::Status::Pending {
            final_at: Some(END + 60_000)
        })
    );
    let report = suppress::publish(&pending, K::default());
    assert!(render::table(&report).contains("pending"));
    assert_eq!(
        figures(&mut w.store, END + 60_000).status,
        Some(regie::report::Status::Final)
    );
}

#[test]
fn an_erased_viewer_drops_out_on_recompute() {
    let mut w = generated::live(11, 40, 20, 300);
    let before = figures(&mut w.store, AFTER);
    let gone = 3u32;
    w.commit(
        AFTER,
        Event::ViewerErased {
            viewer_id: viewer(gone),
            reason: "art. 17".into(),
            erased_at: AFTER,
            by: Actor {
                name: Some("Sam".into()),
                role: StaffRole::Support,
            },
        },
    );
    let after = figures(&mut w.store, AFTER + 1);
    let mut truth = w.truth.clone();
    truth.spans.retain(|s| s.0 != gone);
    truth.messages.retain(|m| m.author != gone);
    truth.flagged.retain(|(id, _)| {
        w.truth
            .messages
            .iter()
            .any(|m| m.id == *id && m.author != gone)
    });
    check(&after, &truth);
    assert!(after.unique_viewers.value < before.unique_viewers.value);
    assert!(after.messages.value < before.messages.value);
}

#[test]
fn after_retention_the_report_still_computes_the_same() {
    let mut w = generated::live(5, 30, 15, 200);
    let before = figures(&mut w.store, AFTER);
    let policy = RetentionPolicy {
        chat: std::time::Duration::from_secs(86_400),
        ..RetentionPolicy::default()
    };
    let later = END + 2 * 86_400_000;
    let swept = w.store.sweep(LIVE, &policy, later).expect("sweep");
    assert!(swept.messages > 0 && swept.presence > 0, "{swept:?}");
    let source = w
        .store
        .report_source(LIVE, later)
        .expect("read")
        .expect("the live is still listed");
    assert!(matches!(source, Source::Frozen(_)));
    let after = source.figures().expect("figures");
    assert_eq!(
        render::json(&suppress::publish(&after, K::default())),
        render::json(&suppress::publish(&before, K::default()))
    );
    // Nothing personal is left to recompute from: the log gave it up.
    let Source::Frozen(_) = source else {
        unreachable!()
    };
    let _ = compute::status(Some(END), later);
}
