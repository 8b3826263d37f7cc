//! The store's files read as bytes while a real hub runs (issue 16, items
//! 2 and 3): redacted text leaves the write-ahead log at the redaction, not
//! at shutdown, and personal data in held chat never reaches the disk raw.

mod support;

use regie::protocol::{Command, Event, HoldReason, StaffRole, Visibility};
use support::hub::TestHub;
use support::store::on_disk;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redacted_text_leaves_the_wal_while_the_hub_keeps_running() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut marc = hub.viewer("Marc").await;
    let secret = "SECRET-zq81-mon-adresse-rue-des-lilas";
    let kept = "KEPT-zq82-elle-existe-en-38";
    let seq = marc.say(secret).await;
    marc.say(kept).await;
    assert!(
        on_disk(&dir, secret),
        "the test proves nothing: the message is not on disk before its redaction"
    );
    let Event::Message { message } = sam.event_at(seq).await.event else {
        panic!("expected the message at {seq}");
    };
    sam.ack(Command::Redact {
        message_id: message.id,
        reason: "demande RGPD".into(),
    })
    .await;
    // The checkpoint runs at the end of the redaction's turn: any later
    // command is decided after it.
    marc.say("suite du live").await;

    assert!(
        !on_disk(&dir, secret),
        "the redacted text is still in the store's files while the hub runs"
    );
    assert!(on_disk(&dir, kept), "the scan no longer sees what was kept");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_personal_data_is_masked_before_it_is_stored() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut marc = hub.viewer("Marc").await;
    let posts = [
        ("appelez-moi au 06 12 34 56 78 svp", "12 34 56"),
        ("écrivez à marc.zq83dupont@example.fr", "zq83dupont"),
        (
            "mon IBAN FR76 3000 6000 0112 3456 7890 189",
            "3000 6000 0112",
        ),
        ("ma carte 4111 1111 1111 1111 merci", "4111 1111 1111"),
    ];
    let mut last = 0;
    for (text, _) in posts {
        last = marc.say(text).await;
        let Event::Message { message } = ines.event_at(last).await.event else {
            panic!("expected a message at {last}");
        };
        assert_eq!(
            message.visibility,
            Visibility::Held {
                reason: HoldReason::PersonalData,
                rule_id: None,
            },
            "{text}"
        );
    }
    let control = "CONTROL-zq84-visible";
    let control_seq = marc.say(control).await;
    ines.event_at(control_seq.max(last)).await;

    // Before any checkpoint (in the WAL) ...
    assert!(on_disk(&dir, control), "the scan proves nothing");
    for (text, raw) in posts {
        assert!(
            !on_disk(&dir, raw),
            "{raw:?} of {text:?} is on disk raw (WAL)"
        );
    }
    // ... and after the shutdown checkpoint (in the database file).
    let dir_keep = hub.stop().await.expect("the temp dir");
    assert!(on_disk(dir_keep.path(), control), "the scan proves nothing");
    for (text, raw) in posts {
        assert!(
            !on_disk(dir_keep.path(), raw),
            "{raw:?} of {text:?} is on disk raw (database)"
        );
    }
}
