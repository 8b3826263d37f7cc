//! Retention: a phone collected for one live's alert is deleted right
//! after it, from the files too; a viewer who asked for the brand's next
//! lives keeps theirs.

use regie::protocol::SmsScope;

use crate::kit;
use crate::standin::StandIn;
use crate::support::forensics;
use crate::support::hub::{TestHub, wait_until};

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_for_one_alert_is_gone_from_the_data_dir_after_it() {
    let standin = StandIn::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = TestHub::start_in(dir.path(), kit::tweak(&standin)).await;
    kit::announce(&hub).await;
    let lea = kit::subscriber(&hub, "Léa", "06 12 34 56 01", SmsScope::Live).await;
    let hugo = kit::subscriber(&hub, "Hugo", "06 12 34 56 02", SmsScope::Brand).await;
    let (lea_id, hugo_id) = (kit::viewer_id(&lea), kit::viewer_id(&hugo));
    let lea_seal = kit::sealed_phone(dir.path(), &lea_id).expect("Léa's sealed phone");
    let hugo_seal = kit::sealed_phone(dir.path(), &hugo_id).expect("Hugo's sealed phone");

    kit::start_night(&hub).await;
    kit::alert_done(dir.path()).await;
    wait_until("Léa's phone to be deleted", || async {
        kit::sealed_phone(dir.path(), &lea_id).is_none()
    })
    .await;
    drop((lea, hugo));
    hub.stop().await;

    // As an attacker with the data dir: neither the seal nor the number,
    // in any file, in any encoding.
    let files = forensics::files(dir.path());
    assert!(!files.is_empty());
    for (name, bytes) in &files {
        assert!(!contains(bytes, &lea_seal), "Léa's seal is still in {name}");
        for clear in ["+33612345601", "0612345601", "612345601"] {
            assert!(!contains(bytes, clear.as_bytes()), "{clear} in {name}");
            assert!(
                !contains(bytes, &forensics::utf16(clear)),
                "{clear} (UTF-16) in {name}"
            );
        }
    }
    // The scan does find what is still there: Hugo asked for the next lives.
    assert!(
        files.iter().any(|(_, b)| contains(b, &hugo_seal)),
        "Hugo's seal is kept"
    );
    let subs: Vec<String> = kit::db(dir.path())
        .prepare("SELECT viewer_id FROM sms_subscriptions")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("subscriptions");
    assert_eq!(subs, vec![hugo_id.0.clone()]);
}
