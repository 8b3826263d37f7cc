//! Several hub nodes sharing one live: `regie serve --store postgres://…
//! --bus redis://…` processes on one PostgreSQL database and one Redis,
//! each test with its own of both (`support::cluster`).
//!
//! What is checked is what a viewer would see: a line said on one node
//! reaches viewers on the others with the same (epoch, seq); a resume on
//! another node, after a disconnect or after the first node was killed,
//! continues with no gap and no duplicate; a redaction reaches every node;
//! a Redis restart loses nothing (the gap comes from PostgreSQL); a
//! PostgreSQL that goes away makes commands `temporary` until it is back;
//! `/healthz` turns unhealthy when the bus goes silent; the viewers-online
//! count is the whole live's on every node; a moderation rule added on one
//! node applies on all, and a name support corrects is the name on all; a
//! poll counts, and an instant win draws among, every node's viewers;
//! support on any node exports what the live holds about a viewer; slow
//! mode and the showcase set on one node hold on all, and on a later one;
//! a live announced on one node is one live of every node, whose
//! lifecycle holds across a restart; and what the shared store does not
//! keep yet (the report) is refused for good, not "try again".

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use regie::instant_win;
use regie::protocol::{
    Auth, Author, Command, ErrorCode, Event, Hello, LiveState, RuleAction, RuleType, Seq,
    ServerFrame, StaffRole, ViewerId,
};
use support::client::{Client, keyed_viewer_hello, staff_hello, text_of, viewer_hello};
use support::cluster::{Cluster, PgLink};
use support::hub::TIMEOUT;

/// Events a node followed from another, over Redis and from PostgreSQL.
const BUS: &str = "regie_events_followed_total{via=\"bus\"}";
const FILLED: &str = "regie_events_followed_total{via=\"store\"}";
/// A node's own heartbeats heard back through Redis.
const BEATS: &str = "regie_heartbeats_back_total";

/// Runs a test's clients on a runtime of their own; the cluster (its
/// processes and its database, whose clients block) stays outside it.
fn run(test: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the clients")
        .block_on(test);
}

async fn viewer(cluster: &Cluster, node: usize, name: &str) -> Client {
    join(cluster, node, viewer_hello(&cluster.live, name)).await
}

async fn join(cluster: &Cluster, node: usize, hello: Hello) -> Client {
    match Client::try_join(cluster.url(node), hello).await {
        Ok(client) => client,
        Err(closed) => panic!("node {node} refused the join: {}", closed.message()),
    }
}

/// The seq at which `client` sees the line `text`.
async fn seq_of(client: &mut Client, text: &str) -> Seq {
    client.wait_event(|e| text_of(e) == Some(text)).await.seq
}

/// Says `count` lines `"{who} {i}"` one after the other; returns each
/// line's acked seq.
async fn say_all(client: &mut Client, who: &str, count: usize) -> Vec<(Seq, String)> {
    let mut acked = Vec::new();
    for i in 0..count {
        let line = format!("{who} {i}");
        acked.push((client.say(&line).await, line));
    }
    acked
}

/// Asserts that what `client` got after `from` (events and explicit
/// skips) covers every seq up to `to` exactly once: no gap, no duplicate.
fn assert_contiguous(client: &Client, from: Seq, to: Seq) {
    let mut seen: BTreeMap<Seq, usize> = BTreeMap::new();
    for e in client.events.iter().filter(|e| e.seq > from && e.seq <= to) {
        *seen.entry(e.seq).or_default() += 1;
    }
    for skip in &client.skipped {
        for seq in skip.from.max(from + 1)..=skip.to.min(to) {
            *seen.entry(seq).or_default() += 1;
        }
    }
    let wrong: Vec<_> = (from + 1..=to)
        .filter(|seq| seen.get(seq) != Some(&1))
        .map(|seq| (seq, seen.get(&seq).copied().unwrap_or(0)))
        .collect();
    assert!(
        wrong.is_empty(),
        "seqs {}..={to} not seen exactly once (seq, times): {wrong:?}",
        from + 1
    );
}

#[test]
fn a_line_said_on_one_node_reaches_viewers_on_the_others_with_the_same_seq() {
    let Some(cluster) = Cluster::start(3, "three-nodes") else {
        return;
    };
    run(async {
        let mut on_a = viewer(&cluster, 0, "Ana").await;
        let mut on_b = viewer(&cluster, 1, "Bea").await;
        let mut on_c = viewer(&cluster, 2, "Cyd").await;
        assert_eq!(
            on_a.welcome.epoch, on_c.welcome.epoch,
            "one live, one epoch"
        );

        let said = on_a.say("Hello from A").await;
        assert_eq!(seq_of(&mut on_b, "Hello from A").await, said);
        assert_eq!(seq_of(&mut on_c, "Hello from A").await, said);

        // The other way round: C numbers after A, and A hears it.
        let answered = on_c.say("Hello from C").await;
        assert!(
            answered > said,
            "C's line follows A's: {answered} after {said}"
        );
        assert_eq!(seq_of(&mut on_a, "Hello from C").await, answered);
        assert_eq!(seq_of(&mut on_b, "Hello from C").await, answered);
        // B wrote nothing: every line came to it over Redis, none had to
        // be fetched from PostgreSQL.
        assert!(cluster.metric(1, BUS) >= 2.0, "B followed the bus");
        assert!(cluster.metric(1, FILLED) < 1.0, "B had no gap to fill");
        // Every node serves the live's viewer page.
        for node in 0..3 {
            let (status, _) = cluster.get(node, &format!("/live/{}", cluster.live));
            assert_eq!(status, 200, "node {node} serves the page");
        }
    });
}

/// Two nodes writing at once: every line gets one seq, and viewers on
/// both nodes see the same line at each seq, with no gap.
#[test]
fn two_nodes_writing_at_once_agree_on_every_seq() {
    let Some(cluster) = Cluster::start(2, "two-writers") else {
        return;
    };
    run(async {
        const EACH: usize = 25;
        let mut watch_a = viewer(&cluster, 0, "Watcher").await;
        let mut watch_b = viewer(&cluster, 1, "Watcher").await;
        let start = watch_a.position().seq.min(watch_b.position().seq);
        let host_a = cluster.token(StaffRole::Host, "Hana");
        let host_b = cluster.token(StaffRole::Host, "Hugo");
        let mut a = join(&cluster, 0, staff_hello(&cluster.live, &host_a)).await;
        let mut b = join(&cluster, 1, staff_hello(&cluster.live, &host_b)).await;
        let (from_a, from_b) = tokio::join!(say_all(&mut a, "a", EACH), say_all(&mut b, "b", EACH));
        let mut acked: Vec<(Seq, String)> = from_a.into_iter().chain(from_b).collect();
        acked.sort();
        let seqs: Vec<Seq> = acked.iter().map(|(s, _)| *s).collect();
        let mut unique = seqs.clone();
        unique.dedup();
        assert_eq!(unique.len(), 2 * EACH, "a seq was given twice: {seqs:?}");
        let last = *seqs.last().expect("lines were said");
        for watcher in [&mut watch_a, &mut watch_b] {
            watcher.event_at(last).await;
            for (seq, line) in &acked {
                let seen = watcher.events.iter().find(|e| e.seq == *seq);
                assert_eq!(
                    seen.and_then(|e| text_of(&e.event)),
                    Some(line.as_str()),
                    "seq {seq}"
                );
            }
            assert_contiguous(watcher, start, last);
        }
    });
}

#[test]
fn a_viewer_resumes_on_another_node_with_no_gap_or_duplicate() {
    let Some(cluster) = Cluster::start(3, "resume-across") else {
        return;
    };
    run(async {
        let mut speaker = viewer(&cluster, 0, "Ana").await;
        let hello = keyed_viewer_hello(&cluster.live, "Bea", "bea");
        let mut bea = join(&cluster, 1, hello.clone()).await;
        let one = speaker.say("one").await;
        bea.event_at(one).await;
        let at = bea.position();
        drop(bea);
        speaker.say("two").await;
        let three = speaker.say("three").await;

        let mut hello = hello;
        hello.resume = Some(at.clone());
        let mut again = join(&cluster, 2, hello).await;
        assert!(
            again.reload.is_none(),
            "a resume within the live's history replays, it does not reload"
        );
        again.event_at(three).await;
        assert_contiguous(&again, at.seq, three);
        let texts: Vec<_> = again
            .events
            .iter()
            .filter_map(|e| text_of(&e.event))
            .collect();
        assert_eq!(texts, ["two", "three"], "exactly what was missed");
    });
}

#[test]
fn a_redaction_on_one_node_reaches_every_node() {
    let Some(cluster) = Cluster::start(3, "redact-across") else {
        return;
    };
    run(async {
        let mut on_b = viewer(&cluster, 1, "Bea").await;
        let mut on_c = viewer(&cluster, 2, "Cyd").await;
        let said = on_b.say("a line to take back").await;
        let Event::Message { message } = on_c.event_at(said).await.event else {
            panic!("the line reached node C");
        };
        let token = cluster.token(StaffRole::Support, "Sue");
        let mut support = join(&cluster, 0, staff_hello(&cluster.live, &token)).await;
        support
            .ack(Command::Redact {
                message_id: message.id,
                reason: "asked to".into(),
            })
            .await;
        for client in [&mut on_b, &mut on_c] {
            client
                .wait_event(|e| matches!(e, Event::Redacted { tombstone } if tombstone.message_id == message.id))
                .await;
        }
        // A viewer joining any node now finds the tombstone, not the text.
        for node in 0..3 {
            let late = viewer(&cluster, node, "Late").await;
            let snapshot = serde_json::to_string(&late.welcome).expect("a welcome serialises");
            assert!(
                !snapshot.contains("a line to take back"),
                "node {node} still serves the text: {snapshot}"
            );
        }
    });
}

#[test]
fn the_viewers_of_a_killed_node_resume_on_another_with_no_gap() {
    let Some(mut cluster) = Cluster::start(2, "kill-a-node") else {
        return;
    };
    run(async {
        let mut speaker = viewer(&cluster, 0, "Ana").await;
        let hello = keyed_viewer_hello(&cluster.live, "Bea", "bea");
        let mut bea = join(&cluster, 1, hello.clone()).await;
        let before = speaker.say("before").await;
        bea.event_at(before).await;
        let at = bea.position();

        cluster.nodes[1].served.kill();
        // Its viewer's socket ends with the process.
        bea.closed().await;
        speaker.say("while away 1").await;
        let last = speaker.say("while away 2").await;

        let mut hello = hello;
        hello.resume = Some(at.clone());
        let mut again = join(&cluster, 0, hello).await;
        again.event_at(last).await;
        assert_contiguous(&again, at.seq, last);
        let texts: Vec<_> = again
            .events
            .iter()
            .filter_map(|e| text_of(&e.event))
            .collect();
        assert_eq!(texts, ["while away 1", "while away 2"]);

        // The killed node comes back and serves the live where it is now.
        cluster.restart_node(1);
        let mut back = viewer(&cluster, 1, "Back").await;
        let after = speaker.say("after the restart").await;
        assert_eq!(seq_of(&mut back, "after the restart").await, after);
    });
}

#[test]
fn a_redis_restart_loses_nothing() {
    let Some(mut cluster) = Cluster::start(2, "redis-restart") else {
        return;
    };
    run(async {
        let mut speaker = viewer(&cluster, 0, "Ana").await;
        let mut listener = viewer(&cluster, 1, "Bea").await;
        let first = speaker.say("before Redis went").await;
        listener.event_at(first).await;

        cluster.redis.kill();
        // Committed to PostgreSQL; their publishes go nowhere.
        speaker.say("while Redis is down 1").await;
        let down = speaker.say("while Redis is down 2").await;
        cluster.redis.start_again();

        // Node B subscribes again and fills the gap from PostgreSQL.
        listener.event_at(down).await;
        assert_contiguous(&listener, first, down);
        let texts: Vec<_> = listener
            .events
            .iter()
            .filter_map(|e| text_of(&e.event))
            .collect();
        assert_eq!(
            texts,
            [
                "before Redis went",
                "while Redis is down 1",
                "while Redis is down 2"
            ]
        );
        assert!(
            cluster.metric(1, FILLED) >= 2.0,
            "the lines published while Redis was down came from PostgreSQL"
        );
        // And the bus carries the next line again.
        let after = speaker.say("Redis is back").await;
        assert_eq!(seq_of(&mut listener, "Redis is back").await, after);
    });
}

#[test]
fn commands_are_refused_as_temporary_while_postgres_is_away() {
    let mut link = None;
    let Some(cluster) = Cluster::start_via(2, "postgres-away", |url| {
        let (l, through) = PgLink::to(url);
        link = Some(l);
        through
    }) else {
        return;
    };
    run(async {
        let link = link.expect("the link was made");
        let mut speaker = viewer(&cluster, 0, "Ana").await;
        let mut listener = viewer(&cluster, 1, "Bea").await;
        speaker.say("before").await;

        link.cut();
        let refused = speaker
            .refused(Command::Say {
                text: "while PostgreSQL is away".into(),
                question: false,
                announcement: false,
            })
            .await;
        assert!(
            refused.temporary,
            "refused, and said to be temporary: {refused:?}"
        );

        link.restore();
        // The client retries, as a real one does, until the hub takes it.
        let deadline = Instant::now() + TIMEOUT;
        let accepted = loop {
            let frame = speaker
                .command(Command::Say {
                    text: "PostgreSQL is back".into(),
                    question: false,
                    announcement: false,
                })
                .await;
            match frame {
                ServerFrame::Ack { seq: Some(seq), .. } => break seq,
                ServerFrame::Error(e) if e.temporary && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => panic!("expected an ack once PostgreSQL is back: {other:?}"),
            }
        };
        assert_eq!(seq_of(&mut listener, "PostgreSQL is back").await, accepted);
        assert!(
            !listener
                .events
                .iter()
                .any(|e| text_of(&e.event) == Some("while PostgreSQL is away")),
            "a refused line was not posted"
        );
    });
}

/// Viewers on two nodes: each node's viewers-online count is the live's
/// (its own viewers and those the other says it has), and a killed node's
/// viewers stop counting.
#[test]
fn the_viewers_online_count_is_the_whole_live_on_every_node() {
    let Some(mut cluster) = Cluster::start(2, "viewers-online") else {
        return;
    };
    run(async {
        let mut on_a = Vec::new();
        for name in ["Ana", "Ann", "Amy"] {
            on_a.push(viewer(&cluster, 0, name).await);
        }
        let mut on_b = Vec::new();
        for name in ["Bea", "Bob"] {
            on_b.push(viewer(&cluster, 1, name).await);
        }
        let online =
            |count| move |e: &Event| matches!(e, Event::ViewersOnline { count: c } if *c == count);
        on_a[0].wait_event(online(5)).await;
        on_b[0].wait_event(online(5)).await;

        cluster.nodes[1].served.kill();
        for b in on_b {
            b.closed().await;
        }
        // B's share goes once its heartbeat is stale; A counts its own.
        on_a[0].wait_event(online(3)).await;
    });
}

/// A moderation rule added on one node applies on every node: a matching
/// line said on another is blocked there, a node started after the rule
/// reads it from PostgreSQL, and a removal on any node lifts it on all.
#[test]
fn a_moderation_rule_added_on_one_node_applies_on_every_node() {
    let Some(mut cluster) = Cluster::start(2, "rules-across") else {
        return;
    };
    run(async {
        let say = |text: &str| Command::Say {
            text: text.into(),
            question: false,
            announcement: false,
        };
        let ines = cluster.token(StaffRole::Moderator, "Inès");
        let mut on_a = join(&cluster, 0, staff_hello(&cluster.live, &ines)).await;
        let sam = cluster.token(StaffRole::Moderator, "Sam");
        let mut on_b = join(&cluster, 1, staff_hello(&cluster.live, &sam)).await;
        let mut bea = viewer(&cluster, 1, "Bea").await;
        bea.say("avant : une arnaque ?").await;

        let added = on_a
            .ack(Command::RuleAdd {
                kind: RuleType::Term,
                pattern: "arnaq*".into(),
                action: RuleAction::Block,
                expires_in_secs: None,
            })
            .await
            .expect("a rule_added event");
        let Event::RuleAdded { rule } = on_b.event_at(added).await.event else {
            panic!("node B heard of the rule");
        };
        let refused = bea.refused(say("c'est une ARNAQUE")).await;
        assert_eq!(refused.code, ErrorCode::Blocked, "{refused:?}");

        // A node started after the rule finds it in the store.
        let c = cluster.add_node();
        let mut cyd = viewer(&cluster, c, "Cyd").await;
        let refused = cyd.refused(say("arnaqueur !")).await;
        assert_eq!(refused.code, ErrorCode::Blocked, "{refused:?}");

        let removed = on_b
            .ack(Command::RuleRemove {
                rule_id: rule.rule_id,
            })
            .await
            .expect("a rule_removed event");
        on_a.event_at(removed).await;
        let mut ana = viewer(&cluster, 0, "Ana").await;
        let after = ana.say("après : une arnaque ?").await;
        // Node C followed the removal before that line: its viewers pass too.
        cyd.event_at(after).await;
        cyd.say("plus d'arnaque").await;
    });
}

/// The name a message is shown under.
fn author_name(event: &Event) -> Option<&str> {
    match event {
        Event::Message { message } => match &message.author {
            Author::Viewer { first_name, .. } => Some(first_name),
            Author::Staff { name, .. } => Some(name),
        },
        _ => None,
    }
}

/// A name support corrects on one node is the viewer's name on every
/// node: their next line on another carries it, and on a node started
/// later (which reads the correction from PostgreSQL) the device's old
/// name at hello does not undo it, nor does a late joiner see it.
#[test]
fn a_name_corrected_on_one_node_is_the_name_on_every_node() {
    let Some(mut cluster) = Cluster::start(2, "rectify-across") else {
        return;
    };
    run(async {
        let mut zoe = viewer(&cluster, 1, "Zoé").await;
        let id = zoe.welcome.you.viewer_id.clone().expect("a viewer id");
        // The device keeps the pass it was issued, and its own name.
        let mut hello = viewer_hello(&cluster.live, "Zoé");
        if let Auth::Viewer { pass, .. } = &mut hello.auth {
            pass.clone_from(&zoe.welcome.pass);
        }
        zoe.say("bonjour").await;
        let token = cluster.token(StaffRole::Support, "Sue");
        let mut sue = join(&cluster, 0, staff_hello(&cluster.live, &token)).await;
        let fixed = sue
            .ack(Command::RectifyViewer {
                viewer_id: id.clone(),
                first_name: Some("Zoey".into()),
                pseudonym: None,
            })
            .await
            .expect("a viewer_rectified event");
        zoe.event_at(fixed).await;
        let next = zoe.say("encore moi").await;
        assert_eq!(author_name(&sue.event_at(next).await.event), Some("Zoey"));
        drop(zoe);

        let c = cluster.add_node();
        let mut again = join(&cluster, c, hello).await;
        assert_eq!(again.welcome.you.viewer_id.as_ref(), Some(&id));
        assert_eq!(again.welcome.you.name, "Zoey");
        let last = again.say("depuis le nœud C").await;
        assert_eq!(author_name(&sue.event_at(last).await.event), Some("Zoey"));
        let late = viewer(&cluster, c, "Late").await;
        let snapshot = serde_json::to_string(&late.welcome).expect("a welcome serialises");
        assert!(snapshot.contains("\"Zoey\""), "{snapshot}");
        assert!(
            !snapshot.contains("Zoé"),
            "node C still shows the old name: {snapshot}"
        );
    });
}

#[test]
fn health_turns_unhealthy_when_the_bus_goes_silent() {
    let Some(cluster) = Cluster::start(2, "health") else {
        return;
    };
    run(async {
        let healthy = |node| wait_health(&cluster, node, 200);
        healthy(0);
        healthy(1);
        // Each node has heard its own heartbeat come back: the bus works.
        for node in 0..2 {
            wait_metric(&cluster, node, BEATS, 1.0);
        }
        cluster.redis.freeze();
        let frozen = Instant::now();
        let (_, why) = wait_health(&cluster, 0, 503);
        let after = frozen.elapsed();
        wait_health(&cluster, 1, 503);
        eprintln!(
            "healthz said unhealthy {} ms after Redis froze: {why}",
            after.as_millis()
        );
        assert!(why.contains("heartbeat"), "it says why: {why}");
        cluster.redis.thaw();
        healthy(0);
        healthy(1);
    });
}

/// Polls node `node`'s `/metrics` until `series` reaches `at_least`.
fn wait_metric(cluster: &Cluster, node: usize, series: &str, at_least: f64) {
    let deadline = Instant::now() + TIMEOUT;
    while cluster.metric(node, series) < at_least {
        assert!(
            Instant::now() < deadline,
            "node {node}'s {series} stayed below {at_least}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls node `node`'s `/healthz` until it answers `status` (bounded).
fn wait_health(cluster: &Cluster, node: usize, status: u16) -> (u16, String) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let (got, body) = cluster.health(node);
        if got == status {
            return (got, body);
        }
        assert!(
            Instant::now() < deadline,
            "node {node}'s /healthz stayed {got} ({body:?}), expected {status}"
        );
        // Health is a reading over time: look again shortly.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The same viewer on another node: a new connection with the pass the
/// first node's welcome issued.
async fn again_on(cluster: &Cluster, node: usize, first: &Client, name: &str) -> Client {
    let mut hello = viewer_hello(&cluster.live, name);
    if let Auth::Viewer { pass, .. } = &mut hello.auth {
        pass.clone_from(&first.welcome.pass);
    }
    let again = join(cluster, node, hello).await;
    assert_eq!(again.welcome.you.viewer_id, first.welcome.you.viewer_id);
    again
}

/// A poll opened on one node is the live's poll on every node: viewers
/// vote on theirs, a viewer who voted on one node is told so on another,
/// and the tally and the final count are the whole live's.
#[test]
fn a_poll_counts_the_votes_taken_on_every_node() {
    let Some(cluster) = Cluster::start(3, "poll-across") else {
        return;
    };
    run(async {
        let token = cluster.token(StaffRole::Host, "Sophie");
        let mut host = join(&cluster, 0, staff_hello(&cluster.live, &token)).await;
        // Everyone joins before the poll opens (a newer identity may not vote).
        let mut voters = Vec::new();
        for (i, node) in [0, 0, 1, 1, 2].into_iter().enumerate() {
            voters.push((node, viewer(&cluster, node, &format!("V{i}")).await));
        }
        let opened = host
            .ack(Command::PollOpen {
                question: "Rouge ou bleu ?".into(),
                options: vec!["Rouge".into(), "Bleu".into()],
                duration_secs: None,
            })
            .await
            .expect("a poll_opened event");
        let poll_id = match host.event_at(opened).await.event {
            Event::PollOpened { poll } => poll.id,
            other => panic!("{other:?}"),
        };
        let choices = [0, 1, 0, 0, 1];
        for ((_, v), option) in voters.iter_mut().zip(choices) {
            v.event_at(opened).await;
            assert_eq!(v.ack(Command::Vote { poll_id, option }).await, None);
        }
        // The votes taken on B and C are in the tally A announces (or any
        // node: each counts what the others stored).
        let tally = host
            .wait_event(|e| matches!(e, Event::PollTally { voters: 5, .. }))
            .await;
        let Event::PollTally { counts, .. } = tally.event else {
            unreachable!("matched above")
        };
        assert_eq!(counts, vec![3, 2]);

        // V2 voted on node B; on node C they already did.
        let (_, on_b) = &voters[2];
        let mut on_c = again_on(&cluster, 2, on_b, "V2").await;
        let refused = on_c.refused(Command::Vote { poll_id, option: 1 }).await;
        assert_eq!(refused.code, ErrorCode::Invalid, "{refused:?}");
        assert!(refused.message.contains("already"), "{refused:?}");

        // Closed on A, the count is exact everywhere.
        let closed = host
            .ack(Command::PollClose { poll_id })
            .await
            .expect("a poll_closed event");
        for (_, v) in &mut voters {
            match v.event_at(closed).await.event {
                Event::PollClosed { counts, voters, .. } => {
                    assert_eq!((counts, voters), (vec![3, 2], 5));
                }
                other => panic!("{other:?}"),
            }
        }
        // Node C followed the close: a vote there is too late.
        on_c.event_at(closed).await;
        let late = on_c.refused(Command::Vote { poll_id, option: 0 }).await;
        assert!(late.message.contains("closed"), "{late:?}");
    });
}

/// An instant win opened on one node takes entries on every node, and a
/// host on another node draws it: among every entrant (the published
/// entrants hash is that of all of them), with the seed committed to.
#[test]
fn an_instant_win_draws_among_the_entrants_of_every_node() {
    let Some(cluster) = Cluster::start(3, "draw-across") else {
        return;
    };
    run(async {
        let sophie = cluster.token(StaffRole::Host, "Sophie");
        let mut on_a = join(&cluster, 0, staff_hello(&cluster.live, &sophie)).await;
        let max = cluster.token(StaffRole::Host, "Max");
        let mut on_b = join(&cluster, 1, staff_hello(&cluster.live, &max)).await;
        let mut entrants = Vec::new();
        for (i, node) in [0, 1, 1, 2, 2].into_iter().enumerate() {
            entrants.push(viewer(&cluster, node, &format!("E{i}")).await);
        }
        let mut bystander = viewer(&cluster, 2, "Bob").await;
        let opened = on_a
            .ack(Command::InstantWinOpen {
                prize: "Sac".into(),
                winners: 2,
                entry_secs: 600,
                rules: "Un tirage.".into(),
            })
            .await
            .expect("an instant_win_opened event");
        let draw = match on_a.event_at(opened).await.event {
            Event::InstantWinOpened { draw } => draw,
            other => panic!("{other:?}"),
        };
        for e in &mut entrants {
            e.event_at(opened).await;
            assert_eq!(e.ack(Command::Enter { draw_id: draw.id }).await, None);
        }
        on_a.wait_event(|e| matches!(e, Event::InstantWinEntries { entrants: 5, .. }))
            .await;
        // E1 entered on B; on C they already did. (A new command id: the
        // same id and command would be a retry, answered as the first was.)
        let mut twice = again_on(&cluster, 2, &entrants[1], "E1").await;
        let enter = Command::Enter { draw_id: draw.id };
        match twice.command_with_id("enter-again", enter).await {
            ServerFrame::Error(e) => assert_eq!(e.code, ErrorCode::Invalid, "{e:?}"),
            other => panic!("a second entry was taken: {other:?}"),
        }

        // Drawn on B, which never saw the seed in an event.
        let drawn = on_b
            .ack(Command::InstantWinClose { draw_id: draw.id })
            .await
            .expect("an instant_win_drawn event");
        let Event::InstantWinDrawn {
            seed,
            entrants: count,
            entrants_hash,
            winners,
            ..
        } = on_a.event_at(drawn).await.event
        else {
            panic!("node A heard of the draw");
        };
        assert_eq!(count, 5);
        let ids: Vec<ViewerId> = entrants
            .iter()
            .map(|e| e.welcome.you.viewer_id.clone().expect("a viewer id"))
            .collect();
        let all = instant_win::canonical_entrants(ids.clone());
        assert_eq!(
            entrants_hash,
            instant_win::entrants_hash(&all).expect("a hash"),
            "the draw was among every node's entrants"
        );
        let seed = instant_win::Seed::from_hex(&seed).expect("the revealed seed");
        assert_eq!(seed.commitment(), draw.commitment, "the seed committed to");
        assert_eq!(winners.len(), 2);
        for w in &winners {
            assert!(ids.contains(&w.viewer_id), "{w:?}");
            assert!(w.first_name.starts_with('E'), "announced by name: {w:?}");
        }
        // Every node has the drawn game: an entry on C now is too late.
        bystander.event_at(drawn).await;
        let late = bystander.refused(Command::Enter { draw_id: draw.id }).await;
        assert!(late.message.contains("closed"), "{late:?}");
    });
}

/// The right of access on a shared live: support on one node exports a
/// viewer who chatted on another, from PostgreSQL, and reads the request
/// she made there in the one requests log.
#[test]
fn support_on_any_node_exports_a_viewer_and_reads_her_request() {
    let Some(cluster) = Cluster::start(2, "export-across") else {
        return;
    };
    run(async {
        let mut zoe = viewer(&cluster, 0, "Zoé").await;
        let id = zoe.welcome.you.viewer_id.clone().expect("a viewer id");
        zoe.say("zq-ma-question").await;
        let token = cluster.token(StaffRole::Support, "Sue");
        let mut sue = join(&cluster, 1, staff_hello(&cluster.live, &token)).await;
        let answer = sue
            .command(Command::ExportViewer {
                viewer_id: id.clone(),
            })
            .await;
        let ServerFrame::ViewerExport { export, .. } = answer else {
            panic!("no export: {answer:?}");
        };
        assert_eq!(export.profile.viewer_id, id.0);
        assert_eq!(export.profile.first_name, "Zoé");
        let lines: Vec<_> = export.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(lines, vec!["zq-ma-question"]);

        // Her own request, made on node A, is in the log support reads on B.
        let kind = regie::protocol::PrivacyRequestKind::Access;
        assert_eq!(zoe.ack(Command::PrivacyRequest { kind }).await, None);
        let ServerFrame::RightsRequests { requests, .. } =
            sue.command(Command::RightsRequests).await
        else {
            panic!("no requests log");
        };
        let logged: Vec<_> = requests
            .iter()
            .map(|r| (r.kind.as_str(), r.subject.as_str()))
            .collect();
        assert_eq!(logged, vec![("access", id.0.as_str())]);
    });
}

/// What staff set on one node is the live's on every node, and on a node
/// started later (read from the log in PostgreSQL): slow mode, a product
/// added, the one now showing.
#[test]
fn slow_mode_and_the_showcase_set_on_one_node_hold_on_every_node() {
    let Some(mut cluster) = Cluster::start(2, "showcase-across") else {
        return;
    };
    run(async {
        let token = cluster.token(StaffRole::Host, "Sophie");
        let mut host = join(&cluster, 0, staff_hello(&cluster.live, &token)).await;
        host.ack(Command::SlowMode { secs: 20 }).await;
        let added = host
            .ack(Command::ProductAdd {
                name: "Robe Capucine".into(),
                price: "49 €".into(),
                link: None,
            })
            .await
            .expect("a product_added event");
        let Event::ProductAdded { product } = host.event_at(added).await.event else {
            panic!("no product");
        };
        let shown = host
            .ack(Command::NowShowing {
                product_id: Some(product.id),
            })
            .await
            .expect("a now_showing event");
        // Node B followed it all: a viewer joining there after the last
        // event sees what A set.
        let mut probe = viewer(&cluster, 1, "Probe").await;
        probe.event_at(shown).await;
        let c = cluster.add_node();
        for node in [1, c] {
            let late = viewer(&cluster, node, "Late").await;
            let snapshot = late.welcome.snapshot.as_ref().expect("a snapshot");
            assert_eq!(snapshot.settings.slow_mode_secs, 20, "node {node}");
            assert_eq!(
                snapshot.now_showing.as_ref().map(|p| p.name.as_str()),
                Some("Robe Capucine"),
                "node {node}"
            );
        }
    });
}

/// A live an admin announces on one node is a live of every node: in
/// PostgreSQL, not in the data dir of the node that created it. Its
/// viewers on every node share its stream, its start and end reach them
/// all, the page shows where it is, and a node restarted after the end
/// serves it as ended (it used to come back on air).
#[test]
fn a_live_announced_on_one_node_runs_on_every_node_and_stays_ended() {
    const NIGHT: &str = "night-across";
    let Some(mut cluster) = Cluster::start(2, "announce-across") else {
        return;
    };
    run(async {
        let admin_token = cluster.token(StaffRole::Admin, "Nadia");
        let mut admin = join(&cluster, 0, staff_hello(&cluster.live, &admin_token)).await;
        admin
            .ack(Command::LiveCreate {
                name: NIGHT.into(),
                title: "Soldes de nuit".into(),
                starts_at: Some(1_900_000_000_000),
            })
            .await;
        let listed = match admin.command(Command::LiveList).await {
            ServerFrame::Lives { lives, .. } => lives,
            other => panic!("expected the lives, got {other:?}"),
        };
        assert!(
            listed
                .iter()
                .any(|l| l.name == NIGHT && l.state == LiveState::Scheduled),
            "{listed:?}"
        );

        // Node B never heard of it but serves it, as scheduled.
        let mut on_b = join(&cluster, 1, viewer_hello(NIGHT, "Julie")).await;
        let info = on_b.welcome.live_info.clone().expect("the live's info");
        assert_eq!(
            (info.state, info.title.as_str()),
            (LiveState::Scheduled, "Soldes de nuit")
        );
        let (status, body) = cluster.get(1, &format!("/live/{NIGHT}/info.json"));
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"scheduled\""), "{body}");

        // The host starts it on A: B's viewer sees it, and the lines of both
        // nodes are one stream.
        let host_token = cluster.token_for(StaffRole::Host, "Sophie", NIGHT);
        let mut host = join(&cluster, 0, staff_hello(NIGHT, &host_token)).await;
        let started = host
            .ack(Command::LiveStart)
            .await
            .expect("a live_state event");
        let seen = on_b.event_at(started).await;
        assert!(matches!(
            seen.event,
            Event::LiveState {
                state: LiveState::OnAir
            }
        ));
        let mut on_a = join(&cluster, 0, viewer_hello(NIGHT, "Marc")).await;
        let said = on_b.say("Bonsoir de B").await;
        assert_eq!(seq_of(&mut on_a, "Bonsoir de B").await, said);
        let (_, body) = cluster.get(0, &format!("/live/{NIGHT}/info.json"));
        assert!(body.contains("\"on_air\""), "{body}");

        // Ended from B; A, killed and restarted, serves it as ended.
        let host_b = cluster.token_for(StaffRole::Host, "Sophie", NIGHT);
        let mut host_on_b = join(&cluster, 1, staff_hello(NIGHT, &host_b)).await;
        let ended = host_on_b
            .ack(Command::LiveEnd)
            .await
            .expect("a live_state event");
        on_a.event_at(ended).await;
        drop((on_a, host, admin));
        cluster.nodes[0].served.kill();
        cluster.restart_node(0);
        let (_, body) = cluster.get(0, &format!("/live/{NIGHT}/info.json"));
        assert!(body.contains("\"ended\""), "{body}");
        let late = join(&cluster, 0, viewer_hello(NIGHT, "Late")).await;
        let info = late.welcome.live_info.clone().expect("the live's info");
        assert_eq!(info.state, LiveState::Ended);
        assert!(
            info.started_at.is_some() && info.ended_at.is_some(),
            "{info:?}"
        );
    });
}

/// The report is not made on a shared live yet: staff are told so, for
/// good (`not_offered`, not `temporary`), not asked to try again.
#[test]
fn a_report_on_a_shared_live_is_refused_for_good() {
    let Some(cluster) = Cluster::start(1, "report-refused") else {
        return;
    };
    run(async {
        let token = cluster.token(StaffRole::Admin, "Nadia");
        let mut admin = join(&cluster, 0, staff_hello(&cluster.live, &token)).await;
        let refused = admin
            .refused(Command::Report {
                live: cluster.live.clone(),
            })
            .await;
        assert_eq!(refused.code, ErrorCode::NotOffered, "{refused:?}");
        assert!(!refused.temporary, "{refused:?}");
        assert!(
            refused.message.contains("compute reports"),
            "{}",
            refused.message
        );
    });
}
