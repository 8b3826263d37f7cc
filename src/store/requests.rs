//! The data-protection requests log: each request a viewer makes (access,
//! erasure, rectification...) with the date it arrived, the date it is due
//! and where it stands.
//!
//! Art. 12(3): an answer is due within one month of receipt, extendable by
//! two further months when requests are complex or many, with the reason
//! given. [`due_after`] counts calendar months (31 January + one month is
//! the last day of February), in UTC. The log is data-dir wide: a request
//! is about a person, not a live. `regie privacy requests` reads and
//! writes it.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use crate::calendar::{civil_from_days, days_from_civil};
use crate::protocol::Millis;

/// Months an answer is due in (Art. 12(3)).
pub const DUE_MONTHS: u32 = 1;
/// Months an extension adds (Art. 12(3)).
pub const EXTENSION_MONTHS: u32 = 2;

/// Which right a request exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Art. 15/20: a copy of their data.
    Access,
    /// Art. 16: correct their data.
    Rectify,
    /// Art. 17: erase their data.
    Erase,
    /// Art. 21: object to processing.
    Object,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Rectify => "rectify",
            RequestKind::Erase => "erase",
            RequestKind::Object => "object",
        }
    }
}

/// One request as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyRequest {
    pub id: i64,
    /// A kind's wire name ([`RequestKind::as_str`]).
    pub kind: String,
    /// Who asked: a viewer id, or how to reach them.
    pub subject: String,
    pub received_at: Millis,
    pub due_at: Millis,
    /// Why the deadline was extended, once it was.
    pub extension: Option<String>,
    pub closed_at: Option<Millis>,
}

impl PrivacyRequest {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// Why a change to the log was refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("no request #{0}")]
    Unknown(i64),
    #[error("request #{0} is closed")]
    Closed(i64),
    #[error("request #{0} was already extended (Art. 12(3) allows one extension)")]
    AlreadyExtended(i64),
    #[error("an extension needs a reason (it is given to the person who asked)")]
    NoReason,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for RequestError {
    fn from(e: rusqlite::Error) -> Self {
        RequestError::Store(StoreError::Db(e))
    }
}

const DAY_MS: i64 = 86_400_000;

fn days_in_month(year: i64, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    u32::try_from(days_from_civil(next_year, next_month, 1) - days_from_civil(year, month, 1))
        .unwrap_or(28)
}

/// `at` plus `months` calendar months, same time of day, the day clamped
/// to the target month's last (UTC).
pub fn due_after(at: Millis, months: u32) -> Millis {
    let days = at.div_euclid(DAY_MS);
    let time = at.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    let index = i64::from(month - 1) + i64::from(months);
    let year = year + index.div_euclid(12);
    let month = u32::try_from(index.rem_euclid(12)).unwrap_or(0) + 1;
    let day = day.min(days_in_month(year, month));
    days_from_civil(year, month, day) * DAY_MS + time
}

/// Where the log is kept: the primitive reads and writes the rules below
/// ([`add`], [`add_once`], [`extend`], [`close`]) are written on, so the
/// SQLite data dir and PostgreSQL keep one log with one set of rules.
pub trait RequestsTable {
    /// Logs a new open request; returns its id.
    fn insert(
        &mut self,
        kind: RequestKind,
        subject: &str,
        received_at: Millis,
        due_at: Millis,
    ) -> Result<i64, RequestError>;
    fn get(&mut self, id: i64) -> Result<Option<PrivacyRequest>, RequestError>;
    /// The oldest open request of this kind by this subject.
    fn find_open(
        &mut self,
        kind: RequestKind,
        subject: &str,
    ) -> Result<Option<PrivacyRequest>, RequestError>;
    fn set_extended(&mut self, id: i64, due_at: Millis, reason: &str) -> Result<(), RequestError>;
    fn set_closed(&mut self, id: i64, at: Millis) -> Result<(), RequestError>;
    /// Every request, soonest due first (ties by id).
    fn list(&mut self) -> Result<Vec<PrivacyRequest>, RequestError>;
}

/// Logs a request received at `received_at`; returns it.
pub fn add(
    log: &mut dyn RequestsTable,
    kind: RequestKind,
    subject: &str,
    received_at: Millis,
) -> Result<PrivacyRequest, RequestError> {
    let id = log.insert(
        kind,
        subject,
        received_at,
        due_after(received_at, DUE_MONTHS),
    )?;
    log.get(id)?.ok_or(RequestError::Unknown(id))
}

/// Logs a request unless the same subject already has an open one of the
/// same kind; returns the request and whether it is new. A viewer who
/// clicks "ask for a copy" twice has one request, and one deadline.
pub fn add_once(
    log: &mut dyn RequestsTable,
    kind: RequestKind,
    subject: &str,
    received_at: Millis,
) -> Result<(PrivacyRequest, bool), RequestError> {
    match log.find_open(kind, subject)? {
        Some(request) => Ok((request, false)),
        None => Ok((add(log, kind, subject, received_at)?, true)),
    }
}

/// An open request, or why it cannot change.
fn open_request(log: &mut dyn RequestsTable, id: i64) -> Result<PrivacyRequest, RequestError> {
    let request = log.get(id)?.ok_or(RequestError::Unknown(id))?;
    if !request.is_open() {
        return Err(RequestError::Closed(id));
    }
    Ok(request)
}

/// Extends an open request's deadline by [`EXTENSION_MONTHS`], once, for a
/// reason that is given.
pub fn extend(
    log: &mut dyn RequestsTable,
    id: i64,
    reason: &str,
) -> Result<PrivacyRequest, RequestError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RequestError::NoReason);
    }
    let request = open_request(log, id)?;
    if request.extension.is_some() {
        return Err(RequestError::AlreadyExtended(id));
    }
    log.set_extended(id, due_after(request.due_at, EXTENSION_MONTHS), reason)?;
    log.get(id)?.ok_or(RequestError::Unknown(id))
}

/// Closes an open request (answered) at `now`.
pub fn close(
    log: &mut dyn RequestsTable,
    id: i64,
    now: Millis,
) -> Result<PrivacyRequest, RequestError> {
    open_request(log, id)?;
    log.set_closed(id, now)?;
    log.get(id)?.ok_or(RequestError::Unknown(id))
}

/// The open requests, soonest due first: what the hub lists for support
/// (`rights_requests`).
pub fn open_requests(log: &mut dyn RequestsTable) -> Result<Vec<PrivacyRequest>, StoreError> {
    match log.list() {
        Ok(all) => Ok(all.into_iter().filter(PrivacyRequest::is_open).collect()),
        Err(RequestError::Store(e)) => Err(e),
        // Listing changes nothing, so no other refusal can come back.
        Err(other) => Err(StoreError::Corrupt(other.to_string())),
    }
}

/// A viewer's own request as the hub logs it ([`add_once`]): `true` when
/// it is new.
pub fn log_viewer_request(
    log: &mut dyn RequestsTable,
    kind: RequestKind,
    subject: &str,
    received_at: Millis,
) -> Result<bool, StoreError> {
    match add_once(log, kind, subject, received_at) {
        Ok((_, added)) => Ok(added),
        Err(RequestError::Store(e)) => Err(e),
        Err(other) => Err(StoreError::Corrupt(other.to_string())),
    }
}

/// The log in the data dir's SQLite file.
pub(super) struct SqliteRequests<'c>(pub(super) &'c Connection);

const COLUMNS: &str = "id, kind, subject, received_at, due_at, extension, closed_at";

fn read(r: &rusqlite::Row) -> rusqlite::Result<PrivacyRequest> {
    Ok(PrivacyRequest {
        id: r.get(0)?,
        kind: r.get(1)?,
        subject: r.get(2)?,
        received_at: r.get(3)?,
        due_at: r.get(4)?,
        extension: r.get(5)?,
        closed_at: r.get(6)?,
    })
}

impl RequestsTable for SqliteRequests<'_> {
    fn insert(
        &mut self,
        kind: RequestKind,
        subject: &str,
        received_at: Millis,
        due_at: Millis,
    ) -> Result<i64, RequestError> {
        self.0.execute(
            "INSERT INTO privacy_requests (kind, subject, received_at, due_at, status) \
             VALUES (?1, ?2, ?3, ?4, 'open')",
            params![kind.as_str(), subject, received_at, due_at],
        )?;
        Ok(self.0.last_insert_rowid())
    }

    fn get(&mut self, id: i64) -> Result<Option<PrivacyRequest>, RequestError> {
        Ok(self
            .0
            .query_row(
                &format!("SELECT {COLUMNS} FROM privacy_requests WHERE id = ?1"),
                [id],
                read,
            )
            .optional()?)
    }

    fn find_open(
        &mut self,
        kind: RequestKind,
        subject: &str,
    ) -> Result<Option<PrivacyRequest>, RequestError> {
        Ok(self
            .0
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM privacy_requests WHERE kind = ?1 AND subject = ?2 \
                     AND closed_at IS NULL ORDER BY id LIMIT 1"
                ),
                params![kind.as_str(), subject],
                read,
            )
            .optional()?)
    }

    fn set_extended(&mut self, id: i64, due_at: Millis, reason: &str) -> Result<(), RequestError> {
        self.0.execute(
            "UPDATE privacy_requests SET due_at = ?2, extension = ?3 WHERE id = ?1",
            params![id, due_at, reason],
        )?;
        Ok(())
    }

    fn set_closed(&mut self, id: i64, at: Millis) -> Result<(), RequestError> {
        self.0.execute(
            "UPDATE privacy_requests SET status = 'closed', closed_at = ?2 WHERE id = ?1",
            params![id, at],
        )?;
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<PrivacyRequest>, RequestError> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {COLUMNS} FROM privacy_requests ORDER BY due_at, id"
        ))?;
        Ok(stmt
            .query_map([], read)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i64, month: u32, day: u32) -> Millis {
        days_from_civil(year, month, day) * DAY_MS
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-1, 0, 59, 365, 11_016, 20_513, 40_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn a_month_is_a_calendar_month_clamped_to_its_last_day() {
        assert_eq!(due_after(at(2026, 5, 1), 1), at(2026, 6, 1));
        assert_eq!(due_after(at(2026, 1, 31), 1), at(2026, 2, 28));
        assert_eq!(due_after(at(2028, 1, 31), 1), at(2028, 2, 29));
        assert_eq!(due_after(at(2026, 12, 15), 1), at(2027, 1, 15));
        assert_eq!(due_after(at(2026, 11, 30), 3), at(2027, 2, 28));
        assert_eq!(
            due_after(at(2026, 5, 1) + 3_600_000, 1),
            at(2026, 6, 1) + 3_600_000
        );
    }
}
