//! The viewer page's HTTP surface (issue 11, Contract B) on a real hub:
//! each route's status, content type and security headers, the HTML's
//! hygiene (no inline script, style or handler), `info.json`'s opt-ins,
//! texts, hashes and privacy section against the hub's configuration, the
//! compressed page weight, and the consent command's check of the text a
//! viewer saw. The page's behaviour in a browser is `tests/browser_*`.

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use regie::brand::{BrandConfig, BrandError};
use regie::hub::HubConfig;
use regie::protocol::{Command, ConsentChannel, ConsentPurpose, Contact, ErrorCode, StaffRole};
use regie::store::DB_FILE;
use support::hub::{TIMEOUT, TestHub};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a `GET` answered: status, headers (lowercase names), raw body.
struct Got {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// `GET path` with extra request header lines, over a plain socket so the
/// bytes on the wire are what is measured (no client decompresses them).
async fn get_with(hub: &TestHub, path: &str, extra: &str) -> Got {
    let fut = async {
        let mut tcp = TcpStream::connect(hub.addr).await.expect("connect");
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{extra}Connection: close\r\n\r\n",
            hub.addr
        );
        tcp.write_all(req.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        tcp.read_to_end(&mut buf).await.expect("read");
        buf
    };
    let raw = tokio::time::timeout(TIMEOUT, fut)
        .await
        .expect("answered in time");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = raw[split + 4..].to_vec();
    assert!(
        !headers
            .get("transfer-encoding")
            .is_some_and(|t| t.contains("chunked")),
        "the page is served with a length, not chunked"
    );
    Got {
        status,
        headers,
        body,
    }
}

async fn get(hub: &TestHub, path: &str) -> Got {
    get_with(hub, path, "").await
}

/// The `src` of the page's script and the `href` of its style sheet.
fn asset_paths(html: &str) -> (String, String) {
    let attr = |tag: &str, name: &str| {
        let start = html.find(tag).expect("the tag") + tag.len();
        let rest = &html[start..];
        let at = rest.find(&format!("{name}=\"")).expect("the attribute") + name.len() + 2;
        rest[at..at + rest[at..].find('"').expect("a closing quote")].to_owned()
    };
    (
        attr("<script", "src"),
        attr("<link rel=\"stylesheet\"", "href"),
    )
}

fn sha256_hex(text: &str) -> String {
    // Computed here, not by the hub's helper.
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::new(), |mut hex, b| {
            use std::fmt::Write;
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// The policy the page must carry, with `ancestors` as its
/// `frame-ancestors`.
fn expected_csp(ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'none'; frame-ancestors {ancestors}"
    )
}

fn assert_secured(got: &Got, ancestors: &str, what: &str) {
    let csp = got.header("content-security-policy");
    assert_eq!(csp, expected_csp(ancestors), "{what}: the policy");
    for loophole in [
        "unsafe-inline",
        "unsafe-eval",
        "unsafe-hashes",
        "data:",
        "*",
    ] {
        assert!(
            !csp.replace("*.", "").contains(loophole),
            "{what}: {loophole} in {csp}"
        );
    }
    assert_eq!(got.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(got.header("referrer-policy"), "no-referrer", "{what}");
    assert!(
        !got.header("cache-control").is_empty(),
        "{what}: caching said"
    );
    assert!(got.header("set-cookie").is_empty(), "{what}: no cookie");
}

#[tokio::test]
async fn each_route_answers_with_its_status_type_and_caching() {
    let hub = TestHub::start().await;
    let page = get(&hub, &format!("/live/{}", hub.live)).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("cache-control"), "no-cache");
    let html = page.text();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<html lang=\"fr\">"), "the language is set");
    let (js, css) = asset_paths(&html);
    assert!(
        js.starts_with("/assets/page-") && Path::new(&js).extension().is_some_and(|e| e == "js"),
        "{js}"
    );
    assert!(
        css.starts_with("/assets/page-") && Path::new(&css).extension().is_some_and(|e| e == "css"),
        "{css}"
    );

    let script = get(&hub, &js).await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        script.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    let style = get(&hub, &css).await;
    assert_eq!(style.status, 200);
    assert_eq!(style.header("content-type"), "text/css; charset=utf-8");

    let info = get(&hub, &format!("/live/{}/info.json", hub.live)).await;
    assert_eq!(info.status, 200);
    assert_eq!(info.header("content-type"), "application/json");
    assert_eq!(info.header("cache-control"), "no-store");
    let doc = info.json();
    assert_eq!(doc["live"]["name"], hub.live.as_str());
    assert_eq!(doc["live"]["state"], "on_air");
    assert_eq!(doc["ws"], "/");
    assert_eq!(doc["page"]["max_messages"], 200);

    // The icon, so that no browser asks for a missing /favicon.ico.
    let needle = "<link rel=\"icon\" href=\"";
    let at = html.find(needle).expect("an icon link") + needle.len();
    let icon = &html[at..at + html[at..].find('"').expect("a quote")];
    let got = get(&hub, icon).await;
    assert_eq!(
        (got.status, got.header("content-type")),
        (200, "image/svg+xml")
    );

    // An asset name the hub did not make is no asset.
    let other = get(&hub, "/assets/page-000000000000.js").await;
    assert_eq!(other.status, 404);
    hub.stop().await;
}

#[tokio::test]
async fn every_page_response_carries_the_security_headers() {
    let hub = TestHub::start().await;
    let html = get(&hub, &format!("/live/{}", hub.live)).await;
    let (js, css) = asset_paths(&html.text());
    assert_secured(&html, "'self'", "the page");
    assert_secured(&get(&hub, &js).await, "'self'", "the script");
    assert_secured(&get(&hub, &css).await, "'self'", "the style");
    let info = get(&hub, &format!("/live/{}/info.json", hub.live)).await;
    assert_secured(&info, "'self'", "info.json");
    assert_secured(&get(&hub, "/live/no-such-live").await, "'self'", "404");
    hub.stop().await;
}

#[tokio::test]
async fn frame_ancestors_follow_the_brand_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("brand.toml");
    let checked = BrandConfig::parse(
        &file,
        "[page]\nframe_ancestors = [\"'self'\", \"https://shop.example.com\", \"https://*.example.fr:8443\"]\n",
    )
    .expect("a valid [page]");
    assert!(checked.warnings.is_empty());
    let ancestors = checked.config.page.frame_ancestors.clone();
    let hub = TestHub::start_with(move |c| c.page.frame_ancestors = ancestors).await;
    let wanted = "'self' https://shop.example.com https://*.example.fr:8443";
    let page = get(&hub, &format!("/live/{}", hub.live)).await;
    assert_secured(&page, wanted, "the page");
    let info = get(&hub, &format!("/live/{}/info.json", hub.live)).await;
    assert_secured(&info, wanted, "info.json");
    hub.stop().await;
}

#[test]
fn bad_page_and_consent_values_name_their_file_line_and_key() {
    let file = Path::new("/etc/regie/brand.toml");
    let cases = [
        (
            "[page]\nframe_ancestors = [\"https://a.com; script-src *\"]\n",
            2,
            "page.frame_ancestors",
        ),
        (
            "\n[page]\nframe_ancestors = []\n",
            3,
            "page.frame_ancestors",
        ),
        (
            "[page]\nframe_ancestors = \"'self'\"\n",
            2,
            "page.frame_ancestors",
        ),
        ("[page]\nmax_messages = 5\n", 2, "page.max_messages"),
        (
            "[page]\nclosing_message = \"  \"\n",
            2,
            "page.closing_message",
        ),
        (
            "[consent]\nmarketing = \"oui\u{202e}non\"\n",
            2,
            "consent.marketing",
        ),
        ("[consent]\nsms_reminders = 3\n", 2, "consent.sms_reminders"),
    ];
    for (text, line, key) in cases {
        match BrandConfig::parse(file, text) {
            Err(BrandError::Value { at, key: k, .. }) => {
                assert_eq!((at.line, k.as_str()), (line, key), "{text}");
                assert_eq!(at.file, file);
            }
            other => panic!("{text}: expected a value error, got {other:?}"),
        }
    }
    let ok = BrandConfig::parse(
        file,
        "[page]\nmax_messages = 50\nclosing_message = \"À demain !\"\n\
         [consent]\nmarketing = \"Je veux les offres.\"\nsms_reminders = \"Un SMS au prochain live.\"\n",
    )
    .expect("valid values");
    assert_eq!(ok.config.page.max_messages, 50);
    assert_eq!(ok.config.page.closing_message, "À demain !");
    assert_eq!(ok.config.consent.marketing, "Je veux les offres.");
    assert_eq!(ok.config.consent.sms_reminders, "Un SMS au prochain live.");
    assert!(ok.warnings.is_empty());
}

#[tokio::test]
async fn the_html_has_no_inline_script_style_or_handler() {
    let hub = TestHub::start().await;
    let html = get(&hub, &format!("/live/{}", hub.live)).await.text();
    let lower = html.to_ascii_lowercase();
    // Every script is an empty element naming its source.
    let mut scripts = 0;
    for (at, _) in lower.match_indices("<script") {
        scripts += 1;
        let tag_end = at + lower[at..].find('>').expect("a tag end");
        assert!(
            lower[at..tag_end].contains(" src=\"/assets/"),
            "{}",
            &html[at..tag_end]
        );
        assert!(
            lower[tag_end + 1..].starts_with("</script>"),
            "a script with a body"
        );
    }
    assert_eq!(scripts, 1);
    assert!(!lower.contains("<style"), "an inline style sheet");
    assert!(!lower.contains("style="), "a style attribute");
    assert!(!lower.contains("javascript:"), "a javascript: URL");
    // No event handler attribute (` onclick=`, ` onerror =` …).
    let bytes = lower.as_bytes();
    for (at, _) in lower.match_indices(" on") {
        let name: String = lower[at + 1..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        let after = lower[at + 1 + name.len()..].trim_start();
        let inside_tag = lower[..at].rfind('<') > lower[..at].rfind('>');
        assert!(
            !(inside_tag && after.starts_with('=')),
            "a handler attribute {name} at byte {at}: {}",
            String::from_utf8_lossy(&bytes[at.saturating_sub(40)..(at + 40).min(bytes.len())])
        );
    }
    hub.stop().await;
}

#[tokio::test]
async fn an_unknown_live_is_a_404_page() {
    let hub = TestHub::start().await;
    for path in [
        "/live/no-such-live",
        "/live/no-such-live/info.json",
        "/live/%2e%2e",
        "/live/..%2Fdraws",
        "/live/a%00b",
    ] {
        let got = get(&hub, path).await;
        assert_eq!(got.status, 404, "{path}");
        if got.header("content-type").starts_with("text/html") {
            assert!(got.text().contains("Live introuvable"), "{path}");
        }
        assert_secured(&got, "'self'", path);
    }
    hub.stop().await;
}

#[tokio::test]
async fn info_lists_only_offered_opt_ins_with_the_hashes_of_their_texts() {
    const SMS: &str = "Je veux un SMS quand le prochain live commence.";
    let hub = TestHub::start_with(|c| {
        c.settings.email_opt_in = false;
        c.settings.sms_alerts = true;
        SMS.clone_into(&mut c.consent.sms_reminders);
    })
    .await;
    let doc = get(&hub, &format!("/live/{}/info.json", hub.live))
        .await
        .json();
    let opt_ins = doc["opt_ins"].as_array().expect("a list");
    // The alert, and the offers by SMS after a live: two boxes, two
    // consents, both collecting a phone.
    assert_eq!(opt_ins.len(), 2, "{opt_ins:?}");
    let offered = |purpose: &str| {
        opt_ins
            .iter()
            .find(|o| o["purpose"] == purpose)
            .unwrap_or_else(|| panic!("{purpose} offered: {opt_ins:?}"))
    };
    let alert = offered("sms_reminders");
    assert_eq!(alert["collects"], "phone");
    assert_eq!(alert["text"], SMS);
    assert_eq!(alert["text_sha256"], sha256_hex(SMS).as_str());
    let offers = offered("sms_marketing");
    assert_eq!(offers["collects"], "phone");
    let text = offers["text"].as_str().expect("a text");
    assert_eq!(text, HubConfig::new("x", "/tmp").consent.sms_marketing);
    assert_eq!(offers["text_sha256"], sha256_hex(text).as_str());
    hub.stop().await;

    let hub = TestHub::start_with(|c| c.settings.sms_alerts = false).await;
    let doc = get(&hub, &format!("/live/{}/info.json", hub.live))
        .await
        .json();
    let opt_ins = doc["opt_ins"].as_array().expect("a list");
    assert_eq!(opt_ins.len(), 1, "{opt_ins:?}");
    assert_eq!(opt_ins[0]["purpose"], "marketing");
    assert_eq!(opt_ins[0]["collects"], "email");
    let text = opt_ins[0]["text"].as_str().expect("a text");
    assert_eq!(opt_ins[0]["text_sha256"], sha256_hex(text).as_str());
    assert_eq!(
        text,
        HubConfig::new("x", "/tmp").consent.marketing,
        "the default text"
    );
    hub.stop().await;
}

#[tokio::test]
async fn the_privacy_section_follows_the_brand_retention() {
    const DAY: u64 = 86_400;
    let hub = TestHub::start_with(|c| {
        c.retention.chat = Duration::from_secs(30 * DAY);
        c.retention.sms_reminders = Duration::from_secs(2 * DAY);
    })
    .await;
    let doc = get(&hub, &format!("/live/{}/info.json", hub.live))
        .await
        .json();
    let privacy = &doc["privacy"];
    assert_eq!(privacy["retention_secs"]["chat"], 30 * DAY);
    assert_eq!(privacy["retention_secs"]["sms_reminders"], 2 * DAY);
    let summary = privacy["summary"].to_string();
    assert!(summary.contains("30 jours"), "{summary}");
    assert!(summary.contains("2 jours"), "{summary}");
    assert!(summary.contains("regie.pass"), "the device pass is said");
    // The record of processing, in the brand's periods.
    let register = privacy["register"].as_array().expect("the register");
    assert_eq!(register.len(), regie::privacy::register::REGISTER.len());
    assert!(
        register
            .iter()
            .any(|f| f["kept"].as_str().is_some_and(|k| k.starts_with("30 days"))),
        "{register:?}"
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_scheduled_live_says_when_and_an_ended_one_its_closing_message() {
    let hub =
        TestHub::start_with(|c| "Fin du live, merci !".clone_into(&mut c.page.closing_message))
            .await;
    let mut admin = hub.staff(StaffRole::Admin, "Nadia").await;
    admin
        .ack(Command::LiveCreate {
            name: "soldes".into(),
            title: "Les soldes".into(),
            starts_at: Some(1_900_000_000_000),
        })
        .await;
    let doc = get(&hub, "/live/soldes/info.json").await.json();
    assert_eq!(doc["live"]["state"], "scheduled");
    assert_eq!(doc["live"]["title"], "Les soldes");
    assert_eq!(doc["live"]["starts_at"], 1_900_000_000_000_i64);
    assert!(doc["live"].get("closing_message").is_none());
    assert_eq!(get(&hub, "/live/soldes").await.status, 200);

    admin.ack(Command::LiveEnd).await;
    let doc = get(&hub, &format!("/live/{}/info.json", hub.live))
        .await
        .json();
    assert_eq!(doc["live"]["state"], "ended");
    assert_eq!(doc["live"]["closing_message"], "Fin du live, merci !");
    hub.stop().await;
}

#[tokio::test]
async fn the_compressed_page_weighs_under_60_kb() {
    const BUDGET: usize = 60 * 1024;
    let hub = TestHub::start().await;
    let gzip = "Accept-Encoding: gzip, deflate, br\r\n";
    let page = get_with(&hub, &format!("/live/{}", hub.live), gzip).await;
    let plain_html = get(&hub, &format!("/live/{}", hub.live)).await;
    let (js, css) = asset_paths(&plain_html.text());
    let info_path = format!("/live/{}/info.json", hub.live);
    let info = get_with(&hub, &info_path, gzip).await;
    let mut total = 0;
    for (got, path) in [
        (page, "page".to_owned()),
        (get_with(&hub, &js, gzip).await, js.clone()),
        (get_with(&hub, &css, gzip).await, css.clone()),
        (info, info_path.clone()),
    ] {
        assert_eq!(got.header("content-encoding"), "gzip", "{path}");
        assert_eq!(got.header("vary"), "Accept-Encoding", "{path}");
        assert_eq!(
            got.header("content-length"),
            got.body.len().to_string(),
            "{path}"
        );
        // What was sent is the asset, compressed.
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&got.body[..])
            .read_to_end(&mut unzipped)
            .expect("valid gzip");
        let plain = if path == "page" {
            plain_html.body.clone()
        } else {
            get(&hub, &path).await.body
        };
        assert_eq!(unzipped, plain, "{path}");
        total += got.body.len();
    }
    eprintln!("the page loads {total} bytes compressed (budget {BUDGET})");
    assert!(total <= BUDGET, "{total} bytes compressed");
    // A client that does not take gzip gets the plain bytes.
    let plain = get(&hub, &js).await;
    assert!(plain.header("content-encoding").is_empty());
    let refused = get_with(&hub, &js, "Accept-Encoding: gzip;q=0\r\n").await;
    assert!(refused.header("content-encoding").is_empty());
    assert_eq!(refused.body, plain.body);
    hub.stop().await;
}

fn consent(purpose: ConsentPurpose, granted: bool, sha: &str, contact: Contact) -> Command {
    Command::Consent {
        purpose,
        granted,
        channel: ConsentChannel::Player,
        text_sha256: sha.to_owned(),
        contact,
    }
}

/// The consents recorded in the store, as (purpose, granted, hash).
fn recorded(dir: &Path) -> Vec<(String, bool, String)> {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only");
    let mut stmt = db
        .prepare("SELECT purpose, granted, text_sha256 FROM consents ORDER BY rowid")
        .expect("a query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("read")
}

/// The hashes in the store's consent-text registry.
fn registry(dir: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only");
    let mut stmt = db
        .prepare("SELECT sha256 FROM consent_texts")
        .expect("a query");
    stmt.query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("read")
}

#[tokio::test]
async fn a_consent_is_recorded_only_for_a_text_the_hub_offered() {
    let hub = TestHub::start().await;
    let doc = get(&hub, &format!("/live/{}/info.json", hub.live))
        .await
        .json();
    let served = |purpose: &str| {
        doc["opt_ins"]
            .as_array()
            .expect("opt-ins")
            .iter()
            .find(|o| o["purpose"] == purpose)
            .and_then(|o| o["text_sha256"].as_str())
            .expect("offered")
            .to_owned()
    };
    let (marketing, sms) = (served("marketing"), served("sms_reminders"));
    let texts = registry(&hub.data_dir);
    assert!(
        texts.contains(&marketing) && texts.contains(&sms),
        "{texts:?}"
    );

    let mut lea = hub.viewer("Léa").await;
    let never = sha256_hex("a text no page showed");
    let email = Contact {
        phone: None,
        email: Some("lea@example.fr".into()),
    };
    let refused = lea
        .refused(consent(
            ConsentPurpose::Marketing,
            true,
            &never,
            email.clone(),
        ))
        .await;
    assert_eq!(refused.code, ErrorCode::Invalid);
    assert!(
        refused.message.contains("no consent text this hub offered"),
        "{}",
        refused.message
    );
    lea.ack(consent(ConsentPurpose::Marketing, true, &marketing, email))
        .await;
    lea.ack(consent(
        ConsentPurpose::SmsReminders,
        true,
        &sms,
        Contact {
            phone: Some("+33 6 47 19 83 52".into()),
            email: None,
        },
    ))
    .await;
    let refused = lea
        .refused(consent(
            ConsentPurpose::SmsReminders,
            false,
            &never,
            Contact::default(),
        ))
        .await;
    assert_eq!(refused.code, ErrorCode::Invalid);
    lea.ack(consent(
        ConsentPurpose::SmsReminders,
        false,
        &sms,
        Contact::default(),
    ))
    .await;
    let dir = hub.stop().await.expect("the hub's temp dir");
    assert_eq!(
        recorded(dir.path()),
        vec![
            ("marketing".to_owned(), true, marketing),
            ("sms_reminders".to_owned(), true, sms.clone()),
            ("sms_reminders".to_owned(), false, sms),
        ]
    );
}

#[tokio::test]
async fn an_earlier_text_still_in_the_registry_is_accepted_after_the_brand_changes_it() {
    const BEFORE: &str = "Version 1 : les offres par e-mail.";
    const AFTER: &str = "Version 2 : les offres et les nouveautés par e-mail.";
    let hub = TestHub::start_with(|c| BEFORE.clone_into(&mut c.consent.marketing)).await;
    let dir = hub.stop().await.expect("the hub's temp dir");
    let hub = TestHub::start_in(dir.path(), |c| AFTER.clone_into(&mut c.consent.marketing)).await;
    let doc = get(&hub, &format!("/live/{}/info.json", hub.live))
        .await
        .json();
    assert_eq!(
        doc["opt_ins"][0]["text"], AFTER,
        "the current text is served"
    );
    let mut lea = hub.viewer("Léa").await;
    for text in [BEFORE, AFTER] {
        lea.ack(consent(
            ConsentPurpose::Marketing,
            true,
            &sha256_hex(text),
            Contact::default(),
        ))
        .await;
    }
    let refused = lea
        .refused(consent(
            ConsentPurpose::Marketing,
            true,
            &sha256_hex("Version 3, never shown."),
            Contact::default(),
        ))
        .await;
    assert_eq!(refused.code, ErrorCode::Invalid);
    hub.stop().await;
    drop(dir);
}
