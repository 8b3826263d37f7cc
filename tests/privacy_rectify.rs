//! Issue 9, "Rectify" (Art. 16), against a real hub: support corrects a
//! viewer's first name and pseudonym; every connected client gets the
//! event, a late client's snapshot shows only the corrected names (on the
//! viewer's lines and on the answers addressed to them), the viewer still
//! connected posts under them, the audit names the fields but no value, and
//! the old names are gone from the bytes of the data dir.

mod support;

use std::path::Path;

use regie::protocol::{Author, ChatEntry, Command, ErrorCode, Event, MessageId, StaffRole};
use regie::store::DB_FILE;
use support::client::{Client, keyed_viewer_hello};
use support::forensics::utf16;
use support::hub::TestHub;

const OLD_FIRST: &str = "Zéphyrinette";
const OLD_PSEUDO: &str = "zephyr-oldnick";
const NEW_FIRST: &str = "Joséphine";
const NEW_PSEUDO: &str = "josie-b";

fn on_disk(dir: &Path, needle: &[u8]) -> bool {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::read(dir.join(format!("{DB_FILE}{suffix}"))).ok())
        .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}

fn anywhere_on_disk(dir: &Path, value: &str) -> bool {
    on_disk(dir, value.as_bytes()) || on_disk(dir, &utf16(value))
}

async fn message_id_at(client: &mut Client, seq: u64) -> MessageId {
    match client.event_at(seq).await.event {
        Event::Message { message } => message.id,
        other => panic!("expected a message at seq {seq}, got {other:?}"),
    }
}

fn names(author: &Author) -> (&str, &str) {
    match author {
        Author::Viewer {
            first_name,
            pseudonym,
            ..
        } => (first_name, pseudonym),
        Author::Staff { .. } => panic!("a viewer's line"),
    }
}

fn rectify(viewer: &regie::protocol::ViewerId) -> Command {
    Command::RectifyViewer {
        viewer_id: viewer.clone(),
        first_name: Some(NEW_FIRST.into()),
        pseudonym: Some(NEW_PSEUDO.into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one story: a show, a correction, a scan"
)]
async fn a_rectified_name_reaches_every_client_and_leaves_the_data_dir() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let mut hello = keyed_viewer_hello(&hub.live, OLD_FIRST, "device-z");
    if let regie::protocol::Auth::Viewer { pseudonym, .. } = &mut hello.auth {
        *pseudonym = Some(OLD_PSEUDO.into());
    }
    let mut zeph = hub.join(hello).await;
    let id = zeph.welcome.you.viewer_id.clone().expect("a viewer id");
    let mut host = hub.staff(StaffRole::Host, "Nadia").await;
    let mut other = hub.viewer("Marc").await;
    let mut support = hub.staff(StaffRole::Support, "Sam").await;

    let seq = zeph.say("la veste existe en noir ?").await;
    let asked = message_id_at(&mut host, seq).await;
    host.ack(Command::Answer {
        message_id: asked,
        text: "oui, en M et L".into(),
    })
    .await;
    assert!(anywhere_on_disk(&dir, OLD_FIRST), "the scan proves nothing");

    // Only support and admin may rectify.
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    assert_eq!(
        moderator.refused(rectify(&id)).await.code,
        ErrorCode::Forbidden
    );
    let empty = support
        .refused(Command::RectifyViewer {
            viewer_id: id.clone(),
            first_name: Some("  ".into()),
            pseudonym: None,
        })
        .await;
    assert_eq!(empty.code, ErrorCode::Invalid, "{empty:?}");

    let at = support.ack(rectify(&id)).await.expect("an event");
    for client in [&mut host, &mut other, &mut zeph] {
        match client.event_at(at).await.event {
            Event::ViewerRectified {
                viewer_id,
                first_name,
                pseudonym,
                by,
            } => {
                assert_eq!(viewer_id, id);
                assert_eq!(first_name.as_deref(), Some(NEW_FIRST));
                assert_eq!(pseudonym.as_deref(), Some(NEW_PSEUDO));
                assert_eq!(by.role, StaffRole::Support);
            }
            other => panic!("expected the rectification, got {other:?}"),
        }
    }

    // Still connected under the old hello, the viewer posts under the new names.
    let seq = zeph.say("merci !").await;
    match other.event_at(seq).await.event {
        Event::Message { message } => assert_eq!(names(&message.author), (NEW_FIRST, NEW_PSEUDO)),
        e => panic!("expected a message, got {e:?}"),
    }

    // A late client sees only the corrected names.
    let late = hub.staff(StaffRole::Host, "Léon").await;
    let snapshot = late.welcome.snapshot.clone().expect("a snapshot");
    let mut theirs = 0;
    for entry in &snapshot.recent {
        if let ChatEntry::Message(m) = entry {
            if m.author.viewer_id() == Some(&id) {
                assert_eq!(names(&m.author), (NEW_FIRST, NEW_PSEUDO));
                theirs += 1;
            }
            if let Some(reply) = &m.reply_to {
                assert_eq!(reply.first_name, NEW_FIRST, "the answer's addressee");
            }
        }
    }
    assert_eq!(theirs, 2, "{snapshot:?}");

    // The audit names the fields, never a value.
    other.say("top").await; // a round trip: the checkpoint after the rectification ran
    let db = rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only");
    let (target, reason): (String, String) = db
        .query_row(
            "SELECT target, reason FROM audit WHERE action = 'rectify_viewer'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("one audit record");
    drop(db);
    assert_eq!(target, id.0);
    for value in [OLD_FIRST, OLD_PSEUDO, NEW_FIRST, NEW_PSEUDO] {
        assert!(
            !reason.contains(value) && !target.contains(value),
            "{reason:?}"
        );
    }

    // A second rectification leaves no trace of the first correction either.
    let again = support
        .ack(Command::RectifyViewer {
            viewer_id: id.clone(),
            first_name: Some("Joséphina".into()),
            pseudonym: None,
        })
        .await
        .expect("an event");
    other.event_at(again).await;
    other.say("super").await;
    for old in [OLD_FIRST, OLD_PSEUDO, NEW_FIRST] {
        assert!(
            !anywhere_on_disk(&dir, old),
            "{old:?} is still in the data dir"
        );
    }
    assert!(
        anywhere_on_disk(&dir, NEW_PSEUDO),
        "the kept pseudonym is stored"
    );
    hub.stop().await;
}
