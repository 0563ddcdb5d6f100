//! How stored bytes leave: SMTP through lettre, one connection per worker
//! slot (see [`super::smtp`]), or one `.eml` file per outbox row when no
//! SMTP host is configured. Each send ends in an [`Outcome`]; the SMTP
//! reply code decides which.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::{Category, Severity};

use super::smtp::{SmtpSession, SmtpSettings};
use super::{MailConfig, SmtpSecurity};

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepted the message (250 after DATA), or the file is written.
    Sent,
    /// Worth retrying later: 4xx, connection refused or lost, timeout, TLS
    /// trouble, authentication refused (a configuration error an operator
    /// can fix before the attempts run out), disk full.
    Transient(String),
    /// Will never succeed as is: 5xx for this message or recipient, or an
    /// envelope the server cannot take.
    Permanent(String),
}

/// Where messages go.
pub enum Transport {
    Smtp {
        settings: SmtpSettings,
        from: Address,
    },
    Files {
        dir: PathBuf,
    },
}

/// One worker slot's use of a [`Transport`]: holds its SMTP connection
/// between messages. End it with [`Session::close`].
pub enum Session<'a> {
    Smtp {
        inner: SmtpSession<'a>,
        from: &'a Address,
    },
    Files {
        dir: &'a std::path::Path,
    },
}

impl Transport {
    /// SMTP when `smtp_host` is set, else `.eml` files in `outbox_dir`.
    pub fn from_config(mail: &MailConfig) -> anyhow::Result<Transport> {
        let from: lettre::message::Mailbox = mail
            .from
            .parse()
            .with_context(|| format!("mail.from `{}` is not a valid mailbox", mail.from))?;
        if mail.smtp_host.is_empty() {
            return Ok(Transport::Files {
                dir: mail.outbox_dir.clone(),
            });
        }
        let host = mail.smtp_host.as_str();
        let tls = || {
            TlsParameters::new(host.to_string())
                .with_context(|| format!("preparing TLS for mail.smtp_host `{host}`"))
        };
        let tls = match mail.smtp_security {
            SmtpSecurity::Starttls => Tls::Required(tls()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls()?),
            SmtpSecurity::None => Tls::None,
        };
        let credentials = (!mail.smtp_username.is_empty()).then(|| {
            Credentials::new(
                mail.smtp_username.clone(),
                mail.smtp_password.expose().to_string(),
            )
        });
        let hello = ClientId::default();
        Ok(Transport::Smtp {
            settings: SmtpSettings {
                host: host.to_string(),
                port: mail.port(),
                tls,
                credentials,
                timeout: Duration::from_secs(mail.smtp_timeout_secs.max(1)),
                hello,
            },
            from: from.email,
        })
    }

    /// A session for one worker slot.
    pub fn session(&self) -> Session<'_> {
        match self {
            Transport::Smtp { settings, from } => Session::Smtp {
                inner: SmtpSession::new(settings),
                from,
            },
            Transport::Files { dir } => Session::Files { dir },
        }
    }
}

impl Session<'_> {
    /// Sends one stored message to `recipient`; `id` names the file of the
    /// file transport.
    pub async fn send(&mut self, id: i64, recipient: &str, message: &[u8]) -> Outcome {
        match self {
            Session::Smtp { inner, from } => {
                let to: Address = match recipient.parse() {
                    Ok(a) => a,
                    Err(e) => {
                        return Outcome::Permanent(format!("bad recipient `{recipient}`: {e}"));
                    }
                };
                let envelope = match Envelope::new(Some((*from).clone()), vec![to]) {
                    Ok(e) => e,
                    Err(e) => return Outcome::Permanent(format!("bad envelope: {e}")),
                };
                inner.send(&envelope, message).await
            }
            Session::Files { dir } => match write_eml(dir, id, message).await {
                Ok(()) => Outcome::Sent,
                Err(e) => Outcome::Transient(format!("{e:#}")),
            },
        }
    }

    /// Closes the SMTP connection, if any, with `QUIT`.
    pub async fn close(self) {
        if let Session::Smtp { inner, .. } = self {
            inner.close().await;
        }
    }
}

/// RFC 5321 §4.2.1: 4yz is transient, 5yz permanent. Exception: 53z
/// (authentication required or refused) is treated as transient, because
/// it is the relay's answer to our configuration, not to this recipient,
/// and failing every queued message at once would lose them.
pub(super) fn classify(e: &lettre::transport::smtp::Error) -> Outcome {
    let reason = error_chain(e);
    match e.status() {
        Some(code) if code.severity == Severity::PermanentNegativeCompletion => {
            if code.category == Category::Unspecified3 {
                Outcome::Transient(format!(
                    "{reason} (check mail.smtp_username and mail.smtp_password)"
                ))
            } else {
                Outcome::Permanent(reason)
            }
        }
        Some(_) => Outcome::Transient(reason),
        None if e.is_client() => Outcome::Permanent(reason),
        None => Outcome::Transient(reason),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// Writes `<dir>/<id>.eml` through a temporary file and a rename, so the
/// folder never shows half a message. A resend after a crash rewrites the
/// same file: the file transport is exactly-once by construction.
async fn write_eml(dir: &std::path::Path, id: i64, message: &[u8]) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("creating mail.outbox_dir {}", dir.display()))?;
    let tmp = dir.join(format!(".{id}.eml.tmp"));
    let path = dir.join(format!("{id}.eml"));
    tokio::fs::write(&tmp, message)
        .await
        .with_context(|| format!("writing {}", tmp.display()))?;
    tokio::fs::rename(&tmp, &path)
        .await
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}
