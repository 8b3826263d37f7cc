//! The embedded store: one SQLite file in the data dir.

use std::path::Path;

use super::{
    AuditRecord, CommandOutcome, Commit, LiveHead, Store, StoreError, StoredSnapshot, StoredViewer,
    ViewerRecord,
};
use crate::protocol::{
    ChatEntry, CommandId, ConsentState, Contact, EventFrame, MessageId, Millis, Seq, ViewerCard,
    ViewerId,
};

/// The database file's name in the data dir.
pub const DB_FILE: &str = "regie.db";

pub struct SqliteStore {
    conn: rusqlite::Connection,
}

impl SqliteStore {
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let conn = rusqlite::Connection::open(data_dir.join(DB_FILE))?;
        Ok(Self { conn })
    }
}

fn not_built() -> StoreError {
    StoreError::Corrupt("SqliteStore is being built".into())
}

impl Store for SqliteStore {
    fn open_live(&mut self, _live: &str) -> Result<LiveHead, StoreError> {
        let _ = &self.conn;
        Err(not_built())
    }
    fn commit(&mut self, _live: &str, _batch: &[Commit]) -> Result<(), StoreError> {
        Err(not_built())
    }
    fn replay(&mut self, _: &str, _: Seq, _: usize) -> Result<Vec<EventFrame>, StoreError> {
        Err(not_built())
    }
    fn snapshot(&mut self, _: &str, _: usize) -> Result<StoredSnapshot, StoreError> {
        Err(not_built())
    }
    fn message(&mut self, _: &str, _: MessageId) -> Result<Option<ChatEntry>, StoreError> {
        Err(not_built())
    }
    fn upsert_viewer(&mut self, _: &str, _: &ViewerRecord, _: &Contact) -> Result<(), StoreError> {
        Err(not_built())
    }
    fn viewer(
        &mut self,
        _: &str,
        _: &ViewerId,
        _: Millis,
    ) -> Result<Option<StoredViewer>, StoreError> {
        Err(not_built())
    }
    fn viewer_card(
        &mut self,
        _: &str,
        _: &ViewerId,
        _: bool,
        _: Millis,
    ) -> Result<Option<ViewerCard>, StoreError> {
        Err(not_built())
    }
    fn record_consent(
        &mut self,
        _: &str,
        _: &ViewerId,
        _: &ConsentState,
    ) -> Result<(), StoreError> {
        Err(not_built())
    }
    fn command_outcome(
        &mut self,
        _: &str,
        _: &str,
        _: &CommandId,
    ) -> Result<Option<CommandOutcome>, StoreError> {
        Err(not_built())
    }
    fn audit_log(&mut self, _: &str) -> Result<Vec<AuditRecord>, StoreError> {
        Err(not_built())
    }
    fn verify_audit_chain(&mut self, _: &str) -> Result<(), StoreError> {
        Err(not_built())
    }
    fn checkpoint(&mut self) -> Result<(), StoreError> {
        Err(not_built())
    }
}
