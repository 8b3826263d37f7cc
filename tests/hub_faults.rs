//! Faults: the store failing under the hub. A batch that could not be
//! saved is refused as a whole (`internal`, temporary), nobody sees its
//! events, and a retry with the same command id succeeds with no gap.

mod support;

use std::sync::{Arc, Mutex};

use regie::protocol::{
    ChatEntry, CommandId, ConsentState, Contact, ErrorCode, Event, EventFrame, MessageId, Millis,
    Seq, ServerFrame, StaffRole, ViewerCard, ViewerId,
};
use regie::store::{
    AuditRecord, CommandOutcome, Commit, LiveHead, SqliteStore, Store, StoreError, StoredSnapshot,
    StoredViewer, ViewerRecord,
};
use support::hub::TestHub;

/// The SQLite store, except that it fails the commit of one command when
/// told to: the first batch that records an outcome for that command id.
/// Whatever else the hub saves meanwhile (a join, a tick) goes through.
struct FlakyStore {
    inner: SqliteStore,
    fail_command: Arc<Mutex<Option<CommandId>>>,
}

impl FlakyStore {
    /// Whether `batch` is the commit to fail; if so, it fails only once.
    fn take_fault(&self, batch: &[Commit]) -> bool {
        let mut target = self.fail_command.lock().expect("the fault lock");
        // The hub records an outcome under the command's id, tagged with a
        // digest of the command after a `#`.
        let hit = target.as_ref().is_some_and(|id| {
            batch
                .iter()
                .filter_map(|c| c.outcome.as_ref())
                .any(|o| o.id.0.split('#').next() == Some(id.0.as_str()))
        });
        if hit {
            *target = None;
        }
        hit
    }
}

impl Store for FlakyStore {
    fn open_live(&mut self, live: &str) -> Result<LiveHead, StoreError> {
        self.inner.open_live(live)
    }
    fn commit(&mut self, live: &str, batch: &[Commit]) -> Result<(), StoreError> {
        if self.take_fault(batch) {
            return Err(StoreError::Corrupt("injected commit failure".into()));
        }
        self.inner.commit(live, batch)
    }
    fn replay(
        &mut self,
        live: &str,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<EventFrame>, StoreError> {
        self.inner.replay(live, after, limit)
    }
    fn snapshot(&mut self, live: &str, recent: usize) -> Result<StoredSnapshot, StoreError> {
        self.inner.snapshot(live, recent)
    }
    fn message(&mut self, live: &str, id: MessageId) -> Result<Option<ChatEntry>, StoreError> {
        self.inner.message(live, id)
    }
    fn upsert_viewer(
        &mut self,
        live: &str,
        viewer: &ViewerRecord,
        contact: &Contact,
    ) -> Result<(), StoreError> {
        self.inner.upsert_viewer(live, viewer, contact)
    }
    fn viewer(
        &mut self,
        live: &str,
        id: &ViewerId,
        now: Millis,
    ) -> Result<Option<StoredViewer>, StoreError> {
        self.inner.viewer(live, id, now)
    }
    fn viewer_card(
        &mut self,
        live: &str,
        id: &ViewerId,
        with_contact: bool,
        now: Millis,
    ) -> Result<Option<ViewerCard>, StoreError> {
        self.inner.viewer_card(live, id, with_contact, now)
    }
    fn record_consent(
        &mut self,
        live: &str,
        viewer: &ViewerId,
        consent: &ConsentState,
        contact: &Contact,
    ) -> Result<(), StoreError> {
        self.inner.record_consent(live, viewer, consent, contact)
    }
    fn command_outcome(
        &mut self,
        live: &str,
        principal: &str,
        id: &CommandId,
    ) -> Result<Option<CommandOutcome>, StoreError> {
        self.inner.command_outcome(live, principal, id)
    }
    fn audit_log(&mut self, live: &str) -> Result<Vec<AuditRecord>, StoreError> {
        self.inner.audit_log(live)
    }
    fn verify_audit_chain(&mut self, live: &str) -> Result<(), StoreError> {
        self.inner.verify_audit_chain(live)
    }
    fn checkpoint(&mut self) -> Result<(), StoreError> {
        self.inner.checkpoint()
    }

    fn games(&mut self, live: &str) -> Result<regie::store::StoredGames, StoreError> {
        self.inner.games(live)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_is_refused_whole_and_a_retry_succeeds_without_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let fail = Arc::new(Mutex::new(None));
    let store = FlakyStore {
        inner: SqliteStore::open(dir.path()).unwrap(),
        fail_command: fail.clone(),
    };
    let hub = TestHub::start_with_store(dir.path(), Box::new(store), |_| {}).await;
    let mut julie = hub.viewer_with_key("Julie", "julie").await;
    let mut marc = hub.viewer("Marc").await;
    let mut ines = hub.staff(StaffRole::Moderator, "Inès").await;

    let first = julie.say("avant").await;
    *fail.lock().unwrap() = Some(CommandId("c-lost".into()));
    let refused = julie.command_with_id("c-lost", common_say("perdu ?")).await;
    let ServerFrame::Error(e) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(e.code, ErrorCode::Internal);
    assert!(e.temporary, "worth retrying");

    // The retry takes effect, with the next seq: the failed batch left no hole.
    let retried = julie.command_with_id("c-lost", common_say("perdu ?")).await;
    let ServerFrame::Ack { seq: Some(seq), .. } = retried else {
        panic!("{retried:?}")
    };
    assert_eq!(seq, first + 1);
    for client in [&mut marc, &mut ines] {
        let e = client.event_at(seq).await;
        let Event::Message { message } = &e.event else {
            panic!("{e:?}")
        };
        assert_eq!(message.text, "perdu ?");
        assert_eq!(
            message.id,
            MessageId(2),
            "message ids are not skipped either"
        );
        let seqs: Vec<Seq> = client.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![first, seq], "nobody saw the refused batch");
    }
    // The store agrees: a restart serves the same history.
    let dir = {
        drop((julie, marc, ines));
        hub.stop().await;
        dir
    };
    let hub = TestHub::start_in(dir.path(), |_| {}).await;
    let late = hub.viewer("Léa").await;
    assert_eq!(late.welcome.seq, seq);
    hub.stop().await;
}

fn common_say(text: &str) -> regie::protocol::Command {
    regie::protocol::Command::Say {
        text: text.into(),
        question: false,
        announcement: false,
    }
}
