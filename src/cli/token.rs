//! `regie token`: mints a staff token with [`crate::auth::mint`], with the
//! key of the hub whose data dir `--data` names. It never creates a key: a
//! token signed by a key no hub holds would only be refused.

use super::{Failed, usage};
use crate::auth::{AuthError, Claims, DEFAULT_MAX_TTL, SigningKey, checked_ttl, mint};
use crate::exit::Exit;

/// `regie token`
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// host, moderator, support or admin.
    #[arg(long)]
    pub role: crate::protocol::StaffRole,
    /// The staff member's display name.
    #[arg(long)]
    pub name: String,
    /// How long the token stays valid (e.g. 8h, 30m), at most --max-ttl.
    #[arg(long, default_value = "8h")]
    pub ttl: humantime::Duration,
    /// The longest --ttl allowed: the brand's cap on how long a staff token
    /// lives.
    #[arg(long, env = "REGIE_TOKEN_MAX_TTL", default_value_t = DEFAULT_MAX_TTL.into())]
    pub max_ttl: humantime::Duration,
    /// The running hub's data directory (holds the signing key `regie serve`
    /// created).
    #[arg(long, default_value = "./regie-data")]
    pub data: std::path::PathBuf,
    /// The live session the token is for; '*' for a brand-wide token,
    /// admitted to every live of the hub (a console that switches lives).
    #[arg(long, default_value = "show")]
    pub live: String,
}

/// Prints the token alone on stdout (so it can be piped into a file) and a
/// one-line human note on stderr.
pub fn run(args: &TokenArgs) -> Result<Exit, Failed> {
    let ttl = checked_ttl(args.ttl.into(), args.max_ttl.into()).map_err(usage)?;
    let claims =
        Claims::new(args.role, &args.name, &args.live, crate::now_millis(), ttl).map_err(|e| {
            match e {
                AuthError::InvalidClaims(_) => usage(e),
                other => other.into(),
            }
        })?;
    let key = SigningKey::load(&args.data).map_err(|e| match e {
        AuthError::NoKey { .. } => usage(e),
        other => other.into(),
    })?;
    let token = mint(&key, &claims);
    println!("{token}");
    let scope = if claims.live == crate::auth::ANY_LIVE {
        "every live of the hub".to_string()
    } else {
        format!("live {:?}", claims.live)
    };
    eprintln!(
        "regie: {} token for {:?} on {scope}, valid for {} (until {})",
        claims.role,
        claims.name,
        args.ttl,
        humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH
                + std::time::Duration::from_millis(u64::try_from(claims.expires_at).unwrap_or(0))
        ),
    );
    Ok(Exit::Success)
}
