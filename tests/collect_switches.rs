//! The brand's opt-in collection switches (`[collect] email_opt_in`,
//! `sms_alerts`): an opt-in the brand does not offer is refused with
//! `not_offered`, nothing of it is stored (the store's files are scanned),
//! and the welcome says which opt-ins are offered. Against a real hub, and
//! through the real binary's brand file.

mod support;

use std::path::Path;

use regie::protocol::{
    Auth, Command, ConsentChannel, ConsentPurpose, Contact, ErrorCode, ServerFrame, ViewerId,
};
use regie::store::DB_FILE;
use support::binary::{Served, run};
use support::client::{Client, keyed_viewer_hello, viewer_hello};
use support::forensics::utf16;
use support::hub::TestHub;
use support::store::on_disk;

const PHONE: &str = "+33 6 47 19 83 52";
const EMAIL: &str = "zq91.lea@example.fr";
const KEY: &str = "device-secret-lea";

fn contact(phone: Option<&str>, email: Option<&str>) -> Contact {
    Contact {
        phone: phone.map(Into::into),
        email: email.map(Into::into),
    }
}

async fn join(hub: &TestHub, contact: Contact) -> Client {
    let mut hello = keyed_viewer_hello(&hub.live, "Léa", KEY);
    if let Auth::Viewer { contact: c, .. } = &mut hello.auth {
        *c = contact;
    }
    hub.join(hello).await
}

fn consent(purpose: ConsentPurpose, granted: bool, contact: Contact) -> Command {
    Command::Consent {
        purpose,
        granted,
        channel: ConsentChannel::Player,
        // The hash of the text the hub offers for the purpose (the hub
        // refuses any other); prize contact is not worded by `[consent]`.
        text_sha256: regie::hub::consent_texts::ConsentTexts::default()
            .sha256(purpose)
            .unwrap_or_else(|| "9f".repeat(32)),
        contact,
    }
}

/// The viewer's stored seals (phone, e-mail) and granted consents, read
/// through SQLite.
fn stored(dir: &Path, viewer: &ViewerId) -> (bool, bool, Vec<String>) {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only");
    let (phone, email): (Option<Vec<u8>>, Option<Vec<u8>>) = db
        .query_row(
            "SELECT phone_sealed, email_sealed FROM viewers WHERE viewer_id = ?1",
            [&viewer.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the viewer's row");
    let mut q = db
        .prepare("SELECT purpose FROM consents WHERE viewer_id = ?1 AND granted = 1 ORDER BY id")
        .expect("query consents");
    let granted = q
        .query_map([&viewer.0], |r| r.get(0))
        .expect("consents")
        .collect::<Result<Vec<String>, _>>()
        .expect("consents");
    (phone.is_some(), email.is_some(), granted)
}

/// One show with the switches at `offered`: what the viewer is told, what
/// the hub answers, what the store keeps.
async fn opt_ins(offered: bool) {
    let hub = TestHub::start_with(|c| {
        c.settings.email_opt_in = offered;
        c.settings.sms_alerts = offered;
    })
    .await;
    let dir = hub.data_dir.clone();
    let mut lea = join(&hub, Contact::default()).await;
    let id = lea.welcome.you.viewer_id.clone().expect("a viewer id");
    let settings = &lea.welcome.snapshot.as_ref().expect("a snapshot").settings;
    assert_eq!(
        (settings.email_opt_in, settings.sms_alerts),
        (offered, offered)
    );

    for (purpose, given) in [
        (ConsentPurpose::Marketing, contact(None, Some(EMAIL))),
        (ConsentPurpose::SmsReminders, contact(Some(PHONE), None)),
    ] {
        match lea.command(consent(purpose, true, given)).await {
            ServerFrame::Ack { .. } => assert!(offered, "{purpose:?} taken while not offered"),
            ServerFrame::Error(e) => {
                assert!(!offered, "{purpose:?} refused while offered: {e:?}");
                assert_eq!(e.code, ErrorCode::NotOffered);
                assert!(!e.temporary);
            }
            other => panic!("expected an ack or an error, got {other:?}"),
        }
    }
    // A withdrawal is always taken: it records no contact data.
    lea.ack(consent(
        ConsentPurpose::Marketing,
        false,
        Contact::default(),
    ))
    .await;
    lea.ack(consent(
        ConsentPurpose::SmsReminders,
        false,
        Contact::default(),
    ))
    .await;
    if offered {
        lea.ack(consent(
            ConsentPurpose::Marketing,
            true,
            contact(None, Some(EMAIL)),
        ))
        .await;
        lea.ack(consent(
            ConsentPurpose::SmsReminders,
            true,
            contact(Some(PHONE), None),
        ))
        .await;
    }
    drop(lea);
    // A hello carrying the contact data again.
    let lea = join(&hub, contact(Some(PHONE), Some(EMAIL))).await;
    drop(lea);
    // The temp dir lives until the scan is done.
    let _kept = hub.stop().await;

    let (phone, email, granted) = stored(&dir, &id);
    if offered {
        assert!(phone && email, "the control stores both");
        // Granted, withdrawn, granted again.
        assert_eq!(
            granted,
            ["marketing", "sms_reminders", "marketing", "sms_reminders"]
        );
    } else {
        assert_eq!((phone, email), (false, false));
        assert!(granted.is_empty(), "{granted:?}");
        for value in [PHONE, EMAIL] {
            for needle in [value.as_bytes().to_vec(), utf16(value)] {
                assert!(!on_disk(&dir, &needle), "{value:?} is on disk");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_ins_not_offered_are_refused_and_nothing_of_them_is_stored() {
    opt_ins(false).await;
}

/// The control: the same steps with the opt-ins offered store both, so
/// the test above proves something.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_ins_offered_are_taken_and_stored() {
    opt_ins(true).await;
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).expect("the test writes its brand file");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_brand_file_turns_the_opt_ins_off_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir.path().join("brand.toml"),
        "[collect]\nemail_opt_in = false\nsms_alerts = true\n",
    );
    let mut serve = Served::start(&dir.path().join("data"), "warn", &["--config", &file]);
    let serving = loop {
        let line = serve
            .line(support::hub::TIMEOUT)
            .expect("serve says it serves");
        if line.contains("serving") {
            break line;
        }
    };
    let url = serving
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .expect("an address")
        .to_string();
    let mut lea = Client::try_join(&url, viewer_hello("show", "Léa"))
        .await
        .unwrap_or_else(|c| panic!("refused: {:?}", c.code));
    let settings = &lea.welcome.snapshot.as_ref().expect("a snapshot").settings;
    assert!(!settings.email_opt_in && settings.sms_alerts);
    let refused = lea
        .refused(consent(
            ConsentPurpose::Marketing,
            true,
            contact(None, Some(EMAIL)),
        ))
        .await;
    assert_eq!(refused.code, ErrorCode::NotOffered);
    lea.ack(consent(
        ConsentPurpose::SmsReminders,
        true,
        contact(Some(PHONE), None),
    ))
    .await;
    drop(lea);
    serve.interrupt();
    let exit = serve.wait(support::hub::TIMEOUT).expect("serve exits");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn config_check_warns_on_unknown_collect_keys_and_refuses_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let typo = write(
        &dir.path().join("typo.toml"),
        "[collect]\nemail_opt_in = false\nphone_opt_in = true\n",
    );
    let ran = run(&["config", "check", &typo], &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!("{typo}:3:")) && ran.stderr.contains("collect.phone_opt_in"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stdout.contains("opt-ins: e-mail off, SMS alerts on"),
        "{}",
        ran.stdout
    );

    let bad = write(
        &dir.path().join("bad.toml"),
        "[collect]\n\nsms_alerts = \"no\"\n",
    );
    let ran = run(&["config", "check", &bad], &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!("{bad}:3:")) && ran.stderr.contains("collect.sms_alerts"),
        "{}",
        ran.stderr
    );
}
