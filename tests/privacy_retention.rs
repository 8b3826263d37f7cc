//! Issue 9, "Retention set by the brand, enforced by a sweeper": against a
//! real hub on a clock the test moves by hand, each kind of data goes once
//! its period is past (rows gone, and the chat text gone from the bytes of
//! the database and its WAL) while younger data stays; the audit chain
//! still verifies after pruning, and fails when its checkpoint is forged or
//! a pruned record is put back. Then the configuration on the real binary:
//! a hostile `[retention]` table is refused with exit 2 naming the key, and
//! `regie privacy sweep` prints what it deleted.

mod support;

use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use regie::protocol::{
    Auth, Command, ConsentChannel, ConsentPurpose, Contact, StaffRole, ViewerId,
};
use regie::store::{DB_FILE, RetentionPolicy, SqliteStore, Store};
use support::client::{Client, keyed_viewer_hello};
use support::hub::{LIVE, ManualClock, TestHub, wait_until};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const OLD_TEXT: &str = "zq-retention-old-chat-7781";
const YOUNG_TEXT: &str = "zq-retention-young-chat-5521";

/// Short periods, each a different length, so moving the clock past one
/// leaves the others standing.
fn policy() -> RetentionPolicy {
    let d = |ms: i64| Duration::from_millis(u64::try_from(ms).expect("a positive period"));
    RetentionPolicy {
        chat: d(DAY),
        prize_contact: d(10 * DAY),
        sms_reminders: d(HOUR),
        marketing: d(10 * DAY),
        sms_marketing: d(10 * DAY),
        consents: d(2 * DAY),
        moderation_notes: d(3 * DAY),
        command_outcomes: d(HOUR),
        audit: d(5 * DAY),
        draws: d(4 * DAY),
        // The hub's own sweeper, firing often: the test moves the clock and
        // waits for the rows to go.
        sweep_every: Duration::from_millis(20),
    }
}

fn consent(purpose: ConsentPurpose, granted: bool, phone: Option<&str>) -> Command {
    Command::Consent {
        purpose,
        granted,
        channel: ConsentChannel::Player,
        // The hash of the text the hub offers for the purpose (the hub
        // refuses any other); prize contact is not worded by `[consent]`.
        text_sha256: regie::hub::consent_texts::ConsentTexts::default()
            .sha256(purpose)
            .unwrap_or_else(|| "9f".repeat(32)),
        contact: Contact {
            phone: phone.map(Into::into),
            email: None,
        },
    }
}

async fn viewer(hub: &TestHub, name: &str, key: &str) -> (Client, ViewerId) {
    let mut hello = keyed_viewer_hello(&hub.live, name, key);
    if let Auth::Viewer { contact, .. } = &mut hello.auth {
        *contact = Contact::default();
    }
    let client = hub.join(hello).await;
    let id = client.welcome.you.viewer_id.clone().expect("a viewer id");
    (client, id)
}

/// A count from the store, read through its own read-only connection
/// (closed again at once, so it never holds the WAL).
fn count(dir: &Path, sql: &str) -> i64 {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only");
    db.query_row(sql, [], |r| r.get(0)).expect(sql)
}

/// Whether `needle` is in the raw bytes of the store's files.
fn on_disk(dir: &Path, needle: &str) -> bool {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::read(dir.join(format!("{DB_FILE}{suffix}"))).ok())
        .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

async fn gone(dir: &Path, what: &str, sql: &str) {
    wait_until(what, || async { count(dir, sql) == 0 }).await;
}

fn regie(args: &[&str]) -> (i32, String, String) {
    let out = Process::new(env!("CARGO_BIN_EXE_regie"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("regie runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// t0: the old data, one of each kind. Returns the viewers' connections
/// (kept open) and Léa's id (she gave a phone for SMS reminders).
async fn write_old_data(
    hub: &TestHub,
    host: &mut Client,
    moderator: &mut Client,
) -> ((Client, Client), ViewerId) {
    let data = hub.data_dir.as_path();
    let (mut lea, lea_id) = viewer(hub, "Léa", "device-secret-lea-0001").await;
    lea.ack(consent(
        ConsentPurpose::SmsReminders,
        true,
        Some("+33 6 47 19 83 52"),
    ))
    .await;
    lea.ack(consent(ConsentPurpose::PrizeContact, true, None))
        .await;
    lea.ack(consent(ConsentPurpose::PrizeContact, false, None))
        .await;
    lea.say(OLD_TEXT).await;
    let (tom, tom_id) = viewer(hub, "Tom", "device-secret-tom-0002").await;
    moderator
        .ack(Command::Timeout {
            viewer_id: tom_id,
            seconds: 60,
            reason: "spam".into(),
        })
        .await;
    host.ack(Command::PollOpen {
        question: "Rouge ou bleu ?".into(),
        options: vec!["Rouge".into(), "Bleu".into()],
        duration_secs: None,
    })
    .await;
    host.ack(Command::PollClose { poll_id: 1 }).await;
    assert_eq!(
        count(
            data,
            "SELECT count(*) FROM polls WHERE closed_at IS NOT NULL"
        ),
        1
    );
    let old_audit = count(data, "SELECT count(*) FROM audit");
    assert!(old_audit >= 3, "timeout, poll open and close are audited");
    assert!(count(data, "SELECT count(*) FROM command_outcomes") > 0);
    ((lea, tom), lea_id)
}

/// t1, after the live ended: younger chat (staff's closing words; viewers
/// can no longer chat) and a younger sanction.
async fn write_young_data(hub: &TestHub, moderator: &mut Client) -> (Client, Client) {
    let (ines, _) = viewer(hub, "Inès", "device-secret-ines-0003").await;
    moderator.say(YOUNG_TEXT).await;
    let (max, max_id) = viewer(hub, "Max", "device-secret-max-0004").await;
    moderator
        .ack(Command::Timeout {
            viewer_id: max_id,
            seconds: 60,
            reason: "flood".into(),
        })
        .await;
    (ines, max)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_deletes_each_kind_after_its_period_and_keeps_younger_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let clock = ManualClock::new();
    let t0 = clock.now();
    let hub = TestHub::start_in(data, |c| {
        c.clock = clock.clock();
        c.retention = policy();
    })
    .await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut moderator = hub.staff(StaffRole::Moderator, "Karim").await;
    let q = |sql: &str| count(data, sql);

    let (_old_viewers, lea_id) = Box::pin(write_old_data(&hub, &mut host, &mut moderator)).await;
    // The chat clock runs from the live's end: it ends at t0.
    host.ack(Command::LiveEnd).await;

    // Past the chat period (1 day) and the SMS contact period (1 hour).
    let t1 = t0 + DAY + 2 * HOUR;
    clock.set(t1);
    let (ines, _max) = write_young_data(&hub, &mut moderator).await;
    gone(
        data,
        "the old chat text to be swept",
        &format!("SELECT count(*) FROM messages WHERE text = '{OLD_TEXT}'"),
    )
    .await;
    gone(
        data,
        "the phone kept for SMS reminders to be swept",
        &format!(
            "SELECT count(*) FROM viewers WHERE viewer_id = '{}' AND phone_sealed IS NOT NULL",
            lea_id.0
        ),
    )
    .await;
    // Outcomes are timed on the system clock, which the test does not
    // move: an hour past the hub's, every one is old.
    gone(
        data,
        "command outcomes past their hour",
        "SELECT count(*) FROM command_outcomes",
    )
    .await;
    wait_until(
        "the swept text to leave the database and its WAL",
        || async { !on_disk(data, OLD_TEXT) },
    )
    .await;
    assert!(on_disk(data, YOUNG_TEXT), "younger chat stays");
    assert_eq!(
        q(&format!(
            "SELECT count(*) FROM messages WHERE text = '{YOUNG_TEXT}'"
        )),
        1
    );
    assert_eq!(
        q(&format!("SELECT count(*) FROM events WHERE at < {t1}")),
        0
    );
    assert!(q(&format!("SELECT count(*) FROM events WHERE at >= {t1}")) > 0);
    // Not yet past their periods.
    assert_eq!(q("SELECT count(*) FROM consents"), 3);
    assert_eq!(q("SELECT count(*) FROM sanctions"), 2);
    assert_eq!(q("SELECT count(*) FROM polls"), 1);

    // Past the consent (2 days) and moderation-note (3 days) periods.
    clock.set(t0 + 3 * DAY + 10 * 60_000);
    gone(
        data,
        "the superseded consent records",
        "SELECT count(*) FROM consents WHERE purpose = 'prize_contact'",
    )
    .await;
    gone(
        data,
        "the old sanction",
        &format!("SELECT count(*) FROM sanctions WHERE at < {}", t0 + HOUR),
    )
    .await;
    assert_eq!(
        q("SELECT count(*) FROM consents WHERE purpose = 'sms_reminders'"),
        1,
        "the grant in force is the proof, and stays"
    );
    assert_eq!(
        q("SELECT count(*) FROM sanctions"),
        1,
        "the younger sanction stays"
    );
    assert_eq!(q("SELECT count(*) FROM polls"), 1);

    // Past the draw (4 days) and audit (5 days) periods of t0, not of t1.
    clock.set(t0 + 5 * DAY + HOUR);
    gone(data, "the closed poll", "SELECT count(*) FROM polls").await;
    gone(
        data,
        "the old audit records",
        &format!("SELECT count(*) FROM audit WHERE at < {t1}"),
    )
    .await;
    let young_audit = q("SELECT count(*) FROM audit");
    assert!(young_audit >= 1, "the younger staff action stays audited");
    drop((host, moderator, ines));
    hub.stop().await;

    the_pruned_chain_verifies_and_fails_when_forged(data);
}

/// After pruning: the chain verifies from its checkpoint (store and
/// `regie audit verify`), and fails once the checkpoint is forged or a
/// pruned record is put back.
fn the_pruned_chain_verifies_and_fails_when_forged(data: &Path) {
    // The pruned chain verifies, in the store and from the command line.
    let mut store = SqliteStore::open(data).expect("the store");
    store.open_live(LIVE).expect("the store");
    store.verify_audit_chain(LIVE).expect("the store");
    let datas = data.to_str().expect("the store");
    let verify = || regie(&["audit", "verify", "--data", datas, "--live", LIVE]);
    let (code, out, _) = verify();
    assert_eq!(code, 0, "{out}");
    // A restarted store continues the chain after the checkpoint, and
    // never reuses a swept message id.
    let head = store.open_live(LIVE).expect("the store");
    assert!(head.last_message_id >= 2, "{head:?}");
    drop(store);

    let db = rusqlite::Connection::open(data.join(DB_FILE)).expect("the store");
    // A forged checkpoint (moved, or re-signed without the key) fails.
    let mac: String = db
        .query_row("SELECT mac FROM audit_checkpoints", [], |r| r.get(0))
        .expect("the store");
    db.execute("UPDATE audit_checkpoints SET mac = ?1", ["00".repeat(32)])
        .expect("the store");
    let (code, out, _) = verify();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not signed"), "{out}");
    let mut store = SqliteStore::open(data).expect("the store");
    store.open_live(LIVE).expect("the store");
    assert!(store.verify_audit_chain(LIVE).is_err());
    drop(store);
    db.execute("UPDATE audit_checkpoints SET mac = ?1", [&mac])
        .expect("the store");
    assert_eq!(verify().0, 0);
    // A pruned record put back fails too.
    db.execute(
        "INSERT INTO audit SELECT live_id, 1, at, actor_name, actor_role, action, target, \
         reason, prev_hash, hash FROM audit ORDER BY idx LIMIT 1",
        [],
    )
    .expect("the store");
    let (code, out, _) = verify();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("record 1"), "{out}");
    let mut store = SqliteStore::open(data).expect("the store");
    store.open_live(LIVE).expect("the store");
    assert!(store.verify_audit_chain(LIVE).is_err());
}

#[test]
fn a_hostile_retention_config_is_refused_with_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[retention]\nchat = \"forever-ish\"\n").unwrap();
    let (code, _, err) = regie(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        dir.path().join("data").to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("retention.chat"), "{err}");
    assert!(!err.contains("serving"), "{err}");
    // The data dir's own regie.toml is read when --config is not given.
    let data = dir.path().join("data2");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(
        data.join("regie.toml"),
        "[retention.contact]\nmarketing = \"0s\"\n",
    )
    .unwrap();
    let (code, _, err) = regie(&["privacy", "sweep", "--data", data.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("retention.contact.marketing"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_sweep_runs_once_from_the_command_line_and_prints_counts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // A hub 100 days in the past: its chat is past the default 90 days
    // by the time the command line (on the system clock) sweeps.
    let clock = ManualClock::new();
    clock.set(clock.now() - 100 * DAY);
    let hub = TestHub::start_in(data, |c| c.clock = clock.clock()).await;
    let (mut lea, _) = viewer(&hub, "Léa", "device-secret-lea-0001").await;
    lea.say(OLD_TEXT).await;
    // The live ends then: its chat clock runs from there.
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    host.ack(Command::LiveEnd).await;
    let young = clock.now() + 95 * DAY;
    clock.set(young);
    host.say(YOUNG_TEXT).await;
    clock.set(young - 95 * DAY + 1);
    host.say("zq-second-old").await;
    drop((lea, host));
    hub.stop().await;
    let (code, out, err) = regie(&["privacy", "sweep", "--data", data.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("live \"show\""), "{out}");
    assert!(out.contains("messages          2\n"), "{out}");
    assert_eq!(count(data, "SELECT count(*) FROM messages"), 1);
    assert!(!on_disk(data, OLD_TEXT));
    assert!(on_disk(data, YOUNG_TEXT));
    // The newest message id was swept: a restarted store numbers after it.
    let mut store = SqliteStore::open(data).unwrap();
    assert_eq!(store.open_live(LIVE).unwrap().last_message_id, 3);
}

/// Once retention has pruned every audit record, the chain's head is the
/// checkpoint's: `regie audit head` still names the hash anchored before
/// the sweep (not "empty"), and `verify` passes with that head.
#[test]
fn a_fully_pruned_log_keeps_its_head_in_the_checkpoint() {
    use regie::store::{AuditEntry, Commit};
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path();
    let datas = data.to_str().expect("a UTF-8 path");
    let t0 = 1_750_000_000_000;
    let mut store = SqliteStore::open(data).expect("the store");
    store.open_live(LIVE).expect("the store");
    for (i, action) in ["timeout", "redact", "pin"].into_iter().enumerate() {
        let entry = AuditEntry {
            actor_name: "Inès".into(),
            actor_role: StaffRole::Moderator,
            action: action.into(),
            target: format!("#{i}"),
            reason: String::new(),
            at: t0 + i64::try_from(i).expect("small"),
        };
        store
            .commit(LIVE, &[Commit::without_event().with_audit(entry)])
            .expect("the store");
    }
    let head = || regie(&["audit", "head", "--data", datas, "--live", LIVE]);
    let (code, before, err) = head();
    assert_eq!(code, 0, "{err}");
    let report = store
        .sweep(LIVE, &policy(), t0 + 6 * DAY)
        .expect("the sweep");
    drop(store);
    assert!(report.total() >= 3, "{report}");
    assert_eq!(count(data, "SELECT count(*) FROM audit"), 0);
    let (code, after, err) = head();
    assert_eq!(code, 0, "{err}");
    assert_eq!(after, before, "the head survives the prune");
    let (code, out, _) = regie(&["audit", "verify", "--data", datas, "--live", LIVE]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(before.trim()), "{out}");
}

/// A viewer's profile (first name, pseudonym) is not kept for its own
/// sake: once their chat, contact, consents, sanctions, votes and entries
/// are gone and they were last seen a chat period ago, the sweeper deletes
/// the row, and the name leaves the file's bytes. A profile still seen
/// recently, or one a consent still stands behind, stays.
#[test]
fn a_profile_with_nothing_left_goes_a_chat_period_after_last_seen() {
    use regie::protocol::Contact;
    use regie::store::ViewerRecord;
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path();
    let t0 = 1_750_000_000_000;
    let mut store = SqliteStore::open(data).expect("the store");
    store.open_live(LIVE).expect("the store");
    let profile = |id: &str, name: &str, last_seen: i64| ViewerRecord {
        id: ViewerId(id.into()),
        first_name: name.into(),
        pseudonym: format!("{name}-pseudo"),
        first_seen: t0,
        last_seen,
    };
    for (id, name, seen) in [
        ("v-gone", "Zqgonename", t0),
        ("v-recent", "Zqrecentname", t0 + 2 * DAY),
        ("v-consented", "Zqconsentname", t0),
    ] {
        store
            .upsert_viewer(LIVE, &profile(id, name, seen), &Contact::default())
            .expect("the store");
    }
    let db = rusqlite::Connection::open(data.join(DB_FILE)).expect("the store");
    db.execute(
        "INSERT INTO consents (live_id, viewer_id, purpose, granted, at, channel, text_sha256) \
         SELECT id, 'v-consented', 'marketing', 1, ?1, 'player', ?2 FROM lives",
        rusqlite::params![t0, "9f".repeat(32)],
    )
    .expect("a consent row");
    drop(db);
    let report = store
        .sweep(LIVE, &policy(), t0 + DAY + HOUR)
        .expect("the sweep");
    drop(store);
    assert_eq!(report.viewers, 1, "{report}");
    let ids = |sql: &str| count(data, sql);
    assert_eq!(
        ids("SELECT count(*) FROM viewers WHERE viewer_id = 'v-gone'"),
        0
    );
    assert_eq!(
        ids("SELECT count(*) FROM viewers WHERE viewer_id = 'v-recent'"),
        1
    );
    assert_eq!(
        ids("SELECT count(*) FROM viewers WHERE viewer_id = 'v-consented'"),
        1
    );
    assert!(
        !on_disk(data, "Zqgonename"),
        "the swept name left the bytes"
    );
    assert!(
        on_disk(data, "Zqrecentname"),
        "control: a kept name is found"
    );
}
