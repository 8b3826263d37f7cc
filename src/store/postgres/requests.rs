//! The data-protection requests log on PostgreSQL (schema version 3): one
//! log for every hub node of the brand, kept by the same rules as the
//! SQLite data dir's ([`crate::store::requests`]); this is only where.
//!
//! One open request per kind and subject is a unique index here, so two
//! nodes logging the same viewer's click at once log it once: the second
//! insert finds the first one's row.

use postgres::{Client, Row};

use super::Statements;
use crate::protocol::Millis;
use crate::store::requests::{PrivacyRequest, RequestError, RequestKind, RequestsTable};

const COLUMNS: &str = "id, kind, subject, received_at, due_at, extension, closed_at";

/// The log, on the store's connection.
pub(super) struct PgRequests<'a> {
    pub(super) sql: &'a mut Statements,
    pub(super) client: &'a mut Client,
}

fn read(r: &Row) -> Result<PrivacyRequest, RequestError> {
    let field = |e: postgres::Error| RequestError::Store(e.into());
    Ok(PrivacyRequest {
        id: r.try_get(0).map_err(field)?,
        kind: r.try_get(1).map_err(field)?,
        subject: r.try_get(2).map_err(field)?,
        received_at: r.try_get(3).map_err(field)?,
        due_at: r.try_get(4).map_err(field)?,
        extension: r.try_get(5).map_err(field)?,
        closed_at: r.try_get(6).map_err(field)?,
    })
}

impl RequestsTable for PgRequests<'_> {
    fn insert(
        &mut self,
        kind: RequestKind,
        subject: &str,
        received_at: Millis,
        due_at: Millis,
    ) -> Result<i64, RequestError> {
        let inserted = self.sql.query_opt(
            self.client,
            "INSERT INTO privacy_requests (kind, subject, received_at, due_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, subject) WHERE closed_at IS NULL DO NOTHING RETURNING id",
            &[&kind.as_str(), &subject, &received_at, &due_at],
        )?;
        match inserted {
            Some(row) => Ok(row.try_get(0).map_err(|e| RequestError::Store(e.into()))?),
            // Another node logged it first: that request is this one.
            None => self
                .find_open(kind, subject)?
                .map(|r| r.id)
                .ok_or_else(|| RequestError::Unknown(0)),
        }
    }

    fn get(&mut self, id: i64) -> Result<Option<PrivacyRequest>, RequestError> {
        self.sql
            .query_opt(
                self.client,
                &format!("SELECT {COLUMNS} FROM privacy_requests WHERE id = $1"),
                &[&id],
            )?
            .as_ref()
            .map(read)
            .transpose()
    }

    fn find_open(
        &mut self,
        kind: RequestKind,
        subject: &str,
    ) -> Result<Option<PrivacyRequest>, RequestError> {
        self.sql
            .query_opt(
                self.client,
                &format!(
                    "SELECT {COLUMNS} FROM privacy_requests WHERE kind = $1 AND subject = $2 \
                     AND closed_at IS NULL ORDER BY id LIMIT 1"
                ),
                &[&kind.as_str(), &subject],
            )?
            .as_ref()
            .map(read)
            .transpose()
    }

    fn set_extended(&mut self, id: i64, due_at: Millis, reason: &str) -> Result<(), RequestError> {
        self.sql.exec(
            self.client,
            "UPDATE privacy_requests SET due_at = $2, extension = $3 WHERE id = $1",
            &[&id, &due_at, &reason],
        )?;
        Ok(())
    }

    fn set_closed(&mut self, id: i64, at: Millis) -> Result<(), RequestError> {
        self.sql.exec(
            self.client,
            "UPDATE privacy_requests SET closed_at = $2 WHERE id = $1",
            &[&id, &at],
        )?;
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<PrivacyRequest>, RequestError> {
        self.sql
            .query(
                self.client,
                &format!("SELECT {COLUMNS} FROM privacy_requests ORDER BY due_at, id"),
                &[],
            )?
            .iter()
            .map(read)
            .collect()
    }
}
