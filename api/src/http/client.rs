//! The client's address. Behind a load balancer the TCP peer is the balancer, so the address
//! is taken from `X-Forwarded-For` / `Forwarded` — but only when the peer is a configured
//! trusted proxy (anyone can write those headers), and then the right-most entry that is not
//! itself a trusted proxy: entries to its left were written by the client and prove nothing.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

fn trusted(addr: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&addr))
}

/// One `Forwarded` / `X-Forwarded-For` node: `198.51.100.7`, `198.51.100.7:443`,
/// `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn node_addr(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(addr) = node.parse::<IpAddr>() {
        return Some(addr);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|inner| inner.parse().ok())
}

/// The hops a request passed, oldest first: `Forwarded`'s `for=` when sent, else
/// `X-Forwarded-For`. `None` for a node that is not an address (`unknown`, an obfuscated id).
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| node_addr(value))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(node_addr)
        .collect()
}

/// The address to throttle and log for a request from `peer`.
pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    proxies: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted(peer, proxies) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded_chain(headers).into_iter().rev() {
        match hop {
            Some(addr) if trusted(addr, proxies) => client = addr,
            Some(addr) => return Some(addr),
            // A hop we cannot read: the last address we could trust is the best we know.
            None => return Some(client),
        }
    }
    Some(client)
}

/// One trusted proxy: a CIDR range or a single address.
pub fn parse_proxy(item: &str) -> Result<IpNet, String> {
    let item = item.trim();
    item.parse::<IpNet>()
        .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{item:?} is not an address or a CIDR range"))
}

/// `PARTNERGRAPH_TRUSTED_PROXIES`: comma-separated CIDR ranges or single addresses.
pub fn parse_proxies(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(parse_proxy)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let proxies = parse_proxies("10.0.0.0/8").unwrap();
        let sent = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            client_address(ip("198.51.100.1"), &sent, &proxies),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_entry_is_the_client() {
        let proxies = parse_proxies("10.0.0.0/8, 192.0.2.7").unwrap();
        let sent = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 192.0.2.7")]);
        assert_eq!(
            client_address(ip("10.1.2.3"), &sent, &proxies),
            ip("203.0.113.9")
        );
        let forwarded = headers(&[(
            "forwarded",
            "for=1.1.1.1, for=\"[2001:db8::5]:4711\";proto=https, for=10.9.9.9",
        )]);
        assert_eq!(
            client_address(ip("10.1.2.3"), &forwarded, &proxies),
            ip("2001:db8::5")
        );
        assert_eq!(
            client_address(ip("10.1.2.3"), &HeaderMap::new(), &proxies),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert!(parse_proxies("10.0.0.0/8,nonsense").is_err());
        assert_eq!(parse_proxies("").unwrap(), vec![]);
    }
}
