//! The hub's logs never hold what viewers wrote, their contact data, or
//! staff tokens — even at debug level, through every path that logs.

mod support;

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing::Dispatch;
use tracing::dispatcher::DefaultGuard;

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

thread_local! {
    /// The subscriber a runtime thread logs to while it runs.
    static LOGS_TO: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
}

/// A subscriber at debug level that writes into `captured`.
fn capture_into(captured: &Captured) -> Dispatch {
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    Dispatch::new(subscriber)
}

/// Runs `test` on a runtime of its own whose every thread (this one, the
/// workers, the blocking pool) logs to `dispatch`: a subscriber scoped to
/// one test, not a global one, so tests in this file do not share logs.
fn with_logs_to<F: std::future::Future>(dispatch: &Dispatch, test: F) -> F::Output {
    let on_start = dispatch.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            let guard = tracing::dispatcher::set_default(&on_start);
            LOGS_TO.with(|g| *g.borrow_mut() = Some(guard));
        })
        .on_thread_stop(|| LOGS_TO.with(|g| drop(g.borrow_mut().take())))
        .build()
        .expect("tokio runtime");
    let _here = tracing::dispatcher::set_default(dispatch);
    rt.block_on(test)
}

#[test]
fn logs_hold_no_message_text_contact_data_or_tokens() {
    let captured = Captured::default();
    let token = with_logs_to(&capture_into(&captured), a_busy_session());
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

/// A session through every path that logs: a viewer with contact data and
/// a viewer pass, a staff member, a message with personal data, a redaction,
/// a viewer card, a forged token, garbage frames, a shutdown. Returns the
/// staff token it minted.
async fn a_busy_session() -> String {
    let hub = TestHub::start_with(|c| c.limits.max_bad_frames = 2).await;
    let mut hello = hub.viewer_hello("Julie");
    if let Auth::Viewer {
        contact, pass: key, ..
    } = &mut hello.auth
    {
        *contact = Contact {
            phone: Some("+33 6 98 76 54 32".into()),
            email: Some("contact.secret@example.org".into()),
        };
        *key = Some(support::client::test_key("device-key-secret"));
    }
    let mut julie = hub.join(hello).await;
    // Contact data is stored under the consent it is collected for.
    julie
        .ack(Command::Consent {
            purpose: regie::protocol::ConsentPurpose::PrizeContact,
            granted: true,
            channel: regie::protocol::ConsentChannel::Player,
            text_sha256: "9f".repeat(32),
            contact: Contact {
                phone: Some("+33 6 98 76 54 32".into()),
                email: Some("contact.secret@example.org".into()),
            },
        })
        .await;
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
    let viewer_id = julie
        .welcome
        .you
        .viewer_id
        .clone()
        .expect("viewers have an id");
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
    token
}
