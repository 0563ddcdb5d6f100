use super::*;
use proptest::prelude::*;

fn class(ip: &str) -> Option<AddressClass> {
    classify(ip.parse().unwrap())
}

#[test]
fn every_non_public_range_is_named() {
    use AddressClass::*;
    let table = [
        ("0.0.0.0", Some(Unspecified)),
        ("0.1.2.3", Some(ThisNetwork)),
        ("127.0.0.1", Some(Loopback)),
        ("127.255.255.254", Some(Loopback)),
        ("10.0.0.1", Some(Private)),
        ("172.16.0.1", Some(Private)),
        ("172.31.255.255", Some(Private)),
        ("192.168.1.1", Some(Private)),
        ("100.64.0.1", Some(SharedCgnat)),
        ("100.127.255.255", Some(SharedCgnat)),
        ("169.254.169.254", Some(LinkLocal)),
        ("192.0.0.8", Some(IetfProtocol)),
        ("192.0.2.1", Some(Documentation)),
        ("198.51.100.7", Some(Documentation)),
        ("203.0.113.9", Some(Documentation)),
        ("198.18.0.1", Some(Benchmarking)),
        ("224.0.0.1", Some(Multicast)),
        ("239.255.255.250", Some(Multicast)),
        ("240.0.0.1", Some(Reserved)),
        ("255.255.255.255", Some(Broadcast)),
        ("::", Some(Unspecified)),
        ("::1", Some(Loopback)),
        ("::ffff:127.0.0.1", Some(Loopback)),
        ("::ffff:169.254.169.254", Some(LinkLocal)),
        ("::127.0.0.1", Some(Loopback)),
        ("::8.8.8.8", Some(Reserved)),
        ("64:ff9b::10.0.0.1", Some(Private)),
        ("64:ff9b:1::1", Some(Private)),
        ("2002:7f00:1::1", Some(Loopback)),
        ("2002:a9fe:a9fe::", Some(LinkLocal)),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", Some(Loopback)),
        ("100::1", Some(Discard)),
        ("2001:db8::1", Some(Documentation)),
        ("3fff::1", Some(Documentation)),
        ("2001:2::1", Some(Benchmarking)),
        ("2001:10::1", Some(IetfProtocol)),
        ("fc00::1", Some(UniqueLocal)),
        ("fd12:3456::1", Some(UniqueLocal)),
        ("fe80::1", Some(LinkLocal)),
        ("febf::1", Some(LinkLocal)),
        ("fec0::1", Some(SiteLocal)),
        ("ff02::1", Some(Multicast)),
        ("4000::1", Some(Reserved)),
        // Public addresses.
        ("8.8.8.8", None),
        ("172.32.0.1", None),
        ("100.128.0.1", None),
        ("193.51.24.1", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::8.8.8.8", None),
        ("2002:0808:0808::1", None),
        ("2a01:e0a::1", None),
        ("2001:4860:4860::8888", None),
    ];
    for (ip, expected) in table {
        assert_eq!(class(ip), expected, "{ip}");
    }
}

#[test]
fn every_spelling_of_an_ip_literal_url_is_checked() {
    let none = AllowList::default();
    for url in [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::1]/",
        "http://0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[fd00::1]:8080/",
    ] {
        let parsed = Url::parse(url).unwrap();
        assert!(none.check_url(&parsed).is_err(), "{url} was let through");
    }
    assert!(
        none.check_url(&Url::parse("http://8.8.8.8/").unwrap())
            .is_ok()
    );
    assert!(
        none.check_url(&Url::parse("http://example.fr/").unwrap())
            .is_ok()
    );
}

#[test]
fn the_allow_list_takes_addresses_networks_and_names() {
    let list = AllowList::parse(&[
        "127.0.0.1".into(),
        "[::1]".into(),
        "10.1.0.0/16".into(),
        "Intranet.Example.".into(),
    ])
    .unwrap();
    let ok = |ip: &str| list.check(ip.parse().unwrap()).is_ok();
    assert!(ok("127.0.0.1"));
    assert!(
        ok("::ffff:127.0.0.1"),
        "an IPv4-mapped spelling of an allowed address"
    );
    assert!(ok("::1"));
    assert!(ok("10.1.200.3"));
    assert!(!ok("127.0.0.2"));
    assert!(!ok("10.2.0.1"));
    assert!(!ok("169.254.169.254"));
    assert!(list.allows_name("intranet.example"));
    assert!(list.allows_name("INTRANET.example."));
    assert!(!list.allows_name("example"));
    assert!(AllowList::parse(&["not a host!".into()]).is_err());
    assert!(AllowList::parse(&["10.0.0.0/33".into()]).is_err());
    assert!(AllowList::parse(&["".into()]).is_err());
}

fn v4_in(net: &'static str) -> impl Strategy<Value = IpAddr> {
    let net: ipnet::Ipv4Net = net.parse().unwrap();
    let base = u32::from(net.network());
    let size = 1u64 << (32 - net.prefix_len());
    (0..size).prop_map(move |offset| IpAddr::V4(Ipv4Addr::from(base + offset as u32)))
}

fn v6_in(net: &'static str) -> impl Strategy<Value = IpAddr> {
    let net: ipnet::Ipv6Net = net.parse().unwrap();
    let base = u128::from(net.network());
    let host_bits = 128 - u32::from(net.prefix_len());
    any::<u128>().prop_map(move |r| {
        let offset = if host_bits == 128 {
            r
        } else {
            r & ((1u128 << host_bits) - 1)
        };
        IpAddr::V6(Ipv6Addr::from(base | offset))
    })
}

fn forbidden_address() -> impl Strategy<Value = IpAddr> {
    let v4 = prop_oneof![
        v4_in("0.0.0.0/8"),
        v4_in("10.0.0.0/8"),
        v4_in("100.64.0.0/10"),
        v4_in("127.0.0.0/8"),
        v4_in("169.254.0.0/16"),
        v4_in("172.16.0.0/12"),
        v4_in("192.0.0.0/24"),
        v4_in("192.0.2.0/24"),
        v4_in("192.168.0.0/16"),
        v4_in("198.18.0.0/15"),
        v4_in("198.51.100.0/24"),
        v4_in("203.0.113.0/24"),
        v4_in("224.0.0.0/4"),
        v4_in("240.0.0.0/4"),
    ];
    let v6 = prop_oneof![
        v6_in("::/128"),
        v6_in("::1/128"),
        v6_in("fc00::/7"),
        v6_in("fe80::/10"),
        v6_in("ff00::/8"),
        v6_in("2001:db8::/32"),
        v6_in("100::/64"),
    ];
    prop_oneof![
        v4.clone(),
        v6,
        // The same IPv4 ranges, embedded in IPv6.
        v4.clone().prop_map(|ip| match ip {
            IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
            v6 => v6,
        }),
        v4.clone().prop_map(|ip| match ip {
            IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_compatible()),
            v6 => v6,
        }),
        v4.clone().prop_map(|ip| match ip {
            IpAddr::V4(v4) => {
                let [a, b, c, d] = v4.octets();
                IpAddr::V6(Ipv6Addr::new(
                    0x64,
                    0xff9b,
                    0,
                    0,
                    0,
                    0,
                    u16::from_be_bytes([a, b]),
                    u16::from_be_bytes([c, d]),
                ))
            }
            v6 => v6,
        }),
        v4.prop_map(|ip| match ip {
            IpAddr::V4(v4) => {
                let [a, b, c, d] = v4.octets();
                IpAddr::V6(Ipv6Addr::new(
                    0x2002,
                    u16::from_be_bytes([a, b]),
                    u16::from_be_bytes([c, d]),
                    0,
                    0,
                    0,
                    0,
                    1,
                ))
            }
            v6 => v6,
        }),
    ]
}

proptest! {
    #[test]
    fn any_address_in_a_forbidden_range_is_refused(ip in forbidden_address()) {
        prop_assert!(AllowList::default().check(ip).is_err(), "{ip} was allowed");
        let url = match ip {
            IpAddr::V4(v4) => format!("http://{v4}/x"),
            IpAddr::V6(v6) => format!("http://[{v6}]/x"),
        };
        prop_assert!(AllowList::default().check_url(&Url::parse(&url).unwrap()).is_err(), "{url}");
    }

    #[test]
    fn an_allowed_network_lets_exactly_its_addresses_through(ip in v4_in("127.0.0.0/8")) {
        let list = AllowList::parse(&["127.0.0.0/24".into()]).unwrap();
        let inside = matches!(ip, IpAddr::V4(v4) if v4.octets()[..3] == [127, 0, 0]);
        prop_assert_eq!(list.check(ip).is_ok(), inside);
    }
}
