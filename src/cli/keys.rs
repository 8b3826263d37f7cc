//! `regie keys`: the data dir's keys. `rotate contact` replaces the
//! contact-data key and re-seals every stored value under the new one, in
//! batches, while the hub keeps serving ([`crate::store::contact::rotate`]
//! describes the steps and how the hub learns the new key). With `--store
//! postgres://…` it re-seals what hub nodes share, under the keys the
//! environment gives (`store::postgres`'s rotation says the steps).

use std::path::PathBuf;

use anyhow::Context;

use super::store_choice::{StoreChoice, on_postgres};
use super::{Failed, usage};
use crate::exit::Exit;
use crate::store::DB_FILE;
use crate::store::contact::{self, ContactError, KeySource};

/// `regie keys`
#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Rotate a key: a new key, every value re-sealed, the old key removed.
    Rotate(RotateArgs),
}

/// The keys that can be rotated.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Rotatable {
    /// `contact.key`, which seals viewers' phone and e-mail.
    Contact,
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// Which key.
    pub key: Rotatable,
    /// The hub's data directory (holds `regie.db`).
    #[arg(long, default_value = "./regie-data")]
    pub data: PathBuf,
    /// Where the key files are, when not in the data dir (as `serve --keys`).
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Viewers re-sealed per transaction: the hub waits at most one batch.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: u32,
    /// Where the sealed values are: `sqlite` (the data dir's), or the
    /// `postgres://…` URL hub nodes share. There, the keys must come from
    /// the environment (`REGIE_CONTACT_KEY`, the new one, and
    /// `REGIE_CONTACT_KEY_PREVIOUS`, the old), given to every node first: a
    /// key file made here would reach no other node.
    #[arg(long, value_name = "URL", default_value = "sqlite")]
    pub store: String,
}

pub fn run(args: &KeysArgs) -> Result<Exit, Failed> {
    match &args.command {
        KeysCommand::Rotate(args) => rotate(args),
    }
}

fn rotate(args: &RotateArgs) -> Result<Exit, Failed> {
    let Rotatable::Contact = args.key;
    if let StoreChoice::Postgres(url) = StoreChoice::parse(&args.store)? {
        return rotate_shared(&url, args);
    }
    let db = args.data.join(DB_FILE);
    if !db.exists() {
        return Err(usage(anyhow::anyhow!(
            "{} does not exist; is --data the hub's data dir?",
            db.display()
        )));
    }
    let keys_dir = args.keys.clone().unwrap_or_else(|| args.data.clone());
    let source = KeySource::from_env_or(&keys_dir).map_err(usage)?;
    if let KeySource::Dir(dir) = &source
        && !dir.join(contact::CONTACT_KEY_FILE).exists()
    {
        return Err(usage(anyhow::anyhow!(
            "{} has no {}; start `regie serve` on it first, or pass --keys",
            dir.display(),
            contact::CONTACT_KEY_FILE
        )));
    }
    let batch = usize::try_from(args.batch).unwrap_or(usize::MAX);
    let done = match contact::rotate(&db, &source, batch) {
        Ok(done) => done,
        Err(e @ (ContactError::BadEnvKey | ContactError::EnvNotRotatable)) => {
            return Err(usage(e));
        }
        Err(e) => return Err(anyhow::Error::new(e).context("the rotation stopped").into()),
    };
    if matches!(source, KeySource::Env { .. }) {
        println!(
            "re-sealed {} contact values under the key in {}; remove {} now",
            done.resealed,
            contact::CONTACT_KEY_ENV,
            contact::PREVIOUS_KEYS_ENV
        );
    } else {
        println!(
            "rotated contact.key: new key id {}, {} contact values re-sealed in {} batches, {} old key file{} removed",
            crate::hex(&done.new_id),
            done.resealed,
            done.batches,
            done.removed.len(),
            if done.removed.len() == 1 { "" } else { "s" }
        );
    }
    Ok(Exit::Success)
}

/// The rotation on the PostgreSQL store hub nodes share: re-seal only, the
/// keys the environment's.
fn rotate_shared(url: &str, args: &RotateArgs) -> Result<Exit, Failed> {
    let keys_dir = args.keys.clone().unwrap_or_else(|| args.data.clone());
    let source = KeySource::from_env_or(&keys_dir).map_err(usage)?;
    if let KeySource::Dir(_) = source {
        return Err(usage(anyhow::anyhow!(
            "a rotation on a shared store takes its keys from {} (the new key) and {} (the old \
             one), given to every node first: a key file made here would reach no other node",
            contact::CONTACT_KEY_ENV,
            contact::PREVIOUS_KEYS_ENV
        )));
    }
    let batch = usize::try_from(args.batch).unwrap_or(usize::MAX);
    let done = on_postgres(url, source, |store| {
        store
            .reseal_contact(batch)
            .context("the rotation stopped")
            .map_err(Failed::from)
    })?;
    println!(
        "re-sealed {} contact values under the key in {} ({} batches, {} audit checkpoints \
         signed again); remove {} from every node now",
        done.values,
        contact::CONTACT_KEY_ENV,
        done.batches,
        done.checkpoints,
        contact::PREVIOUS_KEYS_ENV
    );
    Ok(Exit::Success)
}

/// Used by `serve`: the key source its flags and environment name.
pub fn key_source(
    data: &std::path::Path,
    keys: Option<&std::path::Path>,
) -> Result<KeySource, Failed> {
    KeySource::from_env_or(keys.unwrap_or(data))
        .context("cannot read the contact key")
        .map_err(usage)
}
