//! Personal data in chat through a real hub (issue 9): full-width digits
//! (defect 2), a phone glued to an e-mail (the overlap bug) and a number
//! spelled out are held, masked for staff, masked on release, and never
//! reach the store's files in clear.

mod support;

use regie::protocol::{Command, Event, HoldReason, StaffRole, Visibility};
use regie::store::DB_FILE;
use support::hub::TestHub;
use support::store::on_disk;

/// (posted text, what staff must see, raw pieces that must never be stored)
const POSTS: [(&str, &str, &[&str]); 3] = [
    (
        "mon num ０６ １２ ３４ ５６ ７８ merci",
        "mon num 06 •• •• •• 78 merci",
        &["１２ ３４ ５６", "１２", "12 34 56"],
    ),
    (
        "0612345678 9a@b.fr",
        "06••••••78 9•••@b•••.fr",
        &["123456", "9a@b"],
    ),
    (
        "appelle zéro six douze trente-quatre cinquante-six soixante-dix-huit",
        "appelle 0 6 •• •• •• 78",
        &["douze trente-quatre", "cinquante-six"],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obfuscated_personal_data_is_held_masked_and_never_stored_in_clear() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut marc = hub.viewer("Marc").await;
    let mut lea = hub.viewer("Léa").await;

    let mut ids = Vec::new();
    for (text, shown, _) in POSTS {
        let seq = marc
            .ack(Command::Say {
                text: text.into(),
                question: false,
                announcement: false,
            })
            .await
            .expect("a held message is still an event (for staff)");
        let Event::Message { message } = ines.event_at(seq).await.event else {
            panic!("expected a message at {seq}");
        };
        assert_eq!(
            message.visibility,
            Visibility::Held {
                reason: HoldReason::PersonalData,
                rule_id: None,
            },
            "{text}"
        );
        assert_eq!(message.text, shown, "{text}");
        ids.push(message.id);
    }

    // Released, viewers get the masked text only.
    for (id, (text, shown, _)) in ids.iter().zip(POSTS) {
        let seq = ines
            .ack(Command::Release { message_id: *id })
            .await
            .expect("a release is an event");
        let Event::Released { message, .. } = lea.event_at(seq).await.event else {
            panic!("expected the release at {seq}");
        };
        assert_eq!(message.text, shown, "{text}");
    }

    let control = "CONTROL-zq85-visible";
    let seq = marc.say(control).await;
    ines.event_at(seq).await;
    assert!(on_disk(&dir, control), "the scan proves nothing");
    for (text, _, raws) in POSTS {
        for raw in raws {
            assert!(!on_disk(&dir, raw), "{raw:?} of {text:?} is on disk (WAL)");
        }
    }

    let kept = hub.stop().await.expect("the temp dir");
    for (text, _, raws) in POSTS {
        for raw in raws {
            assert!(
                !on_disk(kept.path(), raw),
                "{raw:?} of {text:?} is on disk (database)"
            );
        }
    }
    // The stored rows themselves: exactly the masked texts.
    let db = rusqlite::Connection::open(kept.path().join(DB_FILE)).expect("open the store");
    let mut stmt = db
        .prepare("SELECT text FROM messages ORDER BY id")
        .expect("query");
    let stored: Vec<String> = stmt
        .query_map([], |row| row.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("texts");
    for (_, shown, _) in POSTS {
        assert!(
            stored.iter().any(|t| t == shown),
            "{shown:?} not in {stored:?}"
        );
    }
    assert!(
        stored
            .iter()
            .all(|t| !t.contains('１') && !t.contains("12 34"))
    );
}
