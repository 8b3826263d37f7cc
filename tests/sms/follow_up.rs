//! Post-live follow-ups: an admin texts a segment of an ended live (who
//! asked, voted, entered, won), only the viewers holding the
//! `sms_marketing` consent, after confirming the count; one SMS each with
//! their merge tags; promotional, so held for quiet hours (never dropped)
//! while the alert a viewer asked for is not.

use regie::hub::consent_texts::ConsentTexts;
use regie::protocol::{
    Command, ConsentChannel, ConsentPurpose, Contact, ErrorCode, Event, SegmentCount, ServerFrame,
    SmsCounts, SmsScope, SmsSegment, StaffRole,
};

use crate::kit::{self, NIGHT, TITLE};
use crate::standin::StandIn;
use crate::support::client::{self, Client};
use crate::support::hub::{ManualClock, TestHub};
use crate::support::tokens;

const LEA: &str = "+33612345611";
const HUGO: &str = "+33612345612";
const ZOE: &str = "+33612345613";
const MAX: &str = "+33612345614";
const YANN: &str = "+33612345615";
const NOUR: &str = "+33612345616";

/// Wednesday 2030-03-20 10:00 in Paris (09:00 UTC): a follow-up may leave.
const WEDNESDAY_10H_PARIS: i64 = 1_900_227_600_000;
/// Saturday 2030-04-20 21:00 in Paris (19:00 UTC, summer time): quiet,
/// then Easter Sunday and Easter Monday (a public holiday).
const SATURDAY_21H_PARIS: i64 = 1_902_942_000_000;
/// Tuesday 2030-04-23 08:00 in Paris (06:00 UTC): the next allowed time.
const TUESDAY_8H_PARIS: i64 = 1_903_154_400_000;

const FOLLOW_UP: &str = "Merci {first_name} d'avoir suivi « {live_title} » : {link}";

fn expected_follow_up(first_name: &str) -> String {
    format!(
        "Maison Lina : Merci {first_name} d'avoir suivi « {TITLE} » : \
         https://lina.example/live/{NIGHT} STOP au 36111"
    )
}

/// A hub texting through `standin`, on `clock`, with [`FOLLOW_UP`].
async fn hub_on(standin: &StandIn, clock: &ManualClock) -> TestHub {
    let tweak = kit::tweak(standin);
    let clock = clock.clone();
    TestHub::start_with(move |c| {
        tweak(c);
        c.clock = clock.clock();
        c.sms.follow_up = FOLLOW_UP.into();
    })
    .await
}

/// Staff of `live` with a token issued at the hub's (moved) time.
async fn staff(hub: &TestHub, clock: &ManualClock, live: &str, role: StaffRole) -> Client {
    let token = tokens::token_at(&hub.key, role, "Nadia", live, clock.now(), 3_600_000);
    hub.join(client::staff_hello(live, &token)).await
}

/// The admin announces `live` (scheduled).
async fn announce(hub: &TestHub, clock: &ManualClock, live: &str, title: &str) {
    let mut brand = staff(hub, clock, crate::support::hub::LIVE, StaffRole::Admin).await;
    brand
        .ack(Command::LiveCreate {
            name: live.into(),
            title: title.into(),
            starts_at: Some(kit::STARTS_AT),
        })
        .await;
}

/// The consent to SMS offers, with the phone it collects (national form:
/// the hub texts it in E.164).
fn offers(phone: &str, granted: bool) -> Command {
    Command::Consent {
        purpose: ConsentPurpose::SmsMarketing,
        granted,
        channel: ConsentChannel::Player,
        text_sha256: ConsentTexts::default()
            .sha256(ConsentPurpose::SmsMarketing)
            .expect("the SMS offers consent text"),
        contact: Contact {
            phone: granted.then(|| phone.to_owned()),
            email: None,
        },
    }
}

/// A viewer of [`NIGHT`] who agreed to SMS offers with `phone`.
async fn consenting(hub: &TestHub, first_name: &str, phone: &str) -> Client {
    let mut c = kit::viewer(hub, first_name).await;
    c.ack(offers(phone, true)).await;
    c
}

fn question(text: &str) -> Command {
    Command::Say {
        text: text.into(),
        question: true,
        announcement: false,
    }
}

/// Opens a poll; returns its id.
async fn poll(admin: &mut Client) -> u64 {
    let seq = admin
        .ack(Command::PollOpen {
            question: "La robe en vert ?".into(),
            options: vec!["Oui".into(), "Non".into()],
            duration_secs: None,
        })
        .await
        .expect("an event");
    let Event::PollOpened { poll } = admin.event_at(seq).await.event else {
        panic!("expected poll_opened")
    };
    poll.id
}

/// Opens an instant win with one prize; returns its id.
async fn instant_win(admin: &mut Client) -> u64 {
    let seq = admin
        .ack(Command::InstantWinOpen {
            prize: "Robe Lina".into(),
            winners: 1,
            entry_secs: 600,
            rules: String::new(),
        })
        .await
        .expect("an event");
    let Event::InstantWinOpened { draw } = admin.event_at(seq).await.event else {
        panic!("expected instant_win_opened")
    };
    draw.id
}

async fn segments(admin: &mut Client) -> Vec<(SmsSegment, u64)> {
    match admin.command(Command::SmsSegments).await {
        ServerFrame::SmsSegments { segments, .. } => segments
            .into_iter()
            .map(
                |SegmentCount {
                     segment,
                     recipients,
                 }| (segment, recipients),
            )
            .collect(),
        other => panic!("expected sms_segments, got {other:?}"),
    }
}

/// Waits for an `sms_progress` whose follow-up counts satisfy `done`.
async fn follow_up_seen(staff: &mut Client, done: impl Fn(&SmsCounts) -> bool) -> SmsCounts {
    let frame = staff
        .frame_matching(|f| {
            matches!(f, ServerFrame::SmsProgress { progress }
                if progress.follow_up.as_ref().is_some_and(&done))
        })
        .await;
    let ServerFrame::SmsProgress { progress } = frame else {
        unreachable!()
    };
    progress.follow_up.expect("follow-up counts")
}

/// The follow-up rows of [`NIGHT`]: (state, `next_at`).
fn follow_up_rows(dir: &std::path::Path) -> Vec<(String, i64)> {
    let db = kit::db(dir);
    let mut q = db
        .prepare(
            "SELECT o.state, o.next_at FROM sms_outbox o JOIN lives l ON l.id = o.live_id \
             WHERE l.name = ?1 AND o.kind = 'follow_up' ORDER BY o.id",
        )
        .expect("prepare");
    q.query_map([NIGHT], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::too_many_lines, reason = "one show, start to follow-up")]
async fn a_segment_reaches_only_its_consenting_viewers_once_each_with_their_merge_tags_after_confirming_its_count()
 {
    let standin = StandIn::start().await;
    let clock = ManualClock::new();
    clock.set(WEDNESDAY_10H_PARIS);
    let hub = hub_on(&standin, &clock).await;
    announce(&hub, &clock, NIGHT, TITLE).await;
    let mut lea = consenting(&hub, "Léa", "06 12 34 56 11").await;
    let mut hugo = consenting(&hub, "Hugo", HUGO).await;
    let mut zoe = consenting(&hub, "Zoé", ZOE).await;
    // Inès asks too, and never agreed to SMS offers.
    let mut ines = kit::viewer(&hub, "Inès").await;
    // Yann asked for the start alert only: that phone is for the alert.
    let mut yann = kit::subscriber(&hub, "Yann", YANN, SmsScope::Brand).await;
    // Max agreed, then withdrew: his phone went with it.
    let mut max = consenting(&hub, "Max", MAX).await;
    max.ack(offers(MAX, false)).await;
    // A number that is none is refused clearly.
    let bad = ines.refused(offers("06 12", true)).await;
    assert_eq!(bad.code, ErrorCode::Invalid);
    assert!(
        bad.message.contains("not a phone number"),
        "{}",
        bad.message
    );

    let mut admin = staff(&hub, &clock, NIGHT, StaffRole::Admin).await;
    admin.ack(Command::LiveStart).await;
    standin.wait("the alert", |s| s.to(YANN).len() == 1).await;
    lea.ack(question("Livrez-vous en Belgique ?")).await;
    ines.ack(question("Et en Suisse ?")).await;
    let poll_id = poll(&mut admin).await;
    for v in [&mut hugo, &mut yann, &mut max] {
        v.ack(Command::Vote { poll_id, option: 0 }).await;
    }
    let draw_id = instant_win(&mut admin).await;
    zoe.ack(Command::Enter { draw_id }).await;

    let early = admin.refused(Command::SmsSegments).await;
    assert!(
        early.message.contains("after it ends"),
        "not before the end"
    );
    // The end draws the instant win: Zoé, its only entrant, wins.
    admin.ack(Command::LiveEnd).await;

    // Counts only of the consenting: Inès, Yann and Max are in segments
    // too, and are not counted.
    assert_eq!(
        segments(&mut admin).await,
        [
            (SmsSegment::Asked, 1),
            (SmsSegment::Voted, 1),
            (SmsSegment::Entered, 1),
            (SmsSegment::Won, 1),
        ]
    );
    // The brand's business: a host may not.
    let mut host = staff(&hub, &clock, NIGHT, StaffRole::Host).await;
    assert_eq!(
        host.refused(Command::SmsSegments).await.code,
        ErrorCode::Forbidden
    );
    // The confirmation is the count shown: another count sends nothing.
    let stale = admin
        .refused(Command::SmsFollowUp {
            segment: SmsSegment::Voted,
            recipients: 3,
        })
        .await;
    assert!(stale.message.contains("now has 1"), "{}", stale.message);
    assert!(follow_up_rows(&hub.data_dir).is_empty());

    for segment in [SmsSegment::Voted, SmsSegment::Asked, SmsSegment::Won] {
        let confirmed = Command::SmsFollowUp {
            segment,
            recipients: 1,
        };
        let id = format!("follow-up-{segment}");
        // Sent twice with one id (a console retrying): one effect.
        for _ in 0..2 {
            let answer = admin.command_with_id(&id, confirmed.clone()).await;
            assert!(matches!(answer, ServerFrame::Ack { .. }), "{answer:?}");
        }
    }
    // Zoé entered and won: she is texted once, so nobody is left to text.
    assert!(
        segments(&mut admin)
            .await
            .iter()
            .all(|(_, recipients)| *recipients == 0)
    );
    let entered = admin
        .refused(Command::SmsFollowUp {
            segment: SmsSegment::Entered,
            recipients: 1,
        })
        .await;
    assert!(entered.message.contains("now has 0"), "{}", entered.message);

    standin
        .wait("three follow-ups", |s| {
            [LEA, HUGO, ZOE].iter().all(|p| !s.to(p).is_empty())
        })
        .await;
    // Staff see the counts move: three sent of three.
    let seen = follow_up_seen(&mut admin, |c| c.sent == 3).await;
    assert_eq!((seen.total(), seen.failed, seen.deferred), (3, 0, 0));
    for (phone, name) in [(LEA, "Léa"), (HUGO, "Hugo"), (ZOE, "Zoé")] {
        let got = standin.to(phone);
        assert_eq!(got.len(), 1, "{name}: {got:?}");
        assert_eq!(got[0].body, expected_follow_up(name));
        assert_eq!(got[0].recipients, 1, "one recipient per message");
    }
    assert!(
        standin.to(MAX).is_empty(),
        "a withdrawn consent gets nothing"
    );
    // Yann got the alert he asked for, and nothing more.
    let yann_got = standin.to(YANN);
    assert_eq!(yann_got.len(), 1, "{yann_got:?}");
    assert_eq!(yann_got[0].body, kit::expected_alert("Yann"));
    // One row each: the retries queued nothing more.
    assert_eq!(follow_up_rows(&hub.data_dir).len(), 3);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_at_a_quiet_time_waits_for_the_next_allowed_time_while_the_alert_does_not() {
    let standin = StandIn::start().await;
    let clock = ManualClock::new();
    clock.set(SATURDAY_21H_PARIS);
    let hub = hub_on(&standin, &clock).await;
    announce(&hub, &clock, NIGHT, TITLE).await;
    let mut hugo = consenting(&hub, "Hugo", HUGO).await;
    let _yann = kit::subscriber(&hub, "Yann", YANN, SmsScope::Live).await;

    // Saturday 21:00: the alert Yann asked for leaves at once.
    let mut admin = staff(&hub, &clock, NIGHT, StaffRole::Admin).await;
    admin.ack(Command::LiveStart).await;
    standin.wait("the alert", |s| s.to(YANN).len() == 1).await;
    let poll_id = poll(&mut admin).await;
    hugo.ack(Command::Vote { poll_id, option: 1 }).await;
    admin.ack(Command::LiveEnd).await;
    admin
        .ack(Command::SmsFollowUp {
            segment: SmsSegment::Voted,
            recipients: 1,
        })
        .await;

    // The follow-up is held past Easter Sunday and Easter Monday, to
    // Tuesday 08:00 in Paris; staff see it held.
    assert_eq!(
        follow_up_rows(&hub.data_dir),
        [("queued".to_owned(), TUESDAY_8H_PARIS)]
    );
    let held = follow_up_seen(&mut admin, |c| c.deferred == 1).await;
    assert_eq!((held.queued, held.sent), (1, 0));

    // Another live's alert goes out meanwhile: the sender went past the
    // held follow-up and left it.
    announce(&hub, &clock, "second-show", "Deuxième").await;
    let mut nour = hub.join(client::viewer_hello("second-show", "Nour")).await;
    nour.ack(kit::subscribe(NOUR, SmsScope::Live)).await;
    staff(&hub, &clock, "second-show", StaffRole::Admin)
        .await
        .ack(Command::LiveStart)
        .await;
    standin
        .wait("the second alert", |s| s.to(NOUR).len() == 1)
        .await;
    assert!(standin.to(HUGO).is_empty(), "held, not sent");
    assert_eq!(follow_up_rows(&hub.data_dir)[0].0, "queued", "not dropped");

    // Tuesday 08:00: it leaves, once.
    clock.set(TUESDAY_8H_PARIS);
    standin
        .wait("the follow-up", |s| !s.to(HUGO).is_empty())
        .await;
    let got = standin.to(HUGO);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].body, expected_follow_up("Hugo"));
    let sent = follow_up_seen(&mut admin, |c| c.sent == 1).await;
    assert_eq!((sent.deferred, sent.queued), (0, 0));
    hub.stop().await;
}
