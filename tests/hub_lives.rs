//! Many lives on one hub, each with a lifecycle, on the real hub
//! (127.0.0.1:0): each live is its own stream (its own epoch, sequence and
//! fan-out), a `hello` names the live, and `live_start`/`live_end` move it
//! forward as events in its stream. The retention clock of an ended live
//! runs from its end (store level, on the clock the test chooses).

mod support;

use regie::protocol::{
    Command, ErrorCode, Event, LiveInfo, LiveState, Millis, Role, ServerFrame, StaffRole,
};
use regie::store::{Commit, RetentionPolicy, SqliteStore, Store};
use support::client::{self, Client, text_of};
use support::hub::TestHub;
use support::tokens;

/// A second live of the test hub, announced by the admin.
const NIGHT: &str = "night-show";

fn create(name: &str, title: &str) -> Command {
    Command::LiveCreate {
        name: name.into(),
        title: title.into(),
        starts_at: Some(1_900_000_000_000),
    }
}

async fn staff_in(hub: &TestHub, live: &str, role: StaffRole, name: &str) -> Client {
    let token = tokens::token(&hub.key, role, name, live);
    hub.join(client::staff_hello(live, &token)).await
}

async fn viewer_in(hub: &TestHub, live: &str, name: &str) -> Client {
    hub.join(client::viewer_hello(live, name)).await
}

/// An admin of the hub's first live announces `name`.
async fn announce(hub: &TestHub, name: &str, title: &str) {
    let mut admin = hub.staff(StaffRole::Admin, "Nadia").await;
    admin.ack(create(name, title)).await;
}

fn live_state(e: &Event) -> Option<LiveState> {
    match e {
        Event::LiveState { state } => Some(*state),
        _ => None,
    }
}

fn welcome_state(c: &Client) -> LiveInfo {
    c.welcome
        .live_info
        .clone()
        .expect("the welcome says where the live is")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_lives_on_one_hub_do_not_see_each_others_events() {
    let hub = TestHub::start().await;
    announce(&hub, NIGHT, "Late night").await;

    let mut in_show = hub.viewer("Julie").await;
    let mut in_night = viewer_in(&hub, NIGHT, "Karim").await;
    assert_eq!(in_night.welcome.live, NIGHT);
    assert_ne!(
        in_night.welcome.epoch, in_show.welcome.epoch,
        "each live is its own stream"
    );
    let night_head = in_night.welcome.seq;
    let show_head = in_show.welcome.seq;

    // Night's message reaches night's viewers...
    let mut night_speaker = viewer_in(&hub, NIGHT, "Léa").await;
    let night_seq = night_speaker.say("zq-only-for-the-night").await;
    assert_eq!(night_seq, night_head + 1, "night numbers its own events");
    let got = in_night.event_at(night_seq).await;
    assert_eq!(text_of(&got.event), Some("zq-only-for-the-night"));

    // ...and the show's stream goes on from its own head, without it.
    let show_seq = in_show.say("zq-only-for-the-show").await;
    assert_eq!(show_seq, show_head + 1, "the show's sequence is untouched");
    in_show.event_at(show_seq).await;
    assert!(
        in_show
            .events
            .iter()
            .all(|e| text_of(&e.event) != Some("zq-only-for-the-night")),
        "a viewer of the show got the night's message: {:?}",
        in_show.events
    );
    // The night's viewer never gets the show's message either: the next
    // event it reads is the night's own next one.
    let marker = night_speaker.say("zq-night-marker").await;
    let next = in_night.event_at(marker).await;
    assert_eq!(text_of(&next.event), Some("zq-night-marker"));
    assert!(
        in_night
            .events
            .iter()
            .all(|e| text_of(&e.event) != Some("zq-only-for-the-show")),
        "{:?}",
        in_night.events
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_for_a_live_the_hub_does_not_hold_is_refused_by_name() {
    let hub = TestHub::start().await;
    let closed = hub
        .try_join(client::viewer_hello("no-such-live", "Julie"))
        .await
        .err()
        .expect("no such live");
    assert_eq!(closed.error_code(), Some(ErrorCode::WrongLive));
    assert!(
        closed.message().contains("no-such-live"),
        "{}",
        closed.message()
    );
    // Not a name at all: refused the same way, before any store lookup.
    let closed = hub
        .try_join(client::viewer_hello("../*", "Julie"))
        .await
        .err()
        .expect("not a live name");
    assert_eq!(closed.error_code(), Some(ErrorCode::WrongLive));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_moves_forward_as_events_and_an_ended_live_is_closed_to_viewers() {
    let hub = TestHub::start().await;
    announce(&hub, NIGHT, "Late night").await;

    // The waiting room: viewers join a scheduled live and may chat.
    let mut early = viewer_in(&hub, NIGHT, "Julie").await;
    let info = welcome_state(&early);
    assert_eq!(
        (info.state, info.title.as_str(), info.starts_at),
        (LiveState::Scheduled, "Late night", Some(1_900_000_000_000))
    );
    let before = early.position();
    early.say("zq-waiting").await;

    let mut host = staff_in(&hub, NIGHT, StaffRole::Host, "Sophie").await;
    let started = host.ack(Command::LiveStart).await.expect("an event");
    let e = early.event_at(started).await;
    assert_eq!(live_state(&e.event), Some(LiveState::OnAir));

    // A poll and an instant win are open when the live ends.
    host.ack(Command::PollOpen {
        question: "Encore ?".into(),
        options: vec!["Oui".into(), "Non".into()],
        duration_secs: None,
    })
    .await;
    early
        .ack(Command::Vote {
            poll_id: 1,
            option: 0,
        })
        .await;
    host.ack(Command::InstantWinOpen {
        prize: "Un mug".into(),
        winners: 1,
        entry_secs: 3600,
        rules: "règlement".into(),
    })
    .await;
    early.ack(Command::Enter { draw_id: 1 }).await;

    let ended = host.ack(Command::LiveEnd).await.expect("an event");
    let e = early.event_at(ended).await;
    assert_eq!(live_state(&e.event), Some(LiveState::Ended));
    let closed = early
        .wait_event(|e| matches!(e, Event::PollClosed { poll_id: 1, .. }))
        .await;
    let Event::PollClosed { counts, .. } = closed.event else {
        unreachable!()
    };
    assert_eq!(counts, vec![1, 0], "the poll closed with the votes cast");
    let drawn = early
        .wait_event(|e| matches!(e, Event::InstantWinDrawn { draw_id: 1, .. }))
        .await;
    let Event::InstantWinDrawn { winners, .. } = drawn.event else {
        unreachable!()
    };
    assert_eq!(
        winners.len(),
        1,
        "the only entrant wins the draw at the end"
    );

    // The chat is closed for viewers, with a code that says why; staff
    // may still post (a closing word).
    let refused = early
        .refused(Command::Say {
            text: "zq-too-late".into(),
            question: false,
            announcement: false,
        })
        .await;
    assert_eq!(refused.code, ErrorCode::LiveEnded);
    assert!(!refused.temporary);
    host.say("Merci à tous").await;

    // Only forward.
    let again = host.refused(Command::LiveStart).await;
    assert_eq!(again.code, ErrorCode::Invalid);
    assert!(again.message.contains("ended"), "{}", again.message);
    assert_eq!(
        host.refused(Command::LiveEnd).await.code,
        ErrorCode::Invalid
    );

    // A viewer who resumes from before the start gets both moves, in order.
    let mut hello = client::viewer_hello(NIGHT, "Julie");
    hello.resume = Some(before);
    let back = hub.join(hello).await;
    let mut back = back;
    let head = host.say("zq-after-resume").await;
    back.event_at(head).await;
    let moves: Vec<LiveState> = back
        .events
        .iter()
        .filter_map(|e| live_state(&e.event))
        .collect();
    assert_eq!(moves, vec![LiveState::OnAir, LiveState::Ended]);

    // A fresh join reads the state and times in its welcome.
    let late = viewer_in(&hub, NIGHT, "Tom").await;
    let info = welcome_state(&late);
    assert_eq!(info.state, LiveState::Ended);
    assert_eq!(info.started_at, Some(e_at(&early, started)));
    assert_eq!(info.ended_at, Some(e_at(&early, ended)));
    hub.stop().await;
}

/// When the event at `seq` happened, as `c` received it.
fn e_at(c: &Client, seq: u64) -> Millis {
    c.events
        .iter()
        .find(|e| e.seq == seq)
        .map(|e| e.at)
        .expect("the client read that event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_or_a_moderator_cannot_end_a_live_and_only_an_admin_creates_one() {
    let hub = TestHub::start().await;
    let mut viewer = hub.viewer("Julie").await;
    let mut moderator = hub.staff(StaffRole::Moderator, "Karim").await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    for c in [&mut viewer, &mut moderator] {
        assert_eq!(c.refused(Command::LiveEnd).await.code, ErrorCode::Forbidden);
        assert_eq!(
            c.refused(Command::LiveStart).await.code,
            ErrorCode::Forbidden
        );
    }
    assert_eq!(
        host.refused(create("another", "x")).await.code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        viewer.refused(Command::LiveList).await.code,
        ErrorCode::Forbidden
    );
    // Nothing moved: the live is still on air, and viewers still chat.
    let fresh = hub.viewer("Tom").await;
    assert_eq!(welcome_state(&fresh).state, LiveState::OnAir);
    viewer.say("zq-still-on-air").await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_list_answers_the_sender_with_every_live_and_a_taken_name_is_refused() {
    let hub = TestHub::start().await;
    let mut admin = hub.staff(StaffRole::Admin, "Nadia").await;
    admin.ack(create(NIGHT, "Late \u{1b}[31mnight")).await;
    let taken = admin.refused(create(NIGHT, "again")).await;
    assert_eq!(taken.code, ErrorCode::Invalid);
    assert!(
        taken.message.contains("already exists"),
        "{}",
        taken.message
    );
    assert_eq!(
        admin.refused(create("*", "x")).await.code,
        ErrorCode::Invalid
    );

    let mut moderator = hub.staff(StaffRole::Moderator, "Karim").await;
    let ServerFrame::Lives { lives, .. } = moderator.command(Command::LiveList).await else {
        panic!("live_list is answered with a lives frame");
    };
    let summary: Vec<(&str, LiveState)> =
        lives.iter().map(|l| (l.name.as_str(), l.state)).collect();
    assert_eq!(
        summary,
        vec![
            (hub.live.as_str(), LiveState::OnAir),
            (NIGHT, LiveState::Scheduled)
        ]
    );
    let night = &lives[1];
    assert!(!night.title.contains('\u{1b}'), "{:?}", night.title);
    assert!(night.title.contains("night"), "{:?}", night.title);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_wide_token_joins_every_live_and_a_bound_one_stays_bound() {
    let hub = TestHub::start().await;
    announce(&hub, NIGHT, "Late night").await;
    let wide = tokens::token(
        &hub.key,
        StaffRole::Moderator,
        "Karim",
        regie::auth::ANY_LIVE,
    );
    for live in [hub.live.as_str(), NIGHT] {
        let c = hub.join(client::staff_hello(live, &wide)).await;
        assert_eq!(c.welcome.live, live);
        assert_eq!(c.welcome.you.role, Role::Staff(StaffRole::Moderator));
    }
    let bound = hub.token(StaffRole::Moderator, "Karim");
    let closed = hub
        .try_join(client::staff_hello(NIGHT, &bound))
        .await
        .err()
        .expect("a token for the show is no token for the night");
    assert_eq!(closed.error_code(), Some(ErrorCode::WrongLive));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_keeps_its_state_across_a_restart() {
    let port = support::hub::KeptPort::bind();
    let hub = TestHub::start_on(&port, "show", |_| {}).await;
    announce(&hub, NIGHT, "Late night").await;
    let mut host = staff_in(&hub, NIGHT, StaffRole::Host, "Sophie").await;
    host.ack(Command::LiveStart).await;
    host.ack(Command::LiveEnd).await;
    drop(host);
    let dir = hub.stop().await.expect("the hub's temp dir");
    let hub = TestHub::restart(&port, "show", dir, |_| {}).await;
    let mut viewer = viewer_in(&hub, NIGHT, "Julie").await;
    assert_eq!(welcome_state(&viewer).state, LiveState::Ended);
    let refused = viewer
        .refused(Command::Say {
            text: "zq-after-restart".into(),
            question: false,
            announcement: false,
        })
        .await;
    assert_eq!(refused.code, ErrorCode::LiveEnded);
    hub.stop().await;
}

const DAY: Millis = 24 * 3600 * 1000;

/// The chat period of an ended live counts from its end; a live still on
/// air keeps its chat, however old.
#[test]
fn the_chat_retention_clock_runs_from_the_end_of_the_live() {
    use support::store::{Sequencer, T0, viewer_message};
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut store = SqliteStore::open(dir.path()).expect("the store");
    let head = store.open_live("show").expect("the live");
    let mut seq = Sequencer::new(&head);
    seq.say(
        &mut store,
        &viewer_message(1, 1, "zq-chat-of-the-show", false),
    );
    let policy = RetentionPolicy {
        chat: std::time::Duration::from_secs(24 * 3600),
        ..RetentionPolicy::default()
    };
    let messages = |store: &mut SqliteStore| {
        store
            .snapshot("show", 100)
            .expect("the snapshot")
            .recent
            .len()
    };

    // Three days on, still on air: the chat stays.
    let report = store.sweep("show", &policy, T0 + 3 * DAY).expect("a sweep");
    assert_eq!((report.messages, messages(&mut store)), (0, 1));

    // The live ends on day 3; half a day later its chat is still kept.
    let mut end = seq.frame(Event::LiveState {
        state: LiveState::Ended,
    });
    end.at = T0 + 3 * DAY;
    store
        .commit("show", &[Commit::event(end)])
        .expect("the end");
    let report = store
        .sweep("show", &policy, T0 + 3 * DAY + DAY / 2)
        .expect("a sweep");
    assert_eq!((report.messages, messages(&mut store)), (0, 1));

    // A chat period after the end, it goes.
    let report = store
        .sweep("show", &policy, T0 + 4 * DAY + 1)
        .expect("a sweep");
    assert_eq!((report.messages, messages(&mut store)), (1, 0));
    assert!(!support::store::on_disk(dir.path(), "zq-chat-of-the-show"));
    let info = store.live_info("show").expect("the live").expect("stored");
    assert_eq!(
        (info.state, info.ended_at),
        (LiveState::Ended, Some(T0 + 3 * DAY))
    );
}

/// The hub's one sweeper also sweeps the lives nobody runs now: an ended
/// live, not joined since the restart, loses its chat a chat period after
/// its end, on the hub's clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_sweeps_an_ended_live_that_is_not_running() {
    let clock = support::hub::ManualClock::new();
    let t0 = clock.now();
    let tweak = |c: &mut regie::hub::HubConfig| {
        c.clock = clock.clock();
        c.retention.chat = std::time::Duration::from_secs(24 * 3600);
        c.retention.sweep_every = std::time::Duration::from_millis(20);
    };
    let port = support::hub::KeptPort::bind();
    let hub = TestHub::start_on(&port, "show", tweak).await;
    announce(&hub, NIGHT, "Late night").await;
    let mut viewer = viewer_in(&hub, NIGHT, "Julie").await;
    viewer.say("zq-night-chat-to-sweep").await;
    let mut host = staff_in(&hub, NIGHT, StaffRole::Host, "Sophie").await;
    host.ack(Command::LiveEnd).await;
    drop((viewer, host));
    let dir = hub.stop().await.expect("the hub's temp dir");

    let hub = TestHub::restart(&port, "show", dir, tweak).await;
    let count = || {
        let db = rusqlite::Connection::open(hub.data_dir.join(regie::store::DB_FILE))
            .expect("the store");
        db.query_row(
            "SELECT count(*) FROM messages WHERE text = 'zq-night-chat-to-sweep'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .expect("a count")
    };
    assert_eq!(count(), 1, "a live that just ended keeps its chat");
    clock.set(t0 + DAY + 60_000);
    support::hub::wait_until("the ended live's chat to be swept", || async {
        count() == 0
    })
    .await;
    hub.stop().await;
}
