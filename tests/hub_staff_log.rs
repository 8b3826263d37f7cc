//! The staff log against a real hub (issue 10): a staff command answered
//! to the sender with a page of the audit log, content-free as stored,
//! paged from the newest, filtered by staff member and action, refused to
//! hosts and viewers; and a console asks for it again after a reconnect.

mod support;

use regie::console::state::{Console, Effect, Msg, update};
use regie::protocol::{Command, ErrorCode, ServerFrame, StaffAction, StaffRole, ViewerId};
use support::client::Client;
use support::console::console;
use support::hub::TestHub;

fn page(before: Option<u64>, limit: u32, actor: Option<&str>, action: Option<&str>) -> Command {
    Command::StaffLog {
        before,
        limit,
        actor: actor.map(Into::into),
        action: action.map(Into::into),
    }
}

async fn read(staff: &mut Client, command: Command) -> (Vec<StaffAction>, Option<u64>) {
    match staff.command(command).await {
        ServerFrame::StaffLog {
            entries, before, ..
        } => (entries, before),
        other => panic!("expected a staff_log page, got {other:?}"),
    }
}

fn actions(entries: &[StaffAction]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|e| {
            (
                e.by.as_ref()
                    .and_then(|b| b.name.clone())
                    .unwrap_or_default(),
                format!("{} {}", e.action, e.target),
            )
        })
        .collect()
}

/// Five audited actions: Inès times Marc out, bans him, unbans him; Sam
/// and Karim each post.
async fn five_actions(hub: &TestHub) -> (Client, Client, ViewerId) {
    let marc = hub.viewer("Marc").await;
    let marc_id = marc.welcome.you.viewer_id.clone().expect("an id");
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut karim = hub.staff(StaffRole::Admin, "Karim").await;
    ines.ack(Command::Timeout {
        viewer_id: marc_id.clone(),
        seconds: 60,
        reason: "zq81 secret reason".into(),
    })
    .await;
    ines.ack(Command::Ban {
        viewer_id: marc_id.clone(),
        reason: "zq82".into(),
    })
    .await;
    ines.ack(Command::Unban {
        viewer_id: marc_id.clone(),
        reason: "zq83".into(),
    })
    .await;
    karim.say("zq84 bonsoir").await;
    sam.ack(Command::NoteAdd {
        viewer_id: marc_id.clone(),
        text: "zq85 note".into(),
    })
    .await;
    (ines, sam, marc_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_log_pages_from_the_newest_without_content() {
    let hub = TestHub::start().await;
    let (mut ines, _sam, marc_id) = Box::pin(five_actions(&hub)).await;
    let v = &marc_id.0;

    let (newest, before) = read(&mut ines, page(None, 2, None, None)).await;
    assert_eq!(
        actions(&newest),
        [
            ("Karim".into(), "say ".into()),
            ("Sam".into(), format!("note_add {v}")),
        ],
        "the two newest, oldest first"
    );
    let before = before.expect("older records exist");
    let (older, before) = read(&mut ines, page(Some(before), 2, None, None)).await;
    assert_eq!(
        actions(&older),
        [
            ("Inès".into(), format!("ban {v}")),
            ("Inès".into(), format!("unban {v}")),
        ]
    );
    let (oldest, before) = read(&mut ines, page(before, 2, None, None)).await;
    assert_eq!(actions(&oldest), [("Inès".into(), format!("timeout {v}"))]);
    assert_eq!(before, None, "nothing older");

    let all = serde_json::to_string(&[newest, older, oldest]).unwrap();
    assert!(
        !all.contains("zq8"),
        "a reason or a text reached the log: {all}"
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_log_filters_by_member_and_action_and_is_refused_to_hosts() {
    let hub = TestHub::start().await;
    let (mut ines, mut sam, marc_id) = Box::pin(five_actions(&hub)).await;
    let v = &marc_id.0;

    let (by_ines, _) = read(&mut sam, page(None, 50, Some("Inès"), None)).await;
    assert_eq!(by_ines.len(), 3);
    assert!(
        by_ines
            .iter()
            .all(|e| e.by.as_ref().and_then(|b| b.name.as_deref()) == Some("Inès"))
    );
    let (bans, before) = read(&mut ines, page(None, 50, None, Some("ban"))).await;
    assert_eq!(actions(&bans), [("Inès".into(), format!("ban {v}"))]);
    assert_eq!(before, None);
    let (both, _) = read(&mut ines, page(None, 50, Some("Sam"), Some("ban"))).await;
    assert!(both.is_empty());

    let mut host = hub.staff(StaffRole::Host, "Claire").await;
    let refused = host.refused(page(None, 50, None, None)).await;
    assert_eq!(refused.code, ErrorCode::Forbidden);
    let mut viewer = hub.viewer("Léa").await;
    let refused = viewer.refused(page(None, 50, None, None)).await;
    assert_eq!(refused.code, ErrorCode::Forbidden);
    let zero = ines.refused(page(None, 0, None, None)).await;
    assert_eq!(zero.code, ErrorCode::Invalid);
    hub.stop().await;
}

/// A console's welcome, fresh or after a reconnect, asks for the newest
/// page with the filter in force; the hub's page replaces the pane.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_asks_for_the_staff_log_again_after_each_welcome() {
    let hub = TestHub::start().await;
    let (mut ines, _sam, _marc) = Box::pin(five_actions(&hub)).await;
    let mut c: Console = console(StaffRole::Moderator);

    for round in 0..2 {
        let welcome = hub.staff(StaffRole::Moderator, "Inès").await.welcome;
        let effects = update(&mut c, Msg::Frame(ServerFrame::Welcome(Box::new(welcome))));
        let asked: Vec<_> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send(f) if matches!(f.command, Command::StaffLog { .. }) => Some(f.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(asked.len(), 1, "round {round}: {effects:?}");
        // The hub answers the console's own question.
        let answer = ines.command(asked[0].command.clone()).await;
        let ServerFrame::StaffLog {
            entries, before, ..
        } = answer
        else {
            panic!("{answer:?}")
        };
        update(
            &mut c,
            Msg::Frame(ServerFrame::StaffLog {
                id: asked[0].id.clone(),
                entries,
                before,
            }),
        );
        assert_eq!(c.activity.len(), 5, "round {round}");
        if round == 0 {
            c.activity.clear();
        }
    }
    hub.stop().await;
}
