//! Canned answers and products in the console: `ctrl-t` in the reply line
//! picks a canned answer (fuzzy search, merge tags filled in, a missing
//! value shown before anything is sent), the reply line refuses a raw
//! `{…}`, `ctrl-s` saves the line, `w` opens the products popup (show one,
//! add one), questions carry the product they were asked about. Update
//! tests on the show fixture, snapshots at 80×24 and 160×48.

mod support;

use crossterm::event::KeyCode;
use regie::console::state::{Console, Effect, Msg, Popup};
use regie::protocol::{
    CannedAnswer, Command, Event, LiveInfo, LiveState, MessageId, Product, StaffRole,
};
use support::console::{
    MIN, NOON, code, commands, ctrl, event, feed, key, question, render, show, typed, viewer,
};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn snap(name: &str, state: &mut Console) {
    for (w, h) in SIZES {
        let screen = render(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

fn robe() -> Product {
    Product {
        id: 1,
        name: "Robe Lina".into(),
        price: "49 €".into(),
        link: Some("https://shop.example.com/lina".into()),
    }
}

fn canned(title: &str, text: &str) -> CannedAnswer {
    CannedAnswer {
        title: title.into(),
        text: text.into(),
    }
}

/// The host's show, with two products and three canned answers; nothing
/// showing yet. The live has a title.
fn host_show() -> Console {
    let mut c = show(StaffRole::Host);
    c.live_info = Some(LiveInfo {
        name: "spring-show".into(),
        title: "Soldes d'hiver".into(),
        state: LiveState::OnAir,
        starts_at: None,
        started_at: None,
        ended_at: None,
    });
    let sac = Product {
        id: 2,
        name: "Sac <Noé>".into(),
        price: "89 €".into(),
        link: None,
    };
    feed(
        &mut c,
        [
            Msg::Frame(event(
                31,
                NOON + 20 * MIN,
                Event::ProductAdded { product: robe() },
            )),
            Msg::Frame(event(
                32,
                NOON + 20 * MIN,
                Event::ProductAdded { product: sac },
            )),
            Msg::Frame(event(
                33,
                NOON + 20 * MIN,
                Event::CannedAdded {
                    canned: canned(
                        "Livraison",
                        "{first_name}, la livraison est offerte pendant « {live} » !",
                    ),
                },
            )),
            Msg::Frame(event(
                34,
                NOON + 20 * MIN,
                Event::CannedAdded {
                    canned: canned(
                        "Prix du produit",
                        "{first_name}, la {product} est à {price} ce soir — {host}",
                    ),
                },
            )),
            Msg::Frame(event(
                35,
                NOON + 20 * MIN,
                Event::CannedAdded {
                    canned: canned("Retours", "Retours gratuits sous 30 jours"),
                },
            )),
        ],
    );
    c
}

/// The reply line on the first open question (Julie's, message 2).
fn reply_to_first_question(c: &mut Console) {
    feed(c, [code(KeyCode::Tab), code(KeyCode::Enter)]);
    assert!(c.compose.is_some(), "the reply line opened");
}

fn reply_text(c: &Console) -> String {
    c.compose
        .as_ref()
        .map(|r| r.editor.text().to_owned())
        .unwrap_or_default()
}

fn note(c: &Console) -> String {
    c.note.as_ref().map(|n| n.text.clone()).unwrap_or_default()
}

#[test]
fn the_picker_shows_a_missing_tag_as_an_error_and_inserts_nothing_raw() {
    let mut c = host_show();
    reply_to_first_question(&mut c);
    feed(&mut c, [ctrl('t')]);
    assert!(matches!(c.popup, Some(Popup::CannedPicker(_))));
    feed(&mut c, typed("prix"));
    snap("canned_picker_missing_product", &mut c);
    // Enter refuses: nothing showing, so {product} and {price} have no value.
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert!(effects.is_empty(), "{effects:?}");
    assert!(
        matches!(c.popup, Some(Popup::CannedPicker(_))),
        "the picker stays"
    );
    assert!(note(&c).contains("{product} has no value"), "{}", note(&c));
    assert_eq!(reply_text(&c), "", "nothing raw reached the reply line");
    // Esc closes the picker; the reply line is still there.
    feed(&mut c, [code(KeyCode::Esc)]);
    assert!(c.popup.is_none() && c.compose.is_some());
}

#[test]
fn a_picked_answer_is_expanded_into_the_reply_line_and_sent_as_typed() {
    let mut c = host_show();
    feed(
        &mut c,
        [Msg::Frame(event(
            36,
            NOON + 21 * MIN,
            Event::NowShowing {
                product: Some(robe()),
            },
        ))],
    );
    reply_to_first_question(&mut c);
    feed(&mut c, typed("Bonsoir ! "));
    feed(&mut c, [ctrl('t')]);
    // Fuzzy: "prx" finds "Prix du produit" by its title.
    feed(&mut c, typed("prx"));
    snap("canned_picker_expanded", &mut c);
    feed(&mut c, [code(KeyCode::Enter)]);
    assert!(c.popup.is_none());
    assert_eq!(
        reply_text(&c),
        "Bonsoir ! Julie, la Robe Lina est à 49 € ce soir — Claire"
    );
    let sent = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&sent),
        [Command::Answer {
            message_id: MessageId(2),
            text: "Bonsoir ! Julie, la Robe Lina est à 49 € ce soir — Claire".into(),
            also: Vec::new(),
        }]
    );
}

#[test]
fn arrows_choose_and_typing_filters_over_title_and_text() {
    let mut c = host_show();
    reply_to_first_question(&mut c);
    feed(
        &mut c,
        [
            ctrl('t'),
            code(KeyCode::Down),
            code(KeyCode::Down),
            code(KeyCode::Enter),
        ],
    );
    assert_eq!(reply_text(&c), "Retours gratuits sous 30 jours");
    // "30 jours" is in a text, not a title.
    let mut c = host_show();
    reply_to_first_question(&mut c);
    feed(&mut c, [ctrl('t')]);
    feed(&mut c, typed("30 jours"));
    feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(reply_text(&c), "Retours gratuits sous 30 jours");
}

#[test]
fn the_reply_line_never_sends_a_raw_merge_tag() {
    let mut c = host_show();
    reply_to_first_question(&mut c);
    feed(&mut c, typed("Elle est à {price}"));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert!(commands(&effects).is_empty(), "{effects:?}");
    assert!(note(&c).contains("{price}"), "{}", note(&c));
    assert!(c.compose.is_some(), "the line stays to be fixed");
    // Braces that are not a tag go out as typed.
    let mut c = host_show();
    reply_to_first_question(&mut c);
    feed(&mut c, typed("Code {{ PROMO }} :-{"));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(commands(&effects).len(), 1);
}

#[test]
fn ctrl_s_saves_the_reply_line_with_its_tags_as_a_canned_answer() {
    let mut c = host_show();
    reply_to_first_question(&mut c);
    feed(&mut c, typed("{first_name}, on l'a aussi en bleu"));
    feed(&mut c, [ctrl('s')]);
    assert!(matches!(c.popup, Some(Popup::Prompt(_))));
    feed(&mut c, typed("Couleurs"));
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        [Command::CannedAdd {
            title: "Couleurs".into(),
            text: "{first_name}, on l'a aussi en bleu".into(),
        }]
    );
    assert!(c.compose.is_some(), "the reply line is still being typed");
    // An unknown tag cannot be saved.
    let mut c = host_show();
    reply_to_first_question(&mut c);
    feed(&mut c, typed("{prénom} ?"));
    feed(&mut c, [ctrl('s')]);
    assert!(c.popup.is_none());
    assert!(
        note(&c).contains("unknown merge tag {prénom}"),
        "{}",
        note(&c)
    );
}

#[test]
fn the_products_popup_shows_one_and_adds_one() {
    let mut c = host_show();
    feed(&mut c, [key('w')]);
    assert!(matches!(c.popup, Some(Popup::Products(_))));
    feed(&mut c, [key('j')]);
    snap("products_popup", &mut c);
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        [Command::NowShowing {
            product_id: Some(2)
        }]
    );
    // Once it shows, Enter on it takes it off.
    let sac = c.showcase.product(2).cloned();
    feed(
        &mut c,
        [Msg::Frame(event(
            36,
            NOON + 21 * MIN,
            Event::NowShowing { product: sac },
        ))],
    );
    feed(&mut c, [key('w')]);
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        [Command::NowShowing { product_id: None }]
    );

    feed(&mut c, [key('w'), key('a')]);
    assert!(matches!(c.popup, Some(Popup::ProductForm(_))));
    feed(&mut c, typed("Ceinture Iris"));
    feed(&mut c, [code(KeyCode::Tab)]);
    feed(&mut c, typed("25 €"));
    feed(&mut c, [code(KeyCode::Tab)]);
    feed(&mut c, typed("javascript:alert(1)"));
    let effects: Vec<Effect> = feed(&mut c, [code(KeyCode::Enter)]);
    assert!(
        effects.is_empty(),
        "a non-http link is refused before sending"
    );
    snap("product_form_bad_link", &mut c);
    for _ in 0.."javascript:alert(1)".len() {
        feed(&mut c, [code(KeyCode::Backspace)]);
    }
    let effects = feed(&mut c, [code(KeyCode::Enter)]);
    assert_eq!(
        commands(&effects),
        [Command::ProductAdd {
            name: "Ceinture Iris".into(),
            price: "25 €".into(),
            link: None,
        }]
    );
}

#[test]
fn a_moderator_neither_shows_products_nor_saves_canned_answers() {
    let mut c = show(StaffRole::Moderator);
    let effects = feed(&mut c, [key('w')]);
    assert!(effects.is_empty() && c.popup.is_none());
    assert_eq!(
        note(&c),
        "A moderator can't show a product on the viewers' screen or add one."
    );
}

#[test]
fn questions_show_the_product_they_were_asked_about_and_the_card_shows_it() {
    let mut c = host_show();
    let mut q = question(
        30,
        NOON + 22 * MIN,
        viewer("v-lea", "Léa", "lea"),
        "Elle taille comment ?",
    );
    q.product = Some(1);
    feed(
        &mut c,
        [
            Msg::Frame(event(
                36,
                NOON + 21 * MIN,
                Event::NowShowing {
                    product: Some(robe()),
                },
            )),
            Msg::Frame(event(37, NOON + 22 * MIN, Event::Message { message: q })),
        ],
    );
    let wide = render(&mut c, 160, 48);
    assert!(wide.contains("[Robe Lina] Elle taille comment ?"), "{wide}");
    assert!(wide.contains("▶ Robe Lina 49 €"), "{wide}");
    snap("question_tagged_with_product", &mut c);
}
