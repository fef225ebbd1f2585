//! Which IP address a request comes from, for per-IP rate limits.
//!
//! `X-Forwarded-For` is honoured only when the direct peer is a configured trusted proxy, and
//! then only up to the first untrusted hop from the right (security.md item 22): a client that
//! connects directly and sends its own `X-Forwarded-For` cannot reset its per-IP counter.
//! Per-IP buckets key on [`rate_key`]: an IPv6 client is its /64 (one subscriber's network),
//! so rotating addresses inside it does not buy a fresh budget.

use std::net::{IpAddr, Ipv6Addr};

/// An IP network in CIDR form (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    base: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// Parses `addr` or `addr/prefix`.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix.parse::<u8>().ok()?)),
            None => (text.trim(), None),
        };
        let base: IpAddr = addr.parse().ok()?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { base, prefix })
    }

    /// Whether `ip` lies inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(base) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(base) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key of `ip`'s per-IP rate-limit buckets: an IPv4 address as is (IPv4-mapped IPv6
/// included), an IPv6 address as its /64 network (`2001:db8:1:2::/64`). One subscriber
/// usually holds a whole /64 (often far more), so keying on the full address would give one
/// client 2^64 fresh buckets.
pub fn rate_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{network}/64")
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNetwork>);

impl TrustedProxies {
    /// No proxy is trusted: the peer address is always the client.
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts the given networks.
    pub fn new(networks: Vec<IpNetwork>) -> Self {
        Self(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client address for a request from `peer` carrying `forwarded_for` (the raw
    /// `X-Forwarded-For` values, in header order).
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An unparsable hop ends the trusted chain: believe nothing further left of it.
            let Ok(ip) = hop.parse::<IpAddr>() else {
                return client;
            };
            let ip = canonical(ip);
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| IpNetwork::parse(n).unwrap()).collect())
    }

    #[test]
    fn direct_clients_cannot_spoof_forwarded_for() {
        let trusted = proxies(&["10.0.0.0/8"]);
        for spoof in ["1.2.3.4", "5.6.7.8, 9.9.9.9"] {
            assert_eq!(
                trusted.client_ip(ip("203.0.113.7"), &[spoof]),
                ip("203.0.113.7")
            );
        }
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.168.1.1"]);
        let peer = ip("10.1.2.3");
        assert_eq!(
            trusted.client_ip(peer, &["6.6.6.6, 198.51.100.9, 192.168.1.1"]),
            ip("198.51.100.9"),
            "the leftmost value is whatever the client wrote and is not believed"
        );
        assert_eq!(trusted.client_ip(peer, &[]), peer);
        assert_eq!(
            trusted.client_ip(peer, &["garbage, 198.51.100.9"]),
            ip("198.51.100.9")
        );
        assert_eq!(
            trusted.client_ip(peer, &["198.51.100.9", "10.9.9.9"]),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_and_ipv4_is_unchanged() {
        let key = |text: &str| rate_key(ip(text));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
    }

    #[test]
    fn networks_parse_and_match_v4_v6_and_mapped_addresses() {
        let net = IpNetwork::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.255.0.1")));
        assert!(net.contains(ip("::ffff:10.0.0.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(IpNetwork::parse("::1").unwrap().contains(ip("::1")));
        assert!(
            IpNetwork::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        assert!(
            IpNetwork::parse("fd00::/8")
                .unwrap()
                .contains(ip("fd12::1"))
        );
        assert_eq!(IpNetwork::parse("10.0.0.0/33"), None);
        assert_eq!(IpNetwork::parse("nonsense"), None);
    }
}
