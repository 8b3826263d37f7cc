//! Issue 13, "E-mail opt-ins for the brand's CRM", on the real binary
//! against a store a real hub wrote (and still serves from):
//! `regie privacy export-optins --purpose marketing` holds one row per
//! viewer whose marketing consent stands, with the proof (time, channel,
//! the hash of the text shown and when it was registered) and the e-mail
//! opened from the sealed store; withdrawn consents and other purposes are
//! not in it; the file is mode 0600 and never overwritten without
//! `--force`; CSV cells a spreadsheet would run as formulas are defused;
//! the export is audited without any address, and the store still holds
//! no address in clear.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use regie::protocol::{Command, ConsentChannel, ConsentPurpose, Contact, StaffRole};
use support::binary::{Ran, run};
use support::client::{Client, keyed_viewer_hello};
use support::forensics::{files, utf16};
use support::hub::TestHub;

const MARKETING_TEXT: &str = "J'accepte de recevoir par e-mail les offres de la marque.\n";
const LEA: &str = "lea.martin@example.fr";
/// Addresses a spreadsheet would run as formulas, valid for the hub.
const FORMULA: &str = "=HYPERLINK(\"http://evil.example\")@evil.example";
const PLUS: &str = "+cmd|'/C'!A0@evil.example";
const MINUS: &str = "-2+3@evil.example";
const WITHDRAWN: &str = "chloe.withdrew@example.fr";

fn regie(args: &[&str]) -> Ran {
    run(args, &[])
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn export(data: &Path, format: &str, out: &Path, force: bool) -> Ran {
    let mut args = vec![
        "privacy",
        "export-optins",
        "--data",
        path(data),
        "--purpose",
        "marketing",
        "--format",
        format,
        "--out",
        path(out),
        "--by",
        "Sam",
    ];
    if force {
        args.push("--force");
    }
    regie(&args)
}

async fn consent(
    client: &mut Client,
    purpose: ConsentPurpose,
    granted: bool,
    sha: &str,
    email: Option<&str>,
) {
    client
        .ack(Command::Consent {
            purpose,
            granted,
            channel: ConsentChannel::Player,
            text_sha256: sha.to_owned(),
            contact: Contact {
                phone: None,
                email: email.map(str::to_owned),
            },
        })
        .await;
}

/// Splits one RFC 4180 line (no line breaks inside cells here).
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    out.push(cell);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one story: consents, then the exports"
)]
async fn the_crm_export_holds_the_standing_opt_ins_with_their_proof() {
    // The brand's wording; the hub registers it in the store at start.
    let hub = TestHub::start_with(|c| c.consent.marketing = MARKETING_TEXT.into()).await;
    let data = hub.data_dir.clone();
    let live = hub.live.clone();
    let _host = hub.staff(StaffRole::Host, "Nadia").await;
    let sha = regie::hub::consent_texts::sha256_hex(MARKETING_TEXT);

    let before = regie::now_millis();
    let mut ids = Vec::new();
    for (name, email) in [
        ("Léa", LEA),
        ("Formule", FORMULA),
        ("Plus", PLUS),
        ("Moins", MINUS),
    ] {
        let mut viewer = hub.join(keyed_viewer_hello(&live, name, name)).await;
        ids.push(viewer.welcome.you.viewer_id.clone().expect("a viewer id").0);
        consent(
            &mut viewer,
            ConsentPurpose::Marketing,
            true,
            &sha,
            Some(email),
        )
        .await;
    }
    // Chloé opts in, then out: not a row, and her address is gone.
    let mut chloe = hub.join(keyed_viewer_hello(&live, "Chloé", "chloe")).await;
    let chloe_id = chloe.welcome.you.viewer_id.clone().expect("a viewer id").0;
    consent(
        &mut chloe,
        ConsentPurpose::Marketing,
        true,
        &sha,
        Some(WITHDRAWN),
    )
    .await;
    consent(&mut chloe, ConsentPurpose::Marketing, false, &sha, None).await;
    // Dan consents to prize contact only: not a marketing row.
    let mut dan = hub.join(keyed_viewer_hello(&live, "Dan", "dan")).await;
    let dan_id = dan.welcome.you.viewer_id.clone().expect("a viewer id").0;
    consent(
        &mut dan,
        ConsentPurpose::PrizeContact,
        true,
        &sha,
        Some("dan@example.fr"),
    )
    .await;
    let after = regie::now_millis();

    let out = tempfile::tempdir().expect("temp dir");
    let csv_path = out.path().join("optins.csv");
    let ran = export(&data, "csv", &csv_path, false);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout.contains("exported 4 marketing opt-ins"),
        "{}",
        ran.stdout
    );
    for secret in [LEA, FORMULA, WITHDRAWN] {
        assert!(!ran.stdout.contains(secret) && !ran.stderr.contains(secret));
    }
    let mode = std::fs::metadata(&csv_path)
        .expect("the export")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");

    let csv = std::fs::read_to_string(&csv_path).expect("read the CSV");
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    let header = cells(lines[0]);
    assert_eq!(
        header,
        [
            "email",
            "phone",
            "granted_at",
            "channel",
            "text_sha256",
            "text_registered_at",
            "purpose",
            "live",
            "viewer_id"
        ]
    );
    let rows: Vec<Vec<String>> = lines[1..].iter().map(|l| cells(l)).collect();
    assert_eq!(rows.len(), 4, "{csv}");
    let col = |name: &str| header.iter().position(|h| h == name).expect("a column");
    // One row per standing consent, in the order given, the address opened
    // and formula-like cells prefixed with a quote so they stay text.
    let want = [
        LEA.to_owned(),
        format!("'{FORMULA}"),
        format!("'{PLUS}"),
        format!("'{MINUS}"),
    ];
    for ((row, email), id) in rows.iter().zip(&want).zip(&ids) {
        assert_eq!(&row[col("email")], email);
        assert_eq!(row[col("phone")], "");
        assert_eq!(row[col("channel")], "player");
        assert_eq!(row[col("text_sha256")], sha);
        assert_eq!(row[col("purpose")], "marketing");
        assert_eq!(row[col("live")], live);
        assert_eq!(&row[col("viewer_id")], id);
        let at = humantime::parse_rfc3339(&row[col("granted_at")]).expect("an RFC 3339 time");
        let at = i64::try_from(
            at.duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_millis(),
        )
        .expect("millis");
        assert!(
            (before..=after).contains(&at),
            "{before} <= {at} <= {after}"
        );
        assert!(humantime::parse_rfc3339(&row[col("text_registered_at")]).is_ok());
    }
    // A raw formula never starts a cell.
    for line in &lines[1..] {
        for raw in line.split(',') {
            assert!(
                !raw.starts_with(['=', '+', '-', '@']),
                "{raw:?} in {line:?}"
            );
        }
    }
    for absent in [
        WITHDRAWN,
        "dan@example.fr",
        chloe_id.as_str(),
        dan_id.as_str(),
    ] {
        assert!(!csv.contains(absent), "{absent:?} is in the export:\n{csv}");
    }

    // JSON: the same rows, values as they are.
    let json_path = out.path().join("optins.json");
    let ran = export(&data, "json", &json_path, false);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let mode = std::fs::metadata(&json_path)
        .expect("the export")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("read")).expect("JSON");
    assert_eq!(doc["format"], "regie.optins-export.v1");
    assert_eq!(doc["purpose"], "marketing");
    let optins = doc["optins"].as_array().expect("optins");
    let emails: Vec<&str> = optins.iter().filter_map(|o| o["email"].as_str()).collect();
    assert_eq!(emails, [LEA, FORMULA, PLUS, MINUS]);
    assert!(
        optins
            .iter()
            .all(|o| o["text_sha256"] == sha.as_str() && o["channel"] == "player")
    );

    // Never overwritten without --force; with it, replaced and still 0600.
    std::fs::set_permissions(&csv_path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let refused = export(&data, "csv", &csv_path, false);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    let forced = export(&data, "csv", &csv_path, true);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let mode = std::fs::metadata(&csv_path)
        .expect("the export")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");

    // Audited: one record per export, naming who and the purpose, no address.
    let show = regie(&[
        "audit",
        "show",
        "--data",
        path(&data),
        "--live",
        &live,
        "--action",
        "export_optins",
    ]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    let records: Vec<&str> = show.stdout.lines().collect();
    assert_eq!(records.len(), 3, "{}", show.stdout);
    for record in &records {
        assert!(
            record.contains("Sam") && record.contains("marketing"),
            "{record}"
        );
    }
    for content in [LEA, FORMULA, PLUS, MINUS, WITHDRAWN, "example", "@"] {
        assert!(
            !show.stdout.contains(content),
            "the audit holds {content:?}: {}",
            show.stdout
        );
    }
    let verify = regie(&["audit", "verify", "--data", path(&data), "--live", &live]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);

    // As an attacker reading the data dir: no address in clear, in any file.
    let _kept = hub.stop().await;
    for (name, bytes) in files(&data) {
        for email in [LEA, FORMULA, WITHDRAWN, "dan@example.fr"] {
            for needle in [email.as_bytes().to_vec(), utf16(email)] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                    "{email:?} in {name}"
                );
            }
        }
    }
}

#[test]
fn a_missing_store_or_purpose_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("optins.csv");
    let ran = export(&dir.path().join("nowhere"), "csv", &out, false);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(!out.exists());
    let ran = regie(&[
        "privacy",
        "export-optins",
        "--data",
        path(dir.path()),
        "--purpose",
        "spam",
        "--out",
        path(&out),
    ]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(!out.exists());
}
