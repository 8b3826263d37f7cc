//! `regie report --live NAME`: the anonymous post-live report, computed
//! from the data dir's store (read-only; the hub may run).
//!
//! `--format table` (default) prints the terminal table; `--format json`
//! the JSON (`docs/report.md`). `--out DIR` also writes `report.json` and
//! the timeline chart, `timeline.svg` and `timeline.png`, there. k comes from `--k`, else the
//! brand file's `[report] k` (`--config`), else 5.
//!
//! Exit codes: 2 for bad arguments (no store, no such live, a live not
//! started, k outside 2 to 11), 1 for the unexpected.

use std::path::PathBuf;

use super::{Failed, usage};
use crate::exit::Exit;
use crate::report::{K, chart, render, suppress};
use crate::store::{SqliteStore, Store};

/// `regie report`
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The live to report on.
    #[arg(long)]
    pub live: String,
    /// The hub's data directory.
    #[arg(long, default_value = "./regie-data")]
    pub data_dir: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Also write `report.json`, `timeline.svg` and `timeline.png` into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The smallest group of viewers a figure may describe (2 to 11).
    #[arg(long)]
    pub k: Option<u32>,
    /// The brand file, for its `[report] k`.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub fn run(args: &ReportArgs) -> Result<Exit, Failed> {
    let k = match (args.k, &args.config) {
        (Some(k), _) => K::new(k).map_err(usage)?,
        (None, Some(file)) => {
            crate::brand::BrandConfig::load(file)
                .map_err(usage)?
                .config
                .report_k
        }
        (None, None) => K::default(),
    };
    let data = &args.data_dir;
    if !data.join(crate::store::DB_FILE).exists() {
        return Err(usage(anyhow::anyhow!(
            "{} holds no store; is --data-dir the hub's data dir?",
            data.display()
        )));
    }
    let keys = super::keys::key_source(data, None)?;
    let mut store = SqliteStore::open_with_keys(data, crate::store::Durability::Normal, keys)
        .map_err(|e| {
            anyhow::Error::new(e).context(format!("cannot open the store in {}", data.display()))
        })?;
    let Some(source) = store.report_source(&args.live, crate::now_millis())? else {
        return Err(usage(anyhow::anyhow!(
            "no live named {:?} in {}",
            crate::privacy::sanitize::sanitize(&args.live),
            data.display()
        )));
    };
    let figures = source.figures().map_err(usage)?;
    let report = suppress::publish(&figures, k);
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        let svg = chart::svg(&report)?;
        let png = chart::png(&report)?;
        for (name, body) in [
            ("report.json", render::json(&report).into_bytes()),
            ("timeline.svg", svg.into_bytes()),
            ("timeline.png", png),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, body)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        }
    }
    match args.format {
        Format::Table => print!("{}", render::table(&report)),
        Format::Json => print!("{}", render::json(&report)),
    }
    Ok(Exit::Success)
}
