//! Which addresses the fetcher may connect to: only public ones, unless the
//! operator allow-listed them (`fetch.allow_hosts`). This is the guard
//! against server-side request forgery: a source definition, or a redirect
//! it leads to, must not make Vigie reach the machine it runs on, the
//! private network behind it or the cloud metadata service
//! (169.254.169.254).
//!
//! [`classify`] names the non-public range an address is in, from the IANA
//! special-purpose registries (RFC 6890 and its updates); IPv6 addresses
//! that embed an IPv4 address (IPv4-mapped, IPv4-compatible, 6to4, NAT64,
//! Teredo) are judged by the address they embed. [`AllowList`] is the
//! operator's exception list. The fetcher applies both twice: to IP-literal
//! URLs before each request (reqwest connects to those without resolving
//! them), and to every address a host name resolves to (see
//! [`super::resolve`]), so that what is checked is what is connected to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::{Host, Url};

/// Why an address is not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Unspecified,
    ThisNetwork,
    Loopback,
    Private,
    SharedCgnat,
    LinkLocal,
    IetfProtocol,
    Documentation,
    Benchmarking,
    Multicast,
    Broadcast,
    Reserved,
    UniqueLocal,
    SiteLocal,
    Discard,
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressClass::Unspecified => "unspecified",
            AddressClass::ThisNetwork => "\"this network\" (0.0.0.0/8)",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private (RFC 1918)",
            AddressClass::SharedCgnat => "carrier-grade NAT (100.64.0.0/10)",
            AddressClass::LinkLocal => "link-local (cloud metadata, 169.254.0.0/16 or fe80::/10)",
            AddressClass::IetfProtocol => "IETF protocol assignment",
            AddressClass::Documentation => "documentation",
            AddressClass::Benchmarking => "benchmarking",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
            AddressClass::UniqueLocal => "unique local (fc00::/7)",
            AddressClass::SiteLocal => "site-local (fec0::/10)",
            AddressClass::Discard => "discard-only",
        })
    }
}

/// The non-public range `ip` is in, or `None` for a public address.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => AddressClass::Unspecified,
        _ if ip.is_broadcast() => AddressClass::Broadcast,
        (0, _, _) => AddressClass::ThisNetwork,
        (127, _, _) => AddressClass::Loopback,
        (10, _, _) | (192, 168, _) => AddressClass::Private,
        (172, 16..=31, _) => AddressClass::Private,
        (100, 64..=127, _) => AddressClass::SharedCgnat,
        (169, 254, _) => AddressClass::LinkLocal,
        // 192.0.0.0/24 holds protocol assignments; 192.88.99.0/24 was the
        // 6to4 relay anycast prefix (RFC 7526), no longer a host.
        (192, 0, 0) | (192, 88, 99) => AddressClass::IetfProtocol,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressClass::Documentation,
        (198, 18..=19, _) => AddressClass::Benchmarking,
        (224..=239, _, _) => AddressClass::Multicast,
        (240..=255, _, _) => AddressClass::Reserved,
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    let segments = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if ip.is_unspecified() {
        return Some(AddressClass::Unspecified);
    }
    if ip.is_loopback() {
        return Some(AddressClass::Loopback);
    }
    // ::ffff:a.b.c.d (IPv4-mapped) and 64:ff9b::a.b.c.d (NAT64, RFC 6052)
    // reach the IPv4 address they embed.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return classify_v4(embedded(segments[6], segments[7]));
    }
    // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291): never a public
    // host, whatever it embeds; named after the embedded address if that
    // one is not public either.
    if segments[..6] == [0; 6] {
        return Some(
            classify_v4(embedded(segments[6], segments[7])).unwrap_or(AddressClass::Reserved),
        );
    }
    // 2002:AABB:CCDD::/48 is 6to4 for the IPv4 address AA.BB.CC.DD.
    if segments[0] == 0x2002 {
        return classify_v4(embedded(segments[1], segments[2]));
    }
    // Teredo (2001:0::/32): server address in clear, client address inverted.
    if segments[0] == 0x2001 && segments[1] == 0 {
        return classify_v4(embedded(segments[2], segments[3]))
            .or_else(|| classify_v4(embedded(!segments[6], !segments[7])));
    }
    Some(match segments[0] {
        0x0100 if segments[1..4] == [0, 0, 0] => AddressClass::Discard,
        0x0064 if segments[1] == 0xff9b && segments[2] == 1 => AddressClass::Private,
        0x2001 if segments[1] == 0x0db8 => AddressClass::Documentation,
        0x2001 if segments[1] == 0x0002 && segments[2] == 0 => AddressClass::Benchmarking,
        0x2001 if segments[1] <= 0x01ff => AddressClass::IetfProtocol,
        0x3fff if segments[1] <= 0x0fff => AddressClass::Documentation,
        s if s & 0xfe00 == 0xfc00 => AddressClass::UniqueLocal,
        s if s & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
        s if s & 0xffc0 == 0xfec0 => AddressClass::SiteLocal,
        s if s & 0xff00 == 0xff00 => AddressClass::Multicast,
        // Only 2000::/3 is allocated as global unicast (RFC 4291 §2.4).
        s if s & 0xe000 == 0x2000 => return None,
        _ => AddressClass::Reserved,
    })
}

/// An address the fetcher refused to connect to, and why. Carried as the
/// source of reqwest's connection error when a resolved name is refused, so
/// that the fetcher can report it as `FetchError::ForbiddenAddress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{addr} is a {class} address")]
pub struct Forbidden {
    pub addr: IpAddr,
    pub class: AddressClass,
}

/// Hosts and networks the operator lets Vigie reach although they are not
/// public (`fetch.allow_hosts`): IP addresses, CIDR networks and host names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    nets: Vec<IpNet>,
    names: Vec<String>,
}

impl AllowList {
    /// Parses the configuration entries: `127.0.0.1`, `::1`, `[::1]`,
    /// `10.0.0.0/8`, `fd00::/8`, `localhost`, `intranet.example`.
    pub fn parse(entries: &[String]) -> Result<AllowList, String> {
        let mut list = AllowList::default();
        for raw in entries {
            let entry = raw.trim();
            let bare = entry.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<IpAddr>() {
                list.nets.push(IpNet::from(ip.to_canonical()));
            } else if let Ok(net) = entry.parse::<IpNet>() {
                list.nets.push(net.trunc());
            } else if let Ok(Host::Domain(name)) = Host::parse(entry)
                && !entry.is_empty()
            {
                list.names.push(name.trim_end_matches('.').to_string());
            } else {
                return Err(format!(
                    "fetch.allow_hosts entry {raw:?} is neither an IP address, a CIDR network (10.0.0.0/8) nor a host name"
                ));
            }
        }
        Ok(list)
    }

    /// Whether host name `name` (as written in a URL) is allow-listed: all
    /// the addresses it resolves to may then be reached.
    pub fn allows_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.');
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// Whether `ip` may be reached: it is public, or in an allowed network.
    pub fn check(&self, ip: IpAddr) -> Result<(), Forbidden> {
        let ip = ip.to_canonical();
        match classify(ip) {
            None => Ok(()),
            Some(_) if self.nets.iter().any(|net| net.contains(&ip)) => Ok(()),
            Some(class) => Err(Forbidden { addr: ip, class }),
        }
    }

    /// Checks a URL whose host is an IP address (in any spelling the WHATWG
    /// parser accepts: `2130706433`, `0x7f.1`, `0177.0.0.1`, `[::ffff:7f00:1]`
    /// all parse to an address). Host names are checked when resolved.
    pub fn check_url(&self, url: &Url) -> Result<(), Forbidden> {
        match url.host() {
            Some(Host::Ipv4(ip)) => self.check(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check(IpAddr::V6(ip)),
            // The `url` crate turns every IPv4 spelling into `Host::Ipv4`;
            // this arm only guards against a future parser disagreeing with
            // the connector about what an IP literal is.
            Some(Host::Domain(name)) => match name.parse::<IpAddr>() {
                Ok(ip) if !self.allows_name(name) => self.check(ip),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "address_tests.rs"]
mod tests;
