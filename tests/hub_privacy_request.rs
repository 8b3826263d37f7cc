//! A viewer's own data-protection request (`privacy_request`): it lands in
//! the data dir's requests log with the viewer's id as its subject, where
//! support reads it (`rights_requests`, `regie privacy requests`); a repeat
//! while it is open logs nothing; staff may not send it.

mod support;

use regie::protocol::{
    Command, ErrorCode, PrivacyRequestKind, RightsRequest, ServerFrame, StaffRole,
};
use support::binary::run;
use support::client::Client;
use support::hub::TestHub;

fn viewer_id(client: &Client) -> String {
    client.welcome.you.viewer_id.clone().expect("a viewer id").0
}

fn ask(kind: PrivacyRequestKind) -> Command {
    Command::PrivacyRequest { kind }
}

/// The open requests of the log, as support's console gets them.
async fn open_requests(support: &mut Client) -> Vec<RightsRequest> {
    match support.command(Command::RightsRequests).await {
        ServerFrame::RightsRequests { requests, .. } => requests,
        other => panic!("expected the requests, got {other:?}"),
    }
}

/// `(kind, subject)` of each open request, sorted.
fn kinds_and_subjects(requests: &[RightsRequest]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = requests
        .iter()
        .map(|r| (r.kind.clone(), r.subject.clone()))
        .collect();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewers_request_reaches_support_once_with_their_id() {
    let hub = TestHub::start().await;
    let mut lea = hub.viewer("Léa").await;
    let mut marc = hub.viewer("Marc").await;
    let (lea_id, marc_id) = (viewer_id(&lea), viewer_id(&marc));

    assert_eq!(lea.ack(ask(PrivacyRequestKind::Access)).await, None);
    // Asked again (a second click, a reload): acked, not logged twice.
    assert_eq!(lea.ack(ask(PrivacyRequestKind::Access)).await, None);
    // The same command retried after a reconnect: the same answer.
    let retried = lea
        .command_with_id("privacy-1", ask(PrivacyRequestKind::Erase))
        .await;
    assert!(matches!(retried, ServerFrame::Ack { .. }), "{retried:?}");
    let again = lea
        .command_with_id("privacy-1", ask(PrivacyRequestKind::Erase))
        .await;
    assert!(matches!(again, ServerFrame::Ack { .. }), "{again:?}");
    marc.ack(ask(PrivacyRequestKind::Erase)).await;

    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let open = open_requests(&mut sam).await;
    let mut expected = vec![
        ("access".to_owned(), lea_id.clone()),
        ("erase".to_owned(), lea_id.clone()),
        ("erase".to_owned(), marc_id.clone()),
    ];
    expected.sort();
    assert_eq!(kinds_and_subjects(&open), expected);

    // `regie privacy requests` reads the same log.
    let data = hub.data_dir.to_str().expect("utf-8").to_owned();
    let listed =
        tokio::task::spawn_blocking(move || run(&["privacy", "requests", "--data", &data], &[]))
            .await
            .expect("the run ends");
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains(&lea_id), "{}", listed.stdout);
    assert!(listed.stdout.contains(&marc_id), "{}", listed.stdout);

    // Once support closed it, a new request is a new entry.
    let access_id = open
        .iter()
        .find(|r| r.kind == "access")
        .expect("Léa's access request")
        .id;
    let data = hub.data_dir.to_str().expect("utf-8").to_owned();
    let closed = tokio::task::spawn_blocking(move || {
        let id = access_id.to_string();
        run(
            &["privacy", "requests", "--data", &data, "--close", &id],
            &[],
        )
    })
    .await
    .expect("the run ends");
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    lea.ack(ask(PrivacyRequestKind::Access)).await;
    let reopened = open_requests(&mut sam).await;
    let lea_access: Vec<i64> = reopened
        .iter()
        .filter(|r| r.kind == "access" && r.subject == lea_id)
        .map(|r| r.id)
        .collect();
    assert_eq!(lea_access.len(), 1, "{reopened:?}");
    assert_ne!(lea_access[0], access_id, "a new entry, not the closed one");
    hub.stop().await;
}

#[tokio::test]
async fn staff_may_not_send_a_viewers_request() {
    let hub = TestHub::start().await;
    for role in [
        StaffRole::Host,
        StaffRole::Moderator,
        StaffRole::Support,
        StaffRole::Admin,
    ] {
        let mut staff = hub.staff(role, "Nadia").await;
        let refused = staff.refused(ask(PrivacyRequestKind::Erase)).await;
        assert_eq!(refused.code, ErrorCode::Forbidden, "{role}");
    }
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    assert!(open_requests(&mut sam).await.is_empty());
    hub.stop().await;
}
