//! The console at show speed (issue 12): pause from any pane with the
//! position in the feed's title, unread counts in the titles of panes
//! without the focus, `n`/`N` between matches, the hub's history search in
//! a popup, a timeout in two keys, every message action counted in keys,
//! and the notification decision. `TestBackend` snapshots at 80×24 and
//! 160×48.

mod support;

use crossterm::event::KeyCode;
use regie::console::notify::NotifyConfig;
use regie::console::state::{Confirm, Console, Effect, Msg, Pane, Popup, Target};
use regie::protocol::*;
use support::console::*;

fn snap(name: &str, state: &mut Console) {
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = render(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

/// The show's next free event number (its welcome and activity use 1–23).
const SEQ: Seq = 24;

/// `count` chat lines from Léa, ids from `first_id`, events from `seq`.
fn flood(c: &mut Console, seq: Seq, first_id: u64, count: u64, text: impl Fn(u64) -> String) {
    let lea = || viewer("v-lea", "Léa", "lea");
    let msgs: Vec<Msg> = (0..count)
        .map(|i| {
            Msg::Frame(event(
                seq + i,
                NOON + 25 * MIN,
                Event::Message {
                    message: message(first_id + i, NOON + 25 * MIN, lea(), &text(i)),
                },
            ))
        })
        .collect();
    feed(c, msgs);
}

fn selected_id(c: &Console) -> Option<MessageId> {
    c.scroll
        .selected
        .and_then(|p| c.feed.at(p))
        .map(regie::console::feed::FeedEntry::id)
}

#[test]
fn pause_from_any_pane_keeps_the_selection_still_and_shows_the_position() {
    let mut c = show(StaffRole::Host);
    // From the Questions pane: the focus stays there.
    feed(&mut c, [code(KeyCode::Tab), key('z')]);
    assert_eq!(c.focus, Pane::Questions);
    assert!(!c.scroll.follow, "paused");
    let paused_on = selected_id(&c).expect("the newest line is selected");
    flood(&mut c, SEQ, 100, 40, |i| format!("flood line {i}"));
    assert_eq!(
        selected_id(&c),
        Some(paused_on),
        "the selection stayed still"
    );
    assert!(!c.scroll.follow);
    // The position names the selected line of all held; the badge counts
    // what came since.
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("Chat 16/56"), "{screen}");
    assert!(screen.contains("40 new"), "{screen}");
    snap("paused_while_flooded", &mut c);
    feed(&mut c, [key('z')]);
    assert!(c.scroll.follow, "z again follows");
    // In the chat pane, G follows too.
    feed(&mut c, [key('z'), code(KeyCode::BackTab), key('G')]);
    assert_eq!(c.focus, Pane::Feed);
    assert!(c.scroll.follow, "G follows too");
}

#[test]
fn a_paused_selection_that_is_evicted_moves_to_the_oldest_line_kept() {
    let session = regie::console::state::Session {
        role: StaffRole::Host,
        name: "Claire".into(),
        live: "show".into(),
    };
    let mut c = Console::new(session, regie::console::keymap::Keymap::default(), 100, "t");
    feed(
        &mut c,
        [Msg::Frame(welcome(
            StaffRole::Host,
            "Claire",
            0,
            Snapshot::default(),
        ))],
    );
    flood(&mut c, 1, 1, 10, |i| format!("line {i}"));
    feed(&mut c, [key('z')]);
    assert_eq!(selected_id(&c), Some(MessageId(10)));
    flood(&mut c, 11, 11, 500, |i| format!("line {i}"));
    assert_eq!(c.feed.len(), 100, "memory stays bounded while paused");
    assert_eq!(selected_id(&c), Some(MessageId(411)), "the oldest kept");
    assert!(!c.scroll.follow);
}

#[test]
fn panes_without_the_focus_count_what_arrived_until_focused() {
    let mut c = show(StaffRole::Moderator);
    assert_eq!(c.focus, Pane::Feed);
    // Two questions and a held message arrive; the activity pane gets a line.
    let lea = || viewer("v-lea", "Léa", "lea");
    let mut held = message(202, NOON + 25 * MIN, lea(), "mon 06 •• •• •• 12");
    held.visibility = Visibility::Held {
        reason: HoldReason::PersonalData,
        rule_id: None,
    };
    feed(
        &mut c,
        [
            Msg::Frame(event(
                SEQ,
                NOON + 25 * MIN,
                Event::Message {
                    message: question(200, NOON + 25 * MIN, lea(), "Elle existe en 38 ?"),
                },
            )),
            Msg::Frame(event(
                SEQ + 1,
                NOON + 25 * MIN,
                Event::Message {
                    message: question(201, NOON + 25 * MIN, lea(), "Et en 40 ?"),
                },
            )),
            Msg::Frame(event(
                SEQ + 2,
                NOON + 25 * MIN,
                Event::Message { message: held },
            )),
        ],
    );
    assert_eq!(c.unread.questions, 2);
    assert_eq!(c.unread.hold, 1);
    assert_eq!(c.unread.feed, 0, "the focused pane counts nothing");
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains("Questions 5 open · 2 new · oldest first"),
        "{screen}"
    );
    assert!(screen.contains("Hold queue 2 · 1 new"), "{screen}");
    snap("unread_counts", &mut c);
    // Focusing the Questions pane reads them; the chat counts from now.
    feed(&mut c, [code(KeyCode::Tab)]);
    assert_eq!(c.unread.questions, 0);
    flood(&mut c, SEQ + 3, 300, 3, |i| format!("line {i}"));
    assert_eq!(c.unread.feed, 3);
    assert!(render(&mut c, 160, 48).contains("Chat · 3 new"));
    feed(
        &mut c,
        [code(KeyCode::Tab), code(KeyCode::Tab), code(KeyCode::Tab)],
    );
    assert_eq!(c.focus, Pane::Feed);
    assert_eq!(c.unread.feed, 0);
}

#[test]
fn n_and_n_jump_between_matches_without_filtering_the_feed() {
    let mut c = show(StaffRole::Host);
    flood(&mut c, SEQ, 100, 30, |i| {
        if i % 10 == 3 {
            format!("la robe verte numéro {i}")
        } else {
            format!("autre chose {i}")
        }
    });
    // Nothing searched yet: the status line says how.
    feed(&mut c, [key('n')]);
    assert!(
        c.note
            .as_ref()
            .is_some_and(|n| n.text.contains("no search yet"))
    );
    // A filter, then cleared: its text stays the search.
    feed(&mut c, [key('/')]);
    feed(&mut c, typed("verte"));
    feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(c.feed.view_len(), 3);
    feed(&mut c, [key('/')]);
    feed(&mut c, [ctrl('u'), code(KeyCode::Enter)]);
    assert!(c.feed.filter().is_none(), "the feed is not filtered");
    // From the Questions pane: n moves the focus to the chat.
    feed(&mut c, [code(KeyCode::Tab), key('n')]);
    assert_eq!(c.focus, Pane::Feed);
    assert_eq!(selected_id(&c), Some(MessageId(123)));
    feed(&mut c, [key('n')]);
    assert_eq!(selected_id(&c), Some(MessageId(113)));
    // The status note of the first n is gone by now.
    feed(&mut c, [Msg::Tick(NOON + 40 * MIN)]);
    snap("search_next", &mut c);
    feed(&mut c, [key('n'), key('n')]);
    assert_eq!(selected_id(&c), Some(MessageId(103)), "no older: stays");
    assert!(
        c.note
            .as_ref()
            .is_some_and(|n| n.text.contains("no older line"))
    );
    feed(&mut c, [key('N')]);
    assert_eq!(selected_id(&c), Some(MessageId(113)));
    assert_eq!(c.feed.view_len(), c.feed.len(), "never filtered");
}

/// Opens the history search for `query`; returns the request's id.
fn history_search(c: &mut Console, query: &str) -> CommandId {
    feed(c, [key('F')]);
    feed(c, [ctrl('u')]);
    feed(c, typed(query));
    let effects = feed(c, [code(KeyCode::Enter)]);
    let [Effect::Send(frame)] = effects.as_slice() else {
        panic!("expected the search, got {effects:?}")
    };
    assert_eq!(
        frame.command,
        Command::HistorySearch {
            query: query.into(),
            before: None,
            limit: Some(DEFAULT_HISTORY_PAGE),
        }
    );
    frame.id.clone()
}

fn old_message(id: u64, name: &str, vid: &str, text: &str) -> ChatMessage {
    let minutes = i64::try_from(id % 1_000).unwrap_or(0);
    message(
        id,
        NOON - 90 * MIN + minutes * MIN,
        viewer(vid, name, name),
        text,
    )
}

#[test]
fn the_history_search_popup_pages_and_forgets_what_is_removed() {
    let mut c = show(StaffRole::Support);
    let id = history_search(&mut c, "livraison");
    assert!(matches!(c.popup, Some(Popup::HistorySearch(_))));
    assert!(render(&mut c, 80, 24).contains("searching the hub"));
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::HistorySearch {
            id: id.clone(),
            messages: vec![
                old_message(9_004, "Julie", "v-julie-1", "livraison en Belgique ?"),
                old_message(9_003, "Marc", "v-marc", "la livraison est offerte ?"),
                old_message(9_002, "Zoé", "v-zoe", "Livraison en 48 h ?"),
            ],
            next_before: Some(MessageId(9_002)),
        })],
    );
    assert!(!c.pending.contains_key(&id), "answered");
    snap("history_search", &mut c);
    // j to the last row, then j again asks for the older page.
    feed(&mut c, [key('j'), key('j')]);
    let effects = feed(&mut c, [key('j')]);
    let [Effect::Send(frame)] = effects.as_slice() else {
        panic!("expected the next page, got {effects:?}")
    };
    assert_eq!(
        frame.command,
        Command::HistorySearch {
            query: "livraison".into(),
            before: Some(MessageId(9_002)),
            limit: Some(DEFAULT_HISTORY_PAGE),
        }
    );
    assert!(
        feed(&mut c, [code(KeyCode::PageDown)]).is_empty(),
        "one page at a time"
    );
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::HistorySearch {
            id: frame.id.clone(),
            messages: vec![old_message(9_001, "Marc", "v-marc", "livraison gratuite ?")],
            next_before: None,
        })],
    );
    let Some(Popup::HistorySearch(p)) = &c.popup else {
        panic!("the popup stays")
    };
    assert_eq!(p.results.len(), 4);
    assert!(!p.can_load_more(), "the oldest was reached");
    // A redaction and an erasure take their messages out of the popup.
    feed(
        &mut c,
        [
            Msg::Frame(event(
                SEQ,
                NOON + 25 * MIN,
                Event::Redacted {
                    tombstone: Tombstone {
                        message_id: MessageId(9_004),
                        posted_at: NOON,
                        redacted_at: NOON + 25 * MIN,
                        author_id: None,
                        reason: "at the viewer's request".into(),
                        by: actor("Sam", StaffRole::Support),
                    },
                },
            )),
            Msg::Frame(event(
                SEQ + 1,
                NOON + 25 * MIN,
                Event::ViewerErased {
                    viewer_id: ViewerId("v-marc".into()),
                    reason: "art. 17".into(),
                    erased_at: NOON + 25 * MIN,
                    by: actor("Sam", StaffRole::Support),
                },
            )),
        ],
    );
    let Some(Popup::HistorySearch(p)) = &c.popup else {
        panic!("the popup stays")
    };
    let left: Vec<&str> = p.results.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(left, ["Livraison en 48 h ?"]);
    let screen = render(&mut c, 160, 48);
    assert!(
        !screen.contains("Belgique") && !screen.contains("gratuite"),
        "{screen}"
    );
}

#[test]
fn a_history_result_opens_in_the_chat_and_a_refusal_shows_in_the_popup() {
    let mut c = show(StaffRole::Host);
    let id = history_search(&mut c, "fabric");
    let in_feed = c.feed.message(MessageId(8)).cloned().expect("in the show");
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::HistorySearch {
            id,
            messages: vec![in_feed],
            next_before: None,
        })],
    );
    feed(&mut c, [code(KeyCode::Enter)]);
    assert!(c.popup.is_none());
    assert_eq!(selected_id(&c), Some(MessageId(8)));
    assert!(!c.scroll.follow);

    let id = history_search(&mut c, "x");
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Error(ErrorFrame::new(
            Some(id),
            ErrorCode::Invalid,
            "type a word to search for",
        )))],
    );
    let screen = render(&mut c, 80, 24);
    assert!(matches!(c.popup, Some(Popup::HistorySearch(_))));
    assert!(screen.contains("type a word to search for"), "{screen}");
    feed(&mut c, [code(KeyCode::Esc)]);
    assert!(c.popup.is_none());
}

#[test]
fn a_timeout_is_two_keys_with_a_preset_digit() {
    let mut c = show(StaffRole::Moderator);
    feed(&mut c, [key('k'), key('k'), key('k')]);
    let effects = feed(&mut c, [key('t')]);
    assert!(effects.is_empty());
    snap("timeout_presets", &mut c);
    let effects = feed(&mut c, [key('3')]);
    assert_eq!(
        commands(&effects),
        [Command::Timeout {
            viewer_id: ViewerId("v-ines".into()),
            seconds: 300,
            reason: "spam".into(),
        }]
    );
    assert!(c.popup.is_none());
    // Tab, then digits type a duration of one's own.
    feed(&mut c, [key('t'), code(KeyCode::Tab)]);
    feed(&mut c, typed("45s"));
    let effects = feed(&mut c, [code(KeyCode::Enter), code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        [Command::Timeout {
            viewer_id: ViewerId("v-ines".into()),
            seconds: 45,
            reason: "spam".into(),
        }]
    );
}

/// A ban opens at its confirmation with the first reason; `e` goes back
/// to the reasons, and the one picked comes back to the confirmation. A
/// redaction's `e` reopens its reason, typed over.
#[test]
fn the_edit_key_changes_a_ban_or_a_redaction_reason_before_yes() {
    let mut c = show(StaffRole::Admin);
    feed(&mut c, [key('k'), key('k'), key('k'), key('b')]);
    assert!(render(&mut c, 80, 24).contains("Reason: spam"));
    feed(
        &mut c,
        [key('e'), code(KeyCode::Down), code(KeyCode::Enter)],
    );
    assert!(
        matches!(&c.popup, Some(Popup::Confirm(Confirm { what: Target::Ban { reason, .. } })) if reason == "insults"),
        "{:?}",
        c.popup
    );
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(
        commands(&effects),
        [Command::Ban {
            viewer_id: ViewerId("v-ines".into()),
            reason: "insults".into(),
        }]
    );
    feed(&mut c, [key('r')]);
    assert!(render(&mut c, 160, 48).contains("at the viewer's request"));
    feed(&mut c, [key('e'), ctrl('u')]);
    feed(&mut c, typed("doxxing"));
    feed(&mut c, [code(KeyCode::Enter)]);
    let effects = feed(&mut c, [key('y')]);
    assert!(
        matches!(&commands(&effects)[..], [Command::Redact { reason, .. }] if reason == "doxxing"),
        "{effects:?}"
    );
}

/// One action's walk: the role, the keys after the selection, the text
/// typed after the first key, and what the command must be.
type Walk = (StaffRole, Vec<Msg>, &'static str, fn(&Command) -> bool);

/// How many keys (typed text aside) from a selected message to the command
/// each action sends, for a role allowed to send it.
#[test]
fn every_message_action_is_a_key_or_two_from_a_selected_message() {
    // (role, keys after selecting Inès's line, what is typed, the command)
    let walks: Vec<Walk> = vec![
        (
            StaffRole::Host,
            vec![code(KeyCode::Enter), code(KeyCode::Enter)],
            "merci !",
            |c| matches!(c, Command::Answer { .. }),
        ),
        (StaffRole::Host, vec![key('p')], "", |c| {
            matches!(c, Command::Pin { .. })
        }),
        (StaffRole::Moderator, vec![key('h')], "", |c| {
            matches!(c, Command::Hide { .. })
        }),
        (StaffRole::Moderator, vec![key('t'), key('4')], "", |c| {
            matches!(c, Command::Timeout { seconds: 600, .. })
        }),
        // A ban and a redaction open at their confirmation, with a preset
        // reason: the second key is the `y` that says yes.
        (StaffRole::Moderator, vec![key('b'), key('y')], "", |c| {
            matches!(c, Command::Ban { .. })
        }),
        (StaffRole::Support, vec![key('r'), key('y')], "", |c| {
            matches!(c, Command::Redact { .. })
        }),
        (
            StaffRole::Moderator,
            vec![key('f'), code(KeyCode::Enter)],
            "",
            |c| matches!(c, Command::FlagViewer { .. }),
        ),
    ];
    for (role, keys, text, is_it) in walks {
        let mut c = show(role);
        feed(&mut c, [key('k'), key('k'), key('k')]);
        let count = keys.len();
        let mut keys = keys.into_iter();
        let mut effects = Vec::new();
        if let Some(first) = keys.next() {
            effects.extend(feed(&mut c, [first]));
        }
        effects.extend(feed(&mut c, typed(text)));
        effects.extend(feed(&mut c, keys));
        let sent = commands(&effects);
        assert!(
            sent.len() == 1 && is_it(&sent[0]),
            "{role:?} {count} keys sent {sent:?}"
        );
        assert!(count <= 2, "{sent:?} took {count} keys");
    }
}

fn notifying(config: NotifyConfig) -> Console {
    let mut c = show(StaffRole::Moderator);
    c.notify = regie::console::notify::Notifier::new(config);
    c
}

fn notifications(effects: &[Effect]) -> Vec<&regie::console::notify::Notification> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(n) => Some(n),
            _ => None,
        })
        .collect()
}

fn say(seq: Seq, id: u64, at: Millis, text: &str, question_: bool) -> Msg {
    let lea = viewer("v-lea", "Léa", "lea");
    let m = if question_ {
        question(id, at, lea, text)
    } else {
        message(id, at, lea, text)
    };
    Msg::Frame(event(seq, at, Event::Message { message: m }))
}

#[test]
fn notifications_are_off_by_default() {
    let mut c = show(StaffRole::Moderator);
    let effects = feed(&mut c, [say(SEQ, 200, NOON + 31 * MIN, "Inès B. ?", true)]);
    assert!(notifications(&effects).is_empty());
}

#[test]
fn a_question_a_held_message_and_a_mention_notify_rate_limited_and_without_text() {
    let mut c = notifying(NotifyConfig {
        bell: true,
        desktop: true,
        ..NotifyConfig::default()
    });
    c.session.live = "show\x1b]0;x\x07".into();
    let t0 = NOON + 31 * MIN;
    feed(&mut c, [Msg::Tick(t0)]);
    let effects = feed(&mut c, [say(SEQ, 200, t0, "Elle existe en 38 ?", true)]);
    let got = notifications(&effects);
    assert_eq!(got.len(), 1, "{effects:?}");
    assert_eq!(got[0].body, "new question");
    let bytes = regie::console::notify::escape(got[0]);
    assert!(!bytes.contains("38") && !bytes.contains("Léa"), "{bytes:?}");
    assert_eq!(bytes.matches('\x1b').count(), 2, "{bytes:?}");
    // Another question a second later: rate-limited.
    feed(&mut c, [Msg::Tick(t0 + 1_000)]);
    let effects = feed(&mut c, [say(SEQ + 1, 201, t0, "Et en 40 ?", true)]);
    assert!(notifications(&effects).is_empty());
    // A mention, later.
    feed(&mut c, [Msg::Tick(t0 + 10_000)]);
    let effects = feed(&mut c, [say(SEQ + 2, 202, t0, "merci inès b. !", false)]);
    assert_eq!(
        notifications(&effects)[0].body,
        "a viewer named you in the chat"
    );
    // A held message, later.
    feed(&mut c, [Msg::Tick(t0 + 20_000)]);
    let mut held = message(203, t0, viewer("v-lea", "Léa", "lea"), "mon 06 •• 12");
    held.visibility = Visibility::Held {
        reason: HoldReason::PersonalData,
        rule_id: None,
    };
    let effects = feed(
        &mut c,
        [Msg::Frame(event(
            SEQ + 3,
            t0,
            Event::Message { message: held },
        ))],
    );
    assert_eq!(
        notifications(&effects)[0].body,
        "a message is held for review"
    );
    // Plain chat notifies nobody.
    feed(&mut c, [Msg::Tick(t0 + 30_000)]);
    let effects = feed(&mut c, [say(SEQ + 4, 204, t0, "bonsoir", false)]);
    assert!(notifications(&effects).is_empty());
}
