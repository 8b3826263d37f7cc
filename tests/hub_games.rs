//! Polls and instant wins end to end, on the real hub: hundreds of real
//! viewer sockets vote, draws are published and verified (also with the
//! real `regie verify-draw`), and state survives restarts and downtime.
//! Every wait is on an event or answer with a timeout; the only wait on
//! the clock is for a short poll to end with nobody connected. Windows
//! that end while the hub is down run on a clock the test moves by hand.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use futures_util::future::join_all;
use regie::hub::HubConfig;
use regie::instant_win::DrawRecord;
use regie::protocol::{
    Command, DrawView, ErrorCode, Event, PollView, ServerFrame, StaffRole, ViewerId, Winner,
};
use regie::store::{AuditRecord, SqliteStore, Store};
use support::client::Client;
use support::hub::{ManualClock, TestHub};

fn poll_open(options: &[&str], duration_secs: Option<u32>) -> Command {
    Command::PollOpen {
        question: "Quelle couleur ensuite ?".into(),
        options: options.iter().map(ToString::to_string).collect(),
        duration_secs,
    }
}

fn viewer_id(c: &Client) -> ViewerId {
    c.welcome.you.viewer_id.clone().expect("viewers have an id")
}

/// Connects `n` viewers, at most 50 handshakes at a time.
async fn viewers(hub: &TestHub, n: usize) -> Vec<Client> {
    let mut all = Vec::with_capacity(n);
    let names: Vec<String> = (0..n).map(|i| format!("Viewer{i}")).collect();
    for chunk in names.chunks(50) {
        all.extend(join_all(chunk.iter().map(|name| hub.viewer(name))).await);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_viewers_vote_and_the_final_tally_is_exact() {
    let hub = TestHub::start().await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut crowd = viewers(&hub, 500).await;

    // Moderators do not run polls; hosts do.
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    let refused = moderator.refused(poll_open(&["Rouge", "Bleu"], None)).await;
    assert_eq!(refused.code, ErrorCode::Forbidden);

    let seq = host
        .ack(poll_open(&["Rouge", "Bleu", "Vert"], None))
        .await
        .expect("an event");
    let opened = host.event_at(seq).await;
    let Event::PollOpened { poll } = &opened.event else {
        panic!("{opened:?}")
    };
    assert_eq!(poll.audience_at_launch, 500);
    let poll_id = poll.id;
    let second = host.refused(poll_open(&["a", "b"], None)).await;
    assert_eq!(second.code, ErrorCode::Invalid, "one poll at a time");

    // Everyone votes, 50 at a time; a skewed choice so counts differ.
    let choice = |i: usize| if i % 5 < 3 { 0 } else { i % 2 + 1 };
    let mut expected = [0u64; 3];
    for (chunk_no, chunk) in crowd.chunks_mut(50).enumerate() {
        let answers = join_all(chunk.iter_mut().enumerate().map(|(j, c)| {
            let option = choice(chunk_no * 50 + j);
            async move { c.command(Command::Vote { poll_id, option }).await }
        }))
        .await;
        for (j, a) in answers.into_iter().enumerate() {
            assert!(matches!(a, ServerFrame::Ack { seq: None, .. }), "{a:?}");
            expected[choice(chunk_no * 50 + j)] += 1;
        }
    }
    let again = crowd[0].refused(Command::Vote { poll_id, option: 1 }).await;
    assert_eq!(again.code, ErrorCode::Invalid);
    assert_eq!(again.message, "you already voted in this poll");

    // The live tally catches up with every vote (pushed by the hub's clock).
    host.wait_event(|e| matches!(e, Event::PollTally { voters: 500, .. }))
        .await;
    host.ack(Command::PollClose { poll_id }).await;
    let closed = host
        .wait_event(|e| matches!(e, Event::PollClosed { .. }))
        .await;
    let Event::PollClosed { counts, voters, .. } = closed.event else {
        unreachable!()
    };
    assert_eq!(counts, expected.to_vec(), "the final tally is exact");
    assert_eq!(voters, 500);

    let late = crowd[1].refused(Command::Vote { poll_id, option: 0 }).await;
    assert_eq!(late.code, ErrorCode::Invalid);
    assert_eq!(late.message, "this poll is closed");

    // The throttle, as a property of the stream: consecutive tallies of the
    // same poll are at least 250 ms apart.
    let tallies: Vec<_> = host
        .events
        .iter()
        .filter(|e| matches!(e.event, Event::PollTally { poll_id: p, .. } if p == poll_id))
        .collect();
    assert!(!tallies.is_empty());
    for w in tallies.windows(2) {
        assert!(w[1].at - w[0].at >= 250, "{} then {}", w[0].at, w[1].at);
        assert!(w[1].seq > w[0].seq);
    }
    hub.stop().await;
}

async fn fetch_record(hub: &TestHub, id: u64) -> DrawRecord {
    let (status, body) = hub.http_get(&format!("/draws/{id}.json")).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("a draw record")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instant_win_is_drawn_published_verified_and_redrawn() {
    let hub = TestHub::start().await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut crowd = viewers(&hub, 12).await;

    let seq = host
        .ack(Command::InstantWinOpen {
            prize: "Bon d'achat 50 €".into(),
            winners: 3,
            entry_secs: 600,
            rules: "Un seul bulletin par personne".into(),
        })
        .await
        .expect("an event");
    let Event::InstantWinOpened { draw } = host.event_at(seq).await.event else {
        panic!("expected instant_win_opened")
    };
    assert!(draw.rules.starts_with("No purchase necessary."));
    let draw_id = draw.id;
    assert_eq!(hub.http_get(&format!("/draws/{draw_id}.json")).await.0, 404);
    assert_eq!(hub.http_get("/draws/nonsense.json").await.0, 404);

    // A timed-out viewer is refused with the reason.
    let sanctioned = viewer_id(&crowd[11]);
    moderator
        .ack(Command::Timeout {
            viewer_id: sanctioned,
            seconds: 600,
            reason: "spam".into(),
        })
        .await;
    let refused = crowd[11].refused(Command::Enter { draw_id }).await;
    assert_eq!(refused.code, ErrorCode::TimedOut);

    let mut entered = BTreeSet::new();
    for c in crowd.iter_mut().take(11) {
        assert_eq!(c.ack(Command::Enter { draw_id }).await, None);
        entered.insert(viewer_id(c));
    }
    let twice = crowd[0].refused(Command::Enter { draw_id }).await;
    assert_eq!(twice.message, "you have already entered");

    host.ack(Command::InstantWinClose { draw_id }).await;
    let drawn = host
        .wait_event(|e| matches!(e, Event::InstantWinDrawn { .. }))
        .await;
    let Event::InstantWinDrawn {
        seed,
        entrants,
        winners,
        ..
    } = drawn.event
    else {
        unreachable!()
    };
    assert_eq!(entrants, 11);
    let record = fetch_record(&hub, draw_id).await;
    regie::instant_win::verify(&record).expect("the published record verifies");
    assert_eq!(record.commitment, draw.commitment);
    assert_eq!(record.seed, seed);
    assert_eq!(
        record.entrants.iter().cloned().collect::<BTreeSet<_>>(),
        entered
    );
    assert_eq!(record.winners.len(), 3);
    for (w, id) in winners.iter().zip(&record.winners) {
        assert_eq!(&w.viewer_id, id);
        let who = crowd.iter().find(|c| &viewer_id(c) == id).unwrap();
        assert_eq!(
            w.first_name, who.welcome.you.name,
            "announced by first name"
        );
        assert_eq!(
            w.pseudonym,
            regie::hub::identity::assigned_pseudonym(id),
            "and by the pseudonym the chat shows"
        );
    }

    verify_draw_as_entrant(&record, &viewer_id(&crowd[0]));
    redraw_without_the_first_winner(&hub, &mut host, &mut crowd[0], &draw, &winners).await;

    let data = hub.data_dir.clone();
    let dir = hub.stop().await;
    let actions: Vec<(String, String)> = audit_log(&data)
        .into_iter()
        .map(|r| (r.entry.actor_name.clone(), r.entry.action.clone()))
        .filter(|(_, a)| a.contains("instant_win") || a == "redraw")
        .collect();
    assert_eq!(
        actions,
        vec![
            ("Sophie".to_string(), "instant_win_open".to_string()),
            ("Sophie".to_string(), "instant_win_draw".to_string()),
            ("Sophie".to_string(), "redraw".to_string()),
        ]
    );
    drop(dir);
}

/// The real `regie verify-draw`, as a viewer would run it on the published
/// `record`, naming themselves as `entrant`.
fn verify_draw_as_entrant(record: &DrawRecord, entrant: &ViewerId) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("draw.json");
    let json = serde_json::to_vec(record).expect("serialise the record");
    std::fs::write(&path, json).expect("write the record");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_regie"))
        .arg("verify-draw")
        .arg(&path)
        .args(["--entrant", &entrant.0])
        .output()
        .expect("run regie verify-draw");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.starts_with("verified"), "{stdout}");
}

/// A re-draw of `draw` excluding its first winner: a new record with its own
/// commitment, without the excluded; the first record is never edited. The
/// re-draw's view says who kept their prize, who was excluded and why (the
/// reason for staff only: `viewer` gets it blank).
async fn redraw_without_the_first_winner(
    hub: &TestHub,
    host: &mut Client,
    viewer: &mut Client,
    draw: &DrawView,
    winners: &[Winner],
) {
    let draw_id = draw.id;
    let first = &fetch_record(hub, draw_id).await;
    let excluded = first.winners[0].clone();
    let seq = host
        .ack(Command::Redraw {
            draw_id,
            exclude: vec![excluded.clone()],
            reason: "gagnant inéligible".into(),
        })
        .await
        .expect("an event");
    let Event::InstantWinOpened { draw: redraw } = host.event_at(seq).await.event else {
        panic!("expected the re-draw's instant_win_opened")
    };
    assert_eq!(redraw.redraw_of, Some(draw_id));
    assert_ne!(redraw.commitment, draw.commitment);
    let replaces = redraw
        .replaces
        .as_deref()
        .expect("what the re-draw replaced");
    assert_eq!(replaces.excluded, winners[..1]);
    assert_eq!(replaces.kept, winners[1..]);
    assert_eq!(replaces.reason, "gagnant inéligible");
    let seen = viewer
        .wait_event(|e| matches!(e, Event::InstantWinOpened { draw } if draw.id == redraw.id))
        .await;
    let Event::InstantWinOpened { draw: public } = seen.event else {
        unreachable!()
    };
    let public = public.replaces.expect("viewers see who was kept");
    assert_eq!(
        (&public.kept, &public.excluded),
        (&replaces.kept, &replaces.excluded)
    );
    assert_eq!(public.reason, "", "the reason is staff's");
    let second = fetch_record(hub, redraw.id).await;
    regie::instant_win::verify(&second).expect("the re-draw verifies");
    assert_eq!(second.commitment, redraw.commitment);
    assert_eq!(second.redraw_of, Some(draw_id));
    assert!(!second.entrants.contains(&excluded));
    assert!(!second.winners.contains(&excluded));
    assert_eq!(second.winners.len(), 1);
    assert_eq!(
        fetch_record(hub, draw_id).await,
        *first,
        "the first record is never edited"
    );
}

/// The audit log a stopped hub left in `data_dir`.
fn audit_log(data_dir: &Path) -> Vec<AuditRecord> {
    let mut store = SqliteStore::open(data_dir).expect("open the hub's store");
    store
        .open_live(support::hub::LIVE)
        .expect("open the hub's live");
    store
        .audit_log(support::hub::LIVE)
        .expect("read the audit log")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_closes_at_its_deadline_with_nobody_connected() {
    // One game "second" is 20 ms: a 10 s poll lasts 200 ms.
    let hub = TestHub::start_with(|c| c.limits.game_second = Duration::from_millis(20)).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let seq = host
        .ack(poll_open(&["Oui", "Non"], Some(10)))
        .await
        .unwrap();
    let Event::PollOpened { poll } = host.event_at(seq).await.event else {
        panic!()
    };
    let deadline = poll.closes_at.expect("a deadline");
    drop(host);
    // Nobody is connected now (the hub says so), and the poll closes in
    // the store by itself: read there, with no client to wake the hub.
    support::hub::wait_until("the host to be gone", || async {
        hub.metric("regie_connections{role=\"host\"}").await == 0.0
    })
    .await;
    let db = hub.data_dir.join(regie::store::DB_FILE);
    support::hub::wait_until("the poll to close in the store", || async {
        stored_poll_closed_at(&db).is_some()
    })
    .await;
    assert_eq!(
        stored_poll_closed_at(&db),
        Some(deadline),
        "closed at its deadline"
    );
    // Whoever comes next finds it closed already, in the snapshot.
    let staff = hub.staff(StaffRole::Admin, "Ana").await;
    let snap = staff.welcome.snapshot.clone().unwrap();
    assert_eq!(snap.polls[0].closed_at, Some(deadline));
    hub.stop().await;
}

/// The first poll's `closed_at` as the hub's store holds it, read through a
/// connection of our own while the hub runs.
fn stored_poll_closed_at(db: &Path) -> Option<i64> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the hub's database read-only");
    conn.query_row("SELECT closed_at FROM polls ORDER BY id LIMIT 1", [], |r| {
        r.get(0)
    })
    .expect("the poll is stored")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_and_draws_survive_restarts_and_close_after_downtime() {
    let dir = tempfile::tempdir().unwrap();
    // Every hub of this test runs on one clock that stands still until the
    // test moves it: the windows below stay open for as long as the votes
    // and entries take, however loaded the machine.
    let clock = ManualClock::new();

    // 1. A poll open across a restart keeps its votes, and its voters.
    Box::pin(open_a_poll_with_three_votes_then_stop(dir.path(), &clock)).await;

    let hub = TestHub::start_in(dir.path(), on(&clock)).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let snap = host.welcome.snapshot.clone().unwrap();
    assert_eq!(snap.polls.len(), 1);
    assert_eq!(
        snap.polls[0].counts,
        vec![1, 2],
        "the reconnecting console's tally"
    );
    assert_eq!(snap.polls[0].closed_at, None);
    let mut back = hub.viewer_with_key("V1", "device-key-01-abcdefgh").await;
    let again = back
        .refused(Command::Vote {
            poll_id: 1,
            option: 0,
        })
        .await;
    assert_eq!(again.message, "you already voted in this poll");
    let mut fresh = hub.viewer("V9").await;
    fresh
        .ack(Command::Vote {
            poll_id: 1,
            option: 0,
        })
        .await;
    host.ack(Command::PollClose { poll_id: 1 }).await;
    let closed = host
        .wait_event(|e| matches!(e, Event::PollClosed { .. }))
        .await;
    assert!(
        matches!(closed.event, Event::PollClosed { ref counts, voters: 4, .. } if counts == &vec![2, 2])
    );

    // 2. A poll and a draw whose windows end while the hub is down.
    let seq = host
        .ack(poll_open(&["Oui", "Non"], Some(10)))
        .await
        .unwrap();
    let Event::PollOpened { poll } = host.event_at(seq).await.event else {
        panic!()
    };
    let seq = host
        .ack(Command::InstantWinOpen {
            prize: "Sac".into(),
            winners: 2,
            entry_secs: 10,
            rules: String::new(),
        })
        .await
        .unwrap();
    let Event::InstantWinOpened { draw } = host.event_at(seq).await.event else {
        panic!()
    };
    let mut entered = BTreeSet::new();
    for v in [&mut back, &mut fresh] {
        v.ack(Command::Vote {
            poll_id: poll.id,
            option: 1,
        })
        .await;
        v.ack(Command::Enter { draw_id: draw.id }).await;
        entered.insert(viewer_id(v));
    }
    drop((back, fresh, host));
    hub.stop().await;
    // The hub is down past both deadlines: a minute after the later one.
    let poll_deadline = poll.closes_at.unwrap();
    clock.set(poll_deadline.max(draw.closes_at) + 60_000);

    check_closed_at_their_deadlines(dir.path(), &clock, &poll, &draw, &entered).await;

    // The hub's own closes are audited as the hub.
    let log = audit_log(dir.path());
    let by_hub: Vec<&str> = log
        .iter()
        .filter(|r| r.entry.actor_name == "hub")
        .map(|r| r.entry.action.as_str())
        .collect();
    assert_eq!(by_hub, vec!["poll_close", "instant_win_draw"]);
}

/// A hub on `clock`.
fn on(clock: &ManualClock) -> impl FnOnce(&mut HubConfig) {
    let clock = clock.clock();
    move |config| config.clock = clock
}

/// A hub on `data_dir` opens a poll (Rouge, Bleu), three viewers with device
/// keys vote Rouge, Bleu, Bleu, and the hub stops.
async fn open_a_poll_with_three_votes_then_stop(data_dir: &Path, clock: &ManualClock) {
    let hub = TestHub::start_in(data_dir, on(clock)).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    host.ack(poll_open(&["Rouge", "Bleu"], None)).await;
    let mut voters = Vec::new();
    for (i, option) in [0usize, 1, 1].into_iter().enumerate() {
        let mut v = hub
            .viewer_with_key(&format!("V{i}"), &format!("device-key-{i:02}-abcdefgh"))
            .await;
        v.ack(Command::Vote { poll_id: 1, option }).await;
        voters.push(v);
    }
    drop(voters);
    drop(host);
    hub.stop().await;
}

/// A hub restarted on `data_dir` after `poll` and `draw` ended while it was
/// down (by `clock`): the poll closed at its deadline with both votes, the
/// draw was drawn at start-up from the committed seed among `entered`.
async fn check_closed_at_their_deadlines(
    data_dir: &Path,
    clock: &ManualClock,
    poll: &PollView,
    draw: &DrawView,
    entered: &BTreeSet<ViewerId>,
) {
    let hub = TestHub::start_in(data_dir, on(clock)).await;
    let staff = hub.staff(StaffRole::Admin, "Ana").await;
    let snap = staff
        .welcome
        .snapshot
        .clone()
        .expect("staff get a snapshot");
    let p = snap
        .polls
        .iter()
        .find(|p| p.poll.id == poll.id)
        .expect("the poll is in the snapshot");
    let deadline = poll.closes_at.expect("the poll has a deadline");
    assert_eq!(p.closed_at, Some(deadline), "closed at its deadline");
    assert_eq!(p.counts, vec![0, 2]);
    let d = snap
        .instant_wins
        .iter()
        .find(|d| d.draw.id == draw.id)
        .expect("the draw is in the snapshot");
    let result = d.result.as_ref().expect("drawn at start-up");
    assert_eq!(result.drawn_at, draw.closes_at);
    assert_eq!(result.winners.len(), 2);
    let record = fetch_record(&hub, draw.id).await;
    regie::instant_win::verify(&record).expect("the record verifies");
    assert_eq!(
        record.commitment, draw.commitment,
        "the seed committed to before the restart"
    );
    assert_eq!(
        record.entrants.iter().cloned().collect::<BTreeSet<_>>(),
        *entered
    );
    let names: BTreeSet<&str> = result
        .winners
        .iter()
        .map(|w| w.first_name.as_str())
        .collect();
    assert_eq!(names, BTreeSet::from(["V1", "V9"]));
    for w in &result.winners {
        assert_eq!(
            w.pseudonym,
            regie::hub::identity::assigned_pseudonym(&w.viewer_id),
            "a draw finished after a restart keeps the pseudonym"
        );
    }
    drop(staff);
    hub.stop().await;
}
