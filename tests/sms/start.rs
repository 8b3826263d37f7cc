//! START after a STOP, end to end: the number that sent STOP gets the
//! brand's next alerts again, under a new consent (channel `sms`); a
//! number the hub never had restores nothing.

use regie::protocol::SmsScope;
use regie::sms::resubscribe::OPT_IN_ACTION;

use crate::kit;
use crate::standin::StandIn;
use crate::support::hub::TestHub;

const LEA: &str = "+33612345601";
const STRANGER: &str = "+33612345699";

fn keyword(from: &str, sid: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("MessageSid", sid.to_owned()),
        ("AccountSid", crate::standin::ACCOUNT.to_owned()),
        ("From", from.to_owned()),
        ("To", kit::SENDER.to_owned()),
        ("Body", body.to_owned()),
    ]
}

async fn send(hub: &TestHub, params: &[(&'static str, String)]) -> u16 {
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    kit::twilio_webhook(hub, &borrowed, None).await
}

fn scopes(dir: &std::path::Path) -> Vec<String> {
    kit::db(dir)
        .prepare("SELECT scope FROM sms_subscriptions")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("subscriptions")
}

fn tombstones(dir: &std::path::Path) -> i64 {
    kit::db(dir)
        .query_row("SELECT count(*) FROM sms_stopped", [], |r| r.get(0))
        .expect("tombstones")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_after_stop_restores_the_brands_next_alerts_under_a_new_consent() {
    let standin = StandIn::start().await;
    let hub = TestHub::start_with(kit::tweak(&standin)).await;
    kit::announce(&hub).await;
    let lea = kit::subscriber(&hub, "Léa", "06 12 34 56 01", SmsScope::Live).await;
    let lea_id = kit::viewer_id(&lea);

    assert_eq!(send(&hub, &keyword(LEA, "SMstop", "STOP")).await, 200);
    standin
        .wait("the STOP reply", |s| s.to(LEA).len() == 1)
        .await;
    assert_eq!(kit::sealed_phone(&hub.data_dir, &lea_id), None);
    assert!(scopes(&hub.data_dir).is_empty());
    assert_eq!(tombstones(&hub.data_dir), 1);

    // A stranger's START: nothing to restore, the sign-up hint.
    assert_eq!(send(&hub, &keyword(STRANGER, "SMx", "start")).await, 200);
    standin
        .wait("the hint", |s| s.to(STRANGER).len() == 1)
        .await;
    assert!(standin.to(STRANGER)[0].body.contains("inscrivez-vous"));
    assert!(scopes(&hub.data_dir).is_empty());

    // Léa's START, then the same delivery again (a provider's retry).
    let start = keyword(LEA, "SMstart", "Start !");
    assert_eq!(send(&hub, &start).await, 200);
    assert_eq!(send(&hub, &start).await, 200);
    standin
        .wait("the START reply", |s| s.to(LEA).len() == 2)
        .await;
    assert!(
        standin.to(LEA)[1].body.contains("à nouveau nos alertes"),
        "{:?}",
        standin.to(LEA)[1].body
    );
    assert_eq!(
        kit::sms_consents(&hub.data_dir, &lea_id),
        vec![
            (true, "player".to_owned()),
            (false, "sms".to_owned()),
            (true, "sms".to_owned())
        ]
    );
    assert!(kit::sealed_phone(&hub.data_dir, &lea_id).is_some());
    assert_eq!(scopes(&hub.data_dir), vec!["brand".to_owned()]);
    assert_eq!(tombstones(&hub.data_dir), 0);
    let audits: Vec<_> =
        regie::store::audit::read_log(&hub.data_dir.join(regie::store::DB_FILE), kit::NIGHT)
            .expect("the audit log")
            .into_iter()
            .filter(|r| r.entry.action == OPT_IN_ACTION)
            .collect();
    assert_eq!(audits.len(), 1, "once, the retry changed nothing");
    assert_eq!(audits[0].entry.target, lea_id.0);
    assert!(!format!("{audits:?}").contains("612345601"));

    // The live starts: Léa gets her alert, once.
    kit::start_night(&hub).await;
    let done = kit::alert_done(&hub.data_dir).await;
    assert_eq!(done.sent, 1, "{done:?}");
    standin.wait("the alert", |s| s.to(LEA).len() == 3).await;
    assert_eq!(standin.to(LEA)[2].body, kit::expected_alert("Léa"));
    assert!(standin.to(STRANGER).len() == 1, "no alert for the stranger");
    // Brand-wide: her phone stays after this alert, for the next lives.
    assert!(kit::sealed_phone(&hub.data_dir, &lea_id).is_some());
    hub.stop().await;
}
