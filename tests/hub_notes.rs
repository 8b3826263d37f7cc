//! Moderation notes on the viewer card against a real hub (issue 10):
//! staff-only, stored, shown on the card, audited without their text, and
//! gone from the store's bytes after the viewer's erasure and after the
//! `moderation_notes` retention period.

mod support;

use std::path::Path;
use std::time::Duration;

use regie::protocol::{Command, ErrorCode, ServerFrame, StaffRole, ViewerCard, ViewerId};
use regie::store::{DB_FILE, RetentionPolicy};
use support::client::Client;
use support::hub::{ManualClock, TestHub, wait_until};
use support::store::on_disk;

const HOUR: i64 = 3_600_000;

fn viewer_id(c: &Client) -> ViewerId {
    c.welcome.you.viewer_id.clone().expect("viewers have an id")
}

fn note(viewer: &ViewerId, text: &str) -> Command {
    Command::NoteAdd {
        viewer_id: viewer.clone(),
        text: text.into(),
    }
}

async fn card(staff: &mut Client, viewer: &ViewerId) -> ViewerCard {
    match staff
        .command(Command::ViewerCard {
            viewer_id: viewer.clone(),
        })
        .await
    {
        ServerFrame::ViewerCard { card, .. } => *card,
        other => panic!("expected a viewer card, got {other:?}"),
    }
}

/// Rows of the store's audit log for `action`: (actor, target, reason).
fn audited(dir: &Path, action: &str) -> Vec<(String, String, String)> {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only");
    let mut stmt = db
        .prepare("SELECT actor_name, target, reason FROM audit WHERE action = ?1 ORDER BY idx")
        .expect("the audit table");
    stmt.query_map([action], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("audit rows")
        .collect::<Result<_, _>>()
        .expect("audit rows")
}

fn count(dir: &Path, sql: &str) -> i64 {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only");
    db.query_row(sql, [], |r| r.get(0)).expect(sql)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_is_on_the_card_for_staff_and_audited_without_its_text() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let mut marc = hub.viewer("Marc").await;
    let marc_id = viewer_id(&marc);
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut claire = hub.staff(StaffRole::Host, "Claire").await;

    ines.ack(note(&marc_id, "zq71 warned twice about links"))
        .await;
    sam.ack(note(&marc_id, "zq72 asked for an export\u{1b}[31m"))
        .await;

    let card = card(&mut claire, &marc_id).await;
    let notes: Vec<(&str, Option<&str>)> = card
        .notes
        .iter()
        .map(|n| (n.text.as_str(), n.by.name.as_deref()))
        .collect();
    assert_eq!(
        notes,
        [
            ("zq71 warned twice about links", Some("Inès")),
            ("zq72 asked for an export", Some("Sam")),
        ],
        "oldest first, sanitised, with who wrote each"
    );
    assert_eq!(card.notes[0].by.role, StaffRole::Moderator);

    // Who may not: a host, a viewer; and an empty note or an unknown viewer.
    let host = claire.refused(note(&marc_id, "x")).await;
    assert_eq!(host.code, ErrorCode::Forbidden);
    let viewer = marc.refused(note(&marc_id, "x")).await;
    assert_eq!(viewer.code, ErrorCode::Forbidden);
    let empty = ines.refused(note(&marc_id, " \u{200b} ")).await;
    assert_eq!(empty.code, ErrorCode::Invalid);
    let nobody = ines.refused(note(&ViewerId("v-nobody".into()), "x")).await;
    assert_eq!(nobody.code, ErrorCode::NotFound);

    // The audit log names who noted whom, never what.
    let rows = audited(&dir, "note_add");
    assert_eq!(
        rows,
        [
            ("Inès".to_string(), marc_id.0.clone(), String::new()),
            ("Sam".to_string(), marc_id.0.clone(), String::new()),
        ]
    );
    let audit_text = count(
        &dir,
        "SELECT count(*) FROM audit WHERE reason LIKE '%zq7%' OR target LIKE '%zq7%'",
    );
    assert_eq!(audit_text, 0);
    // A viewer's own view never carries notes: the card is staff-only.
    let seen = serde_json::to_string(&marc.events).unwrap();
    assert!(!seen.contains("zq7"), "{seen}");
    // But their data export does (Art. 15), by role, not by name.
    let export = match sam
        .command(Command::ExportViewer {
            viewer_id: marc_id.clone(),
        })
        .await
    {
        ServerFrame::ViewerExport { export, .. } => export,
        other => panic!("expected an export, got {other:?}"),
    };
    let exported: Vec<(&str, &str)> = export
        .notes
        .iter()
        .map(|n| (n.text.as_str(), n.by_role.as_str()))
        .collect();
    assert_eq!(
        exported,
        [
            ("zq71 warned twice about links", "moderator"),
            ("zq72 asked for an export", "support"),
        ]
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_viewers_notes_leave_the_store() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let marc = hub.viewer("Marc").await;
    let marc_id = viewer_id(&marc);
    let mut lea = hub.viewer("Léa").await;
    let lea_id = viewer_id(&lea);
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    sam.ack(note(&marc_id, "zq73-note-about-marc")).await;
    sam.ack(note(&lea_id, "zq74-note-about-lea")).await;
    assert!(
        on_disk(&dir, "zq73-note-about-marc"),
        "the test proves nothing: the note is not on disk before the erasure"
    );

    sam.ack(Command::EraseViewer {
        viewer_id: marc_id.clone(),
        reason: "art. 17".into(),
    })
    .await;
    // The erasure's turn checkpointed the store; a later command is after it.
    lea.say("toujours là").await;
    assert!(
        !on_disk(&dir, "zq73-note-about-marc"),
        "an erased viewer's note is still in the store's files"
    );
    assert!(on_disk(&dir, "zq74-note-about-lea"), "the other stays");
    assert_eq!(card(&mut sam, &lea_id).await.notes.len(), 1);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_go_after_the_moderation_notes_period() {
    let clock = ManualClock::new();
    let t0 = clock.now();
    let policy = RetentionPolicy {
        moderation_notes: Duration::from_secs(2 * 3600),
        sweep_every: Duration::from_millis(20),
        ..RetentionPolicy::default()
    };
    let hub = TestHub::start_with(|c| {
        c.clock = clock.clock();
        c.retention = policy;
    })
    .await;
    let dir = hub.data_dir.clone();
    let marc = hub.viewer("Marc").await;
    let marc_id = viewer_id(&marc);
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    ines.ack(note(&marc_id, "zq75-old-note")).await;
    clock.set(t0 + HOUR);
    ines.ack(note(&marc_id, "zq76-young-note")).await;

    // Two hours after the first note, one after the second.
    clock.set(t0 + 2 * HOUR + 1);
    wait_until("the old note to be swept", || async {
        count(&dir, "SELECT count(*) FROM mod_notes") == 1
    })
    .await;
    let notes = card(&mut ines, &marc_id).await.notes;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].text, "zq76-young-note");
    wait_until("the swept note to leave the store's files", || async {
        !on_disk(&dir, "zq75-old-note")
    })
    .await;
    hub.stop().await;
}
