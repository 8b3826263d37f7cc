//! `update()` driven by key sequences and hub frames: what each action
//! sends, and what the state shows afterwards.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::{Confirm, ConnStatus, Effect, Msg, Pane, Popup, Target, update};
use regie::protocol::*;
use support::console::*;

#[test]
fn host_replies_to_the_selected_question_and_the_reply_is_bound_to_it() {
    let mut c = show(StaffRole::Host);
    feed(&mut c, [code(KeyCode::Tab)]);
    assert_eq!(c.focus, Pane::Questions);
    feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(c.compose.as_ref().unwrap().target, MessageId(2));
    feed(&mut c, typed("yes, it comes in 38"));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::Answer {
            message_id: MessageId(2),
            text: "yes, it comes in 38".into(),
            also: Vec::new(),
        }]
    );
    assert!(c.compose.is_none());
    assert_eq!(c.pending.len(), 1, "pending until the hub acks");
    let Effect::Send(frame) = &effects[0] else {
        panic!()
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Ack {
            id: frame.id.clone(),
            seq: Some(24),
        })],
    );
    assert!(c.pending.is_empty());
    // The sent line is in the history.
    feed(&mut c, [code(KeyCode::Enter), code(KeyCode::Up)]);
    assert_eq!(
        c.compose.as_ref().unwrap().editor.text(),
        "yes, it comes in 38"
    );
    feed(&mut c, [code(KeyCode::Esc)]);
    assert!(c.compose.is_none(), "Esc cancels without sending");
}

#[test]
fn reply_over_the_limit_is_refused_locally_with_the_count() {
    let mut c = show(StaffRole::Host);
    feed(&mut c, [code(KeyCode::Tab), code(KeyCode::Enter)]);
    feed(&mut c, [Msg::Paste("a".repeat(501))]);
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert!(effects.is_empty());
    assert!(c.note.as_ref().unwrap().text.contains("501"));
    assert!(c.compose.is_some(), "the text is kept to shorten it");
}

#[test]
fn pin_toggles_between_pin_and_unpin() {
    let mut c = show(StaffRole::Host);
    feed(&mut c, [code(KeyCode::Tab)]);
    let effects = feed(&mut c, [key('p')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Unpin],
        "#2 is pinned already"
    );
    let effects = feed(&mut c, [key('j'), key('p')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Pin {
            message_id: MessageId(4)
        }]
    );
    feed(
        &mut c,
        [Msg::Frame(event(
            24,
            NOON + 25 * MIN,
            Event::Pinned {
                message_id: MessageId(4),
                by: actor("Claire", StaffRole::Host),
            },
        ))],
    );
    assert_eq!(c.pinned.as_ref().unwrap().message_id, MessageId(4));
    assert!(
        c.activity
            .back()
            .unwrap()
            .what
            .contains("pinned Julie's message #4")
    );
}

#[test]
fn redact_asks_a_reason_then_confirms_showing_the_text_then_sends() {
    let mut c = show(StaffRole::Support);
    // Find the held message with the filter, select it.
    feed(&mut c, [key('/')]);
    feed(&mut c, typed("is:held"));
    feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(c.feed.view_len(), 1);
    feed(&mut c, [key('k')]);
    assert_eq!(c.target().unwrap().id, MessageId(6));
    feed(&mut c, [key('r'), key('e')]);
    assert!(matches!(c.popup, Some(Popup::Prompt(_))));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert!(effects.is_empty(), "nothing is sent before confirming");
    assert!(matches!(
        c.popup,
        Some(Popup::Confirm(Confirm {
            what: Target::Redact {
                message_id: MessageId(6),
                ..
            }
        }))
    ));
    let screen = render(&mut c, 100, 30);
    assert!(
        screen.contains("call me on +33 6•• •• •• 78"),
        "the confirmation shows what goes:\n{screen}"
    );
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Redact {
            message_id: MessageId(6),
            reason: "at the viewer's request".into()
        }]
    );
    // The hub's event replaces the text everywhere.
    feed(
        &mut c,
        [Msg::Frame(event(
            24,
            NOON + 26 * MIN,
            Event::Redacted {
                tombstone: Tombstone {
                    message_id: MessageId(6),
                    posted_at: NOON + 5 * MIN,
                    redacted_at: NOON + 26 * MIN,
                    author_id: Some(ViewerId("v-zoe".into())),
                    reason: "at the viewer's request".into(),
                    by: actor("Sam", StaffRole::Support),
                },
            },
        ))],
    );
    assert!(c.held.is_empty());
    assert!(c.feed.message(MessageId(6)).is_none());
    feed(&mut c, [key('/'), ctrl('u'), code(KeyCode::Enter)]);
    let screen = render(&mut c, 160, 48);
    assert!(!screen.contains("call me"), "{screen}");
    assert!(
        screen.contains("removed at the viewer's request · Sam (support) · 12:26"),
        "{screen}"
    );
}

#[test]
fn redact_can_be_cancelled_at_either_step() {
    let mut c = show(StaffRole::Support);
    feed(&mut c, [key('k'), key('r'), code(KeyCode::Esc)]);
    assert!(c.popup.is_none());
    let effects = feed(&mut c, [key('r'), key('e'), code(KeyCode::Enter), key('n')]);
    assert!(effects.is_empty());
    assert!(c.popup.is_none());
    assert!(c.pending.is_empty());
}

#[test]
fn a_redaction_from_elsewhere_closes_a_confirmation_for_that_message() {
    let mut c = show(StaffRole::Support);
    feed(&mut c, [key('k'), key('r')]);
    let Some(Popup::Confirm(Confirm {
        what: Target::Redact { message_id, .. },
    })) = c.popup.clone()
    else {
        panic!()
    };
    feed(
        &mut c,
        [Msg::Frame(event(
            24,
            NOON + 26 * MIN,
            Event::Redacted {
                tombstone: Tombstone {
                    message_id,
                    posted_at: 0,
                    redacted_at: NOON + 26 * MIN,
                    author_id: None,
                    reason: "spam".into(),
                    by: actor("Alex", StaffRole::Admin),
                },
            },
        ))],
    );
    assert!(c.popup.is_none());
}

#[test]
fn filter_by_author_question_and_text_then_clear() {
    let mut c = show(StaffRole::Moderator);
    let total = c.feed.view_len();
    feed(&mut c, [key('/')]);
    feed(&mut c, typed("from:julie"));
    feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(c.feed.view_len(), 2);
    feed(&mut c, [key('/'), ctrl('u')]);
    feed(&mut c, typed("is:question fabric"));
    feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(c.feed.view_len(), 1);
    let screen = render(&mut c, 120, 30);
    assert!(screen.contains("/is:question fabric (1)"), "{screen}");
    feed(&mut c, [key('/'), ctrl('u'), code(KeyCode::Enter)]);
    assert_eq!(c.feed.view_len(), total);
}

#[test]
fn following_stops_on_scroll_back_counts_new_lines_and_resumes_on_jump() {
    let mut c = show(StaffRole::Moderator);
    assert!(c.scroll.follow);
    feed(&mut c, [key('k'), key('k')]);
    assert!(!c.scroll.follow);
    let selected = c.target().unwrap().id;
    for i in 0..3 {
        feed(
            &mut c,
            [Msg::Frame(event(
                24 + i,
                NOON + 27 * MIN,
                Event::Message {
                    message: message(
                        100 + i,
                        NOON + 27 * MIN,
                        viewer("v-marc", "Marc", "marc"),
                        "new line",
                    ),
                },
            ))],
        );
    }
    assert_eq!(c.target().unwrap().id, selected, "the selection stays put");
    let screen = render(&mut c, 120, 30);
    assert!(screen.contains("3 new ↓ G"), "{screen}");
    feed(&mut c, [key('G')]);
    assert!(c.scroll.follow);
    let screen = render(&mut c, 120, 30);
    assert!(!screen.contains("new ↓"), "{screen}");
    // j past the newest line also follows again.
    feed(&mut c, [key('k'), key('j')]);
    assert!(c.scroll.follow);
}

#[test]
fn commands_typed_offline_stay_visibly_pending_until_the_hub_answers() {
    let mut c = show(StaffRole::Moderator);
    feed(
        &mut c,
        [Msg::Connection(ConnStatus::Reconnecting {
            attempt: 2,
            next_try_at: NOON + 30 * MIN + 3_000,
        })],
    );
    let effects = feed(&mut c, [key('k'), key('h')]);
    assert_eq!(
        commands(&effects).len(),
        1,
        "handed to the network task's outbox"
    );
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains("Reconnecting (attempt 2, next try in 3s)"),
        "{screen}"
    );
    assert!(
        screen.contains("1 pending (1 wait for the hub)"),
        "{screen}"
    );
    feed(&mut c, [Msg::Connection(ConnStatus::Connected)]);
    assert_eq!(
        c.pending.len(),
        1,
        "still pending after reconnect until acked"
    );
    let Effect::Send(frame) = &effects[0] else {
        panic!()
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Ack {
            id: frame.id.clone(),
            seq: None,
        })],
    );
    assert!(c.pending.is_empty());
}

#[test]
fn replayed_events_are_ignored() {
    let mut c = show(StaffRole::Host);
    let len = c.feed.len();
    let replay = event(
        22,
        NOON,
        Event::Message {
            message: message(999, NOON, viewer("v-x", "X", "x"), "dup"),
        },
    );
    feed(&mut c, [Msg::Frame(replay)]);
    assert_eq!(c.feed.len(), len);
    assert_eq!(c.seq, 23);
}

#[test]
fn reload_drops_the_state_and_takes_the_new_snapshot() {
    let mut c = show(StaffRole::Host);
    feed(
        &mut c,
        [
            Msg::Frame(ServerFrame::Reload {
                reason: "history lost".into(),
            }),
            Msg::Frame(welcome(
                StaffRole::Host,
                "Claire",
                3,
                Snapshot {
                    recent: vec![ChatEntry::Message(message(
                        1,
                        NOON,
                        viewer("v-a", "Anna", "a"),
                        "hi",
                    ))],
                    ..Snapshot::default()
                },
            )),
        ],
    );
    assert_eq!(c.feed.len(), 1);
    assert!(c.questions.is_empty() && c.pinned.is_none());
    assert_eq!(c.seq, 3);
}

#[test]
fn a_role_only_gets_its_actions_and_server_errors_show_in_the_status_line() {
    let mut c = show(StaffRole::Host);
    let effects = feed(&mut c, [key('k'), key('r')]);
    assert!(effects.is_empty() && c.popup.is_none());
    let refused = &c.note.as_ref().unwrap().text;
    assert_eq!(refused, "A host can't redact the selected message.");
    let effects = feed(&mut c, [key('x')]);
    let Effect::Send(frame) = &effects[0] else {
        panic!()
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::Error(ErrorFrame::new(
            Some(frame.id.clone()),
            ErrorCode::Forbidden,
            "hosts may not do that",
        )))],
    );
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains("hosts may not do that (forbidden)"),
        "{screen}"
    );
    assert!(c.pending.is_empty());
}

#[test]
fn timeout_asks_a_duration_then_a_reason_and_ban_a_reason_then_to_confirm() {
    let mut c = show(StaffRole::Moderator);
    feed(&mut c, [key('k'), key('t')]);
    feed(&mut c, typed("soon"));
    assert!(
        feed(&mut c, [code(KeyCode::Enter)]).is_empty(),
        "not a duration"
    );
    assert!(matches!(c.popup, Some(Popup::Choice(_))));
    feed(&mut c, [ctrl('u')]);
    feed(&mut c, typed("5m"));
    assert!(
        feed(&mut c, [code(KeyCode::Enter)]).is_empty(),
        "the reason comes first"
    );
    // The second template, picked with ↓.
    let effects = feed(&mut c, [code(KeyCode::Down), code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::Timeout {
            viewer_id: ViewerId("v-ines".into()),
            seconds: 300,
            reason: "insults".into()
        }]
    );
    feed(&mut c, [key('b'), key('e')]);
    feed(&mut c, typed("flood de liens"));
    assert!(
        feed(&mut c, [code(KeyCode::Enter)]).is_empty(),
        "a ban asks to confirm after its reason"
    );
    assert!(
        feed(&mut c, [key('b'), key('x')]).is_empty(),
        "other keys keep the confirmation open"
    );
    assert!(matches!(
        c.popup,
        Some(Popup::Confirm(Confirm {
            what: Target::Ban { .. }
        }))
    ));
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Ban {
            viewer_id: ViewerId("v-ines".into()),
            reason: "flood de liens".into()
        }]
    );
}

#[test]
fn viewer_card_shows_contact_to_support_only() {
    for (role, shows) in [(StaffRole::Support, true), (StaffRole::Moderator, false)] {
        let mut c = show(role);
        let effects = feed(&mut c, [key('k'), key('v')]);
        let Effect::Send(frame) = &effects[0] else {
            panic!()
        };
        let card = ViewerCard {
            viewer_id: ViewerId("v-ines".into()),
            first_name: "Inès".into(),
            pseudonym: "ines".into(),
            first_seen: NOON,
            recent: vec![ChatEntry::Message(message(
                3,
                NOON + 2 * MIN,
                viewer("v-ines", "Inès", "ines"),
                "Magnifique",
            ))],
            sanctions: vec![],
            contact: Some(MaskedContact {
                phone: Some("+33 7•• •• •• 12".into()),
                email: None,
            }),
            consents: vec![],
            notes: vec![],
        };
        feed(
            &mut c,
            [Msg::Frame(ServerFrame::ViewerCard {
                id: frame.id.clone(),
                card: Box::new(card),
            })],
        );
        let screen = render(&mut c, 120, 30);
        assert!(screen.contains("Magnifique"), "{screen}");
        assert_eq!(
            screen.contains("+33 7•• •• •• 12"),
            shows,
            "{role}:\n{screen}"
        );
        feed(&mut c, [code(KeyCode::Esc)]);
        assert!(c.popup.is_none());
    }
}

#[test]
fn quit_asks_first() {
    let mut c = show(StaffRole::Host);
    assert!(feed(&mut c, [key('q'), key('n')]).is_empty());
    assert!(c.popup.is_none());
    assert_eq!(feed(&mut c, [key('q'), key('y')]), vec![Effect::Quit]);
}

#[test]
fn tab_cycles_only_the_panes_a_role_has() {
    let mut host = show(StaffRole::Host);
    let mut seen = vec![];
    for _ in 0..3 {
        update(&mut host, code(KeyCode::Tab));
        seen.push(host.focus);
    }
    assert_eq!(seen, vec![Pane::Questions, Pane::Activity, Pane::Feed]);
    let mut m = show(StaffRole::Moderator);
    feed(&mut m, [code(KeyCode::BackTab)]);
    assert_eq!(m.focus, Pane::Activity);
    feed(&mut m, [code(KeyCode::BackTab)]);
    assert_eq!(m.focus, Pane::Hold);
    let effects = feed(&mut m, [key('a')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Release {
            message_id: MessageId(6)
        }]
    );
}

/// A question from `name`, as the hub sends it.
fn asked(seq: Seq, id: u64, name: &str) -> Msg {
    Msg::Frame(event(
        seq,
        NOON + 29 * MIN,
        Event::Message {
            message: question(
                id,
                NOON + 29 * MIN,
                viewer(&format!("v-{id}"), name, &format!("p{id}")),
                &format!("question number {id}"),
            ),
        },
    ))
}

/// `id` redacted from elsewhere.
fn redacted(seq: Seq, id: u64) -> Msg {
    Msg::Frame(event(
        seq,
        NOON + 29 * MIN,
        Event::Redacted {
            tombstone: Tombstone {
                message_id: MessageId(id),
                posted_at: NOON,
                redacted_at: NOON + 29 * MIN,
                author_id: None,
                reason: "spam".into(),
                by: actor("Alex", StaffRole::Admin),
            },
        },
    ))
}

/// The repro: newest first, two rows down, then a crowd keeps
/// asking; `x`, Enter and `p` still act on the question highlighted
/// before the crowd's questions arrived.
#[test]
fn the_questions_selection_follows_the_message_not_the_row() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut c = show(StaffRole::Host);
        feed(&mut c, [code(KeyCode::Tab), key('o'), key('j'), key('j')]);
        let screen = render(&mut c, w, h);
        assert_eq!(c.target().map(|m| m.id), Some(MessageId(2)), "{screen}");
        let names = ["Chloé", "Anaïs", "Léa", "Nour", "Emma"];
        let crowd: Vec<Msg> = (0..5u64)
            .map(|i| asked(30 + i, 100 + i, names[usize::try_from(i).unwrap()]))
            .collect();
        feed(&mut c, crowd);
        let effects = feed(&mut c, [key('x')]);
        assert_eq!(
            commands(&effects),
            vec![Command::MarkAnswered {
                message_id: MessageId(2)
            }],
            "at {w}x{h}"
        );
        assert_eq!(commands(&feed(&mut c, [key('p')])), vec![Command::Unpin]);
        feed(&mut c, [code(KeyCode::Enter)]);
        assert_eq!(c.compose.as_ref().unwrap().target, MessageId(2));
        feed(&mut c, [code(KeyCode::Esc)]);
        // The redrawn pane still highlights it, crowd or not.
        let screen = render(&mut c, w, h);
        assert!(screen.contains("Questions 8 open"), "{screen}");
        assert_eq!(c.question_index(), Some(7), "the oldest, at the bottom");
    }
}

/// The selected question leaving the list moves the selection to the
/// row that followed it (else the one before) and the status line says
/// which; the same in the hold queue.
#[test]
fn a_selected_message_that_leaves_its_list_hands_the_selection_to_a_neighbour() {
    let mut c = show(StaffRole::Moderator);
    feed(&mut c, [code(KeyCode::Tab), key('j')]);
    assert_eq!(c.target().map(|m| m.id), Some(MessageId(4)));
    feed(&mut c, [redacted(30, 4)]);
    assert_eq!(
        c.target().map(|m| m.id),
        Some(MessageId(8)),
        "the row below"
    );
    let note = c.note.as_ref().unwrap();
    assert_eq!(
        note.text,
        "Julie's question left the list; Inès's is selected now"
    );
    assert!(!note.error);
    feed(&mut c, [redacted(31, 8)]);
    assert_eq!(
        c.target().map(|m| m.id),
        Some(MessageId(2)),
        "the row above"
    );
    feed(&mut c, [redacted(32, 2)]);
    assert_eq!(c.target().map(|m| m.id), None);
    assert_eq!(
        c.note.as_ref().unwrap().text,
        "Julie's question left the list"
    );

    // The hold queue: #6 held, two more arrive, the middle one is selected
    // and released from another console.
    let held = |seq: Seq, id: u64| {
        Msg::Frame(event(
            seq,
            NOON + 29 * MIN,
            Event::Message {
                message: ChatMessage {
                    visibility: Visibility::Held {
                        reason: HoldReason::BlockedTerm,
                        rule_id: None,
                    },
                    ..message(id, NOON + 29 * MIN, viewer("v-lea", "Léa", "lea"), "held")
                },
            },
        ))
    };
    feed(
        &mut c,
        [held(33, 50), held(34, 51), code(KeyCode::Tab), key('j')],
    );
    assert_eq!(c.focus, Pane::Hold);
    assert_eq!(c.target().map(|m| m.id), Some(MessageId(50)));
    let mut released = message(50, NOON, viewer("v-lea", "Léa", "lea"), "held");
    released.visibility = Visibility::Visible;
    feed(
        &mut c,
        [Msg::Frame(event(
            35,
            NOON + 29 * MIN,
            Event::Released {
                message: released,
                by: Some(actor("Inès", StaffRole::Moderator)),
                held_at: None,
            },
        ))],
    );
    assert_eq!(c.target().map(|m| m.id), Some(MessageId(51)));
    assert_eq!(
        c.note.as_ref().unwrap().text,
        "Léa's held message left the list; Léa's is selected now"
    );
}

/// While the focused list is empty nothing is selected: a question that
/// arrives before the next key is not what `x` acts on; `j` selects it.
#[test]
fn an_arrival_in_an_empty_focused_list_waits_for_a_key_to_be_selected() {
    let mut c = console(StaffRole::Host);
    feed(
        &mut c,
        [
            Msg::Frame(welcome(StaffRole::Host, "Claire", 0, Snapshot::default())),
            code(KeyCode::Tab),
            asked(1, 7, "Chloé"),
        ],
    );
    assert!(commands(&feed(&mut c, [key('x')])).is_empty());
    assert_eq!(c.note.as_ref().unwrap().text, "nothing selected");
    feed(&mut c, [key('j')]);
    assert_eq!(
        commands(&feed(&mut c, [key('x')])),
        vec![Command::MarkAnswered {
            message_id: MessageId(7)
        }]
    );
}

mod selection_props {
    use super::*;
    use proptest::prelude::*;
    use regie::console::state::Console;
    use regie::console::theme::{StyleKey, Theme};

    #[derive(Debug, Clone)]
    enum Op {
        /// A new message for the pane's list.
        Arrive,
        /// The n-th message of the list (modulo its length) leaves:
        /// redacted, released or hidden.
        Leave(usize, u8),
        /// Keys; the screen is redrawn after each, as the console does.
        Down,
        Up,
        Sort,
        /// The pane's action key, checked against the last drawn frame.
        Act,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Arrive),
            2 => (any::<usize>(), 0..3u8).prop_map(|(n, how)| Op::Leave(n, how)),
            2 => Just(Op::Down),
            1 => Just(Op::Up),
            1 => Just(Op::Sort),
            3 => Just(Op::Act),
        ]
    }

    /// The id in the highlighted row of the drawn frame: the cells with
    /// the selection's style spell "… #<id>".
    fn highlighted(c: &mut Console) -> Option<MessageId> {
        let selected = Theme::builtin_default().style(StyleKey::FeedSelected);
        let buf = buffer(c, 160, 48);
        let mut found = None;
        for y in 0..48 {
            let row: String = (0..160)
                .map(|x| &buf[(x, y)])
                .filter(|cell| cell.style().bg == selected.bg)
                .map(ratatui::buffer::Cell::symbol)
                .collect();
            if let Some(at) = row.find('#') {
                let digits: String = row[at + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                assert!(found.is_none(), "two rows highlighted");
                found = Some(MessageId(digits.parse().expect("an id")));
            }
        }
        found
    }

    /// A new message for the pane's list.
    fn arrival(pane: Pane, id: u64) -> Event {
        let mut m = message(
            id,
            NOON,
            viewer(&format!("v-{id}"), "Ann", "ann"),
            &format!("text #{id}"),
        );
        if pane == Pane::Questions {
            m.question = true;
        } else {
            m.visibility = Visibility::Held {
                reason: HoldReason::BlockedTerm,
                rule_id: None,
            };
        }
        Event::Message { message: m }
    }

    /// `id` leaving the pane's list: redacted, or released or hidden
    /// from the hold queue.
    fn leaving(pane: Pane, id: MessageId, how: u8) -> Event {
        match (pane, how) {
            (Pane::Hold, 1) => Event::Released {
                message: message(id.0, NOON, viewer("v", "Ann", "ann"), "x"),
                by: Some(actor("Inès", StaffRole::Moderator)),
                held_at: None,
            },
            (Pane::Hold, 2) => Event::Hidden {
                message_id: id,
                by: actor("Inès", StaffRole::Moderator),
            },
            _ => Event::Redacted {
                tombstone: Tombstone {
                    message_id: id,
                    posted_at: NOON,
                    redacted_at: NOON,
                    author_id: None,
                    reason: "spam".into(),
                    by: actor("Sam", StaffRole::Support),
                },
            },
        }
    }

    fn list(c: &Console, pane: Pane) -> Vec<MessageId> {
        if pane == Pane::Questions {
            c.questions.iter().map(|m| m.id).collect()
        } else {
            c.held.iter().map(|m| m.id).collect()
        }
    }

    /// Presses the pane's action key: the command goes to what the last
    /// frame highlighted, or, only after the status line said that one
    /// left, to its neighbour.
    fn act(c: &mut Console, pane: Pane, shown: Option<MessageId>) -> Result<(), TestCaseError> {
        let action = if pane == Pane::Questions { 'x' } else { 'a' };
        let sent = commands(&feed(c, [key(action)]));
        let target = sent.iter().find_map(|cmd| match cmd {
            Command::MarkAnswered { message_id } | Command::Release { message_id } => {
                Some(*message_id)
            }
            _ => None,
        });
        let moved = c
            .note
            .as_ref()
            .is_some_and(|n| n.text.contains("left the list"));
        match (shown, target) {
            (Some(h), Some(t)) if h == t => {}
            (Some(h), Some(_)) => prop_assert!(
                moved && !list(c, pane).contains(&h),
                "acted on {target:?}, {h:?} was highlighted"
            ),
            (None, Some(t)) => {
                prop_assert!(moved, "acted on {t:?} with nothing highlighted");
            }
            (_, None) => {}
        }
        Ok(())
    }

    fn run(pane: Pane, ops: &[Op]) -> Result<(), TestCaseError> {
        let mut c = console(StaffRole::Admin);
        feed(
            &mut c,
            [
                Msg::Frame(welcome(StaffRole::Admin, "Alex", 0, Snapshot::default())),
                Msg::Connection(ConnStatus::Connected),
            ],
        );
        while c.focus != pane {
            feed(&mut c, [code(KeyCode::Tab)]);
        }
        let mut seq = 0;
        let mut shown = highlighted(&mut c);
        c.note = None;
        for op in ops {
            seq += 1;
            match op {
                Op::Arrive => {
                    feed(&mut c, [Msg::Frame(event(seq, NOON, arrival(pane, seq)))]);
                }
                Op::Leave(n, how) => {
                    let ids = list(&c, pane);
                    if let Some(id) = ids.get(n % ids.len().max(1)) {
                        feed(
                            &mut c,
                            [Msg::Frame(event(seq, NOON, leaving(pane, *id, *how)))],
                        );
                    }
                }
                Op::Down => drop(feed(&mut c, [key('j')])),
                Op::Up => drop(feed(&mut c, [key('k')])),
                Op::Sort => drop(feed(&mut c, [key('o')])),
                Op::Act => act(&mut c, pane, shown)?,
            }
            if matches!(op, Op::Down | Op::Up | Op::Sort | Op::Act) {
                // A key redraws the screen.
                shown = highlighted(&mut c);
                prop_assert_eq!(
                    shown,
                    c.target().map(|m| m.id),
                    "the frame shows the selection"
                );
                c.note = None;
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random arrivals and removals between two frames never move an
        /// action onto another id than the one highlighted (unless that
        /// one left and the status line said so).
        #[test]
        fn actions_hit_the_highlighted_question(ops in proptest::collection::vec(op(), 1..40)) {
            run(Pane::Questions, &ops)?;
        }

        #[test]
        fn actions_hit_the_highlighted_held_message(ops in proptest::collection::vec(op(), 1..40)) {
            run(Pane::Hold, &ops)?;
        }
    }
}

/// The id of the one command `effects` sends.
fn sent_id(effects: &[Effect]) -> CommandId {
    match effects {
        [Effect::Send(frame)] => frame.id.clone(),
        other => panic!("expected one command, got {other:?}"),
    }
}

fn ack(id: CommandId) -> Msg {
    Msg::Frame(ServerFrame::Ack { id, seq: None })
}

#[test]
fn an_old_error_gives_way_to_the_confirmation_of_a_later_success() {
    let mut c = show(StaffRole::Host);
    feed(&mut c, [key('k'), key('r')]);
    assert!(c.note.as_ref().unwrap().error, "the refusal is an error");
    let id = sent_id(&feed(&mut c, [code(KeyCode::Tab), key('x')]));
    feed(&mut c, [ack(id)]);
    let note = c.note.as_ref().unwrap();
    assert!(!note.error, "the success replaces the error: {note:?}");
    assert_eq!(
        note.text,
        "Done (u reopens it): mark Julie's message #2 answered"
    );
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains("Done (u reopens it): mark Julie's message #2 answered"),
        "{screen}"
    );
    assert!(!screen.contains("can't redact"), "{screen}");
}

#[test]
fn marking_an_answered_question_again_says_so_and_sends_nothing() {
    let mut c = show(StaffRole::Host);
    let id = sent_id(&feed(&mut c, [code(KeyCode::Tab), key('x')]));
    let seq = c.seq;
    feed(
        &mut c,
        [
            ack(id),
            Msg::Frame(event(
                seq + 1,
                NOON + 30 * MIN,
                Event::QuestionAnswered {
                    message_id: MessageId(2),
                    by: actor("Claire", StaffRole::Host),
                },
            )),
        ],
    );
    assert_eq!(c.question_sel, Some(MessageId(2)), "still on the question");
    let effects = feed(&mut c, [key('x')]);
    assert!(effects.is_empty(), "nothing to send: {effects:?}");
    let note = c.note.as_ref().unwrap();
    assert_eq!(note.text, "Julie's message #2 is already answered");
    assert!(!note.error);
}

#[test]
fn banning_a_banned_viewer_again_says_so_instead_of_asking() {
    let mut c = show(StaffRole::Moderator);
    // b opens the confirmation with the first reason template, then yes.
    feed(&mut c, [key('k'), key('b')]);
    let id = sent_id(&feed(&mut c, [key('y')]));
    let seq = c.seq;
    feed(
        &mut c,
        [
            ack(id),
            Msg::Frame(event(
                seq + 1,
                NOON + 30 * MIN,
                Event::ViewerBanned {
                    viewer_id: ViewerId("v-ines".into()),
                    reason: String::new(),
                    by: actor("Inès B.", StaffRole::Moderator),
                },
            )),
        ],
    );
    assert_eq!(c.note.as_ref().unwrap().text, "Done: ban Inès");
    let effects = feed(&mut c, [key('b')]);
    assert!(
        effects.is_empty() && c.popup.is_none(),
        "no second ban dialog"
    );
    assert_eq!(c.note.as_ref().unwrap().text, "Inès is already banned");
}

#[test]
fn the_log_popup_keeps_the_last_messages_in_full() {
    let mut c = show(StaffRole::Host);
    feed(&mut c, [key('k'), key('r')]);
    let id = sent_id(&feed(&mut c, [code(KeyCode::Tab), key('x')]));
    feed(&mut c, [ack(id), key('m')]);
    let Some(Popup::Log(log)) = &c.popup else {
        panic!("m opens the log: {:?}", c.popup)
    };
    let texts: Vec<&str> = log.entries.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "A host can't redact the selected message.",
            "Done (u reopens it): mark Julie's message #2 answered"
        ]
    );
    assert!(log.entries[0].error && !log.entries[1].error);
    feed(&mut c, [key('m')]);
    assert!(c.popup.is_none(), "the same key closes it");
}

#[test]
fn a_refused_action_reads_as_a_sentence_without_internal_names() {
    let mut c = show(StaffRole::Moderator);
    assert!(feed(&mut c, [key('W')]).is_empty());
    let text = &c.note.as_ref().unwrap().text;
    assert_eq!(text, "A moderator can't launch an instant win.");
    assert!(!text.contains("instant_win") && !text.contains("moderator is"));
}

#[test]
fn hide_says_how_to_undo_it_and_release_shows_a_hidden_message_again() {
    let mut c = show(StaffRole::Moderator);
    let effects = feed(&mut c, [key('k'), key('h')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Hide {
            message_id: MessageId(16),
            reason: String::new()
        }]
    );
    feed(&mut c, [ack(sent_id(&effects))]);
    assert_eq!(
        c.note.as_ref().unwrap().text,
        "Done: hide Inès's message #16 (a shows it again)"
    );
    let seq = c.seq;
    feed(
        &mut c,
        [Msg::Frame(event(
            seq + 1,
            NOON + 30 * MIN,
            Event::Hidden {
                message_id: MessageId(16),
                by: actor("Inès B.", StaffRole::Moderator),
            },
        ))],
    );
    assert!(feed(&mut c, [key('h')]).is_empty(), "hidden already");
    assert_eq!(
        c.note.as_ref().unwrap().text,
        "Inès's message #16 is already hidden"
    );
    // The undo: release lets the hidden message through, as the protocol says.
    let effects = feed(&mut c, [key('a')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Release {
            message_id: MessageId(16)
        }]
    );
    let mut shown = c.feed.message(MessageId(16)).unwrap().clone();
    shown.visibility = Visibility::Visible;
    feed(
        &mut c,
        [
            ack(sent_id(&effects)),
            Msg::Frame(event(
                seq + 2,
                NOON + 30 * MIN,
                Event::Released {
                    message: shown,
                    by: None,
                    held_at: None,
                },
            )),
        ],
    );
    assert!(feed(&mut c, [key('a')]).is_empty(), "visible already");
    let note = c.note.as_ref().unwrap();
    assert_eq!(note.text, "Inès's message #16 is already visible");
    assert!(!note.error);
}
