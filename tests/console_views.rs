//! Snapshots of every pane and popup over ratatui's `TestBackend`, per role,
//! at 80×24 and 160×48, plus hostile text that must neither reach a cell
//! as a control sequence nor move a border.

mod support;

use crossterm::event::KeyCode;
use ratatui::style::Color;
use regie::console::state::{Confirm, ConnStatus, Msg, Popup, Target, update};
use regie::console::theme::{self, StyleKey};
use regie::console::view::FeedView;
use regie::protocol::*;
use support::console::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
const ROLES: [StaffRole; 4] = [
    StaffRole::Host,
    StaffRole::Moderator,
    StaffRole::Support,
    StaffRole::Admin,
];

fn snap(name: &str, state: &mut regie::console::state::Console) {
    for (w, h) in SIZES {
        let screen = render(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

#[test]
fn main_screen_per_role() {
    for role in ROLES {
        let mut c = show(role);
        snap(&format!("main_{role}"), &mut c);
    }
}

#[test]
fn scrolled_back_with_selection_and_new_lines() {
    let mut c = show(StaffRole::Moderator);
    feed(&mut c, [key('k'), key('k'), key('k')]);
    for i in 0..5 {
        update(
            &mut c,
            Msg::Frame(event(
                30 + i,
                NOON + 28 * MIN,
                Event::Message {
                    message: message(
                        200 + i,
                        NOON + 28 * MIN,
                        viewer("v-zoe", "Zoé", "zoe"),
                        "still here",
                    ),
                },
            )),
        );
    }
    snap("scrolled_back", &mut c);
}

#[test]
fn help_overlay_per_role_is_generated_from_the_keymap() {
    for role in ROLES {
        let mut c = show(role);
        feed(&mut c, [key('?')]);
        snap(&format!("help_{role}"), &mut c);
    }
}

#[test]
fn help_follows_a_remapped_keymap() {
    let overrides = std::collections::BTreeMap::from([
        ("ctrl-r".to_string(), "redact".to_string()),
        ("r".to_string(), "none".to_string()),
    ]);
    let (keymap, warnings) = regie::console::keymap::Keymap::with_overrides(&overrides);
    assert!(warnings.is_empty());
    let mut c = show(StaffRole::Support);
    c.keymap = keymap;
    feed(&mut c, [key('?')]);
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("ctrl-r"), "{screen}");
    assert!(!screen.contains("r               redact"), "{screen}");
}

#[test]
fn viewer_card_per_role() {
    for role in ROLES {
        let mut c = show(role);
        let effects = feed(&mut c, [key('k'), key('k'), key('k'), key('k'), key('v')]);
        snap(&format!("card_loading_{role}"), &mut c);
        let regie::console::state::Effect::Send(frame) = &effects[0] else {
            panic!()
        };
        let card = ViewerCard {
            viewer_id: ViewerId("v-marc".into()),
            first_name: "Marc".into(),
            pseudonym: "marc".into(),
            first_seen: NOON - 5 * MIN,
            recent: vec![
                ChatEntry::Message(message(
                    15,
                    NOON + 15 * MIN,
                    viewer("v-marc", "Marc", "marc"),
                    "comment number 4 about the collection",
                )),
                ChatEntry::Redacted(Tombstone {
                    message_id: MessageId(12),
                    posted_at: NOON + 12 * MIN,
                    redacted_at: NOON + 13 * MIN,
                    author_id: Some(ViewerId("v-marc".into())),
                    reason: "at the viewer's request".into(),
                    by: actor("Sam", StaffRole::Support),
                }),
            ],
            sanctions: vec![Sanction::TimedOut {
                until: NOON + 20 * MIN,
                reason: "spam".into(),
                by: actor("Inès B.", StaffRole::Moderator),
                at: NOON + 10 * MIN,
            }],
            contact: Some(MaskedContact {
                phone: Some("+33 6•• •• •• 78".into()),
                email: Some("m•••@e•••.fr".into()),
            }),
            consents: vec![],
            notes: vec![],
        };
        update(
            &mut c,
            Msg::Frame(ServerFrame::ViewerCard {
                id: frame.id.clone(),
                card: Box::new(card),
            }),
        );
        snap(&format!("card_{role}"), &mut c);
        // A sanction too long for the card ends in an ellipsis, never
        // mid-word; with room it is whole.
        let narrow = render(&mut c, 80, 24);
        let row = narrow
            .lines()
            .find(|l| l.contains("sanctions"))
            .expect("the sanction row");
        assert!(row.contains("(modera… │"), "{row}");
        let wide = render(&mut c, 160, 48);
        assert!(wide.contains("by Inès B. (moderator): spam "), "{wide}");
    }
}

/// Popup footers come from the keymap: with confirm moved from `y` to `o`,
/// the ban confirmation says `o ban`, and `y` no longer bans.
#[test]
fn confirm_footers_follow_a_remapped_yes_key() {
    let overrides = std::collections::BTreeMap::from([
        ("y".to_string(), "none".to_string()),
        ("o".to_string(), "confirm".to_string()),
    ]);
    let (keymap, warnings) = regie::console::keymap::Keymap::with_overrides(&overrides);
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut b = show(StaffRole::Moderator);
    b.keymap = keymap;
    feed(&mut b, [key('k'), key('b')]);
    let screen = render(&mut b, 160, 48);
    assert!(screen.contains("o ban · n cancel"), "{screen}");
    assert!(!screen.contains("y ban"), "{screen}");
    assert!(feed(&mut b, [key('y')]).is_empty(), "y is unbound");
    assert!(b.popup.is_some());
    let effects = feed(&mut b, [key('o')]);
    assert!(
        matches!(commands(&effects).as_slice(), [Command::Ban { .. }]),
        "{effects:?}"
    );

    let mut q = show(StaffRole::Moderator);
    q.keymap = b.keymap.clone();
    feed(&mut q, [key('q')]);
    let screen = render(&mut q, 80, 24);
    assert!(screen.contains("o quit · n stay"), "{screen}");
}

/// The feed's view state (`FeedView`) lives with the caller between draws,
/// as in the real loop: stepping up a line at a time, drawing after each
/// step, keeps the selected line on screen, and jumping to the bottom
/// follows again.
#[test]
fn a_kept_feed_view_keeps_the_selection_on_screen_while_scrolling() {
    let mut c = show(StaffRole::Moderator);
    for i in 0..40u64 {
        update(
            &mut c,
            Msg::Frame(event(
                100 + i,
                NOON + 28 * MIN,
                Event::Message {
                    message: message(
                        300 + i,
                        NOON + 28 * MIN,
                        viewer("v-zoe", "Zoé", "zoe"),
                        &format!("line number {i}"),
                    ),
                },
            )),
        );
    }
    let theme = theme::Theme::builtin_default();
    let mut view = regie::console::view::FeedView::default();
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    update(
        &mut c,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    for step in 0..45 {
        feed(&mut c, [key('k')]);
        terminal
            .draw(|f| regie::console::view::draw(f, &c, &mut view, &theme))
            .unwrap();
        let selected = c.target().map(|m| m.text.clone());
        if let Some(text) = selected.filter(|t| t.starts_with("line number")) {
            let screen = terminal.backend().to_string();
            assert!(
                screen.contains(&text),
                "step {step}: {text:?} off screen\n{screen}"
            );
        }
    }
    feed(&mut c, [key('G')]);
    assert!(c.scroll.follow);
}

#[test]
fn prompts_and_confirmations() {
    let mut host = show(StaffRole::Host);
    feed(&mut host, [code(KeyCode::Tab), code(KeyCode::Enter)]);
    feed(&mut host, typed("Julie, yes, it comes in 38 👗"));
    snap("reply_line_host", &mut host);

    let mut quitting = show(StaffRole::Host);
    feed(&mut quitting, [key('q')]);
    snap("quit_confirm", &mut quitting);

    let mut filtering = show(StaffRole::Moderator);
    feed(&mut filtering, [key('/')]);
    feed(&mut filtering, typed("from:julie is:question"));
    snap("filter_prompt", &mut filtering);
    feed(&mut filtering, [code(KeyCode::Enter)]);
    snap("filtered_feed", &mut filtering);

    let mut timing_out = show(StaffRole::Moderator);
    feed(&mut timing_out, [key('k'), key('t')]);
    snap("timeout_prompt", &mut timing_out);

    let mut banning = show(StaffRole::Moderator);
    // b opens the confirmation with the first reason template.
    feed(&mut banning, [key('k'), key('b')]);
    snap("ban_confirm", &mut banning);

    let mut redacting = show(StaffRole::Support);
    feed(
        &mut redacting,
        [
            key('k'),
            key('k'),
            key('k'),
            key('k'),
            key('k'),
            key('k'),
            key('k'),
            key('k'),
            key('r'),
            key('e'),
        ],
    );
    snap("redact_reason_prompt", &mut redacting);
    feed(&mut redacting, [code(KeyCode::Enter)]);
    assert!(matches!(
        redacting.popup,
        Some(Popup::Confirm(Confirm {
            what: Target::Redact { .. }
        }))
    ));
    snap("redact_confirm", &mut redacting);
}

#[test]
fn connection_states_in_the_status_bar() {
    let mut c = show(StaffRole::Host);
    update(
        &mut c,
        Msg::Connection(ConnStatus::Reconnecting {
            attempt: 3,
            next_try_at: NOON + 30 * MIN + 2_000,
        }),
    );
    feed(&mut c, [code(KeyCode::Tab), key('p')]);
    snap("reconnecting_with_pending", &mut c);
    update(
        &mut c,
        Msg::Connection(ConnStatus::Offline {
            reason: "hub unreachable".into(),
        }),
    );
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("Offline: hub unreachable"), "{screen}");
}

#[test]
fn terminal_too_small() {
    let mut c = show(StaffRole::Host);
    let screen = render(&mut c, 59, 15);
    insta::assert_snapshot!("too_small", screen);
}

#[test]
fn empty_show() {
    let mut c = console(StaffRole::Host);
    update(
        &mut c,
        Msg::Frame(welcome(StaffRole::Host, "Claire", 0, Snapshot::default())),
    );
    snap("empty_show", &mut c);
}

/// Text a hostile viewer could send if the hub's sanitiser were bypassed.
fn hostile_show() -> regie::console::state::Console {
    let mut c = console(StaffRole::Admin);
    let zalgo = format!("Z{}", "\u{0301}".repeat(200));
    let long_word = "ab".repeat(1_000);
    let texts = [
        "\x1b]0;pwned title\x07 \x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\ \x1b[2J\x1b[31mred\x1b[0m".to_string(),
        "bidi \u{202E}txet desrever\u{202C} and \u{2066}isolate\u{2069} zero\u{200B}width".to_string(),
        "family 👨‍👩‍👧‍👦 flag 🏳️‍🌈 cjk 日本語のテキスト mixed 🇫🇷".to_string(),
        zalgo,
        long_word,
        "tab\tand\nnewline\r\u{85}end \u{9b}31m c1 csi \u{7f}del".to_string(),
    ];
    let recent = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            ChatEntry::Message(message(
                i as u64 + 1,
                NOON + Millis::try_from(i).expect("a few hostile lines") * MIN,
                viewer(&format!("v-{i}"), "Eve\x1b[5m\u{202E}", "p\x07"),
                t,
            ))
        })
        .collect();
    update(
        &mut c,
        Msg::Frame(welcome(
            StaffRole::Admin,
            "Alex",
            6,
            Snapshot {
                recent,
                ..Snapshot::default()
            },
        )),
    );
    c
}

#[test]
fn hostile_text_is_sanitised_at_render_and_never_moves_a_border() {
    for (w, h) in SIZES {
        let mut c = hostile_show();
        // Scroll to the top so every hostile line is on screen at some point.
        for top in [false, true] {
            if top {
                feed(&mut c, [key('g')]);
            }
            let buf = buffer(&mut c, w, h);
            for cell in &buf.content {
                for ch in cell.symbol().chars() {
                    assert!(
                        !ch.is_control()
                            && !('\u{202A}'..='\u{202E}').contains(&ch)
                            && !('\u{2066}'..='\u{2069}').contains(&ch)
                            && ch != '\u{200B}',
                        "{ch:?} reached a cell"
                    );
                }
            }
            // The feed's right border stays in its column on every row.
            let border_x = (0..w)
                .find(|&x| buf[(x, 0)].symbol() == "┓")
                .expect("feed pane's top-right corner");
            for y in 1..h - 3 {
                assert!(
                    matches!(buf[(border_x, y)].symbol(), "┃" | "┛"),
                    "row {y} at {w}x{h}: {:?}",
                    buf[(border_x, y)].symbol()
                );
            }
            let screen = render(&mut c, w, h);
            // Escape sequences go whole: no title, no link target, no
            // leftover parameters; the text between them stays.
            for leftover in ["pwned", "evil.example", "8;;", "[2J", "[31m", "31m c1"] {
                assert!(
                    !screen.contains(leftover),
                    "{leftover:?} at {w}x{h}: {screen}"
                );
            }
            if top {
                assert!(screen.contains("Eve~p click red"), "{w}x{h}: {screen}");
            }
            insta::assert_snapshot!(
                format!("hostile_{}_{w}x{h}", if top { "top" } else { "bottom" }),
                screen
            );
        }
    }
}

#[test]
fn every_colour_comes_from_the_theme() {
    let c = show(StaffRole::Moderator);
    let find = |buf: &ratatui::buffer::Buffer, sym: &str| {
        buf.content
            .iter()
            .find(|cell| cell.symbol() == sym)
            .map(ratatui::buffer::Cell::style)
            .unwrap()
    };
    for name in ["default", "light", "high-contrast"] {
        let theme = theme::load(name).unwrap().theme;
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
        terminal
            .draw(|f| regie::console::view::draw(f, &c, &mut FeedView::default(), &theme))
            .unwrap();
        let buf = terminal.backend().buffer().clone();
        for (sym, key) in [
            ("▪", StyleKey::MarkerHeld),
            ("⊘", StyleKey::MarkerHidden),
            ("↳", StyleKey::MarkerStaffAnswer),
            ("✓", StyleKey::MarkerAnswered),
            ("⌫", StyleKey::FeedTombstone),
        ] {
            let got = find(&buf, sym);
            assert_eq!(got.fg, theme.style(key).fg, "{name}: {sym}");
        }
    }
    // A theme that inherits and overrides one colour changes just that.
    let mut warnings = vec![];
    let custom = theme::parse(
        "custom.toml",
        "inherit = \"default\"\n[styles]\n\"marker.held\" = \"#123456\"\n",
        None,
        0,
        &mut warnings,
    )
    .unwrap();
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    terminal
        .draw(|f| regie::console::view::draw(f, &c, &mut FeedView::default(), &custom))
        .unwrap();
    let buf = terminal.backend().buffer().clone();
    assert_eq!(find(&buf, "▪").fg, Some(Color::Rgb(0x12, 0x34, 0x56)));
}

/// Every popup over a feed of CJK and emoji keeps its left border and
/// bottom-left corner, at both sizes: a wide character just left of the
/// popup is blanked rather than left to cover the border.
#[test]
fn popups_over_wide_characters_keep_their_left_border() {
    let opened: [(&str, Vec<Msg>); 9] = [
        ("help", vec![key('?')]),
        ("quit_confirm", vec![key('q')]),
        ("ban_confirm", vec![key('k'), key('b')]),
        ("timeout_prompt", vec![key('k'), key('t')]),
        ("redact_prompt", vec![key('k'), key('r'), key('e')]),
        ("redact_confirm", vec![key('k'), key('r')]),
        ("filter_prompt", vec![key('/')]),
        ("card_loading", vec![key('k'), key('v')]),
        ("card", vec![key('k'), key('v')]),
    ];
    for (name, keys) in opened {
        let mut c = show(StaffRole::Admin);
        wide_chat(&mut c, 100, 50);
        let effects = feed(&mut c, keys);
        if name == "card" {
            let regie::console::state::Effect::Send(frame) = &effects[0] else {
                panic!("the card is requested")
            };
            let card = ViewerCard {
                viewer_id: ViewerId("v-misaki".into()),
                first_name: "美咲子A".into(),
                pseudonym: "misaki".into(),
                first_seen: NOON,
                recent: vec![],
                sanctions: vec![],
                contact: None,
                consents: vec![],
                notes: vec![],
            };
            update(
                &mut c,
                Msg::Frame(ServerFrame::ViewerCard {
                    id: frame.id.clone(),
                    card: Box::new(card),
                }),
            );
        }
        assert!(c.popup.is_some(), "{name} is open");
        for (w, h) in SIZES {
            assert_popup_left_border(&buffer(&mut c, w, h), &format!("{name} at {w}x{h}"));
            let screen = render(&mut c, w, h);
            insta::assert_snapshot!(format!("wide_under_{name}_{w}x{h}"), screen);
        }
    }
}

/// The status bar's last row as text.
fn status_row(c: &mut regie::console::state::Console, w: u16, h: u16) -> String {
    let buf = buffer(c, w, h);
    (0..w).map(|x| buf[(x, h - 1)].symbol()).collect()
}

/// A show with one command waiting for the hub (a pin typed while
/// reconnecting) and the hub's goodbye in the status line.
fn pending_with_goodbye() -> regie::console::state::Console {
    let mut c = show(StaffRole::Host);
    update(
        &mut c,
        Msg::Connection(ConnStatus::Reconnecting {
            attempt: 3,
            next_try_at: NOON + 30 * MIN + 2_000,
        }),
    );
    feed(&mut c, [code(KeyCode::Tab), key('p')]);
    update(
        &mut c,
        Msg::Frame(ServerFrame::Bye {
            code: ErrorCode::ShuttingDown,
            message: "the hub is restarting for an update, your console will reconnect by itself"
                .into(),
        }),
    );
    c
}

/// The connection state and the pending count show at every width, next
/// to the hub's goodbye or not, in every connection state; the goodbye
/// gives way and ends in an ellipsis.
#[test]
fn the_pending_count_shows_at_every_width_next_to_any_message() {
    let states = [
        (
            ConnStatus::Reconnecting {
                attempt: 3,
                next_try_at: NOON + 30 * MIN + 2_000,
            },
            "◌ Reconnecting (attempt 3, next try in 2s)",
        ),
        (
            ConnStatus::Offline {
                reason: "the hub refused the connection for a long time now".into(),
            },
            "✕ Offline: the hub refused the connectio…",
        ),
        (ConnStatus::Connecting, "… Connecting"),
    ];
    for (conn, shown) in states {
        for with_note in [false, true] {
            let mut c = pending_with_goodbye();
            if !with_note {
                c.note = None;
            }
            update(&mut c, Msg::Connection(conn.clone()));
            for w in 60..=200 {
                let row = status_row(&mut c, w, 24);
                assert!(row.contains(shown), "{w} cols, note {with_note}: {row:?}");
                assert!(
                    row.contains("» 1 pending"),
                    "{w} cols, note {with_note}: {row:?}"
                );
                if with_note && !row.contains("reconnect by itself") {
                    assert!(row.contains(" h"), "{w} cols: {row:?}");
                    assert!(row.ends_with('…'), "{w} cols: the goodbye is cut: {row:?}");
                }
            }
        }
    }
}

/// The same at the two snapshot sizes, whole screen: at 80 columns the
/// pending count shortens to make room for the goodbye; at 160 it keeps
/// "(1 wait for the hub)".
#[test]
fn pending_count_beside_the_hubs_goodbye() {
    let mut c = pending_with_goodbye();
    let row = status_row(&mut c, 80, 24);
    assert_eq!(
        row,
        " ◌ Reconnecting (attempt 3, next try in 2s)  » 1 pending  hub closing (shutting…"
    );
    let row = status_row(&mut c, 160, 48);
    assert!(
        row.starts_with(
            " ◌ Reconnecting (attempt 3, next try in 2s)  » 1 pending (1 wait for the hub) "
        ),
        "{row:?}"
    );
    snap("goodbye_with_pending", &mut c);
}

/// Held and pending have their own marks, both drawn by every common
/// terminal font and one cell wide even where East Asian ambiguous-width
/// characters take two (the old `⧗` is in none of the fonts here).
#[test]
fn held_and_pending_marks_are_distinct_and_narrow_everywhere() {
    use regie::console::view::{HELD_GLYPH, PENDING_GLYPH};
    use unicode_width::UnicodeWidthStr;
    assert_ne!(HELD_GLYPH, PENDING_GLYPH);
    for glyph in [HELD_GLYPH, PENDING_GLYPH] {
        assert_eq!(glyph.width(), 1, "{glyph}");
        assert_eq!(glyph.width_cjk(), 1, "{glyph} is ambiguous-width");
    }
    let mut c = show(StaffRole::Moderator);
    feed(&mut c, [code(KeyCode::Tab), key('p')]);
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(!screen.contains('⧗'), "{screen}");
        assert!(
            screen.contains(&format!("{HELD_GLYPH}  25m phone")),
            "{screen}"
        );
        assert!(screen.contains(&format!("12:05 {HELD_GLYPH} ")), "{screen}");
        assert!(
            screen.contains(&format!("{PENDING_GLYPH} 1 pending")),
            "{screen}"
        );
    }
}

#[test]
fn status_messages_and_their_log() {
    // An error, then a later success that replaces it with a confirmation.
    let mut c = show(StaffRole::Host);
    feed(&mut c, [key('k'), key('r')]);
    snap("status_refused_as_a_sentence", &mut c);
    let effects = feed(&mut c, [code(KeyCode::Tab), key('x')]);
    let [regie::console::state::Effect::Send(frame)] = effects.as_slice() else {
        panic!("x sends one command: {effects:?}")
    };
    update(
        &mut c,
        Msg::Frame(ServerFrame::Ack {
            id: frame.id.clone(),
            seq: None,
        }),
    );
    snap("status_success_confirmed", &mut c);
    let seq = c.seq;
    update(
        &mut c,
        Msg::Frame(event(
            seq + 1,
            NOON + 30 * MIN,
            Event::QuestionAnswered {
                message_id: MessageId(2),
                by: actor("Claire", StaffRole::Host),
            },
        )),
    );
    assert!(
        feed(&mut c, [key('x')]).is_empty(),
        "answered: nothing sent"
    );
    snap("status_already_answered", &mut c);
    feed(&mut c, [key('m')]);
    snap("message_log", &mut c);

    let mut moderator = show(StaffRole::Moderator);
    feed(&mut moderator, [key('W')]);
    let screen = render(&mut moderator, 160, 48);
    assert!(
        screen.contains("A moderator can't launch an instant win."),
        "{screen}"
    );
    assert!(!screen.contains("instant_win"), "{screen}");
}

#[test]
fn quit_dialog_lists_pending_commands_and_the_demo() {
    let mut c = show(StaffRole::Host);
    feed(&mut c, [code(KeyCode::Tab), key('x'), key('p'), key('q')]);
    snap("quit_confirm_pending", &mut c);
    let screen = render(&mut c, 160, 48);
    assert!(
        screen.contains("mark Julie's message #2 answered"),
        "{screen}"
    );
    assert!(screen.contains("unpin Julie's message #2"), "{screen}");
    assert!(!screen.contains("hub and its crowd"), "{screen}");

    let mut demo = show(StaffRole::Host);
    demo.demo = true;
    feed(&mut demo, [key('q')]);
    snap("quit_confirm_demo", &mut demo);
    let screen = render(&mut demo, 160, 48);
    assert!(screen.contains("stops its hub and its crowd"), "{screen}");
}

const THEMES: [&str; 3] = ["default", "light", "high-contrast"];

/// Colour carries meaning the text snapshots cannot see: the held mark is
/// drawn in the theme's held colour, an error in the error colour, and the
/// focused pane's border in the focus colour (the others not).
#[test]
fn held_error_and_focus_are_drawn_in_their_theme_colours() {
    for name in THEMES {
        let theme = theme::load(name).unwrap().theme;
        let mut c = show(StaffRole::Moderator);
        // A moderator may not launch a poll: the status line says so, as an error.
        feed(&mut c, [key('P')]);
        let note = c.note.clone().expect("the refusal is on the status line");
        assert!(note.error, "{note:?}");
        for (w, h) in SIZES {
            let buf = buffer_with(&mut c, w, h, &theme);
            let held = view_held_mark(&buf);
            assert_eq!(
                buf[held].fg,
                theme.style(StyleKey::MarkerHeld).fg.unwrap(),
                "{name} {w}x{h}: the held mark"
            );
            let start: String = note.text.chars().take(12).collect();
            let at = find_text(&buf, &start).expect("the error is drawn");
            assert_eq!(
                buf[at].fg,
                theme.style(StyleKey::StatusError).fg.unwrap(),
                "{name} {w}x{h}: the error"
            );
            // The feed has the focus at first; its corner is the focus colour.
            assert_eq!(buf[(0, 0)].symbol(), "┏", "{name} {w}x{h}");
            assert_eq!(
                buf[(0, 0)].fg,
                theme.style(StyleKey::BorderFocused).fg.unwrap(),
                "{name} {w}x{h}: the focused border"
            );
        }
        // Tab moves the focus: the feed's corner goes back to the plain colour.
        feed(&mut c, [code(KeyCode::Tab)]);
        let buf = buffer_with(&mut c, 160, 48, &theme);
        assert_eq!(
            buf[(0, 0)].fg,
            theme.style(StyleKey::Border).fg.unwrap(),
            "{name}: the unfocused border"
        );
    }
}

/// The cell of the held mark on the held message's row ("12:05 ▪").
fn view_held_mark(buf: &ratatui::buffer::Buffer) -> (u16, u16) {
    use regie::console::view::HELD_GLYPH;
    let (x, y) = find_text(buf, &format!("12:05 {HELD_GLYPH}")).expect("the held row is drawn");
    (x + 6, y)
}

/// Each theme paints its own background on every cell, so it reads the same
/// on a dark terminal and a light one (none leaves a cell to the terminal's
/// own background); the main area is the theme's base background.
#[test]
fn every_theme_paints_its_background_on_every_cell() {
    use unicode_width::UnicodeWidthStr;
    let screens: [(&str, Vec<Msg>); 5] = [
        ("main", vec![]),
        ("help", vec![key('?')]),
        ("card", vec![key('v')]),
        ("filter", vec![key('/')]),
        ("too small", vec![]),
    ];
    for name in THEMES {
        let theme = theme::load(name).unwrap().theme;
        let base = theme.style(StyleKey::Base).bg;
        assert!(
            base.is_some() && base != Some(Color::Reset),
            "{name} has no background of its own"
        );
        for (what, keys) in &screens {
            let mut c = show(StaffRole::Admin);
            feed(&mut c, keys.clone());
            let sizes: &[(u16, u16)] = if *what == "too small" {
                &[(30, 8)]
            } else {
                &SIZES
            };
            for &(w, h) in sizes {
                let buf = buffer_with(&mut c, w, h, &theme);
                for y in 0..h {
                    for x in 0..w {
                        // The right half of a wide character is drawn by
                        // the terminal in the character's own background.
                        if x > 0 && buf[(x - 1, y)].symbol().width() > 1 {
                            continue;
                        }
                        assert_ne!(
                            buf[(x, y)].bg,
                            Color::Reset,
                            "{name} {what} {w}x{h}: cell ({x},{y}) {:?} has the terminal's background",
                            buf[(x, y)].symbol()
                        );
                    }
                }
                // Inside the feed pane, away from any popup: the base colour.
                assert_eq!(Some(buf[(1, h - 4)].bg), base, "{name} {what} {w}x{h}");
            }
        }
    }
}

/// At 80×24 the admin's help is longer than the screen: its last row says
/// how much is hidden and how to scroll, and scrolling reaches the end.
#[test]
fn help_too_long_for_the_screen_says_so_and_scrolls_to_the_end() {
    let mut c = show(StaffRole::Admin);
    feed(&mut c, [key('?')]);
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("more · j/k scroll"), "{screen}");
    assert!(screen.contains("│ ↓ 44 more · j/k scroll"), "{screen}");
    assert!(!screen.contains("│ ↑ "), "nothing above yet: {screen}");
    assert!(!screen.contains("typing:"), "{screen}");
    feed(&mut c, (0..60).map(|_| key('j')));
    let screen = render(&mut c, 80, 24);
    assert!(screen.contains("more · j/k scroll"), "{screen}");
    assert!(screen.contains("typing:"), "the end is reachable: {screen}");
    assert!(screen.contains("│ ↑ 44 more · j/k scroll"), "{screen}");
    assert!(
        !screen.contains("more · ↓"),
        "nothing below any more: {screen}"
    );
    for k in ["? ", "q "] {
        assert!(screen.contains(&format!("│ {k}")), "{k}: {screen}");
    }
    // On a tall enough screen it all fits: no hint.
    feed(&mut c, [code(KeyCode::Esc), key('?')]);
    let screen = render(&mut c, 160, 90);
    assert!(!screen.contains("j/k scroll"), "{screen}");
}

/// Two viewers of one long first name keep their pseudonyms whole in the
/// name column, at every width: the first name is what gets shortened.
#[test]
fn a_shared_long_first_name_is_shortened_before_the_pseudonym() {
    let mut c = show(StaffRole::Moderator);
    for (i, pseudonym) in [(0_u64, "#4821"), (1, "#9307")] {
        let at = NOON + (23 + i.cast_signed()) * MIN;
        let author = viewer(&format!("v-jp{i}"), "Jean-Philippe", pseudonym);
        update(
            &mut c,
            Msg::Frame(event(
                30 + i,
                at,
                Event::Message {
                    message: message(300 + i, at, author, "bonjour"),
                },
            )),
        );
    }
    let narrow = render(&mut c, 80, 24);
    for name in ["Je…~#4821 bonjour", "Je…~#9307 bonjour"] {
        assert!(narrow.contains(name), "{name}: {narrow}");
    }
    let middle = render(&mut c, 120, 40);
    for name in ["Jean-Phi…~#4821 bonjour", "Jean-Phi…~#9307 bonjour"] {
        assert!(middle.contains(name), "{name}: {middle}");
    }
    let wide = render(&mut c, 160, 48);
    for name in ["Jean-Philippe~#4821 bonjour", "Jean-Philippe~#9307 bonjour"] {
        assert!(wide.contains(name), "{name}: {wide}");
    }
}

/// The column where chat text starts on the row holding `needle`, in
/// cells (the name column's right edge plus one).
fn text_column(screen: &str, needle: &str) -> usize {
    let row = screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not on screen: {screen}"));
    let at = row.find(needle).unwrap_or_default();
    unicode_width::UnicodeWidthStr::width(&row[..at])
}

/// The name column grows with the window, in steps no coarser than a
/// cell, between a floor and a cap: a long name shows whole on a wide
/// console, and every row's text starts at the same column.
#[test]
fn the_name_column_grows_with_the_window() {
    let mut c = show(StaffRole::Moderator);
    let at = NOON + 23 * MIN;
    let author = viewer("v-ma", "Marie-Antoinette", "#5150");
    update(
        &mut c,
        Msg::Frame(event(
            30,
            at,
            Event::Message {
                message: message(300, at, author, "bonsoir"),
            },
        )),
    );
    let mut columns = Vec::new();
    for (w, h) in [
        (80, 24),
        (100, 30),
        (120, 40),
        (160, 48),
        (200, 50),
        (240, 60),
    ] {
        let screen = render(&mut c, w, h);
        let col = text_column(&screen, "bonsoir");
        // Marc's row lines up with Marie-Antoinette's.
        assert_eq!(col, text_column(&screen, "comment number 5"), "{w}x{h}");
        columns.push(col);
        if (w, h) == (120, 40) {
            insta::assert_snapshot!("name_column_120x40", screen);
        }
        if w >= 160 {
            assert!(
                screen.contains("Marie-Antoinette bonsoir"),
                "{w}x{h}: {screen}"
            );
        }
    }
    assert!(columns.windows(2).all(|p| p[0] <= p[1]), "{columns:?}");
    assert!(
        columns[3] > columns[2] && columns[2] > columns[0],
        "{columns:?}"
    );
    // The cap: at 240 columns the column is no wider than at 200 plus the
    // pane's growth would allow (names never take more than 24 cells).
    assert_eq!(columns[5] - columns[4], 0, "{columns:?}");
}

#[test]
fn the_viewer_count_is_unknown_while_away_and_the_welcome_refreshes_it() {
    let mut c = show(StaffRole::Moderator);
    assert_eq!(c.viewers_online, Some(83), "from the snapshot");
    update(
        &mut c,
        Msg::Connection(ConnStatus::Offline {
            reason: "hub unreachable".into(),
        }),
    );
    assert_eq!(c.viewers_online, None, "a count from before is stale");
    snap("viewers_unknown_offline", &mut c);
    update(&mut c, Msg::Connection(ConnStatus::Connected));
    assert_eq!(c.viewers_online, None, "unknown until the hub says");
    let name = c.session.name.clone();
    let seq = c.seq;
    update(
        &mut c,
        Msg::Frame(resumed_welcome(StaffRole::Moderator, &name, seq, 0)),
    );
    assert_eq!(c.viewers_online, Some(0), "the resumed welcome's count");
    snap("viewers_after_resumed_welcome", &mut c);
}

/// `regie demo`'s console keeps the second console's attach command (the
/// binary's real path) in the help popup, at its top, after the status
/// note that first named it is gone.
#[test]
fn the_demo_help_shows_how_to_attach_a_second_console() {
    let attach = "REGIE_TOKEN=$(sed -n 's/^token=//p' /tmp/regie-demo-Ab12/second-console.txt) \
                  /home/ana/regie/target/debug/regie console --url ws://127.0.0.1:40123 --live spring-show";
    let mut plain = show(StaffRole::Host);
    feed(&mut plain, [key('?')]);
    assert!(!render(&mut plain, 160, 48).contains("second console"));
    let mut c = show(StaffRole::Host);
    c.demo = true;
    c.attach = Some(attach.to_string());
    feed(&mut c, [key('?')]);
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        for part in [
            "A second console, in another terminal:",
            "/home/ana/regie/target/debug/regie",
            "second-console.txt",
        ] {
            assert!(screen.contains(part), "{w}x{h} {part}: {screen}");
        }
    }
    snap("help_demo_attach", &mut c);
}

/// The live's viewer delivery shows in the status bar when it is not the
/// default, and says when viewers get a sample of the chat.
#[test]
fn the_viewer_delivery_shows_in_the_status_bar() {
    let mut c = show(StaffRole::Host);
    let (w, h) = (200, 48);
    assert!(
        !status_row(&mut c, w, h).contains("viewers:"),
        "the default policy, every line: nothing to say"
    );
    let policy = DeliveryPolicy {
        tick_ms: 200,
        chat_per_sec: 5,
    };
    let by = actor("Claire", StaffRole::Host);
    update(
        &mut c,
        Msg::Frame(event(
            10_000,
            NOON + 30 * MIN,
            Event::DeliveryChanged { policy, by },
        )),
    );
    let quiet = status_row(&mut c, w, h);
    assert!(
        quiet.contains("viewers: every line to 5/s · 200ms"),
        "{quiet}"
    );
    // 600 lines in the last minute against 5 a second (300 a minute).
    let marc = || viewer("v-marc", "Marc", "marc");
    let lines: Vec<Msg> = (0..600)
        .map(|i| {
            let at = NOON + 30 * MIN;
            Msg::Frame(event(
                10_001 + i,
                at,
                Event::Message {
                    message: message(9_000 + i, at, marc(), "trop bien"),
                },
            ))
        })
        .collect();
    feed(&mut c, lines);
    let busy = status_row(&mut c, w, h);
    assert!(busy.contains("viewers: sampled 1/"), "{busy}");
    insta::assert_snapshot!("delivery_sampled_status_row", busy);
}
