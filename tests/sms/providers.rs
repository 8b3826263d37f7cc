//! The alert through the other two providers, end to end: Brevo's
//! transactional SMS API (a stand-in checking the `api-key` header) and
//! the `file` provider (JSON lines, mode 0600).

use std::os::unix::fs::PermissionsExt;

use regie::protocol::SmsScope;
use regie::sms::{ProviderConfig, Secret};

use crate::kit;
use crate::standin::{BREVO_KEY, StandIn};
use crate::support::hub::{TestHub, wait_until};

const LEA: &str = "+33612345601";
const HUGO: &str = "+33612345602";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_goes_through_brevo_once_per_subscriber() {
    let standin = StandIn::start().await;
    let mut sms = kit::sms_config(&standin);
    sms.provider = ProviderConfig::Brevo {
        base_url: standin.url(),
        api_key: Secret::new(BREVO_KEY),
        sender: "MaisonLina".into(),
    };
    let hub = TestHub::start_with(move |c| {
        c.sms = sms;
        c.settings.sms_alerts = true;
    })
    .await;
    kit::announce(&hub).await;
    let _lea = kit::subscriber(&hub, "Léa", "06 12 34 56 01", SmsScope::Live).await;
    let _hugo = kit::subscriber(&hub, "Hugo", "06 12 34 56 02", SmsScope::Brand).await;
    kit::start_night(&hub).await;
    let done = kit::alert_done(&hub.data_dir).await;
    assert_eq!((done.sent, done.failed), (2, 0), "{done:?}");
    for (to, name) in [(LEA, "Léa"), (HUGO, "Hugo")] {
        let got = standin.to(to);
        assert_eq!(got.len(), 1, "{to}: {got:?}");
        assert_eq!(got[0].body, kit::expected_alert(name));
        assert_eq!(got[0].from, "MaisonLina");
        assert_eq!(got[0].recipients, 1);
    }
    // Brevo's numeric message ids are kept for its delivery reports.
    let ids: Vec<String> = kit::db(&hub.data_dir)
        .prepare("SELECT provider_id FROM sms_outbox ORDER BY provider_id")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("message ids");
    assert_eq!(ids, vec!["1".to_owned(), "2".to_owned()]);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_brevo_key_sends_nothing_and_fails_the_messages() {
    let standin = StandIn::start().await;
    let mut sms = kit::sms_config(&standin);
    sms.provider = ProviderConfig::Brevo {
        base_url: standin.url(),
        api_key: Secret::new("not-the-key"),
        sender: "MaisonLina".into(),
    };
    let hub = TestHub::start_with(move |c| {
        c.sms = sms;
        c.settings.sms_alerts = true;
    })
    .await;
    kit::announce(&hub).await;
    let _lea = kit::subscriber(&hub, "Léa", "06 12 34 56 01", SmsScope::Live).await;
    kit::start_night(&hub).await;
    let done = kit::alert_done(&hub.data_dir).await;
    assert_eq!((done.sent, done.failed), (0, 1), "{done:?}");
    assert!(standin.accepted().is_empty());
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_provider_writes_one_line_per_message_in_a_private_file() {
    let standin = StandIn::start().await;
    let out = tempfile::tempdir().expect("temp dir");
    let path = out.path().join("sms.jsonl");
    let mut sms = kit::sms_config(&standin);
    sms.provider = ProviderConfig::File { path: path.clone() };
    let hub = TestHub::start_with(move |c| {
        c.sms = sms;
        c.settings.sms_alerts = true;
    })
    .await;
    kit::announce(&hub).await;
    let _lea = kit::subscriber(&hub, "Léa", "06 12 34 56 01", SmsScope::Live).await;
    let _hugo = kit::subscriber(&hub, "Hugo", "06 12 34 56 02", SmsScope::Brand).await;
    kit::start_night(&hub).await;
    let done = kit::alert_done(&hub.data_dir).await;
    assert_eq!(done.sent, 2, "{done:?}");
    wait_until("both lines to be written", || async {
        std::fs::read_to_string(&path).is_ok_and(|t| t.lines().count() == 2)
    })
    .await;
    let text = std::fs::read_to_string(&path).expect("the file");
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    lines.sort_by_key(|l| l["to"].as_str().unwrap_or_default().to_owned());
    assert_eq!(lines[0]["to"], LEA);
    assert_eq!(lines[0]["body"], kit::expected_alert("Léa"));
    assert_eq!(lines[1]["to"], HUGO);
    assert_eq!(lines[1]["body"], kit::expected_alert("Hugo"));
    assert_ne!(lines[0]["reference"], lines[1]["reference"]);
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    assert!(standin.accepted().is_empty(), "nothing went to Twilio");
    hub.stop().await;
}
