//! The budget of new viewer identities per source address.
//!
//! A viewer pass is free to get: clearing a browser's storage makes a new
//! viewer. What bounds how many one person can make is this budget: so many
//! passes issued per source address and minute (`[viewers]
//! new_identities_per_minute`). A reconnect with a valid pass or a brand
//! token costs nothing. The window is fixed (per address, it starts at the
//! first pass and lasts a minute), on the session clock.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

use crate::protocol::Millis;

/// One minute, the budget's window.
const WINDOW_MS: Millis = 60_000;

/// Addresses tracked before expired windows are first swept: bounds the
/// memory one crowd of addresses can make the hub hold.
const SWEEP_AT: usize = 4096;

/// Passes issued per address in the current window.
#[derive(Debug)]
pub(crate) struct Newcomers {
    per_minute: u32,
    exempt_loopback: bool,
    windows: HashMap<IpAddr, (Millis, u32)>,
    /// The size that triggers the next sweep: twice what the last one
    /// left, so a show start with more live addresses than [`SWEEP_AT`]
    /// sweeps now and then, not at every join (amortised O(1) per join).
    sweep_at: usize,
}

impl Newcomers {
    pub(crate) fn new(per_minute: u32, exempt_loopback: bool) -> Self {
        Self {
            per_minute,
            exempt_loopback,
            windows: HashMap::new(),
            sweep_at: SWEEP_AT,
        }
    }

    /// Whether `source` may get one more pass at `now`; counts it if so.
    /// An unknown source shares one budget with every other unknown one.
    pub(crate) fn admit(&mut self, source: Option<IpAddr>, now: Millis) -> bool {
        let ip = source.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        if self.exempt_loopback && ip.is_loopback() {
            return true;
        }
        if self.windows.len() >= self.sweep_at {
            self.windows
                .retain(|_, (start, _)| now - *start < WINDOW_MS);
            self.sweep_at = SWEEP_AT.max(2 * self.windows.len());
        }
        let (start, used) = self.windows.entry(ip).or_insert((now, 0));
        if now - *start >= WINDOW_MS {
            *start = now;
            *used = 0;
        }
        if *used >= self.per_minute {
            return false;
        }
        *used += 1;
        true
    }
}

/// The address a connection comes from: the TCP peer, or, when the peer
/// is one of the trusted proxies, the last hop of `X-Forwarded-For` that
/// is not itself a trusted proxy. The hops before it were written by the
/// client (a proxy appends to whatever header it was sent), so they are
/// never believed; from any other peer the header is ignored.
pub(crate) fn source_address(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted_proxies: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.rsplit(',')
                .map(|hop| hop.trim().parse::<IpAddr>().ok())
                .find(|hop| hop.is_none_or(|ip| !trusted_proxies.contains(&ip)))
        })
        .flatten();
    Some(forwarded.unwrap_or(peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([203, 0, 113, last])
    }

    #[test]
    fn each_address_has_its_own_budget_per_minute() {
        let mut n = Newcomers::new(2, false);
        assert!(n.admit(Some(ip(1)), 0));
        assert!(n.admit(Some(ip(1)), 10));
        assert!(!n.admit(Some(ip(1)), 20));
        assert!(n.admit(Some(ip(2)), 20));
        assert!(!n.admit(Some(ip(1)), WINDOW_MS - 1));
        assert!(n.admit(Some(ip(1)), WINDOW_MS));
    }

    #[test]
    fn loopback_is_exempt_only_when_asked() {
        let lo = Some(IpAddr::from([127, 0, 0, 1]));
        let mut strict = Newcomers::new(1, false);
        assert!(strict.admit(lo, 0));
        assert!(!strict.admit(lo, 0));
        let mut exempt = Newcomers::new(1, true);
        assert!((0..5).all(|_| exempt.admit(lo, 0)));
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let proxy: SocketAddr = "10.0.0.5:443".parse().unwrap();
        let mut headers = HeaderMap::new();
        // The proxy appends the address it saw; what came before is the
        // client's own writing, never believed.
        headers.insert(
            "x-forwarded-for",
            "203.0.113.66, 198.51.100.7".parse().unwrap(),
        );
        let trusted = [proxy.ip()];
        assert_eq!(
            source_address(Some(proxy), &headers, &trusted),
            Some("198.51.100.7".parse().unwrap())
        );
        // Two trusted proxies in a row: the hop before the inner one.
        headers.insert("x-forwarded-for", "198.51.100.7, 10.0.0.9".parse().unwrap());
        assert_eq!(
            source_address(Some(proxy), &headers, &trusted),
            Some("10.0.0.9".parse().unwrap())
        );
        let both = [proxy.ip(), "10.0.0.9".parse().unwrap()];
        assert_eq!(
            source_address(Some(proxy), &headers, &both),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(source_address(Some(proxy), &headers, &[]), Some(proxy.ip()));
        headers.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(
            source_address(Some(proxy), &headers, &trusted),
            Some(proxy.ip())
        );
    }
}
