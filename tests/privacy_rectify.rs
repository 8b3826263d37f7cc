//! Issue 9, "Rectify" (Art. 16), against a real hub: support corrects a
//! viewer's first name and pseudonym; every connected client gets the
//! event, a late client's snapshot shows only the corrected names (on the
//! viewer's lines and on the answers addressed to them), the viewer still
//! connected posts under them, the audit names the fields but no value, and
//! the old names are gone from the bytes of the data dir.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use regie::instant_win::DrawRecord;
use regie::protocol::{
    Author, ChatEntry, Command, ErrorCode, Event, MessageId, Resume, StaffRole, ViewerId, Winner,
};
use regie::store::DB_FILE;
use support::client::{Client, keyed_viewer_hello};
use support::forensics::{everything_stored, utf16};
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
        also: Vec::new(),
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

/// Zéphyrinette's hello, as her device keeps sending it.
fn zephs_hello(live: &str) -> regie::protocol::Hello {
    let mut hello = keyed_viewer_hello(live, OLD_FIRST, "device-z");
    if let regie::protocol::Auth::Viewer { pseudonym, .. } = &mut hello.auth {
        *pseudonym = Some(OLD_PSEUDO.into());
    }
    hello
}

/// The names on the line at `seq`, as another client got it.
async fn names_at(client: &mut Client, seq: u64) -> (String, String) {
    match client.event_at(seq).await.event {
        Event::Message { message } => {
            let (first, pseudo) = names(&message.author);
            (first.to_owned(), pseudo.to_owned())
        }
        e => panic!("expected a message, got {e:?}"),
    }
}

fn corrected() -> (String, String) {
    (NEW_FIRST.to_owned(), NEW_PSEUDO.to_owned())
}

/// The rule (docs/protocol.md, `rectify_viewer`): a field support corrected
/// is staff-owned. The viewer's device keeps stating the old names at each
/// `hello`; the hub keeps the correction, across a reconnect and a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_holds_against_the_devices_next_hello_and_a_hub_restart() {
    let hub = TestHub::start().await;
    let zeph = hub.join(zephs_hello(&hub.live)).await;
    let id = zeph.welcome.you.viewer_id.clone().expect("a viewer id");
    let mut support = hub.staff(StaffRole::Support, "Sam").await;
    support.ack(rectify(&id)).await.expect("an event");
    drop(zeph.drop_connection());

    // The same device, the same old names: joined under the correction.
    let mut zeph = hub.join(zephs_hello(&hub.live)).await;
    assert_eq!(zeph.welcome.you.viewer_id.as_ref(), Some(&id));
    assert_eq!(zeph.welcome.you.name, NEW_FIRST, "the welcome's name");
    let seq = zeph.say("je suis revenue").await;
    assert_eq!(names_at(&mut support, seq).await, corrected());
    drop(zeph.drop_connection());
    drop(support);

    let data = hub.data_dir.clone();
    let dir = hub.stop().await.expect("the hub owns its data dir");
    for old in [OLD_FIRST, OLD_PSEUDO] {
        assert!(!anywhere_on_disk(&data, old), "{old:?} came back on disk");
    }

    // After a restart the session knows nothing in memory: the store does.
    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let mut zeph = hub.join(zephs_hello(&hub.live)).await;
    assert_eq!(zeph.welcome.you.viewer_id.as_ref(), Some(&id));
    assert_eq!(zeph.welcome.you.name, NEW_FIRST);
    let mut host = hub.staff(StaffRole::Host, "Nadia").await;
    let seq = zeph.say("toujours moi").await;
    assert_eq!(names_at(&mut host, seq).await, corrected());
    let late = hub.staff(StaffRole::Host, "Léon").await;
    let snapshot = late.welcome.snapshot.clone().expect("a snapshot");
    let theirs: Vec<_> = snapshot
        .recent
        .iter()
        .filter_map(|e| match e {
            ChatEntry::Message(m) if m.author.viewer_id() == Some(&id) => {
                let (f, p) = names(&m.author);
                Some((f.to_owned(), p.to_owned()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(theirs, vec![corrected(); 2], "{snapshot:?}");
    hub.stop().await;
    for old in [OLD_FIRST, OLD_PSEUDO] {
        assert!(!anywhere_on_disk(dir.path(), old), "{old:?} came back");
    }
}

/// Every winner named in a draw's view (a re-draw's kept and excluded).
fn named_in_view(draw: &regie::protocol::DrawView) -> Vec<Winner> {
    draw.replaces
        .iter()
        .flat_map(|r| r.kept.iter().chain(&r.excluded))
        .cloned()
        .collect()
}

/// Every winner an event or a snapshot's draws name.
fn named_in_event(event: &Event) -> Vec<Winner> {
    match event {
        Event::InstantWinOpened { draw } => named_in_view(draw),
        Event::InstantWinDrawn { winners, .. } => winners.clone(),
        _ => Vec::new(),
    }
}

fn named_in_states(draws: &[regie::protocol::DrawState]) -> Vec<Winner> {
    draws
        .iter()
        .flat_map(|d| {
            let mut named = named_in_view(&d.draw);
            named.extend(d.result.iter().flat_map(|r| r.winners.clone()));
            named
        })
        .collect()
}

/// The names given to `id` among `named`; panics when there are none, so
/// a check on them cannot pass vacuously.
fn names_of(named: &[Winner], id: &ViewerId) -> BTreeSet<(String, String)> {
    let given: BTreeSet<_> = named
        .iter()
        .filter(|w| &w.viewer_id == id)
        .map(|w| (w.first_name.clone(), w.pseudonym.clone()))
        .collect();
    assert!(!given.is_empty(), "{id} is named nowhere in {named:?}");
    given
}

async fn open_draw(host: &mut Client, winners: u32) -> u64 {
    let seq = host
        .ack(Command::InstantWinOpen {
            prize: "Bon d'achat 50 €".into(),
            winners,
            entry_secs: 600,
            rules: "Un bulletin par personne".into(),
        })
        .await
        .expect("an event");
    match host.event_at(seq).await.event {
        Event::InstantWinOpened { draw } => draw.id,
        other => panic!("expected instant_win_opened, got {other:?}"),
    }
}

async fn draw_now(host: &mut Client, draw_id: u64) -> Vec<Winner> {
    host.ack(Command::InstantWinClose { draw_id }).await;
    let drawn = host
        .wait_event(|e| matches!(e, Event::InstantWinDrawn { draw_id: d, .. } if *d == draw_id))
        .await;
    named_in_event(&drawn.event)
}

async fn published(hub: &TestHub, draw_id: u64) -> DrawRecord {
    let (status, body) = hub.http_get(&format!("/draws/{draw_id}.json")).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("a draw record")
}

/// Gap 2: winners are announced by name, and those names are stored (the
/// draw row, a re-draw's view, the `instant_win_*` events a late console
/// replays). A correction renames them everywhere, including a draw the
/// viewer entered before it and that is drawn after; the published
/// records (ids only) are not touched and still verify; a byte scan finds
/// no old name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_winners_are_renamed_everywhere_and_the_draws_still_verify() {
    let hub = TestHub::start().await;
    let mut zeph = hub.join(zephs_hello(&hub.live)).await;
    let id = zeph.welcome.you.viewer_id.clone().expect("a viewer id");
    let mut marc = hub.viewer("Marc").await;
    let marc_id = marc.welcome.you.viewer_id.clone().expect("a viewer id");
    let mut host = hub.staff(StaffRole::Host, "Nadia").await;
    let mut support = hub.staff(StaffRole::Support, "Sam").await;

    // One winner of two, then a re-draw without them: Zéphyrinette is
    // named either way (winner and excluded, or kept out and re-drawn).
    let first = open_draw(&mut host, 1).await;
    for v in [&mut zeph, &mut marc] {
        v.ack(Command::Enter { draw_id: first }).await;
    }
    let winners = draw_now(&mut host, first).await;
    let seq = host
        .ack(Command::Redraw {
            draw_id: first,
            exclude: vec![winners[0].viewer_id.clone()],
            reason: "gagnant injoignable".into(),
        })
        .await
        .expect("an event");
    let redraw = match host.event_at(seq).await.event {
        Event::InstantWinOpened { draw } => draw.id,
        other => panic!("expected the re-draw, got {other:?}"),
    };
    host.wait_event(|e| matches!(e, Event::InstantWinDrawn { draw_id, .. } if *draw_id == redraw))
        .await;
    // Entered before the correction, drawn after it.
    let second = open_draw(&mut host, 1).await;
    zeph.ack(Command::Enter { draw_id: second }).await;
    let named: Vec<Winner> = host
        .events
        .iter()
        .flat_map(|e| named_in_event(&e.event))
        .collect();
    let old = (OLD_FIRST.to_owned(), OLD_PSEUDO.to_owned());
    assert_eq!(
        names_of(&named, &id),
        BTreeSet::from([old]),
        "the story proves something"
    );
    assert!(!names_of(&named, &marc_id).is_empty());
    let before = [published(&hub, first).await, published(&hub, redraw).await];

    support.ack(rectify(&id)).await.expect("an event");
    let new = BTreeSet::from([corrected()]);
    assert_eq!(
        names_of(&draw_now(&mut host, second).await, &id),
        new,
        "a draw entered before the correction announces the corrected names"
    );

    // The published records are the same and verify, as `regie
    // verify-draw` checks them.
    for (draw_id, was) in [first, redraw].into_iter().zip(&before) {
        assert_eq!(&published(&hub, draw_id).await, was);
    }
    for draw_id in [first, redraw, second] {
        let record = published(&hub, draw_id).await;
        regie::instant_win::verify(&record).expect("the published record verifies");
    }

    // A late console: the snapshot and a replay from the first event.
    let late = hub.staff(StaffRole::Host, "Léon").await;
    let snapshot = late.welcome.snapshot.clone().expect("a snapshot");
    assert_eq!(names_of(&named_in_states(&snapshot.instant_wins), &id), new);
    let mut hello = hub.staff_hello(StaffRole::Host, "Léon");
    hello.resume = Some(Resume {
        epoch: late.welcome.epoch.clone(),
        seq: 0,
    });
    let mut replayed = hub.join(hello).await;
    assert!(replayed.welcome.resumed, "{:?}", replayed.reload);
    replayed.event_at(late.welcome.seq).await;
    let named: Vec<Winner> = replayed
        .events
        .iter()
        .flat_map(|e| named_in_event(&e.event))
        .collect();
    assert_eq!(names_of(&named, &id), new, "replayed events");
    drop((zeph, marc, host, support, late, replayed));

    let dir = hub.stop().await.expect("the hub owns its data dir");
    let stored = everything_stored(dir.path());
    for old in [OLD_FIRST, OLD_PSEUDO] {
        for needle in [old.as_bytes().to_vec(), utf16(old)] {
            let found: Vec<&str> = stored
                .iter()
                .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
                .map(|(place, _)| place.as_str())
                .collect();
            assert!(found.is_empty(), "{old:?} is still in {found:?}");
        }
    }

    // A restarted hub serves the corrected names from the store.
    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let host = hub.staff(StaffRole::Host, "Nadia").await;
    let snapshot = host.welcome.snapshot.clone().expect("a snapshot");
    assert_eq!(names_of(&named_in_states(&snapshot.instant_wins), &id), new);
    hub.stop().await;
}
