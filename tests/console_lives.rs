//! The Lives popup in the console (issue 10): `O` lists the hub's lives
//! with their state and times (titles sanitised), Enter switches the
//! console to another live without restarting, and the start and end keys
//! act on the live the console is in (ending asks to confirm). The live's
//! state is in the status bar. On an ended live an admin texts a
//! follow-up SMS to a segment: the hub's counts first, then a confirmation;
//! the status bar shows the SMS counts the hub pushes. Snapshots at 80×24
//! and 160×48; the switch end to end on a real hub.

mod support;

use crossterm::event::KeyCode;
use regie::console::keymap::Keymap;
use regie::console::net::{self, NetConfig, NetEvent, NetHandle};
use regie::console::state::{Console, Effect, Msg, Popup, Session, update};
use regie::protocol::{
    Command, Event, LiveInfo, LiveState, SegmentCount, ServerFrame, SmsCounts, SmsProgress,
    SmsSegment, StaffRole,
};
use support::client;
use support::console::*;
use support::hub::TestHub;
use support::tokens;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn info(name: &str, title: &str, state: LiveState) -> LiveInfo {
    LiveInfo {
        name: name.into(),
        title: title.into(),
        state,
        starts_at: Some(NOON + 8 * 60 * MIN),
        started_at: (state != LiveState::Scheduled).then_some(NOON - 60 * MIN),
        ended_at: (state == LiveState::Ended).then_some(NOON - 10 * MIN),
    }
}

fn lives() -> Vec<LiveInfo> {
    vec![
        info("hier-soir", "Les nouveautés d'hier", LiveState::Ended),
        info("spring-show", "Le printemps", LiveState::OnAir),
        info(
            "soldes",
            "\u{1b}[31mSOLDES\u{1b}[0m \u{202e}evil\u{7} d'hiver",
            LiveState::Scheduled,
        ),
    ]
}

/// The fixture's show, joined with the live's state in the welcome.
fn on_air(role: StaffRole) -> Console {
    let mut c = show(role);
    let ServerFrame::Welcome(mut w) = resumed_welcome(role, "Claire", 30, 3) else {
        unreachable!()
    };
    w.live_info = Some(info("spring-show", "Le printemps", LiveState::OnAir));
    feed(&mut c, [Msg::Frame(ServerFrame::Welcome(w))]);
    c
}

/// Presses `O` and answers the popup's `live_list` with [`lives`].
fn opened(c: &mut Console) {
    let effects = feed(c, [key('O')]);
    let [Effect::Send(asked)] = effects.as_slice() else {
        panic!("one request, got {effects:?}")
    };
    assert_eq!(asked.command, Command::LiveList);
    assert!(render(c, 160, 48).contains("loading the lives"));
    feed(
        c,
        [Msg::Frame(ServerFrame::Lives {
            id: asked.id.clone(),
            lives: lives(),
        })],
    );
    assert!(c.pending.is_empty(), "answered");
}

fn note(c: &Console) -> String {
    c.note.as_ref().map(|n| n.text.clone()).unwrap_or_default()
}

#[test]
fn the_lives_popup_lists_state_and_times_with_sanitised_titles() {
    let mut c = on_air(StaffRole::Host);
    opened(&mut c);
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        for needle in [
            "hier-soir",
            "ended",
            "spring-show",
            "on_air",
            "soldes",
            "scheduled",
        ] {
            assert!(screen.contains(needle), "{needle:?} at {w}x{h}:\n{screen}");
        }
        assert!(screen.contains("▶ spring-show"), "{w}x{h}:\n{screen}");
        for hostile in ['\u{1b}', '\u{202e}', '\u{7}'] {
            assert!(!screen.contains(hostile), "{hostile:?} at {w}x{h}");
        }
        insta::assert_snapshot!(format!("lives_{w}x{h}"), screen);
    }
    let wide = render(&mut c, 160, 48);
    assert!(wide.contains("starts 2026-"), "{wide}");
    assert!(wide.contains("d'hiver"), "{wide}");
    feed(&mut c, [code(KeyCode::Esc)]);
    assert!(c.popup.is_none());
    // The status bar says where the live is.
    let bottom = render(&mut c, 160, 48);
    assert!(bottom.contains(" on_air "), "{bottom}");
}

#[test]
fn start_and_end_act_on_the_current_live_only_forward_and_end_asks_first() {
    let mut c = on_air(StaffRole::Host);
    opened(&mut c);
    // Another live: switch to it first.
    feed(&mut c, [key('j')]);
    let effects = feed(&mut c, [key('e')]);
    assert!(commands(&effects).is_empty());
    assert!(note(&c).contains("switch to soldes first"), "{}", note(&c));
    // The current live is on air: it cannot start again, it can end.
    feed(&mut c, [key('k')]);
    let effects = feed(&mut c, [key('s')]);
    assert!(commands(&effects).is_empty());
    assert!(note(&c).contains("only moves forward"), "{}", note(&c));
    let effects = feed(&mut c, [key('e')]);
    assert!(commands(&effects).is_empty(), "ending asks first");
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("End live spring-show now?"), "{screen}");
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(commands(&effects), vec![Command::LiveEnd]);

    // The event moves the status bar along.
    feed(
        &mut c,
        [Msg::Frame(event(
            31,
            NOON,
            Event::LiveState {
                state: LiveState::Ended,
            },
        ))],
    );
    assert!(render(&mut c, 160, 48).contains(" ended "));
    assert_eq!(
        c.live_info.as_ref().map(|l| (l.state, l.ended_at)),
        Some((LiveState::Ended, Some(NOON)))
    );
}

#[test]
fn a_moderator_lists_and_switches_but_gets_no_start_or_end_key() {
    let mut c = on_air(StaffRole::Moderator);
    opened(&mut c);
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("switch"), "{screen}");
    assert!(!screen.contains(" end "), "{screen}");
    let effects = feed(&mut c, [key('e')]);
    assert!(commands(&effects).is_empty());
    assert!(note(&c).contains("may not start or end"), "{}", note(&c));
}

#[test]
fn enter_switches_and_clears_what_the_console_held_of_the_old_live() {
    let mut c = on_air(StaffRole::Host);
    assert!(!c.feed.is_empty(), "the fixture's show has chat");
    opened(&mut c);
    feed(&mut c, [key('j')]);
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert!(
        matches!(effects.as_slice(), [Effect::SwitchLive(l)] if l == "soldes"),
        "{effects:?}"
    );
    assert!(c.popup.is_none());
    assert_eq!(c.session.live, "soldes");
    assert!(c.feed.is_empty() && c.held.is_empty() && c.activity.is_empty());
    assert!(c.live_info.is_none() && c.epoch.is_none());
}

/// The report the hub sends for `hier-soir`: final, a few minutes
/// withheld (below k), commerce still within its attribution window.
fn a_report() -> regie::report::Report {
    let mut r: regie::report::Report = serde_json::from_str(
        r#"{"schema":1,"live":"hier-soir","status":{"state":"final"},"k":5,
        "started_at":1750000000000,"ended_at":1750003600000,"length_ms":3600000,
        "audience":{"peak_concurrent":48,"average_concurrent":31.25,"unique_viewers":60,
          "total_watch_ms":112500000,"average_watch_ms":1875000},
        "chat":{"messages":312,"chatters":30,"engagement":0.5,"questions_asked":45,
          "questions_answered":40,"answer_delay_p50_ms":42000,"answer_delay_p90_ms":180000},
        "moderation":{"actions":14,"by_action":{"held":9},"by_rule":{"rule 1":9}},
        "games":{"poll_votes":103,"polls":{},"instant_win_entries":null,"instant_wins":{}},
        "commerce":{"attribution":"a rule","status":{"state":"pending","final_at":1752595660000},
          "product_views":210,"add_to_cart_viewers":25,"carts":61,"orders":12,
          "revenue":{"EUR":123400},"average_order_value":10283,"conversion":0.2},
        "timeline":[]}"#,
    )
    .expect("a report");
    r.timeline = (0..60)
        .map(|m| regie::report::Minute {
            minute: m,
            viewers: (m % 17 != 5).then_some(10 + (m * 7) % 40),
            messages: (m % 13 != 3).then_some((m * 5) % 23),
            questions: None,
            add_to_cart: None,
        })
        .collect();
    r
}

/// `B` on the selected live, and the one command it sends.
fn ask_report(c: &mut Console) -> regie::protocol::CommandId {
    let effects = feed(c, [key('B')]);
    let [Effect::Send(asked)] = effects.as_slice() else {
        panic!("one request, got {effects:?}")
    };
    assert_eq!(
        asked.command,
        Command::Report {
            live: "hier-soir".into()
        }
    );
    asked.id.clone()
}

#[test]
fn the_report_of_an_ended_live_opens_from_the_lives_popup_with_sparklines() {
    let mut c = on_air(StaffRole::Host);
    opened(&mut c);
    assert!(
        !render(&mut c, 160, 48).contains("B report"),
        "not for a live on air"
    );
    // The ended live is above the current one; the footer says the key.
    feed(&mut c, [key('k')]);
    assert!(render(&mut c, 160, 48).contains("B report"));
    let id = ask_report(&mut c);
    assert!(render(&mut c, 160, 48).contains("computing the report"));
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Report {
            id,
            report: Box::new(a_report()),
        })],
    );
    assert!(c.pending.is_empty(), "answered");
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(screen.contains("Report · hier-soir"), "{w}x{h}:\n{screen}");
        assert!(screen.contains("final"), "{w}x{h}:\n{screen}");
        // Sparkline bars, and a gap for a withheld minute.
        assert!(screen.contains('█'), "{w}x{h}:\n{screen}");
        insta::assert_snapshot!(format!("report_{w}x{h}"), screen);
    }
    let wide = render(&mut c, 160, 48);
    assert!(
        wide.contains("orders count until 2025-07-15 16:07"),
        "{wide}"
    );
    assert!(
        wide.contains("12 orders") && wide.contains("EUR 1234.00"),
        "{wide}"
    );
    assert!(wide.contains("<k instant-win entries"), "{wide}");
    feed(&mut c, [code(KeyCode::Esc)]);
    assert!(c.popup.is_none());
}

#[test]
fn the_report_key_wants_an_ended_live_a_role_that_may_read_it_and_says_pending() {
    // The current live is on air: no report yet.
    let mut c = on_air(StaffRole::Host);
    opened(&mut c);
    let effects = feed(&mut c, [key('B')]);
    assert!(commands(&effects).is_empty());
    assert!(note(&c).contains("once it has ended"), "{}", note(&c));

    // A report still pending says when it is final; a refusal says why.
    feed(&mut c, [key('k')]);
    let id = ask_report(&mut c);
    let mut pending = a_report();
    pending.status = regie::report::Status::Pending {
        final_at: Some(1_750_003_660_000),
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Report {
            id,
            report: Box::new(pending),
        })],
    );
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("pending: final at 2025-06-15"), "{screen}");
    feed(&mut c, [code(KeyCode::Esc)]);
    opened(&mut c);
    feed(&mut c, [key('k')]);
    let id = ask_report(&mut c);
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Error(
            regie::protocol::ErrorFrame::new(
                Some(id),
                regie::protocol::ErrorCode::Internal,
                "the hub could not compute the report; try again",
            ),
        ))],
    );
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("The hub sent no report"), "{screen}");
    assert!(c.pending.is_empty());

    // A moderator gets no report key.
    let mut m = on_air(StaffRole::Moderator);
    opened(&mut m);
    feed(&mut m, [key('k')]);
    assert!(!render(&mut m, 160, 48).contains("B report"));
    let effects = feed(&mut m, [key('B')]);
    assert!(commands(&effects).is_empty());
    assert!(
        note(&m).contains("may not read a live's report"),
        "{}",
        note(&m)
    );
}

/// A console on the real hub, with a token of the test's choice.
async fn console(hub: &TestHub, token: String) -> (Console, NetHandle) {
    let config = NetConfig {
        url: hub.url.clone(),
        live: hub.live.clone(),
        token,
        tls: regie::tls::ClientTls::default(),
    };
    let first = net::connect(&config, None).await.expect("console connects");
    let handle = net::spawn(config, first);
    let session = Session {
        role: StaffRole::Moderator,
        name: String::new(),
        live: String::new(),
    };
    let mut state = Console::new(session, Keymap::default(), 1_000, "lives");
    update(&mut state, Msg::Tick(regie::now_millis()));
    (state, handle)
}

fn carry_out(handle: &NetHandle, effects: Vec<Effect>) {
    for effect in effects {
        match effect {
            Effect::Send(frame) => handle.commands.send(frame).expect("network task alive"),
            Effect::SwitchLive(live) => handle.switch.send(live).expect("network task alive"),
            Effect::Quit | Effect::SaveExport(_) | Effect::Notify(_) => {}
        }
    }
}

/// Feeds the hub's frames (and their effects) until `done`; bounded.
async fn pump_until(
    state: &mut Console,
    handle: &mut NetHandle,
    what: &str,
    done: impl Fn(&Console) -> bool,
) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done(state) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let ev = tokio::time::timeout(left, handle.events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("network task alive");
        let effects = match ev {
            NetEvent::Frame(frame) => update(state, Msg::Frame(frame)),
            NetEvent::Status(status) => update(state, Msg::Connection(status)),
            NetEvent::Fatal(f) => panic!("fatal: {f}"),
        };
        carry_out(handle, effects);
    }
}

fn in_feed(c: &Console, text: &str) -> bool {
    c.feed
        .view_iter()
        .filter_map(|e| e.message())
        .any(|m| m.text.contains(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_switches_lives_without_restarting_and_only_sees_the_new_one() {
    let hub = TestHub::start().await;
    let mut admin = hub.staff(StaffRole::Admin, "Nadia").await;
    admin
        .ack(Command::LiveCreate {
            name: "nuit".into(),
            title: "La nuit".into(),
            starts_at: None,
        })
        .await;
    let wide = tokens::token(
        &hub.key,
        StaffRole::Moderator,
        "Karim",
        regie::auth::ANY_LIVE,
    );
    let (mut c, mut net) = console(&hub, wide).await;
    pump_until(&mut c, &mut net, "the show's welcome", |c| {
        c.live_info.as_ref().is_some_and(|l| l.name == hub.live)
    })
    .await;

    carry_out(&net, update(&mut c, key('O')));
    pump_until(
        &mut c,
        &mut net,
        "the lives",
        |c| matches!(&c.popup, Some(Popup::Lives(v)) if v.lives.is_some()),
    )
    .await;
    carry_out(&net, update(&mut c, key('j')));
    carry_out(&net, update(&mut c, code(KeyCode::Enter)));
    pump_until(&mut c, &mut net, "the night's welcome", |c| {
        c.live_info.as_ref().is_some_and(|l| l.name == "nuit")
    })
    .await;
    assert_eq!(
        c.live_info.as_ref().map(|l| l.state),
        Some(LiveState::Scheduled)
    );

    // The show's chat does not reach the console now; the night's does.
    let mut in_show = hub.viewer("Julie").await;
    in_show.say("zq-said-in-the-show").await;
    let mut in_night = hub.join(client::viewer_hello("nuit", "Léa")).await;
    in_night.say("zq-said-in-the-night").await;
    pump_until(&mut c, &mut net, "the night's message", |c| {
        in_feed(c, "zq-said-in-the-night")
    })
    .await;
    assert!(!in_feed(&c, "zq-said-in-the-show"));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_bound_token_cannot_switch_and_the_console_stays_in_its_live() {
    let hub = TestHub::start().await;
    let mut admin = hub.staff(StaffRole::Admin, "Nadia").await;
    admin
        .ack(Command::LiveCreate {
            name: "nuit".into(),
            title: String::new(),
            starts_at: None,
        })
        .await;
    let bound = hub.token(StaffRole::Moderator, "Karim");
    let (mut c, mut net) = console(&hub, bound).await;
    pump_until(&mut c, &mut net, "the show's welcome", |c| {
        c.live_info.is_some()
    })
    .await;
    carry_out(&net, update(&mut c, key('O')));
    pump_until(
        &mut c,
        &mut net,
        "the lives",
        |c| matches!(&c.popup, Some(Popup::Lives(v)) if v.lives.is_some()),
    )
    .await;
    carry_out(&net, update(&mut c, key('j')));
    carry_out(&net, update(&mut c, code(KeyCode::Enter)));
    pump_until(&mut c, &mut net, "the refusal and the way back", |c| {
        c.session.live == "show" && c.live_info.is_some()
    })
    .await;
    let said: Vec<String> = c.log.iter().map(|e| e.text.clone()).collect();
    assert!(
        said.iter()
            .any(|t| t.contains("cannot switch to live \"nuit\"")),
        "{said:?}"
    );
    hub.stop().await;
}

/// The fixture's show after it ended, its Lives popup open (the hub says
/// spring-show ended).
fn ended_and_opened(role: StaffRole) -> Console {
    let mut c = show(role);
    let ServerFrame::Welcome(mut w) = resumed_welcome(role, "Claire", 30, 3) else {
        unreachable!()
    };
    w.live_info = Some(info("spring-show", "Le printemps", LiveState::Ended));
    feed(&mut c, [Msg::Frame(ServerFrame::Welcome(w))]);
    let effects = feed(&mut c, [key('O')]);
    let [Effect::Send(asked)] = effects.as_slice() else {
        panic!("one request, got {effects:?}")
    };
    let mut all = lives();
    all[1] = info("spring-show", "Le printemps", LiveState::Ended);
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Lives {
            id: asked.id.clone(),
            lives: all,
        })],
    );
    c
}

fn counted(segment: SmsSegment, recipients: u64) -> SegmentCount {
    SegmentCount {
        segment,
        recipients,
    }
}

#[test]
fn an_admin_sees_each_segment_s_count_and_confirms_before_one_follow_up_command() {
    let mut c = ended_and_opened(StaffRole::Admin);
    assert!(
        render(&mut c, 160, 48).contains("follow-up SMS"),
        "the key is offered"
    );
    // T asks the hub to count; nothing is sent to anyone yet.
    let effects = feed(&mut c, [key('T')]);
    let [Effect::Send(asked)] = effects.as_slice() else {
        panic!("one request, got {effects:?}")
    };
    assert_eq!(asked.command, Command::SmsSegments);
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::SmsSegments {
            id: asked.id.clone(),
            segments: vec![
                counted(SmsSegment::Asked, 4),
                counted(SmsSegment::Voted, 12),
                counted(SmsSegment::Entered, 0),
                counted(SmsSegment::Won, 1),
            ],
        })],
    );
    assert!(matches!(c.popup, Some(Popup::SmsSegments(_))));
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(
            screen.contains("12  viewers who voted"),
            "{w}x{h}:\n{screen}"
        );
        insta::assert_snapshot!(format!("sms_segments_{w}x{h}"), screen);
    }
    // An empty segment is refused on the spot.
    let effects = feed(&mut c, [key('j'), key('j'), code(KeyCode::Enter)]);
    assert!(commands(&effects).is_empty());
    assert!(note(&c).contains("nobody to text"), "{}", note(&c));
    // Voted: Enter asks to confirm the count, and only yes sends.
    let effects = feed(&mut c, [key('k'), code(KeyCode::Enter)]);
    assert!(commands(&effects).is_empty(), "asks first");
    let screen = render(&mut c, 80, 24);
    assert!(
        screen.contains("Text the follow-up SMS to 12 viewers who voted?"),
        "{screen}"
    );
    insta::assert_snapshot!("sms_follow_up_confirm_80x24", screen);
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(
        commands(&effects),
        vec![Command::SmsFollowUp {
            segment: SmsSegment::Voted,
            recipients: 12,
        }]
    );
    // No: nothing is sent.
    let mut c = ended_and_opened(StaffRole::Admin);
    let effects = feed(&mut c, [key('T')]);
    let [Effect::Send(asked)] = effects.as_slice() else {
        panic!("one request")
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::SmsSegments {
            id: asked.id.clone(),
            segments: vec![counted(SmsSegment::Asked, 4)],
        })],
    );
    let effects = feed(&mut c, [code(KeyCode::Enter), key('n')]);
    assert!(commands(&effects).is_empty());
    assert!(c.popup.is_none());
}

#[test]
fn only_an_admin_on_an_ended_live_may_text_its_viewers() {
    let mut host = ended_and_opened(StaffRole::Host);
    assert!(!render(&mut host, 160, 48).contains("follow-up SMS"));
    let effects = feed(&mut host, [key('T')]);
    assert!(commands(&effects).is_empty());
    assert!(
        note(&host).contains("may not text viewers"),
        "{}",
        note(&host)
    );
    let mut admin = on_air(StaffRole::Admin);
    opened(&mut admin);
    let effects = feed(&mut admin, [key('T')]);
    assert!(commands(&effects).is_empty());
    assert!(note(&admin).contains("after it ends"), "{}", note(&admin));
}

#[test]
fn the_status_bar_shows_the_sms_counts_the_hub_pushes() {
    let mut c = on_air(StaffRole::Host);
    assert!(
        !render(&mut c, 160, 48).contains("SMS"),
        "none before the hub says"
    );
    let counts = |queued, deferred, sent, delivered, failed| SmsCounts {
        queued,
        deferred,
        sent,
        delivered,
        failed,
        ..SmsCounts::default()
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::SmsProgress {
            progress: Box::new(SmsProgress {
                alert: Some(counts(178, 0, 120, 80, 2)),
                follow_up: None,
            }),
        })],
    );
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains(" SMS 120/300 sent · 80 delivered · 2 failed "),
        "{screen}"
    );
    insta::assert_snapshot!("sms_progress_160x48", screen);
    // Updated while sending; after the live, the follow-up's counts.
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::SmsProgress {
            progress: Box::new(SmsProgress {
                alert: Some(counts(0, 0, 298, 240, 2)),
                follow_up: Some(counts(12, 12, 0, 0, 0)),
            }),
        })],
    );
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains(" follow-up SMS 0/12 sent · 12 held for quiet hours "),
        "{screen}"
    );
}
