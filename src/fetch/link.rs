//! The one rule for every link read from a page (item links, detail pages,
//! pagination): resolve against the page first, whatever the spelling
//! (`//host/x`, `\\host\x`, `https:x`, `http://0x7f.1/`), then judge the
//! result, so that a protocol-relative link gets exactly the scrutiny of an
//! absolute one. Extract follows such links and normalize stores them.

use url::{Host, Url};

use super::address::classify;

/// Resolves `link` against `base` (the page it was read on) and keeps it
/// only if it is a web link Vigie may store and follow: http or https, with
/// a host, and that host not a loopback, private, link-local or otherwise
/// non-public address (any IP spelling, or a `localhost` name, RFC 6761)
/// unless the page itself is on that host (then the fetcher's allow-list
/// already let Vigie there). Every address is checked again by the fetcher
/// when it connects; this rule keeps such links out of the catalogue and
/// out of the emails.
pub fn web_link(base: Option<&Url>, link: &str) -> Option<Url> {
    let link = link.trim();
    if link.is_empty() {
        return None;
    }
    let url = match base {
        Some(b) => b.join(link).ok()?,
        None => Url::parse(link).ok()?,
    };
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host()?;
    let local = match &host {
        Host::Ipv4(ip) => classify((*ip).into()).is_some(),
        Host::Ipv6(ip) => classify((*ip).into()).is_some(),
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    };
    let same_host = base.and_then(Url::host).is_some_and(|b| b == host);
    (!local || same_host).then_some(url)
}
