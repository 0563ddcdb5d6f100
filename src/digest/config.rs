//! The `[digest]` section: where links point, when digests are built, when
//! a reminder is sent. Every key has a default; unknown keys are errors.

use serde::Deserialize;

use crate::limits::Limit;

/// Digest settings (`[digest]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestConfig {
    /// Public address of the site, without a trailing slash (one is
    /// removed): call pages are `{site_url}/appels/{id}`, the manage and
    /// unsubscribe links `{site_url}/abonnement/{token}` and
    /// `{site_url}/desabonnement/{token}`. Default `http://127.0.0.1:8080`.
    pub site_url: String,
    /// Hour (0–23, Europe/Paris) from which a day's digests are built.
    /// Default 7.
    pub send_hour: u32,
    /// A call already sent whose deadline is at most this many days away
    /// gets one "closing soon" reminder. Default 14.
    pub closing_soon_days: u32,
    /// A call gets that reminder only if it was first sent as new at least
    /// this many days before: a call announced yesterday is not reminded
    /// today. Default 7.
    pub closing_soon_min_age_days: u32,
    /// At most this many calls in one email (0 = no limit): extensions
    /// first, then reminders, then new calls by soonest deadline; the rest
    /// waits for the next digests. Default 30.
    pub max_calls: u32,
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            site_url: "http://127.0.0.1:8080".to_string(),
            send_hour: 7,
            closing_soon_days: 14,
            closing_soon_min_age_days: 7,
            max_calls: 30,
        }
    }
}

impl DigestConfig {
    /// `site_url` without its trailing slashes.
    pub fn site(&self) -> &str {
        self.site_url.trim_end_matches('/')
    }

    pub fn call_url(&self, id: i64) -> String {
        format!("{}/appels/{id}", self.site())
    }

    pub fn manage_url(&self, token: &str) -> String {
        format!("{}/abonnement/{token}", self.site())
    }

    pub fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}/desabonnement/{token}", self.site())
    }

    /// Checks what serde cannot: the ranges and an http(s) site.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.check_ranges().map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            super::render::safe_url(self.site()).is_some(),
            "digest.site_url `{}` is not an http(s) URL",
            self.site_url
        );
        Ok(())
    }
}

/// Accepted ranges of the numeric settings (see `crate::limits`).
impl DigestConfig {
    pub const SEND_HOUR: Limit<u32> = Limit::new(0, 23, "(hour of the day, Europe/Paris)");
    /// A year: a call is announced again at most this long before it closes.
    pub const CLOSING_SOON_DAYS: Limit<u32> = Limit::new(0, 365, "days");
    /// 0 means no limit.
    pub const MAX_CALLS: Limit<u32> = Limit::new(0, 1000, "calls");

    /// Checks every numeric key against its range; the error names
    /// `digest.<key>` and the range.
    pub fn check_ranges(&self) -> Result<(), String> {
        Self::SEND_HOUR.check("digest.send_hour", self.send_hour)?;
        Self::CLOSING_SOON_DAYS.check("digest.closing_soon_days", self.closing_soon_days)?;
        Self::CLOSING_SOON_DAYS.check(
            "digest.closing_soon_min_age_days",
            self.closing_soon_min_age_days,
        )?;
        Self::MAX_CALLS.check("digest.max_calls", self.max_calls)?;
        Ok(())
    }
}
