//! Which IP addresses a webhook may be sent to: the SSRF guard's pure classifier.
//!
//! A webhook URL is chosen by a user, so without this guard TaskFlow could be made to call its own network:
//! loopback services, the cloud metadata endpoint, private ranges. [`is_public`] answers whether an address is an
//! ordinary, globally reachable unicast address; the sender refuses every other one (unless private addresses are
//! explicitly allowed), both for IP-literal hosts and for every address a host name resolves to.
//!
//! IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96` and
//! 6to4 `2002::/16`) are judged by the IPv4 address they carry, since that is where the packets end up. Teredo
//! (`2001::/32`) is refused outright: it only works through a tunnel, its embedded client address is obfuscated and
//! may be private, and no webhook receiver has a reason to sit behind it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 ranges that are not public, as (network, prefix length).
const V4_REFUSED: [([u8; 4], u8); 16] = [
    ([0, 0, 0, 0], 8),          // "this network", includes the unspecified address
    ([10, 0, 0, 0], 8),         // private
    ([100, 64, 0, 0], 10),      // CGNAT shared address space
    ([127, 0, 0, 0], 8),        // loopback
    ([169, 254, 0, 0], 16),     // link-local, includes the 169.254.169.254 metadata endpoint
    ([172, 16, 0, 0], 12),      // private
    ([192, 0, 0, 0], 24),       // IETF protocol assignments
    ([192, 0, 2, 0], 24),       // documentation TEST-NET-1
    ([192, 88, 99, 0], 24),     // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16),     // private
    ([198, 18, 0, 0], 15),      // benchmarking
    ([198, 51, 100, 0], 24),    // documentation TEST-NET-2
    ([203, 0, 113, 0], 24),     // documentation TEST-NET-3
    ([224, 0, 0, 0], 4),        // multicast
    ([240, 0, 0, 0], 4),        // reserved, includes broadcast 255.255.255.255
    ([255, 255, 255, 255], 32), // broadcast (also in 240/4; listed for the reader)
];

/// IPv6 ranges that are not public even inside global unicast `2000::/3`, as (network, prefix length).
const V6_REFUSED: [([u16; 8], u8); 6] = [
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32),     // Teredo
    ([0x2001, 0x2, 0, 0, 0, 0, 0, 0], 48),   // benchmarking
    ([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28),  // ORCHID (deprecated)
    ([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28),  // ORCHIDv2
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),     // documentation (RFC 9637)
];

/// Whether `ip` is an ordinary public unicast address that a webhook may be sent to.
///
/// Refused: loopback, private, link-local, CGNAT, unspecified, broadcast, multicast, documentation, benchmarking,
/// reserved and IETF-assignment ranges, IPv6 unique-local (which includes the `fd00:ec2::254` metadata endpoint) and
/// site-local, anything outside IPv6 global unicast `2000::/3`, and IPv6 forms carrying a refused IPv4 address.
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    !V4_REFUSED.iter().any(|(net, len)| in_prefix_v4(bits, u32::from_be_bytes(*net), *len))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    let seg = ip.segments();
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible; :: and ::1 are refused through 0.0.0.0/8).
    if in_prefix_v6(bits, 0xffff_u128 << 32, 96) || in_prefix_v6(bits, 0, 96) {
        return is_public_v4(embedded_v4(bits));
    }
    // NAT64 well-known prefix: the translator connects to the embedded address.
    if in_prefix_v6(bits, u128::from(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0)), 96) {
        return is_public_v4(embedded_v4(bits));
    }
    // 6to4: the packets go to the embedded address (bits 16..48).
    if seg[0] == 0x2002 {
        let v4 = (u32::from(seg[1]) << 16) | u32::from(seg[2]);
        return is_public_v4(Ipv4Addr::from(v4));
    }
    // Only global unicast is public; this also refuses multicast ff00::/8, unique-local fc00::/7, link-local
    // fe80::/10, site-local fec0::/10, NAT64 local-use 64:ff9b:1::/48, discard 100::/64 and SRv6 5f00::/16.
    if !in_prefix_v6(bits, 0x2000_u128 << 112, 3) {
        return false;
    }
    !V6_REFUSED.iter().any(|(net, len)| in_prefix_v6(bits, u128::from(Ipv6Addr::from(*net)), *len))
}

const fn embedded_v4(bits: u128) -> Ipv4Addr {
    // The low 32 bits are the IPv4 address; truncation is the point.
    #[allow(clippy::cast_possible_truncation)]
    let low = bits as u32;
    Ipv4Addr::from_bits(low)
}

const fn in_prefix_v4(addr: u32, net: u32, len: u8) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    addr & mask == net & mask
}

const fn in_prefix_v6(addr: u128, net: u128, len: u8) -> bool {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
    addr & mask == net & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::{WebhookUrl, WebhookUrlHost};
    use proptest::prelude::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap_or_else(|_| panic!("{raw} is not an address"))
    }

    #[test]
    fn every_refused_class_is_refused() {
        let cases = [
            ("0.0.0.0", "unspecified v4"),
            ("0.1.2.3", "this network 0/8"),
            ("10.0.0.1", "private 10/8"),
            ("10.255.255.255", "private 10/8, last"),
            ("100.64.0.1", "CGNAT"),
            ("100.127.255.254", "CGNAT, last"),
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback /8"),
            ("169.254.169.254", "metadata (link-local)"),
            ("169.254.0.1", "link-local"),
            ("172.16.0.1", "private 172.16/12"),
            ("172.31.255.255", "private 172.16/12, last"),
            ("192.0.0.8", "IETF 192.0.0/24"),
            ("192.0.2.1", "documentation TEST-NET-1"),
            ("192.88.99.1", "6to4 relay anycast"),
            ("192.168.1.1", "private 192.168/16"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking, last"),
            ("198.51.100.7", "documentation TEST-NET-2"),
            ("203.0.113.9", "documentation TEST-NET-3"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast SSDP"),
            ("240.0.0.1", "reserved 240/4"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified v6"),
            ("::1", "loopback v6"),
            ("fe80::1", "link-local v6"),
            ("febf::1", "link-local v6, last /10"),
            ("fec0::1", "site-local"),
            ("fc00::1", "unique-local"),
            ("fd00:ec2::254", "AWS metadata v6 (unique-local)"),
            ("ff02::1", "multicast v6"),
            ("2001:db8::1", "documentation v6"),
            ("3fff::1", "documentation v6 (RFC 9637)"),
            ("2001:2::1", "benchmarking v6"),
            ("2001:10::1", "ORCHID"),
            ("2001:20::1", "ORCHIDv2"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("100::1", "discard-only"),
            ("64:ff9b:1::1", "NAT64 local-use"),
            ("::ffff:127.0.0.1", "v4-mapped loopback"),
            ("::ffff:10.1.2.3", "v4-mapped private"),
            ("::ffff:169.254.169.254", "v4-mapped metadata"),
            ("::127.0.0.1", "v4-compatible loopback"),
            ("::192.168.0.1", "v4-compatible private"),
            ("64:ff9b::127.0.0.1", "NAT64 loopback"),
            ("64:ff9b::a9fe:a9fe", "NAT64 metadata"),
            ("2002:7f00:1::", "6to4 of loopback"),
            ("2002:c0a8:101::1", "6to4 of 192.168.1.1"),
            ("2002:a9fe:a9fe::1", "6to4 of metadata"),
            ("5f00::1", "SRv6 SIDs, outside 2000::/3"),
            ("4000::1", "unassigned, outside 2000::/3"),
        ];
        for (raw, class) in cases {
            assert!(!is_public(ip(raw)), "{raw} ({class}) must be refused");
        }
    }

    #[test]
    fn ordinary_public_addresses_are_allowed() {
        let cases = [
            ("1.1.1.1", "public v4"),
            ("8.8.8.8", "public v4"),
            ("9.255.255.255", "just below 10/8"),
            ("11.0.0.0", "just above 10/8"),
            ("100.63.255.255", "just below CGNAT"),
            ("100.128.0.0", "just above CGNAT"),
            ("172.15.255.255", "just below 172.16/12"),
            ("172.32.0.0", "just above 172.16/12"),
            ("192.0.1.1", "between 192.0.0/24 and 192.0.2/24"),
            ("192.167.255.255", "just below 192.168/16"),
            ("198.17.255.255", "just below benchmarking"),
            ("198.20.0.0", "just above benchmarking"),
            ("223.255.255.255", "just below multicast"),
            ("2606:4700:4700::1111", "public v6"),
            ("2001:4860:4860::8888", "public v6 in 2001::/16 outside the special blocks"),
            ("::ffff:8.8.8.8", "v4-mapped public"),
            ("64:ff9b::808:808", "NAT64 of a public address"),
            ("2002:808:808::1", "6to4 of a public address"),
        ];
        for (raw, class) in cases {
            assert!(is_public(ip(raw)), "{raw} ({class}) must be allowed");
        }
    }

    #[test]
    fn numeric_url_forms_are_judged_by_the_address_they_name() {
        let cases = [
            ("http://2130706433/", "decimal 127.0.0.1"),
            ("http://0x7f.1/", "hex and short form of 127.0.0.1"),
            ("http://017700000001/", "octal 127.0.0.1"),
            ("http://0177.0.0.1/", "octal first octet"),
            ("http://127.1/", "short form"),
            ("http://0/", "zero"),
            ("http://[::ffff:127.0.0.1]/", "v4-mapped loopback"),
            ("http://[::ffff:7f00:1]/", "v4-mapped loopback, hex"),
            ("http://[::1]/", "v6 loopback"),
            ("http://[0:0:0:0:0:0:0:1]/", "v6 loopback, long form"),
            ("http://169.254.169.254/latest/meta-data", "metadata"),
            ("http://[fd00:ec2::254]/", "AWS metadata v6"),
            ("http://0xa9.0xfe.0xa9.0xfe/", "hex metadata"),
            ("https://10.0.0.1:8443/hook", "private with port"),
        ];
        for (raw, form) in cases {
            let url = WebhookUrl::parse(raw).unwrap_or_else(|e| panic!("{raw} ({form}) must parse: {e}"));
            let WebhookUrlHost::Ip(addr) = url.host() else {
                panic!("{raw} ({form}) must be read as an IP literal, got {:?}", url.host())
            };
            assert!(!is_public(addr), "{raw} ({form}) read as {addr} must be refused");
        }
    }

    /// First octets whose whole /8 is public.
    fn public_v4() -> impl Strategy<Value = Ipv4Addr> {
        let first = prop_oneof![1u8..=9, 11u8..=99, 101u8..=126, 128u8..=168, 170u8..=171, 173u8..=191, 193u8..=197];
        let first = prop_oneof![first, 199u8..=202, 204u8..=223];
        (first, any::<[u8; 3]>()).prop_map(|(a, [b, c, d])| Ipv4Addr::new(a, b, c, d))
    }

    proptest! {
        #[test]
        fn random_public_v4_addresses_pass(addr in public_v4()) {
            prop_assert!(is_public(IpAddr::V4(addr)));
            prop_assert!(is_public(IpAddr::V6(addr.to_ipv6_mapped())));
        }

        #[test]
        fn random_public_v6_addresses_pass(first in 0x2400u16..=0x2fff, rest in any::<[u16; 7]>()) {
            let [b, c, d, e, f, g, h] = rest;
            let addr = Ipv6Addr::new(first, b, c, d, e, f, g, h);
            prop_assert!(is_public(IpAddr::V6(addr)));
        }

        #[test]
        fn any_address_inside_a_refused_v4_range_is_refused(index in 0..V4_REFUSED.len(), host in any::<u32>()) {
            let (net, len) = V4_REFUSED[index];
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let addr = Ipv4Addr::from((u32::from_be_bytes(net) & mask) | (host & !mask));
            prop_assert!(!is_public(IpAddr::V4(addr)), "{}", addr);
            prop_assert!(!is_public(IpAddr::V6(addr.to_ipv6_mapped())), "mapped {}", addr);
        }
    }
}
