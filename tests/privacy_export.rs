//! Issue 9, "Export a viewer" (Art. 15/20), on the real binary against a
//! store a real hub wrote (and still serves from): the document holds
//! everything about the viewer (profile with contact in clear, consents
//! with the exact text shown, messages, staff answers, votes, entries,
//! sanctions) and nothing of a second viewer; the file is mode 0600; the
//! export is audited without content, and the hub's own audit records
//! after it keep one verifiable chain.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use regie::protocol::{
    Auth, Command, ConsentChannel, ConsentPurpose, Contact, Event, MessageId, StaffRole,
};
use support::binary::{Ran, run};
use support::client::{Client, keyed_viewer_hello};
use support::hub::TestHub;

const CONSENT_TEXT: &str = "J'accepte d'être contacté·e par SMS si je gagne un lot.\n";
const PHONE: &str = "+33 6 47 19 83 52";
const LEA_TEXT: &str = "la robe existe en vert sapin ?";
const ANSWER: &str = "oui, en 38 et 40";
const TIMEOUT_REASON: &str = "majuscules en rafale";
const BOB_NAME: &str = "Bérénice";
const BOB_TEXT: &str = "quel est le prix du manteau bordeaux";

/// Runs `regie args…` with output captured (see [`support::binary::run`]).
fn regie(args: &[&str]) -> Ran {
    run(args, &[])
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

async fn message_id_at(client: &mut Client, seq: u64) -> MessageId {
    match client.event_at(seq).await.event {
        Event::Message { message } => message.id,
        other => panic!("expected a message at seq {seq}, got {other:?}"),
    }
}

fn export(data: &Path, live: &str, viewer: &str, out: &Path) -> Ran {
    regie(&[
        "privacy",
        "export",
        "--data",
        path(data),
        "--live",
        live,
        "--viewer",
        viewer,
        "--out",
        path(out),
        "--by",
        "Sam",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::too_many_lines, reason = "one story: a show, then its export")]
async fn an_export_holds_everything_about_the_viewer_and_nothing_else() {
    let hub = TestHub::start().await;
    let data = hub.data_dir.clone();
    let live = hub.live.clone();

    // Joined first: by then the hub has created (and migrated) the store.
    let mut host = hub.staff(StaffRole::Host, "Nadia").await;
    // The brand registers the text its player shows; the hash is the one
    // the consent names.
    let text_file = data.join("consent-sms.txt");
    std::fs::write(&text_file, CONSENT_TEXT).expect("write the consent text");
    let registered = regie(&[
        "privacy",
        "consent-text",
        "--data",
        path(&data),
        path(&text_file),
    ]);
    assert_eq!(registered.code, 0, "{}", registered.stderr);
    let sha = registered.stdout.trim().to_owned();
    assert_eq!(sha.len(), 64, "{sha:?}");

    let mut lea = hub
        .join(keyed_viewer_hello(&live, "Léa", "device-lea"))
        .await;
    let lea_id = lea.welcome.you.viewer_id.clone().expect("a viewer id");
    let mut bob_hello = keyed_viewer_hello(&live, BOB_NAME, "device-bob");
    if let Auth::Viewer { contact, .. } = &mut bob_hello.auth {
        *contact = Contact::default();
    }
    let mut bob = hub.join(bob_hello).await;
    let bob_id = bob.welcome.you.viewer_id.clone().expect("a viewer id");

    lea.ack(Command::Consent {
        purpose: ConsentPurpose::PrizeContact,
        granted: true,
        channel: ConsentChannel::Player,
        text_sha256: sha.clone(),
        contact: Contact {
            phone: Some(PHONE.into()),
            email: None,
        },
    })
    .await;
    let seq = lea.say(LEA_TEXT).await;
    let lea_msg = message_id_at(&mut host, seq).await;
    bob.say(BOB_TEXT).await;
    host.ack(Command::Answer {
        message_id: lea_msg,
        text: ANSWER.into(),
        also: Vec::new(),
    })
    .await;
    host.ack(Command::PollOpen {
        question: "vert ou bordeaux ?".into(),
        options: vec!["vert".into(), "bordeaux".into()],
        duration_secs: None,
    })
    .await;
    lea.ack(Command::Vote {
        poll_id: 1,
        option: 1,
    })
    .await;
    bob.ack(Command::Vote {
        poll_id: 1,
        option: 0,
    })
    .await;
    host.ack(Command::InstantWinOpen {
        prize: "un foulard".into(),
        winners: 1,
        entry_secs: 600,
        rules: "tirage parmi les inscrits".into(),
    })
    .await;
    lea.ack(Command::Enter { draw_id: 1 }).await;
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    moderator
        .ack(Command::Timeout {
            viewer_id: lea_id.clone(),
            seconds: 60,
            reason: TIMEOUT_REASON.into(),
        })
        .await;

    // While the hub serves.
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("lea.json");
    let ran = export(&data, &live, &lea_id.0, &file);
    assert_eq!(ran.code, 0, "{}", ran.stderr);

    let mode = std::fs::metadata(&file)
        .expect("the export")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    let raw = std::fs::read_to_string(&file).expect("read the export");
    let doc: serde_json::Value = serde_json::from_str(&raw).expect("the export is JSON");

    assert_eq!(doc["profile"]["viewer_id"], lea_id.0.as_str());
    assert_eq!(doc["profile"]["first_name"], "Léa");
    assert_eq!(doc["profile"]["phone"], PHONE);
    assert_eq!(doc["profile"]["phone_purpose"], "prize_contact");
    let consents = doc["consents"].as_array().expect("consents");
    assert_eq!(consents.len(), 1, "{consents:?}");
    assert_eq!(consents[0]["text_sha256"], sha.as_str());
    assert_eq!(consents[0]["text"], CONSENT_TEXT, "the exact text shown");
    assert_eq!(consents[0]["granted"], true);
    let messages = doc["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["text"], LEA_TEXT);
    assert_eq!(doc["replies"][0]["text"], ANSWER);
    assert_eq!(doc["replies"][0]["reply_to_id"], lea_msg.0);
    assert_eq!(doc["votes"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["votes"][0]["option"], 1);
    assert_eq!(doc["entries"][0]["draw_id"], 1);
    assert_eq!(doc["sanctions"][0]["kind"], "timeout");
    assert_eq!(doc["sanctions"][0]["reason"], TIMEOUT_REASON);

    // Only this viewer: nothing of Bérénice, nor staff names.
    for absent in [bob_id.0.as_str(), BOB_NAME, BOB_TEXT, "Nadia", "Inès"] {
        assert!(!raw.contains(absent), "{absent:?} is in the export:\n{raw}");
    }

    // A staff action after the export: the hub appends to the same chain.
    moderator
        .ack(Command::Timeout {
            viewer_id: bob_id.clone(),
            seconds: 60,
            reason: String::new(),
        })
        .await;
    let verify = regie(&["audit", "verify", "--data", path(&data), "--live", &live]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    let show = regie(&[
        "audit",
        "show",
        "--data",
        path(&data),
        "--live",
        &live,
        "--action",
        "export_viewer",
    ]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    let lines: Vec<&str> = show.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", show.stdout);
    assert!(
        lines[0].contains(&lea_id.0) && lines[0].contains("Sam"),
        "{}",
        lines[0]
    );
    for content in [PHONE, LEA_TEXT, "Léa", CONSENT_TEXT.trim()] {
        assert!(
            !show.stdout.contains(content),
            "the audit holds {content:?}"
        );
    }

    // The file is never overwritten; an unknown viewer is a usage error.
    assert_eq!(export(&data, &live, &lea_id.0, &file).code, 2);
    let other = out.path().join("nobody.json");
    assert_eq!(export(&data, &live, "no-such-viewer", &other).code, 2);
    assert!(!other.exists());
    hub.stop().await;
}
