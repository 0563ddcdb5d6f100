//! Canonical URLs: one spelling per page, so that the same call seen twice
//! is recognised. Relative links are resolved, fragments and tracking
//! parameters dropped; host case and default ports are normalized by the
//! `url` crate's WHATWG parser.

use url::Url;

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
/// when it is not an http(s) URL (`mailto:`, `javascript:`, garbage).
pub fn canonical_url(base: Option<&Url>, link: &str) -> Option<Url> {
    let link = link.trim();
    if link.is_empty() {
        return None;
    }
    let mut url = match base {
        Some(b) => b.join(link).ok()?,
        None => Url::parse(link).ok()?,
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
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
    use proptest::prelude::*;

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

    proptest! {
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
