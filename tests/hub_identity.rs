//! Viewer identity that holds (issue 11): the signed viewer pass, votes and
//! entries bound to an identity older than the game, brand-signed viewer
//! tokens, and the budget of new identities per address. Real hubs on
//! 127.0.0.1:0.

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use regie::auth::viewer_token::ViewerTokenSecret;
use regie::protocol::{
    Auth, CloseCode, Command, ErrorCode, Event, Hello, ServerFrame, StaffRole, ViewerId,
};
use sha2::Sha256;
use support::client::{Client, close_code};
use support::hub::{ManualClock, TestHub};

/// The shared secret of the tests' brand.
const BRAND_SECRET: &[u8] = b"la-marque-et-regie-partagent-ce-secret";

/// A viewer's hello presenting `pass` (none: a new viewer).
fn hello_with_pass(hub: &TestHub, first_name: &str, pass: Option<&str>) -> Hello {
    let mut hello = hub.viewer_hello(first_name);
    if let Auth::Viewer { pass: p, .. } = &mut hello.auth {
        *p = pass.map(str::to_owned);
    }
    hello
}

/// A viewer's hello with a brand token.
fn hello_with_token(hub: &TestHub, first_name: &str, token: &str) -> Hello {
    let mut hello = hub.viewer_hello(first_name);
    if let Auth::Viewer { token: t, .. } = &mut hello.auth {
        *t = Some(token.to_owned());
    }
    hello
}

/// A JWT signed as a brand's site signs it (HS256 over
/// `base64url(header).base64url(claims)`), independently of the hub's code.
fn brand_token(secret: &[u8], account: &str, first_name: &str, exp_secs: i64) -> String {
    let header = B64.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = B64.encode(
        serde_json::json!({"viewer": account, "first_name": first_name, "exp": exp_secs})
            .to_string(),
    );
    let signed = format!("{header}.{claims}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(signed.as_bytes());
    format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
}

fn in_an_hour() -> i64 {
    regie::now_millis() / 1000 + 3600
}

fn viewer_id(client: &Client) -> ViewerId {
    client.welcome.you.viewer_id.clone().expect("a viewer id")
}

fn issued_pass(client: &Client) -> String {
    client
        .welcome
        .pass
        .clone()
        .expect("a new viewer is issued a pass")
}

async fn open_poll(host: &mut Client) {
    host.ack(Command::PollOpen {
        question: "Rouge ou bleu ?".into(),
        options: vec!["Rouge".into(), "Bleu".into()],
        duration_secs: None,
    })
    .await;
}

/// Closes poll 1 and returns its final counts and voters.
async fn close_poll(host: &mut Client) -> (Vec<u64>, u64) {
    host.ack(Command::PollClose { poll_id: 1 }).await;
    let closed = host
        .wait_event(|e| matches!(e, Event::PollClosed { .. }))
        .await;
    match closed.event {
        Event::PollClosed { counts, voters, .. } => (counts, voters),
        other => panic!("{other:?}"),
    }
}

const VOTE: Command = Command::Vote {
    poll_id: 1,
    option: 0,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_reconnects_with_one_pass_are_one_viewer_and_one_vote() {
    let hub = TestHub::start().await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let julie = hub.join(hello_with_pass(&hub, "Julie", None)).await;
    let pass = issued_pass(&julie);
    let id = viewer_id(&julie);
    drop(julie);
    open_poll(&mut host).await;

    let mut voted = 0;
    for n in 0..3 {
        let mut back = hub.join(hello_with_pass(&hub, "Julie", Some(&pass))).await;
        assert_eq!(viewer_id(&back), id, "the pass names the same viewer");
        assert_eq!(back.welcome.pass, None, "a valid pass is not reissued");
        match back.command_with_id(&format!("vote-{n}"), VOTE).await {
            ServerFrame::Ack { .. } => voted += 1,
            ServerFrame::Error(e) => {
                assert_eq!(e.message, "you already voted in this poll");
            }
            other => panic!("{other:?}"),
        }
        // The first vote's id, retried on a later connection, is a retry
        // of the same viewer's command: its first answer, no second vote.
        let retried = back.command_with_id("vote-0", VOTE).await;
        assert!(matches!(retried, ServerFrame::Ack { .. }), "{retried:?}");
    }
    assert_eq!(voted, 1);
    assert_eq!(close_poll(&mut host).await, (vec![1, 0], 1));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_issued_after_a_game_opened_cannot_vote_or_enter() {
    let clock = ManualClock::new();
    let hub = TestHub::start_with(|c| c.clock = clock.clock()).await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    let mut before = hub.join(hello_with_pass(&hub, "Léa", None)).await;
    open_poll(&mut host).await;
    host.ack(Command::InstantWinOpen {
        prize: "Sac".into(),
        winners: 1,
        entry_secs: 600,
        rules: String::new(),
    })
    .await;
    clock.set(clock.now() + 1_000);

    for n in 0..3 {
        let mut late = hub
            .join(hello_with_pass(&hub, &format!("Tard{n}"), None))
            .await;
        assert!(late.welcome.pass.is_some());
        let refused = late.refused(VOTE).await;
        assert_eq!(refused.code, ErrorCode::Invalid);
        assert!(
            refused
                .message
                .contains("you joined after this poll opened"),
            "{}",
            refused.message
        );
        let refused = late.refused(Command::Enter { draw_id: 1 }).await;
        assert_eq!(refused.code, ErrorCode::Invalid);
        assert!(
            refused
                .message
                .contains("you joined after this instant win opened"),
            "{}",
            refused.message
        );
    }
    // The viewer who was there before takes part.
    before.ack(VOTE).await;
    before.ack(Command::Enter { draw_id: 1 }).await;
    assert_eq!(close_poll(&mut host).await, (vec![1, 0], 1));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_truncated_or_foreign_pass_is_a_new_viewer() {
    let hub = TestHub::start().await;
    let other = TestHub::start().await;
    let julie = hub.join(hello_with_pass(&hub, "Julie", None)).await;
    let pass = issued_pass(&julie);
    let id = viewer_id(&julie);
    let foreign = issued_pass(&other.join(hello_with_pass(&other, "Julie", None)).await);

    let mut forged = pass.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ASCII");
    let truncated = &pass[..pass.len() - 4];
    // Julie's device, claiming an earlier issue time, under her tag.
    let (body, tag) = pass
        .strip_prefix("p1.")
        .and_then(|p| p.split_once('.'))
        .expect("p1.<body>.<tag>");
    let mut body = B64.decode(body).expect("base64url");
    let last = body.len() - 1;
    body[last] ^= 0x01;
    let backdated = format!("p1.{}.{tag}", B64.encode(&body));
    let mut seen = vec![id];
    for bad in [
        forged.as_str(),
        truncated,
        &backdated,
        &foreign,
        "p1.AAAA.BBBB",
    ] {
        let fresh = hub.join(hello_with_pass(&hub, "Julie", Some(bad))).await;
        let new_pass = issued_pass(&fresh);
        assert_ne!(new_pass, bad);
        let fresh_id = viewer_id(&fresh);
        assert!(!seen.contains(&fresh_id), "{bad} gave a known identity");
        seen.push(fresh_id);
    }
    // The real pass still names Julie.
    let back = hub.join(hello_with_pass(&hub, "Julie", Some(&pass))).await;
    assert_eq!(viewer_id(&back), seen[0]);
    other.stop().await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_pass_stays_banned_across_reconnects_and_a_restart() {
    let hub = TestHub::start().await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let troll = hub.join(hello_with_pass(&hub, "Troll", None)).await;
    let pass = issued_pass(&troll);
    ines.ack(Command::Ban {
        viewer_id: viewer_id(&troll),
        reason: "insultes".into(),
    })
    .await;
    let closed = troll.closed().await;
    assert_eq!(closed.code, Some(close_code(CloseCode::Banned)));

    let refused = hub
        .try_join(hello_with_pass(&hub, "Gentil", Some(&pass)))
        .await
        .err()
        .expect("still banned under another name");
    assert_eq!(refused.error_code(), Some(ErrorCode::Banned));
    drop(ines);

    let dir = hub.stop().await.expect("the hub's temp dir");
    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let refused = hub
        .try_join(hello_with_pass(&hub, "Troll", Some(&pass)))
        .await
        .err()
        .expect("still banned after a restart");
    assert_eq!(refused.error_code(), Some(ErrorCode::Banned));
    assert_eq!(refused.code, Some(close_code(CloseCode::Banned)));
    hub.stop().await;
}

/// A hub that takes the tests' brand tokens.
async fn brand_hub() -> TestHub {
    TestHub::start_with(|c| {
        c.viewers.token_secret =
            Some(ViewerTokenSecret::new(BRAND_SECRET.to_vec()).expect("32 bytes or more"));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_account_votes_once_from_two_devices_and_its_ban_follows_it() {
    let hub = brand_hub().await;
    let mut host = hub.staff(StaffRole::Host, "Sophie").await;
    open_poll(&mut host).await;
    // Signed after the poll opened: an account counts as older than any
    // game, so it may vote anyway.
    let token = brand_token(BRAND_SECRET, "acct-1234", "Camille", in_an_hour());
    let mut phone = hub.join(hello_with_token(&hub, "Cam", &token)).await;
    let mut laptop = hub.join(hello_with_token(&hub, "Camille D.", &token)).await;
    assert_eq!(viewer_id(&phone), viewer_id(&laptop));
    assert_eq!(phone.welcome.you.name, "Camille", "the brand's first name");
    assert_eq!(phone.welcome.pass, None, "an account needs no pass");
    phone.command_with_id("phone-vote", VOTE).await;
    let again = laptop.command_with_id("laptop-vote", VOTE).await;
    let ServerFrame::Error(again) = again else {
        panic!("{again:?}")
    };
    assert_eq!(again.message, "you already voted in this poll");
    assert_eq!(close_poll(&mut host).await, (vec![1, 0], 1));

    // Another account is another viewer.
    let other = brand_token(BRAND_SECRET, "acct-9999", "Camille", in_an_hour());
    let other = hub.join(hello_with_token(&hub, "Camille", &other)).await;
    assert_ne!(viewer_id(&other), viewer_id(&phone));

    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    ines.ack(Command::Ban {
        viewer_id: viewer_id(&phone),
        reason: "spam".into(),
    })
    .await;
    // A fresh token for the account, on a third device: still banned.
    let fresh = brand_token(BRAND_SECRET, "acct-1234", "Camille", in_an_hour() + 60);
    let refused = hub
        .try_join(hello_with_token(&hub, "Camille", &fresh))
        .await
        .err()
        .expect("the ban follows the account");
    assert_eq!(refused.error_code(), Some(ErrorCode::Banned));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_forged_or_unexpected_brand_tokens_are_refused_at_hello() {
    let hub = brand_hub().await;
    let expired = brand_token(
        BRAND_SECRET,
        "acct-1",
        "Camille",
        regie::now_millis() / 1000 - 10,
    );
    let refused = hub
        .try_join(hello_with_token(&hub, "Camille", &expired))
        .await
        .err()
        .expect("expired");
    assert_eq!(refused.error_code(), Some(ErrorCode::TokenExpired));
    assert_eq!(refused.code, Some(close_code(CloseCode::Unauthorized)));
    assert!(
        refused.message().contains("expired"),
        "{}",
        refused.message()
    );

    let forged = brand_token(
        b"not-the-brand-secret-at-all-no-no",
        "acct-1",
        "C",
        in_an_hour(),
    );
    let refused = hub
        .try_join(hello_with_token(&hub, "Camille", &forged))
        .await
        .err()
        .expect("forged");
    assert_eq!(refused.error_code(), Some(ErrorCode::TokenInvalid));
    hub.stop().await;

    // A hub with no brand secret takes no token.
    let plain = TestHub::start().await;
    let token = brand_token(BRAND_SECRET, "acct-1", "Camille", in_an_hour());
    let refused = plain
        .try_join(hello_with_token(&plain, "Camille", &token))
        .await
        .err()
        .expect("no secret, no token");
    assert_eq!(refused.error_code(), Some(ErrorCode::TokenInvalid));
    plain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_identities_are_budgeted_per_address_once_loopback_is_not_exempt() {
    let hub = TestHub::start_with(|c| {
        c.viewers.exempt_loopback = false;
        c.viewers.new_identities_per_minute = 2;
    })
    .await;
    let first = hub.join(hello_with_pass(&hub, "Un", None)).await;
    let pass = issued_pass(&first);
    hub.join(hello_with_pass(&hub, "Deux", None)).await;
    let refused = hub
        .try_join(hello_with_pass(&hub, "Trois", None))
        .await
        .err()
        .expect("over the budget");
    assert_eq!(refused.error_code(), Some(ErrorCode::RateLimited));
    assert!(
        refused
            .message()
            .contains("too many new viewers from your address"),
        "{}",
        refused.message()
    );
    // A forged pass is a new identity too; a kept one costs nothing.
    let refused = hub
        .try_join(hello_with_pass(&hub, "Trois", Some("p1.forged.pass")))
        .await
        .err()
        .expect("over the budget");
    assert_eq!(refused.error_code(), Some(ErrorCode::RateLimited));
    let back = hub.join(hello_with_pass(&hub, "Un", Some(&pass))).await;
    assert_eq!(viewer_id(&back), viewer_id(&first));
    hub.stop().await;
}

/// Says a new viewer's hello through a connection whose request carries
/// `X-Forwarded-For: forwarded_for`; the first frame the hub answers with.
async fn first_answer_via(hub: &TestHub, forwarded_for: &str) -> ServerFrame {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = hub.url.as_str().into_client_request().expect("a request");
    request.headers_mut().insert(
        "x-forwarded-for",
        forwarded_for.parse().expect("a header value"),
    );
    let (mut ws, _) = tokio::time::timeout(
        support::hub::TIMEOUT,
        tokio_tungstenite::connect_async(request),
    )
    .await
    .expect("connect in time")
    .expect("connect");
    let hello = regie::protocol::ClientFrame::Hello(hello_with_pass(hub, "Proxy", None));
    support::client::send_json(&mut ws, &hello).await;
    match support::client::read_frame(&mut ws).await {
        support::client::Incoming::Frame(frame) => frame,
        support::client::Incoming::Closed(code) => panic!("closed with {code:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_budget_counts_the_forwarded_address() {
    let budget = |trusted: bool| {
        move |c: &mut regie::hub::HubConfig| {
            c.viewers.exempt_loopback = false;
            c.viewers.new_identities_per_minute = 1;
            if trusted {
                c.viewers.trusted_proxies = vec!["127.0.0.1".parse().expect("an IP")];
            }
        }
    };
    let hub = TestHub::start_with(budget(true)).await;
    let welcomed = |f: &ServerFrame| matches!(f, ServerFrame::Welcome(_));
    let refused =
        |f: &ServerFrame| matches!(f, ServerFrame::Error(e) if e.code == ErrorCode::RateLimited);
    let first = first_answer_via(&hub, "198.51.100.7").await;
    assert!(welcomed(&first), "{first:?}");
    let again = first_answer_via(&hub, "198.51.100.7, 127.0.0.1").await;
    assert!(refused(&again), "{again:?}");
    let other = first_answer_via(&hub, "203.0.113.9").await;
    assert!(
        welcomed(&other),
        "another viewer behind the proxy: {other:?}"
    );
    hub.stop().await;

    // From a peer that is not a trusted proxy, the header is the client's
    // word: ignored, the peer's own address is counted.
    let hub = TestHub::start_with(budget(false)).await;
    let first = first_answer_via(&hub, "198.51.100.7").await;
    assert!(welcomed(&first), "{first:?}");
    let spoofed = first_answer_via(&hub, "203.0.113.9").await;
    assert!(refused(&spoofed), "{spoofed:?}");
    hub.stop().await;
}
