//! The crowd across a hub restart, a ban and with contact data, against the
//! real hub on 127.0.0.1:0. A restarted hub serves on the port the test
//! keeps ([`KeptPort`]), so the crowd's viewers reconnect to the same URL.
//! What the hub stored is counted from its database: every line the crowd
//! sent is posted once, by as many viewers as the crowd has.

mod support;

use std::path::Path;
use std::time::Duration;

use regie::crowd::{CrowdConfig, CrowdReport, LineMix, audience, run_crowd};
use regie::hub::HubConfig;
use regie::protocol::{Command, Event, MaskedContact, ServerFrame, StaffRole, ViewerId};
use support::client::{Client, staff_hello};
use support::hub::{KeptPort, TestHub, as_shipped};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

const LIVE: &str = "show";
/// Every wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(30);

fn hub_config(config: &mut HubConfig) {
    as_shipped(config);
    // The resent lines of a reconnect arrive together: no rate limit gets
    // in the way of counting them.
    config.settings.viewer_rate_per_sec = 1_000;
    config.settings.viewer_burst = 1_000;
}

/// Plain comments only: no line is held, so every line is a message.
fn crowd(url: &str, viewers: usize, lines: u64) -> CrowdConfig {
    CrowdConfig {
        viewers,
        rate: 40.0,
        // Shorter than the wait for its report: a crowd that lost its
        // viewers ends with a report saying so.
        duration: Duration::from_secs(40),
        seed: 7,
        max_lines: Some(lines),
        mix: LineMix {
            question_ratio: 0.0,
            abuse_ratio: 0.0,
            personal_data_ratio: 0.0,
        },
        ..CrowdConfig::new(url, LIVE)
    }
}

/// Runs `config` until its lines are sent, or until `stop` fires.
fn spawn_crowd(config: CrowdConfig, stop: oneshot::Receiver<()>) -> JoinHandle<CrowdReport> {
    tokio::spawn(async move {
        run_crowd(config, async {
            let _ = stop.await;
        })
        .await
        .expect("the crowd starts")
    })
}

async fn report_of(crowd: JoinHandle<CrowdReport>) -> CrowdReport {
    timeout(WAIT * 2, crowd)
        .await
        .expect("the crowd ends in time")
        .expect("the crowd task")
}

/// A staff client on `hub` with `role`.
async fn staff(hub: &TestHub, role: StaffRole) -> Client {
    let token = hub.token(role, "Staff");
    Client::try_join(&hub.url, staff_hello(LIVE, &token))
        .await
        .unwrap_or_else(|closed| panic!("staff refused: {:?}", closed.code))
}

/// Waits until `n` new viewer messages reached `client`; returns the
/// author of the last.
async fn viewer_messages(client: &mut Client, n: usize) -> ViewerId {
    let mut seen = 0;
    loop {
        let frame = timeout(WAIT, client.next_frame())
            .await
            .expect("a viewer's message in time");
        if let ServerFrame::Event(frame) = frame
            && let Event::Message { message } = frame.event
            && let Some(author) = message.author.viewer_id()
        {
            seen += 1;
            if seen == n {
                return author.clone();
            }
        }
    }
}

/// What the hub's store holds of viewers: (viewers who joined, chat
/// messages by viewers, viewer commands decided).
fn at_the_hub(data_dir: &Path) -> (u64, u64, u64) {
    let db = rusqlite::Connection::open(data_dir.join(regie::store::DB_FILE))
        .expect("open the hub's database");
    let count = |sql: &str| -> u64 {
        let n: i64 = db
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        u64::try_from(n).expect("a count")
    };
    (
        count("SELECT COUNT(*) FROM viewers"),
        count("SELECT COUNT(*) FROM messages WHERE author_kind = 'viewer'"),
        count("SELECT COUNT(*) FROM command_outcomes WHERE principal NOT LIKE 'staff:%'"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_keeps_its_viewers_across_a_hub_restart_and_posts_every_line_once() {
    const VIEWERS: usize = 8;
    const LINES: u64 = 120;
    let port = KeptPort::bind();
    let hub = TestHub::start_on(&port, LIVE, hub_config).await;
    let url = hub.url.clone();
    let mut watcher = staff(&hub, StaffRole::Moderator).await;
    let (_keep, never) = oneshot::channel();
    let crowd = spawn_crowd(crowd(&url, VIEWERS, LINES), never);

    // Restart once the crowd is chatting.
    viewer_messages(&mut watcher, 20).await;
    drop(watcher);
    let dir = hub.stop().await.expect("the hub owns its data dir");
    let hub = TestHub::restart(&port, LIVE, dir, hub_config).await;

    let report = report_of(crowd).await;
    let dir = hub.stop().await.expect("the hub owns its data dir");
    let (viewers, messages, commands) = at_the_hub(dir.path());

    assert_eq!(report.viewers_connected, VIEWERS, "{report}");
    assert!(
        report.disconnects.is_empty(),
        "no viewer was lost: {report}"
    );
    assert!(
        report.reconnects >= VIEWERS as u64,
        "every viewer came back: {report}"
    );
    assert_eq!(report.sent.total(), LINES, "{report}");
    assert_eq!(report.acked.total(), LINES, "every line acked: {report}");
    assert_eq!(report.unanswered + report.refused_total(), 0, "{report}");
    // At the hub: the same viewers (their keys kept), each line once.
    assert_eq!(viewers, VIEWERS as u64, "a reconnect is the same viewer");
    assert_eq!(messages, LINES, "every line posted exactly once");
    assert_eq!(commands, LINES, "every command decided once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_viewer_does_not_reconnect() {
    let hub = TestHub::start_live(LIVE, hub_config).await;
    let mut moderator = staff(&hub, StaffRole::Moderator).await;
    let (stop, stopped) = oneshot::channel();
    let crowd = spawn_crowd(crowd(&hub.url, 1, 1_000), stopped);

    let viewer = viewer_messages(&mut moderator, 1).await;
    let ban = Command::Ban {
        viewer_id: viewer,
        reason: "test".into(),
    };
    assert!(
        matches!(moderator.command(ban).await, ServerFrame::Ack { .. }),
        "the ban is acked"
    );
    // The hub lets the connection go once the viewer has read its close
    // (and answered it): only then is the crowd stopped, so the report has
    // seen the ban.
    support::hub::wait_until("the banned viewer to be gone", || async {
        hub.metric("regie_connections{role=\"viewer\"}").await == 0.0
    })
    .await;
    let _ = stop.send(());
    let report = report_of(crowd).await;
    hub.stop().await;

    assert_eq!(
        report.disconnects.get("banned"),
        Some(&1),
        "the viewer was cut as banned: {report}"
    );
    assert_eq!(
        report.reconnect_attempts, 0,
        "no try to come back: {report}"
    );
    assert_eq!(report.reconnects, 0, "{report}");
}

/// Support asks for the card of the crowd viewer who wrote first.
async fn card_contact(contact: bool) -> Option<MaskedContact> {
    let hub = TestHub::start_live(LIVE, hub_config).await;
    let mut support = staff(&hub, StaffRole::Support).await;
    let (stop, stopped) = oneshot::channel();
    let crowd = spawn_crowd(
        CrowdConfig {
            contact,
            ..crowd(&hub.url, 1, 1_000)
        },
        stopped,
    );
    let viewer = viewer_messages(&mut support, 1).await;
    let card = support
        .command(Command::ViewerCard {
            viewer_id: viewer.clone(),
        })
        .await;
    let _ = stop.send(());
    report_of(crowd).await;
    hub.stop().await;
    let ServerFrame::ViewerCard { card, .. } = card else {
        panic!("expected a viewer card, got {card:?}")
    };
    assert_eq!(card.viewer_id, viewer);
    card.contact
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_contact_option_support_sees_the_viewer_s_contact_masked() {
    // The crowd's one viewer, as the crowd builds it.
    let given = audience::audience(7, 1)[0].contact();
    let full_phone = given.phone.expect("a phone");
    let full_email = given.email.expect("an e-mail");

    let contact = card_contact(true).await;
    let contact = contact.expect("support sees contact data");
    let phone = contact.phone.expect("a masked phone");
    let email = contact.email.expect("a masked e-mail");
    assert_ne!(phone, full_phone, "the phone is masked");
    assert_ne!(email, full_email, "the e-mail is masked");
    // Written out by hand, not by the masker under test: the first viewer
    // (index 0) has the phone +33 6 00 00 00 00 and `NAME.0@example.fr`.
    assert_eq!(full_phone, "+33 6 00 00 00 00");
    assert_eq!(phone, "+33 6 •• •• •• 00");
    let initial = full_email.chars().next().expect("a name");
    assert_eq!(email, format!("{initial}•••@e•••.fr"));

    let none = card_contact(false).await;
    assert!(
        none.as_ref()
            .is_none_or(|c| c.phone.is_none() && c.email.is_none()),
        "without the option, no contact: {none:?}"
    );
}
