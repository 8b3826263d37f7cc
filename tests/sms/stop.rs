//! STOP end to end: signed webhooks withdraw the consent before the next
//! send; forged ones change nothing; replays change nothing twice.

use regie::protocol::SmsScope;
use regie::sms::webhook::OPT_OUT_ACTION;

use crate::kit;
use crate::standin::StandIn;
use crate::support::hub::TestHub;

const LEA: &str = "+33612345601";
const HUGO: &str = "+33612345602";

fn stop_from(from: &str, sid: &str) -> Vec<(&'static str, String)> {
    vec![
        ("MessageSid", sid.to_owned()),
        ("AccountSid", crate::standin::ACCOUNT.to_owned()),
        ("From", from.to_owned()),
        ("To", kit::SENDER.to_owned()),
        ("Body", " Stop. ".to_owned()),
    ]
}

fn borrowed<'a>(p: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    p.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn opt_outs(dir: &std::path::Path) -> Vec<regie::store::audit::AuditRecord> {
    regie::store::audit::read_log(&dir.join(regie::store::DB_FILE), kit::NIGHT)
        .expect("the audit log")
        .into_iter()
        .filter(|r| r.entry.action == OPT_OUT_ACTION)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_stop_suppresses_the_next_send_and_is_confirmed_once() {
    let standin = StandIn::start().await;
    let hub = TestHub::start_with(kit::tweak(&standin)).await;
    kit::announce(&hub).await;
    let lea = kit::subscriber(&hub, "Léa", "06 12 34 56 01", SmsScope::Brand).await;
    let hugo = kit::subscriber(&hub, "Hugo", "06 12 34 56 02", SmsScope::Live).await;
    let (lea_id, hugo_id) = (kit::viewer_id(&lea), kit::viewer_id(&hugo));

    // Forged: a wrong signature, then none at all. 403, nothing changes.
    let forged = stop_from(HUGO, "SMforged1");
    assert_eq!(
        kit::twilio_webhook(&hub, &borrowed(&forged), Some("bm90IGEgc2lnbmF0dXJl")).await,
        403
    );
    assert_eq!(
        kit::twilio_webhook(&hub, &borrowed(&forged), Some("")).await,
        403
    );
    // Signed for other parameters (a replay with the body changed).
    let url = format!("http://{}/webhooks/sms/twilio", hub.addr);
    let other: Vec<(String, String)> = stop_from(HUGO, "SMother")
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let stolen = regie::sms::signature::twilio_signature(
        crate::standin::AUTH_TOKEN.as_bytes(),
        &url,
        &other,
    );
    assert_eq!(
        kit::twilio_webhook(&hub, &borrowed(&forged), Some(&stolen)).await,
        403
    );
    assert_eq!(
        kit::sms_consents(&hub.data_dir, &hugo_id),
        vec![(true, "player".to_owned())]
    );
    assert!(kit::sealed_phone(&hub.data_dir, &hugo_id).is_some());

    // Signed: Léa's consent is withdrawn (channel sms), her phone gone.
    let stop = stop_from(LEA, "SMstop1");
    assert_eq!(kit::twilio_webhook(&hub, &borrowed(&stop), None).await, 200);
    standin
        .wait("the STOP confirmation", |s| !s.to(LEA).is_empty())
        .await;
    assert_eq!(
        standin.to(LEA)[0].body,
        "Maison Lina : Vous ne recevrez plus nos alertes SMS. STOP au 36111"
    );
    let withdrawn = vec![(true, "player".to_owned()), (false, "sms".to_owned())];
    assert_eq!(kit::sms_consents(&hub.data_dir, &lea_id), withdrawn);
    assert_eq!(kit::sealed_phone(&hub.data_dir, &lea_id), None);
    // Replayed (providers retry for a day): no second change, no second SMS.
    assert_eq!(kit::twilio_webhook(&hub, &borrowed(&stop), None).await, 200);
    assert_eq!(kit::sms_consents(&hub.data_dir, &lea_id), withdrawn);
    assert_eq!(opt_outs(&hub.data_dir).len(), 1);

    // The audit record names the viewer, never the number.
    let record = &opt_outs(&hub.data_dir)[0];
    assert_eq!(record.entry.target, lea_id.0);
    let shown = format!("{record:?}");
    for digits in ["612345601", "0612345601", "33612345601"] {
        assert!(!shown.contains(digits), "{shown}");
    }

    // The live starts: Hugo gets his alert, Léa nothing more.
    kit::start_night(&hub).await;
    let done = kit::alert_done(&hub.data_dir).await;
    assert_eq!(done.sent, 1, "{done:?}");
    assert_eq!(standin.to(HUGO).len(), 1);
    assert_eq!(standin.to(HUGO)[0].body, kit::expected_alert("Hugo"));
    assert_eq!(standin.to(LEA).len(), 1, "only the one confirmation");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_reports_are_stored_against_the_message_id_and_counted() {
    let standin = StandIn::start().await;
    let hub = TestHub::start_with(kit::tweak(&standin)).await;
    kit::announce(&hub).await;
    let _lea = kit::subscriber(&hub, "Léa", "06 12 34 56 01", SmsScope::Live).await;
    kit::start_night(&hub).await;
    kit::alert_done(&hub.data_dir).await;
    let sid: String = kit::db(&hub.data_dir)
        .query_row("SELECT provider_id FROM sms_outbox", [], |r| r.get(0))
        .expect("the message id");
    let report = [
        ("MessageSid", sid.as_str()),
        ("MessageStatus", "delivered"),
        ("To", LEA),
    ];
    assert_eq!(kit::twilio_webhook(&hub, &report, Some("AAAA")).await, 403);
    assert_eq!(kit::progress(&hub.data_dir).expect("counts").delivered, 0);
    assert_eq!(kit::twilio_webhook(&hub, &report, None).await, 200);
    let p = kit::progress(&hub.data_dir).expect("counts");
    assert_eq!((p.sent, p.delivered), (1, 1), "{p:?}");
    hub.stop().await;
}
