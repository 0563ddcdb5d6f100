//! The fetcher's politeness and safety settings, with named defaults, and
//! the per-source overrides a source definition may set. Read from the
//! `[fetch]` section of the configuration; unknown keys are errors.

use anyhow::bail;
use serde::Deserialize;

use super::address::AllowList;
use crate::limits::Limit;

/// Fetch settings. Every field has a default, so an empty `[fetch]` section
/// (or none at all) gives a polite, safe fetcher.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// The `User-Agent` header. Empty (the default) means
    /// `Vigie/<version> (+<contact_url>)`, so that setting only
    /// `contact_url` is enough to give site owners a way to reach you.
    pub user_agent: String,
    /// Where a site owner can learn about Vigie and reach its operator.
    /// Default `https://github.com/vigie/vigie`.
    pub contact_url: String,
    /// Requests in flight at once to one host (scheme, host, port). Default 1.
    pub per_host_concurrency: usize,
    /// Requests in flight at once overall. Default 8.
    pub total_concurrency: usize,
    /// Minimum delay between two request starts to the same host, in
    /// milliseconds; raised by a robots.txt `Crawl-delay`. Default 1000.
    pub min_spacing_ms: u64,
    /// Time allowed to establish a connection (TCP + TLS), seconds. Default 10.
    pub connect_timeout_secs: u64,
    /// Time allowed for a whole request, body included, seconds. Default 30.
    pub timeout_secs: u64,
    /// Largest body accepted, after decompression, in bytes. Default 10 MiB.
    pub max_body_bytes: u64,
    /// Redirects followed before giving up. Default 10.
    pub max_redirects: usize,
    /// Retries after the first attempt, for retryable failures only
    /// (see `FetchError::is_retryable`). Default 3.
    pub retries: u32,
    /// Base of the exponential backoff between retries, milliseconds;
    /// the n-th retry waits about `base × 2^n`, with jitter. Default 500.
    pub backoff_base_ms: u64,
    /// Longest `Retry-After` honoured, seconds; a server asking for longer
    /// fails the fetch (`RetryAfterTooLong`) rather than stall the run. Default 120.
    pub max_retry_after_secs: u64,
    /// Whether robots.txt is obeyed. Default true.
    pub robots: bool,
    /// Non-public hosts Vigie may connect to anyway: IP addresses
    /// (`127.0.0.1`, `::1`), CIDR networks (`10.20.0.0/16`) or host names
    /// (`intranet.example`, whose resolved addresses are then all allowed).
    /// Empty by default: only public addresses are reached, so that no
    /// source or redirect can point Vigie at loopback, the private network
    /// or the cloud metadata service (see `fetch::address`).
    pub allow_hosts: Vec<String>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: String::new(),
            contact_url: "https://github.com/vigie/vigie".to_string(),
            per_host_concurrency: 1,
            total_concurrency: 8,
            min_spacing_ms: 1000,
            connect_timeout_secs: 10,
            timeout_secs: 30,
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 10,
            retries: 3,
            backoff_base_ms: 500,
            max_retry_after_secs: 120,
            robots: true,
            allow_hosts: Vec::new(),
        }
    }
}

impl FetchConfig {
    /// The `User-Agent` actually sent (see [`FetchConfig::user_agent`]).
    pub fn effective_user_agent(&self) -> String {
        if self.user_agent.trim().is_empty() {
            format!(
                "Vigie/{} (+{})",
                env!("CARGO_PKG_VERSION"),
                self.contact_url
            )
        } else {
            self.user_agent.clone()
        }
    }

    /// `allow_hosts` parsed; an entry that is neither an address, a network
    /// nor a host name is an error naming it.
    pub fn allow_list(&self) -> Result<AllowList, String> {
        AllowList::parse(&self.allow_hosts)
    }

    /// Checks that the settings can work, naming the field that cannot:
    /// the ranges (also checked when the file is loaded; a configuration
    /// built in code gets them here), the allow-list and the user agent.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.check_ranges().map_err(anyhow::Error::msg)?;
        self.allow_list().map_err(anyhow::Error::msg)?;
        let user_agent = self.effective_user_agent();
        if reqwest::header::HeaderValue::from_str(&user_agent).is_err() {
            bail!(
                "fetch.user_agent {user_agent:?} is not a valid HTTP header value (use printable ASCII)"
            );
        }
        Ok(())
    }
}

/// Accepted ranges of the numeric settings (see `crate::limits`): wide
/// enough for any real site, narrow enough that no value stalls a crawl or
/// overflows a `Duration`. The per-source `[politeness]` overrides use the
/// same ranges.
impl FetchConfig {
    pub const PER_HOST_CONCURRENCY: Limit<usize> = Limit::new(1, 64, "requests");
    pub const TOTAL_CONCURRENCY: Limit<usize> = Limit::new(1, 1024, "requests");
    /// A minute, like the cap on a robots.txt `Crawl-delay`.
    pub const MIN_SPACING_MS: Limit<u64> = Limit::new(0, 60_000, "milliseconds");
    pub const CONNECT_TIMEOUT_SECS: Limit<u64> = Limit::new(1, 300, "seconds");
    pub const TIMEOUT_SECS: Limit<u64> = Limit::new(1, 600, "seconds");
    /// 1 GiB.
    pub const MAX_BODY_BYTES: Limit<u64> = Limit::new(1, 1 << 30, "bytes");
    pub const MAX_REDIRECTS: Limit<usize> = Limit::new(0, 30, "redirects");
    pub const RETRIES: Limit<u32> = Limit::new(0, 10, "retries");
    pub const BACKOFF_BASE_MS: Limit<u64> = Limit::new(0, 60_000, "milliseconds");
    pub const MAX_RETRY_AFTER_SECS: Limit<u64> = Limit::new(0, 3600, "seconds");

    /// Checks every numeric key against its range; the error names
    /// `fetch.<key>` and the range.
    pub fn check_ranges(&self) -> Result<(), String> {
        Self::PER_HOST_CONCURRENCY
            .check("fetch.per_host_concurrency", self.per_host_concurrency)?;
        Self::TOTAL_CONCURRENCY.check("fetch.total_concurrency", self.total_concurrency)?;
        Self::MIN_SPACING_MS.check("fetch.min_spacing_ms", self.min_spacing_ms)?;
        Self::CONNECT_TIMEOUT_SECS
            .check("fetch.connect_timeout_secs", self.connect_timeout_secs)?;
        Self::TIMEOUT_SECS.check("fetch.timeout_secs", self.timeout_secs)?;
        Self::MAX_BODY_BYTES.check("fetch.max_body_bytes", self.max_body_bytes)?;
        Self::MAX_REDIRECTS.check("fetch.max_redirects", self.max_redirects)?;
        Self::RETRIES.check("fetch.retries", self.retries)?;
        Self::BACKOFF_BASE_MS.check("fetch.backoff_base_ms", self.backoff_base_ms)?;
        Self::MAX_RETRY_AFTER_SECS
            .check("fetch.max_retry_after_secs", self.max_retry_after_secs)?;
        Ok(())
    }
}

/// Per-source settings that replace the [`FetchConfig`] value when set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchOverrides {
    /// Replaces `min_spacing_ms` (a robots.txt `Crawl-delay` still raises it).
    pub min_spacing_ms: Option<u64>,
    /// Replaces `timeout_secs`.
    pub timeout_secs: Option<u64>,
    /// Replaces `max_body_bytes`.
    pub max_body_bytes: Option<u64>,
    /// Replaces `robots`, e.g. `false` for an API the funder asked us to use.
    pub robots: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_user_agent_names_vigie_and_the_contact_url() {
        let config = FetchConfig {
            contact_url: "https://vigie.example/contact".into(),
            ..FetchConfig::default()
        };
        let ua = config.effective_user_agent();
        assert!(ua.starts_with("Vigie/"), "{ua}");
        assert!(ua.ends_with("(+https://vigie.example/contact)"), "{ua}");
    }

    #[test]
    fn zero_concurrency_is_refused_by_name() {
        let config = FetchConfig {
            total_concurrency: 0,
            ..FetchConfig::default()
        };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("total_concurrency"), "{error}");
    }

    #[test]
    fn a_partial_section_keeps_the_other_defaults() {
        let config: FetchConfig = toml::from_str("min_spacing_ms = 250\nrobots = false").unwrap();
        assert_eq!(config.min_spacing_ms, 250);
        assert!(!config.robots);
        assert_eq!(config.timeout_secs, FetchConfig::default().timeout_secs);
    }

    #[test]
    fn allow_hosts_is_empty_by_default_and_checked() {
        assert!(FetchConfig::default().allow_hosts.is_empty());
        let config: FetchConfig =
            toml::from_str("allow_hosts = [\"127.0.0.1\", \"10.0.0.0/8\", \"localhost\"]").unwrap();
        config.validate().unwrap();
        let bad = FetchConfig {
            allow_hosts: vec!["10.0.0.0/40".into()],
            ..FetchConfig::default()
        };
        let error = bad.validate().unwrap_err().to_string();
        assert!(
            error.contains("fetch.allow_hosts") && error.contains("10.0.0.0/40"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_key_is_an_error() {
        let error = toml::from_str::<FetchConfig>("min_spacing = 250").unwrap_err();
        assert!(error.to_string().contains("min_spacing"), "{error}");
    }
}
