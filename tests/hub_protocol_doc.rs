//! `docs/protocol.md` cannot drift from the code: every JSON example is
//! parsed into the protocol types and serialised back to the very same
//! JSON, every frame type, command and event has an example, and the
//! permission, error-code and close-code tables match the code.

//!
//! The examples' values that the hub makes (epochs, masked contact data) and
//! what the doc says about refused first frames are checked against a real
//! hub.

mod support;

use std::collections::BTreeSet;

use regie::protocol::{
    ClientFrame, CloseCode, Command, CommandKind, ErrorCode, Event, Role, ServerFrame, StaffRole,
    ViewerId, parse_client_frame, parse_server_frame, permissions,
};
use serde_json::Value;
use support::client::{close_code, read_until_close, send_text};
use support::hub::TestHub;

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/protocol.md");
    std::fs::read_to_string(path).expect("docs/protocol.md exists")
}

fn json_blocks(doc: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```json") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "an unclosed ```json block");
    blocks
}

/// The section of the doc under `heading`, up to the next `## `.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("{heading} missing"));
    let rest = &doc[start + heading.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// Table rows of a section: cells without the outer pipes, header and
/// separator skipped.
fn rows(section: &str) -> Vec<Vec<String>> {
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .skip(1)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

/// The wire name must be the serde tag: checked below for every example.
fn event_name(e: &Event) -> &'static str {
    e.name()
}

const ALL_EVENTS: [&str; 36] = [
    "message",
    "released",
    "redacted",
    "viewer_erased",
    "hidden",
    "pinned",
    "unpinned",
    "question_answered",
    "question_reopened",
    "viewer_timed_out",
    "viewer_banned",
    "sanction_lifted",
    "slow_mode_changed",
    "delivery_changed",
    "viewer_rectified",
    "hold_notice",
    "viewers_online",
    "poll_opened",
    "poll_tally",
    "poll_closed",
    "poll_cleared",
    "instant_win_opened",
    "instant_win_entries",
    "instant_win_drawn",
    "rule_added",
    "rule_removed",
    "message_flagged",
    "shield_changed",
    "live_state",
    "product_added",
    "now_showing",
    "canned_added",
    "claimed",
    "claim_ended",
    "viewer_flagged",
    "viewer_unflagged",
];

const ALL_ERROR_CODES: [ErrorCode; 23] = [
    ErrorCode::BadFrame,
    ErrorCode::FrameTooLarge,
    ErrorCode::UnsupportedVersion,
    ErrorCode::NotJoined,
    ErrorCode::TokenInvalid,
    ErrorCode::TokenExpired,
    ErrorCode::WrongLive,
    ErrorCode::Forbidden,
    ErrorCode::NotFound,
    ErrorCode::Invalid,
    ErrorCode::EmptyMessage,
    ErrorCode::MessageTooLong,
    ErrorCode::RateLimited,
    ErrorCode::TimedOut,
    ErrorCode::Banned,
    ErrorCode::SlowConsumer,
    ErrorCode::IdleTimeout,
    ErrorCode::ShuttingDown,
    ErrorCode::Full,
    ErrorCode::Internal,
    ErrorCode::Blocked,
    ErrorCode::NotOffered,
    ErrorCode::LiveEnded,
];

#[test]
fn every_example_round_trips_exactly() {
    let doc = doc();
    let blocks = json_blocks(&doc);
    assert!(blocks.len() > 30, "only {} examples", blocks.len());
    for block in &blocks {
        let original: Value =
            serde_json::from_str(block).unwrap_or_else(|e| panic!("not JSON ({e}):\n{block}"));
        let kind = original["type"].as_str().expect("every frame has a type");
        let back = if kind == "hello" || kind == "command" {
            let frame = parse_client_frame(block.trim())
                .unwrap_or_else(|e| panic!("{}:\n{block}", e.message));
            serde_json::to_value(&frame).unwrap()
        } else {
            let frame =
                parse_server_frame(block.trim()).unwrap_or_else(|e| panic!("{e}:\n{block}"));
            serde_json::to_value(&frame).unwrap()
        };
        assert_eq!(
            back, original,
            "the example does not survive a round trip through the types"
        );
    }
}

#[test]
fn every_frame_command_and_event_has_an_example() {
    let doc = doc();
    let mut client = BTreeSet::new();
    let mut commands = BTreeSet::new();
    let mut server = BTreeSet::new();
    let mut events = BTreeSet::new();
    for block in json_blocks(&doc) {
        if let Ok(frame) = parse_client_frame(block.trim()) {
            match frame {
                ClientFrame::Hello(_) => client.insert("hello"),
                ClientFrame::Command(c) => {
                    commands.insert(c.command.name());
                    client.insert("command")
                }
            };
        } else {
            let frame = parse_server_frame(block.trim()).unwrap();
            if let ServerFrame::Event(e) = &frame {
                events.insert(event_name(&e.event));
            }
            server.insert(frame.name());
        }
    }
    assert_eq!(client, BTreeSet::from(["hello", "command"]));
    assert_eq!(
        server,
        BTreeSet::from([
            "welcome",
            "snapshot_page",
            "snapshot_end",
            "reload",
            "report",
            "event",
            "events",
            "ack",
            "error",
            "viewer_card",
            "viewer_export",
            "rights_requests",
            "rules",
            "rule_test",
            "staff_log",
            "history_search",
            "shield_review",
            "lives",
            "sms_segments",
            "sms_progress",
            "bye"
        ])
    );
    let all_commands: BTreeSet<&str> = CommandKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(commands, all_commands);
    assert_eq!(events, BTreeSet::from(ALL_EVENTS));
    // And the command table names each command once.
    let described: BTreeSet<String> = rows(section(&doc, "What each command does:"))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let expected: BTreeSet<String> = all_commands.iter().map(ToString::to_string).collect();
    assert_eq!(described, expected);
    // Sanity: every command name parses as a command type.
    for name in &all_commands {
        assert!(doc.contains(&format!("\"type\":\"{name}\"")), "{name}");
    }
}

#[test]
fn the_permission_table_is_the_one_the_hub_enforces() {
    let doc = doc();
    let roles = [
        Role::Viewer,
        Role::Staff(StaffRole::Host),
        Role::Staff(StaffRole::Moderator),
        Role::Staff(StaffRole::Support),
        Role::Staff(StaffRole::Admin),
    ];
    let table = rows(section(&doc, "## Permissions"));
    let documented: Vec<CommandKind> = table
        .iter()
        .map(|row| {
            CommandKind::from_name(&row[0]).unwrap_or_else(|| panic!("{} is not a command", row[0]))
        })
        .collect();
    assert_eq!(
        documented,
        CommandKind::ALL,
        "one row per command, in declaration order"
    );
    for (row, kind) in table.iter().zip(documented) {
        let name = &row[0];
        for (cell, role) in row[1..].iter().zip(roles) {
            let documented = match cell.as_str() {
                "yes" => true,
                "—" => false,
                other => panic!("unexpected cell {other:?} for {name}"),
            };
            assert_eq!(
                documented,
                permissions::allows(role, kind),
                "{name} for {}",
                permissions::role_name(role)
            );
        }
    }
}

#[test]
fn the_error_code_table_lists_every_code_and_its_temporariness() {
    let doc = doc();
    let table = rows(section(&doc, "## Error codes"));
    let mut seen = BTreeSet::new();
    for row in &table {
        let code: ErrorCode = serde_json::from_value(Value::String(row[0].clone()))
            .unwrap_or_else(|_| panic!("{} is not an error code", row[0]));
        assert_eq!(
            row[1] == "yes",
            code.is_temporary(),
            "temporary column for {code}"
        );
        seen.insert(code.as_str());
    }
    let all: BTreeSet<&str> = ALL_ERROR_CODES.iter().map(|c| c.as_str()).collect();
    assert_eq!(seen, all);
}

#[test]
fn the_close_code_table_lists_every_code() {
    let doc = doc();
    let table = rows(section(&doc, "## Close codes"));
    let documented: BTreeSet<u16> = table
        .iter()
        .map(|r| r[0].parse().expect("a numeric close code"))
        .collect();
    for code in &documented {
        assert!(
            CloseCode::from_code(*code).is_some(),
            "{code} is not a CloseCode"
        );
    }
    let all: BTreeSet<u16> = (1000..5000)
        .filter(|c| CloseCode::from_code(*c).is_some())
        .collect();
    assert_eq!(documented, all);
}

/// Every example parsed as JSON.
fn examples(doc: &str) -> Vec<Value> {
    json_blocks(doc)
        .iter()
        .map(|b| serde_json::from_str(b).expect("examples are JSON"))
        .collect()
}

/// Every string under the key `key`, at any depth.
fn strings_at<'a>(value: &'a Value, key: &str, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if k == key => out.push(s),
                    _ => strings_at(v, key, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| strings_at(v, key, out)),
        _ => {}
    }
}

/// What an epoch looks like, without its value: length and alphabet.
fn epoch_shape(epoch: &str) -> (usize, bool) {
    (
        epoch.len(),
        epoch
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_epochs_look_like_the_ones_the_hub_sends() {
    let doc = doc();
    let examples = examples(&doc);
    let mut epochs = Vec::new();
    for example in &examples {
        strings_at(example, "epoch", &mut epochs);
    }
    assert!(
        epochs.len() > 10,
        "only {} epochs in the examples",
        epochs.len()
    );
    let hub = TestHub::start().await;
    let julie = hub.viewer("Julie").await;
    let sent = epoch_shape(&julie.welcome.epoch.0);
    for epoch in epochs {
        assert_eq!(
            epoch_shape(epoch),
            sent,
            "the example epoch {epoch:?} is not shaped like {:?}",
            julie.welcome.epoch.0
        );
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_masked_phone_is_what_support_sees() {
    let doc = doc();
    let examples = examples(&doc);
    // The hello example with contact data, said to a real hub.
    let hello = examples
        .iter()
        .find(|e| e["type"] == "hello" && e["auth"]["contact"]["phone"].is_string())
        .expect("a hello example with a phone number");
    let documented = examples
        .iter()
        .find_map(|e| e["card"]["contact"]["phone"].as_str())
        .expect("a viewer_card example with a masked phone number");
    let hub = TestHub::start().await;
    let hello = match parse_client_frame(&hello.to_string()).expect("the example parses") {
        ClientFrame::Hello(hello) => hello,
        ClientFrame::Command(_) => unreachable!("the example is a hello"),
    };
    // Contact data is stored only under a consent it is collected for: the
    // consent example that carries a phone, said by the same viewer.
    let consent = examples
        .iter()
        .find(|e| e["command"]["type"] == "consent" && e["command"]["contact"]["phone"].is_string())
        .expect("a consent example with a phone number");
    let consent = match parse_client_frame(&consent.to_string()).expect("the example parses") {
        ClientFrame::Command(frame) => frame.command,
        ClientFrame::Hello(_) => unreachable!("the example is a command"),
    };
    let mut viewer = hub.join(hello).await;
    viewer.ack(consent).await;
    let viewer_id: ViewerId = viewer.welcome.you.viewer_id.clone().expect("a viewer id");
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let card = match sam.command(Command::ViewerCard { viewer_id }).await {
        ServerFrame::ViewerCard { card, .. } => card,
        other => panic!("expected a viewer card, got {other:?}"),
    };
    let card = serde_json::to_value(&card).expect("serialise");
    assert_eq!(
        card["contact"]["phone"].as_str(),
        Some(documented),
        "the doc's masked phone is not what the hub shows support"
    );
    hub.stop().await;
}

/// Says `first` as the first frame of a fresh connection; returns the
/// frames and the close code the hub answered with.
async fn first_frame_answer(hub: &TestHub, first: &str) -> (Vec<ServerFrame>, Option<u16>) {
    let mut ws = hub.raw().await;
    send_text(&mut ws, first).await;
    let closed = read_until_close(&mut ws).await;
    (closed.frames, closed.code)
}

fn only_error(frames: &[ServerFrame]) -> Option<ErrorCode> {
    match frames {
        [ServerFrame::Error(e)] => Some(e.code),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_first_frames_get_what_the_doc_says() {
    let doc = doc();
    let errors = rows(section(&doc, "## Error codes"));
    let when = |code: &str| {
        errors
            .iter()
            .find(|r| r[0] == code)
            .unwrap_or_else(|| panic!("{code} missing from the error table"))[2]
            .clone()
    };
    let hub = TestHub::start().await;

    // Oversized, as the first frame: an error (not a bye), then 1009.
    assert!(when("frame_too_large").contains("`error` when it is the first frame"));
    let huge = format!(
        r#"{{"type":"hello","version":1,"live":"show","auth":{{"kind":"viewer","first_name":"{}"}}}}"#,
        "a".repeat(70 * 1024)
    );
    let (frames, code) = first_frame_answer(&hub, &huge).await;
    assert_eq!(
        only_error(&frames),
        Some(ErrorCode::FrameTooLarge),
        "{frames:?}"
    );
    assert_eq!(code, Some(close_code(CloseCode::TooBig)));

    // No first_name at all: the frame is not a hello, `bad_frame`.
    assert!(when("bad_frame").contains("a hello without `first_name`"));
    let missing = r#"{"type":"hello","version":1,"live":"show","auth":{"kind":"viewer"}}"#;
    let (frames, code) = first_frame_answer(&hub, missing).await;
    assert_eq!(only_error(&frames), Some(ErrorCode::BadFrame), "{frames:?}");
    assert_eq!(code, Some(close_code(CloseCode::ProtocolError)));

    // A blank one: a hello with a bad value, `invalid`.
    assert!(when("invalid").contains("a blank first name"));
    let blank =
        r#"{"type":"hello","version":1,"live":"show","auth":{"kind":"viewer","first_name":"   "}}"#;
    let (frames, code) = first_frame_answer(&hub, blank).await;
    assert_eq!(only_error(&frames), Some(ErrorCode::Invalid), "{frames:?}");
    assert_eq!(code, Some(close_code(CloseCode::ProtocolError)));
    hub.stop().await;
}

/// Every list a `snapshot_page` can carry is shown in an example, so a new
/// list cannot ride in the pages undocumented.
#[test]
fn the_snapshot_page_examples_show_every_list() {
    let mut shown = BTreeSet::new();
    for block in json_blocks(&doc()) {
        let value: Value = serde_json::from_str(block.trim()).expect("JSON");
        if value["type"] == "snapshot_page"
            && let Some(fields) = value.as_object()
        {
            shown.extend(fields.keys().cloned());
        }
    }
    let names = [
        "polls",
        "instant_wins",
        "shared_names",
        "open_questions",
        "held",
        "recent",
        "activity",
        "claims",
        "flags",
    ];
    for name in ["type", "page"].into_iter().chain(names) {
        assert!(
            shown.contains(name),
            "no snapshot_page example shows {name}"
        );
    }
}
