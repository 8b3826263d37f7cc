//! Issue 9, "Erase a viewer (Art. 17)", end to end against a real hub: two
//! staff clients (support, admin), the viewer and another viewer. After
//! `erase_viewer`, the data dir read as bytes (database, WAL, shared
//! memory; UTF-8 and UTF-16) and as every stored value holds none of the
//! viewer's text, first name, pseudonym, phone, e-mail or contact seals,
//! and the fingerprint attack of defect 1 (every candidate of the masked
//! phone against every stored hash) recovers nothing. Every client gets
//! the erasure at once; a late client's snapshot and a resume replay hold
//! none of it; the same viewer pass joins as a new viewer.

mod support;

use std::collections::HashSet;
use std::path::Path;

use regie::protocol::{
    Auth, ChatEntry, ClientFrame, Command, CommandFrame, CommandId, ConsentChannel, ConsentPurpose,
    Contact, ErrorCode, Event, Hello, ServerFrame, StaffRole, ViewerId,
};
use regie::store::DB_FILE;
use sha2::{Digest, Sha256};
use support::client::{Client, keyed_viewer_hello};
use support::forensics::{everything_stored, hash_prefixes, utf16};
use support::hub::TestHub;

/// The erased viewer's values, each unique in the data dir.
const TEXT: &str = "ZQ81-ERASE-ma-commande-rue-des-lilas";
const QUESTION: &str = "ZQ82-ERASE-elle-existe-en-38";
const FIRST_NAME: &str = "Zephyrinette";
const PSEUDONYM: &str = "zq-pseudo-91";
const PHONE: &str = "06 12 34 56 78";
const EMAIL: &str = "zephyrinette.zq91@example.org";
const KEY: &str = "device-secret-zephyrinette";
/// The other viewer's text: it must stay.
const KEPT: &str = "ZQ83-KEPT-bonsoir-tout-le-monde";
/// The command id of the say that carried the phone number.
const PHONE_COMMAND_ID: &str = "k3f9-erase";

/// Where `needle` (UTF-8 or UTF-16) is found among `stored`.
fn found_in(stored: &[(String, Vec<u8>)], needle: &[u8]) -> Vec<String> {
    stored
        .iter()
        .filter(|(_, b)| !needle.is_empty() && b.windows(needle.len()).any(|w| w == needle))
        .map(|(c, _)| c.clone())
        .collect()
}

fn leaks(stored: &[(String, Vec<u8>)], value: &str) -> Vec<String> {
    let mut at = found_in(stored, value.as_bytes());
    at.extend(found_in(stored, &utf16(value)));
    at
}

fn query_i64(dir: &Path, sql: &str) -> i64 {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only");
    db.query_row(sql, [], |r| r.get(0)).expect("a number")
}

// ── the fingerprint attack of defect 1, on the erased phone ─────────────

/// What the hub could have hashed: the text, the say command, its frame,
/// and the consent command that carried the phone as contact data.
fn preimages(phone: &str) -> Vec<Vec<u8>> {
    let say = Command::Say {
        text: phone.into(),
        question: false,
        announcement: false,
    };
    let frame = ClientFrame::Command(CommandFrame {
        id: CommandId(PHONE_COMMAND_ID.into()),
        command: say.clone(),
    });
    vec![
        phone.as_bytes().to_vec(),
        serde_json::to_vec(&say).expect("serialise"),
        serde_json::to_vec(&frame).expect("serialise"),
        serde_json::to_vec(&consent(phone)).expect("serialise"),
    ]
}

/// Where the six hidden digits sit in "06 12 34 56 78".
const HIDDEN: [usize; 6] = [3, 4, 6, 7, 9, 10];

/// The candidates of the masked `06 •• •• •• 78` whose hash prefix some
/// stored value shows: all 10⁶ of them, against every preimage.
fn recovered(prefixes: &HashSet<[u8; 8]>) -> Vec<String> {
    let mut found = Vec::new();
    let mut phone = PHONE.as_bytes().to_vec();
    let templates: Vec<(Vec<u8>, usize)> = preimages(PHONE)
        .into_iter()
        .map(|p| {
            let at = p
                .windows(PHONE.len())
                .position(|w| w == PHONE.as_bytes())
                .expect("the phone is verbatim in each preimage");
            (p, at)
        })
        .collect();
    for n in 0..1_000_000u32 {
        let mut rest = n;
        for &i in HIDDEN.iter().rev() {
            phone[i] = b'0' + u8::try_from(rest % 10).expect("a digit");
            rest /= 10;
        }
        let hit = templates.iter().any(|(p, at)| {
            let mut hasher = Sha256::new();
            hasher.update(&p[..*at]);
            hasher.update(&phone);
            hasher.update(&p[at + PHONE.len()..]);
            let digest = hasher.finalize();
            prefixes.contains(&<[u8; 8]>::try_from(&digest[..8]).expect("8 bytes"))
        });
        if hit {
            found.push(String::from_utf8_lossy(&phone).into_owned());
        }
    }
    found
}

// ── the scenario ────────────────────────────────────────────────────────

fn consent(phone: &str) -> Command {
    Command::Consent {
        purpose: ConsentPurpose::PrizeContact,
        granted: true,
        channel: ConsentChannel::Player,
        text_sha256: "9f".repeat(32),
        contact: Contact {
            phone: Some(phone.into()),
            email: Some(EMAIL.into()),
        },
    }
}

fn hello(hub: &TestHub) -> Hello {
    let mut hello = keyed_viewer_hello(&hub.live, FIRST_NAME, KEY);
    if let Auth::Viewer { pseudonym, .. } = &mut hello.auth {
        *pseudonym = Some(PSEUDONYM.into());
    }
    hello
}

fn viewer_id(client: &Client) -> ViewerId {
    client.welcome.you.viewer_id.clone().expect("a viewer id")
}

/// What a client must not hold after the erasure, as its frames' JSON.
fn assert_clean(what: &str, json: &str, masked: &str) {
    for value in [TEXT, QUESTION, FIRST_NAME, PSEUDONYM, PHONE, EMAIL, masked] {
        assert!(
            !json.contains(value),
            "{what} still holds {value:?}: {json}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::too_many_lines, reason = "one scenario, told in order")]
async fn an_erased_viewer_leaves_nothing_readable_behind() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut ada = hub.staff(StaffRole::Admin, "Ada").await;
    let mut julie = hub.viewer("Julie").await;
    let julie_from = julie.position();
    let mut zeph = hub.join(hello(&hub)).await;
    let zeph_id = viewer_id(&zeph);

    // Everything a viewer leaves: contact under consent, chat (one line
    // with the phone, masked by the hub), a question answered and pinned,
    // a vote, a timeout with a reason.
    zeph.ack(consent(PHONE)).await;
    let phone_seq = match zeph
        .command_with_id(
            PHONE_COMMAND_ID,
            Command::Say {
                text: PHONE.into(),
                question: false,
                announcement: false,
            },
        )
        .await
    {
        ServerFrame::Ack { seq: Some(seq), .. } => seq,
        other => panic!("expected an ack with a seq, got {other:?}"),
    };
    let text_seq = zeph.say(TEXT).await;
    let question_seq = zeph
        .ack(Command::Say {
            text: QUESTION.into(),
            question: true,
            announcement: false,
        })
        .await
        .expect("a question is an event");
    let Event::Message { message: masked } = sam.event_at(phone_seq).await.event else {
        panic!("expected the phone message at {phone_seq}");
    };
    assert_ne!(masked.text, PHONE, "the hub stores the number masked");
    let Event::Message { message: question } = ada.event_at(question_seq).await.event else {
        panic!("expected the question at {question_seq}");
    };
    let answer_seq = ada
        .ack(Command::Answer {
            message_id: question.id,
            text: "oui, en 38".into(),
            also: Vec::new(),
        })
        .await
        .expect("an answer is an event");
    ada.ack(Command::Pin {
        message_id: question.id,
    })
    .await;
    let poll_seq = ada
        .ack(Command::PollOpen {
            question: "Rouge ou bleu ?".into(),
            options: vec!["Rouge".into(), "Bleu".into()],
            duration_secs: None,
        })
        .await
        .expect("a poll opens with an event");
    zeph.event_at(poll_seq).await;
    julie.event_at(poll_seq).await;
    zeph.ack(Command::Vote {
        poll_id: 1,
        option: 0,
    })
    .await;
    julie
        .ack(Command::Vote {
            poll_id: 1,
            option: 1,
        })
        .await;
    ada.ack(Command::Timeout {
        viewer_id: zeph_id.clone(),
        seconds: 5,
        // Staff reasons go to the append-only audit chain too: what staff
        // write there stays (docs/privacy.md), so this one names nobody.
        reason: "spam".into(),
    })
    .await;
    let kept_seq = julie.say(KEPT).await;
    sam.event_at(kept_seq).await;

    // Before: the scan sees every value it looks for (else it proves nothing).
    let stored = everything_stored(&dir);
    for value in [TEXT, QUESTION, FIRST_NAME, PSEUDONYM, masked.text.as_str()] {
        assert!(!leaks(&stored, value).is_empty(), "{value} is not stored");
    }
    let seals = {
        let db = rusqlite::Connection::open_with_flags(
            dir.join(DB_FILE),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open the store");
        let (phone, email): (Vec<u8>, Vec<u8>) = db
            .query_row(
                "SELECT phone_sealed, email_sealed FROM viewers WHERE viewer_id = ?1",
                [&zeph_id.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("the contact is stored sealed under the consent");
        [phone, email]
    };

    // The erasure: one command from support.
    let erased_seq = sam
        .ack(Command::EraseViewer {
            viewer_id: zeph_id.clone(),
            reason: "demande RGPD art. 17".into(),
        })
        .await
        .expect("an erasure is an event");
    let erased =
        |e: &Event| matches!(e, Event::ViewerErased { viewer_id, .. } if *viewer_id == zeph_id);
    for client in [&mut sam, &mut ada, &mut julie, &mut zeph] {
        let at = client.event_at(erased_seq).await;
        assert!(
            erased(&at.event),
            "expected the erasure at {erased_seq}, got {at:?}"
        );
    }
    let Event::ViewerErased { by, .. } = &julie.event_at(erased_seq).await.event else {
        unreachable!("checked above");
    };
    assert_eq!(by.name, None, "viewers get the role only");
    // The erased connection can send nothing more under the gone id.
    let refused = zeph.refused(Command::Say {
        text: "encore moi".into(),
        question: false,
        announcement: false,
    });
    assert_eq!(refused.await.code, ErrorCode::Forbidden);
    // The checkpoint runs at the end of the erasure's turn: a later
    // command is decided after it.
    julie.say("suite du live").await;

    // The data dir: no value, no seal, no recoverable phone.
    let stored = everything_stored(&dir);
    for value in [
        TEXT,
        QUESTION,
        FIRST_NAME,
        PSEUDONYM,
        PHONE,
        EMAIL,
        masked.text.as_str(),
    ] {
        assert_eq!(
            leaks(&stored, value),
            Vec::<String>::new(),
            "{value} is still stored"
        );
    }
    for seal in &seals {
        assert_eq!(
            found_in(&stored, seal),
            Vec::<String>::new(),
            "a contact seal is left"
        );
    }
    assert!(
        !leaks(&stored, KEPT).is_empty(),
        "the scan no longer sees what was kept"
    );
    assert_eq!(recovered(&hash_prefixes(&stored)), Vec::<String>::new());
    let count = |sql: &str| query_i64(&dir, sql);
    assert_eq!(count("SELECT count(*) FROM votes"), 2, "the counts stay");
    let linked = format!(
        "SELECT count(*) FROM votes WHERE viewer_id = '{}'",
        zeph_id.0
    );
    assert_eq!(count(&linked), 0, "a vote still links to the viewer");
    for table in ["viewers", "consents", "sanctions", "messages", "tombstones"] {
        let column = if table == "tombstones" {
            "author_id"
        } else {
            "viewer_id"
        };
        let sql = format!(
            "SELECT count(*) FROM {table} WHERE {column} = '{}'",
            zeph_id.0
        );
        assert_eq!(count(&sql), 0, "{table} still holds the viewer");
    }
    let principal = format!("viewer:{}", zeph_id.0);
    let outcomes = format!("SELECT count(*) FROM command_outcomes WHERE principal = '{principal}'");
    assert_eq!(
        count(&outcomes),
        0,
        "the viewer's command outcomes are kept"
    );
    let audit = "SELECT count(*) FROM audit WHERE action = 'erase_viewer'";
    assert_eq!(count(audit), 1, "one audit record");

    // A late staff client's snapshot: tombstones in place, the reply keeps
    // no name, the pin is gone.
    let late = hub.staff(StaffRole::Admin, "Ada").await;
    let snapshot = late.welcome.snapshot.clone().expect("a snapshot");
    assert_clean(
        "a late snapshot",
        &serde_json::to_string(&snapshot).expect("json"),
        &masked.text,
    );
    assert!(
        snapshot.pinned.is_none(),
        "the erased question is still pinned"
    );
    for id in [masked.id, question.id] {
        let entry = snapshot.recent.iter().find(|e| e.id() == id);
        assert!(
            matches!(entry, Some(ChatEntry::Redacted(t)) if t.author_id.is_none()),
            "message {id} is {entry:?}"
        );
    }
    let answer = snapshot
        .recent
        .iter()
        .find_map(|e| match e {
            ChatEntry::Message(m)
                if m.reply_to.as_ref().map(|r| r.message_id) == Some(question.id) =>
            {
                Some(m)
            }
            _ => None,
        })
        .expect("the answer stays");
    assert_eq!(
        answer.reply_to.as_ref().map(|r| r.first_name.as_str()),
        Some("")
    );

    // A resume from before the viewer joined: the replay holds tombstones.
    drop(julie);
    let mut resume = support::client::viewer_hello(&hub.live, "Julie");
    resume.resume = Some(julie_from);
    let resumed = hub.join(resume).await;
    assert!(resumed.welcome.resumed, "the hub replays the gap");
    let mut replay = resumed;
    let head = replay.welcome.seq;
    replay.event_at(head).await;
    let frames = replay.events.clone();
    for seq in [phone_seq, text_seq, question_seq] {
        let frame = frames.iter().find(|f| f.seq == seq).expect("replayed");
        assert!(matches!(frame.event, Event::Redacted { .. }), "{frame:?}");
    }
    assert!(frames.iter().any(|f| f.seq == answer_seq));
    assert_clean(
        "a resume replay",
        &serde_json::to_string(&frames).expect("json"),
        &masked.text,
    );

    // The same viewer pass joins as somebody new.
    drop(zeph);
    let again = hub.join(hello(&hub)).await;
    let new_id = viewer_id(&again);
    assert_ne!(new_id, zeph_id, "the erased id came back");
    let again_ack = hub.join(hello(&hub)).await;
    assert_eq!(viewer_id(&again_ack), new_id, "the new id is stable");
    hub.stop().await;
}
