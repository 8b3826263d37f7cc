//! `regie privacy export-optins`: the brand's opt-ins for one purpose, for
//! its CRM, with the proof per row ([`crate::privacy::optins`]).
//!
//! Reads every live of the data dir's store (the hub may be serving), opens
//! the contact values with the keys `serve` uses, writes the file mode
//! 0600 (an existing one only with `--force`), then appends one
//! content-free audit record to each live whose opt-ins left: action
//! `export_optins`, the purpose as target, the row count as reason — never
//! an address.

use std::path::PathBuf;

use super::{Failed, open, usage};
use crate::exit::Exit;
use crate::privacy::export::write_private;
use crate::privacy::optins::{OPTINS_AUDIT_ACTION, OptInFormat, purpose_wire_name, render};
use crate::protocol::{ConsentPurpose, StaffRole};
use crate::store::{AuditEntry, Commit, Store};

/// `regie privacy export-optins`
#[derive(Debug, clap::Args)]
pub struct ExportOptinsArgs {
    /// The hub's data directory.
    #[arg(long, default_value = "./regie-data")]
    pub data: PathBuf,
    /// Which opt-ins.
    #[arg(long, value_enum)]
    pub purpose: PurposeArg,
    /// CSV (formula-guarded, for spreadsheets and CRM imports) or JSON.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FormatArg,
    /// Where to write; must not exist unless `--force`.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace `--out` if it exists.
    #[arg(long)]
    pub force: bool,
    /// Who ran the export, for the audit log.
    #[arg(long, default_value = "operator")]
    pub by: String,
    /// Directory of the contact key files, when not the data dir (as
    /// `serve --keys`); `REGIE_CONTACT_KEY` overrides both.
    #[arg(long)]
    pub keys: Option<PathBuf>,
}

/// A purpose as `--purpose` spells it (the store's enum stays free of clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PurposeArg {
    /// E-mail offers and news from the brand.
    Marketing,
    /// An SMS when the brand's next live starts.
    SmsReminders,
    /// Being contacted after winning a prize.
    PrizeContact,
}

impl From<PurposeArg> for ConsentPurpose {
    fn from(p: PurposeArg) -> Self {
        match p {
            PurposeArg::Marketing => ConsentPurpose::Marketing,
            PurposeArg::SmsReminders => ConsentPurpose::SmsReminders,
            PurposeArg::PrizeContact => ConsentPurpose::PrizeContact,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Csv,
    Json,
}

impl From<FormatArg> for OptInFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Csv => OptInFormat::Csv,
            FormatArg::Json => OptInFormat::Json,
        }
    }
}

pub(super) fn export_optins(args: &ExportOptinsArgs) -> Result<Exit, Failed> {
    let by = args.by.trim();
    if by.is_empty() {
        return Err(usage(anyhow::anyhow!("--by must name who runs the export")));
    }
    let mut store = open(&args.data, args.keys.as_deref())?;
    let purpose = ConsentPurpose::from(args.purpose);
    let rows = store.opt_ins(purpose)?;
    let purpose_name = &purpose_wire_name(purpose);
    let now = crate::now_millis();
    let text = render(&rows, purpose_name, args.format.into(), now);
    write_private(&args.out, text.as_bytes(), args.force)
        .map_err(|e| super::write_failed(e, &args.out))?;
    // One record per live whose data left, after the file is written.
    let mut lives: Vec<&str> = rows.iter().map(|r| r.live.as_str()).collect();
    lives.dedup();
    for live in lives {
        let count = rows.iter().filter(|r| r.live == live).count();
        store.open_live(live)?;
        let audit = AuditEntry {
            actor_name: by.to_owned(),
            actor_role: StaffRole::Admin,
            action: OPTINS_AUDIT_ACTION.into(),
            target: purpose_name.clone(),
            reason: format!(
                "CRM export: {count} opt-in{}",
                if count == 1 { "" } else { "s" }
            ),
            at: now,
        };
        store.commit(live, &[Commit::without_event().with_audit(audit)])?;
    }
    println!(
        "exported {} {purpose_name} opt-in{} to {}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        args.out.display()
    );
    Ok(Exit::Success)
}
