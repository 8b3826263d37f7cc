//! A real PostgreSQL for store tests: a fresh schema per test on the server
//! `REGIE_TEST_POSTGRES` names (default: the loopback cluster that
//! `.ci/postgres.sh` starts), dropped with its guard. No server reachable:
//! the test is skipped, saying why; under CI it fails instead, since
//! `.ci/run` starts one and a skip there would hide that the tests never ran.

use std::sync::atomic::{AtomicU32, Ordering};

use regie::store::PostgresStore;
use regie::store::contact::KeySource;

use super::tmux::under_ci;

/// The variable naming the test server.
pub(crate) const POSTGRES_ENV: &str = "REGIE_TEST_POSTGRES";

/// The cluster `.ci/postgres.sh` starts (trust authentication, loopback).
pub(crate) const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:54329/postgres";

/// One test's schema on the test server, and the contact keys of its store.
pub(crate) struct TestSchema {
    /// The server's URL, as configured.
    server: String,
    /// The database the schema is in: the server's, or the test's own.
    base: String,
    schema: String,
    /// A database of the test's own ([`TestSchema::own_database`]).
    database: Option<String>,
    keys: tempfile::TempDir,
}

/// `url` naming database `db` instead.
fn with_dbname(url: &str, db: &str) -> String {
    let (path, query) = url.split_once('?').map_or((url, ""), |(p, q)| (p, q));
    let host = path.rsplit_once('/').map_or(path, |(h, _)| h);
    if query.is_empty() {
        format!("{host}/{db}")
    } else {
        format!("{host}/{db}?{query}")
    }
}

/// The server's URL, from [`POSTGRES_ENV`] or [`DEFAULT_URL`].
fn base_url() -> String {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// `url` without its password, to print.
fn shown(url: &str) -> String {
    match url.parse::<postgres::Config>() {
        Ok(c) => format!(
            "{:?} port {:?} database {:?}",
            c.get_hosts(),
            c.get_ports(),
            c.get_dbname()
        ),
        Err(_) => "an unparsable URL".to_owned(),
    }
}

fn connect(url: &str) -> Result<postgres::Client, postgres::Error> {
    let mut config: postgres::Config = url.parse()?;
    config.connect_timeout(std::time::Duration::from_secs(3));
    config.connect(postgres::NoTls)
}

impl TestSchema {
    /// A new, empty schema; `None` (said on stderr) when no server answers.
    pub(crate) fn new() -> Option<TestSchema> {
        Self::make(false)
    }

    /// A new schema in a new database of its own: no other test's session
    /// shares its snapshot horizon (what a purge waits for).
    pub(crate) fn own_database() -> Option<TestSchema> {
        Self::make(true)
    }

    fn make(own_database: bool) -> Option<TestSchema> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = base_url();
        let mut admin = match connect(&server) {
            Ok(c) => c,
            Err(e) => {
                assert!(
                    !under_ci(),
                    "no PostgreSQL at {} ({e}), and under CI there must be one \
                     (.ci/run starts it with .ci/postgres.sh)",
                    shown(&server)
                );
                eprintln!(
                    "SKIPPED: no PostgreSQL at {} ({e}); set {POSTGRES_ENV} or run \
                     `source .ci/postgres.sh`",
                    shown(&server)
                );
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "regie_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let (base, database) = if own_database {
            admin
                .batch_execute(&format!("CREATE DATABASE {schema}"))
                .expect("create the test database");
            admin = connect(&with_dbname(&server, &schema)).expect("connect to the test database");
            (with_dbname(&server, &schema), Some(schema.clone()))
        } else {
            (server.clone(), None)
        };
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("create the test schema");
        Some(TestSchema {
            server,
            base,
            schema,
            database,
            keys: tempfile::tempdir().expect("a temp dir for the contact keys"),
        })
    }

    /// The URL of this schema: the server's, with `search_path` set to it
    /// and an `application_name` naming it (to find its sessions).
    pub(crate) fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-csearch_path%3D{}&application_name={}",
            self.base,
            self.schema,
            self.application_name()
        )
    }

    pub(crate) fn application_name(&self) -> &str {
        &self.schema
    }

    /// A store on this schema (each call a new connection, as another node).
    pub(crate) fn store(&self) -> PostgresStore {
        PostgresStore::open(&self.url(), KeySource::Dir(self.keys.path().to_path_buf()))
            .expect("open the PostgreSQL store")
    }

    /// A plain connection in this schema, for what the store does not show.
    pub(crate) fn admin(&self) -> postgres::Client {
        connect(&self.url()).expect("connect to the test server")
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let Ok(mut admin) = connect(&self.server) else {
            return;
        };
        let _ = match &self.database {
            Some(db) => admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")),
            None => admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)),
        };
    }
}

/// A fresh [`TestSchema`] and a store on it, for `conformance!`; `None`
/// when no server answers (skipped, said on stderr).
pub(crate) fn postgres_store() -> Option<(TestSchema, PostgresStore)> {
    let schema = TestSchema::new()?;
    let store = schema.store();
    Some((schema, store))
}
