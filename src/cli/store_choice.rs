//! `--store`: the data dir's SQLite (`sqlite`, the default) or the
//! PostgreSQL server hub nodes share (`postgres://…`), parsed once for
//! every command that takes it.

use anyhow::Context as _;

use super::{Failed, usage};
use crate::store::PostgresStore;
use crate::store::contact::KeySource;

/// Where `--store` says the lives are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StoreChoice {
    Sqlite,
    Postgres(String),
}

impl StoreChoice {
    /// `sqlite`, or a `postgres://` / `postgresql://` URL; anything else is
    /// a usage error saying so.
    pub(super) fn parse(store: &str) -> Result<Self, Failed> {
        match store {
            "sqlite" => Ok(StoreChoice::Sqlite),
            url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(StoreChoice::Postgres(url.to_owned()))
            }
            _ => Err(usage(anyhow::anyhow!(
                "--store is `sqlite` or a `postgres://` URL"
            ))),
        }
    }
}

/// Runs `work` on the PostgreSQL store at `url`, sealing with `keys`. The
/// blocking client runs a runtime of its own, so it runs on a thread of
/// its own, not on the command's runtime.
pub(super) fn on_postgres<T: Send>(
    url: &str,
    keys: KeySource,
    work: impl FnOnce(&mut PostgresStore) -> Result<T, Failed> + Send,
) -> Result<T, Failed> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut store =
                    PostgresStore::open(url, keys).context("cannot open the PostgreSQL store")?;
                work(&mut store)
            })
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the PostgreSQL client failed").into()))
    })
}
