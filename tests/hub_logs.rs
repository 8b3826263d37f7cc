//! The hub's logs never hold what viewers wrote, their contact data, or
//! staff tokens — even at debug level, through every path that logs.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use regie::protocol::{Auth, Command, Contact, StaffRole};
use support::hub::TestHub;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("no test thread panicked while logging")
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_hold_no_message_text_contact_data_or_tokens() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let hub = TestHub::start_with(|c| c.limits.max_bad_frames = 2).await;
    let mut hello = hub.viewer_hello("Julie");
    if let Auth::Viewer { contact, key, .. } = &mut hello.auth {
        *contact = Contact {
            phone: Some("+33 6 98 76 54 32".into()),
            email: Some("contact.secret@example.org".into()),
        };
        *key = Some("device-key-secret".into());
    }
    let mut julie = hub.join(hello).await;
    let token = hub.token(StaffRole::Support, "Sam");
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let seq = julie
        .say("LOGMARKER-text 06 11 22 33 44 chat.secret@example.org")
        .await;
    let id = match sam.event_at(seq).await.event {
        regie::protocol::Event::Message { message } => message.id,
        other => panic!("{other:?}"),
    };
    sam.ack(Command::Redact {
        message_id: id,
        reason: "request".into(),
    })
    .await;
    let viewer_id = julie.welcome.you.viewer_id.clone().unwrap();
    sam.command(Command::ViewerCard { viewer_id }).await;
    // Refusals log too: a forged token, garbage frames.
    let mut forged = hub.viewer_hello("x");
    forged.auth = Auth::Staff {
        token: hub.forged_token(StaffRole::Admin, "Mallory"),
    };
    assert!(hub.try_join(forged).await.is_err());
    for _ in 0..3 {
        support::client::send_text(&mut julie.ws, "LOGMARKER-garbage").await;
    }
    let _ = julie.closed().await;
    drop(sam);
    hub.stop().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("live session open"), "capture works:\n{logs}");
    for secret in [
        "LOGMARKER",
        "06 11 22",
        "chat.secret",
        "98 76 54",
        "contact.secret",
        "device-key-secret",
        token.as_str(),
        &token[7..40],
    ] {
        assert!(!logs.contains(secret), "the logs hold {secret:?}:\n{logs}");
    }
}
