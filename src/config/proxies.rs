//! `CHATPASS_TRUSTED_PROXIES` and what it decides: the client address a request is
//! counted under by the per-address limits. Pure: no IO.
//!
//! A request from a trusted proxy is keyed on the rightmost `X-Forwarded-For` entry that
//! is not itself a trusted proxy (the address the outermost trusted hop saw); from any
//! other peer the header is ignored, so a client cannot choose its own address. IPv6
//! clients are keyed by their /64 (one host usually holds the whole /64).

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;

use super::parse::ConfigError;

/// How many `X-Forwarded-For` entries, from the right, are looked at.
const MAX_HOPS: usize = 32;

/// The proxies whose `X-Forwarded-For` is believed. Empty: none (the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A list of addresses and CIDRs separated by commas or spaces
    /// (`10.0.0.0/8, 192.0.2.7 ::1`).
    pub fn parse(var: &'static str, raw: &str) -> Result<Self, ConfigError> {
        let mut nets = Vec::new();
        for item in raw.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(net) if net != net.trunc() => {
                    return Err(ConfigError::new(
                        var,
                        format!("{item:?} has host bits set; write the network ({})", net.trunc()),
                    ))
                }
                Ok(net) if net.prefix_len() == 0 => {
                    return Err(ConfigError::new(
                        var,
                        format!(
                        "{item:?} trusts every address, so any client could name itself; list your proxies"
                    ),
                    ))
                }
                Ok(net) => net,
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(ConfigError::new(
                            var,
                            format!(
                                "{item:?} is not an address or a CIDR (like 10.0.0.0/8 or 2001:db8::/32)"
                            ),
                        ))
                    }
                },
            };
            nets.push(canonical_net(net));
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the listed proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client a request from `peer` with these `X-Forwarded-For` values (in header
    /// order, as bytes: a client's non-ASCII entry spoils only itself, not the entries the
    /// proxies appended) is counted as, keyed for the limits (see [`limit_key`]).
    pub fn client<'a>(&self, peer: IpAddr, forwarded_for: impl IntoIterator<Item = &'a [u8]>) -> IpAddr {
        limit_key(self.client_address(peer, forwarded_for))
    }

    fn client_address<'a>(&self, peer: IpAddr, forwarded_for: impl IntoIterator<Item = &'a [u8]>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let entries: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|v| v.split(|b| *b == b','))
            .map(|entry| std::str::from_utf8(entry).map_or("(not UTF-8)", str::trim))
            .collect();
        let mut client = peer;
        for entry in entries.iter().rev().take(MAX_HOPS) {
            // Garbage where a trusted hop should have written an address: nothing to the
            // left of it can be believed; count the request under the last trusted hop.
            let Some(ip) = parse_entry(entry) else {
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, `[v6]`, or an address with a port. Zone ids
/// (`fe80::1%eth0`), names, `unknown` and empty entries are not addresses.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = entry.parse::<std::net::SocketAddr>() {
        return Some(addr.ip());
    }
    entry.strip_prefix('[')?.strip_suffix(']')?.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// A network written as IPv4-mapped IPv6 (`::ffff:10.0.0.0/104`) is that IPv4 network, as
/// peers are compared in their IPv4 form.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        other => other,
    }
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key a client address is counted under: IPv4 as it is, IPv6 as its /64 network.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(s: &str) -> TrustedProxies {
        TrustedProxies::parse("CHATPASS_TRUSTED_PROXIES", s).unwrap()
    }

    impl TrustedProxies {
        /// [`TrustedProxies::client`] with header values given as text.
        fn client_of<const N: usize>(&self, peer: IpAddr, values: [&str; N]) -> IpAddr {
            self.client(peer, values.map(str::as_bytes))
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let none = TrustedProxies::default();
        assert_eq!(none.client_of(ip("198.51.100.9"), ["203.0.113.1"]), ip("198.51.100.9"));
        let some = proxies("10.0.0.0/8");
        assert_eq!(some.client_of(ip("198.51.100.9"), ["203.0.113.1, 10.0.0.1"]), ip("198.51.100.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_entry_is_the_client() {
        let p = proxies("10.0.0.0/8, 192.0.2.7");
        // The client spoofs a first entry; the proxies append what they saw.
        let header = ["1.2.3.4, 203.0.113.5, 10.1.1.1"];
        assert_eq!(p.client_of(ip("192.0.2.7"), header), ip("203.0.113.5"));
        // The same, split over two header lines.
        assert_eq!(p.client_of(ip("192.0.2.7"), ["1.2.3.4", "203.0.113.5, 10.1.1.1"]), ip("203.0.113.5"));
        // A trusted proxy that sends no header: the proxy itself.
        assert_eq!(p.client_of(ip("10.2.2.2"), [] as [&str; 0]), ip("10.2.2.2"));
        assert_eq!(p.client_of(ip("10.2.2.2"), [""]), ip("10.2.2.2"));
        // Every hop trusted: the leftmost.
        assert_eq!(p.client_of(ip("10.2.2.2"), ["10.3.3.3, 10.4.4.4"]), ip("10.3.3.3"));
        // Ports and brackets.
        assert_eq!(p.client_of(ip("10.2.2.2"), ["203.0.113.5:4711"]), ip("203.0.113.5"));
        assert_eq!(p.client_of(ip("10.2.2.2"), ["[2001:db8::1]:443"]), ip("2001:db8::"));
    }

    #[test]
    fn a_clients_non_utf8_entry_spoils_only_itself_and_mapped_networks_match() {
        let p = proxies("127.0.0.1");
        let line: &[u8] = b"\xff\xfe, 203.0.113.5";
        assert_eq!(p.client(ip("127.0.0.1"), [line]), ip("203.0.113.5"));
        let mapped = proxies("::ffff:10.0.0.0/104");
        assert_eq!(mapped.client_of(ip("10.9.9.9"), ["203.0.113.5"]), ip("203.0.113.5"));
    }

    #[test]
    fn garbage_where_an_address_should_be_counts_under_the_last_trusted_hop() {
        let p = proxies("10.0.0.0/8");
        let long = "9".repeat(10 * 1024);
        for bad in [
            "garbage",
            "unknown",
            "fe80::1%eth0",
            "203.0.113.5, ,",
            long.as_str(),
            "\u{202e}1.2.3.4",
            "300.1.1.1",
        ] {
            assert_eq!(p.client_of(ip("10.2.2.2"), [bad]), ip("10.2.2.2"), "{bad:?}");
        }
        // Garbage further left than the client entry does not matter.
        assert_eq!(p.client_of(ip("10.2.2.2"), ["garbage, 203.0.113.5"]), ip("203.0.113.5"));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_slash_64_and_mapped_ipv4_is_ipv4() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2::ffff")), limit_key(ip("2001:db8:1:2:1::")));
        assert_ne!(limit_key(ip("2001:db8:1:2::")), limit_key(ip("2001:db8:1:3::")));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
        let p = proxies("::1");
        assert_eq!(
            p.client_of(ip("::ffff:127.0.0.1"), ["203.0.113.5"]),
            ip("::ffff:127.0.0.1").to_canonical()
        );
    }

    #[test]
    fn bad_lists_are_one_line_naming_the_setting() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "example.com",
            "10.0.0.1/8/8",
            "fe80::1%eth0",
            "::1/129",
            "0.0.0.0/0",
            "::/0",
            "10.1.2.3/8",
        ] {
            let error = TrustedProxies::parse("CHATPASS_TRUSTED_PROXIES", bad).unwrap_err();
            assert_eq!(error.var, "CHATPASS_TRUSTED_PROXIES", "{bad}");
        }
        assert_eq!(proxies(" 10.0.0.0/8 ,192.0.2.7  ::1 ").0.len(), 3);
        assert!(proxies("").is_empty());
    }
}
