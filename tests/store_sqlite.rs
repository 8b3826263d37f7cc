//! What only the SQLite store can show: the bytes of its files, restarts on
//! the same data dir, file modes, and a tampered audit table.

mod support;

use std::path::Path;

use regie::protocol::{ChatEntry, ConsentPurpose, Contact, Event};
use regie::store::{Commit, DB_FILE, Durability, SqliteStore, Store, StoreError, ViewerRecord};
use support::store::*;

/// Every file SQLite may keep the data in: the database, its WAL and the
/// shared-memory index.
fn store_files(dir: &Path) -> Vec<std::path::PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| dir.join(format!("{DB_FILE}{suffix}")))
        .filter(|p| p.exists())
        .collect()
}

/// Whether `needle` appears in the raw bytes of any store file.
fn on_disk(dir: &Path, needle: &str) -> bool {
    store_files(dir).iter().any(|p| {
        let bytes = std::fs::read(p).expect("read a store file");
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    })
}

fn marker(i: u64) -> String {
    format!("MARKER-{i:05}-zq")
}

#[test]
fn redacted_text_is_gone_from_the_database_file_and_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let mut seq = Sequencer::new(&store.open_live(LIVE).unwrap());

    // Enough messages to split pages several times, some long enough to
    // overflow a page, and a checkpoint in the middle so the old text is
    // in the database file itself, not only in the WAL.
    let mut messages = Vec::new();
    for i in 1..=600u64 {
        let text = if i % 50 == 0 {
            format!("{} {}", marker(i), "long text ".repeat(600))
        } else {
            format!("message {} about the dress", marker(i))
        };
        messages.push(viewer_message(i, (i % 7) as u32, &text, i % 3 == 0));
    }
    for chunk in messages.chunks(100) {
        let batch: Vec<Commit> = chunk
            .iter()
            .map(|m| Commit::event(seq.frame(Event::Message { message: m.clone() })))
            .collect();
        store.commit(LIVE, &batch).unwrap();
        if chunk[0].id.0 == 301 {
            store.checkpoint().unwrap();
        }
    }
    // Pinned and answered, so the redaction has more to clean up.
    seq.commit(
        &mut store,
        Event::Pinned {
            message_id: messages[99].id,
            by: moderator(),
        },
    );
    seq.say(&mut store, &answer(601, &messages[99], "Oui, bien sûr"));

    let redacted: Vec<&_> = messages
        .iter()
        .filter(|m| m.id.0 % 10 == 0 || m.id.0 == 3)
        .collect();
    for m in &redacted {
        assert!(
            on_disk(dir.path(), &marker(m.id.0)),
            "the test proves nothing: {} not found before redaction",
            marker(m.id.0)
        );
    }

    for m in &redacted {
        seq.redact(&mut store, m, "demande RGPD");
    }
    store.checkpoint().unwrap();

    for m in &redacted {
        assert!(
            !on_disk(dir.path(), &marker(m.id.0)),
            "{} is still in the store's files",
            marker(m.id.0)
        );
    }
    // The scan still sees what was not redacted.
    for i in [1u64, 2, 299, 301, 599] {
        assert!(on_disk(dir.path(), &marker(i)), "{} vanished", marker(i));
    }
    let wal = dir.path().join(format!("{DB_FILE}-wal"));
    assert_eq!(std::fs::metadata(&wal).map_or(0, |m| m.len()), 0);

    // After reopening, history serves tombstones for them.
    drop(store);
    let mut store = SqliteStore::open(dir.path()).unwrap();
    store.open_live(LIVE).unwrap();
    for m in &redacted {
        assert!(matches!(
            store.message(LIVE, m.id).unwrap(),
            Some(ChatEntry::Redacted(_))
        ));
    }
    assert!(!on_disk(dir.path(), &marker(100)));
}

#[test]
fn a_restart_continues_the_same_history() {
    let dir = tempfile::tempdir().unwrap();
    let (head, history) = {
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let first = store.open_live(LIVE).unwrap();
        let mut seq = Sequencer::new(&first);
        let q = viewer_message(1, 1, "Et en rouge ?", true);
        let m = viewer_message(2, 2, "à supprimer", false);
        seq.say(&mut store, &q);
        seq.say(&mut store, &m);
        seq.commit(
            &mut store,
            Event::Pinned {
                message_id: q.id,
                by: moderator(),
            },
        );
        seq.commit(
            &mut store,
            Event::ViewerBanned {
                viewer_id: viewer(2),
                reason: "spam".into(),
                by: moderator(),
            },
        );
        seq.redact(&mut store, &m, "asked");
        grant(&mut store, &viewer(2), ConsentPurpose::PrizeContact);
        store
            .upsert_viewer(
                LIVE,
                &ViewerRecord {
                    id: viewer(2),
                    first_name: "Marc".into(),
                    pseudonym: "marc".into(),
                    first_seen: T0,
                    last_seen: T0,
                },
                &Contact {
                    phone: Some("+33 6 11 22 33 44".into()),
                    email: None,
                },
            )
            .unwrap();
        store.checkpoint().unwrap();
        (
            store.open_live(LIVE).unwrap(),
            store.replay(LIVE, 0, 100).unwrap(),
        )
    };
    assert_eq!((head.head, head.last_message_id), (5, 2));

    let mut store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(
        store.open_live(LIVE).unwrap(),
        head,
        "same epoch, head, ids"
    );
    assert_eq!(store.replay(LIVE, 0, 100).unwrap(), history);
    let snap = store.snapshot(LIVE, 10).unwrap();
    assert_eq!(snap.pinned.map(|m| m.id.0), Some(1));
    let marc = store.viewer(LIVE, &viewer(2), T0).unwrap().unwrap();
    assert!(marc.is_banned());
    let card = store
        .viewer_card(LIVE, &viewer(2), true, T0)
        .unwrap()
        .unwrap();
    assert!(card.contact.unwrap().phone.unwrap().ends_with("44"));

    // Sequence numbers and the audit chain go on from where they were.
    let mut seq = Sequencer::new(&head);
    let next = seq.say(&mut store, &viewer_message(3, 1, "de retour", false));
    assert_eq!(next, 6);
    store
        .commit(
            LIVE,
            &[Commit::without_event().with_audit(audit("ban", "v-2", "spam"))],
        )
        .unwrap();
    assert_eq!(store.audit_log(LIVE).unwrap().len(), 2);
    store.verify_audit_chain(LIVE).unwrap();
}

#[test]
fn a_new_data_dir_is_a_new_epoch() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ea = SqliteStore::open(a.path())
        .unwrap()
        .open_live(LIVE)
        .unwrap();
    let eb = SqliteStore::open(b.path())
        .unwrap()
        .open_live(LIVE)
        .unwrap();
    assert_ne!(ea.epoch, eb.epoch);
}

#[test]
fn contact_data_is_never_in_clear_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    store.open_live(LIVE).unwrap();
    grant(&mut store, &viewer(1), ConsentPurpose::PrizeContact);
    store
        .upsert_viewer(
            LIVE,
            &ViewerRecord {
                id: viewer(1),
                first_name: "Julie".into(),
                pseudonym: "julie".into(),
                first_seen: T0,
                last_seen: T0,
            },
            &Contact {
                phone: Some("+33 6 98 76 54 32".into()),
                email: Some("julie.unique@exemple.fr".into()),
            },
        )
        .unwrap();
    assert!(on_disk(dir.path(), "Julie"), "the scan sees the viewer row");
    store.checkpoint().unwrap();
    assert!(on_disk(dir.path(), "Julie"));
    for secret in ["98 76 54", "julie.unique", "exemple.fr"] {
        assert!(!on_disk(dir.path(), secret), "{secret} stored in clear");
    }
}

#[cfg(unix)]
#[test]
fn the_database_and_keys_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("regie-data");
    let mut store = SqliteStore::open(&data).unwrap();
    store.open_live(LIVE).unwrap();
    for name in [DB_FILE, "contact.key"] {
        let mode = std::fs::metadata(data.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}

#[test]
fn a_tampered_audit_record_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    store.open_live(LIVE).unwrap();
    store
        .commit(
            LIVE,
            &[
                Commit::without_event().with_audit(audit("ban", "v-1", "insults")),
                Commit::without_event().with_audit(audit("redact", "#4", "asked")),
                Commit::without_event().with_audit(audit("timeout", "v-2", "flood")),
            ],
        )
        .unwrap();
    store.verify_audit_chain(LIVE).unwrap();
    drop(store);

    // Ordinary writes cannot change the log...
    let raw = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    assert!(
        raw.execute("UPDATE audit SET reason = 'nothing' WHERE idx = 2", [])
            .is_err()
    );
    assert!(raw.execute("DELETE FROM audit WHERE idx = 3", []).is_err());
    // ...and someone who goes around the triggers is caught by the chain.
    raw.execute_batch(
        "DROP TRIGGER audit_no_update;
         UPDATE audit SET reason = 'nothing to see' WHERE idx = 2;",
    )
    .unwrap();
    drop(raw);

    let mut store = SqliteStore::open(dir.path()).unwrap();
    store.open_live(LIVE).unwrap();
    let err = store.verify_audit_chain(LIVE).unwrap_err();
    assert!(
        matches!(err, StoreError::AuditChainBroken { record: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("record 2"));
}

#[test]
fn a_database_from_a_newer_regie_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(dir.path()).unwrap());
    let raw = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    raw.execute_batch("PRAGMA user_version = 42").unwrap();
    drop(raw);
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 42, .. }),
        "{err}"
    );
}

#[test]
fn full_durability_opens_and_commits() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open_with(dir.path(), Durability::Full).unwrap();
    assert_eq!(store.durability().unwrap(), Durability::Full);
    let mut seq = Sequencer::new(&store.open_live(LIVE).unwrap());
    seq.say(&mut store, &viewer_message(1, 1, "ok", false));
    assert_eq!(store.open_live(LIVE).unwrap().head, 1);
    // Still FULL after a commit and the migrations that ran on open.
    assert_eq!(store.durability().unwrap(), Durability::Full);
}

#[test]
fn the_default_durability_is_normal() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.durability().unwrap(), Durability::Normal);
    drop(store);
    // Reopening a store made FULL does not stay FULL: it is per connection.
    drop(SqliteStore::open_with(dir.path(), Durability::Full).unwrap());
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.durability().unwrap(), Durability::Normal);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever text and names the hub hands over come back exactly, and
        /// a redacted one never does.
        #[test]
        fn any_text_round_trips_and_redaction_removes_it(
            texts in prop::collection::vec(any::<String>(), 1..12),
            name in any::<String>(),
            redact_mask in any::<u16>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut store = SqliteStore::open(dir.path()).unwrap();
            let mut seq = Sequencer::new(&store.open_live(LIVE).unwrap());
            let mut frames = Vec::new();
            let messages: Vec<_> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mut m = viewer_message(i as u64 + 1, u32::try_from(i).unwrap_or(u32::MAX), t, i % 2 == 0);
                    if let regie::protocol::Author::Viewer { first_name, .. } = &mut m.author {
                        *first_name = name.clone();
                    }
                    m
                })
                .collect();
            for m in &messages {
                frames.push(seq.frame(Event::Message { message: m.clone() }));
            }
            let batch: Vec<Commit> = frames.iter().cloned().map(Commit::event).collect();
            store.commit(LIVE, &batch).unwrap();
            prop_assert_eq!(store.replay(LIVE, 0, 100).unwrap(), frames.clone());

            for (i, m) in messages.iter().enumerate() {
                if redact_mask & (1 << i) != 0 {
                    seq.redact(&mut store, m, "x");
                }
            }
            for (i, f) in store.replay(LIVE, 0, frames.len()).unwrap().iter().enumerate() {
                if redact_mask & (1 << i) != 0 {
                    let redacted = matches!(f.event, Event::Redacted { .. });
                    prop_assert!(redacted, "seq {} not redacted", f.seq);
                } else {
                    prop_assert_eq!(f, &frames[i]);
                }
            }
        }
    }
}

/// Issue 9, rectification: a field support corrected is staff-owned, so
/// the viewer's next upsert (their device's hello, with the old names)
/// leaves it, while the field support did not correct still follows the
/// viewer; the store reports which fields are corrected.
#[test]
fn a_corrected_name_is_kept_over_the_viewers_next_upsert() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let head = store.open_live(LIVE).unwrap();
    let record = |first_name: &str, pseudonym: &str| ViewerRecord {
        id: viewer(1),
        first_name: first_name.into(),
        pseudonym: pseudonym.into(),
        first_seen: T0,
        last_seen: T0,
    };
    let none = Contact::default();
    store
        .upsert_viewer(LIVE, &record("Zéphyrinette", "zeph"), &none)
        .unwrap();
    Sequencer::new(&head).commit(
        &mut store,
        Event::ViewerRectified {
            viewer_id: viewer(1),
            first_name: Some("Joséphine".into()),
            pseudonym: None,
            by: support(),
        },
    );
    store
        .upsert_viewer(LIVE, &record("Zéphyrinette", "zeph-2"), &none)
        .unwrap();
    let stored = store.viewer(LIVE, &viewer(1), T0).unwrap().unwrap();
    assert_eq!(
        (
            stored.record.first_name.as_str(),
            stored.record.pseudonym.as_str()
        ),
        ("Joséphine", "zeph-2")
    );
    assert_eq!(
        stored.corrected,
        regie::store::NameCorrection {
            first_name: Some("Joséphine".into()),
            pseudonym: None,
        }
    );
    store.checkpoint().unwrap();
    assert!(!on_disk(dir.path(), "Zéphyrinette"));
}
