//! Moderation rules per live, end to end: a real hub on 127.0.0.1:0, real
//! WebSocket clients, the hub's clock moved by hand (no sleeps). Block,
//! hold and flag; rules added, removed, listed and tested over the wire;
//! expiry on the live's clock; rules that survive a restart; and no
//! viewer frame ever carrying a rule's pattern.

mod support;

use std::path::Path;

use futures_util::StreamExt;
use regie::hub::moderation::DefaultRule;
use regie::protocol::{
    ChatEntry, ClientFrame, Command, ErrorCode, Event, HoldReason, RuleAction, RuleFiring,
    RuleType, RuleView, ServerFrame, StaffRole, Visibility,
};
use regie::store::{AuditRecord, SqliteStore, Store};
use support::client::{Client, Ws, send_json, text_of};
use support::hub::{LIVE, ManualClock, TIMEOUT, TestHub};
use tokio_tungstenite::tungstenite::Message;

fn say(text: &str) -> Command {
    Command::Say {
        text: text.into(),
        question: false,
        announcement: false,
    }
}

fn add(kind: RuleType, pattern: &str, action: RuleAction) -> Command {
    Command::RuleAdd {
        kind,
        pattern: pattern.into(),
        action,
        expires_in_secs: None,
    }
}

/// Adds a rule and returns it as the `rule_added` event carried it.
async fn add_rule(staff: &mut Client, command: Command) -> RuleView {
    let seq = staff.ack(command).await.expect("a rule_added event");
    match staff.event_at(seq).await.event {
        Event::RuleAdded { rule } => rule,
        other => panic!("expected rule_added, got {other:?}"),
    }
}

async fn rules(staff: &mut Client) -> Vec<RuleView> {
    match staff.command(Command::Rules).await {
        ServerFrame::Rules { rules, .. } => rules,
        other => panic!("expected a rules frame, got {other:?}"),
    }
}

async fn rule_test(staff: &mut Client, text: &str) -> Vec<RuleFiring> {
    match staff.command(Command::RuleTest { text: text.into() }).await {
        ServerFrame::RuleTest { firings, .. } => firings,
        other => panic!("expected a rule_test frame, got {other:?}"),
    }
}

/// A viewer reading raw text frames, as a player would: what it is sent,
/// before any parsing could drop a field.
struct RawViewer {
    ws: Ws,
    frames: Vec<String>,
}

impl RawViewer {
    async fn join(hub: &TestHub, first_name: &str) -> RawViewer {
        let mut ws = hub.raw().await;
        send_json(&mut ws, &ClientFrame::Hello(hub.viewer_hello(first_name))).await;
        let mut viewer = RawViewer {
            ws,
            frames: Vec::new(),
        };
        viewer.until(|f| f.contains(r#""type":"welcome""#)).await;
        viewer
    }

    /// Reads until a frame satisfies `done`; keeps every frame.
    async fn until(&mut self, done: impl Fn(&str) -> bool) {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("a frame in time");
            if let Some(Ok(Message::Text(t))) = next {
                let t = t.to_string();
                let stop = done(&t);
                self.frames.push(t);
                if stop {
                    return;
                }
            } else if !matches!(next, Some(Ok(Message::Ping(_) | Message::Pong(_)))) {
                panic!("the hub closed the viewer: {next:?}");
            }
        }
    }

    /// Reads until the message `text` arrives (posted after what the test
    /// wants to be sure this viewer has been sent, or not).
    async fn until_message(&mut self, text: &str) {
        let quoted = format!("\"text\":\"{text}\"");
        self.until(|f| f.contains(&quoted)).await;
    }

    fn saw(&self, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        self.frames
            .iter()
            .any(|f| f.to_lowercase().contains(&needle))
    }
}

fn audit_log(data_dir: &Path) -> Vec<AuditRecord> {
    let mut store = SqliteStore::open(data_dir).expect("open the hub's store");
    store.open_live(LIVE).expect("open the hub's live");
    store.audit_log(LIVE).expect("read the audit log")
}

/// Every chat text the stopped hub's store holds.
fn stored_texts(data_dir: &Path) -> Vec<String> {
    let mut store = SqliteStore::open(data_dir).expect("open the hub's store");
    store.open_live(LIVE).expect("open the hub's live");
    store
        .snapshot(LIVE, 1000)
        .expect("a snapshot")
        .recent
        .into_iter()
        .filter_map(|e| match e {
            ChatEntry::Message(m) => Some(m.text),
            ChatEntry::Redacted(_) => None,
        })
        .collect()
}

async fn hub_without_defaults() -> TestHub {
    TestHub::start_with(|c| c.blocked_terms.clear()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_added_by_a_moderator_blocks_the_next_message_and_only_the_sender_hears() {
    let hub = hub_without_defaults().await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer("Julie").await;
    let mut marc = RawViewer::join(&hub, "Marc").await;

    // Before the rule, the word passes.
    julie.say("avant: arnaque ?").await;
    marc.until_message("avant: arnaque ?").await;

    let rule = add_rule(&mut ines, add(RuleType::Term, "arnaq*", RuleAction::Block)).await;
    assert_eq!(rule.action, RuleAction::Block);
    assert_eq!(
        rule.created_by.and_then(|a| a.name).as_deref(),
        Some("Inès")
    );

    // Folded spellings are blocked; the sender is told, without the term.
    for text in ["c'est une ARNAQUE", "arn4que totale", "ＡＲＮＡＱＵＥＵＲ"] {
        let refused = julie.refused(say(text)).await;
        assert_eq!(refused.code, ErrorCode::Blocked, "{text}");
        assert!(!refused.temporary);
        assert!(
            !refused.message.to_lowercase().contains("arnaq"),
            "{}",
            refused.message
        );
    }
    julie.say("fin du test").await;
    marc.until_message("fin du test").await;
    let seen = ines.wait_event(|e| text_of(e) == Some("fin du test")).await;
    assert!(seen.seq > 0);

    // Nobody else saw them: neither a viewer nor staff, and nothing stored.
    for text in ["c'est une ARNAQUE", "arn4que totale"] {
        assert!(!marc.saw(text), "a viewer received {text:?}");
        assert!(
            ines.events.iter().all(|e| text_of(&e.event) != Some(text)),
            "staff received {text:?}"
        );
    }
    let dir = hub.stop().await.expect("the hub's temp dir");
    let texts = stored_texts(dir.path());
    assert!(texts.iter().any(|t| t == "fin du test"), "{texts:?}");
    assert!(
        texts
            .iter()
            .all(|t| !t.contains("ARNAQUE") && !t.contains("arn4que")),
        "{texts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_message_reaches_viewers_only_after_release() {
    let hub = hub_without_defaults().await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer("Julie").await;
    let mut marc = hub.viewer("Marc").await;
    let rule = add_rule(
        &mut ines,
        add(RuleType::Regex, r"\bpromo\w*", RuleAction::Hold),
    )
    .await;

    let seq = julie.say("code PROMOTION ici").await;
    let held = ines.event_at(seq).await;
    let Event::Message { message } = held.event else {
        panic!("expected the held message, got {held:?}");
    };
    // Staff see why: the rule that held it, by the id `rules` lists.
    assert_eq!(
        message.visibility,
        Visibility::Held {
            reason: HoldReason::RegexRule,
            rule_id: Some(rule.rule_id),
        }
    );
    julie.say("ligne suivante").await;
    marc.wait_event(|e| text_of(e) == Some("ligne suivante"))
        .await;
    assert!(
        marc.events
            .iter()
            .all(|e| text_of(&e.event) != Some("code PROMOTION ici")),
        "a viewer saw a held message"
    );

    ines.ack(Command::Release {
        message_id: message.id,
    })
    .await;
    let released = marc
        .wait_event(|e| matches!(e, Event::Released { .. }))
        .await;
    assert_eq!(text_of(&released.event), Some("code PROMOTION ici"));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flagged_message_reaches_viewers_unmarked_and_staff_marked() {
    let hub = hub_without_defaults().await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut sophie = hub.staff(StaffRole::Host, "Sophie").await;
    let mut julie = hub.viewer("Julie").await;
    let mut marc = RawViewer::join(&hub, "Marc").await;
    let rule = add_rule(
        &mut ines,
        add(RuleType::Term, "livraison", RuleAction::Flag),
    )
    .await;

    let seq = julie.say("la livraison est lente").await;
    marc.until_message("la livraison est lente").await;
    julie.say("après").await;
    marc.until_message("après").await;

    // Staff get the message and, right behind it, the mark.
    for staff in [&mut ines, &mut sophie] {
        let message = staff.event_at(seq).await;
        assert!(matches!(
            &message.event,
            Event::Message { message } if message.visibility == Visibility::Visible
        ));
        let flagged = staff.event_at(seq + 1).await;
        match flagged.event {
            Event::MessageFlagged {
                message_id,
                rule_id,
                kind,
            } => {
                assert_eq!(rule_id, rule.rule_id);
                assert_eq!(kind, RuleType::Term);
                let Event::Message { message: m } = &message.event else {
                    unreachable!()
                };
                assert_eq!(message_id, m.id);
            }
            other => panic!("expected message_flagged, got {other:?}"),
        }
    }
    // The viewer got the message as any other, never the mark.
    assert!(!marc.saw("message_flagged"));
    assert!(!marc.saw("rule_id"));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_that_expires_stops_applying_and_staff_are_told() {
    let clock = ManualClock::new();
    let t0 = clock.now();
    let time = clock.clock();
    let hub = TestHub::start_with(move |c| {
        c.clock = time;
        c.blocked_terms.clear();
    })
    .await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer("Julie").await;
    let rule = add_rule(
        &mut ines,
        Command::RuleAdd {
            kind: RuleType::Term,
            pattern: "soldes".into(),
            action: RuleAction::Block,
            expires_in_secs: Some(3600),
        },
    )
    .await;
    assert_eq!(rule.expires_at, Some(t0 + 3_600_000));

    clock.set(t0 + 3_599_000);
    let refused = julie.refused(say("les soldes !")).await;
    assert_eq!(refused.code, ErrorCode::Blocked);

    clock.set(t0 + 3_600_000);
    // The hub's clock tick announces it, to staff, without `by`.
    let removed = ines
        .wait_event(|e| matches!(e, Event::RuleRemoved { .. }))
        .await;
    assert_eq!(
        removed.event,
        Event::RuleRemoved {
            rule_id: rule.rule_id,
            by: None
        }
    );
    julie.say("les soldes !").await;
    assert!(rules(&mut ines).await.is_empty());

    let dir = hub.stop().await.expect("the hub's temp dir");
    let log = audit_log(dir.path());
    let expired = log
        .iter()
        .find(|r| r.entry.action == "rule_expired")
        .expect("the expiry is audited");
    assert_eq!(expired.entry.actor_name, "hub");
    assert_eq!(expired.entry.target, format!("rule {}", rule.rule_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_regex_is_refused_with_the_parsers_message_and_a_huge_one_by_its_size() {
    let hub = hub_without_defaults().await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let bad = "(gratuit";
    let refused = ines
        .refused(add(RuleType::Regex, bad, RuleAction::Hold))
        .await;
    assert_eq!(refused.code, ErrorCode::Invalid);
    let parser = regex::Regex::new(bad)
        .expect_err("unclosed group")
        .to_string();
    assert!(
        refused.message.contains(&parser),
        "{:?} does not carry {parser:?}",
        refused.message
    );
    let refused = ines
        .refused(add(RuleType::Regex, r"\w{1000}\w{1000}", RuleAction::Hold))
        .await;
    assert!(
        refused.message.contains("size limit"),
        "{}",
        refused.message
    );
    let refused = ines
        .refused(add(
            RuleType::LinkPolicy,
            "pas un domaine!",
            RuleAction::Hold,
        ))
        .await;
    assert_eq!(refused.code, ErrorCode::Invalid);
    // Nothing was added.
    assert!(rules(&mut ines).await.is_empty());
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_never_see_a_rules_pattern_in_any_frame_nor_the_welcome() {
    let hub = hub_without_defaults().await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let mut julie = hub.viewer("Julie").await;
    let mut marc = RawViewer::join(&hub, "Marc").await;
    let secret = "zorglubtruc";
    let rule = add_rule(&mut ines, add(RuleType::Term, secret, RuleAction::Hold)).await;
    add_rule(
        &mut ines,
        add(RuleType::Regex, "bidulechose\\d+", RuleAction::Flag),
    )
    .await;
    let firings = rule_test(&mut ines, "un Zorglubtruc ici").await;
    assert_eq!(firings.len(), 1);
    ines.ack(Command::RuleRemove {
        rule_id: rule.rule_id,
    })
    .await;
    julie.say("tout est calme").await;
    marc.until_message("tout est calme").await;
    // A viewer joining after the changes gets a welcome without them.
    let late = RawViewer::join(&hub, "Léa").await;

    for viewer in [&marc, &late] {
        for needle in [secret, "bidulechose", "rule_added", "rule_removed"] {
            assert!(!viewer.saw(needle), "a viewer frame carries {needle:?}");
        }
    }
    // Staff saw both changes; the audit names rules by id, never by pattern.
    ines.wait_event(|e| matches!(e, Event::RuleRemoved { .. }))
        .await;
    let dir = hub.stop().await.expect("the hub's temp dir");
    let log = audit_log(dir.path());
    let actions: Vec<&str> = log.iter().map(|r| r.entry.action.as_str()).collect();
    assert!(
        actions.contains(&"rule_add") && actions.contains(&"rule_remove"),
        "{actions:?}"
    );
    for r in &log {
        assert!(!r.entry.reason.contains(secret) && !r.entry.target.contains(secret));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_test_says_which_rule_fires_and_on_what_and_stores_nothing() {
    let hub = hub_without_defaults().await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let flag = add_rule(&mut ines, add(RuleType::Term, "nul", RuleAction::Flag)).await;
    let block = add_rule(&mut ines, add(RuleType::Term, "arnaque", RuleAction::Block)).await;
    let links = add_rule(
        &mut ines,
        add(RuleType::LinkPolicy, "none", RuleAction::Hold),
    )
    .await;
    let head = ines.position().seq;

    let text = "c'est nul, une Arnaqué sur promo.example.com";
    let firings = rule_test(&mut ines, text).await;
    // The deciding rule first (block wins), then the others by position.
    let ids: Vec<u32> = firings.iter().map(|f| f.rule_id).collect();
    assert_eq!(ids, [block.rule_id, flag.rule_id, links.rule_id]);
    assert_eq!(firings[0].matched, "Arnaqué");
    assert_eq!(&text[firings[0].start..firings[0].end], "Arnaqué");
    assert_eq!(firings[2].kind, RuleType::LinkPolicy);
    assert_eq!(firings[2].matched, "promo.example.com");
    assert!(rule_test(&mut ines, "tout va bien").await.is_empty());

    // Nothing was posted: the next event follows the last rule change.
    let mut julie = hub.viewer("Julie").await;
    let seq = julie.say("bonjour").await;
    assert_eq!(seq, head + 1);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_start_from_the_brand_defaults_and_survive_a_restart() {
    let defaults = || {
        vec![DefaultRule {
            kind: RuleType::Regex,
            pattern: r"\b\d{2}€".into(),
            action: RuleAction::Block,
        }]
    };
    let hub = TestHub::start_with(move |c| {
        c.blocked_terms = vec!["idiot".into()];
        c.default_rules = defaults();
    })
    .await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    let listed = rules(&mut ines).await;
    let shown: Vec<(RuleType, &str, RuleAction)> = listed
        .iter()
        .map(|r| (r.kind, r.pattern.as_str(), r.action))
        .collect();
    assert_eq!(
        shown,
        [
            (RuleType::Term, "idiot", RuleAction::Hold),
            (RuleType::Regex, r"\b\d{2}€", RuleAction::Block),
        ]
    );
    assert!(listed.iter().all(|r| r.created_by.is_none()));
    let mut julie = hub.viewer("Julie").await;
    assert_eq!(
        julie.refused(say("vendu 20€")).await.code,
        ErrorCode::Blocked
    );

    // A moderator removes a default and adds a rule; a restart keeps both.
    ines.ack(Command::RuleRemove {
        rule_id: listed[1].rule_id,
    })
    .await;
    let added = add_rule(&mut ines, add(RuleType::Term, "escroc", RuleAction::Block)).await;
    let before = rules(&mut ines).await;
    let dir = hub.stop().await.expect("the hub's temp dir");

    let hub = TestHub::start_in(dir.path(), move |c| {
        c.blocked_terms = vec!["idiot".into()];
        c.default_rules = defaults();
    })
    .await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;
    assert_eq!(rules(&mut ines).await, before);
    let mut julie = hub.viewer("Julie").await;
    assert_eq!(
        julie.refused(say("quel escroc")).await.code,
        ErrorCode::Blocked
    );
    julie.say("vendu 20€").await;
    // Ids keep counting after a restart.
    let next = add_rule(&mut ines, add(RuleType::Term, "voleur", RuleAction::Hold)).await;
    assert!(next.rule_id > added.rule_id);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_moderators_and_admins_may_read_or_change_the_rules() {
    let hub = hub_without_defaults().await;
    let mut alex = hub.staff(StaffRole::Admin, "Alex").await;
    let rule = add_rule(&mut alex, add(RuleType::Term, "x", RuleAction::Hold)).await;
    let mut sophie = hub.staff(StaffRole::Host, "Sophie").await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut julie = hub.viewer("Julie").await;
    let commands = [
        add(RuleType::Term, "y", RuleAction::Block),
        Command::RuleRemove {
            rule_id: rule.rule_id,
        },
        Command::Rules,
        Command::RuleTest { text: "x".into() },
    ];
    for client in [&mut sophie, &mut sam, &mut julie] {
        for command in &commands {
            let e = client.refused(command.clone()).await;
            assert_eq!(e.code, ErrorCode::Forbidden, "{command:?}");
        }
    }
    assert_eq!(rules(&mut alex).await, [rule]);
    hub.stop().await;
}

/// `regie serve --config` on the real binary: the brand file's `[rules]`
/// are what a new live starts with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_brand_files_rules_are_the_new_lives_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("brand.toml");
    std::fs::write(
        &file,
        "[rules]\nhold_terms = []\nblock_terms = [\"arnaq*\"]\nlinks = \"none\"\n\
         link_action = \"block\"\n",
    )
    .expect("write the brand file");
    let data = dir.path().join("data");
    let file = file.display().to_string();
    let mut serve = support::binary::Served::start(&data, "warn", &["--config", &file]);
    let serving = loop {
        let line = serve
            .line(TIMEOUT)
            .expect("serve says it serves before it stops");
        if line.contains("serving") {
            break line;
        }
    };
    let url = serving
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .expect("an address")
        .to_owned();
    let mut julie = Client::try_join(&url, support::client::viewer_hello(LIVE, "Julie"))
        .await
        .unwrap_or_else(|c| panic!("refused: {:?}", c.code));
    for text in ["une Arnaque", "voir www.evil.io"] {
        assert_eq!(
            julie.refused(say(text)).await.code,
            ErrorCode::Blocked,
            "{text}"
        );
    }
    // The starter hold list was replaced by the file's empty one.
    let seq = julie.say("quel idiot").await;
    assert_eq!(julie.event_at(seq).await.seq, seq, "delivered to viewers");
    drop(julie);
    serve.interrupt();
    let exit = serve.wait(TIMEOUT).expect("serve exits");
    assert!(exit.success(), "{exit:?}");
}
