//! `regie keys rotate contact` (the real binary) against a hub that keeps
//! serving: chat goes on during the rotation, support's card still shows
//! the contact (masked) afterwards, every row is re-sealed under the new
//! key id, a viewer who joins after is sealed under it too (the hub learnt
//! the key), the old key file is gone and its bytes are nowhere in the data
//! dir. On the PostgreSQL store hub nodes share, the rotation takes its
//! keys from the environment only.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as Process, Stdio};

use regie::protocol::{
    Auth, Command, ConsentChannel, ConsentPurpose, ConsentState, Contact, MaskedContact,
    ServerFrame, StaffRole, ViewerId,
};
use regie::store::DB_FILE;
use support::client::Client;
use support::hub::TestHub;

/// The first 5 bytes (version and key id) of every sealed contact value.
fn seal_headers(data: &Path) -> BTreeSet<Vec<u8>> {
    let conn = rusqlite::Connection::open(data.join(DB_FILE)).expect("open the store file");
    let mut stmt = conn
        .prepare(
            "SELECT substr(phone_sealed, 1, 5) FROM viewers WHERE phone_sealed IS NOT NULL \
             UNION ALL SELECT substr(email_sealed, 1, 5) FROM viewers WHERE email_sealed IS NOT NULL",
        )
        .expect("query");
    stmt.query_map([], |r| r.get(0))
        .expect("rows")
        .map(|r| r.expect("a header"))
        .collect()
}

fn count_sealed(data: &Path) -> i64 {
    let conn = rusqlite::Connection::open(data.join(DB_FILE)).expect("open the store file");
    conn.query_row(
        "SELECT count(phone_sealed) + count(email_sealed) FROM viewers",
        [],
        |r| r.get(0),
    )
    .expect("count")
}

/// A keyed viewer who gives a phone and an e-mail with a prize-contact
/// consent: contact is stored only under a consent its field serves.
async fn join_with_contact(hub: &TestHub, name: &str, phone: &str, email: &str) -> Client {
    let mut hello = hub.viewer_hello(name);
    if let Auth::Viewer { pass: key, .. } = &mut hello.auth {
        *key = Some(support::client::test_key(&format!("device-{name}")));
    }
    let mut viewer = hub.join(hello).await;
    let consent = Command::Consent {
        purpose: ConsentPurpose::PrizeContact,
        granted: true,
        channel: ConsentChannel::Player,
        text_sha256: "9f".repeat(32),
        contact: Contact {
            phone: Some(phone.into()),
            email: Some(email.into()),
        },
    };
    assert_eq!(viewer.ack(consent).await, None, "the consent is taken");
    viewer
}

async fn card_contact(staff: &mut Client, id: &ViewerId) -> MaskedContact {
    let ServerFrame::ViewerCard { card, .. } = staff
        .command(Command::ViewerCard {
            viewer_id: id.clone(),
        })
        .await
    else {
        panic!("no viewer card")
    };
    card.contact.expect("support sees the masked contact")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contact_key_rotates_while_the_hub_serves() {
    let hub = TestHub::start().await;
    let data = hub.data_dir.clone();
    let mut viewers = Vec::new();
    for (i, name) in ["Julie", "Marc", "Léa", "Inès", "Omar"].iter().enumerate() {
        viewers.push(
            join_with_contact(
                &hub,
                name,
                &format!("+33 6 12 34 56 7{i}"),
                &format!("{}.{i}@example.fr", name.to_lowercase()),
            )
            .await,
        );
    }
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let julie_id = viewers[0].welcome.you.viewer_id.clone().expect("an id");
    let before = card_contact(&mut sam, &julie_id).await;
    assert!(before.phone.is_some() && before.email.is_some());

    let old_key = std::fs::read(data.join("contact.key")).expect("the old key");
    let old_headers = seal_headers(&data);
    assert_eq!(old_headers.len(), 1, "one key sealed everything");
    let sealed = count_sealed(&data);
    assert_eq!(sealed, 10);

    // The rotation runs as its own process; the chat goes on meanwhile.
    let rotate = {
        let data = data.clone();
        tokio::task::spawn_blocking(move || {
            Process::new(env!("CARGO_BIN_EXE_regie"))
                .args(["keys", "rotate", "contact", "--batch", "2", "--data"])
                .arg(&data)
                .env_remove("REGIE_CONTACT_KEY")
                .output()
                .expect("regie keys rotate runs")
        })
    };
    let mut said = 0;
    // Each viewer says at most 3 lines, under the per-viewer rate limit.
    while !rotate.is_finished() && said < 15 {
        viewers[said % 5].say(&format!("still here {said}")).await;
        said += 1;
    }
    let out = rotate.await.expect("the rotation's thread");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("10 contact values re-sealed"), "{stdout}");
    assert!(stdout.contains("in 3 batches"), "{stdout}");

    // Every row under one new key id.
    let new_headers = seal_headers(&data);
    assert_eq!(new_headers.len(), 1, "{new_headers:?}");
    assert!(new_headers.is_disjoint(&old_headers));
    assert_eq!(count_sealed(&data), sealed, "no value lost");

    // A viewer who joins now is sealed under the new key: the hub learnt it.
    let mut late = join_with_contact(&hub, "Zoé", "+33 6 98 76 54 32", "zoe@example.fr").await;
    let late_id = late.welcome.you.viewer_id.clone().expect("an id");
    assert_eq!(seal_headers(&data), new_headers);
    // The hub keeps serving and opens the re-sealed values.
    assert_eq!(card_contact(&mut sam, &julie_id).await, before);
    assert!(card_contact(&mut sam, &late_id).await.phone.is_some());
    late.say("bonjour").await;

    // The old key is gone: no retired file, and its bytes in no file at all.
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&data).expect("the data dir") {
        let entry = entry.expect("an entry");
        names.push(entry.file_name().to_string_lossy().into_owned());
        let bytes = std::fs::read(entry.path()).expect("a file");
        assert!(
            !bytes
                .windows(old_key.len())
                .any(|w| w == old_key.as_slice()),
            "the old key's bytes are still in {}",
            entry.path().display()
        );
    }
    assert!(
        !names.iter().any(|n| n.contains("retired")),
        "a retired key file is left: {names:?}"
    );
    let new_key = std::fs::read(data.join("contact.key")).expect("the new key");
    assert_eq!(new_key.len(), 32);
    assert_ne!(new_key, old_key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("contact.key"))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    hub.stop().await;
}

#[test]
fn rotate_on_a_missing_store_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Process::new(env!("CARGO_BIN_EXE_regie"))
        .args(["keys", "rotate", "contact", "--data"])
        .arg(dir.path().join("nope"))
        .output()
        .expect("regie runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

#[test]
fn serve_takes_the_contact_key_from_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut serve = Process::new(env!("CARGO_BIN_EXE_regie"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env("REGIE_CONTACT_KEY", "07".repeat(32))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("regie serve starts");
    let stderr = serve.stderr.take().expect("piped stderr");
    // Read until "serving" (or the end, if it exits instead).
    let ready = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("serving"));
    let _ = Process::new("kill")
        .args(["-INT", &serve.id().to_string()])
        .status();
    let status = serve.wait().expect("serve's status");
    assert!(ready, "serve did not start: {status}");
    assert!(
        !data.join("contact.key").exists(),
        "a key from the environment is not written to the data dir"
    );
    let bad = Process::new(env!("CARGO_BIN_EXE_regie"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env("REGIE_CONTACT_KEY", "not a key")
        .output()
        .expect("regie runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("REGIE_CONTACT_KEY"));
}

#[test]
fn serve_keeps_its_keys_where_keys_says() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (data, keys) = (dir.path().join("data"), dir.path().join("keys"));
    let mut serve = Process::new(env!("CARGO_BIN_EXE_regie"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .arg("--keys")
        .arg(&keys)
        .env_remove("REGIE_CONTACT_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("regie serve starts");
    let stderr = serve.stderr.take().expect("piped stderr");
    let ready = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("serving"));
    let _ = Process::new("kill")
        .args(["-INT", &serve.id().to_string()])
        .status();
    let status = serve.wait().expect("serve's status");
    assert!(ready, "serve did not start: {status}");
    assert!(keys.join("contact.key").exists());
    assert!(!data.join("contact.key").exists());
}

/// With the keys in the environment, the secret manager holds both keys
/// and `rotate` only re-seals.
#[test]
fn with_environment_keys_rotate_reseals_from_previous_to_active() {
    use regie::store::contact::{KeySource, rotate};
    use regie::store::{Durability, SqliteStore, Store, ViewerRecord};
    let dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = ("11".repeat(32), "22".repeat(32));
    let id = ViewerId("v-1".into());
    let env = |active: &str, previous: &str| KeySource::from_text(active, previous).expect("keys");
    let mut store = SqliteStore::open_with_keys(dir.path(), Durability::Normal, env(&old, ""))
        .expect("open the store");
    store.open_live("show").expect("the live");
    let record = ViewerRecord {
        id: id.clone(),
        first_name: "Julie".into(),
        pseudonym: "julie".into(),
        first_seen: 1,
        last_seen: 1,
    };
    let contact = Contact {
        phone: Some("+33 6 12 34 56 78".into()),
        email: None,
    };
    store
        .upsert_viewer("show", &record, &Contact::default())
        .expect("stored");
    let grant = ConsentState {
        purpose: ConsentPurpose::PrizeContact,
        granted: true,
        at: 1,
        channel: ConsentChannel::Player,
        text_sha256: "9f".repeat(32),
    };
    store
        .record_consent("show", &id, &grant, &contact)
        .expect("the contact, under its consent");
    let card = |store: &mut SqliteStore| {
        store
            .viewer_card("show", &id, true, 2)
            .expect("read")
            .and_then(|c| c.contact)
            .and_then(|c| c.phone)
    };
    let before = card(&mut store);
    assert!(before.is_some());
    drop(store);

    let done = rotate(&dir.path().join(DB_FILE), &env(&new, &old), 10).expect("rotated");
    assert_eq!(done.resealed, 1);
    assert!(done.removed.is_empty(), "no file to remove");
    assert!(!dir.path().join("contact.key").exists());

    let mut store = SqliteStore::open_with_keys(dir.path(), Durability::Normal, env(&new, ""))
        .expect("reopen under the new key alone");
    store.open_live("show").expect("the live");
    assert_eq!(card(&mut store), before);
}

/// The keyed lookups made from contact values (an SMS subscription's
/// phone, an e-mail's) are recomputed by the rotation: once the old key
/// file is gone, a STOP or an unsubscribe still finds its rows. A STOP's
/// tombstone, which holds no phone to recompute from, goes.
#[test]
fn a_rotation_recomputes_the_keyed_lookups_and_drops_stale_tombstones() {
    use regie::protocol::SmsScope;
    use regie::store::contact::{
        ContactKeyring, EMAIL_LOOKUP_LABEL, KeySource, PHONE_LOOKUP_LABEL, email_lookup_form,
        rotate,
    };
    use regie::store::{Durability, SqliteStore, Store, ViewerRecord};
    const PHONE: &str = "+33612345678";
    const EMAIL: &str = "Julie.Martin@example.fr";
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = || KeySource::Dir(dir.path().to_path_buf());
    let mut store =
        SqliteStore::open_with_keys(dir.path(), Durability::Normal, keys()).expect("open");
    store.open_live("show").expect("the live");
    let id = ViewerId("v-1".into());
    let record = ViewerRecord {
        id: id.clone(),
        first_name: "Julie".into(),
        pseudonym: "julie".into(),
        first_seen: 1,
        last_seen: 1,
    };
    store
        .upsert_viewer("show", &record, &Contact::default())
        .expect("stored");
    let grant = |purpose| ConsentState {
        purpose,
        granted: true,
        at: 1,
        channel: ConsentChannel::Player,
        text_sha256: "9f".repeat(32),
    };
    let phone = Contact {
        phone: Some(PHONE.into()),
        email: None,
    };
    store
        .record_consent("show", &id, &grant(ConsentPurpose::SmsReminders), &phone)
        .expect("the phone");
    store
        .record_sms_subscription("show", &id, SmsScope::Brand, PHONE, 1)
        .expect("the subscription");
    let email = Contact {
        phone: None,
        email: Some(EMAIL.into()),
    };
    store
        .record_consent("show", &id, &grant(ConsentPurpose::Marketing), &email)
        .expect("the e-mail");
    drop(store);

    let old = ContactKeyring::load(keys(), false).expect("the old ring");
    let db = || rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("open the file");
    let lookup = |sql: &str| -> Vec<u8> { db().query_row(sql, [], |r| r.get(0)).expect(sql) };
    let sms_lookup = "SELECT lookup FROM sms_subscriptions";
    let email_lookup = "SELECT lookup FROM email_lookups";
    assert_eq!(
        lookup(sms_lookup),
        old.active_lookup(PHONE_LOOKUP_LABEL, PHONE)
    );
    assert_eq!(
        lookup(email_lookup),
        old.active_lookup(EMAIL_LOOKUP_LABEL, &email_lookup_form(EMAIL))
    );
    // A STOP's tombstone made under the old key.
    db().execute(
        "INSERT INTO sms_stopped (live_id, viewer_id, lookup, key_id, at) \
         SELECT id, 'v-2', ?1, ?2, 1 FROM lives WHERE name = 'show'",
        rusqlite::params![
            old.active_lookup(PHONE_LOOKUP_LABEL, "+33600000000")
                .as_slice(),
            old.active_id().as_slice()
        ],
    )
    .expect("a tombstone");

    let done = rotate(&dir.path().join(DB_FILE), &keys(), 10).expect("rotated");
    assert_eq!(done.resealed, 2);
    assert_eq!(done.removed.len(), 1, "the old key file is gone");
    let new = ContactKeyring::load(keys(), false).expect("the new ring");
    assert_ne!(new.active_id(), old.active_id());
    assert_eq!(
        new.lookups(PHONE_LOOKUP_LABEL, PHONE).len(),
        1,
        "one key left"
    );
    assert_eq!(
        lookup(sms_lookup),
        new.active_lookup(PHONE_LOOKUP_LABEL, PHONE)
    );
    assert_eq!(
        lookup(email_lookup),
        new.active_lookup(
            EMAIL_LOOKUP_LABEL,
            &email_lookup_form("julie.martin@EXAMPLE.fr")
        )
    );
    let tombstones: i64 = db()
        .query_row("SELECT count(*) FROM sms_stopped", [], |r| r.get(0))
        .expect("count");
    assert_eq!(tombstones, 0);
}

/// `--store postgres://…`: the keys must come from the environment (a key
/// file made here would reach no other node); given there, the values are
/// re-sealed and the command says to remove the old key from every node.
#[test]
fn rotate_on_a_shared_store_takes_its_keys_from_the_environment() {
    let Some(db) = support::postgres::TestSchema::new() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let rotate = |env: &[(&str, String)]| {
        let mut command = Process::new(env!("CARGO_BIN_EXE_regie"));
        command
            .args(["keys", "rotate", "contact", "--store", &db.url(), "--data"])
            .arg(dir.path())
            .env_remove("REGIE_CONTACT_KEY")
            .env_remove("REGIE_CONTACT_KEY_PREVIOUS");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("regie runs")
    };
    let from_files = rotate(&[]);
    assert_eq!(from_files.status.code(), Some(2));
    let said = String::from_utf8_lossy(&from_files.stderr);
    assert!(said.contains("REGIE_CONTACT_KEY"), "{said}");
    assert!(
        !dir.path().join("contact.key").exists(),
        "no key file is made for a shared store"
    );

    let ran = rotate(&[
        ("REGIE_CONTACT_KEY", "08".repeat(32)),
        ("REGIE_CONTACT_KEY_PREVIOUS", "07".repeat(32)),
    ]);
    let out = String::from_utf8_lossy(&ran.stdout);
    assert_eq!(
        ran.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(out.contains("re-sealed 0 contact values"), "{out}");
    assert!(out.contains("REGIE_CONTACT_KEY_PREVIOUS"), "{out}");
}
