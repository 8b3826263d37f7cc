//! What every `Store` must do, written against the trait only. Each store
//! implementation instantiates the suite at the bottom (`conformance!`), so
//! the SQLite and PostgreSQL stores run exactly these tests. The PostgreSQL
//! ones run against a real server (`REGIE_TEST_POSTGRES`, see
//! `support::postgres`), each in a fresh schema; without one they skip,
//! saying why (except under CI).

// The suite's functions are `#[test]` bodies that `conformance!` calls with
// each store; `allow-unwrap-in-tests` cannot see that through the macro.
#![allow(
    clippy::unwrap_used,
    reason = "test bodies, run by #[test] fns made by conformance!"
)]

mod support;

use regie::instant_win::{DrawRecord, Seed};
use regie::protocol::{
    Actor, ChatEntry, CommandId, ConsentChannel, ConsentPurpose, ConsentState, Contact, DrawView,
    Epoch, ErrorCode, Event, HoldReason, LiveInfo, LiveState, MessageId, PollView, RuleAction,
    RuleType, RuleView, Sanction, StaffRole, Visibility, Winner,
};
use regie::store::history::{HistoryPage, HistoryQuery};
use regie::store::{
    CommandOutcome, Commit, GameWrite, StaffLogQuery, Store, StoreError, ViewerRecord,
};
use support::store::*;

fn open<S: Store>(store: &mut S) -> Sequencer {
    Sequencer::new(&store.open_live(LIVE).unwrap())
}

pub fn a_new_live_starts_at_seq_zero_with_an_epoch<S: Store>(mut store: S) {
    let head = store.open_live(LIVE).unwrap();
    assert_eq!(head.head, 0);
    assert_eq!(head.last_message_id, 0);
    assert!(head.epoch.0.len() >= 16, "epoch {:?}", head.epoch);
    assert_eq!(store.open_live(LIVE).unwrap(), head);
    let other = store.open_live("other").unwrap();
    assert_ne!(other.epoch, head.epoch);
}

pub fn committed_events_replay_identically_and_in_order<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let m1 = viewer_message(1, 1, "Bonjour ! 👋", false);
    let m2 = viewer_message(2, 2, "Elle existe en 38 ?", true);
    let frames = vec![
        seq.frame(Event::Message {
            message: m1.clone(),
        }),
        seq.frame(Event::Message {
            message: m2.clone(),
        }),
        seq.frame(Event::ViewersOnline { count: 312 }),
        seq.frame(Event::Pinned {
            message_id: m2.id,
            by: moderator(),
        }),
    ];
    let batch: Vec<Commit> = frames.iter().cloned().map(Commit::event).collect();
    store.commit(LIVE, &batch).unwrap();

    assert_eq!(store.replay(LIVE, 0, 100).unwrap(), frames);
    assert_eq!(store.replay(LIVE, 2, 100).unwrap(), frames[2..].to_vec());
    assert_eq!(store.replay(LIVE, 0, 2).unwrap(), frames[..2].to_vec());
    assert!(store.replay(LIVE, 4, 100).unwrap().is_empty());
    let head = store.open_live(LIVE).unwrap();
    assert_eq!((head.head, head.last_message_id), (4, 2));
}

pub fn a_gap_or_a_wrong_epoch_is_refused_and_writes_nothing<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let good = seq.frame(Event::ViewersOnline { count: 1 });
    let mut gap = seq.frame(Event::ViewersOnline { count: 2 });
    gap.seq += 1;
    let err = store
        .commit(LIVE, &[Commit::event(good.clone()), Commit::event(gap)])
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SeqGap {
                head: 1,
                got: 3,
                ..
            }
        ),
        "{err}"
    );
    // The whole batch was rolled back: the good event is not there either.
    assert!(store.replay(LIVE, 0, 10).unwrap().is_empty());
    assert_eq!(store.open_live(LIVE).unwrap().head, 0);

    let mut wrong = good.clone();
    wrong.epoch = Epoch("not-this-one".into());
    assert!(matches!(
        store.commit(LIVE, &[Commit::event(wrong)]),
        Err(StoreError::WrongEpoch { .. })
    ));
    // The store is still usable after refusing.
    store.commit(LIVE, &[Commit::event(good.clone())]).unwrap();
    assert_eq!(store.replay(LIVE, 0, 10).unwrap(), vec![good]);
}

pub fn an_event_about_an_unknown_message_is_refused<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let frame = seq.frame(Event::Hidden {
        message_id: MessageId(99),
        by: moderator(),
    });
    assert!(matches!(
        store.commit(LIVE, &[Commit::event(frame)]),
        Err(StoreError::UnknownMessage(MessageId(99)))
    ));
    assert_eq!(store.open_live(LIVE).unwrap().head, 0);
}

pub fn question_answer_and_mark_answered<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let q = viewer_message(1, 1, "Livraison en Belgique ?", true);
    let q_seq = seq.say(&mut store, &q);
    assert_eq!(
        store.snapshot(LIVE, 50).unwrap().open_questions,
        vec![q.clone()]
    );

    let a = answer(2, &q, "Oui, en 3 jours");
    seq.say(&mut store, &a);
    seq.commit(
        &mut store,
        Event::QuestionAnswered {
            message_id: q.id,
            by: moderator(),
        },
    );

    let snap = store.snapshot(LIVE, 50).unwrap();
    assert!(snap.open_questions.is_empty());
    let Some(ChatEntry::Message(stored_q)) = store.message(LIVE, q.id).unwrap() else {
        panic!("question missing")
    };
    assert!(stored_q.answered);
    let Some(ChatEntry::Message(stored_a)) = store.message(LIVE, a.id).unwrap() else {
        panic!("answer missing")
    };
    assert_eq!(stored_a, a);
    assert_eq!(stored_a.reply_to.unwrap().first_name, "Julie");
    // Replay shows the question as it was when asked.
    let replayed = store.replay(LIVE, q_seq - 1, 1).unwrap();
    assert_eq!(replayed[0].event, Event::Message { message: q });
}

/// `question_reopened` undoes the mark: the working set, the snapshot and
/// the message are open again, and the replay holds both steps in order.
pub fn a_reopened_question_is_open_again<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let q1 = viewer_message(1, 1, "Livraison en Belgique ?", true);
    let q2 = viewer_message(2, 2, "Elle existe en 38 ?", true);
    let asked = seq.say(&mut store, &q1);
    seq.say(&mut store, &q2);
    seq.commit(
        &mut store,
        Event::QuestionAnswered {
            message_id: q1.id,
            by: moderator(),
        },
    );
    assert_eq!(
        store.working_set(LIVE).unwrap().open_questions,
        std::slice::from_ref(&q2)
    );
    seq.commit(
        &mut store,
        Event::QuestionReopened {
            message_id: q1.id,
            by: moderator(),
        },
    );
    assert_eq!(
        store.working_set(LIVE).unwrap().open_questions,
        [q1.clone(), q2.clone()]
    );
    assert_eq!(
        store.snapshot(LIVE, 50).unwrap().open_questions,
        [q1.clone(), q2]
    );
    let Some(ChatEntry::Message(stored)) = store.message(LIVE, q1.id).unwrap() else {
        panic!("question missing")
    };
    assert!(!stored.answered);
    let kinds: Vec<&str> = store
        .replay(LIVE, asked, 100)
        .unwrap()
        .iter()
        .map(|f| f.event.name())
        .collect();
    assert_eq!(kinds, ["message", "question_answered", "question_reopened"]);
    // Reopening a message the store never had is refused, like marking one.
    let unknown = seq.frame(Event::QuestionReopened {
        message_id: MessageId(99),
        by: moderator(),
    });
    assert!(store.commit(LIVE, &[Commit::event(unknown)]).is_err());
}

pub fn pin_replace_and_unpin<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let m1 = viewer_message(1, 1, "first", false);
    let m2 = viewer_message(2, 2, "second", false);
    seq.say(&mut store, &m1);
    seq.say(&mut store, &m2);
    seq.commit(
        &mut store,
        Event::Pinned {
            message_id: m1.id,
            by: moderator(),
        },
    );
    assert_eq!(store.snapshot(LIVE, 10).unwrap().pinned, Some(m1.clone()));
    seq.commit(
        &mut store,
        Event::Pinned {
            message_id: m2.id,
            by: moderator(),
        },
    );
    assert_eq!(store.snapshot(LIVE, 10).unwrap().pinned, Some(m2.clone()));
    // Unpinning a message that is no longer pinned leaves the pin alone.
    seq.commit(
        &mut store,
        Event::Unpinned {
            message_id: m1.id,
            by: moderator(),
        },
    );
    assert_eq!(store.snapshot(LIVE, 10).unwrap().pinned, Some(m2.clone()));
    seq.commit(
        &mut store,
        Event::Unpinned {
            message_id: m2.id,
            by: moderator(),
        },
    );
    assert_eq!(store.snapshot(LIVE, 10).unwrap().pinned, None);
}

pub fn held_then_released_replays_as_it_happened<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let mut held = viewer_message(1, 1, "appelez-moi au 06 •• •• •• 78", false);
    held.visibility = Visibility::Held {
        reason: HoldReason::PersonalData,
        rule_id: None,
    };
    let held_seq = seq.say(&mut store, &held);
    let mut released = held.clone();
    released.visibility = Visibility::Visible;
    seq.commit(
        &mut store,
        Event::Released {
            message: released.clone(),
            by: Some(moderator()),
            held_at: Some(held.at),
        },
    );
    let replay = store.replay(LIVE, held_seq - 1, 10).unwrap();
    assert_eq!(
        replay[0].event,
        Event::Message {
            message: held.clone()
        }
    );
    assert_eq!(
        replay[1].event,
        Event::Released {
            message: released.clone(),
            by: Some(moderator()),
            held_at: Some(held.at),
        }
    );
    assert_eq!(
        store.message(LIVE, released.id).unwrap(),
        Some(ChatEntry::Message(released))
    );
}

pub fn a_hidden_message_is_never_replayed_visible<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let m = viewer_message(1, 1, "spam spam", false);
    seq.say(&mut store, &m);
    seq.commit(
        &mut store,
        Event::Hidden {
            message_id: m.id,
            by: moderator(),
        },
    );
    let replay = store.replay(LIVE, 0, 10).unwrap();
    let Event::Message { message } = &replay[0].event else {
        panic!("expected the message event, got {:?}", replay[0].event)
    };
    assert_eq!(message.visibility, Visibility::Hidden);
    assert!(matches!(replay[1].event, Event::Hidden { .. }));
}

pub fn redaction_leaves_only_the_tombstone_everywhere<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let before = viewer_message(1, 2, "avant", false);
    let mut m = viewer_message(2, 1, "mon numéro est le 06 12 34 56 78", true);
    m.visibility = Visibility::Held {
        reason: HoldReason::PersonalData,
        rule_id: None,
    };
    let after = viewer_message(3, 2, "après", false);
    seq.say(&mut store, &before);
    let m_seq = seq.say(&mut store, &m);
    let mut released = m.clone();
    released.visibility = Visibility::Visible;
    let released_seq = seq.commit(
        &mut store,
        Event::Released {
            message: released,
            by: Some(moderator()),
            held_at: Some(m.at),
        },
    );
    seq.say(&mut store, &after);
    seq.commit(
        &mut store,
        Event::Pinned {
            message_id: m.id,
            by: moderator(),
        },
    );
    let redact_seq = seq.redact(&mut store, &m, "demande RGPD");
    let left_behind = tombstone(&m, "demande RGPD", T0 + 10_000);

    // Replay: the original events, at their original seqs, are tombstones.
    let replay = store.replay(LIVE, 0, 100).unwrap();
    let at = |s: u64| &replay.iter().find(|f| f.seq == s).unwrap().event;
    let as_tombstone = Event::Redacted {
        tombstone: left_behind.clone(),
    };
    assert_eq!(at(m_seq), &as_tombstone);
    assert_eq!(at(released_seq), &as_tombstone);
    assert_eq!(at(redact_seq), &as_tombstone);
    assert_eq!(
        at(m_seq - 1),
        &Event::Message {
            message: before.clone()
        }
    );
    let json = serde_json::to_string(&replay).unwrap();
    assert!(!json.contains("12 34 56"), "text leaked into replay");

    // Snapshot and lookups: tombstone in place, pin and question gone.
    let snap = store.snapshot(LIVE, 10).unwrap();
    assert_eq!(snap.pinned, None);
    assert!(snap.open_questions.is_empty());
    assert_eq!(
        snap.recent,
        vec![
            ChatEntry::Message(before),
            ChatEntry::Redacted(left_behind.clone()),
            ChatEntry::Message(after),
        ]
    );
    assert_eq!(
        store.message(LIVE, m.id).unwrap(),
        Some(ChatEntry::Redacted(left_behind.clone()))
    );

    // The audit record names the message and the reason, not the content.
    let log = store.audit_log(LIVE).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].entry.action, "redact");
    assert_eq!(log[0].entry.target, "#2");
    assert_eq!(log[0].entry.reason, "demande RGPD");

    // Redacting again is a no-op: the first tombstone stays.
    let frame = seq.frame(Event::Redacted {
        tombstone: tombstone(&m, "second time", T0 + 20_000),
    });
    store.commit(LIVE, &[Commit::event(frame)]).unwrap();
    assert_eq!(
        store.message(LIVE, m.id).unwrap(),
        Some(ChatEntry::Redacted(left_behind))
    );
    assert_eq!(store.snapshot(LIVE, 10).unwrap().recent.len(), 3);
    // The last message id still counts the redacted one.
    assert_eq!(store.open_live(LIVE).unwrap().last_message_id, 3);
}

pub fn redacting_an_unknown_message_is_refused<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let ghost = viewer_message(7, 1, "never stored", false);
    let frame = seq.frame(Event::Redacted {
        tombstone: tombstone(&ghost, "x", T0),
    });
    assert!(matches!(
        store.commit(
            LIVE,
            &[Commit::event(frame).with_audit(audit("redact", "#7", "x"))]
        ),
        Err(StoreError::UnknownMessage(MessageId(7)))
    ));
    // Nothing of the batch was kept, not even the audit entry.
    assert!(store.audit_log(LIVE).unwrap().is_empty());
}

pub fn recent_is_bounded_and_oldest_first<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let all: Vec<_> = (1..=30)
        .map(|i| viewer_message(i, (i % 3) as u32, &format!("m{i}"), false))
        .collect();
    let batch: Vec<Commit> = all
        .iter()
        .map(|m| Commit::event(seq.frame(Event::Message { message: m.clone() })))
        .collect();
    store.commit(LIVE, &batch).unwrap();
    seq.redact(&mut store, &all[29], "x");
    let recent = store.snapshot(LIVE, 5).unwrap().recent;
    let ids: Vec<u64> = recent.iter().map(|e| e.id().0).collect();
    assert_eq!(ids, vec![26, 27, 28, 29, 30]);
    assert!(matches!(recent[4], ChatEntry::Redacted(_)));
}

pub fn sanctions_apply_until_they_end<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let record = ViewerRecord {
        id: viewer(1),
        first_name: "Julie".into(),
        pseudonym: "julie1".into(),
        first_seen: T0,
        last_seen: T0,
    };
    store
        .upsert_viewer(LIVE, &record, &Contact::default())
        .unwrap();
    assert!(
        store
            .viewer(LIVE, &viewer(1), T0)
            .unwrap()
            .unwrap()
            .sanctions
            .is_empty()
    );
    assert!(store.viewer(LIVE, &viewer(9), T0).unwrap().is_none());

    seq.commit(
        &mut store,
        Event::ViewerTimedOut {
            viewer_id: viewer(1),
            until: T0 + 60_000,
            reason: "flood".into(),
            by: moderator(),
        },
    );
    let v = store.viewer(LIVE, &viewer(1), T0 + 1_000).unwrap().unwrap();
    assert_eq!(v.timed_out_until(), Some(T0 + 60_000));
    assert!(!v.is_banned());
    let later = store
        .viewer(LIVE, &viewer(1), T0 + 60_000)
        .unwrap()
        .unwrap();
    assert!(later.sanctions.is_empty(), "the timeout ran out");

    seq.commit(
        &mut store,
        Event::ViewerBanned {
            viewer_id: viewer(1),
            reason: "insults".into(),
            by: moderator(),
        },
    );
    let v = store
        .viewer(LIVE, &viewer(1), T0 + 10_000_000)
        .unwrap()
        .unwrap();
    assert!(v.is_banned());
    assert!(matches!(&v.sanctions[0], Sanction::Banned { reason, .. } if reason == "insults"));
}

pub fn the_viewer_card_shows_history_sanctions_consents_and_masked_contact<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let record = ViewerRecord {
        id: viewer(1),
        first_name: "Julie".into(),
        pseudonym: "julie1".into(),
        first_seen: T0,
        last_seen: T0,
    };
    let contact = Contact {
        phone: Some("+33 6 12 34 56 78".into()),
        email: Some("julie.m@gmail.com".into()),
    };
    grant(&mut store, &viewer(1), ConsentPurpose::PrizeContact);
    store.upsert_viewer(LIVE, &record, &contact).unwrap();
    // Rejoining without contact keeps it; first_seen stays the first one.
    let rejoin = ViewerRecord {
        first_seen: T0 + 500,
        last_seen: T0 + 500,
        ..record.clone()
    };
    store
        .upsert_viewer(LIVE, &rejoin, &Contact::default())
        .unwrap();

    let mine1 = viewer_message(1, 1, "un", false);
    let theirs = viewer_message(2, 2, "deux", false);
    let mine2 = viewer_message(3, 1, "trois", false);
    seq.say(&mut store, &mine1);
    seq.say(&mut store, &theirs);
    seq.say(&mut store, &mine2);
    seq.redact(&mut store, &mine1, "x");
    seq.commit(
        &mut store,
        Event::ViewerBanned {
            viewer_id: viewer(1),
            reason: "r".into(),
            by: moderator(),
        },
    );
    for (granted, at) in [(true, T0), (false, T0 + 5)] {
        store
            .record_consent(
                LIVE,
                &viewer(1),
                &ConsentState {
                    purpose: ConsentPurpose::Marketing,
                    granted,
                    at,
                    channel: ConsentChannel::Player,
                    text_sha256: "ab".repeat(32),
                },
                &Contact::default(),
            )
            .unwrap();
    }

    let card = store
        .viewer_card(LIVE, &viewer(1), true, T0)
        .unwrap()
        .unwrap();
    assert_eq!(card.first_seen, T0);
    assert_eq!(card.first_name, "Julie");
    let ids: Vec<u64> = card.recent.iter().map(|e| e.id().0).collect();
    assert_eq!(ids, vec![3, 1], "most recent first, only this viewer's");
    assert!(matches!(card.recent[1], ChatEntry::Redacted(_)));
    assert_eq!(card.sanctions.len(), 1);
    assert_eq!(card.consents.len(), 2, "one per purpose");
    let marketing = card
        .consents
        .iter()
        .find(|c| c.purpose == ConsentPurpose::Marketing)
        .unwrap();
    assert!(!marketing.granted, "the latest consent wins");
    let masked = card.contact.unwrap();
    // Masked, never the stored value in clear: country code, first digit
    // and last two digits kept, the shape too.
    assert_eq!(masked.phone.as_deref(), Some("+33 6 •• •• •• 78"));
    assert_eq!(masked.email.as_deref(), Some("j•••@g•••.com"));

    let without = store
        .viewer_card(LIVE, &viewer(1), false, T0)
        .unwrap()
        .unwrap();
    assert_eq!(without.contact, None);
    assert!(
        store
            .viewer_card(LIVE, &viewer(9), true, T0)
            .unwrap()
            .is_none()
    );
}

pub fn command_outcomes_are_remembered_once_per_principal<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let id = CommandId("c-1".into());
    assert_eq!(store.command_outcome(LIVE, "v-1", &id).unwrap(), None);
    let m = viewer_message(1, 1, "hello", false);
    let frame = seq.frame(Event::Message { message: m });
    store
        .commit(
            LIVE,
            &[Commit::event(frame).with_outcome(
                "v-1",
                id.clone(),
                CommandOutcome::Ack { seq: Some(1) },
            )],
        )
        .unwrap();
    let refused = CommandOutcome::Error {
        code: ErrorCode::Forbidden,
        message: "viewers may not pin".into(),
    };
    store
        .commit(
            LIVE,
            &[Commit::without_event().with_outcome("v-2", id.clone(), refused.clone())],
        )
        .unwrap();
    // A second record under the same id does not replace the first answer.
    store
        .commit(
            LIVE,
            &[Commit::without_event().with_outcome("v-1", id.clone(), refused.clone())],
        )
        .unwrap();
    assert_eq!(
        store.command_outcome(LIVE, "v-1", &id).unwrap(),
        Some(CommandOutcome::Ack { seq: Some(1) })
    );
    assert_eq!(
        store.command_outcome(LIVE, "v-2", &id).unwrap(),
        Some(refused)
    );
    // A commit without an event does not move the head.
    assert_eq!(store.open_live(LIVE).unwrap().head, 1);
}

pub fn the_audit_log_is_chained_in_order<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let m = viewer_message(1, 1, "x", false);
    seq.say(&mut store, &m);
    seq.redact(&mut store, &m, "asked");
    store
        .commit(
            LIVE,
            &[
                Commit::without_event().with_audit(audit("viewer_card", "v-1", "")),
                Commit::without_event().with_audit(audit("ban", "v-1", "insults")),
            ],
        )
        .unwrap();
    let log = store.audit_log(LIVE).unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.entry.action.as_str()).collect();
    assert_eq!(actions, ["redact", "viewer_card", "ban"]);
    assert_eq!(log[1].prev_hash, log[0].hash);
    assert_eq!(log.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 2, 3]);
    store.verify_audit_chain(LIVE).unwrap();
    // Another live has its own chain.
    store.open_live("other").unwrap();
    assert!(store.audit_log("other").unwrap().is_empty());
}

pub fn the_working_set_names_shared_first_names_and_recent_staff_actions<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    // Two Julies, the second one's only message redacted: still shared
    // (under the name she joined with). One Marc posting twice: not.
    let julie = viewer_message(1, 1, "a", false);
    let other_julie = viewer_message(2, 2, "b", false);
    store
        .upsert_viewer(
            LIVE,
            &ViewerRecord {
                id: viewer(2),
                first_name: "Julie".into(),
                pseudonym: "julie2".into(),
                first_seen: T0,
                last_seen: T0,
            },
            &Contact::default(),
        )
        .unwrap();
    seq.say(&mut store, &julie);
    seq.say(&mut store, &other_julie);
    seq.redact(&mut store, &other_julie, "asked");
    for id in [3, 4] {
        let mut marc = viewer_message(id, 3, "c", false);
        if let regie::protocol::Author::Viewer { first_name, .. } = &mut marc.author {
            *first_name = "Marc".into();
        }
        seq.say(&mut store, &marc);
    }
    let commits: Vec<Commit> = (1..=205)
        .map(|i| Commit::without_event().with_audit(audit("hide", &format!("#{i}"), "")))
        .collect();
    store.commit(LIVE, &commits).unwrap();

    let set = store.working_set(LIVE).unwrap();
    assert_eq!(set.shared_names, ["Julie"]);
    // Whatever came before, the last 200 of the 205 hides, oldest first.
    assert_eq!(set.activity.len(), regie::store::RECENT_STAFF_ACTIONS);
    let targets: Vec<&str> = set.activity.iter().map(|a| a.target.as_str()).collect();
    assert_eq!(targets.first(), Some(&"#6"));
    assert_eq!(targets.last(), Some(&"#205"));
}

pub fn an_unopened_live_is_an_error<S: Store>(mut store: S) {
    assert!(matches!(
        store.replay("nope", 0, 1),
        Err(StoreError::UnknownLive(_))
    ));
}

fn rule(id: u32, pattern: &str) -> RuleView {
    RuleView {
        rule_id: id,
        kind: RuleType::Term,
        pattern: pattern.into(),
        action: RuleAction::Block,
        expires_at: None,
        created_by: None,
        created_at: T0,
    }
}

pub fn rules_are_seeded_once_then_kept_by_their_events<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    assert_eq!(
        store.rules(LIVE).unwrap(),
        None,
        "a new live was never seeded"
    );
    store.seed_rules(LIVE, &[rule(1, "arnaque")]).unwrap();
    // A second seed (another node starting, a restart) stores nothing.
    store
        .seed_rules(LIVE, &[rule(1, "spam"), rule(2, "promo")])
        .unwrap();
    assert_eq!(store.rules(LIVE).unwrap(), Some(vec![rule(1, "arnaque")]));

    let added = RuleView {
        created_by: Some(moderator()),
        ..rule(2, "bitcoin")
    };
    seq.commit(
        &mut store,
        Event::RuleAdded {
            rule: added.clone(),
        },
    );
    seq.commit(
        &mut store,
        Event::RuleRemoved {
            rule_id: 1,
            by: Some(moderator()),
        },
    );
    assert_eq!(store.rules(LIVE).unwrap(), Some(vec![added]));
    seq.commit(
        &mut store,
        Event::RuleRemoved {
            rule_id: 2,
            by: Some(moderator()),
        },
    );
    // Every rule removed: still seeded, so no default comes back.
    assert_eq!(store.rules(LIVE).unwrap(), Some(Vec::new()));
    store.seed_rules(LIVE, &[rule(1, "arnaque")]).unwrap();
    assert_eq!(store.rules(LIVE).unwrap(), Some(Vec::new()));
    // A removed rule's id taken again is the new rule.
    seq.commit(
        &mut store,
        Event::RuleAdded {
            rule: rule(1, "casino"),
        },
    );
    assert_eq!(store.rules(LIVE).unwrap(), Some(vec![rule(1, "casino")]));
}

fn host() -> Actor {
    Actor {
        name: Some("Sophie".into()),
        role: StaffRole::Host,
    }
}

fn poll_view() -> PollView {
    PollView {
        id: 1,
        question: "Rouge ou bleu ?".into(),
        options: vec!["Rouge".into(), "Bleu".into()],
        opened_at: T0,
        closes_at: Some(T0 + 60_000),
        audience_at_launch: 12,
        by: host(),
    }
}

fn draw_view(seed: &Seed) -> DrawView {
    DrawView {
        id: 1,
        prize: "Sac".into(),
        winners: 1,
        opened_at: T0,
        closes_at: T0 + 120_000,
        rules: "No purchase necessary.".into(),
        commitment: seed.commitment(),
        redraw_of: None,
        replaces: None,
        by: host(),
    }
}

fn vote(n: u32, option: usize) -> Commit {
    Commit::without_event().with_game(GameWrite::Vote {
        poll_id: 1,
        viewer: viewer(n),
        option,
    })
}

fn entry(n: u32) -> Commit {
    Commit::without_event().with_game(GameWrite::Entry {
        draw_id: 1,
        viewer: viewer(n),
    })
}

/// The store refused a batch for what is in it, not for the numbering,
/// the connection or a missing feature.
fn refused_for_its_content(err: &StoreError) {
    assert!(
        !matches!(err, StoreError::SeqGap { .. } | StoreError::Unsupported(_)),
        "refused for another reason: {err}"
    );
    assert!(!err.is_temporary(), "a lasting refusal: {err}");
}

pub fn games_are_stored_with_their_commit_and_read_back<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let seed = Seed::generate().unwrap();
    let opened = seq.frame(Event::PollOpened { poll: poll_view() });
    store
        .commit(
            LIVE,
            &[Commit::event(opened).with_game(GameWrite::PollOpened { poll: poll_view() })],
        )
        .unwrap();
    store
        .commit(LIVE, &[vote(1, 0), vote(2, 1), vote(3, 1)])
        .unwrap();
    // A second vote by the same viewer is refused, and the whole batch with
    // it: the good vote beside it is not half-written.
    let err = store
        .commit(LIVE, &[vote(4, 0), vote(1, 1)])
        .expect_err("a second vote by the same viewer");
    refused_for_its_content(&err);
    assert_eq!(store.games(LIVE).unwrap().polls[0].votes.len(), 3);

    let opened = seq.frame(Event::InstantWinOpened {
        draw: draw_view(&seed),
    });
    store
        .commit(
            LIVE,
            &[
                Commit::event(opened).with_game(GameWrite::InstantWinOpened {
                    draw: draw_view(&seed),
                    seed_hex: seed.to_hex(),
                }),
            ],
        )
        .unwrap();
    store.commit(LIVE, &[entry(1), entry(2)]).unwrap();
    let err = store
        .commit(LIVE, &[entry(1)])
        .expect_err("a second entry by the same viewer");
    refused_for_its_content(&err);
    // The event log never holds the seed before the draw.
    let replayed = serde_json::to_string(&store.replay(LIVE, 0, 100).unwrap()).unwrap();
    assert!(!replayed.contains(&seed.to_hex()));

    let record =
        DrawRecord::close(1, "Sac".into(), 1, &seed, vec![viewer(1), viewer(2)], None).unwrap();
    let winners = vec![Winner {
        viewer_id: record.winners[0].clone(),
        first_name: "Julie".into(),
        pseudonym: "#3fa9".into(),
    }];
    store
        .commit(
            LIVE,
            &[Commit::without_event()
                .with_game(GameWrite::PollClosed {
                    poll_id: 1,
                    closed_at: T0 + 60_000,
                })
                .with_game(GameWrite::PollCleared {
                    poll_id: 1,
                    cleared_at: T0 + 90_000,
                })
                .with_game(GameWrite::Drawn {
                    record: record.clone(),
                    winners: winners.clone(),
                    drawn_at: T0 + 120_000,
                })],
        )
        .unwrap();

    let games = store.games(LIVE).unwrap();
    assert_eq!(games.polls.len(), 1);
    let p = &games.polls[0];
    assert_eq!(p.poll, poll_view(), "the clear leaves the poll as launched");
    assert_eq!(p.closed_at, Some(T0 + 60_000));
    assert_eq!(p.cleared_at, Some(T0 + 90_000));
    let mut votes = p.votes.clone();
    votes.sort();
    assert_eq!(votes, vec![(viewer(1), 0), (viewer(2), 1), (viewer(3), 1)]);
    let d = &games.draws[0];
    assert_eq!(d.draw, draw_view(&seed));
    assert_eq!(d.seed_hex, seed.to_hex());
    let entrants: Vec<_> = d.entrants.iter().map(|(id, ..)| id.clone()).collect();
    assert_eq!(entrants, vec![viewer(1), viewer(2)]);
    let result = d.result.as_ref().unwrap();
    assert_eq!(result.record, record);
    assert_eq!(result.winners, winners);
    assert_eq!(result.drawn_at, T0 + 120_000);
}

/// An erased winner's draws stay (the published record names ids only,
/// so it still verifies), but their names leave the draws and the events
/// that announced them: as the winner, and as the re-draw's excluded.
pub fn an_erased_winner_keeps_the_draw_but_not_the_name<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let winner = Winner {
        viewer_id: viewer(7),
        first_name: "Zephyrine".into(),
        pseudonym: "zeph7".into(),
    };
    seq.win_and_redraw(&mut store, &winner);
    let everything = |store: &mut S| {
        format!(
            "{:?} {:?}",
            store.games(LIVE).unwrap(),
            store.replay(LIVE, 0, 100).unwrap()
        )
    };
    assert!(everything(&mut store).contains("Zephyrine"), "the control");
    seq.commit(
        &mut store,
        Event::ViewerErased {
            viewer_id: viewer(7),
            reason: "Art. 17".into(),
            erased_at: T0 + 200_000,
            by: support(),
        },
    );
    let after = everything(&mut store);
    for name in ["Zephyrine", "zeph7"] {
        assert!(!after.contains(name), "{name} is still stored: {after}");
    }
    let games = store.games(LIVE).unwrap();
    let record = &games.draws[0].result.as_ref().unwrap().record;
    assert_eq!(
        record.winners,
        vec![viewer(7)],
        "the record is as published"
    );
    assert!(regie::instant_win::verify(record).is_ok());
}

/// The retention sweep deletes what a period no longer keeps, and only
/// that: the chat of an ended live once its period is past (lines,
/// tombstones, the log), sanctions past theirs, finished games past theirs,
/// then a profile with nothing left; a second sweep finds nothing, and the
/// swept ids are never given again.
pub fn the_sweep_deletes_what_each_period_no_longer_keeps<S: Store>(mut store: S) {
    use regie::protocol::LiveState;
    const DAY: i64 = 24 * 3_600_000;
    let mut seq = open(&mut store);
    let joined = |n: u32| ViewerRecord {
        id: viewer(n),
        first_name: format!("Viewer{n}"),
        pseudonym: format!("#{n}"),
        first_seen: T0,
        last_seen: T0,
    };
    store
        .upsert_viewer(LIVE, &joined(1), &Contact::default())
        .unwrap();
    let kept = viewer_message(1, 1, "zq-old-line", false);
    let redacted = viewer_message(2, 1, "zq-redacted-line", false);
    seq.say(&mut store, &kept);
    seq.say(&mut store, &redacted);
    seq.redact(&mut store, &redacted, "spam");
    seq.commit(
        &mut store,
        Event::ViewerTimedOut {
            viewer_id: viewer(1),
            until: T0 + 60_000,
            reason: "zq-timeout-reason".into(),
            by: moderator(),
        },
    );
    let opened = seq.frame(Event::PollOpened { poll: poll_view() });
    store
        .commit(
            LIVE,
            &[
                Commit::event(opened).with_game(GameWrite::PollOpened { poll: poll_view() }),
                vote(1, 0),
                Commit::without_event().with_game(GameWrite::PollClosed {
                    poll_id: 1,
                    closed_at: T0 + 60_000,
                }),
            ],
        )
        .unwrap();
    seq.commit(
        &mut store,
        Event::LiveState {
            state: LiveState::Ended,
        },
    );
    let day = |n: i64| std::time::Duration::from_millis(u64::try_from(n * DAY).unwrap());
    let policy = regie::store::RetentionPolicy {
        chat: day(1),
        moderation_notes: day(1),
        draws: day(1),
        ..regie::store::RetentionPolicy::default()
    };

    let early = store.sweep(LIVE, &policy, T0 + DAY / 2).unwrap();
    assert_eq!(early.total(), 0, "nothing is past its period: {early:?}");
    assert!(store.message(LIVE, kept.id).unwrap().is_some());

    let report = store.sweep(LIVE, &policy, T0 + 2 * DAY).unwrap();
    assert_eq!(
        (report.messages, report.tombstones, report.moderation_notes),
        (1, 1, 1),
        "{report:?}"
    );
    assert_eq!(report.draws, 1, "the poll with its vote: {report:?}");
    assert_eq!(report.viewers, 1, "nothing left to describe: {report:?}");
    assert!(report.events >= 5, "{report:?}");
    assert!(store.message(LIVE, kept.id).unwrap().is_none());
    assert!(store.replay(LIVE, 0, 100).unwrap().is_empty());
    assert!(store.games(LIVE).unwrap().polls.is_empty());
    assert!(store.viewer(LIVE, &viewer(1), T0).unwrap().is_none());
    let again = store.sweep(LIVE, &policy, T0 + 2 * DAY).unwrap();
    assert_eq!(again.total(), 0, "each row goes once: {again:?}");
    assert!(
        store.open_live(LIVE).unwrap().last_message_id >= redacted.id.0,
        "a swept id is not given again"
    );
}

/// A moderator's note on viewer 1, and a poll and an instant win that
/// viewer 1 (and viewer 2, in the poll) took part in.
fn note_vote_and_entry<S: Store>(store: &mut S, seq: &mut Sequencer) {
    let note = Commit {
        note: Some(regie::store::NoteWrite {
            viewer_id: viewer(1),
            note: regie::protocol::ModNote {
                at: T0 + 9,
                by: moderator(),
                text: "zq-note".into(),
            },
        }),
        ..Commit::without_event()
    };
    let seed = Seed::generate().unwrap();
    let poll = seq.frame(Event::PollOpened { poll: poll_view() });
    let draw = seq.frame(Event::InstantWinOpened {
        draw: draw_view(&seed),
    });
    store
        .commit(
            LIVE,
            &[
                note,
                Commit::event(poll).with_game(GameWrite::PollOpened { poll: poll_view() }),
                Commit::event(draw).with_game(GameWrite::InstantWinOpened {
                    draw: draw_view(&seed),
                    seed_hex: seed.to_hex(),
                }),
                vote(1, 1),
                entry(1),
                vote(2, 0),
            ],
        )
        .unwrap();
}

/// Contact values go once the period of the purpose they were collected
/// for is past, for every purpose: a phone given for promotional SMS
/// (`sms_marketing`) goes after that period, while an e-mail given for
/// marketing, with a longer one, stays.
pub fn contact_values_go_after_the_period_of_their_purpose<S: Store>(mut store: S) {
    const DAY: i64 = 24 * 3_600_000;
    open(&mut store);
    grant(&mut store, &viewer(1), ConsentPurpose::SmsMarketing);
    grant(&mut store, &viewer(1), ConsentPurpose::Marketing);
    let record = ViewerRecord {
        id: viewer(1),
        first_name: "Julie".into(),
        pseudonym: "#1".into(),
        first_seen: T0,
        last_seen: T0,
    };
    let contact = Contact {
        phone: Some("+33 6 12 34 56 78".into()),
        email: Some("julie.m@gmail.com".into()),
    };
    store.upsert_viewer(LIVE, &record, &contact).unwrap();
    let day = |n: i64| std::time::Duration::from_millis(u64::try_from(n * DAY).unwrap());
    let policy = regie::store::RetentionPolicy {
        sms_marketing: day(1),
        marketing: day(10),
        ..regie::store::RetentionPolicy::default()
    };
    let report = store.sweep(LIVE, &policy, T0 + 2 * DAY).unwrap();
    assert_eq!(report.contact_values, 1, "{report:?}");
    let card = store
        .viewer_card(LIVE, &viewer(1), true, T0)
        .unwrap()
        .unwrap();
    let contact = card.contact.unwrap();
    assert!(contact.phone.is_none(), "the phone is past its period");
    assert!(contact.email.is_some(), "the e-mail is not");
}

/// The right of access: the export holds everything the store keeps about
/// the viewer (contact opened, consents, lines, what was redacted of them,
/// the answers to them, votes, entries, sanctions, notes), staff by role
/// only, and nothing of another viewer.
pub fn the_export_holds_everything_about_the_viewer_and_no_one_else<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let phone = "+33 6 12 34 56 78";
    grant(&mut store, &viewer(1), ConsentPurpose::PrizeContact);
    for n in [1, 2] {
        let record = ViewerRecord {
            id: viewer(n),
            first_name: format!("Viewer{n}"),
            pseudonym: format!("#{n}"),
            first_seen: T0,
            last_seen: T0,
        };
        let contact = Contact {
            phone: (n == 1).then(|| phone.to_owned()),
            email: None,
        };
        store.upsert_viewer(LIVE, &record, &contact).unwrap();
    }
    let asked = viewer_message(1, 1, "zq-mine", true);
    let redacted = viewer_message(2, 1, "zq-redacted", false);
    let theirs = viewer_message(3, 2, "zq-theirs", false);
    for m in [&asked, &redacted, &theirs] {
        seq.say(&mut store, m);
    }
    seq.redact(&mut store, &redacted, "spam");
    seq.say(&mut store, &answer(4, &asked, "zq-answer"));
    seq.commit(
        &mut store,
        Event::ViewerBanned {
            viewer_id: viewer(1),
            reason: "zq-ban-reason".into(),
            by: moderator(),
        },
    );
    note_vote_and_entry(&mut store, &mut seq);

    let export = store.viewer_export(LIVE, &viewer(1)).unwrap().unwrap();
    assert_eq!(export.profile.first_name, "Viewer1");
    assert_eq!(export.profile.phone.as_deref(), Some(phone), "opened");
    let purposes: Vec<_> = export.consents.iter().map(|c| c.purpose.as_str()).collect();
    assert_eq!(purposes, vec!["prize_contact"]);
    let lines: Vec<_> = export
        .messages
        .iter()
        .map(|m| (m.id, m.text.as_str()))
        .collect();
    assert_eq!(lines, vec![(1, "zq-mine")]);
    assert_eq!(export.redacted.len(), 1);
    assert_eq!(export.redacted[0].message_id, 2);
    let replies: Vec<_> = export
        .replies
        .iter()
        .map(|r| (r.id, r.reply_to_id, r.text.as_str(), r.by_role.as_deref()))
        .collect();
    assert_eq!(replies, vec![(4, 1, "zq-answer", Some("host"))]);
    let votes: Vec<_> = export.votes.iter().map(|v| (v.poll_id, v.option)).collect();
    assert_eq!(votes, vec![(1, 1)]);
    assert_eq!(export.entries.len(), 1);
    let sanctions: Vec<_> = export
        .sanctions
        .iter()
        .map(|s| (s.kind.as_str(), s.reason.as_str(), s.by_role.as_str()))
        .collect();
    assert_eq!(sanctions, vec![("ban", "zq-ban-reason", "moderator")]);
    assert_eq!(export.notes.len(), 1);
    assert_eq!(
        (
            export.notes[0].text.as_str(),
            export.notes[0].by_role.as_str()
        ),
        ("zq-note", "moderator")
    );
    let json = export.to_json();
    for other in ["zq-theirs", "Viewer2", "Inès", "Sophie", "Léa"] {
        assert!(!json.contains(other), "{other} is in the export: {json}");
    }
    assert!(store.viewer_export(LIVE, &viewer(9)).unwrap().is_none());
}

/// The requests log through the hub's door: a viewer's click logs one
/// request per kind, due a calendar month later, and the open ones come
/// back soonest due first.
pub fn a_viewers_request_is_logged_once_per_kind_and_listed_by_due_date<S: Store>(mut store: S) {
    use regie::store::requests::{RequestKind, due_after};
    open(&mut store);
    assert!(store.open_requests().unwrap().is_empty());
    assert!(
        store
            .add_privacy_request(RequestKind::Erase, "v-1", T0 + 5)
            .unwrap()
    );
    assert!(
        store
            .add_privacy_request(RequestKind::Access, "v-1", T0)
            .unwrap()
    );
    assert!(
        !store
            .add_privacy_request(RequestKind::Access, "v-1", T0 + 9)
            .unwrap(),
        "the same click again is the same request"
    );
    assert!(
        store
            .add_privacy_request(RequestKind::Access, "v-2", T0 + 1)
            .unwrap()
    );
    let open = store.open_requests().unwrap();
    let listed: Vec<_> = open
        .iter()
        .map(|r| (r.kind.as_str(), r.subject.as_str(), r.due_at))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("access", "v-1", due_after(T0, 1)),
            ("access", "v-2", due_after(T0 + 1, 1)),
            ("erase", "v-1", due_after(T0 + 5, 1)),
        ]
    );
}

/// What a restarted node reads back from the event log: the slow mode
/// staff set (Shield's own wait does not count, and lifting Shield puts
/// back the wait from before), Shield, the delivery policy, and the
/// showcase (products added, the one now showing, canned answers).
pub fn settings_and_the_showcase_come_back_from_the_log<S: Store>(mut store: S) {
    use regie::protocol::{CannedAnswer, DeliveryPolicy, Product};
    let mut seq = open(&mut store);
    assert_eq!(store.slow_mode(LIVE).unwrap(), None);
    assert!(!store.shield_on(LIVE).unwrap());
    assert_eq!(store.delivery(LIVE).unwrap(), None);
    let shield = |on: bool, slow_mode_secs: u32| Event::ShieldChanged {
        on,
        slow_mode_secs,
        by: moderator(),
    };
    let slow = |secs: u32| Event::SlowModeChanged {
        secs,
        by: moderator(),
    };
    seq.commit(&mut store, slow(30));
    seq.commit(&mut store, shield(true, 60));
    seq.commit(&mut store, slow(90));
    assert!(store.shield_on(LIVE).unwrap());
    assert_eq!(
        store.slow_mode(LIVE).unwrap(),
        Some(30),
        "Shield's is not staff's"
    );
    seq.commit(&mut store, shield(false, 30));
    assert!(!store.shield_on(LIVE).unwrap());
    assert_eq!(store.slow_mode(LIVE).unwrap(), Some(30));
    seq.commit(&mut store, slow(10));
    assert_eq!(store.slow_mode(LIVE).unwrap(), Some(10));

    let policy = DeliveryPolicy {
        tick_ms: 250,
        chat_per_sec: 5,
    };
    seq.commit(
        &mut store,
        Event::DeliveryChanged {
            policy,
            by: moderator(),
        },
    );
    assert_eq!(store.delivery(LIVE).unwrap(), Some(policy));

    let product = |id: u32| Product {
        id,
        name: format!("Robe {id}"),
        price: "49 €".into(),
        link: None,
    };
    let canned = CannedAnswer {
        title: "Tailles".into(),
        text: "Du 34 au 46.".into(),
    };
    for event in [
        Event::ProductAdded {
            product: product(1001),
        },
        Event::ProductAdded {
            product: product(1002),
        },
        Event::NowShowing {
            product: Some(product(1001)),
        },
        Event::CannedAdded {
            canned: canned.clone(),
        },
    ] {
        seq.commit(&mut store, event);
    }
    let showcase = store.showcase(LIVE).unwrap();
    assert_eq!(showcase.added, vec![product(1001), product(1002)]);
    assert_eq!(showcase.now_showing, Some(product(1001)));
    assert_eq!(showcase.canned, vec![canned]);
    seq.commit(&mut store, Event::NowShowing { product: None });
    assert_eq!(store.showcase(LIVE).unwrap().now_showing, None);
}

/// A shared store tells a node the votes and entries stored after its
/// cursor, each once and all of them; a store one hub writes has no news
/// (that hub counted what it stored).
pub fn game_news_continues_from_the_cursor<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let seed = Seed::generate().unwrap();
    let opened = seq.frame(Event::PollOpened { poll: poll_view() });
    let draw = seq.frame(Event::InstantWinOpened {
        draw: draw_view(&seed),
    });
    store
        .commit(
            LIVE,
            &[
                Commit::event(opened).with_game(GameWrite::PollOpened { poll: poll_view() }),
                Commit::event(draw).with_game(GameWrite::InstantWinOpened {
                    draw: draw_view(&seed),
                    seed_hex: seed.to_hex(),
                }),
            ],
        )
        .unwrap();
    store.commit(LIVE, &[vote(1, 0), entry(1)]).unwrap();
    let start = store.games(LIVE).unwrap().cursor;
    let news = store.game_news(LIVE, start).unwrap();
    assert!(news.is_empty(), "what the games held is no news: {news:?}");
    assert_eq!(news.cursor, start);

    store
        .commit(LIVE, &[vote(2, 1), vote(3, 0), entry(2)])
        .unwrap();
    let news = store.game_news(LIVE, start).unwrap();
    if !store.shared() {
        assert!(news.is_empty(), "{news:?}");
        return;
    }
    assert_eq!(news.votes, vec![(1, viewer(2), 1), (1, viewer(3), 0)]);
    let entered: Vec<_> = news
        .entries
        .iter()
        .map(|(d, v, ..)| (*d, v.clone()))
        .collect();
    assert_eq!(entered, vec![(1, viewer(2))]);
    let again = store.game_news(LIVE, news.cursor).unwrap();
    assert!(again.is_empty(), "read once: {again:?}");
    assert_eq!(again.cursor, news.cursor);
}

pub fn a_live_announced_ahead_keeps_its_announcement_and_its_lifecycle<S: Store>(mut store: S) {
    assert_eq!(store.live_info("night").unwrap(), None, "no such live yet");
    let announced = LiveInfo {
        name: "night".into(),
        title: "Soldes de nuit 🌙".into(),
        state: LiveState::Scheduled,
        starts_at: Some(T0 + 3_600_000),
        started_at: None,
        ended_at: None,
    };
    store.create_live(&announced, T0).unwrap();
    assert_eq!(store.live_info("night").unwrap(), Some(announced.clone()));
    let again = store.create_live(&announced, T0).unwrap_err();
    assert!(
        matches!(&again, StoreError::LiveExists(n) if n == "night"),
        "{again}"
    );
    store.open_live(LIVE).unwrap();
    let names: Vec<String> = store.lives().unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["night", LIVE], "oldest first");

    // The lifecycle moves with its events, and is read back so.
    let mut seq = Sequencer::new(&store.open_live("night").unwrap());
    let start = seq.frame(Event::LiveState {
        state: LiveState::OnAir,
    });
    store
        .commit("night", &[Commit::event(start.clone())])
        .unwrap();
    let end = seq.frame(Event::LiveState {
        state: LiveState::Ended,
    });
    store
        .commit("night", &[Commit::event(end.clone())])
        .unwrap();
    let ended = store.live_info("night").unwrap().unwrap();
    assert_eq!(
        ended,
        LiveInfo {
            state: LiveState::Ended,
            started_at: Some(start.at),
            ended_at: Some(end.at),
            ..announced
        }
    );
    // A live opened without an announcement is on air from its opening.
    let opened = store.live_info(LIVE).unwrap().unwrap();
    assert_eq!(
        (opened.state, opened.title.as_str()),
        (LiveState::OnAir, "")
    );
    assert!(opened.started_at.is_some());
}

pub fn the_staff_log_pages_from_the_newest_and_filters<S: Store>(mut store: S) {
    open(&mut store);
    let mut marc = audit("say", "", "");
    marc.actor_name = "Marc".into();
    marc.actor_role = StaffRole::Host;
    store
        .commit(
            LIVE,
            &[
                Commit::without_event().with_audit(audit("timeout", "v-1", "spam")),
                Commit::without_event().with_audit(marc.clone()),
                Commit::without_event().with_audit(audit("ban", "v-1", "insults")),
                Commit::without_event().with_audit(marc),
                Commit::without_event().with_audit(audit("unban", "v-1", "")),
            ],
        )
        .unwrap();
    let query = |before, limit, actor: Option<&str>, action: Option<&str>| StaffLogQuery {
        before,
        limit,
        actor: actor.map(Into::into),
        action: action.map(Into::into),
    };
    let shown = |page: &regie::store::StaffLogPage| -> Vec<String> {
        page.entries
            .iter()
            .map(|e| format!("{} {}", e.actor_name, e.action))
            .collect()
    };
    let newest = store.staff_log(LIVE, &query(None, 2, None, None)).unwrap();
    assert_eq!(shown(&newest), ["Marc say", "Sam unban"], "oldest first");
    assert_eq!(newest.before, Some(4));
    let older = store
        .staff_log(LIVE, &query(newest.before, 2, None, None))
        .unwrap();
    assert_eq!(shown(&older), ["Marc say", "Sam ban"]);
    let oldest = store
        .staff_log(LIVE, &query(older.before, 2, None, None))
        .unwrap();
    assert_eq!(shown(&oldest), ["Sam timeout"]);
    assert_eq!(oldest.before, None, "nothing older");
    let by_marc = store
        .staff_log(LIVE, &query(None, 10, Some("Marc"), None))
        .unwrap();
    assert_eq!(shown(&by_marc), ["Marc say", "Marc say"]);
    let bans = store
        .staff_log(LIVE, &query(None, 10, None, Some("ban")))
        .unwrap();
    assert_eq!(shown(&bans), ["Sam ban"]);
    assert_eq!(bans.entries[0].reason, "insults");
    let none = store
        .staff_log(LIVE, &query(None, 10, Some("Sam"), Some("say")))
        .unwrap();
    assert!(none.entries.is_empty() && none.before.is_none());
}

pub fn history_search_finds_visible_lines_a_page_at_a_time<S: Store>(mut store: S) {
    let mut seq = open(&mut store);
    let words = |limit| HistoryQuery {
        words: vec!["livraison".into()],
        before: None,
        limit,
    };
    let mut held = viewer_message(2, 2, "Livraison gratuite ? zq81held", true);
    held.visibility = Visibility::Held {
        reason: HoldReason::PersonalData,
        rule_id: None,
    };
    let redacted = viewer_message(3, 3, "livraison à mon adresse zq81gone", false);
    seq.say(
        &mut store,
        &viewer_message(1, 1, "La LIVRAISON en Belgique ?", true),
    );
    seq.say(&mut store, &held);
    seq.say(&mut store, &redacted);
    seq.say(&mut store, &viewer_message(4, 4, "bonjour", false));
    seq.say(
        &mut store,
        &viewer_message(5, 5, "livraison demain ?", true),
    );
    seq.redact(&mut store, &redacted, "asked");

    let texts = |page: &HistoryPage| -> Vec<String> {
        page.messages.iter().map(|m| m.text.clone()).collect()
    };
    let all = store.history_search(LIVE, &words(10)).unwrap();
    assert_eq!(
        texts(&all),
        ["livraison demain ?", "La LIVRAISON en Belgique ?"],
        "newest first; neither the held nor the redacted line"
    );
    assert_eq!(all.next_before, None, "the search reached the oldest line");
    let first = store.history_search(LIVE, &words(1)).unwrap();
    assert_eq!(texts(&first), ["livraison demain ?"]);
    assert_eq!(first.next_before, Some(MessageId(5)));
    let next = HistoryQuery {
        before: first.next_before,
        ..words(1)
    };
    let second = store.history_search(LIVE, &next).unwrap();
    assert_eq!(texts(&second), ["La LIVRAISON en Belgique ?"]);
    for gone in ["zq81gone", "zq81held"] {
        let q = HistoryQuery {
            words: vec![gone.into()],
            ..words(10)
        };
        assert!(
            store.history_search(LIVE, &q).unwrap().messages.is_empty(),
            "{gone}"
        );
    }
}

/// Retention prunes the audit log's head behind a signed checkpoint: the
/// chain still verifies, and an entry written after everything was pruned
/// continues it (it does not restart at record 1 from genesis).
pub fn the_audit_log_is_pruned_behind_a_checkpoint_and_goes_on_after_it<S: Store>(mut store: S) {
    const DAY: i64 = 24 * 3_600_000;
    open(&mut store);
    let old: Vec<Commit> = ["timeout", "ban", "unban"]
        .into_iter()
        .map(|a| Commit::without_event().with_audit(audit(a, "v-1", "")))
        .collect();
    store.commit(LIVE, &old).unwrap();
    let mut young = audit("note_add", "v-2", "");
    young.at = T0 + 400 * DAY;
    store
        .commit(LIVE, &[Commit::without_event().with_audit(young)])
        .unwrap();
    let policy = regie::store::RetentionPolicy::default();
    let now = T0 + 370 * DAY;
    let report = store.sweep(LIVE, &policy, now).unwrap();
    assert_eq!(report.audit_records, 3, "the year-old records");
    let left = store.audit_log(LIVE).unwrap();
    assert_eq!(left.iter().map(|r| r.index).collect::<Vec<_>>(), [4]);
    store.verify_audit_chain(LIVE).unwrap();
    assert_eq!(store.sweep(LIVE, &policy, now).unwrap().audit_records, 0);

    // Everything goes; the next entry continues from the checkpoint.
    let last = left[0].hash.clone();
    let later = T0 + 800 * DAY;
    assert_eq!(store.sweep(LIVE, &policy, later).unwrap().audit_records, 1);
    assert!(store.audit_log(LIVE).unwrap().is_empty());
    store.verify_audit_chain(LIVE).unwrap();
    let mut erased = audit("erase_viewer", "v-1", "");
    erased.at = later;
    store
        .commit(LIVE, &[Commit::without_event().with_audit(erased)])
        .unwrap();
    let log = store.audit_log(LIVE).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].index, log[0].prev_hash.as_str()),
        (5, last.as_str())
    );
    store.verify_audit_chain(LIVE).unwrap();
}

/// Runs every conformance test against a store made by `$make`: `Some((guard,
/// store))`, or `None` when the store's server is not there (skipped).
macro_rules! conformance {
    ($module:ident, $make:expr) => {
        mod $module {
            use super::*;
            conformance!(@tests $make;
                a_new_live_starts_at_seq_zero_with_an_epoch,
                committed_events_replay_identically_and_in_order,
                a_gap_or_a_wrong_epoch_is_refused_and_writes_nothing,
                an_event_about_an_unknown_message_is_refused,
                question_answer_and_mark_answered,
                a_reopened_question_is_open_again,
                pin_replace_and_unpin,
                held_then_released_replays_as_it_happened,
                a_hidden_message_is_never_replayed_visible,
                redaction_leaves_only_the_tombstone_everywhere,
                redacting_an_unknown_message_is_refused,
                recent_is_bounded_and_oldest_first,
                sanctions_apply_until_they_end,
                the_viewer_card_shows_history_sanctions_consents_and_masked_contact,
                command_outcomes_are_remembered_once_per_principal,
                the_audit_log_is_chained_in_order,
                the_working_set_names_shared_first_names_and_recent_staff_actions,
                an_unopened_live_is_an_error,
                rules_are_seeded_once_then_kept_by_their_events,
                games_are_stored_with_their_commit_and_read_back,
                game_news_continues_from_the_cursor,
                an_erased_winner_keeps_the_draw_but_not_the_name,
                the_sweep_deletes_what_each_period_no_longer_keeps,
                the_export_holds_everything_about_the_viewer_and_no_one_else,
                a_viewers_request_is_logged_once_per_kind_and_listed_by_due_date,
                settings_and_the_showcase_come_back_from_the_log,
                contact_values_go_after_the_period_of_their_purpose,
                a_live_announced_ahead_keeps_its_announcement_and_its_lifecycle,
                the_staff_log_pages_from_the_newest_and_filters,
                history_search_finds_visible_lines_a_page_at_a_time,
                the_audit_log_is_pruned_behind_a_checkpoint_and_goes_on_after_it,
            );
        }
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let Some((_guard, store)) = $make else {
                    return;
                };
                super::$name(store);
            }
        )*
    };
}

fn sqlite() -> (tempfile::TempDir, regie::store::SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = regie::store::SqliteStore::open(dir.path()).unwrap();
    (dir, store)
}

conformance!(sqlite_store, Some(sqlite()));
conformance!(postgres_store, support::postgres::postgres_store());
