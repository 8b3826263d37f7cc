//! The `report` command on a real hub: staff who run shows (host, admin)
//! get a live's report from the hub's store, the same figures
//! `regie report` computes; pending while on air and for a minute after
//! the end, final after; moderators and support are refused, an unknown
//! live is `not_found`.

use regie::protocol::{Command, ErrorCode, ServerFrame, StaffRole};
use regie::report::{Report, Status};

use crate::support::hub::{ManualClock, TestHub};

async fn report_of(
    staff: &mut crate::support::client::Client,
    live: &str,
) -> Result<Report, ErrorCode> {
    match staff
        .command(Command::Report {
            live: live.to_owned(),
        })
        .await
    {
        ServerFrame::Report { report, .. } => Ok(*report),
        ServerFrame::Error(e) => Err(e.code),
        other => panic!("a report or an error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_who_run_shows_get_a_lives_report_from_the_hub() {
    let clock = ManualClock::new();
    let hub = TestHub::start_with(|c| {
        c.clock = clock.clock();
        c.report_k = regie::report::K::new(2).expect("valid k");
    })
    .await;
    // The hub's clock a moment past the live's start (the store's clock).
    clock.set(regie::now_millis() + 1000);
    let mut viewers = Vec::new();
    for name in ["Anna", "Berta", "Carla"] {
        let mut v = hub.viewer(name).await;
        v.say(&format!("bonjour de {name}")).await;
        viewers.push(v);
    }
    let mut host = hub.staff(StaffRole::Host, "Claire").await;

    // On air: pending, no final time yet; the viewers and their messages
    // counted (k = 2 from the hub's configuration publishes them).
    let on_air = report_of(&mut host, &hub.live).await.expect("a report");
    assert_eq!(on_air.status, Status::Pending { final_at: None });
    assert_eq!(on_air.k.get(), 2);
    assert_eq!(on_air.chat.messages, Some(3));
    assert_eq!(on_air.chat.chatters, Some(3));

    // Ended: pending for a minute, then final, with the same figures.
    assert!(matches!(
        host.command(Command::LiveEnd).await,
        ServerFrame::Ack { .. }
    ));
    let ended = report_of(&mut host, &hub.live).await.expect("a report");
    let Status::Pending {
        final_at: Some(final_at),
    } = ended.status
    else {
        panic!("pending after the end: {:?}", ended.status)
    };
    clock.set(final_at);
    let done = report_of(&mut host, &hub.live).await.expect("a report");
    assert_eq!(done.status, Status::Final);
    assert_eq!(done.chat.messages, Some(3));
    assert_eq!(done.audience.unique_viewers, Some(3));
    // Commerce waits for its attribution window.
    assert!(matches!(
        done.commerce.status,
        Status::Pending { final_at: Some(_) }
    ));

    // An admin may read it too; an unknown live is not found.
    let mut admin = hub.staff(StaffRole::Admin, "Zoe").await;
    assert_eq!(
        report_of(&mut admin, &hub.live).await.expect("a report"),
        done
    );
    assert_eq!(
        report_of(&mut admin, "no-such-live").await,
        Err(ErrorCode::NotFound)
    );
    // Moderators and support do not work with the brand's figures.
    for role in [StaffRole::Moderator, StaffRole::Support] {
        let mut other = hub.staff(role, "Sam").await;
        assert_eq!(
            report_of(&mut other, &hub.live).await,
            Err(ErrorCode::Forbidden),
            "{role:?}"
        );
    }
    drop(viewers);
    hub.stop().await;
}
