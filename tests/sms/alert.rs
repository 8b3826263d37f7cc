//! The alert end to end: who gets it, what it says, retries, restarts.

use regie::protocol::{Command, ConsentChannel, ConsentPurpose, SmsScope};

use crate::kit::{self, NIGHT};
use crate::standin::StandIn;
use crate::support::hub::TestHub;

const LEA: &str = "+33612345601";
const HUGO: &str = "+33612345602";
const ZOE: &str = "+33612345603";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_consenting_subscriber_gets_exactly_one_sms_with_their_merge_tags_and_nobody_else() {
    let standin = StandIn::start().await;
    let hub = TestHub::start_with(kit::tweak(&standin)).await;
    kit::announce(&hub).await;
    // Two subscribers, one typing the number in national form.
    let lea = kit::subscriber(&hub, "Léa", "06 12 34 56 01", SmsScope::Live).await;
    let _hugo = kit::subscriber(&hub, "Hugo", "+33 6 12 34 56 02", SmsScope::Brand).await;
    // Inès gives a phone without the consent text the hub offered: refused,
    // and nothing of hers is stored.
    let mut ines = kit::viewer(&hub, "Inès").await;
    let refused = ines
        .refused(Command::SmsSubscribe {
            scope: SmsScope::Live,
            phone: "06 12 34 56 04".into(),
            channel: ConsentChannel::Player,
            text_sha256: "ab".repeat(32),
        })
        .await;
    assert!(
        refused.message.contains("consent text"),
        "{}",
        refused.message
    );
    assert_eq!(
        kit::sealed_phone(&hub.data_dir, &kit::viewer_id(&ines)),
        None
    );
    // Not a number: refused clearly.
    let refused = ines.refused(kit::subscribe("06 12", SmsScope::Live)).await;
    assert!(
        refused.message.contains("not a valid number"),
        "{}",
        refused.message
    );
    // Zoé subscribes, then withdraws her consent before the live.
    let mut zoe = kit::subscriber(&hub, "Zoé", "06 12 34 56 03", SmsScope::Live).await;
    zoe.ack(Command::Consent {
        purpose: ConsentPurpose::SmsReminders,
        granted: false,
        channel: ConsentChannel::Player,
        text_sha256: regie::hub::consent_texts::ConsentTexts::default()
            .sha256(ConsentPurpose::SmsReminders)
            .expect("the SMS consent text"),
        contact: regie::protocol::Contact::default(),
    })
    .await;
    // Nothing leaves while the live is only scheduled.
    assert!(kit::progress(&hub.data_dir).is_none());
    assert!(kit::sealed_phone(&hub.data_dir, &kit::viewer_id(&lea)).is_some());

    kit::start_night(&hub).await;
    let done = kit::alert_done(&hub.data_dir).await;
    assert_eq!(
        (done.sent, done.failed, done.uncertain),
        (2, 0, 0),
        "{done:?}"
    );

    let accepted = standin.accepted();
    assert_eq!(accepted.len(), 2, "{accepted:?}");
    for (to, name) in [(LEA, "Léa"), (HUGO, "Hugo")] {
        let got = standin.to(to);
        assert_eq!(got.len(), 1, "{name}: {got:?}");
        assert_eq!(got[0].body, kit::expected_alert(name));
        assert_eq!(got[0].from, kit::SENDER);
        assert_eq!(got[0].recipients, 1, "one recipient per message");
    }
    assert!(
        standin.to(ZOE).is_empty(),
        "a withdrawn consent gets nothing"
    );
    // No message carries another recipient's number, nor a raw tag.
    for m in &accepted {
        for n in [LEA, HUGO, ZOE, "0612345601", "0612345602"] {
            assert!(!m.body.contains(n), "{m:?}");
        }
        assert!(!m.body.contains('{'), "{m:?}");
    }
    // The hub's default live, on air since the hub started (never
    // announced, nobody could subscribe to it first), got no alert row:
    // the sender has passed over it on every poll until NIGHT's.
    let alerted: Vec<String> = kit::db(&hub.data_dir)
        .prepare("SELECT l.name FROM sms_alerts a JOIN lives l ON l.id = a.live_id")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("the alerts");
    assert_eq!(alerted, vec![NIGHT.to_owned()]);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_answers_429_and_5xx_are_retried_until_the_message_goes_once() {
    let standin = StandIn::start().await;
    standin.busy_first(&[429, 503, 429]);
    let hub = TestHub::start_with(kit::tweak(&standin)).await;
    kit::announce(&hub).await;
    let _lea = kit::subscriber(&hub, "Léa", "06 12 34 56 01", SmsScope::Live).await;
    kit::start_night(&hub).await;
    let done = kit::alert_done(&hub.data_dir).await;
    assert_eq!((done.sent, done.failed), (1, 0), "{done:?}");
    assert_eq!(
        standin.requests(),
        4,
        "three busy answers, then the message"
    );
    let got = standin.to(LEA);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, kit::expected_alert("Léa"));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_keeps_failing_fails_the_message_after_its_attempts() {
    let standin = StandIn::start().await;
    standin.busy_first(&[500; 20]);
    let tweak = kit::tweak(&standin);
    let hub = TestHub::start_with(move |c| {
        tweak(c);
        c.sms.max_attempts = 3;
    })
    .await;
    kit::announce(&hub).await;
    let _lea = kit::subscriber(&hub, "Léa", "06 12 34 56 01", SmsScope::Live).await;
    kit::start_night(&hub).await;
    let done = kit::alert_done(&hub.data_dir).await;
    assert_eq!((done.sent, done.failed), (0, 1), "{done:?}");
    assert_eq!(standin.requests(), 3);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_restarted_mid_send_sends_nobody_a_second_message() {
    let standin = StandIn::start().await;
    // The third message is received, then its answer hangs: the hub stops
    // in the middle of that call.
    standin.hold(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = TestHub::start_in(dir.path(), kit::tweak(&standin)).await;
    kit::announce(&hub).await;
    let phones: Vec<String> = (1..=6).map(|i| format!("+3361234560{i}")).collect();
    let mut viewers = Vec::new();
    for (i, phone) in phones.iter().enumerate() {
        viewers.push(kit::subscriber(&hub, &format!("Viewer{i}"), phone, SmsScope::Live).await);
    }
    kit::start_night(&hub).await;
    standin
        .wait("three messages", |s| s.accepted().len() == 3)
        .await;
    drop(viewers);
    hub.stop().await;
    standin.release();

    let hub = TestHub::start_in(dir.path(), kit::tweak(&standin)).await;
    let done = kit::alert_done(dir.path()).await;
    // The interrupted one is not sent again: at most once beats twice.
    assert_eq!(
        (done.sent, done.uncertain, done.failed),
        (5, 1, 0),
        "{done:?}"
    );
    for phone in &phones {
        assert_eq!(standin.to(phone).len(), 1, "{phone}: exactly one message");
    }
    assert_eq!(standin.accepted().len(), 6);
    hub.stop().await;
    // The alert is queued once per live, whatever the restarts.
    let db = kit::db(dir.path());
    let rows: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM sms_outbox o JOIN lives l ON l.id = o.live_id WHERE l.name = ?1",
            [NIGHT],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(rows, 6);
}
