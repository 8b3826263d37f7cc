//! The brand's CRM and e-mail provider, end to end on loopback:
//!
//! - new marketing opt-ins are pushed to a stand-in CRM that checks the
//!   HMAC-SHA256 signature, with their proof; a 503 is retried; the
//!   withdrawal follows, without the address; an opt-in without an
//!   address, or for another purpose, is not pushed;
//! - Brevo's `unsubscribed` webhook (secret path + Basic) withdraws the
//!   consent (channel `email`), deletes the address and its lookup, is
//!   audited without it; forged calls get 403 and change nothing; a
//!   replay changes nothing twice;
//! - the signed generic unsubscribe does the same, and refuses a bad or
//!   stale signature.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use regie::crm::config::{CrmConfig, CrmSecret};
use regie::crm::unsubscribe::UNSUBSCRIBE_ACTION;
use regie::protocol::{Command, ConsentChannel, ConsentPurpose, Contact, StaffRole, ViewerId};
use regie::sms::Secret;
use regie::sms::signature::{PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER, push_signature};

use crate::kit;
use crate::support::client::{Client, viewer_hello};
use crate::support::hub::{TestHub, wait_until};

const SECRET: &[u8] = b"crm-test-secret-of-at-least-32-bytes!";
const PATH_SECRET: &str = "s3cr3t-path-9f2c";
const USER: &str = "brevo-hook";
const PASSWORD: &str = "hook-password";
const LEA: &str = "Lea.Martin@Example.fr";

/// A CRM on loopback: keeps the bodies whose signature holds, refuses the
/// others (401), answers "busy" first when told to.
#[derive(Default)]
struct Seen {
    valid: Vec<serde_json::Value>,
    forged: usize,
    requests: usize,
    busy: VecDeque<u16>,
}

struct Crm {
    addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Crm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(seen): State<Arc<Mutex<Seen>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let now = regie::now_millis() / 1000;
    let valid = regie::sms::signature::push_signature_valid(
        SECRET,
        &header(PUSH_TIMESTAMP_HEADER),
        &body,
        &header(PUSH_SIGNATURE_HEADER),
        now,
        300,
    );
    let mut seen = seen.lock().expect("the CRM lock");
    seen.requests += 1;
    if !valid {
        seen.forged += 1;
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(status) = seen.busy.pop_front() {
        return StatusCode::from_u16(status)
            .expect("a status")
            .into_response();
    }
    seen.valid
        .push(serde_json::from_slice(&body).expect("a JSON push"));
    StatusCode::NO_CONTENT.into_response()
}

impl Crm {
    async fn start() -> Crm {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let app = Router::new()
            .route("/crm/optins", post(receive))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the CRM");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Crm { addr, seen, task }
    }

    /// Waits until `n` valid pushes arrived.
    async fn wait_for(&self, n: usize, what: &str) {
        wait_until(what, || async { self.valid().len() == n }).await;
    }

    fn valid(&self) -> Vec<serde_json::Value> {
        self.seen.lock().expect("the CRM lock").valid.clone()
    }
}

fn crm_config(push_to: Option<&Crm>) -> CrmConfig {
    CrmConfig {
        push_url: push_to.map(|c| format!("http://{}/crm/optins", c.addr)),
        secret: Some(CrmSecret::new(SECRET.to_vec()).expect("a long secret")),
        unsubscribe_provider: Some("brevo".into()),
        webhook_user: USER.into(),
        webhook_password: Secret::new(PASSWORD),
        webhook_secret: Secret::new(PATH_SECRET),
        backoff: Duration::from_millis(5),
        poll_every: Duration::from_millis(20),
        ..CrmConfig::default()
    }
}

fn sha(purpose: ConsentPurpose) -> String {
    // Prize contact has no text of the brand file (any hash is taken).
    regie::hub::consent_texts::ConsentTexts::default()
        .sha256(purpose)
        .unwrap_or_else(|| "9f".repeat(32))
}

async fn consent(c: &mut Client, purpose: ConsentPurpose, granted: bool, email: Option<&str>) {
    c.ack(Command::Consent {
        purpose,
        granted,
        channel: ConsentChannel::Player,
        text_sha256: sha(purpose),
        contact: Contact {
            phone: None,
            email: email.map(str::to_owned),
        },
    })
    .await;
}

async fn viewer(hub: &TestHub, name: &str) -> (Client, ViewerId) {
    let c = hub.join(viewer_hello(&hub.live, name)).await;
    let id = kit::viewer_id(&c);
    (c, id)
}

/// The viewer's marketing consents in the hub's live: (granted, channel).
fn marketing(hub: &TestHub, viewer: &ViewerId) -> Vec<(bool, String)> {
    let db = kit::db(&hub.data_dir);
    let mut q = db
        .prepare(
            "SELECT c.granted, c.channel FROM consents c JOIN lives l ON l.id = c.live_id \
             WHERE l.name = ?1 AND c.viewer_id = ?2 AND c.purpose = 'marketing' ORDER BY c.id",
        )
        .expect("prepare");
    q.query_map([&hub.live, &viewer.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn sealed_email(hub: &TestHub, viewer: &ViewerId) -> Option<Vec<u8>> {
    kit::db(&hub.data_dir)
        .query_row(
            "SELECT v.email_sealed FROM viewers v JOIN lives l ON l.id = v.live_id \
             WHERE l.name = ?1 AND v.viewer_id = ?2",
            [&hub.live, &viewer.0],
            |r| r.get(0),
        )
        .expect("the viewer's row")
}

fn lookups(hub: &TestHub) -> i64 {
    kit::db(&hub.data_dir)
        .query_row("SELECT count(*) FROM email_lookups", [], |r| r.get(0))
        .expect("lookups")
}

fn unsubscribes(hub: &TestHub) -> Vec<regie::store::audit::AuditRecord> {
    regie::store::audit::read_log(&hub.data_dir.join(regie::store::DB_FILE), &hub.live)
        .expect("the audit log")
        .into_iter()
        .filter(|r| r.entry.action == UNSUBSCRIBE_ACTION)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_opt_ins_and_their_withdrawal_are_pushed_signed_with_the_proof() {
    let crm = Crm::start().await;
    crm.seen.lock().expect("lock").busy.push_back(503);
    let config = crm_config(Some(&crm));
    let hub = TestHub::start_with(move |c| c.crm = config).await;
    let (mut lea, lea_id) = viewer(&hub, "Léa").await;
    let (mut hugo, _) = viewer(&hub, "Hugo").await;
    let (mut zoe, _) = viewer(&hub, "Zoé").await;
    // Hugo says yes without an address; Zoé gives hers for a prize only.
    consent(&mut hugo, ConsentPurpose::Marketing, true, None).await;
    consent(
        &mut zoe,
        ConsentPurpose::PrizeContact,
        true,
        Some("zoe@example.fr"),
    )
    .await;
    let before = regie::now_millis();
    consent(&mut lea, ConsentPurpose::Marketing, true, Some(LEA)).await;

    crm.wait_for(1, "the opt-in to reach the CRM").await;
    let push = &crm.valid()[0];
    assert_eq!(push["event"], "opt_in");
    assert_eq!(push["email"], LEA);
    assert_eq!(push["purpose"], "marketing");
    assert_eq!(push["channel"], "player");
    assert_eq!(push["text_sha256"], sha(ConsentPurpose::Marketing));
    assert_eq!(push["live"], hub.live.as_str());
    assert_eq!(push["viewer_id"], lea_id.0.as_str());
    let granted =
        humantime::parse_rfc3339(push["granted_at"].as_str().expect("a time")).expect("RFC 3339");
    let granted = i64::try_from(
        granted
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis(),
    )
    .expect("millis");
    assert!(granted >= before, "{granted} < {before}");
    {
        let seen = crm.seen.lock().expect("lock");
        assert_eq!((seen.requests, seen.forged), (2, 0), "the 503 was retried");
    }

    // Léa withdraws: the CRM is told, by viewer id, without the address.
    consent(&mut lea, ConsentPurpose::Marketing, false, None).await;
    crm.wait_for(2, "the withdrawal to reach the CRM").await;
    let out = &crm.valid()[1];
    assert_eq!(out["event"], "opt_out");
    assert_eq!(out["viewer_id"], lea_id.0.as_str());
    assert_eq!(out["live"], hub.live.as_str());
    assert!(out.get("email").is_none(), "{out}");
    assert!(!out.to_string().contains("example.fr"), "{out}");
    // Nothing else was pushed: not Hugo (no address), not Zoé (a prize).
    let states: Vec<(String, String)> = kit::db(&hub.data_dir)
        .prepare("SELECT event, state FROM crm_outbox ORDER BY id")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("the CRM queue");
    assert_eq!(
        states,
        vec![
            ("opt_in".to_owned(), "cancelled".to_owned()),
            ("opt_in".to_owned(), "sent".to_owned()),
            ("opt_out".to_owned(), "sent".to_owned()),
        ]
    );
    assert_eq!(crm.valid().len(), 2);

    // Léa's data is erased (Art. 17): the CRM, which had her opt-in, is
    // told to erase its copy; the hub keeps no queue row about her after.
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    sam.ack(Command::EraseViewer {
        viewer_id: lea_id.clone(),
        reason: "demande RGPD".into(),
    })
    .await;
    crm.wait_for(3, "the erasure to reach the CRM").await;
    let erased = &crm.valid()[2];
    assert_eq!(erased["event"], "erased");
    assert_eq!(erased["viewer_id"], lea_id.0.as_str());
    assert!(erased.get("email").is_none(), "{erased}");
    wait_until("the notice's row to go", || async {
        kit::db(&hub.data_dir)
            .query_row(
                "SELECT count(*) FROM crm_outbox WHERE viewer_id = ?1",
                [&lea_id.0],
                |r| r.get::<_, i64>(0),
            )
            .expect("count")
            == 0
    })
    .await;
    hub.stop().await;
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

async fn brevo(hub: &TestHub, secret: &str, auth: Option<String>, body: &str) -> u16 {
    let mut headers = vec![("Content-Type", "application/json".to_owned())];
    if let Some(a) = auth {
        headers.push(("Authorization", a));
    }
    hub.http(
        "POST",
        &format!("/webhooks/email/brevo/{secret}"),
        &headers,
        body,
    )
    .await
    .0
}

fn brevo_event(event: &str, email: &str, message_id: &str) -> String {
    serde_json::json!({
        "event": event,
        "email": email,
        "id": 4_128_033,
        "date": "2026-12-02 14:03:11",
        "ts_event": 1_796_220_191,
        "message-id": message_id,
        "tag": "newsletter",
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brevos_unsubscribe_withdraws_the_consent_once_and_forgeries_change_nothing() {
    let hub = TestHub::start_with(|c| c.crm = crm_config(None)).await;
    let (mut lea, lea_id) = viewer(&hub, "Léa").await;
    consent(&mut lea, ConsentPurpose::Marketing, true, Some(LEA)).await;
    assert_eq!(lookups(&hub), 1);
    let body = brevo_event(
        "unsubscribed",
        "lea.martin@example.fr",
        "<20261202.1@relay.example>",
    );

    // Forged: the wrong path secret, wrong or no Basic credentials.
    let good = || Some(basic(USER, PASSWORD));
    assert_eq!(brevo(&hub, "guess", good(), &body).await, 403);
    assert_eq!(
        brevo(&hub, PATH_SECRET, Some(basic(USER, "nope")), &body).await,
        403
    );
    assert_eq!(brevo(&hub, PATH_SECRET, None, &body).await, 403);
    assert_eq!(
        hub.http(
            "POST",
            "/webhooks/email/sendgrid/x",
            &[("Authorization", basic(USER, PASSWORD))],
            &body
        )
        .await
        .0,
        403
    );
    assert_eq!(marketing(&hub, &lea_id), vec![(true, "player".to_owned())]);
    assert!(sealed_email(&hub, &lea_id).is_some());

    // Other events are acknowledged and change nothing.
    let opened = brevo_event(
        "opened",
        "lea.martin@example.fr",
        "<20261202.1@relay.example>",
    );
    assert_eq!(brevo(&hub, PATH_SECRET, good(), &opened).await, 200);
    assert_eq!(marketing(&hub, &lea_id).len(), 1);
    // Not JSON: refused clearly.
    assert_eq!(
        brevo(&hub, PATH_SECRET, good(), "event=unsubscribed").await,
        400
    );

    // The real one: withdrawn (channel email), the address and its lookup gone.
    assert_eq!(brevo(&hub, PATH_SECRET, good(), &body).await, 200);
    let withdrawn = vec![(true, "player".to_owned()), (false, "email".to_owned())];
    assert_eq!(marketing(&hub, &lea_id), withdrawn);
    assert_eq!(sealed_email(&hub, &lea_id), None);
    assert_eq!(lookups(&hub), 0);
    // Replayed, and another message's unsubscribe: nothing twice.
    assert_eq!(brevo(&hub, PATH_SECRET, good(), &body).await, 200);
    let other = brevo_event("unsubscribed", LEA, "<20261202.2@relay.example>");
    assert_eq!(brevo(&hub, PATH_SECRET, good(), &other).await, 200);
    assert_eq!(marketing(&hub, &lea_id), withdrawn);
    let audits = unsubscribes(&hub);
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].entry.target, lea_id.0);
    let shown = format!("{audits:?}").to_lowercase();
    assert!(!shown.contains("lea.martin"), "{shown}");
    hub.stop().await;
}

async fn signed(hub: &TestHub, body: &str, stamp: i64, secret: &[u8]) -> u16 {
    let headers = vec![
        ("Content-Type", "application/json".to_owned()),
        (PUSH_TIMESTAMP_HEADER, stamp.to_string()),
        (
            PUSH_SIGNATURE_HEADER,
            push_signature(secret, stamp, body.as_bytes()),
        ),
    ];
    hub.http("POST", "/webhooks/email/unsubscribe", &headers, body)
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_unsubscribe_withdraws_and_a_bad_or_stale_signature_is_refused() {
    let hub = TestHub::start_with(|c| c.crm = crm_config(None)).await;
    let (mut lea, lea_id) = viewer(&hub, "Léa").await;
    consent(&mut lea, ConsentPurpose::Marketing, true, Some(LEA)).await;
    let body = serde_json::json!({"email": LEA, "id": "crm-evt-1"}).to_string();
    let now = regie::now_millis() / 1000;

    assert_eq!(
        signed(&hub, &body, now, b"another-secret-of-32-bytes-or-more").await,
        403
    );
    assert_eq!(signed(&hub, &body, now - 3600, SECRET).await, 403);
    let unsigned = hub
        .http("POST", "/webhooks/email/unsubscribe", &[], &body)
        .await
        .0;
    assert_eq!(unsigned, 403);
    assert_eq!(marketing(&hub, &lea_id), vec![(true, "player".to_owned())]);

    assert_eq!(signed(&hub, &body, now, SECRET).await, 200);
    assert_eq!(
        marketing(&hub, &lea_id),
        vec![(true, "player".to_owned()), (false, "email".to_owned())]
    );
    assert_eq!(sealed_email(&hub, &lea_id), None);
    assert_eq!(unsubscribes(&hub).len(), 1);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_stored_before_lookups_existed_is_found_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = TestHub::start_in(dir.path(), |c| c.crm = crm_config(None)).await;
    let (mut lea, lea_id) = viewer(&hub, "Léa").await;
    consent(&mut lea, ConsentPurpose::Marketing, true, Some(LEA)).await;
    drop(lea);
    hub.stop().await;
    // As a store from before this version: the address, no lookup.
    rusqlite::Connection::open(dir.path().join(regie::store::DB_FILE))
        .and_then(|db| db.execute("DELETE FROM email_lookups", []))
        .expect("drop the lookups");

    let hub = TestHub::start_in(dir.path(), |c| c.crm = crm_config(None)).await;
    // The hub answers HTTP once it has made them (before its router runs).
    wait_until("the lookup to be made again", || async {
        lookups(&hub) == 1
    })
    .await;
    let body = brevo_event("unsubscribed", LEA, "<20261202.9@relay.example>");
    assert_eq!(
        brevo(&hub, PATH_SECRET, Some(basic(USER, PASSWORD)), &body).await,
        200
    );
    assert_eq!(
        marketing(&hub, &lea_id),
        vec![(true, "player".to_owned()), (false, "email".to_owned())]
    );
    assert_eq!(sealed_email(&hub, &lea_id), None);
    hub.stop().await;
}
