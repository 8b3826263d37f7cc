//! `docs/protocol.md` cannot drift from the code: every JSON example is
//! parsed into the protocol types and serialised back to the very same
//! JSON, every frame type, command and event has an example, and the
//! permission, error-code and close-code tables match the code.

use std::collections::BTreeSet;

use regie::protocol::{
    ClientFrame, CloseCode, CommandKind, ErrorCode, Event, Role, ServerFrame, StaffRole,
    parse_client_frame, parse_server_frame, permissions,
};
use serde_json::Value;

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

const ALL_EVENTS: [&str; 16] = [
    "message",
    "released",
    "redacted",
    "hidden",
    "pinned",
    "unpinned",
    "question_answered",
    "viewer_timed_out",
    "viewer_banned",
    "viewers_online",
    "poll_opened",
    "poll_tally",
    "poll_closed",
    "instant_win_opened",
    "instant_win_entries",
    "instant_win_drawn",
];

const ALL_ERROR_CODES: [ErrorCode; 20] = [
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
            "reload",
            "event",
            "ack",
            "error",
            "viewer_card",
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
