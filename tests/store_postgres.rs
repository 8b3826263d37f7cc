//! What only the PostgreSQL store must show, against a real server (see
//! `support::postgres`; no server: skipped, saying why, except under CI):
//!
//! - redaction and erasure leave no text in the table files: a byte scan of
//!   the relation files (and TOAST) on the server's disk, with the positive
//!   control that the text IS there before the purge;
//! - two stores (two hub nodes) writing one live queue on its counter row:
//!   every seq once, no gap;
//! - a rectified name replaces every older one, in the table files too;
//! - a version-1 database is upgraded with its data;
//! - a lost connection is a temporary error, and the next call reconnects.

mod support;

/// The tests of this binary one at a time: what a purge may drop depends
/// on every open snapshot of the server, so a test's own sessions must be
/// the only ones (test binaries themselves run one after another).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

use std::path::PathBuf;

use regie::protocol::{Author, Contact, Event, Winner};
use regie::store::{Commit, PostgresStore, Store, StoreError, ViewerRecord};
use support::postgres::TestSchema;
use support::store::*;
use support::tmux::under_ci;

/// The files of `relation` (main fork and its 1 GB segments) on the
/// server's disk; `None` when they cannot be read from here (a remote
/// server, or not running as a user who may read them), said on stderr.
fn relation_files(admin: &mut postgres::Client, relation: &str) -> Option<Vec<PathBuf>> {
    let data_dir: String = admin
        .query_one("SHOW data_directory", &[])
        .expect("SHOW data_directory (the test role is a superuser)")
        .get(0);
    let path: String = admin
        .query_one(
            "SELECT pg_relation_filepath($1::TEXT::regclass)",
            &[&relation],
        )
        .expect("pg_relation_filepath")
        .get(0);
    let main = PathBuf::from(&data_dir).join(&path);
    if let Err(e) = std::fs::read(&main) {
        let why = format!("cannot read {} ({e})", main.display());
        assert!(
            !under_ci(),
            "{why}: under CI the server runs on this machine and the tests as root"
        );
        eprintln!("SKIPPED: {why}; the byte scan needs the server's files");
        return None;
    }
    let dir = main.parent().expect("a relation file has a directory");
    let name = main
        .file_name()
        .and_then(|n| n.to_str())
        .expect("relation file names are ASCII")
        .to_owned();
    let segments = std::fs::read_dir(dir)
        .expect("read the database directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == name || n.strip_prefix(&format!("{name}.")).is_some())
        })
        .collect();
    Some(segments)
}

/// `messages` and its TOAST relation, by name.
fn message_relations(admin: &mut postgres::Client) -> Vec<String> {
    let toast: String = admin
        .query_one(
            "SELECT reltoastrelid::regclass::TEXT FROM pg_class WHERE oid = 'messages'::regclass",
            &[],
        )
        .expect("the messages table has a TOAST relation")
        .get(0);
    vec!["messages".to_owned(), toast]
}

/// Whether `needle` is in any file of these relations, after a CHECKPOINT
/// (so what the server holds in memory is on disk); `None`: unreadable.
fn on_server_disk(
    admin: &mut postgres::Client,
    relations: &[String],
    needle: &str,
) -> Option<bool> {
    admin.batch_execute("CHECKPOINT").expect("CHECKPOINT");
    let mut found = false;
    for r in relations {
        for file in relation_files(admin, r)? {
            let bytes = std::fs::read(&file).expect("read a relation file");
            found |= bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
        }
    }
    Some(found)
}

/// Text that PostgreSQL cannot compress (so it is stored as it is, in the
/// TOAST relation when long), unique to this run.
fn incompressible(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| {
            char::from(
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                    [rng.random_range(0..62)],
            )
        })
        .collect()
}

#[test]
fn redacted_text_leaves_the_table_files_and_their_toast_at_the_checkpoint() {
    let _alone = alone();
    let Some(db) = TestSchema::own_database() else {
        return;
    };
    let mut store = db.store();
    let mut admin = db.admin();
    let mut seq = Sequencer::new(&store.open_live(LIVE).expect("open the live"));
    let kept = format!("kept-{}", incompressible(24));
    let short = format!("secret-{}", incompressible(24));
    // Over the ~2 kB TOAST threshold: stored out of line, in 2 kB chunks.
    let long = incompressible(6_000);
    let long_needle = long[..64].to_owned();
    let m1 = viewer_message(1, 1, &kept, false);
    let m2 = viewer_message(2, 2, &short, false);
    let m3 = viewer_message(3, 3, &long, false);
    for m in [&m1, &m2, &m3] {
        seq.say(&mut store, m);
    }
    let relations = message_relations(&mut admin);
    // The positive control: the scan does find stored text.
    let Some(found) = on_server_disk(&mut admin, &relations, &short) else {
        return;
    };
    assert!(
        found,
        "the short text is in the messages file before redaction"
    );
    assert_eq!(
        on_server_disk(&mut admin, &relations, &long_needle),
        Some(true)
    );

    seq.redact(&mut store, &m2, "asked");
    seq.redact(&mut store, &m3, "asked");
    // MVCC: the DELETE only marked the tuples dead; the bytes are still
    // on disk, which is why the checkpoint rewrites the table.
    assert_eq!(
        on_server_disk(&mut admin, &relations, &short),
        Some(true),
        "a deleted tuple stays in the file until the table is vacuumed"
    );
    assert!(store.purge_due().contains(&"messages"));
    store
        .checkpoint()
        .expect("the store's checkpoint after a redaction");
    assert!(store.purge_due().is_empty());

    // The table was rewritten into new files: resolve them again.
    let relations = message_relations(&mut admin);
    assert_eq!(on_server_disk(&mut admin, &relations, &short), Some(false));
    assert_eq!(
        on_server_disk(&mut admin, &relations, &long_needle),
        Some(false)
    );
    // The scan reads the live files: the message not redacted is there.
    assert_eq!(on_server_disk(&mut admin, &relations, &kept), Some(true));
    assert_eq!(
        store.message(LIVE, m1.id).expect("read back"),
        Some(regie::protocol::ChatEntry::Message(m1))
    );
}

/// The retention sweep deletes an ended live's old chat and purges it
/// from the table files, as a redaction does: the sweep's own purge.
#[test]
fn swept_chat_leaves_the_table_files() {
    let _alone = alone();
    let Some(db) = TestSchema::own_database() else {
        return;
    };
    let mut store = db.store();
    let mut admin = db.admin();
    let mut seq = Sequencer::new(&store.open_live(LIVE).expect("open the live"));
    let old = format!("swept-{}", incompressible(24));
    seq.say(&mut store, &viewer_message(1, 1, &old, false));
    seq.commit(
        &mut store,
        Event::LiveState {
            state: regie::protocol::LiveState::Ended,
        },
    );
    let relations = message_relations(&mut admin);
    let Some(found) = on_server_disk(&mut admin, &relations, &old) else {
        return;
    };
    assert!(found, "the line is in the messages file before the sweep");

    let day = std::time::Duration::from_secs(24 * 3600);
    let policy = regie::store::RetentionPolicy {
        chat: day,
        ..regie::store::RetentionPolicy::default()
    };
    let report = store
        .sweep(LIVE, &policy, T0 + 2 * 24 * 3_600_000)
        .expect("the sweep");
    assert_eq!(report.messages, 1, "{report:?}");
    assert!(store.purge_due().is_empty(), "the sweep purged at once");
    let relations = message_relations(&mut admin);
    assert_eq!(on_server_disk(&mut admin, &relations, &old), Some(false));
}

/// The audit log's head, past its period, leaves PostgreSQL's files (the
/// staff member's reason is not on disk after the sweep), and the
/// checkpoint it leaves is signed: moved back or forged in the database by
/// someone without the nodes' keys, the chain no longer verifies.
#[test]
fn pruned_audit_records_leave_the_files_behind_a_checkpoint_only_nodes_can_sign() {
    let _alone = alone();
    let Some(db) = TestSchema::own_database() else {
        return;
    };
    let mut store = db.store();
    let mut admin = db.admin();
    store.open_live(LIVE).expect("open the live");
    let reason = format!("audit-{}", incompressible(24));
    let old: Vec<Commit> = (0..3)
        .map(|_| Commit::without_event().with_audit(audit("ban", "v-1", &reason)))
        .collect();
    store.commit(LIVE, &old).expect("three old records");
    let relations = vec!["audit".to_owned()];
    let Some(found) = on_server_disk(&mut admin, &relations, &reason) else {
        return;
    };
    assert!(found, "the reason is in the audit file before the sweep");

    let year_and_a_day = T0 + 366 * 24 * 3_600_000;
    let report = store
        .sweep(
            LIVE,
            &regie::store::RetentionPolicy::default(),
            year_and_a_day,
        )
        .expect("the sweep");
    assert_eq!(report.audit_records, 3, "{report:?}");
    assert_eq!(on_server_disk(&mut admin, &relations, &reason), Some(false));
    // Another node (its own connection, the same keys) verifies it.
    let another_node = || {
        let mut node = db.store();
        node.open_live(LIVE).expect("open the live");
        node
    };
    another_node()
        .verify_audit_chain(LIVE)
        .expect("the chain verifies");

    // The database's administrator moves the start back, or signs one.
    let signed = admin
        .query_one("SELECT idx, mac FROM audit_checkpoints", &[])
        .expect("one checkpoint");
    let (idx, mac): (i64, String) = (signed.get(0), signed.get(1));
    assert_eq!(idx, 3);
    for forgery in [
        "UPDATE audit_checkpoints SET idx = 2",
        "UPDATE audit_checkpoints SET mac = repeat('0', 64)",
    ] {
        admin.batch_execute(forgery).expect("forge the checkpoint");
        let err = another_node().verify_audit_chain(LIVE).err();
        assert!(
            matches!(err, Some(StoreError::AuditChainBroken { .. })),
            "{forgery}: {err:?}"
        );
        admin
            .execute(
                "UPDATE audit_checkpoints SET idx = $1, mac = $2",
                &[&idx, &mac],
            )
            .expect("put the signed checkpoint back");
        another_node()
            .verify_audit_chain(LIVE)
            .expect("verifies again");
    }
}

/// A node's store on `db` with its contact keys from the environment (the
/// active one `[active; 32]`, then the previous ones), the live open.
fn node_with_keys(db: &TestSchema, active: u8, previous: &[u8]) -> PostgresStore {
    use regie::store::contact::KeySource;
    use zeroize::Zeroizing;
    let keys = KeySource::Env {
        active: Zeroizing::new([active; 32]),
        previous: previous.iter().map(|&k| Zeroizing::new([k; 32])).collect(),
    };
    let mut store = PostgresStore::open(&db.url(), keys).expect("open the store");
    store.open_live(LIVE).expect("open the live");
    store
}

/// A checkpoint signed under a contact key the secret manager has since
/// retired still verifies once that key has left the ring: while both are
/// given, the next sweep signs it again under the new one.
#[test]
fn a_checkpoint_is_signed_again_under_a_rotated_contact_key() {
    let _alone = alone();
    let Some(db) = TestSchema::new() else { return };
    let node = |active: u8, previous: &[u8]| node_with_keys(&db, active, previous);
    let mut before = node(1, &[]);
    before
        .commit(
            LIVE,
            &[Commit::without_event().with_audit(audit("ban", "v-1", ""))],
        )
        .expect("an old record");
    let policy = regie::store::RetentionPolicy::default();
    let year_and_a_day = T0 + 366 * 24 * 3_600_000;
    let report = before
        .sweep(LIVE, &policy, year_and_a_day)
        .expect("the sweep");
    assert_eq!(report.audit_records, 1);
    let unknown = node(2, &[]).verify_audit_chain(LIVE);
    assert!(
        matches!(unknown, Err(StoreError::AuditChainBroken { .. })),
        "signed under a key this ring does not hold: {unknown:?}"
    );

    let mut rotating = node(2, &[1]);
    rotating
        .verify_audit_chain(LIVE)
        .expect("verifies under the previous key");
    let report = rotating
        .sweep(LIVE, &policy, year_and_a_day)
        .expect("the sweep");
    assert_eq!(report.audit_records, 0, "nothing more to prune");
    node(2, &[])
        .verify_audit_chain(LIVE)
        .expect("verifies under the new key alone");
}

/// `keys rotate contact` on the shared store: what was sealed under the
/// old key is sealed under the new one, so a node given only the new key
/// opens it; a value no key of the ring opens stops the rotation, and its
/// batch is rolled back.
#[test]
fn the_contact_key_rotates_on_the_shared_store() {
    use regie::protocol::{ConsentPurpose, Contact};
    let _alone = alone();
    let Some(db) = TestSchema::new() else { return };
    let node = |active: u8, previous: &[u8]| node_with_keys(&db, active, previous);
    let joins = |n: u32| ViewerRecord {
        id: viewer(n),
        first_name: format!("Viewer{n}"),
        pseudonym: format!("v{n}"),
        first_seen: T0,
        last_seen: T0,
    };
    let contact = Contact {
        phone: Some("+33 6 12 34 56 78".into()),
        email: Some("julie.m@gmail.com".into()),
    };
    let masked = |store: &mut PostgresStore, n: u32| {
        store
            .viewer_card(LIVE, &viewer(n), true, T0)
            .expect("the card")
            .and_then(|card| card.contact)
            .unwrap_or_default()
    };
    let mut before = node(1, &[]);
    for n in [1, 2] {
        grant(&mut before, &viewer(n), ConsentPurpose::PrizeContact);
        before
            .upsert_viewer(LIVE, &joins(n), &contact)
            .expect("the viewer joins with contact");
    }
    assert_eq!(
        masked(&mut node(2, &[]), 1).phone,
        None,
        "not under the new key yet"
    );

    let done = node(2, &[1]).reseal_contact(1).expect("the rotation");
    assert_eq!((done.values, done.batches), (4, 2), "{done:?}");
    let mut after = node(2, &[]);
    for n in [1, 2] {
        let shown = masked(&mut after, n);
        assert!(
            shown.phone.is_some() && shown.email.is_some(),
            "{n}: {shown:?}"
        );
    }
    assert_eq!(node(2, &[]).reseal_contact(10).expect("again").values, 0);

    // A value under a key the ring does not hold: refused, nothing changed.
    let mut stranger = node(9, &[]);
    grant(&mut stranger, &viewer(3), ConsentPurpose::PrizeContact);
    stranger
        .upsert_viewer(LIVE, &joins(3), &contact)
        .expect("a viewer sealed under another key");
    let err = node(3, &[2]).reseal_contact(10).expect_err("unopenable");
    assert!(err.to_string().contains("open"), "{err}");
    let shown = masked(&mut node(2, &[]), 1);
    assert!(
        shown.phone.is_some(),
        "the refused batch left viewer 1 as it was"
    );
}

#[test]
fn an_erased_viewer_leaves_neither_name_nor_text_in_the_table_files() {
    let _alone = alone();
    let Some(db) = TestSchema::own_database() else {
        return;
    };
    let mut store = db.store();
    let mut admin = db.admin();
    let mut seq = Sequencer::new(&store.open_live(LIVE).expect("open the live"));
    let name = format!("Zephyrine{}", incompressible(12));
    let text = format!("erase-me-{}", incompressible(24));
    let reason = format!("spam-{}", incompressible(16));
    store
        .upsert_viewer(
            LIVE,
            &ViewerRecord {
                id: viewer(7),
                first_name: name.clone(),
                pseudonym: "zeph7".into(),
                first_seen: T0,
                last_seen: T0,
            },
            &Contact::default(),
        )
        .expect("the viewer joins");
    let mut m = viewer_message(1, 7, &text, false);
    m.author = Author::Viewer {
        viewer_id: viewer(7),
        first_name: name.clone(),
        pseudonym: "zeph7".into(),
    };
    seq.say(&mut store, &m);
    seq.commit(
        &mut store,
        Event::ViewerTimedOut {
            viewer_id: viewer(7),
            until: T0 + 60_000,
            reason: reason.clone(),
            by: moderator(),
        },
    );
    // They won an instant win, then were excluded from its re-draw: their
    // names are in both draws' rows and events too.
    seq.win_and_redraw(
        &mut store,
        &Winner {
            viewer_id: viewer(7),
            first_name: name.clone(),
            pseudonym: "zeph7".into(),
        },
    );
    let tables: Vec<String> = ["messages", "viewers", "sanctions", "events", "instant_wins"]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    let Some(found) = on_server_disk(&mut admin, &["instant_wins".to_owned()], &name) else {
        return;
    };
    assert!(found, "the name is stored before the erasure");
    assert_eq!(on_server_disk(&mut admin, &tables, &reason), Some(true));

    seq.commit(
        &mut store,
        Event::ViewerErased {
            viewer_id: viewer(7),
            reason: "Art. 17".into(),
            erased_at: T0 + 1_000,
            by: support(),
        },
    );
    store
        .checkpoint()
        .expect("the store's checkpoint after an erasure");
    assert!(store.erased(LIVE, &viewer(7)).expect("erased"));
    assert!(store.viewer(LIVE, &viewer(7), T0).expect("read").is_none());
    for needle in [&name, &text, &reason] {
        assert_eq!(
            on_server_disk(&mut admin, &tables, needle),
            Some(false),
            "{needle:?} is still on disk"
        );
    }
}

#[test]
fn an_older_snapshot_holds_the_purge_until_it_ends() {
    let _alone = alone();
    let Some(db) = TestSchema::own_database() else {
        return;
    };
    let mut store = db.store();
    let mut admin = db.admin();
    let mut seq = Sequencer::new(&store.open_live(LIVE).expect("open the live"));
    let secret = format!("held-{}", incompressible(24));
    let m = viewer_message(1, 1, &secret, false);
    seq.say(&mut store, &m);
    let relations = message_relations(&mut admin);
    let Some(true) = on_server_disk(&mut admin, &relations, &secret) else {
        return;
    };
    // A reader (a report, a replica's feedback) with a snapshot from
    // before the redaction: PostgreSQL must keep the row for it.
    let mut reader = db.admin();
    let mut snapshot = reader
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .start()
        .expect("a repeatable-read reader");
    let seen: i64 = snapshot
        .query_one("SELECT count(*) FROM messages", &[])
        .expect("the reader reads")
        .get(0);
    assert_eq!(seen, 1);
    seq.redact(&mut store, &m, "asked");
    let err = store.checkpoint().expect_err("the reader holds the purge");
    assert!(
        matches!(err, StoreError::PurgeHeld { holders } if holders >= 1),
        "{err}"
    );
    assert!(err.is_temporary());
    assert!(store.purge_due().contains(&"messages"), "still due");
    let relations = message_relations(&mut admin);
    assert_eq!(on_server_disk(&mut admin, &relations, &secret), Some(true));

    snapshot.commit().expect("the reader ends");
    store.checkpoint().expect("nothing holds it now");
    let relations = message_relations(&mut admin);
    assert_eq!(on_server_disk(&mut admin, &relations, &secret), Some(false));
}

/// The hub's numbering, on a store that another node may have moved: the
/// head from the database, the next seq, one message event.
fn say_next(store: &mut PostgresStore, text: &str) -> Result<u64, StoreError> {
    let head = store.open_live(LIVE)?;
    let mut seq = Sequencer::new(&head);
    let m = viewer_message(head.last_message_id + 1, 1, text, false);
    let frame = seq.frame(Event::Message { message: m });
    let at = frame.seq;
    store.commit(LIVE, &[Commit::event(frame)])?;
    Ok(at)
}

#[test]
fn two_nodes_write_one_live_through_its_counter_row() {
    let _alone = alone();
    let Some(db) = TestSchema::new() else { return };
    let mut a = db.store();
    let mut b = db.store();
    let head_a = a.open_live(LIVE).expect("node A opens the live");
    let head_b = b.open_live(LIVE).expect("node B opens the live");
    assert_eq!(head_a, head_b, "one live, one epoch, on every node");

    // B numbers from a head that A has moved since: refused, nothing written.
    let mut stale = Sequencer::new(&head_b);
    assert_eq!(say_next(&mut a, "from A").expect("A writes"), 1);
    let frame = stale.frame(Event::ViewersOnline { count: 1 });
    let err = b
        .commit(LIVE, &[Commit::event(frame)])
        .expect_err("a stale seq is refused");
    assert!(
        matches!(
            err,
            StoreError::SeqGap {
                head: 1,
                got: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        say_next(&mut b, "from B").expect("B writes after re-reading"),
        2
    );

    // Both at once, retrying on a lost race as a hub node would.
    let per_node = 40;
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|node| {
            let mut store = db.store();
            std::thread::spawn(move || {
                let mut races = 0;
                for i in 0..per_node {
                    loop {
                        match say_next(&mut store, &format!("{node}-{i}")) {
                            Ok(_) => break,
                            Err(StoreError::SeqGap { .. }) => races += 1,
                            Err(e) => panic!("node {node}: {e}"),
                        }
                    }
                }
                races
            })
        })
        .collect();
    let races: u32 = writers.into_iter().map(|w| w.join().expect("writer")).sum();
    eprintln!("{races} lost races retried");

    let log = a.replay(LIVE, 0, 1_000).expect("replay");
    let seqs: Vec<u64> = log.iter().map(|f| f.seq).collect();
    assert_eq!(seqs, (1..=2 + 2 * per_node).collect::<Vec<u64>>());
    let mut texts: Vec<String> = log
        .iter()
        .filter_map(|f| match &f.event {
            Event::Message { message } => Some(message.text.clone()),
            _ => None,
        })
        .collect();
    texts.sort();
    let mut expected: Vec<String> = ["from A".to_owned(), "from B".to_owned()]
        .into_iter()
        .chain((0..per_node).flat_map(|i| [format!("a-{i}"), format!("b-{i}")]))
        .collect();
    expected.sort();
    assert_eq!(texts, expected, "every message once");
    assert_eq!(
        b.open_live(LIVE).expect("B re-reads").head,
        2 + 2 * per_node
    );
}

#[test]
fn a_lost_connection_is_a_temporary_error_then_the_store_reconnects() {
    let _alone = alone();
    let Some(db) = TestSchema::new() else { return };
    let mut store = db.store();
    let mut admin = db.admin();
    let mut seq = Sequencer::new(&store.open_live(LIVE).expect("open the live"));
    // The server ends the store's session (as a restart or failover does),
    // and waits until it is gone.
    let ended = admin
        .query(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
            &[&db.application_name()],
        )
        .expect("terminate the store's session");
    assert!(!ended.is_empty(), "the store's session was found");

    let frame = seq.frame(Event::ViewersOnline { count: 3 });
    let err = store
        .commit(LIVE, &[Commit::event(frame.clone())])
        .expect_err("the connection is gone");
    assert!(err.is_temporary(), "{err} is worth retrying");
    // The retry reconnects and goes through, once.
    store
        .commit(LIVE, &[Commit::event(frame.clone())])
        .expect("the retry reconnects");
    assert_eq!(store.replay(LIVE, 0, 10).expect("replay"), vec![frame]);
}

#[test]
fn a_rectified_name_replaces_every_older_one_even_in_the_table_files() {
    let _alone = alone();
    let Some(db) = TestSchema::own_database() else {
        return;
    };
    let mut store = db.store();
    let mut admin = db.admin();
    let mut seq = Sequencer::new(&store.open_live(LIVE).expect("open the live"));
    // The name the device says, a first correction, the one that stands.
    let [typed, first_fix, fixed] =
        ["Zoe", "Zoa", "Zoey"].map(|n| format!("{n}{}", incompressible(12)));
    let joins = |name: &str| ViewerRecord {
        id: viewer(7),
        first_name: name.to_owned(),
        pseudonym: "zoe7".into(),
        first_seen: T0,
        last_seen: T0,
    };
    store
        .upsert_viewer(LIVE, &joins(&typed), &Contact::default())
        .expect("the viewer joins");
    let mut m = viewer_message(1, 7, "où est la cabine ?", false);
    m.author = Author::Viewer {
        viewer_id: viewer(7),
        first_name: typed.clone(),
        pseudonym: "zoe7".into(),
    };
    seq.say(&mut store, &m);
    let tables: Vec<String> = ["viewers", "messages", "events"]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    let Some(found) = on_server_disk(&mut admin, &tables, &typed) else {
        return;
    };
    assert!(found, "the typed name is stored before the correction");

    for name in [&first_fix, &fixed] {
        seq.commit(
            &mut store,
            Event::ViewerRectified {
                viewer_id: viewer(7),
                first_name: Some(name.clone()),
                pseudonym: None,
                by: support(),
            },
        );
    }
    assert!(store.purge_due().contains(&"viewers"));
    store
        .checkpoint()
        .expect("the store's checkpoint after a rectification");
    for old in [&typed, &first_fix] {
        assert_eq!(
            on_server_disk(&mut admin, &tables, old),
            Some(false),
            "{old:?} is still on disk"
        );
    }
    // The positive control: the scan finds the name that stands.
    assert_eq!(on_server_disk(&mut admin, &tables, &fixed), Some(true));

    // The correction is staff-owned: the device's name at the next hello
    // does not undo it, and the hub is told which field was corrected.
    store
        .upsert_viewer(LIVE, &joins(&typed), &Contact::default())
        .expect("the viewer joins again");
    let stored = store
        .viewer(LIVE, &viewer(7), T0)
        .expect("read the viewer")
        .expect("the viewer is stored");
    assert_eq!(stored.record.first_name, fixed);
    assert_eq!(stored.corrected.first_name.as_deref(), Some(fixed.as_str()));
    assert_eq!(stored.corrected.pseudonym, None);
    let Some(regie::protocol::ChatEntry::Message(line)) =
        store.message(LIVE, m.id).expect("read the line")
    else {
        panic!("the line is stored");
    };
    assert!(
        matches!(&line.author, Author::Viewer { first_name, .. } if *first_name == fixed),
        "{:?}",
        line.author
    );
    assert!(
        store
            .replay(LIVE, 0, 10)
            .expect("replay")
            .iter()
            .all(|f| !serde_json::to_string(f)
                .expect("a frame")
                .contains(&first_fix)),
        "a replayed event still names the first correction"
    );
}

/// A database a version-1 build made (no `rules` table, no rectified
/// flags) is brought to this build's schema when a node opens it, its
/// data kept: the live, its viewer, and what schema 2 adds works on them.
#[test]
fn a_version_one_database_is_upgraded_with_its_data() {
    let _alone = alone();
    let Some(db) = TestSchema::new() else { return };
    let mut store = db.store();
    let head = store.open_live(LIVE).expect("open the live");
    let joins = ViewerRecord {
        id: viewer(3),
        first_name: "Inès".into(),
        pseudonym: "ines3".into(),
        first_seen: T0,
        last_seen: T0,
    };
    store
        .upsert_viewer(LIVE, &joins, &Contact::default())
        .expect("the viewer joins");
    drop(store);
    // Version 1 is today's schema without what steps 2 to 4 added.
    db.admin()
        .batch_execute(
            "DROP TABLE entries, instant_wins, votes, polls, privacy_requests, \
               audit_checkpoints; \
             ALTER TABLE lives DROP COLUMN swept_message_id, DROP COLUMN title, \
               DROP COLUMN starts_at; \
             DROP TABLE rules; \
             ALTER TABLE viewers DROP COLUMN first_name_rectified, \
               DROP COLUMN pseudonym_rectified; \
             UPDATE regie_schema SET version = 1",
        )
        .expect("take the schema back to version 1");

    let mut store = db.store();
    let again = store.open_live(LIVE).expect("the upgraded live opens");
    assert_eq!(again.epoch, head.epoch, "the same live, not a new one");
    let version: i64 = db
        .admin()
        .query_one("SELECT version FROM regie_schema", &[])
        .expect("the schema version")
        .get(0);
    assert!(version >= 3, "schema version {version}");
    let stored = store
        .viewer(LIVE, &viewer(3), T0)
        .expect("read the viewer")
        .expect("the viewer is kept");
    assert_eq!(stored.record.first_name, "Inès");
    assert!(stored.corrected.is_empty(), "nothing was corrected before");
    assert_eq!(store.rules(LIVE).expect("rules"), None, "never seeded");
    let mut seq = Sequencer::new(&again);
    seq.commit(
        &mut store,
        Event::ViewerRectified {
            viewer_id: viewer(3),
            first_name: Some("Inés".into()),
            pseudonym: None,
            by: support(),
        },
    );
    let stored = store
        .viewer(LIVE, &viewer(3), T0)
        .expect("read the viewer")
        .expect("the viewer is kept");
    assert_eq!(stored.corrected.first_name.as_deref(), Some("Inés"));
}

#[test]
fn a_feature_this_store_does_not_keep_is_refused_clearly() {
    let _alone = alone();
    let Some(db) = TestSchema::new() else { return };
    let mut store = db.store();
    store.open_live(LIVE).expect("open the live");
    let err = store
        .report_source(LIVE, T0)
        .expect_err("reports are not made here");
    assert!(matches!(err, StoreError::Unsupported(_)), "{err}");
    assert!(!err.is_temporary());
}

/// One requests log for every node: two nodes logging the same viewer's
/// click log one request, and `regie privacy requests --store URL` lists,
/// extends and closes what the hubs logged.
#[test]
fn the_requests_log_is_shared_by_the_nodes_and_the_command_line() {
    use regie::store::requests::RequestKind;
    let _alone = alone();
    let Some(db) = TestSchema::new() else { return };
    let (mut a, mut b) = (db.store(), db.store());
    assert!(
        a.add_privacy_request(RequestKind::Access, "v-1", T0)
            .expect("node A logs it")
    );
    assert!(
        !b.add_privacy_request(RequestKind::Access, "v-1", T0 + 1)
            .expect("node B finds it")
    );
    let data = tempfile::tempdir().expect("a data dir");
    let url = db.url();
    let cli = |extra: &[&str]| {
        let mut args = vec!["privacy", "requests", "--store", &url, "--data"];
        args.push(data.path().to_str().expect("utf-8"));
        args.extend_from_slice(extra);
        support::binary::run(&args, &[])
    };
    let listed = cli(&[]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let line = listed.stdout.trim();
    assert!(line.starts_with("#1  open  access  received "), "{line}");
    assert_eq!(listed.stdout.lines().count(), 1, "{}", listed.stdout);

    let extended = cli(&["--extend", "1", "--reason", "many requests"]);
    assert_eq!(extended.code, 0, "{}", extended.stderr);
    assert!(extended.stdout.contains("extended: \"many requests\""));
    let again = cli(&["--extend", "1", "--reason", "again"]);
    assert_eq!(again.code, 2, "one extension: {}", again.stderr);
    let closed = cli(&["--close", "1"]);
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    assert!(closed.stdout.contains("closed"), "{}", closed.stdout);
    assert!(a.open_requests().expect("the open ones").is_empty());
    assert!(
        b.add_privacy_request(RequestKind::Access, "v-1", T0 + 2)
            .expect("a new request after the answer")
    );
}
