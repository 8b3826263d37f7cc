//! `regie audit`: the audit log of a live, read from the data dir while the
//! hub may be serving from it ([`crate::store::audit::read_log`], read-only).
//!
//! - `verify` checks the hash chain (and, with `--anchor`, that a head
//!   exported earlier is still in it). A log pruned by retention starts at
//!   its signed checkpoint, checked under `<data>/audit.key`. Exits 0 when it holds, 1 naming the
//!   first bad record when it does not (as `verify-draw` does for a draw),
//!   2 when the store cannot be read.
//! - `show` prints records, filtered by actor, action and time; every field
//!   a person typed is sanitised for the terminal.
//! - `head` prints the newest record's index and hash, to keep outside the
//!   hub (`HASH@INDEX`, or `--json`).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::{Failed, usage};
use crate::exit::Exit;
use crate::protocol::Millis;
use crate::store::StoreError;
use crate::store::audit::{self, Anchor, AuditRecord, Checkpoint};

/// `regie audit`
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exits 1 naming the first bad record.
    Verify(VerifyArgs),
    /// Print audit records, filtered by actor, action and time.
    Show(ShowArgs),
    /// Print the newest record's index and hash, to anchor outside the hub.
    Head(HeadArgs),
}

/// Which log: the data dir and the live.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// The hub's data directory.
    #[arg(long, default_value = "./regie-data")]
    pub data: PathBuf,
    /// The live session whose log to read.
    #[arg(long, default_value = "show")]
    pub live: String,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// A head exported earlier (`regie audit head`), `HASH@INDEX`: the
    /// chain must still hold that record with that hash. Repeatable.
    #[arg(long, value_name = "HASH@INDEX")]
    pub anchor: Vec<Anchor>,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// Only records by this staff member (name, case-insensitive).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only these actions (wire names: `redact`, `ban`, `viewer_card`...). Repeatable.
    #[arg(long)]
    pub action: Vec<String>,
    /// Only records at or after: RFC 3339 (`2026-05-01T20:00:00Z`,
    /// `…+02:00`) or an age (`2h`, `30m`, `7d`: that long ago).
    #[arg(long, value_parser = parse_when)]
    pub since: Option<When>,
    /// Only records at or before (same forms as `--since`).
    #[arg(long, value_parser = parse_when)]
    pub until: Option<When>,
}

#[derive(Debug, clap::Args)]
pub struct HeadArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// Print `{"live", "index", "hash", "at"}` as JSON instead of `HASH@INDEX`.
    #[arg(long)]
    pub json: bool,
}

/// A point in time from the command line, in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When(pub Millis);

/// RFC 3339 (with `Z` or a `±HH:MM` offset), or an age counted back from now.
fn parse_when(text: &str) -> Result<When, String> {
    parse_when_at(text, SystemTime::now())
}

fn parse_when_at(text: &str, now: SystemTime) -> Result<When, String> {
    let text = text.trim();
    let hint = || {
        format!(
            "{text:?} is neither an RFC 3339 time (2026-05-01T20:00:00Z) nor an age (2h, 30m, 7d)"
        )
    };
    let at = if text.contains('T') || text.contains('t') {
        let (local, offset) = split_offset(text).ok_or_else(hint)?;
        let local = humantime::parse_rfc3339_weak(local).map_err(|_| hint())?;
        if offset >= 0 {
            local.checked_sub(Duration::from_secs(offset.unsigned_abs()))
        } else {
            local.checked_add(Duration::from_secs(offset.unsigned_abs()))
        }
        .ok_or_else(hint)?
    } else {
        let age = humantime::parse_duration(text).map_err(|_| hint())?;
        now.checked_sub(age).ok_or_else(hint)?
    };
    let millis = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| hint())?
        .as_millis();
    Ok(When(Millis::try_from(millis).map_err(|_| hint())?))
}

/// `2026-05-01T20:00:00+02:00` → (`2026-05-01T20:00:00`, +7200 s); `Z` is 0.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return Some((local, 0));
    }
    let (local, tail) = text.split_at(text.len().checked_sub(6)?);
    let sign = match tail.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = tail.get(1..)?.split_once(':')?;
    let hours: i64 = hours.parse().ok().filter(|h| *h < 24)?;
    let minutes: i64 = minutes.parse().ok().filter(|m| *m < 60)?;
    Some((local, sign * (hours * 3600 + minutes * 60)))
}

pub fn run(args: AuditArgs) -> Result<Exit, Failed> {
    match args.command {
        AuditCommand::Verify(args) => verify(&args),
        AuditCommand::Show(args) => show(&args),
        AuditCommand::Head(args) => head(&args),
    }
}

/// The log, or why it cannot be read: a store or live that is not there is
/// a usage error (2), anything else unexpected (1).
fn read(log: &LogArgs) -> Result<Vec<AuditRecord>, Failed> {
    read_with_checkpoint(log).map(|(records, _)| records)
}

/// [`read`], with the retention checkpoint if the log was pruned.
fn read_with_checkpoint(log: &LogArgs) -> Result<(Vec<AuditRecord>, Option<Checkpoint>), Failed> {
    match audit::read_log_and_checkpoint(&log.data.join(crate::store::DB_FILE), &log.live) {
        Ok(read) => Ok(read),
        Err(StoreError::UnknownLive(live)) => Err(usage(anyhow::anyhow!(
            "the store in {} has no live {live:?}",
            log.data.display()
        ))),
        Err(StoreError::Io { path, source }) if source.kind() == std::io::ErrorKind::NotFound => {
            Err(usage(anyhow::anyhow!(
                "{} does not exist; is --data the hub's data dir?",
                path.display()
            )))
        }
        Err(e) => Err(anyhow::Error::new(e)
            .context(format!(
                "cannot read the audit log in {}",
                log.data.display()
            ))
            .into()),
    }
}

fn verify(args: &VerifyArgs) -> Result<Exit, Failed> {
    let live = sanitize_field(&args.log.live);
    let (records, checkpoint) = read_with_checkpoint(&args.log)?;
    let signed = checkpoint.as_ref().map_or(Ok(()), |c| {
        let path = args.log.data.join(audit::AUDIT_KEY_FILE);
        match crate::auth::secret_file::load(&path) {
            Ok(key) => c.verify(&zeroize::Zeroizing::new(key)[..], &args.log.live),
            Err(e) => Err((
                c.index,
                format!("the retention checkpoint cannot be checked: {e}"),
            )),
        }
    });
    if let Err((record, why)) =
        signed.and_then(|()| audit::verify_from(&args.log.live, checkpoint.as_ref(), &records))
    {
        println!(
            "NOT verified: the audit log of live {live:?} is broken at record {record}: {why}"
        );
        return Ok(Exit::Failure);
    }
    let mut ok = true;
    for anchor in &args.anchor {
        match audit::check_anchor(checkpoint.as_ref(), &records, anchor) {
            Ok(()) => println!("anchor {anchor} holds"),
            Err(why) => {
                ok = false;
                println!("NOT verified: anchor {anchor}: {why}");
            }
        }
    }
    if ok {
        match audit::head(checkpoint.as_ref(), &records) {
            Some(head) => println!(
                "verified: the audit log of live {live:?}, {} record{}{}, head {head}",
                records.len(),
                if records.len() == 1 { "" } else { "s" },
                if checkpoint.is_some() {
                    " after the retention checkpoint"
                } else {
                    ""
                }
            ),
            None => println!("verified: the audit log of live {live:?} is empty"),
        }
    }
    Ok(if ok { Exit::Success } else { Exit::Failure })
}

fn show(args: &ShowArgs) -> Result<Exit, Failed> {
    let records = read(&args.log)?;
    let actor = args.actor.as_deref().map(str::to_lowercase);
    let selected = records.iter().filter(|r| {
        let e = &r.entry;
        actor
            .as_deref()
            .is_none_or(|a| e.actor_name.to_lowercase() == a)
            && (args.action.is_empty() || args.action.contains(&e.action))
            && args.since.is_none_or(|When(t)| e.at >= t)
            && args.until.is_none_or(|When(t)| e.at <= t)
    });
    for r in selected {
        println!("{}", show_line(r));
    }
    Ok(Exit::Success)
}

/// One record on one line: index, UTC time, role, who, action, target and
/// the reason in quotes. Every text field is sanitised: a name or reason
/// typed by staff must not drive the reader's terminal.
fn show_line(r: &AuditRecord) -> String {
    let e = &r.entry;
    format!(
        "#{}  {}  {}  {}  {}  {}  \"{}\"",
        r.index,
        utc(e.at),
        e.actor_role.as_str(),
        sanitize_field(&e.actor_name),
        sanitize_field(&e.action),
        sanitize_field(&e.target),
        sanitize_field(&e.reason),
    )
}

fn head(args: &HeadArgs) -> Result<Exit, Failed> {
    let (records, checkpoint) = read_with_checkpoint(&args.log)?;
    let Some(head) = audit::head(checkpoint.as_ref(), &records) else {
        return Err(usage(anyhow::anyhow!(
            "the audit log of live {:?} is empty: nothing to anchor yet",
            sanitize_field(&args.log.live)
        )));
    };
    if args.json {
        // A head kept only by the checkpoint has no record left to date it.
        let at = records.last().map(|r| utc(r.entry.at));
        let doc = serde_json::json!({
            "live": args.log.live,
            "index": head.index,
            "hash": head.hash,
            "at": at,
        });
        println!("{doc}");
    } else {
        println!("{head}");
    }
    Ok(Exit::Success)
}

fn sanitize_field(text: &str) -> String {
    crate::privacy::sanitize(text).into_owned()
}

fn utc(at: Millis) -> String {
    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(at).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_777_665_600; // 2026-05-01T20:00:00Z

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn rfc3339_times_with_any_offset_and_ages_are_read() {
        let now = at(T + 7200);
        let expect = When(i64::try_from(T).unwrap() * 1000);
        for text in [
            "2026-05-01T20:00:00Z",
            "2026-05-01T22:00:00+02:00",
            "2026-05-01T18:30:00-01:30",
            "2h",
            "120m",
        ] {
            assert_eq!(parse_when_at(text, now), Ok(expect), "{text}");
        }
        for bad in [
            "yesterday",
            "2026-05-01T20:00:00+2",
            "2026-13-01T00:00:00Z",
            "",
        ] {
            assert!(parse_when_at(bad, now).is_err(), "{bad:?}");
        }
    }
}
