//! `history_search` against a real hub (issue 12): staff search the live's
//! older chat, a page at a time, newest first; what was redacted, erased,
//! held or hidden is never found, searched for as an attacker would (by a
//! word only the removed message had); viewers are refused.

mod support;

use regie::protocol::{
    ChatMessage, Command, ErrorCode, Event, MAX_HISTORY_QUERY_CHARS, MessageId, ServerFrame,
    StaffRole,
};
use support::client::Client;
use support::hub::TestHub;

/// A hub whose viewers may say many lines in a row (the tests' chat).
async fn hub() -> TestHub {
    TestHub::start_with(|config| {
        config.settings.viewer_rate_per_sec = 1_000;
        config.settings.viewer_burst = 1_000;
    })
    .await
}

fn search(query: &str, before: Option<MessageId>, limit: u32) -> Command {
    Command::HistorySearch {
        query: query.into(),
        before,
        limit: Some(limit),
    }
}

async fn page(staff: &mut Client, command: Command) -> (Vec<ChatMessage>, Option<MessageId>) {
    match staff.command(command).await {
        ServerFrame::HistorySearch {
            messages,
            next_before,
            ..
        } => (messages, next_before),
        other => panic!("expected a history_search page, got {other:?}"),
    }
}

fn texts(messages: &[ChatMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

/// The id of the message event at `seq`, as `client` received it.
async fn message_id(client: &mut Client, seq: u64) -> MessageId {
    match client.event_at(seq).await.event {
        Event::Message { message } => message.id,
        other => panic!("expected a message at {seq}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_search_pages_newest_first_and_folds_case_and_accents() {
    let hub = hub().await;
    let mut julie = hub.viewer("Julie").await;
    let mut claire = hub.staff(StaffRole::Host, "Claire").await;
    for text in [
        "la robe verte 1",
        "autre chose",
        "LA RÓBE verte 2",
        "la robe rouge",
        "robe Verte 3",
        "rien",
        "une robe verte 4",
    ] {
        julie.say(text).await;
    }
    let (first, next) = page(&mut claire, search("robe verte", None, 2)).await;
    assert_eq!(texts(&first), ["une robe verte 4", "robe Verte 3"]);
    let next = next.expect("an older page");
    let (second, next) = page(&mut claire, search("robe verte", Some(next), 2)).await;
    assert_eq!(texts(&second), ["LA RÓBE verte 2", "la robe verte 1"]);
    let (last, next) = page(&mut claire, search("robe verte", next, 2)).await;
    assert!(last.is_empty(), "{last:?}");
    assert_eq!(next, None, "the search reached the live's first message");

    // No wildcard: `%` and `_` are searched for as themselves.
    julie.say("code -50% ce soir").await;
    julie.say("a_b").await;
    let (percent, _) = page(&mut claire, search("50%", None, 10)).await;
    assert_eq!(texts(&percent), ["code -50% ce soir"]);
    let (all, _) = page(&mut claire, search("%", None, 10)).await;
    assert_eq!(texts(&all), ["code -50% ce soir"]);
    let (underscore, _) = page(&mut claire, search("a_b", None, 10)).await;
    assert_eq!(texts(&underscore), ["a_b"]);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redacted_erased_held_and_hidden_messages_are_never_found() {
    let hub = hub().await;
    let mut julie = hub.viewer("Julie").await;
    let mut marc = hub.viewer("Marc").await;
    let mut lea = hub.viewer("Léa").await;
    let marc_id = marc.welcome.you.viewer_id.clone().expect("an id");
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;

    // Words only the removed messages have, next to a word they share
    // with one that stays.
    let redacted_seq = julie.say("bonjour zqredacted").await;
    let hidden_seq = lea.say("bonjour zqhidden").await;
    marc.say("bonjour zqerased").await;
    julie.say("bonjour tout le monde").await;
    let redacted = message_id(&mut sam, redacted_seq).await;
    let hidden = message_id(&mut sam, hidden_seq).await;

    let (before, _) = page(&mut sam, search("zqredacted", None, 10)).await;
    assert_eq!(
        texts(&before),
        ["bonjour zqredacted"],
        "found while visible"
    );

    sam.ack(Command::Redact {
        message_id: redacted,
        reason: "at the viewer's request".into(),
    })
    .await;
    ines.ack(Command::Hide {
        message_id: hidden,
        reason: String::new(),
    })
    .await;
    sam.ack(Command::EraseViewer {
        viewer_id: marc_id,
        reason: "art. 17".into(),
    })
    .await;

    for word in ["zqredacted", "zqhidden", "zqerased"] {
        let (found, _) = page(&mut sam, search(word, None, 100)).await;
        assert!(
            found.is_empty(),
            "{word} found after its removal: {found:?}"
        );
    }
    let (hello, _) = page(&mut ines, search("bonjour", None, 100)).await;
    assert_eq!(texts(&hello), ["bonjour tout le monde"]);
    let everything = serde_json::to_string(&hello).expect("serialises");
    for word in ["zqredacted", "zqhidden", "zqerased"] {
        assert!(!everything.contains(word), "{word} in {everything}");
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_are_refused_and_bad_searches_say_why() {
    let hub = hub().await;
    let mut julie = hub.viewer("Julie").await;
    julie.say("la robe").await;
    let refused = julie.refused(search("robe", None, 10)).await;
    assert_eq!(refused.code, ErrorCode::Forbidden);

    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    for bad in [
        search("   ", None, 10),
        search(&"a".repeat(MAX_HISTORY_QUERY_CHARS + 1), None, 10),
        search("robe", None, 0),
        search("robe", None, 101),
    ] {
        let refused = ines.refused(bad).await;
        assert_eq!(refused.code, ErrorCode::Invalid, "{refused:?}");
        assert!(!refused.message.is_empty());
    }
    // No limit: the default page.
    let answer = ines
        .command(Command::HistorySearch {
            query: "robe".into(),
            before: None,
            limit: None,
        })
        .await;
    let ServerFrame::HistorySearch { messages, .. } = answer else {
        panic!("expected a page, got {answer:?}")
    };
    assert_eq!(texts(&messages), ["la robe"]);
    hub.stop().await;
}
