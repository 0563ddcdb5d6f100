//! The `[mail]` section: who sends, through which transport, how hard to
//! retry. Every key has a default so that an empty section writes `.eml`
//! files to `outbox/` and works on a laptop; unknown keys are errors.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::limits::Limit;

/// Mail settings (`[mail]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// The `From` mailbox, e.g. `Vigie <veille@example.org>`. Its domain also
    /// names the `Message-ID`s and the `List-Id`. Default `Vigie <vigie@localhost>`.
    pub from: String,
    /// The `Reply-To` mailbox; empty (the default) means none.
    pub reply_to: String,
    /// Where messages are written as `<outbox id>.eml` when `smtp_host` is
    /// empty. Default `outbox`.
    pub outbox_dir: PathBuf,
    /// SMTP relay; empty (the default) selects the file transport.
    pub smtp_host: String,
    /// 0 (the default) means the usual port of `smtp_security`: 587, 465 or 25.
    pub smtp_port: u16,
    /// `starttls` (default), `tls` (implicit TLS) or `none` (local relays only).
    pub smtp_security: SmtpSecurity,
    /// Empty (the default) means no authentication.
    pub smtp_username: String,
    /// Never logged: its `Debug` prints `<redacted>`.
    pub smtp_password: Secret,
    /// Time allowed, in seconds, to open an SMTP connection (greeting,
    /// STARTTLS and login included) and, separately, for each message's
    /// transaction. Default 30.
    pub smtp_timeout_secs: u64,
    /// SMTP connections kept open and messages sent at once. Default 4.
    pub pool_size: u32,
    /// DKIM selector (`s=`); signing is on when selector, domain and key
    /// file are all set.
    pub dkim_selector: String,
    /// DKIM signing domain (`d=`), normally the domain of `from`.
    pub dkim_domain: String,
    /// RSA private key, PKCS#1 PEM (`openssl genrsa -traditional`).
    pub dkim_key_file: PathBuf,
    /// Attempts before a message that keeps failing transiently is marked
    /// `failed`. Default 8.
    pub max_attempts: u32,
    /// Backoff base: attempt n failed transiently → next one after
    /// `retry_base_secs × 2^(n-1)`, at most one day. Default 60.
    pub retry_base_secs: u64,
    /// A row left in `sending` longer than this was abandoned by a worker
    /// that stopped (crash, kill) and is sent again; keep it above the time a
    /// send can take. Default 600.
    pub claim_lease_secs: u64,
    /// Permanent failures (5xx) after which the caller should mark a
    /// subscriber as bouncing. Default 3.
    pub bounce_threshold: u32,
    /// Address for the `mailto:` of `List-Unsubscribe`; empty (default) means
    /// only the HTTPS link, unless the message brings its own.
    pub list_unsubscribe_mailto: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            from: "Vigie <vigie@localhost>".to_string(),
            reply_to: String::new(),
            outbox_dir: PathBuf::from("outbox"),
            smtp_host: String::new(),
            smtp_port: 0,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: String::new(),
            smtp_password: Secret::default(),
            smtp_timeout_secs: 30,
            pool_size: 4,
            dkim_selector: String::new(),
            dkim_domain: String::new(),
            dkim_key_file: PathBuf::new(),
            max_attempts: 8,
            retry_base_secs: 60,
            claim_lease_secs: 600,
            bounce_threshold: 3,
            list_unsubscribe_mailto: String::new(),
        }
    }
}

impl MailConfig {
    /// The port to connect to, after applying the `0` = usual-port rule.
    pub fn port(&self) -> u16 {
        match (self.smtp_port, self.smtp_security) {
            (0, SmtpSecurity::Starttls) => 587,
            (0, SmtpSecurity::Tls) => 465,
            (0, SmtpSecurity::None) => 25,
            (port, _) => port,
        }
    }

    /// Whether messages are DKIM-signed.
    pub fn dkim_enabled(&self) -> bool {
        !self.dkim_selector.is_empty()
            && !self.dkim_domain.is_empty()
            && !self.dkim_key_file.as_os_str().is_empty()
    }

    /// Delay before the attempt after the `attempts`-th failed one.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u64 << attempts.saturating_sub(1).min(20);
        Duration::from_secs(self.retry_base_secs.saturating_mul(factor).min(86_400))
    }
}

/// Accepted ranges of the numeric settings (see `crate::limits`): no value
/// in them overflows the backoff or the lease arithmetic.
impl MailConfig {
    pub const SMTP_TIMEOUT_SECS: Limit<u64> = Limit::new(1, 600, "seconds");
    pub const POOL_SIZE: Limit<u32> = Limit::new(1, 64, "connections");
    pub const MAX_ATTEMPTS: Limit<u32> = Limit::new(1, 1000, "attempts");
    /// A day: the backoff is capped at a day anyway.
    pub const RETRY_BASE_SECS: Limit<u64> = Limit::new(0, 86_400, "seconds");
    /// A week.
    pub const CLAIM_LEASE_SECS: Limit<u64> = Limit::new(0, 7 * 86_400, "seconds");
    pub const BOUNCE_THRESHOLD: Limit<u32> = Limit::new(1, 1000, "bounces");

    /// Checks every numeric key against its range; the error names
    /// `mail.<key>` and the range. (`smtp_port` is a `u16`: serde already
    /// refuses what is not a port.)
    pub fn check_ranges(&self) -> Result<(), String> {
        Self::SMTP_TIMEOUT_SECS.check("mail.smtp_timeout_secs", self.smtp_timeout_secs)?;
        Self::POOL_SIZE.check("mail.pool_size", self.pool_size)?;
        Self::MAX_ATTEMPTS.check("mail.max_attempts", self.max_attempts)?;
        Self::RETRY_BASE_SECS.check("mail.retry_base_secs", self.retry_base_secs)?;
        Self::CLAIM_LEASE_SECS.check("mail.claim_lease_secs", self.claim_lease_secs)?;
        Self::BOUNCE_THRESHOLD.check("mail.bounce_threshold", self.bounce_threshold)?;
        Ok(())
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: for a relay on the same machine or in tests.
    None,
}

/// A string that never shows in logs or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str("<redacted>")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let config = MailConfig {
            smtp_password: Secret::new("hunter2"),
            ..MailConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        let config = MailConfig {
            retry_base_secs: 60,
            ..MailConfig::default()
        };
        assert_eq!(config.backoff(1), Duration::from_secs(60));
        assert_eq!(config.backoff(2), Duration::from_secs(120));
        assert_eq!(config.backoff(4), Duration::from_secs(480));
        assert_eq!(config.backoff(40), Duration::from_secs(86_400));
    }

    #[test]
    fn port_zero_means_the_usual_port_of_the_security_mode() {
        let mut config = MailConfig::default();
        assert_eq!(config.port(), 587);
        config.smtp_security = SmtpSecurity::Tls;
        assert_eq!(config.port(), 465);
        config.smtp_port = 2525;
        assert_eq!(config.port(), 2525);
    }
}
