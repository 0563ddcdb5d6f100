//! Canonical URLs: one spelling per page, so that the same call seen twice
//! is recognised. Relative links are resolved, fragments and tracking
//! parameters dropped; host case and default ports are normalized by the
//! `url` crate's WHATWG parser.
//!
//! Which links may be stored at all is [`web_link`]'s rule, owned by the
//! fetch stage because the same rule decides which links are followed.

use url::Url;

use crate::fetch::web_link;

/// Query parameters that only track the visitor and never select content.
fn is_tracking_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || n.starts_with("pk_")
        || n.starts_with("mtm_")
        || n.starts_with("at_")
        || matches!(
            n.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "msclkid"
                | "yclid"
                | "mc_cid"
                | "mc_eid"
                | "xtor"
                | "xtref"
                | "_hsenc"
                | "_hsmi"
                | "ref_src"
                | "igshid"
                | "wt.mc_id"
        )
}

/// Resolves `link` against `base` and returns its canonical form, or `None`
/// when [`web_link`] refuses it (`mailto:`, `javascript:`, garbage, a
/// non-public address).
pub fn canonical_url(base: Option<&Url>, link: &str) -> Option<Url> {
    let mut url = web_link(base, link)?;
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::address::classify;
    use proptest::prelude::*;
    use url::Host;

    fn canon(base: &str, link: &str) -> Option<String> {
        canonical_url(Some(&Url::parse(base).unwrap()), link).map(String::from)
    }

    #[test]
    fn relative_links_resolve_against_the_page() {
        assert_eq!(
            canon("https://www.archives.gouv.fr/appels/", "../aap/2027.html").as_deref(),
            Some("https://www.archives.gouv.fr/aap/2027.html")
        );
        assert_eq!(
            canon("https://a.fr/x/y", "/z").as_deref(),
            Some("https://a.fr/z")
        );
    }

    #[test]
    fn tracking_fragments_case_and_ports_are_normalized() {
        assert_eq!(
            canon(
                "https://a.fr/",
                "HTTPS://WWW.Example.GOUV.fr:443/appel?id=4&utm_source=x&xtor=RSS-1#haut"
            )
            .as_deref(),
            Some("https://www.example.gouv.fr/appel?id=4")
        );
        assert_eq!(
            canon("https://a.fr/", "http://a.fr:80/p?utm_medium=m").as_deref(),
            Some("http://a.fr/p")
        );
        assert_eq!(
            canon("https://a.fr/", "http://a.fr:8080/p").as_deref(),
            Some("http://a.fr:8080/p")
        );
    }

    #[test]
    fn non_web_links_are_refused() {
        assert_eq!(canon("https://a.fr/", "mailto:aap@a.fr"), None);
        assert_eq!(canon("https://a.fr/", "javascript:void(0)"), None);
        assert_eq!(canon("https://a.fr/", "   "), None);
        assert_eq!(canonical_url(None, "/relative/without/base"), None);
    }

    #[test]
    fn protocol_relative_links_get_the_rules_of_absolute_ones() {
        let base = "https://www.archives.gouv.fr/appels/";
        assert_eq!(
            canon(base, "//www.culture.gouv.fr/aap?utm_source=x").as_deref(),
            Some("https://www.culture.gouv.fr/aap")
        );
        assert_eq!(canon(base, "//evil/x").as_deref(), Some("https://evil/x"));
        for hostile in [
            "//127.0.0.1/x",
            "//2130706433/x",
            "//0x7f.1/x",
            "\\\\127.0.0.1\\x",
            "/\\169.254.169.254/latest/",
            "//[::1]/x",
            "//[::ffff:10.0.0.1]/x",
            "//localhost:8080/x",
            "//intranet.localhost/x",
            "https:/\\192.168.1.1/x",
            "http://169.254.169.254/",
            "//user:pw@10.0.0.1/x",
        ] {
            assert_eq!(canon(base, hostile), None, "{hostile}");
        }
    }

    #[test]
    fn a_page_on_a_private_host_may_link_within_that_host() {
        let base = "http://127.0.0.1:8080/liste";
        assert_eq!(
            canon(base, "//127.0.0.1:8080/aap").as_deref(),
            Some("http://127.0.0.1:8080/aap")
        );
        assert_eq!(
            canon(base, "/aap").as_deref(),
            Some("http://127.0.0.1:8080/aap")
        );
        assert_eq!(canon(base, "//10.0.0.1/aap"), None);
    }

    /// Hosts that a link must never lead to from a public page.
    const FORBIDDEN_HOSTS: &[&str] = &[
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "0",
        "0.0.0.0",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:a9fe:a9fe]",
        "[fe80::1]",
        "[fd00::1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
        "localhost",
        "LocalHost.",
        "x.localhost",
    ];

    proptest! {
        #[test]
        fn hostile_links_never_lead_to_a_forbidden_host(
            prefix in prop::sample::select(vec![
                "//", "\\\\", "/\\", "\\/", "///", "http://", "https://", "http:",
                "http:\\\\", " //", "\t//", "HTTP://", "//user:pw@", "//@",
            ]),
            host in prop::sample::select(FORBIDDEN_HOSTS.to_vec()),
            port in prop::option::of(1u16..),
            path in "(/[a-z0-9%.]{0,6}){0,3}",
        ) {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let link = format!("{prefix}{host}{port}{path}");
            let base = Url::parse("https://www.example.gouv.fr/appels/").unwrap();
            prop_assert_eq!(canonical_url(Some(&base), &link), None, "{}", link);
        }

        #[test]
        fn a_protocol_relative_link_equals_its_absolute_spelling(
            host in "[a-z]{1,8}(\\.[a-z]{2,3})?",
            path in "(/[a-z0-9]{0,6}){0,3}",
        ) {
            let base = Url::parse("https://www.example.gouv.fr/appels/").unwrap();
            prop_assert_eq!(
                canonical_url(Some(&base), &format!("//{host}{path}")),
                canonical_url(Some(&base), &format!("https://{host}{path}"))
            );
        }

        #[test]
        fn any_accepted_link_is_a_public_web_url(link in "\\PC{0,60}") {
            let base = Url::parse("https://www.example.gouv.fr/a/b").unwrap();
            if let Some(u) = canonical_url(Some(&base), &link) {
                prop_assert!(matches!(u.scheme(), "http" | "https"));
                let public = match u.host() {
                    Some(Host::Ipv4(ip)) => classify(ip.into()).is_none(),
                    Some(Host::Ipv6(ip)) => classify(ip.into()).is_none(),
                    Some(Host::Domain(d)) => !d.trim_end_matches('.').ends_with("localhost"),
                    None => false,
                };
                prop_assert!(public, "{} from {:?}", u, link);
            }
        }

        #[test]
        fn canonical_form_is_stable(link in "\\PC{0,80}") {
            let base = Url::parse("https://base.example.fr/a/b").unwrap();
            if let Some(u) = canonical_url(Some(&base), &link) {
                let again = canonical_url(None, u.as_str()).expect("a canonical URL parses again");
                prop_assert_eq!(again, u);
            }
        }
    }
}
