//! `regie verify-draw`: reads a published draw record and checks it with
//! [`crate::instant_win::verify`]. Exits 0 verified, 1 the record does not
//! check out (or the entrant is missing, or its commitment is not the one
//! given with `--commitment`), 2 the file could not be read or the
//! commitment given is not 64 hex digits.

use anyhow::Context;

use super::{Failed, usage};
use crate::exit::Exit;
use crate::instant_win::{DrawRecord, verify};

/// `regie verify-draw`
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The published draw record (JSON), as the hub publishes it at close.
    pub record: std::path::PathBuf,
    /// Also check that this pseudonymous id is in the entrant list (your
    /// own id, shown by the player when you enter).
    #[arg(long)]
    pub entrant: Option<String>,
    /// Also check that the record answers the commitment you saw when the
    /// instant win opened (hex `sha256(seed)`, shown by the viewer page):
    /// a record with another commitment is not the draw you entered.
    #[arg(long, value_name = "HEX")]
    pub commitment: Option<String>,
}

pub fn run(args: VerifyArgs) -> Result<Exit, Failed> {
    let seen = args
        .commitment
        .as_deref()
        .map(|c| {
            let c = c.trim().to_ascii_lowercase();
            if c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(c)
            } else {
                Err(usage(anyhow::anyhow!(
                    "--commitment must be the 64 hex digits shown when the instant win opened"
                )))
            }
        })
        .transpose()?;
    let text = std::fs::read_to_string(&args.record)
        .with_context(|| format!("cannot read {}", args.record.display()))
        .map_err(usage)?;
    let record: DrawRecord = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a draw record", args.record.display()))
        .map_err(usage)?;
    let mut ok = true;
    match verify(&record) {
        Ok(()) => println!(
            "verified: draw {} ({} winner{} among {} entrants)",
            record.draw_id,
            record.winners.len(),
            if record.winners.len() == 1 { "" } else { "s" },
            record.entrants.len()
        ),
        Err(problems) => {
            ok = false;
            println!("NOT verified: draw {}", record.draw_id);
            for p in problems {
                println!("- {p}");
            }
        }
    }
    if let Some(seen) = seen {
        if record.commitment.to_ascii_lowercase() == seen {
            println!("the commitment is the one shown at launch ({seen})");
        } else {
            ok = false;
            println!(
                "the commitment is NOT the one shown at launch: the record commits to {}, you saw {seen}; this is not the draw you entered",
                crate::privacy::sanitize(&record.commitment)
                    .chars()
                    .take(64)
                    .collect::<String>()
            );
        }
    }
    if let Some(id) = args.entrant {
        if record.entrants.iter().any(|e| e.0 == id) {
            println!("entrant {id:?} is in the entrant list");
        } else {
            ok = false;
            println!("entrant {id:?} is NOT in the entrant list");
        }
    }
    Ok(if ok { Exit::Success } else { Exit::Failure })
}
