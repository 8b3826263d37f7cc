//! Polls and instant wins in the console: the forms send exactly what was
//! typed (or nothing, with the error on screen), the card follows the hub's
//! events and snapshots, and snapshots of the forms, a live poll and a draw.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::{Console, Msg, Popup, update};
use regie::console::theme::StyleKey;
use regie::console::view::FeedView;
use regie::protocol::*;
use support::console::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn snap(name: &str, state: &mut Console) {
    for (w, h) in SIZES {
        let screen = render(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

fn poll_view(id: u64, closes_at: Option<Millis>) -> PollView {
    PollView {
        id,
        question: "Which colour should we show next?".into(),
        options: vec!["Red".into(), "Emerald green".into(), "Navy".into()],
        opened_at: NOON + 29 * MIN,
        closes_at,
        audience_at_launch: 80,
        by: actor("Claire", StaffRole::Host),
    }
}

fn draw_view(id: u64) -> DrawView {
    DrawView {
        id,
        prize: "€50 voucher".into(),
        winners: 2,
        opened_at: NOON + 29 * MIN,
        closes_at: NOON + 31 * MIN,
        rules: "No purchase necessary. Rules: example.com/rules".into(),
        commitment: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        redraw_of: None,
        replaces: None,
        by: actor("Claire", StaffRole::Host),
    }
}

fn winners() -> Vec<Winner> {
    vec![
        Winner {
            viewer_id: ViewerId("v-julie-1".into()),
            first_name: "Julie".into(),
            pseudonym: "#3fa9".into(),
        },
        Winner {
            viewer_id: ViewerId("v-marc".into()),
            first_name: "Marc".into(),
            pseudonym: "lune".into(),
        },
    ]
}

/// The show with a live poll: 30 votes from 80 viewers online at launch.
fn live_poll(role: StaffRole) -> Console {
    let mut c = show(role);
    feed(
        &mut c,
        [
            Msg::Frame(event(
                30,
                NOON + 29 * MIN,
                Event::PollOpened {
                    poll: poll_view(1, Some(NOON + 31 * MIN)),
                },
            )),
            Msg::Frame(event(
                31,
                NOON + 30 * MIN,
                Event::PollTally {
                    poll_id: 1,
                    counts: vec![12, 15, 3],
                    voters: 30,
                },
            )),
        ],
    );
    c
}

/// The show with an instant win drawn: 42 entrants, two winners.
fn drawn(role: StaffRole) -> Console {
    let mut c = show(role);
    feed(
        &mut c,
        [
            Msg::Frame(event(
                30,
                NOON + 29 * MIN,
                Event::InstantWinOpened { draw: draw_view(1) },
            )),
            Msg::Frame(event(
                31,
                NOON + 30 * MIN,
                Event::InstantWinEntries {
                    draw_id: 1,
                    entrants: 41,
                },
            )),
            Msg::Frame(event(
                32,
                NOON + 30 * MIN,
                Event::InstantWinDrawn {
                    draw_id: 1,
                    seed: "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b".into(),
                    entrants: 42,
                    entrants_hash:
                        "b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c".into(),
                    winners: winners(),
                    // Drawn before the window's end: the host drew early.
                    by: Some(actor("Claire", StaffRole::Host)),
                },
            )),
        ],
    );
    c
}

fn form_error(c: &Console) -> Option<String> {
    match &c.popup {
        Some(Popup::PollForm(f)) => f.error.clone(),
        Some(Popup::InstantWinForm(f)) => f.error.clone(),
        Some(Popup::RedrawForm(f)) => f.error.clone(),
        _ => None,
    }
}

#[test]
fn host_launches_a_poll_from_the_form_with_the_typed_values() {
    let mut c = show(StaffRole::Host);
    feed(&mut c, [key('P')]);
    assert!(matches!(c.popup, Some(Popup::PollForm(_))));
    let mut keys = typed("Which colour next?");
    keys.push(code(KeyCode::Tab));
    keys.extend(typed("Red"));
    keys.push(code(KeyCode::Tab));
    keys.extend(typed("Blue"));
    keys.push(ctrl('n')); // a third option line after the focused one
    keys.extend(typed("Green"));
    keys.push(code(KeyCode::Tab)); // to the duration
    keys.push(ctrl('u'));
    keys.extend(typed("90"));
    let effects = feed(&mut c, keys);
    assert!(effects.is_empty(), "nothing is sent while typing");
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::PollOpen {
            question: "Which colour next?".into(),
            options: vec!["Red".into(), "Blue".into(), "Green".into()],
            duration_secs: Some(90),
        }]
    );
    assert!(c.popup.is_none());
    assert_eq!(c.pending.len(), 1, "pending until the hub acks");
}

#[test]
fn an_empty_duration_means_until_closed() {
    let mut c = show(StaffRole::Admin);
    let mut keys = vec![key('P')];
    keys.extend(typed("Size?"));
    keys.push(code(KeyCode::Tab));
    keys.extend(typed("S"));
    keys.push(code(KeyCode::Tab));
    keys.extend(typed("M"));
    keys.push(code(KeyCode::Tab));
    keys.push(ctrl('u'));
    keys.push(code(KeyCode::Enter));
    let effects = feed(&mut c, keys);
    assert_eq!(
        commands(&effects),
        vec![Command::PollOpen {
            question: "Size?".into(),
            options: vec!["S".into(), "M".into()],
            duration_secs: None,
        }]
    );
}

#[test]
fn a_poll_with_one_option_shows_the_error_and_sends_nothing() {
    let mut c = show(StaffRole::Host);
    let mut keys = vec![key('P')];
    keys.extend(typed("Which colour next?"));
    keys.push(code(KeyCode::Tab));
    keys.extend(typed("Red"));
    keys.push(code(KeyCode::Tab));
    keys.push(ctrl('d')); // remove the second option line
    keys.push(code(KeyCode::Enter));
    let effects = feed(&mut c, keys);
    assert!(commands(&effects).is_empty());
    assert!(c.pending.is_empty());
    let error = form_error(&c).expect("the form stays open with its error");
    assert!(error.contains("2 to 6 options, not 1"), "{error}");
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("2 to 6 options, not 1"), "{screen}");

    // A duration out of range is refused the same way.
    let mut c = show(StaffRole::Host);
    let mut keys = vec![key('P')];
    keys.extend(typed("Q"));
    for o in ["A", "B"] {
        keys.push(code(KeyCode::Tab));
        keys.extend(typed(o));
    }
    keys.push(code(KeyCode::Tab));
    keys.extend(typed("00")); // "6000"
    keys.push(code(KeyCode::Enter));
    assert!(commands(&feed(&mut c, keys)).is_empty());
    assert!(form_error(&c).unwrap().contains("10 s to 3600 s"));
}

#[test]
fn a_moderator_cannot_open_the_game_forms() {
    let mut c = show(StaffRole::Moderator);
    for k in ['P', 'W', 'C', 'D', 'R'] {
        let effects = feed(&mut c, [key(k)]);
        assert!(effects.is_empty());
        assert!(c.popup.is_none(), "{k} opened {:?}", c.popup);
        assert!(c.note.as_ref().unwrap().error);
    }
    // And the help overlay does not offer them.
    feed(&mut c, [key('?')]);
    let help = render(&mut c, 160, 48);
    assert!(!help.contains("launch a poll"), "{help}");
    assert!(help.contains("past polls and instant wins"), "{help}");
    let mut host = show(StaffRole::Host);
    feed(&mut host, [key('?')]);
    let help = render(&mut host, 160, 48);
    assert!(help.contains("launch a poll"), "{help}");
}

#[test]
fn poll_events_update_the_tally_and_the_final_result_is_readable() {
    let mut c = live_poll(StaffRole::Host);
    let p = c.games.live_poll().unwrap();
    assert_eq!((p.counts.clone(), p.voters), (vec![12, 15, 3], 30));
    feed(
        &mut c,
        [
            Msg::Frame(event(
                32,
                NOON + 31 * MIN,
                Event::PollClosed {
                    poll_id: 1,
                    counts: vec![20, 16, 4],
                    voters: 40,
                    closed_at: NOON + 31 * MIN,
                    by: None,
                },
            )),
            // A tally arriving after the close does not change the result.
            Msg::Frame(event(
                33,
                NOON + 31 * MIN,
                Event::PollTally {
                    poll_id: 1,
                    counts: vec![1, 1, 1],
                    voters: 3,
                },
            )),
        ],
    );
    assert!(c.games.live_poll().is_none());
    let p = c.games.poll(1).unwrap();
    assert_eq!(p.counts, vec![20, 16, 4]);
    assert_eq!(p.voters, 40);
    assert_eq!(p.closed_at, Some(NOON + 31 * MIN));
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("20  50%"), "{screen}");
    assert!(
        screen.contains("final · 40 voters · 50% of 80 · closed 12:31"),
        "{screen}"
    );
    // The past poll stays listed.
    feed(&mut c, [key('L')]);
    let list = render(&mut c, 160, 48);
    assert!(list.contains("Poll #1"), "{list}");
    assert!(list.contains("Red 20 (50%)"), "{list}");
}

#[test]
fn a_console_reconnecting_mid_poll_takes_the_tally_from_the_snapshot() {
    let mut c = console(StaffRole::Host);
    let snapshot = Snapshot {
        viewers_online: 90,
        polls: vec![PollState {
            poll: poll_view(4, None),
            counts: vec![5, 2, 1],
            voters: 8,
            closed_at: None,
            cleared_at: None,
        }],
        instant_wins: vec![DrawState {
            draw: draw_view(2),
            entrants: 17,
            result: None,
        }],
        ..Snapshot::default()
    };
    feed(
        &mut c,
        [Msg::Frame(welcome(StaffRole::Host, "Claire", 50, snapshot))],
    );
    let p = c.games.live_poll().unwrap();
    assert_eq!(
        (p.poll.id, p.counts.clone(), p.voters),
        (4, vec![5, 2, 1], 8)
    );
    assert_eq!(c.games.live_draw().unwrap().entrants, 17);
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains("8 voters · 10% of 80 · until closed"),
        "{screen}"
    );
    assert!(screen.contains("17 entries · 1:00 left"), "{screen}");
    assert!(screen.contains("commitment 9f86d081884c…"), "{screen}");
}

#[test]
fn close_poll_confirms_then_sends_poll_close() {
    let mut c = live_poll(StaffRole::Host);
    assert!(commands(&feed(&mut c, [key('C'), key('n')])).is_empty());
    assert!(c.popup.is_none());
    let effects = feed(&mut c, [key('C'), key('y')]);
    assert_eq!(commands(&effects), vec![Command::PollClose { poll_id: 1 }]);
    // With no poll open there is nothing to close.
    let mut c = show(StaffRole::Host);
    assert!(feed(&mut c, [key('C')]).is_empty());
    assert!(c.popup.is_none());
}

#[test]
fn instant_win_form_sends_instant_win_open_with_no_purchase_necessary() {
    let mut c = show(StaffRole::Host);
    let mut keys = vec![key('W')];
    keys.extend(typed("€50 voucher"));
    keys.push(code(KeyCode::Tab));
    keys.push(ctrl('u'));
    keys.extend(typed("3"));
    keys.push(code(KeyCode::Tab));
    keys.push(ctrl('u'));
    keys.extend(typed("2m"));
    keys.push(code(KeyCode::Tab));
    keys.extend(typed("Rules: example.com/rules"));
    let effects = feed(&mut c, keys);
    assert!(effects.is_empty());
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        vec![Command::InstantWinOpen {
            prize: "€50 voucher".into(),
            winners: 3,
            entry_secs: 120,
            rules: "No purchase necessary. Rules: example.com/rules".into(),
        }]
    );

    // Zero winners: the error shows, nothing goes out.
    let mut c = show(StaffRole::Host);
    let mut keys = vec![key('W')];
    keys.extend(typed("Mug"));
    keys.push(code(KeyCode::Tab));
    keys.push(ctrl('u'));
    keys.extend(typed("0"));
    keys.push(code(KeyCode::Enter));
    assert!(commands(&feed(&mut c, keys)).is_empty());
    assert!(form_error(&c).unwrap().contains("1 to 100 winners"));
}

#[test]
fn instant_win_events_show_entries_then_winners_with_the_proof() {
    let mut c = show(StaffRole::Host);
    feed(
        &mut c,
        [
            Msg::Frame(event(
                30,
                NOON + 29 * MIN,
                Event::InstantWinOpened { draw: draw_view(1) },
            )),
            Msg::Frame(event(
                31,
                NOON + 30 * MIN,
                Event::InstantWinEntries {
                    draw_id: 1,
                    entrants: 12,
                },
            )),
        ],
    );
    assert_eq!(c.games.live_draw().unwrap().entrants, 12);
    let c2 = drawn(StaffRole::Host);
    let d = c2.games.last_drawn().unwrap();
    let r = d.result.as_ref().unwrap();
    assert_eq!(d.entrants, 42);
    assert_eq!(r.winners, winners());
    let mut c2 = c2;
    let screen = render(&mut c2, 160, 48);
    assert!(
        screen.contains("winners: Julie~#3fa9, Marc~lune"),
        "{screen}"
    );
    assert!(
        screen.contains("seed 3a7bd3e2360a… · entrants b5bb9d8014a0…"),
        "{screen}"
    );
    assert!(
        screen.contains("/draws/1.json · regie verify-draw"),
        "{screen}"
    );
}

#[test]
fn draw_now_confirms_then_sends_instant_win_close() {
    let mut c = show(StaffRole::Host);
    update(
        &mut c,
        Msg::Frame(event(
            30,
            NOON + 29 * MIN,
            Event::InstantWinOpened { draw: draw_view(7) },
        )),
    );
    let effects = feed(&mut c, [key('D'), key('y')]);
    assert_eq!(
        commands(&effects),
        vec![Command::InstantWinClose { draw_id: 7 }]
    );
}

#[test]
fn redraw_excludes_the_chosen_winner_with_a_reason_after_a_confirmation() {
    let mut c = drawn(StaffRole::Host);
    feed(&mut c, [key('R')]);
    assert!(matches!(c.popup, Some(Popup::RedrawForm(_))));
    // Nothing chosen: refused with the reason why.
    assert!(commands(&feed(&mut c, [code(KeyCode::Enter)])).is_empty());
    assert!(form_error(&c).unwrap().contains("exclude"));
    // Exclude Marc (the second winner), give a reason, confirm.
    let mut keys = vec![key('j'), key(' '), code(KeyCode::Tab)];
    keys.extend(typed("lives outside the EU"));
    keys.push(code(KeyCode::Enter));
    assert!(commands(&feed(&mut c, keys)).is_empty());
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("new recorded draw"), "{screen}");
    let effects = feed(&mut c, [key('y')]);
    assert_eq!(
        commands(&effects),
        vec![Command::Redraw {
            draw_id: 1,
            exclude: vec![ViewerId("v-marc".into())],
            reason: "lives outside the EU".into(),
        }]
    );
}

// ── snapshots ────────────────────────────────────────────────────────────

#[test]
fn poll_form_snapshot() {
    let mut c = show(StaffRole::Host);
    let mut keys = vec![key('P')];
    keys.extend(typed("Which colour should we show next?"));
    keys.push(code(KeyCode::Tab));
    keys.extend(typed("Red"));
    keys.push(code(KeyCode::Tab));
    keys.extend(typed("Emerald green"));
    keys.push(ctrl('n'));
    keys.extend(typed("Navy"));
    feed(&mut c, keys);
    snap("game_poll_form", &mut c);
}

#[test]
fn live_poll_snapshot() {
    let mut c = live_poll(StaffRole::Host);
    snap("game_live_poll", &mut c);
}

#[test]
fn draw_result_snapshot() {
    let mut c = drawn(StaffRole::Host);
    snap("game_draw_result", &mut c);
}

#[test]
fn instant_win_form_snapshot() {
    let mut c = show(StaffRole::Host);
    let mut keys = vec![key('W')];
    keys.extend(typed("€50 voucher"));
    keys.push(code(KeyCode::Tab));
    keys.push(ctrl('u'));
    keys.extend(typed("3"));
    feed(&mut c, keys);
    snap("game_instant_win_form", &mut c);
}

#[test]
fn past_games_list_snapshot() {
    let mut c = drawn(StaffRole::Admin);
    feed(
        &mut c,
        [
            Msg::Frame(event(
                40,
                NOON + 29 * MIN,
                Event::PollOpened {
                    poll: poll_view(1, None),
                },
            )),
            Msg::Frame(event(
                41,
                NOON + 30 * MIN,
                Event::PollClosed {
                    poll_id: 1,
                    counts: vec![20, 16, 4],
                    voters: 40,
                    closed_at: NOON + 30 * MIN,
                    // A poll without a deadline: the host closed it.
                    by: Some(actor("Claire", StaffRole::Host)),
                },
            )),
        ],
    );
    snap("game_card_admin", &mut c);
    feed(&mut c, [key('L')]);
    snap("game_past_list", &mut c);
}

#[test]
fn hostile_poll_and_draw_text_is_sanitised_and_odd_tallies_do_not_panic() {
    let evil = "\x1b]0;pwned\x07 \x1b[2J\u{202E}rev\u{202C} zero\u{200B}width 👨‍👩‍👧‍👦";
    let mut c = show(StaffRole::Admin);
    let poll = PollView {
        question: evil.into(),
        options: vec![evil.into(), "ok".into(), "日本語のテキスト".repeat(5)],
        ..poll_view(9, Some(NOON + 29 * MIN)) // already past: shows 0:00
    };
    let draw = DrawView {
        prize: evil.into(),
        commitment: evil.into(),
        ..draw_view(3)
    };
    // After the show's own events (up to 12:22) and the poll's opening,
    // as the hub would send them: time never runs backwards in seq order.
    feed(
        &mut c,
        [
            Msg::Frame(event(30, NOON + 30 * MIN, Event::PollOpened { poll })),
            // Fewer counts than options, and a huge one: drawn, not a panic.
            Msg::Frame(event(
                31,
                NOON + 30 * MIN,
                Event::PollTally {
                    poll_id: 9,
                    counts: vec![u64::MAX / 2],
                    voters: u64::MAX / 2,
                },
            )),
            Msg::Frame(event(32, NOON + 30 * MIN, Event::InstantWinOpened { draw })),
            Msg::Frame(event(
                33,
                NOON + 30 * MIN,
                Event::InstantWinDrawn {
                    draw_id: 3,
                    seed: evil.into(),
                    entrants: 1,
                    entrants_hash: evil.into(),
                    winners: vec![Winner {
                        viewer_id: ViewerId("v-x".into()),
                        first_name: evil.into(),
                        pseudonym: evil.into(),
                    }],
                    by: None,
                },
            )),
        ],
    );
    for (w, h) in SIZES {
        for popup in [false, true] {
            if popup {
                feed(&mut c, [key('L')]);
            }
            let buf = buffer(&mut c, w, h);
            for cell in &buf.content {
                for ch in cell.symbol().chars() {
                    assert!(
                        !ch.is_control()
                            && !('\u{202A}'..='\u{202E}').contains(&ch)
                            && ch != '\u{200B}',
                        "{ch:?} reached a cell"
                    );
                }
            }
            // The side panes' right border stays in the last column.
            if !popup {
                for y in 0..h - 2 {
                    let s = buf[(w - 1, y)].symbol();
                    assert!(matches!(s, "┐" | "│" | "┘"), "row {y} at {w}x{h}: {s:?}");
                }
            }
            feed(&mut c, [code(KeyCode::Esc)]);
        }
    }
}

#[test]
fn poll_bars_take_their_colour_from_the_theme() {
    let c = live_poll(StaffRole::Host);
    for name in ["default", "light", "high-contrast"] {
        let theme = regie::console::theme::load(name).unwrap().theme;
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
        terminal
            .draw(|f| regie::console::view::draw(f, &c, &mut FeedView::default(), &theme))
            .unwrap();
        let buf = terminal.backend().buffer().clone();
        let style_of = |sym: &str| {
            buf.content
                .iter()
                .find(|cell| cell.symbol() == sym)
                .map(ratatui::buffer::Cell::style)
                .unwrap()
        };
        assert_eq!(
            style_of("█").fg,
            theme.style(StyleKey::PollBar).fg,
            "{name}"
        );
        assert_eq!(
            style_of("░").fg,
            theme.style(StyleKey::PollBarTrack).fg,
            "{name}"
        );
    }
}

#[test]
fn paste_goes_into_the_focused_form_field_on_one_line() {
    let mut c = show(StaffRole::Host);
    feed(
        &mut c,
        [
            key('P'),
            Msg::Paste("Which colour\nnext?".into()),
            code(KeyCode::Tab),
            Msg::Paste("Red".into()),
        ],
    );
    let Some(Popup::PollForm(form)) = &c.popup else {
        panic!("{:?}", c.popup)
    };
    assert!(!form.question.text().contains('\n'));
    assert!(form.question.text().starts_with("Which colour"));
    assert_eq!(form.options[0].text(), "Red");
}

#[test]
fn redraw_form_and_confirmation_snapshots() {
    let mut c = drawn(StaffRole::Host);
    let mut keys = vec![key('R'), key('j'), key(' '), code(KeyCode::Tab)];
    keys.extend(typed("lives outside the EU"));
    feed(&mut c, keys);
    snap("game_redraw_form", &mut c);
    feed(&mut c, [code(KeyCode::Enter)]);
    snap("game_redraw_confirm", &mut c);
}

/// The game popups over a feed of CJK and emoji keep their left border
/// and bottom-left corner, at both sizes.
#[test]
fn game_popups_over_wide_characters_keep_their_left_border() {
    let mut redraw_confirm = vec![key('R'), key('j'), key(' '), code(KeyCode::Tab)];
    redraw_confirm.extend(typed("lives outside the EU"));
    redraw_confirm.push(code(KeyCode::Enter));
    let opened: [(&str, Vec<Msg>); 5] = [
        ("poll_form", vec![key('P')]),
        ("instant_win_form", vec![key('W')]),
        ("games_list", vec![key('L')]),
        ("redraw_form", vec![key('R')]),
        ("redraw_confirm", redraw_confirm),
    ];
    for (name, keys) in opened {
        let mut c = drawn(StaffRole::Host);
        wide_chat(&mut c, 100, 50);
        feed(&mut c, keys);
        assert!(c.popup.is_some(), "{name} is open");
        for (w, h) in SIZES {
            assert_popup_left_border(&buffer(&mut c, w, h), &format!("{name} at {w}x{h}"));
            let screen = render(&mut c, w, h);
            insta::assert_snapshot!(format!("wide_under_{name}_{w}x{h}"), screen);
        }
    }
}

/// While a poll is live the form does not open (its launch would be
/// refused and what was typed lost); the status line says why.
#[test]
fn the_poll_form_does_not_open_while_a_poll_is_live() {
    let mut c = live_poll(StaffRole::Host);
    let effects = feed(&mut c, [key('P')]);
    assert!(effects.is_empty());
    assert!(c.popup.is_none(), "{:?}", c.popup);
    let note = c.note.clone().expect("the status line says why");
    assert!(note.error);
    assert!(note.text.contains("already live"), "{}", note.text);
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("A poll is already live"), "{screen}");
}

/// A validation error goes once the fields are fixed, without sending.
#[test]
fn a_poll_form_error_clears_once_it_is_fixed() {
    let mut c = show(StaffRole::Host);
    let mut keys = vec![key('P')];
    keys.extend(typed("Which colour next?"));
    keys.push(code(KeyCode::Tab));
    keys.extend(typed("Red"));
    keys.push(code(KeyCode::Tab));
    keys.push(code(KeyCode::Enter)); // the second option is empty
    assert!(commands(&feed(&mut c, keys)).is_empty());
    assert!(form_error(&c).is_some(), "the error shows");
    // Still wrong after one more key: the error stays.
    feed(&mut c, [code(KeyCode::Left)]);
    assert!(form_error(&c).is_some(), "still wrong, still said");
    feed(&mut c, [code(KeyCode::End)]);
    let effects = feed(&mut c, typed("Blue"));
    assert!(effects.is_empty(), "fixing it sends nothing");
    assert!(form_error(&c).is_none(), "fixed: the error is gone");
    let screen = render(&mut c, 80, 24);
    assert!(!screen.contains('✕'), "{screen}");
}

/// `drawn` (Julie~#3fa9 and Marc~lune won #1), then the hub's re-draw #2
/// excluding Marc: Julie keeps her prize, Paul is new.
fn redrawn(role: StaffRole) -> Console {
    let mut c = drawn(role);
    let at = NOON + 33 * MIN;
    let [julie, marc] = <[Winner; 2]>::try_from(winners()).expect("two winners");
    let paul = Winner {
        viewer_id: ViewerId("v-paul".into()),
        first_name: "Paul".into(),
        pseudonym: "#aa12".into(),
    };
    let draw = DrawView {
        winners: 1,
        opened_at: at,
        closes_at: at,
        redraw_of: Some(1),
        replaces: Some(Box::new(Replacement {
            kept: vec![julie],
            excluded: vec![marc],
            reason: "lives outside the EU".into(),
        })),
        ..draw_view(2)
    };
    feed(
        &mut c,
        [
            Msg::Frame(event(33, at, Event::InstantWinOpened { draw })),
            Msg::Frame(event(
                34,
                at,
                Event::InstantWinDrawn {
                    draw_id: 2,
                    seed: "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed".into(),
                    entrants: 39,
                    entrants_hash:
                        "e7a1e7a1e7a1e7a1e7a1e7a1e7a1e7a1e7a1e7a1e7a1e7a1e7a1e7a1e7a1e7a1".into(),
                    winners: vec![paul],
                    by: Some(actor("Claire", StaffRole::Host)),
                },
            )),
        ],
    );
    c
}

/// After a re-draw the card shows the whole result (new, kept, excluded
/// and why), the activity names who was excluded, and the past-games list
/// links the re-draw and its original both ways.
#[test]
fn a_redraw_shows_who_is_new_kept_and_excluded_and_links_to_its_original() {
    let mut c = redrawn(StaffRole::Host);
    let screen = render(&mut c, 160, 48);
    for part in [
        "Instant win #2 (re-draw of #1)",
        "new: Paul~#aa12",
        "kept: Julie~#3fa9",
        "excluded: Marc~lune — lives outside the EU",
    ] {
        assert!(screen.contains(part), "{part}: {screen}");
    }
    let activity: Vec<&str> = c.activity.iter().map(|a| a.what.as_str()).collect();
    for line in [
        "re-draw #2 of instant win #1: excluded Marc~lune (lives outside the EU)",
        "instant win #2 drawn: Paul~#aa12 (39 entries)",
        "instant win #1 drawn: Julie~#3fa9, Marc~lune (42 entries)",
    ] {
        assert!(activity.contains(&line), "{line}: {activity:?}");
    }
    snap("game_redraw_result", &mut c);
    feed(&mut c, [key('L')]);
    let list = render(&mut c, 160, 48);
    for part in [
        "Instant win #2 · re-draw of #1 · 1× €50 voucher",
        "39 entries · new: Paul~#aa12 · kept: Julie~#3fa9 · excluded: Marc~lune — lives",
        "Instant win #1 · 2× €50 voucher · re-drawn as #2",
    ] {
        assert!(list.contains(part), "{part}: {list}");
    }
    snap("game_redraw_past_list", &mut c);
}
