//! Exporting a viewer from the console (issue 9, Art. 15/20): `X` on a
//! viewer card for support and admin; the hub answers that console only
//! with the document `regie privacy export` writes, and audits it; the
//! console writes it to a new file, mode 0600, in its export directory and
//! shows where it went and what it holds. Refusals and failed writes are
//! shown in the same popup; hosts get no key and the hub refuses them.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use regie::console::keymap::Keymap;
use regie::console::net::{self, NetConfig, NetEvent, NetHandle};
use regie::console::popups::export_result::{ExportCounts, ExportView, PERSONAL_DATA_NOTICE};
use regie::console::rights::{self, ExportSaved, SaveExport};
use regie::console::state::{Console, Effect, Msg, Popup, Session, update};
use regie::privacy::export::{
    EXPORT_FORMAT, ExportedConsent, ExportedMessage, ExportedProfile, ExportedReply,
    ExportedSanction,
};
use regie::protocol::{
    ChatEntry, Command, ConsentChannel, ConsentPurpose, Contact, ErrorCode, ErrorFrame,
    MaskedContact, ServerFrame, StaffRole, ViewerCard, ViewerExport, ViewerId,
};
use regie::protocol::{CommandId, ConsentState, EventFrame, MessageId, Millis, Seq};
use regie::store::{
    AuditRecord, CommandOutcome, Commit, LiveHead, SqliteStore, Store, StoreError, StoredGames,
    StoredSnapshot, StoredViewer, ViewerRecord,
};
use support::binary::run;
use support::client::keyed_viewer_hello;
use support::console::*;
use support::hub::TestHub;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
const PHONE: &str = "+33 6 47 19 83 52";
const LEA_TEXT: &str = "la robe existe en vert sapin ?";
const BOB_NAME: &str = "Bérénice";
const BOB_TEXT: &str = "quel est le prix du manteau bordeaux";
const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

// ── against the real hub ────────────────────────────────────────────────

async fn console_as(
    hub: &TestHub,
    role: StaffRole,
    name: &str,
    dir: &Path,
) -> (Console, NetHandle) {
    let config = NetConfig {
        url: hub.url.clone(),
        live: hub.live.clone(),
        token: hub.token(role, name),
        tls: regie::tls::ClientTls::default(),
    };
    let first = net::connect(&config, None).await.expect("console connects");
    let handle = net::spawn(config, first);
    let session = Session {
        role,
        name: String::new(),
        live: String::new(),
    };
    let mut state = Console::new(session, Keymap::default(), 50_000, "e2e");
    state.rights = rights::Rights::new(dir.to_path_buf());
    update(&mut state, Msg::Tick(regie::now_millis()));
    (state, handle)
}

/// Carries out effects as the event loop does: commands to the network
/// task, an export written with [`rights::save`] and handed back.
fn carry_out(state: &mut Console, handle: &NetHandle, effects: Vec<Effect>) {
    for effect in effects {
        match effect {
            Effect::Send(frame) => handle.commands.send(frame).expect("network task alive"),
            Effect::SaveExport(job) => {
                let saved = rights::save(job);
                let next = update(state, Msg::ExportSaved(saved));
                carry_out(state, handle, next);
            }
            Effect::SwitchLive(live) => handle.switch.send(live).expect("network task alive"),
            Effect::Quit | Effect::Notify(_) => {}
        }
    }
}

/// Feeds hub frames (and their effects) until `done`; bounded.
async fn pump_until(
    state: &mut Console,
    handle: &mut NetHandle,
    what: &str,
    done: impl Fn(&Console) -> bool,
) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done(state) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let ev = tokio::time::timeout(left, handle.events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("network task alive");
        let effects = match ev {
            NetEvent::Frame(frame) => update(state, Msg::Frame(frame)),
            NetEvent::Status(status) => update(state, Msg::Connection(status)),
            NetEvent::Fatal(f) => panic!("fatal: {f}"),
        };
        carry_out(state, handle, effects);
    }
}

fn keys(state: &mut Console, handle: &NetHandle, msgs: impl IntoIterator<Item = Msg>) {
    for m in msgs {
        let effects = update(state, m);
        carry_out(state, handle, effects);
    }
}

fn saved_path(state: &Console) -> Option<PathBuf> {
    match &state.popup {
        Some(Popup::ExportResult(ExportView::Saved { path, .. })) => Some(PathBuf::from(path)),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one story: a show, an export, its checks"
)]
async fn support_exports_a_viewer_from_the_card_to_a_private_file_the_hub_audits() {
    let hub = TestHub::start().await;
    let live = hub.live.clone();
    let mut host = hub.staff(StaffRole::Host, "Nadia").await;
    let mut lea = hub
        .join(keyed_viewer_hello(&live, "Léa", "device-lea"))
        .await;
    let lea_id = lea.welcome.you.viewer_id.clone().expect("a viewer id");
    let mut bob = hub
        .join(keyed_viewer_hello(&live, BOB_NAME, "device-bob"))
        .await;
    let bob_id = bob.welcome.you.viewer_id.clone().expect("a viewer id");
    lea.ack(Command::Consent {
        purpose: ConsentPurpose::PrizeContact,
        granted: true,
        channel: ConsentChannel::Player,
        text_sha256: SHA.into(),
        contact: Contact {
            phone: Some(PHONE.into()),
            email: None,
        },
    })
    .await;
    bob.say(BOB_TEXT).await;
    let seq = lea.say(LEA_TEXT).await;
    host.event_at(seq).await;
    // Someone else on staff, watching while support exports.
    let mut admin = hub.staff(StaffRole::Admin, "Alex").await;

    let out = tempfile::tempdir().expect("temp dir");
    let (mut sam, mut net) = console_as(&hub, StaffRole::Support, "Sam", out.path()).await;
    pump_until(&mut sam, &mut net, "Léa's line", |s| s.seq >= seq).await;
    // The newest line is Léa's: select it, open her card.
    keys(&mut sam, &net, [key('k'), key('v')]);
    pump_until(
        &mut sam,
        &mut net,
        "Léa's card",
        |s| matches!(&s.popup, Some(Popup::ViewerCard(v)) if v.card.is_some()),
    )
    .await;
    assert!(
        render(&mut sam, 160, 48).contains("X export"),
        "the card offers it"
    );
    keys(&mut sam, &net, [key('X')]);
    assert!(matches!(
        &sam.popup,
        Some(Popup::ExportResult(ExportView::Waiting { .. }))
    ));
    pump_until(&mut sam, &mut net, "the export result", |s| {
        !matches!(
            &s.popup,
            Some(Popup::ExportResult(ExportView::Waiting { .. }))
        )
    })
    .await;
    let file = saved_path(&sam).unwrap_or_else(|| panic!("saved: {:?}", sam.popup));
    assert_eq!(file.parent(), Some(out.path()), "in the export directory");
    let screen = render(&mut sam, 160, 48);
    assert!(screen.contains("Export written"), "{screen}");
    assert!(screen.contains("personal data"), "{screen}");

    // Mode 0600, this viewer only.
    let mode = std::fs::metadata(&file)
        .expect("the file exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let raw = std::fs::read_to_string(&file).expect("readable");
    let doc: serde_json::Value = serde_json::from_str(&raw).expect("JSON");
    assert_eq!(doc["format"], "regie.viewer-export.v1");
    assert_eq!(doc["profile"]["viewer_id"], lea_id.0.as_str());
    assert_eq!(doc["profile"]["first_name"], "Léa");
    assert_eq!(doc["profile"]["phone"], PHONE);
    assert_eq!(doc["messages"][0]["text"], LEA_TEXT);
    assert_eq!(doc["consents"][0]["text_sha256"], SHA);
    for absent in [bob_id.0.as_str(), BOB_NAME, BOB_TEXT, "Nadia", "Alex"] {
        assert!(!raw.contains(absent), "{absent:?} is in the export:\n{raw}");
    }

    // The one format: what the CLI writes for her, but for the time.
    let cli_file = out.path().join("cli.json");
    let data = hub.data_dir.to_str().expect("utf-8").to_owned();
    let ran = run(
        &[
            "privacy",
            "export",
            "--data",
            &data,
            "--live",
            &live,
            "--viewer",
            &lea_id.0,
            "--out",
            cli_file.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let mut cli: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cli_file).expect("written")).expect("JSON");
    let mut ours = doc.clone();
    for d in [&mut cli, &mut ours] {
        d["exported_at"] = serde_json::Value::Null;
    }
    assert_eq!(ours, cli);

    // An unknown viewer: refused, and nothing audited for it.
    let mut support = hub.staff(StaffRole::Support, "Sam").await;
    let refused = support
        .refused(Command::ExportViewer {
            viewer_id: ViewerId("v-nobody".into()),
        })
        .await;
    assert_eq!(refused.code, ErrorCode::NotFound, "{refused:?}");

    // Audited by the hub without content: the console's, then the CLI's.
    let show = run(
        &[
            "audit",
            "show",
            "--data",
            &data,
            "--live",
            &live,
            "--action",
            "export_viewer",
        ],
        &[],
    );
    assert_eq!(show.code, 0, "{}", show.stderr);
    let lines: Vec<&str> = show.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", show.stdout);
    assert!(
        lines[0].contains(&lea_id.0) && lines[0].contains("Sam"),
        "{}",
        lines[0]
    );
    for content in [PHONE, LEA_TEXT, "Léa"] {
        assert!(
            !show.stdout.contains(content),
            "the audit holds {content:?}"
        );
    }

    // No other client got it: the admin's next answer comes with nothing
    // of the export before it.
    admin
        .send_command_with_id("after", Command::ViewerCard { viewer_id: bob_id })
        .await;
    loop {
        let frame = admin.next_frame().await;
        let text = serde_json::to_string(&frame).expect("json");
        assert!(!matches!(frame, ServerFrame::ViewerExport { .. }), "{text}");
        assert!(!text.contains(PHONE), "{text}");
        if matches!(&frame, ServerFrame::ViewerCard { id, .. } if id.0 == "after") {
            break;
        }
    }

    // A host may not: the hub refuses, on the wire and from a console.
    for command in [
        Command::ExportViewer {
            viewer_id: lea_id.clone(),
        },
        Command::RightsRequests,
    ] {
        assert_eq!(host.refused(command).await.code, ErrorCode::Forbidden);
    }
    drop(net);
    hub.stop().await;
}

/// The one frame allowed over 64 KiB: a viewer who talked a lot still
/// gets a whole export, and the file holds every line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_larger_than_the_frame_limit_arrives_whole() {
    const LINES: usize = 160;
    let hub = TestHub::start_with(|config| {
        config.settings.viewer_rate_per_sec = 10_000;
        config.settings.viewer_burst = 10_000;
    })
    .await;
    let mut chatty = hub
        .join(keyed_viewer_hello(&hub.live, "Léa", "device-lea"))
        .await;
    let mut last = 0;
    for i in 0..LINES {
        let text = format!(
            "{i:03} {}",
            "la robe existe en vert sapin et en bordeaux ? ".repeat(9)
        );
        last = chatty.say(text.trim_end()).await;
    }
    let out = tempfile::tempdir().expect("temp dir");
    let (mut sam, mut net) = console_as(&hub, StaffRole::Support, "Sam", out.path()).await;
    pump_until(&mut sam, &mut net, "the last line", |s| s.seq >= last).await;
    keys(&mut sam, &net, [key('k'), key('v')]);
    pump_until(
        &mut sam,
        &mut net,
        "the card",
        |s| matches!(&s.popup, Some(Popup::ViewerCard(v)) if v.card.is_some()),
    )
    .await;
    keys(&mut sam, &net, [key('X')]);
    pump_until(&mut sam, &mut net, "the export result", |s| {
        !matches!(
            &s.popup,
            Some(Popup::ExportResult(ExportView::Waiting { .. }))
        )
    })
    .await;
    let file = saved_path(&sam).unwrap_or_else(|| panic!("saved: {:?}", sam.popup));
    let raw = std::fs::read_to_string(&file).expect("written");
    assert!(
        raw.len() > regie::protocol::MAX_FRAME_BYTES,
        "{} bytes",
        raw.len()
    );
    let back: ViewerExport = serde_json::from_str(&raw).expect("the one format");
    assert_eq!(back.messages.len(), LINES);
    drop(net);
    hub.stop().await;
}

/// SQLite, except that a commit carrying an export's audit record fails:
/// the disk is full just as support exports.
struct NoRoomForTheAudit(SqliteStore);

impl Store for NoRoomForTheAudit {
    fn open_live(&mut self, live: &str) -> Result<LiveHead, StoreError> {
        self.0.open_live(live)
    }
    fn commit(&mut self, live: &str, batch: &[Commit]) -> Result<(), StoreError> {
        let audits_an_export = batch
            .iter()
            .filter_map(|c| c.audit.as_ref())
            .any(|a| a.action == "export_viewer");
        if audits_an_export {
            return Err(StoreError::Corrupt(
                "injected: no room for the audit".into(),
            ));
        }
        self.0.commit(live, batch)
    }
    fn replay(
        &mut self,
        live: &str,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<EventFrame>, StoreError> {
        self.0.replay(live, after, limit)
    }
    fn snapshot(&mut self, live: &str, recent: usize) -> Result<StoredSnapshot, StoreError> {
        self.0.snapshot(live, recent)
    }
    fn message(&mut self, live: &str, id: MessageId) -> Result<Option<ChatEntry>, StoreError> {
        self.0.message(live, id)
    }
    fn upsert_viewer(
        &mut self,
        live: &str,
        viewer: &ViewerRecord,
        contact: &Contact,
    ) -> Result<(), StoreError> {
        self.0.upsert_viewer(live, viewer, contact)
    }
    fn viewer(
        &mut self,
        live: &str,
        id: &ViewerId,
        now: Millis,
    ) -> Result<Option<StoredViewer>, StoreError> {
        self.0.viewer(live, id, now)
    }
    fn viewer_card(
        &mut self,
        live: &str,
        id: &ViewerId,
        with_contact: bool,
        now: Millis,
    ) -> Result<Option<ViewerCard>, StoreError> {
        self.0.viewer_card(live, id, with_contact, now)
    }
    fn record_consent(
        &mut self,
        live: &str,
        viewer: &ViewerId,
        consent: &ConsentState,
        contact: &Contact,
    ) -> Result<(), StoreError> {
        self.0.record_consent(live, viewer, consent, contact)
    }
    fn command_outcome(
        &mut self,
        live: &str,
        principal: &str,
        id: &CommandId,
    ) -> Result<Option<CommandOutcome>, StoreError> {
        self.0.command_outcome(live, principal, id)
    }
    fn audit_log(&mut self, live: &str) -> Result<Vec<AuditRecord>, StoreError> {
        self.0.audit_log(live)
    }
    fn verify_audit_chain(&mut self, live: &str) -> Result<(), StoreError> {
        self.0.verify_audit_chain(live)
    }
    fn checkpoint(&mut self) -> Result<(), StoreError> {
        self.0.checkpoint()
    }
    fn games(&mut self, live: &str) -> Result<StoredGames, StoreError> {
        self.0.games(live)
    }
    fn viewer_export(
        &mut self,
        live: &str,
        id: &ViewerId,
    ) -> Result<Option<ViewerExport>, StoreError> {
        self.0.viewer_export(live, id)
    }
}

/// No export leaves the hub unless its audit record is saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_whose_audit_cannot_be_saved_is_not_sent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = NoRoomForTheAudit(SqliteStore::open(dir.path()).expect("a store"));
    let hub = TestHub::start_with_store(dir.path(), Box::new(store), |_| {}).await;
    let mut lea = hub
        .join(keyed_viewer_hello(&hub.live, "Léa", "device-lea"))
        .await;
    let lea_id = lea.welcome.you.viewer_id.clone().expect("a viewer id");
    lea.say(LEA_TEXT).await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let refused = sam
        .refused(Command::ExportViewer { viewer_id: lea_id })
        .await;
    assert_eq!(refused.code, ErrorCode::Internal, "{refused:?}");
    assert!(!refused.message.contains(LEA_TEXT), "{refused:?}");
    hub.stop().await;
}

// ── the console alone ───────────────────────────────────────────────────

fn marc_card() -> ViewerCard {
    ViewerCard {
        viewer_id: ViewerId("v-marc".into()),
        first_name: "Marc".into(),
        pseudonym: "marc".into(),
        first_seen: NOON,
        recent: vec![ChatEntry::Message(message(
            15,
            NOON + 15 * MIN,
            viewer("v-marc", "Marc", "marc"),
            "comment number 4 about the collection",
        ))],
        sanctions: vec![],
        contact: Some(MaskedContact {
            phone: Some("+33 6 •• •• •• 78".into()),
            email: None,
        }),
        consents: vec![],
        notes: vec![],
    }
}

/// `role` opens Marc's card from the feed and the hub answers it.
fn with_marcs_card(role: StaffRole) -> Console {
    let mut c = show(role);
    c.rights = rights::Rights::new(PathBuf::from("/srv/exports"));
    let effects = feed(&mut c, [key('k'), key('k'), key('k'), key('k'), key('v')]);
    let [Effect::Send(request)] = effects.as_slice() else {
        panic!("one card request, got {effects:?}")
    };
    feed(
        &mut c,
        [Msg::Frame(ServerFrame::ViewerCard {
            id: request.id.clone(),
            card: Box::new(marc_card()),
        })],
    );
    c
}

/// Marc's export as the hub would send it.
fn marc_export() -> ViewerExport {
    ViewerExport {
        format: EXPORT_FORMAT,
        live: "show".into(),
        exported_at: NOON + 31 * MIN,
        profile: ExportedProfile {
            viewer_id: "v-marc".into(),
            first_name: "Marc".into(),
            pseudonym: "marc".into(),
            first_seen: NOON,
            last_seen: NOON + 15 * MIN,
            phone: Some("+33 6 12 34 56 78".into()),
            phone_purpose: Some("prize_contact".into()),
            email: None,
            email_purpose: None,
        },
        consents: vec![ExportedConsent {
            purpose: "prize_contact".into(),
            granted: true,
            at: NOON,
            channel: "player".into(),
            text_sha256: SHA.into(),
            text: None,
        }],
        messages: (0..3)
            .map(|i| ExportedMessage {
                id: 13 + i,
                at: NOON + 13 * MIN,
                text: format!("comment number {i}"),
                question: false,
                answered: false,
                visibility: "visible".into(),
            })
            .collect(),
        redacted: vec![],
        replies: vec![ExportedReply {
            id: 16,
            reply_to_id: 15,
            at: NOON + 16 * MIN,
            by_role: Some("host".into()),
            text: "merci Marc".into(),
        }],
        votes: vec![],
        entries: vec![],
        sanctions: vec![ExportedSanction {
            kind: "timeout".into(),
            until: Some(NOON + 20 * MIN),
            reason: "spam".into(),
            at: NOON + 10 * MIN,
            by_role: "moderator".into(),
        }],
        notes: vec![],
    }
}

/// Presses `X` on Marc's card and answers with `answer(id)`; returns the
/// effects of that answer.
fn export_answered(
    c: &mut Console,
    answer: impl FnOnce(regie::protocol::CommandId) -> ServerFrame,
) -> Vec<Effect> {
    let effects = feed(c, [key('X')]);
    let [Effect::Send(request)] = effects.as_slice() else {
        panic!("one export request, got {effects:?}")
    };
    assert_eq!(
        request.command,
        Command::ExportViewer {
            viewer_id: ViewerId("v-marc".into())
        }
    );
    let id = request.id.clone();
    feed(c, [Msg::Frame(answer(id))])
}

#[test]
fn the_export_result_shows_the_path_the_counts_and_the_personal_data_reminder() {
    let mut c = with_marcs_card(StaffRole::Support);
    assert!(
        render(&mut c, 160, 48).contains("X export"),
        "the card offers it"
    );
    let export = marc_export();
    let effects = export_answered(&mut c, |id| ServerFrame::ViewerExport {
        id,
        export: Box::new(export.clone()),
    });
    let [
        Effect::SaveExport(SaveExport {
            request,
            path,
            export: sent,
        }),
    ] = effects.as_slice()
    else {
        panic!("one write, got {effects:?}")
    };
    assert_eq!(**sent, export, "the document as the hub sent it");
    let printed = format!("{effects:?}");
    assert!(
        !printed.contains("+33 6 12"),
        "printed without it: {printed}"
    );
    assert_eq!(
        path,
        Path::new("/srv/exports/regie-export-show-v-marc-1795696260000.json")
    );
    assert!(c.pending.is_empty(), "answered");
    // What the edge reports once it wrote the file.
    feed(
        &mut c,
        [Msg::ExportSaved(ExportSaved {
            request: request.clone(),
            path: path.clone(),
            counts: ExportCounts::of(sent),
            failed: None,
        })],
    );
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(screen.contains("Export written"), "{w}x{h}:\n{screen}");
        assert!(screen.contains("3 messages"), "{w}x{h}:\n{screen}");
        assert!(screen.contains("1 reply"), "{w}x{h}:\n{screen}");
        assert!(
            !screen.contains("+33 6 12"),
            "no content on screen:\n{screen}"
        );
        insta::assert_snapshot!(format!("export_result_{w}x{h}"), screen);
    }
    assert!(PERSONAL_DATA_NOTICE.contains("personal data"));
    feed(&mut c, [code(crossterm::event::KeyCode::Esc)]);
    assert!(c.popup.is_none());
}

#[test]
fn a_refused_export_and_a_failed_write_are_shown_plainly() {
    let mut c = with_marcs_card(StaffRole::Admin);
    let effects = export_answered(&mut c, |id| {
        ServerFrame::Error(ErrorFrame::new(
            Some(id),
            ErrorCode::NotFound,
            "no viewer v-marc in this live",
        ))
    });
    assert!(effects.is_empty(), "nothing to write: {effects:?}");
    assert!(matches!(
        &c.popup,
        Some(Popup::ExportResult(ExportView::Failed { .. }))
    ));
    for (w, h) in SIZES {
        let screen = render(&mut c, w, h);
        assert!(screen.contains("Export failed"), "{w}x{h}:\n{screen}");
        assert!(screen.contains("no viewer v-marc"), "{w}x{h}:\n{screen}");
        insta::assert_snapshot!(format!("export_refused_{w}x{h}"), screen);
    }

    // The write itself: into a directory that is not there.
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("not-made");
    let mut c = with_marcs_card(StaffRole::Support);
    c.rights = rights::Rights::new(missing.clone());
    let effects = export_answered(&mut c, |id| ServerFrame::ViewerExport {
        id,
        export: Box::new(marc_export()),
    });
    let [Effect::SaveExport(job)] = effects.as_slice() else {
        panic!("one write, got {effects:?}")
    };
    let saved = rights::save(job.clone());
    assert!(saved.failed.is_some(), "{saved:?}");
    feed(&mut c, [Msg::ExportSaved(saved)]);
    let screen = render(&mut c, 160, 48);
    assert!(screen.contains("Export failed"), "{screen}");
    assert!(screen.contains("cannot create"), "{screen}");
    assert!(screen.contains("No file was written"), "{screen}");
    assert!(!missing.exists(), "the directory is never created");
}

#[test]
fn an_export_never_overwrites_a_file_and_is_private() {
    let dir = tempfile::tempdir().expect("temp dir");
    let export = Box::new(marc_export());
    let job = SaveExport {
        request: regie::protocol::CommandId("c-1".into()),
        path: dir.path().join(rights::file_name(&export)),
        export,
    };
    let first = rights::save(job.clone());
    assert_eq!(first.failed, None);
    let mode = std::fs::metadata(&job.path)
        .expect("written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let written = std::fs::read_to_string(&job.path).expect("readable");
    let back: ViewerExport = serde_json::from_str(&written).expect("the one format");
    assert_eq!(back, *job.export);

    std::fs::write(&job.path, "kept").expect("replace the content");
    let second = rights::save(job.clone());
    let why = second.failed.expect("refused");
    assert!(why.contains("already exists"), "{why}");
    assert_eq!(
        std::fs::read_to_string(&job.path).expect("readable"),
        "kept"
    );
}

#[test]
fn a_file_name_never_leaves_the_export_directory() {
    let mut export = marc_export();
    export.profile.viewer_id = "../../etc/passwd".into();
    export.live = "a/b\u{202e}".into();
    let name = rights::file_name(&export);
    assert!(!name.contains('/') && name.is_ascii(), "{name}");
    assert_eq!(Path::new(&name).components().count(), 1, "{name}");
}

#[test]
fn a_role_that_may_not_export_gets_no_export_key() {
    for role in [StaffRole::Host, StaffRole::Moderator] {
        let mut c = with_marcs_card(role);
        assert!(!render(&mut c, 160, 48).contains("export"), "{role}");
        let effects = feed(&mut c, [key('X')]);
        assert!(effects.is_empty(), "{role}");
        assert!(matches!(&c.popup, Some(Popup::ViewerCard(_))), "{role}");
    }
}

#[test]
fn the_console_takes_an_export_directory() {
    let help = run(&["console", "--help"], &[]);
    assert_eq!(help.code, 0, "{}", help.stderr);
    assert!(help.stdout.contains("--export-dir"), "{}", help.stdout);
}
