//! Hub edges (issue 16): a command resent under the same id after its ack
//! was lost is decided once.

mod support;

use regie::protocol::{Command, Event, ServerFrame, StaffRole};
use support::hub::TestHub;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_resent_under_the_same_id_on_a_new_connection_is_decided_once() {
    let hub = TestHub::start().await;
    let mut witness = hub.staff(StaffRole::Moderator, "Témoin").await;
    let mut ada = hub.staff(StaffRole::Admin, "Ada").await;
    let say = Command::Say {
        text: "Code LIVE10 : -10 %".into(),
        question: false,
        announcement: false,
    };
    let first = ada.command_with_id("offline-1", say.clone()).await;
    let ServerFrame::Ack { seq: Some(seq), .. } = first else {
        panic!("expected an ack with a seq, got {first:?}");
    };
    // The ack was lost with the connection; the console resends the same
    // command under the same id on the next one.
    drop(ada.drop_connection());
    let mut again = hub.staff(StaffRole::Admin, "Ada").await;
    let second = again.command_with_id("offline-1", say.clone()).await;
    let ServerFrame::Ack {
        seq: Some(seq_again),
        ..
    } = second
    else {
        panic!("expected the same ack, got {second:?}");
    };
    assert_eq!(
        seq_again, seq,
        "the resend is answered with the first outcome"
    );
    let marker = again.say("fin").await;
    witness.event_at(marker).await;
    let said: Vec<u64> = witness
        .events
        .iter()
        .filter(|e| matches!(&e.event, Event::Message { message } if message.text == "Code LIVE10 : -10 %"))
        .map(|e| e.seq)
        .collect();
    assert_eq!(said, [seq], "one message, not two");
    hub.stop().await;
}
