//! The moderation rules engine from outside: its public API under random
//! hostile text (never a panic, spans always on the original's character
//! boundaries), and the hub holding the default list's terms however a
//! viewer disguises them (a real hub on 127.0.0.1:0, every wait bounded).

mod support;

use proptest::prelude::*;
use regie::hub::config::default_blocked_terms;
use regie::moderation::{Action, LinkPolicy, Matcher, Rule, RuleSet};
use regie::protocol::{Command, Event, HoldReason, StaffRole, Visibility};
use support::hub::TestHub;

fn rules() -> RuleSet {
    RuleSet::compile(vec![
        Rule::new(1, Matcher::Term("arnaque".into()), Action::Block),
        Rule::new(2, Matcher::Term("*naq*".into()), Action::Hold),
        Rule::new(3, Matcher::Term("con*".into()), Action::Flag),
        Rule::new(4, Matcher::Term("*ﬁn".into()), Action::Hold),
        Rule::new(5, Matcher::Term("İdiot".into()), Action::Hold),
        Rule::new(6, Matcher::Regex(r"\d{3,}".into()), Action::Flag),
        Rule::new(7, Matcher::Links(LinkPolicy::NoLinks), Action::Hold),
    ])
    .expect("valid rules")
}

/// Characters that folding treats specially, mixed with anything at all.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            'a',
            'r',
            'n',
            'q',
            'u',
            'e',
            'c',
            'o',
            'é',
            '\u{301}',
            '\u{308}',
            'Ａ',
            '４',
            '３',
            '\u{200B}',
            '\u{FEFF}',
            '\u{AD}',
            'İ',
            'ß',
            'ﬁ',
            'ǅ',
            '@',
            '$',
            '1',
            'l',
            '*',
            '.',
            '/',
            ' ',
            '\u{3000}',
            '😍',
            'w',
            ':',
            '\u{E0041}',
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn evaluating_never_panics_and_spans_are_char_boundaries(
        chars in prop::collection::vec(hostile_char(), 0..60)
    ) {
        let text: String = chars.into_iter().collect();
        let set = rules();
        for verdict in set.verdicts(&text, 0) {
            let span = verdict.span;
            prop_assert!(span.start <= span.end && span.end <= text.len(), "{span:?} in {text:?}");
            prop_assert!(text.is_char_boundary(span.start), "{span:?} in {text:?}");
            prop_assert!(text.is_char_boundary(span.end), "{span:?} in {text:?}");
        }
        let _ = set.evaluate(&text, i64::MAX);
    }

    #[test]
    fn a_disguised_term_between_words_always_fires(
        before in "[a-z ]{0,12}",
        after in "[a-z ]{0,12}",
        disguise in prop::sample::select(vec!["Arnaque", "arnaqué", "ＡＲＮＡＱＵＥ", "arn4que", "@RN@QU3"]),
    ) {
        let text = format!("{before} {disguise} {after}");
        let set = RuleSet::compile(vec![Rule::new(1, Matcher::Term("arnaque".into()), Action::Hold)])
            .expect("valid");
        let verdict = set.evaluate(&text, 0);
        prop_assert!(verdict.is_some(), "{text:?}");
        let span = verdict.map(|v| v.span).unwrap_or_default();
        prop_assert_eq!(&text[span], disguise);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_holds_a_default_term_however_it_is_disguised() {
    assert!(default_blocked_terms().iter().any(|t| t == "arnaqueur"));
    let hub = TestHub::start().await;
    let mut marc = hub.viewer("Marc").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;

    // One author per line, so the rate limit stays out of the way.
    for (author, disguised) in [
        ("Julie", "quel ARN4QUEUR"),
        ("Zoé", "quel ａｒｎａｑｕｅｕｒ"),
        ("Léo", "gros arnaquéur !"),
    ] {
        let mut author = hub.viewer(author).await;
        let held = author
            .ack(Command::Say {
                text: disguised.into(),
                question: false,
                announcement: false,
            })
            .await
            .expect("a held message is still an event (for staff)");
        let Event::Message { message } = ines.event_at(held).await.event else {
            panic!("staff see the held message")
        };
        assert!(
            matches!(
                message.visibility,
                Visibility::Held {
                    reason: HoldReason::BlockedTerm,
                    rule_id: Some(_),
                }
            ),
            "held by a rule, named by its id: {disguised}"
        );
        assert_eq!(message.text, disguised, "staff see what was typed");
        let clean = author.say("pardon").await;
        assert_eq!(
            marc.event_at(held).await.seq,
            clean,
            "viewers skip {disguised:?}"
        );
    }
    // A brand name that merely contains a term stays clean.
    let seq = hub
        .viewer("Léa")
        .await
        .say("j'adore Arnaqueurland, la marque")
        .await;
    let Event::Message { message } = marc.event_at(seq).await.event else {
        panic!("viewers see a clean message")
    };
    assert_eq!(message.visibility, Visibility::Visible);
    hub.stop().await;
}
