//! A store written at schema version 1, with data, opened by today's
//! `SqliteStore`: the migration runs and every row reads back as it was.
//!
//! The fixture `tests/fixtures/store-v1.db` was built by
//! `tests/fixtures/make_store_v1.py` from the v1 DDL verbatim
//! (`tests/fixtures/schema-v1.sql`, from commit 9009dfc) and rows in the
//! formats v1 wrote, not by this crate. The expected values below are
//! written out by hand from that script.

use std::path::Path;

use regie::protocol::{
    Actor, Author, ChatEntry, ChatMessage, CommandId, ConsentChannel, ConsentPurpose, ConsentState,
    Epoch, ErrorCode, Event, EventFrame, MaskedContact, MessageId, Millis, PollView, ReplyTo,
    Sanction, StaffRole, Tombstone, ViewerId, Visibility,
};
use regie::store::{
    AuditEntry, CommandOutcome, Commit, DB_FILE, GameWrite, LiveHead, SqliteStore, Store,
    ViewerRecord,
};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/store-v1.db");
/// The fixture's `contact.key`: 32 bytes of 0x42 (see `make_store_v1.py`).
const CONTACT_KEY: [u8; 32] = [0x42; 32];

const LIVE: &str = "spring-sale";
const EPOCH: &str = "3f9a1c2b7d4e8a60b1c2d3e4f5a6b7c8";
const T0: Millis = 1_750_000_000_000;
const JULIE: &str = "v-3fa9c0ee12d4b7a1";
const MARC: &str = "v-8a41c2d90e7b3f15";
const KEVIN: &str = "v-0000000000000bad";
const TEXT_SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn t(s: i64) -> Millis {
    T0 + s * 1000
}

fn vid(s: &str) -> ViewerId {
    ViewerId(s.into())
}

fn staff(name: &str, role: StaffRole) -> Actor {
    Actor {
        name: Some(name.into()),
        role,
    }
}

fn sophie() -> Actor {
    staff("Sophie", StaffRole::Host)
}

fn ines() -> Actor {
    staff("Inès", StaffRole::Moderator)
}

/// A copy of the fixture in a fresh data dir, with its contact key.
fn v1_data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(FIXTURE, dir.path().join(DB_FILE)).expect("copy the v1 fixture");
    let key = dir.path().join("contact.key");
    std::fs::write(&key, CONTACT_KEY).expect("write the contact key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod the data dir");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
            .expect("chmod the key");
    }
    dir
}

fn user_version(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open the db file");
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("read user_version")
}

fn viewer_author(id: &str, first_name: &str, pseudonym: &str) -> Author {
    Author::Viewer {
        viewer_id: vid(id),
        first_name: first_name.into(),
        pseudonym: pseudonym.into(),
    }
}

fn message(id: u64, at: Millis, author: Author, text: &str) -> ChatMessage {
    ChatMessage {
        id: MessageId(id),
        at,
        author,
        text: text.into(),
        question: false,
        answered: false,
        reply_to: None,
        also_to: Vec::new(),
        visibility: Visibility::Visible,
        product: None,
        announcement: false,
    }
}

/// The stored messages as they stand now (message 3 was redacted).
fn m1() -> ChatMessage {
    message(
        1,
        t(1),
        viewer_author(JULIE, "Julie", "#3fa9"),
        "Bonjour à tous !",
    )
}
fn m2() -> ChatMessage {
    ChatMessage {
        question: true,
        answered: true,
        ..message(
            2,
            t(2),
            viewer_author(MARC, "Marc", "#8a41"),
            "Livraison en Belgique ?",
        )
    }
}
fn m4() -> ChatMessage {
    ChatMessage {
        reply_to: Some(ReplyTo {
            message_id: MessageId(2),
            first_name: "Marc".into(),
        }),
        also_to: Vec::new(),
        ..message(
            4,
            t(4),
            Author::Staff {
                name: "Sophie".into(),
                role: StaffRole::Host,
            },
            "Oui, sous 3 jours !",
        )
    }
}
fn m5() -> ChatMessage {
    ChatMessage {
        visibility: Visibility::Hidden,
        ..message(
            5,
            t(8),
            viewer_author(KEVIN, "Kevin", "#0bad"),
            "achetez ailleurs",
        )
    }
}
fn m6() -> ChatMessage {
    ChatMessage {
        question: true,
        ..message(
            6,
            t(12),
            viewer_author(JULIE, "Julie", "#3fa9"),
            "Il existe en bleu ?",
        )
    }
}
fn tombstone3() -> Tombstone {
    Tombstone {
        message_id: MessageId(3),
        posted_at: t(3),
        redacted_at: t(6),
        author_id: Some(vid(MARC)),
        reason: "demande RGPD".into(),
        by: staff("Sam", StaffRole::Support),
    }
}

/// The event log as a resuming client gets it: message 3's events come back
/// as its tombstone; message 2 as it was then (not yet answered).
fn expected_events() -> Vec<Event> {
    vec![
        Event::Message { message: m1() },
        Event::Message {
            message: ChatMessage {
                answered: false,
                ..m2()
            },
        },
        Event::Redacted {
            tombstone: tombstone3(),
        },
        Event::Message { message: m4() },
        Event::Redacted {
            tombstone: tombstone3(),
        },
        Event::Redacted {
            tombstone: tombstone3(),
        },
        Event::Pinned {
            message_id: MessageId(1),
            by: sophie(),
        },
        Event::Message { message: m5() },
        Event::Hidden {
            message_id: MessageId(5),
            by: ines(),
        },
        Event::QuestionAnswered {
            message_id: MessageId(2),
            by: sophie(),
        },
        Event::ViewerTimedOut {
            viewer_id: vid(MARC),
            until: t(311),
            reason: "spam".into(),
            by: ines(),
        },
        Event::Message { message: m6() },
        Event::ViewerBanned {
            viewer_id: vid(KEVIN),
            reason: "insultes".into(),
            by: ines(),
        },
        Event::ViewersOnline { count: 1233 },
    ]
}

/// (at, actor, role, action, target, reason) of the v1 audit log.
const AUDIT: &[(i64, &str, StaffRole, &str, &str, &str)] = &[
    (6, "Sam", StaffRole::Support, "redact", "#3", "demande RGPD"),
    (7, "Sophie", StaffRole::Host, "pin", "#1", ""),
    (9, "Inès", StaffRole::Moderator, "hide", "#5", ""),
    (11, "Inès", StaffRole::Moderator, "timeout", MARC, "spam"),
    (13, "Inès", StaffRole::Moderator, "ban", KEVIN, "insultes"),
    (
        15,
        "Sam",
        StaffRole::Support,
        "viewer_card",
        JULIE,
        "gagnante",
    ),
];

fn consent(
    purpose: ConsentPurpose,
    granted: bool,
    at: Millis,
    channel: ConsentChannel,
) -> ConsentState {
    ConsentState {
        purpose,
        granted,
        at,
        channel,
        text_sha256: TEXT_SHA.into(),
    }
}

#[test]
fn the_fixture_is_a_version_1_store() {
    assert_eq!(user_version(Path::new(FIXTURE)), 1);
    let conn = rusqlite::Connection::open(FIXTURE).expect("open the fixture");
    let polls: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'polls'",
            [],
            |r| r.get(0),
        )
        .expect("query the schema");
    assert_eq!(polls, 0, "v1 had no polls table");
}

/// Today's store on a copy of the fixture, with the live opened.
fn migrated() -> (tempfile::TempDir, SqliteStore) {
    let dir = v1_data_dir();
    let mut store = SqliteStore::open(dir.path()).expect("today's store opens a v1 store");
    store.open_live(LIVE).expect("open the v1 live");
    (dir, store)
}

/// Whether `needle` is anywhere in the database file or its WAL.
fn in_store_files(dir: &Path, needle: &[u8]) -> bool {
    ["", "-wal"].iter().any(|suffix| {
        std::fs::read(dir.join(format!("{DB_FILE}{suffix}")))
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
}

/// Version 3 (issue 9): the unkeyed retry fingerprints v1 wrote and contact
/// data with no consent behind it are deleted, from the file and its WAL;
/// what a granted consent stands behind stays.
#[test]
fn the_migration_drops_unkeyed_fingerprints_and_contact_without_consent() {
    let dir = v1_data_dir();
    // Marc has no consent; v1 stored his phone anyway.
    let marc_seal: Vec<u8> = (0u8..40).map(|b| b.wrapping_mul(37) ^ 0x5a).collect();
    let fingerprint = "c-7#0123456789abcdef";
    {
        let db = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("open v1");
        db.execute(
            "UPDATE viewers SET phone_sealed = ?1 WHERE viewer_id = ?2",
            rusqlite::params![marc_seal, MARC],
        )
        .expect("give Marc a sealed phone");
        db.execute(
            "INSERT INTO command_outcomes VALUES (1, ?1, ?2, ?3, '{\"kind\":\"ack\",\"seq\":5}')",
            rusqlite::params![format!("viewer:{MARC}"), fingerprint, t(20)],
        )
        .expect("a v1 retry key");
    }
    assert!(
        in_store_files(dir.path(), &marc_seal),
        "the scan proves nothing"
    );
    assert!(in_store_files(dir.path(), fingerprint.as_bytes()));

    let mut store = SqliteStore::open(dir.path()).expect("today's store opens a v1 store");
    store.open_live(LIVE).expect("open the v1 live");
    assert!(
        !in_store_files(dir.path(), &marc_seal),
        "contact data without consent survived the migration"
    );
    assert!(
        !in_store_files(dir.path(), fingerprint.as_bytes()),
        "an unkeyed fingerprint survived the migration"
    );
    let julie = store
        .viewer_card(LIVE, &vid(JULIE), true, t(30))
        .expect("Julie's card")
        .expect("stored");
    assert!(
        julie
            .contact
            .is_some_and(|c| c.phone.is_some() && c.email.is_some()),
        "Julie's contact stands on her prize_contact consent"
    );
    drop(store);
    let db = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("reopen");
    let (purpose, seq): (String, Option<i64>) = db
        .query_row(
            "SELECT (SELECT phone_purpose FROM viewers WHERE viewer_id = ?1), \
             (SELECT seq FROM command_outcomes WHERE command_id = 's1-7')",
            [JULIE],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("read back");
    assert_eq!(purpose, "prize_contact");
    assert_eq!(seq, Some(7), "the ack's seq is backfilled");
}

#[test]
fn the_event_log_and_the_chat_read_back() {
    let dir = v1_data_dir();
    let mut store = SqliteStore::open(dir.path()).expect("today's store opens a v1 store");

    let head = store.open_live(LIVE).expect("open the v1 live");
    assert_eq!(
        head,
        LiveHead {
            epoch: Epoch(EPOCH.into()),
            head: 14,
            last_message_id: 6,
        }
    );

    let frames = store.replay(LIVE, 0, 100).expect("replay the v1 log");
    let expected: Vec<EventFrame> = expected_events()
        .into_iter()
        .zip(1i64..)
        .map(|(event, seq)| EventFrame {
            epoch: Epoch(EPOCH.into()),
            seq: u64::try_from(seq).expect("positive"),
            at: t(seq),
            event,
        })
        .collect();
    assert_eq!(frames, expected);

    let snapshot = store.snapshot(LIVE, 50).expect("snapshot");
    assert_eq!(snapshot.pinned, Some(m1()));
    assert_eq!(snapshot.open_questions, vec![m6()]);
    assert_eq!(
        snapshot.recent,
        vec![
            ChatEntry::Message(m1()),
            ChatEntry::Message(m2()),
            ChatEntry::Redacted(tombstone3()),
            ChatEntry::Message(m4()),
            ChatEntry::Message(m5()),
            ChatEntry::Message(m6()),
        ]
    );
    assert_eq!(
        store.message(LIVE, MessageId(3)).expect("message 3"),
        Some(ChatEntry::Redacted(tombstone3()))
    );
    assert_eq!(
        store.message(LIVE, MessageId(4)).expect("message 4"),
        Some(ChatEntry::Message(m4()))
    );
}

#[test]
fn viewers_sanctions_contact_data_and_consents_read_back() {
    let (_dir, mut store) = migrated();
    let now = t(100);
    let marc = store
        .viewer(LIVE, &vid(MARC), now)
        .expect("Marc")
        .expect("stored");
    assert_eq!(
        marc.record,
        ViewerRecord {
            id: vid(MARC),
            first_name: "Marc".into(),
            pseudonym: "#8a41".into(),
            first_seen: t(1),
            last_seen: t(11),
        }
    );
    assert_eq!(
        marc.sanctions,
        vec![Sanction::TimedOut {
            until: t(311),
            reason: "spam".into(),
            by: ines(),
            at: t(11),
        }]
    );
    let kevin = store
        .viewer(LIVE, &vid(KEVIN), now)
        .expect("Kevin")
        .expect("stored");
    assert_eq!(
        kevin.sanctions,
        vec![Sanction::Banned {
            reason: "insultes".into(),
            by: ines(),
            at: t(13),
        }]
    );

    let julie = store
        .viewer_card(LIVE, &vid(JULIE), true, now)
        .expect("Julie's card")
        .expect("stored");
    assert_eq!(julie.first_name, "Julie");
    assert_eq!(julie.pseudonym, "#3fa9");
    assert_eq!(julie.first_seen, t(0));
    assert_eq!(
        julie.recent,
        vec![ChatEntry::Message(m6()), ChatEntry::Message(m1())]
    );
    assert!(julie.sanctions.is_empty());
    assert_eq!(
        julie.contact,
        Some(MaskedContact {
            phone: Some("+33 6 •• •• •• 78".into()),
            email: Some("j•••@g•••.com".into()),
        }),
        "the contact data sealed by v1 opens"
    );
    assert_eq!(
        julie.consents,
        vec![
            consent(
                ConsentPurpose::PrizeContact,
                true,
                t(0),
                ConsentChannel::Player
            ),
            consent(
                ConsentPurpose::Marketing,
                false,
                t(14),
                ConsentChannel::Support
            ),
        ]
    );
    let marc_card = store
        .viewer_card(LIVE, &vid(MARC), false, now)
        .expect("Marc's card")
        .expect("stored");
    assert_eq!(
        marc_card.recent,
        vec![ChatEntry::Redacted(tombstone3()), ChatEntry::Message(m2())]
    );
    assert_eq!(marc_card.contact, None);
}

#[test]
fn outcomes_the_audit_log_and_the_other_live_read_back() {
    let (dir, mut store) = migrated();

    assert_eq!(
        store
            .command_outcome(LIVE, "Sophie", &CommandId("s1-7".into()))
            .expect("outcome"),
        Some(CommandOutcome::Ack { seq: Some(7) })
    );
    assert_eq!(
        store
            .command_outcome(LIVE, MARC, &CommandId("c-9".into()))
            .expect("outcome"),
        Some(CommandOutcome::Error {
            code: ErrorCode::TimedOut,
            message: "you are timed out".into(),
        })
    );

    let log = store.audit_log(LIVE).expect("the v1 audit log");
    let entries: Vec<AuditEntry> = log.iter().map(|r| r.entry.clone()).collect();
    let expected: Vec<AuditEntry> = AUDIT
        .iter()
        .map(|&(at, name, role, action, target, reason)| AuditEntry {
            actor_name: name.into(),
            actor_role: role,
            action: action.into(),
            target: target.into(),
            reason: reason.into(),
            at: t(at),
        })
        .collect();
    assert_eq!(entries, expected);
    assert_eq!(
        log.last().map(|r| r.hash.as_str()),
        Some("3c66b703babbf0216004b69ac1d1daddb0de4b11db34556fe8f355c2096d8a7d")
    );
    store
        .verify_audit_chain(LIVE)
        .expect("the v1 chain verifies");

    let games = store.games(LIVE).expect("games");
    assert!(games.polls.is_empty() && games.draws.is_empty());

    // The other live is kept apart.
    let other = store.open_live("other-show").expect("the second v1 live");
    assert_eq!(other.head, 1);
    let frames = store.replay("other-show", 0, 10).expect("replay");
    assert_eq!(
        frames.iter().map(|f| &f.event).collect::<Vec<_>>(),
        vec![&Event::Message {
            message: message(1, t(1), viewer_author("v-1", "Zoé", "#0001"), "Coucou"),
        }]
    );

    drop(store);
    // Today's schema is whatever a fresh store gets: no step count here, so
    // a new migration does not have to edit this test.
    let fresh = tempfile::tempdir().expect("a temp dir");
    drop(SqliteStore::open(fresh.path()).expect("a fresh store"));
    assert_eq!(
        user_version(&dir.path().join(DB_FILE)),
        user_version(&fresh.path().join(DB_FILE)),
        "migrated to today's schema"
    );
}

/// After the migration the store goes on where v1 stopped: the next seq,
/// the next audit index chained to v1's last hash, and the tables version 2
/// added.
#[test]
fn a_migrated_store_continues_the_v1_session() {
    let dir = v1_data_dir();
    let mut store = SqliteStore::open(dir.path()).expect("open");
    store.open_live(LIVE).expect("open the live");
    let next = message(7, t(20), viewer_author(MARC, "Marc", "#8a41"), "Merci !");
    let poll = PollView {
        id: 1,
        question: "Bleu ou rouge ?".into(),
        options: vec!["Bleu".into(), "Rouge".into()],
        opened_at: t(21),
        closes_at: None,
        audience_at_launch: 1233,
        by: sophie(),
    };
    let frame = EventFrame {
        epoch: Epoch(EPOCH.into()),
        seq: 15,
        at: t(20),
        event: Event::Message {
            message: next.clone(),
        },
    };
    store
        .commit(
            LIVE,
            &[Commit::event(frame)
                .with_audit(AuditEntry {
                    actor_name: "Sophie".into(),
                    actor_role: StaffRole::Host,
                    action: "poll_open".into(),
                    target: "poll 1".into(),
                    reason: String::new(),
                    at: t(21),
                })
                .with_game(GameWrite::PollOpened { poll: poll.clone() })],
        )
        .expect("commit after the migration");
    drop(store);

    let mut store = SqliteStore::open(dir.path()).expect("reopen");
    let head = store.open_live(LIVE).expect("open the live");
    assert_eq!((head.head, head.last_message_id), (15, 7));
    assert_eq!(
        store.message(LIVE, MessageId(7)).expect("message 7"),
        Some(ChatEntry::Message(next))
    );
    let log = store.audit_log(LIVE).expect("audit log");
    assert_eq!(log.len(), 7);
    assert_eq!(log[6].index, 7);
    assert_eq!(log[6].prev_hash, log[5].hash);
    store.verify_audit_chain(LIVE).expect("the chain goes on");
    let games = store.games(LIVE).expect("games");
    assert_eq!(games.polls.len(), 1);
    assert_eq!(games.polls[0].poll, poll);
}
