//! The brand's `[page]`: what the viewer page may be framed by, how much
//! chat it keeps and what an ended live says (read by [`crate::brand`],
//! held in [`crate::hub::HubConfig`]).

/// The fewest and most messages a page may keep in its list.
pub const MAX_MESSAGES_RANGE: std::ops::RangeInclusive<usize> = 20..=2000;

/// The longest closing message of an ended live.
pub const MAX_CLOSING_CHARS: usize = 500;

/// The brand's `[page]`: who may frame the page, how much chat it keeps,
/// what an ended live says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageConfig {
    /// `frame_ancestors`: the CSP sources allowed to embed the page in an
    /// iframe (origins such as `https://shop.example.com`, or `'self'`,
    /// `'none'`). Default: `'self'` only.
    pub frame_ancestors: Vec<String>,
    /// `max_messages`: chat entries the page keeps in its DOM, so hours of
    /// chat do not slow a phone down. Default 200.
    pub max_messages: usize,
    /// `closing_message`: shown once the live has ended.
    pub closing_message: String,
}

impl Default for PageConfig {
    fn default() -> Self {
        Self {
            frame_ancestors: vec!["'self'".to_owned()],
            max_messages: 200,
            closing_message: "Ce live est terminé. Merci de l'avoir suivi avec nous, \
                              à très bientôt pour le prochain !"
                .to_owned(),
        }
    }
}

/// Whether `source` may stand in `frame-ancestors`: `'self'`, `'none'`, or
/// an origin (`https://host[:port]`, `*.` allowed at the host's start) with
/// nothing a policy could be smuggled through (no `;`, `,`, quotes, spaces
/// or path).
pub fn check_frame_ancestor(source: &str) -> Result<(), String> {
    if matches!(source, "'self'" | "'none'") {
        return Ok(());
    }
    let Some((scheme, rest)) = source.split_once("://") else {
        return Err(format!(
            "{source:?} is not an origin (write e.g. \"https://shop.example.com\" or \"'self'\")"
        ));
    };
    if !matches!(scheme, "https" | "http") {
        return Err(format!("{source:?}: only https:// or http:// origins"));
    }
    let host = rest.strip_prefix("*.").unwrap_or(rest);
    let (host, port) = host.split_once(':').unwrap_or((host, ""));
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    let port_ok = port.is_empty() || (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    if !host_ok || !port_ok {
        return Err(format!(
            "{source:?} is not an origin: a scheme, a host and an optional port, no path"
        ));
    }
    Ok(())
}
