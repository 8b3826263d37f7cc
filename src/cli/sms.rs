//! `regie sms status --live NAME`: where a live's SMS alert stands, in
//! counts only (queued, sent, delivered, failed...), read from the data
//! dir while the hub serves; `--watch` redraws a progress bar until the
//! alert is done. Never a number or a name.
//!
//! Exit codes: 0; 1 when the store cannot be read; 2 for bad arguments.

use std::path::PathBuf;

use super::Failed;
use crate::exit::Exit;
use crate::privacy::sanitize;
use crate::sms::outbox::Progress;

/// `regie sms`
#[derive(Debug, clap::Args)]
pub struct SmsArgs {
    #[command(subcommand)]
    pub command: SmsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SmsCommand {
    /// A live's alert in counts: queued, sent, delivered, failed.
    Status(StatusArgs),
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The live whose alert to show.
    #[arg(long)]
    pub live: String,
    /// The hub's data directory.
    #[arg(long, default_value = "./regie-data")]
    pub data: PathBuf,
    /// Where the contact keys are, when not in the data dir.
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Redraw a progress bar every second until nothing is left to send.
    #[arg(long)]
    pub watch: bool,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: &SmsArgs) -> Result<Exit, Failed> {
    let SmsCommand::Status(args) = &args.command;
    crate::protocol::check_live_name(&args.live)
        .map_err(|why| super::usage(anyhow::anyhow!("--live must name a live: {why}")))?;
    let keys = super::keys::key_source(&args.data, args.keys.as_deref())?;
    loop {
        let progress = crate::sms::progress(&args.data, keys.clone(), &args.live)?;
        let Some(p) = progress else {
            println!(
                "no SMS alert queued for live {:?} yet",
                sanitize(&args.live)
            );
            return Ok(Exit::Success);
        };
        if args.json {
            println!("{}", serde_json::to_string(&p)?);
        } else {
            println!("{}", line(&p));
        }
        if !args.watch || p.queued + p.sending == 0 {
            return Ok(Exit::Success);
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// `[#######-------------]  7/20 done: 7 sent, 5 delivered, 0 failed, 13 queued`
pub fn line(p: &Progress) -> String {
    use std::fmt::Write;
    const WIDTH: u64 = 20;
    let total = p.total();
    let done = total - p.queued - p.sending;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
    let bar: String = (0..WIDTH)
        .map(|i| if i < filled { '#' } else { '-' })
        .collect();
    let mut text = format!(
        "[{bar}] {done}/{total} done: {} sent, {} delivered, {} failed, {} queued",
        p.sent,
        p.delivered,
        p.failed,
        p.queued + p.sending
    );
    if p.uncertain > 0 {
        let _ = write!(
            text,
            ", {} uncertain (the hub stopped mid-send; not resent)",
            p.uncertain
        );
    }
    if p.cancelled > 0 {
        let _ = write!(text, ", {} cancelled (consent withdrawn)", p.cancelled);
    }
    if let Some(e) = &p.error {
        let _ = write!(text, "; not sent: {}", sanitize(e));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_and_draws_the_bar() {
        let p = Progress {
            queued: 10,
            sent: 10,
            delivered: 4,
            ..Progress::default()
        };
        assert_eq!(
            line(&p),
            "[##########----------] 10/20 done: 10 sent, 4 delivered, 0 failed, 10 queued"
        );
    }
}
