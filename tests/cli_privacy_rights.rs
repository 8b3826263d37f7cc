//! Issue 9, rights requests from the command line, on the real binary:
//!
//! - `regie privacy erase` and `rectify` act through a real running hub (so
//!   every connected client gets `viewer_erased` / `viewer_rectified` at
//!   once), with a staff token from `REGIE_TOKEN`; a host's token, an
//!   unknown viewer or a blank reason is refused with exit 6, no token or
//!   no confirmation with exit 2 (nothing sent), an unreachable or silent
//!   hub with exit 3;
//! - `regie privacy export` opens sealed contact data with the keys where
//!   `serve` keeps them (`--keys DIR`, or `REGIE_CONTACT_KEY`);
//! - the store's request kinds do not depend on clap: only the command
//!   line does.

mod support;

use std::path::Path;
use std::time::Duration;

use regie::protocol::{
    Command, ConsentChannel, ConsentPurpose, Contact, Event, StaffRole, ViewerId,
};
use regie::store::contact::KeySource;
use regie::store::{Durability, SqliteStore};
use support::binary::{Ran, run};
use support::client::{Client, keyed_viewer_hello};
use support::forensics::{everything_stored, utf16};
use support::hub::{ClosedPort, KeptPort, TestHub};
use support::tmux::{Tmux, tmux_is_installed};

/// The erased viewer's values, each unique in the data dir.
const TEXT: &str = "QX71-CLI-ERASE-ma-commande-rue-des-tilleuls";
const FIRST_NAME: &str = "Quirinette";
const PSEUDONYM: &str = "qx-pseudo-71";
const PHONE: &str = "+33 6 47 19 83 52";

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `regie privacy <args…>` with `token` in `REGIE_TOKEN`.
fn privacy(token: &str, args: &[&str]) -> Ran {
    let mut all = vec!["privacy"];
    all.extend_from_slice(args);
    run(&all, &[("REGIE_TOKEN", token)])
}

fn erase(hub: &TestHub, token: &str, viewer: &str, reason: &str) -> Ran {
    privacy(
        token,
        &[
            "erase", "--url", &hub.url, "--live", &hub.live, "--viewer", viewer, "--reason",
            reason, "--yes",
        ],
    )
}

/// Where `value` (UTF-8 or UTF-16) is among `stored`.
fn leaks(stored: &[(String, Vec<u8>)], value: &str) -> Vec<String> {
    let needles = [value.as_bytes().to_vec(), utf16(value)];
    stored
        .iter()
        .filter(|(_, b)| needles.iter().any(|n| b.windows(n.len()).any(|w| w == n)))
        .map(|(at, _)| at.clone())
        .collect()
}

/// A viewer with a first name and a pseudonym who said [`TEXT`].
async fn quirinette(hub: &TestHub) -> (Client, ViewerId) {
    let mut hello = keyed_viewer_hello(&hub.live, FIRST_NAME, "device-quirinette");
    if let regie::protocol::Auth::Viewer { pseudonym, .. } = &mut hello.auth {
        *pseudonym = Some(PSEUDONYM.into());
    }
    let mut viewer = hub.join(hello).await;
    let id = viewer.welcome.you.viewer_id.clone().expect("a viewer id");
    viewer.say(TEXT).await;
    (viewer, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erase_through_the_hub_reaches_every_client_and_leaves_no_trace() {
    let hub = TestHub::start().await;
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut other = hub.viewer("Bérénice").await;
    let (_viewer, id) = quirinette(&hub).await;
    moderator
        .wait_event(|e| matches!(e, Event::Message { message } if message.text == TEXT))
        .await;

    let token = hub.token(StaffRole::Support, "Sam");
    let ran = erase(&hub, &token, &id.0, "demande RGPD art. 17");
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.starts_with(&format!("erased viewer {}", id.0)),
        "{}",
        ran.stdout
    );
    assert_eq!(ran.stdout.lines().count(), 1, "one line: {}", ran.stdout);

    for client in [&mut moderator, &mut other] {
        let erased = client
            .wait_event(|e| matches!(e, Event::ViewerErased { viewer_id, .. } if *viewer_id == id))
            .await;
        let Event::ViewerErased { reason, .. } = erased.event else {
            unreachable!("matched above");
        };
        assert_eq!(reason, "demande RGPD art. 17");
    }
    // The hub did it, in its own store: none of her values is left. Its
    // checkpoint ends the erasure's turn, so a later command is decided
    // after it.
    other.say("suite du live").await;
    let stored = everything_stored(&hub.data_dir);
    for value in [TEXT, FIRST_NAME, PSEUDONYM] {
        assert_eq!(leaks(&stored, value), Vec::<String>::new(), "{value:?}");
    }

    // Erased once: a second erasure names an unknown viewer.
    let again = erase(&hub, &token, &id.0, "demande RGPD art. 17");
    assert_eq!(again.code, 6, "{}{}", again.stdout, again.stderr);
    assert!(again.stderr.contains("not_found"), "{}", again.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erase_is_refused_for_a_host_a_blank_reason_and_an_unknown_viewer() {
    let hub = TestHub::start().await;
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    let (mut viewer, id) = quirinette(&hub).await;

    let host = hub.token(StaffRole::Host, "Nadia");
    let ran = erase(&hub, &host, &id.0, "art. 17");
    assert_eq!(ran.code, 6, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("forbidden"), "{}", ran.stderr);
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);

    let forged = erase(
        &hub,
        &hub.forged_token(StaffRole::Support, "Sam"),
        &id.0,
        "art. 17",
    );
    assert_eq!(forged.code, 4, "{}{}", forged.stdout, forged.stderr);
    assert!(
        forged.stderr.contains("the hub refused the token"),
        "{}",
        forged.stderr
    );

    let support = hub.token(StaffRole::Support, "Sam");
    let blank = erase(&hub, &support, &id.0, "  ");
    assert_eq!(blank.code, 6, "{}{}", blank.stdout, blank.stderr);
    assert!(blank.stderr.contains("invalid"), "{}", blank.stderr);

    let unknown = erase(&hub, &support, "v-0000000000000000", "art. 17");
    assert_eq!(unknown.code, 6, "{}{}", unknown.stdout, unknown.stderr);
    assert!(unknown.stderr.contains("not_found"), "{}", unknown.stderr);

    // Nothing was erased: she still speaks, and her line reaches staff.
    let seq = viewer.say("toujours là").await;
    let after = moderator.event_at(seq).await;
    assert!(matches!(after.event, Event::Message { ref message } if message.text == "toujours là"));
    assert!(
        !moderator
            .events
            .iter()
            .any(|e| matches!(e.event, Event::ViewerErased { .. })),
        "no erasure was broadcast"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erase_without_confirmation_or_token_sends_nothing() {
    let hub = TestHub::start().await;
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    let (mut viewer, id) = quirinette(&hub).await;
    let support = hub.token(StaffRole::Support, "Sam");
    let base = [
        "erase", "--url", &hub.url, "--live", &hub.live, "--viewer", &id.0, "--reason", "art. 17",
    ];

    // stdin is not a terminal (the kit's runs get /dev/null), no --yes.
    let unconfirmed = privacy(&support, &base);
    assert_eq!(unconfirmed.code, 2, "{}", unconfirmed.stderr);
    assert!(
        unconfirmed.stderr.contains("--yes"),
        "{}",
        unconfirmed.stderr
    );

    let mut with_yes = base.to_vec();
    with_yes.push("--yes");
    let no_token = privacy("", &with_yes);
    assert_eq!(no_token.code, 2, "{}", no_token.stderr);
    assert!(
        no_token.stderr.contains("REGIE_TOKEN"),
        "{}",
        no_token.stderr
    );

    let mut no_reason = with_yes.clone();
    no_reason.retain(|a| *a != "--reason" && *a != "art. 17");
    let no_reason = privacy(&support, &no_reason);
    assert_eq!(no_reason.code, 2, "{}", no_reason.stderr);
    assert!(
        no_reason.stderr.contains("--reason"),
        "{}",
        no_reason.stderr
    );

    let seq = viewer.say("toujours là").await;
    moderator.event_at(seq).await;
    assert!(
        !moderator
            .events
            .iter()
            .any(|e| matches!(e.event, Event::ViewerErased { .. })),
        "no erasure was broadcast"
    );
}

#[test]
fn an_unreachable_or_silent_hub_is_said_and_exits_3() {
    let closed = ClosedPort::bind();
    let url = format!("ws://{}", closed.addr);
    let args = [
        "rectify",
        "--url",
        &url,
        "--viewer",
        "v-1",
        "--first-name",
        "Léa",
    ];
    let ran = privacy("a-token", &args);
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains(&format!("cannot reach the hub at {url}")),
        "{}",
        ran.stderr
    );

    // Accepts connections (the kernel does) and never answers.
    let silent = KeptPort::bind();
    let url = format!("ws://{}", silent.addr);
    let ran = privacy(
        "a-token",
        &[
            "erase",
            "--url",
            &url,
            "--viewer",
            "v-1",
            "--reason",
            "art. 17",
            "--yes",
            "--timeout",
            "1s",
        ],
    );
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("no welcome within 1s"),
        "{}",
        ran.stderr
    );
}

/// A staff `welcome` as a hub sends it (docs/protocol.md's example).
const WELCOME: &str = r#"{"type":"welcome","version":1,"live":"show","epoch":"3f9a1c2b7d4e8a60c41d07e95b2a6f18","seq":57,"you":{"role":{"staff":"moderator"},"name":"Inès"},"resumed":true,"viewers_online":1233}"#;

/// A hub that welcomes the command and never answers it: the wait is
/// bounded by `--timeout`, and the message says the hub may have acted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_the_hub_never_answers_times_out_with_exit_3() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("addr"));
    let mute = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
        let hello = ws.next().await.expect("a hello").expect("a frame");
        assert!(hello.to_text().expect("text").contains("\"hello\""));
        ws.send(Message::text(WELCOME)).await.expect("welcome");
        // Read (the command, then the close) and say nothing.
        let mut frames = Vec::new();
        while let Some(Ok(frame)) = ws.next().await {
            frames.push(frame);
        }
        frames
    });
    let ran = tokio::task::spawn_blocking(move || {
        privacy(
            "a-token",
            &[
                "erase",
                "--url",
                &url,
                "--viewer",
                "v-1",
                "--reason",
                "art. 17",
                "--yes",
                "--timeout",
                "1s",
            ],
        )
    })
    .await
    .expect("the run");
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("did not answer erase_viewer within 1s; it may still have done it"),
        "{}",
        ran.stderr
    );
    let frames = mute.await.expect("the mute hub");
    assert!(
        frames
            .iter()
            .any(|f| f.to_text().is_ok_and(|t| t.contains("\"erase_viewer\""))),
        "the command was sent: {frames:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rectify_through_the_hub_relabels_for_every_client() {
    let hub = TestHub::start().await;
    let mut moderator = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut other = hub.viewer("Bérénice").await;
    let (_viewer, id) = quirinette(&hub).await;
    let support = hub.token(StaffRole::Support, "Sam");
    let args = [
        "rectify",
        "--url",
        &hub.url,
        "--live",
        &hub.live,
        "--viewer",
        &id.0,
        "--first-name",
        "Quirina",
    ];

    let host = privacy(&hub.token(StaffRole::Host, "Nadia"), &args);
    assert_eq!(host.code, 6, "{}", host.stderr);
    assert!(host.stderr.contains("forbidden"), "{}", host.stderr);

    let ran = privacy(&support, &args);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .starts_with(&format!("rectified the first name of viewer {}", id.0)),
        "{}",
        ran.stdout
    );
    // Like the audit: which field, never the value.
    assert!(!ran.stdout.contains("Quirina"), "{}", ran.stdout);
    for client in [&mut moderator, &mut other] {
        let frame = client
            .wait_event(
                |e| matches!(e, Event::ViewerRectified { viewer_id, .. } if *viewer_id == id),
            )
            .await;
        let Event::ViewerRectified {
            first_name,
            pseudonym,
            ..
        } = frame.event
        else {
            unreachable!("matched above");
        };
        assert_eq!(first_name.as_deref(), Some("Quirina"));
        assert_eq!(pseudonym, None);
    }

    // Neither name given: clap refuses before anything is sent.
    let none = privacy(&support, &["rectify", "--url", &hub.url, "--viewer", &id.0]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    let empty = privacy(
        &support,
        &[
            "rectify",
            "--url",
            &hub.url,
            "--live",
            &hub.live,
            "--viewer",
            &id.0,
            "--pseudonym",
            "",
        ],
    );
    assert_eq!(empty.code, 6, "{}", empty.stderr);
    assert!(empty.stderr.contains("invalid"), "{}", empty.stderr);
}

/// A person at a terminal: `erase` asks, "n" sends nothing (exit 2), "y"
/// erases.
#[test]
fn at_a_terminal_erase_asks_and_only_yes_erases() {
    if !tmux_is_installed() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let hub = rt.block_on(TestHub::start());
    let mut moderator = rt.block_on(hub.staff(StaffRole::Moderator, "Inès"));
    let (mut viewer, id) = rt.block_on(quirinette(&hub));
    let token = hub.token(StaffRole::Support, "Sam");
    let bin = env!("CARGO_BIN_EXE_regie");
    // The pane outlives the command so its last words can be read.
    let command = format!(
        "REGIE_TOKEN='{token}' {bin} privacy erase --url {} --live {} --viewer {} \
         --reason 'art. 17'; echo ERASE-EXITED $?; sleep 60",
        hub.url, hub.live, id.0
    );
    let tmux = Tmux::new("regie-erase");
    let within = Duration::from_secs(30);

    tmux.start("no", (160, 20), &command);
    let asked = tmux.wait_for_joined("no", "the question", within, |s| s.contains("[y/N]"));
    assert!(asked.contains(&format!("Erase viewer {}", id.0)), "{asked}");
    tmux.text("no", "n");
    tmux.keys("no", &["Enter"]);
    let end = tmux.wait_for_joined("no", "the exit", within, |s| s.contains("ERASE-EXITED"));
    assert!(end.contains("ERASE-EXITED 2"), "{end}");
    assert!(end.contains("nothing erased"), "{end}");
    let seq = rt.block_on(viewer.say("toujours là"));
    rt.block_on(moderator.event_at(seq));
    assert!(
        !moderator
            .events
            .iter()
            .any(|e| matches!(e.event, Event::ViewerErased { .. })),
        "no erasure was broadcast"
    );

    tmux.start("yes", (160, 20), &command);
    tmux.wait_for_joined("yes", "the question", within, |s| s.contains("[y/N]"));
    tmux.text("yes", "y");
    tmux.keys("yes", &["Enter"]);
    let end = tmux.wait_for_joined("yes", "the exit", within, |s| s.contains("ERASE-EXITED"));
    assert!(end.contains("ERASE-EXITED 0"), "{end}");
    assert!(end.contains(&format!("erased viewer {}", id.0)), "{end}");
    rt.block_on(
        moderator
            .wait_event(|e| matches!(e, Event::ViewerErased { viewer_id, .. } if *viewer_id == id)),
    );
}

// ── export with the keys where serve keeps them ─────────────────────────

/// A hub whose store seals contact data with `keys`; a viewer consents
/// with a phone. Returns her id once the hub acked.
async fn viewer_with_phone(data: &Path, keys: KeySource) -> (TestHub, ViewerId) {
    let store =
        SqliteStore::open_with_keys(data, Durability::Normal, keys.clone()).expect("the store");
    // The hub's other store connections (its other lives) use the same keys.
    let hub = TestHub::start_with_store(data, Box::new(store), |c| c.contact_keys = keys).await;
    let mut lea = hub
        .join(keyed_viewer_hello(&hub.live, "Léa", "device-lea"))
        .await;
    let id = lea.welcome.you.viewer_id.clone().expect("a viewer id");
    lea.ack(Command::Consent {
        purpose: ConsentPurpose::PrizeContact,
        granted: true,
        channel: ConsentChannel::Player,
        text_sha256: "0".repeat(64),
        contact: Contact {
            phone: Some(PHONE.into()),
            email: None,
        },
    })
    .await;
    (hub, id)
}

fn export(data: &Path, id: &ViewerId, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut args = vec![
        "privacy",
        "export",
        "--data",
        path(data),
        "--live",
        support::hub::LIVE,
        "--viewer",
        &id.0,
        "--out",
        path(out),
    ];
    args.extend_from_slice(extra);
    run(&args, env)
}

fn exported_phone(out: &Path) -> serde_json::Value {
    let raw = std::fs::read_to_string(out).expect("the export");
    let doc: serde_json::Value = serde_json::from_str(&raw).expect("JSON");
    doc["profile"]["phone"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_opens_contact_data_with_keys_from_a_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (data, keys) = (dir.path().join("data"), dir.path().join("keys"));
    let (hub, id) = viewer_with_phone(&data, KeySource::Dir(keys.clone())).await;
    assert!(keys.join("contact.key").exists());

    let out = dir.path().join("lea.json");
    let ran = export(&data, &id, &out, &["--keys", path(&keys)], &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(exported_phone(&out), PHONE);
    // And no stray key was made beside the store.
    assert!(!data.join("contact.key").exists());
    drop(hub);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_opens_contact_data_with_keys_from_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let key = "5a".repeat(32);
    let source = KeySource::from_text(&key, "").expect("a key");
    let (hub, id) = viewer_with_phone(&data, source).await;

    let out = dir.path().join("lea.json");
    let ran = export(&data, &id, &out, &[], &[("REGIE_CONTACT_KEY", &key)]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(exported_phone(&out), PHONE);
    drop(hub);
}

// ── layering ────────────────────────────────────────────────────────────

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let p = entry.expect("an entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn only_the_command_line_uses_clap() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let allowed = [src.join("cli"), src.join("main.rs")];
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !allowed.iter().any(|a| f.starts_with(a)))
        .filter(|f| {
            std::fs::read_to_string(f)
                .expect("a source file")
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .any(|l| l.contains("clap::") || l.contains("use clap"))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "domain modules must not depend on clap (put the CLI part in src/cli): {offenders:?}"
    );
}

// ── the register shows the periods in force ─────────────────────────────

/// `regie privacy register` with `args`: its stdout, after a success.
fn register(args: &[&str]) -> String {
    let mut all = vec!["privacy", "register"];
    all.extend_from_slice(args);
    let ran = run(&all, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    ran.stdout
}

/// The `retention:` line of the block for `table.column`.
fn retention_of(text: &str, field: &str) -> String {
    let at = text
        .find(&format!("{field}: "))
        .unwrap_or_else(|| panic!("{field} is not printed:\n{text}"));
    text[at..]
        .lines()
        .find(|l| l.trim_start().starts_with("retention:"))
        .expect("a retention line")
        .to_owned()
}

#[test]
fn the_register_prints_the_retention_periods_of_the_configuration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("brand.toml");
    std::fs::write(
        &config,
        "[retention]\nchat = \"30d\"\ncontact = { sms_reminders = \"12h\" }\naudit = \"2y\"\n",
    )
    .expect("write the config");

    let text = register(&["--data", path(dir.path()), "--config", path(&config)]);
    assert!(
        text.contains(&format!("from {}", config.display())),
        "{text}"
    );
    let chat = retention_of(&text, "messages.text");
    assert!(chat.contains("30 days ([retention] chat)"), "{chat}");
    assert!(!chat.contains("90 days"), "{chat}");
    let phone = retention_of(&text, "viewers.phone_sealed");
    assert!(
        phone.contains("prize_contact 30 days, sms_reminders 12 hours"),
        "{phone}"
    );
    let audit = retention_of(&text, "audit.actor_name");
    assert!(audit.contains("2 years ([retention] audit)"), "{audit}");

    // `<data>/regie.toml` is read as `serve` reads it.
    std::fs::copy(&config, dir.path().join("regie.toml")).expect("copy the config");
    let from_data = register(&["--data", path(dir.path())]);
    assert!(
        retention_of(&from_data, "messages.text").contains("30 days"),
        "{from_data}"
    );

    // Without a configuration, the defaults (chat: 90 days).
    let empty = tempfile::tempdir().expect("temp dir");
    let defaults = register(&["--data", path(empty.path())]);
    assert!(defaults.contains("the defaults"), "{defaults}");
    assert!(
        retention_of(&defaults, "messages.text").contains("90 days ([retention] chat)"),
        "{defaults}"
    );

    // A bad configuration is refused, naming the key, as `serve` does.
    std::fs::write(&config, "[retention]\nchat = \"soon\"\n").expect("write the config");
    let bad = run(&["privacy", "register", "--config", path(&config)], &[]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("retention.chat"), "{}", bad.stderr);
}
