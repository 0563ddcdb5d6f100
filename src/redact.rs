//! Masking of credentials in everything Vigie prints: logs, error messages,
//! command output and what is stored for display (a source's URL, its last
//! error). One function per kind of secret, used at every printing place:
//!
//! - [`url`]: a URL with its user-info (`https://user:pw@host/`, which
//!   reqwest sends as HTTP Basic credentials) shown as `https://***@host/`;
//! - [`text`]: the same applied to every URL inside a free text (a message
//!   built by a library, a stored error, a TOML error quoting a line).
//!
//! Source header values (which may come from an environment variable
//! holding a token) are never formatted anywhere; the fetcher also marks
//! them sensitive in the request, so that no `Debug` output shows them.
//! The key and the tokens of a source's `[auth]` are held in
//! `source::Secret`, whose `Debug` and `Display` print [`MASK`], and sent
//! as such headers.
//!
//! URLs keep their type (`url::Url`) until printed; [`url`] is the printing.

use std::fmt;

use url::Url;

/// What replaces a secret in output.
pub const MASK: &str = "***";

/// A URL that prints with its credentials masked.
#[derive(Clone, Copy)]
pub struct RedactedUrl<'a>(&'a Url);

/// `url` for printing: user name and password become `***`.
pub fn url(url: &Url) -> RedactedUrl<'_> {
    RedactedUrl(url)
}

impl fmt::Display for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.username().is_empty() && self.0.password().is_none() {
            return f.write_str(self.0.as_str());
        }
        let mut masked = self.0.clone();
        // Cannot fail: a URL with user-info has a host.
        let _ = masked.set_password(None);
        let _ = masked.set_username(MASK);
        f.write_str(masked.as_str())
    }
}

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// `text` with the user-info of every `scheme://user:pw@host` in it masked,
/// for messages whose URLs were printed by code that does not know them as
/// URLs (library errors, a stored error message).
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // The authority ends at the first `/`, `?`, `#` or blank; a user-info
        // is what precedes its last `@`.
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#')
                    || c.is_whitespace()
                    || c == '"'
                    || c == '\''
                    || c == '>'
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(user_end) => {
                out.push_str(MASK);
                out.push_str(&authority[user_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn credentials_in_a_url_are_masked() {
        let u = Url::parse("https://user:secret@example.fr:8443/aap?x=1").unwrap();
        assert_eq!(url(&u).to_string(), "https://***@example.fr:8443/aap?x=1");
        let only_user = Url::parse("http://secret@example.fr/").unwrap();
        assert_eq!(url(&only_user).to_string(), "http://***@example.fr/");
        let plain = Url::parse("https://example.fr/a@b").unwrap();
        assert_eq!(url(&plain).to_string(), "https://example.fr/a@b");
    }

    #[test]
    fn credentials_inside_a_text_are_masked() {
        assert_eq!(
            text("error sending request for url (http://u:secret@127.0.0.1:80/x): refused"),
            "error sending request for url (http://***@127.0.0.1:80/x): refused"
        );
        assert_eq!(
            text("a http://a.fr/p@q and https://x:y@b.fr?q=@ then ftp://c@d"),
            "a http://a.fr/p@q and https://***@b.fr?q=@ then ftp://***@d"
        );
        assert_eq!(text("no url here: a@b"), "no url here: a@b");
    }

    proptest! {
        #[test]
        fn a_password_never_survives_masking(
            user in "[a-z0-9]{0,8}",
            password in "[A-Za-z0-9]{6,12}",
            host in "[a-z]{1,10}\\.fr",
            path in "(/[a-z0-9@]{0,8}){0,3}",
            prefix in "\\PC{0,20}",
        ) {
            let raw = format!("https://{user}:{password}@{host}{path}");
            let parsed = Url::parse(&raw).unwrap();
            let masked = url(&parsed).to_string();
            prop_assert!(!masked.contains(&format!(":{password}@")), "{}", masked);
            let in_text = text(&format!("{prefix} {raw} failed"));
            prop_assert!(!in_text.contains(&format!(":{password}@")), "{}", in_text);
        }
    }
}
