//! `regie token`: mints a staff token with [`crate::auth::mint`].

use crate::auth::{Claims, SigningKey, mint};
use crate::exit::Exit;
use crate::protocol::Millis;

/// `regie token`
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// host, moderator, support or admin.
    #[arg(long)]
    pub role: crate::protocol::StaffRole,
    /// The staff member's display name.
    #[arg(long)]
    pub name: String,
    /// How long the token stays valid (e.g. 8h, 30m).
    #[arg(long, default_value = "8h")]
    pub ttl: humantime::Duration,
    /// The hub's data directory (holds the signing key).
    #[arg(long, default_value = "./regie-data")]
    pub data: std::path::PathBuf,
    /// The live session the token is for.
    #[arg(long, default_value = "show")]
    pub live: String,
}

/// Prints the token alone on stdout (so it can be piped into a file) and a
/// one-line human note on stderr.
pub fn run(args: &TokenArgs) -> anyhow::Result<Exit> {
    let key = SigningKey::load_or_create(&args.data)?;
    let now = crate::now_millis();
    let ttl = Millis::try_from(args.ttl.as_millis())
        .map_err(|_| anyhow::anyhow!("--ttl {} is too long", args.ttl))?;
    let claims = Claims::new(args.role, &args.name, &args.live, now, ttl)?;
    let token = mint(&key, &claims);
    println!("{token}");
    eprintln!(
        "regie: {} token for {:?} on live {:?}, valid for {} (until {})",
        claims.role,
        claims.name,
        claims.live,
        args.ttl,
        humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH
                + std::time::Duration::from_millis(u64::try_from(claims.expires_at).unwrap_or(0))
        ),
    );
    Ok(Exit::Success)
}
