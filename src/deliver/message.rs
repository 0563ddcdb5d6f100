//! Composes the RFC 5322 bytes of one digest email, once, at enqueue: the
//! outbox stores these bytes and every attempt sends them unchanged, so a
//! retry or a resend after a crash carries the same `Message-ID` and, when
//! DKIM is on, the same valid signature.
//!
//! Headers: `From`, `Reply-To`, `To`, `Subject` (control characters
//! removed, RFC 2047-encoded by lettre), `Message-ID` (`<uuid@from-domain>`),
//! `Date`, `List-Id` (RFC 2919), `List-Unsubscribe` (RFC 2369) and
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058),
//! `MIME-Version`, and a `multipart/alternative` body (text, then HTML, UTF-8,
//! transfer encoding chosen by lettre).
//!
//! DKIM is signed here rather than at send time so that the stored bytes are
//! final. Consequences, accepted: `Date` and the signature's `t=` are the
//! enqueue time, not the send time (RFC 5322 §3.6.1 defines `Date` as the
//! moment the message is ready to enter the mail system, which enqueue is);
//! lettre sets no `x=` expiry, so a message retried hours later still
//! verifies; and after a key rotation the old selector must stay published
//! until the outbox holding messages signed with it has drained.

use std::time::SystemTime;

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use super::MailConfig;

/// What the caller wants sent. The message is built from it at enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Unique per logical email, e.g. `digest:<subscriber_id>:<yyyy-mm-dd>`.
    pub idempotency_key: String,
    pub subscriber_id: Option<i64>,
    /// The recipient's address (`nom@commune.fr` or `Mairie <nom@commune.fr>`).
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The subscriber's one-click unsubscribe link; `https://` for RFC 8058.
    pub list_unsubscribe_url: String,
    /// Overrides `mail.list_unsubscribe_mailto` for this message: an
    /// address, or a complete `mailto:` URI.
    pub list_unsubscribe_mailto: Option<String>,
}

/// A composed message, ready to store.
#[derive(Debug, Clone)]
pub struct BuiltMessage {
    pub bytes: Vec<u8>,
    /// The `Message-ID` header value, angle brackets included.
    pub message_id: String,
    /// The recipient's bare address, for the SMTP envelope.
    pub recipient: String,
}

/// The headers the DKIM signature covers. RFC 8058 §4 requires the two
/// List-Unsubscribe headers to be signed; `Message-ID` and `Date` are signed
/// so that a replayed copy cannot pose as a new message. Not
/// `Content-Type`: lettre writes a multipart's `Content-Type` with the body,
/// outside the headers it signs, so listing it makes every signature fail
/// (the body hash still covers the parts and their boundaries).
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
];

/// Builds (and signs, when DKIM is configured) the message for `msg`.
pub fn build_message(
    msg: &NewMessage,
    mail: &MailConfig,
    now: DateTime<Utc>,
) -> anyhow::Result<BuiltMessage> {
    let from: Mailbox = mail
        .from
        .parse()
        .with_context(|| format!("mail.from `{}` is not a valid mailbox", mail.from))?;
    let to: Mailbox = msg
        .to
        .parse()
        .with_context(|| format!("the recipient `{}` is not a valid address", msg.to))?;
    let domain = from.email.domain().to_string();
    let message_id = format!("<{}@{}>", uuid::Uuid::new_v4().simple(), domain);

    let mut builder = Message::builder()
        .from(from)
        .to(to.clone())
        .subject(clean_subject(&msg.subject))
        .message_id(Some(message_id.clone()))
        .date(SystemTime::from(now))
        .raw_header(header("List-Id", format!("Vigie <digest.{domain}>")));
    if !mail.reply_to.is_empty() {
        let reply_to: Mailbox = mail
            .reply_to
            .parse()
            .with_context(|| format!("mail.reply_to `{}` is not a valid mailbox", mail.reply_to))?;
        builder = builder.reply_to(reply_to);
    }
    let (unsubscribe, one_click) = list_unsubscribe(msg, mail)?;
    builder = builder.raw_header(header("List-Unsubscribe", unsubscribe));
    if one_click {
        builder = builder.raw_header(header(
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".to_string(),
        ));
    }
    let mut message = builder
        .multipart(MultiPart::alternative_plain_html(
            msg.text.clone(),
            msg.html.clone(),
        ))
        .context("composing the message")?;
    if mail.dkim_enabled() {
        message.sign(&dkim_config(mail)?);
    }
    Ok(BuiltMessage {
        bytes: message.formatted(),
        message_id,
        recipient: to.email.to_string(),
    })
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// Scraped titles can end up in subjects: CR, LF and every other control
/// character become one space, so no input can start a new header line
/// (lettre would RFC 2047-encode them anyway; this keeps the decoded
/// subject on one line too).
pub fn clean_subject(subject: &str) -> String {
    subject
        .split(char::is_control)
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `List-Unsubscribe` value and whether one-click (RFC 8058) applies:
/// it requires an HTTPS URI, so an `http://` link (a laptop setup) is
/// listed without `List-Unsubscribe-Post`.
fn list_unsubscribe(msg: &NewMessage, mail: &MailConfig) -> anyhow::Result<(String, bool)> {
    let url = url::Url::parse(&msg.list_unsubscribe_url).with_context(|| {
        format!(
            "the unsubscribe link `{}` is not a URL",
            msg.list_unsubscribe_url
        )
    })?;
    let one_click = match url.scheme() {
        "https" => true,
        "http" => false,
        other => bail!("the unsubscribe link must be https:// (RFC 8058), not `{other}:`"),
    };
    // `Url` serializes to ASCII with percent-encoding: no space, comma or
    // angle bracket can break the header's `<…>, <…>` list.
    let mut value = format!("<{url}>");
    let mailto = msg
        .list_unsubscribe_mailto
        .as_deref()
        .unwrap_or(&mail.list_unsubscribe_mailto);
    if !mailto.is_empty() {
        let uri = if mailto.starts_with("mailto:") {
            url::Url::parse(mailto)
                .with_context(|| format!("`{mailto}` is not a mailto: URI"))?
                .to_string()
        } else {
            let address: lettre::Address = mailto
                .parse()
                .with_context(|| format!("`{mailto}` is not an email address"))?;
            format!("mailto:{address}?subject=unsubscribe")
        };
        ensure!(
            !uri.contains(['<', '>', ' ', ',']),
            "the unsubscribe mailto `{uri}` cannot be listed in List-Unsubscribe"
        );
        value.push_str(&format!(", <{uri}>"));
    }
    Ok((value, one_click))
}

/// relaxed/relaxed: lettre's `DkimConfig::default_config` signs
/// `simple/relaxed`, which verifiers such as dkimpy reject (lettre issues
/// #927, #1104).
fn dkim_config(mail: &MailConfig) -> anyhow::Result<DkimConfig> {
    let pem = std::fs::read_to_string(&mail.dkim_key_file).with_context(|| {
        format!(
            "reading the DKIM key mail.dkim_key_file = {}",
            mail.dkim_key_file.display()
        )
    })?;
    ensure!(
        !pem.contains("BEGIN PRIVATE KEY"),
        "the DKIM key {} is PKCS#8; convert it to PKCS#1 with \
         `openssl rsa -traditional -in KEY -out KEY.rsa`",
        mail.dkim_key_file.display()
    );
    let key = DkimSigningKey::new(&pem, DkimSigningAlgorithm::Rsa).map_err(|e| {
        anyhow::anyhow!(
            "the DKIM key {} is not an RSA PKCS#1 PEM key: {e}",
            mail.dkim_key_file.display()
        )
    })?;
    Ok(DkimConfig::new(
        mail.dkim_selector.clone(),
        mail.dkim_domain.clone(),
        key,
        SIGNED_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect(),
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NewMessage {
        NewMessage {
            idempotency_key: "digest:1:2026-03-02".into(),
            subscriber_id: Some(1),
            to: "Mairie <mairie@commune.example>".into(),
            subject: "Appels à projets : 3 nouveautés".into(),
            html: "<p>Élu·es, voici les appels.</p>".into(),
            text: "Élu·es, voici les appels.".into(),
            list_unsubscribe_url: "https://vigie.example/u/abc".into(),
            list_unsubscribe_mailto: None,
        }
    }

    fn headers_of(bytes: &[u8]) -> String {
        // Unfolded (RFC 5322 §2.2.3), so that assertions see one line per header.
        let text = String::from_utf8_lossy(bytes).replace("\r\n ", " ");
        text.split("\r\n\r\n").next().unwrap().to_string()
    }

    #[test]
    fn control_characters_cannot_inject_headers() {
        let mut msg = sample();
        msg.subject = "Hello\r\nBcc: victim@evil.example\n\tX".into();
        let built = build_message(&msg, &MailConfig::default(), Utc::now()).unwrap();
        let head = headers_of(&built.bytes);
        assert!(
            !head
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{head}"
        );
        assert_eq!(
            clean_subject("Hello\r\nBcc: victim@evil.example\n\tX"),
            "Hello Bcc: victim@evil.example X"
        );
    }

    #[test]
    fn the_message_id_uses_the_domain_of_from() {
        let config = MailConfig {
            from: "Vigie <veille@vigie.example>".into(),
            ..MailConfig::default()
        };
        let built = build_message(&sample(), &config, Utc::now()).unwrap();
        assert!(built.message_id.ends_with("@vigie.example>"));
        assert_eq!(built.recipient, "mairie@commune.example");
        let head = headers_of(&built.bytes);
        assert!(
            head.contains("List-Id: Vigie <digest.vigie.example>"),
            "{head}"
        );
    }

    #[test]
    fn an_http_link_is_listed_without_one_click() {
        let mut msg = sample();
        msg.list_unsubscribe_url = "http://localhost:8080/u/abc".into();
        msg.list_unsubscribe_mailto = Some("desabonnement@vigie.example".into());
        let built = build_message(&msg, &MailConfig::default(), Utc::now()).unwrap();
        let head = headers_of(&built.bytes);
        assert!(
            head.contains(
                "List-Unsubscribe: <http://localhost:8080/u/abc>, \
                 <mailto:desabonnement@vigie.example?subject=unsubscribe>"
            ),
            "{head}"
        );
        assert!(!head.contains("List-Unsubscribe-Post"), "{head}");
    }

    #[test]
    fn bad_addresses_and_links_are_clear_errors() {
        let mut msg = sample();
        msg.to = "not an address".into();
        let err = build_message(&msg, &MailConfig::default(), Utc::now()).unwrap_err();
        assert!(err.to_string().contains("not a valid address"), "{err}");
        let mut msg = sample();
        msg.list_unsubscribe_url = "ftp://x.example/u".into();
        let err = build_message(&msg, &MailConfig::default(), Utc::now()).unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
    }
}
