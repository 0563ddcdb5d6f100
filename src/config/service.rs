//! The `[service]` and `[curators]` configuration sections: how the daemon
//! schedules, listens, backs off and shuts down, and who hears about broken
//! sources.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::limits::Limit;

/// `[service]`: the daemon (`vigie run`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Address of the HTTP listener (`/healthz`, `/metrics`); `--bind` overrides it.
    pub bind: SocketAddr,
    /// When above 0, every source, the digest run and the outbox run every
    /// this many seconds instead of on their schedules (demos and tests).
    pub schedule_override_secs: u64,
    /// How often the digest module is asked who is due.
    pub digest_interval_secs: u64,
    /// How often the outbox is drained (it is also drained right after a
    /// digest run or an alert).
    pub outbox_interval_secs: u64,
    /// The scheduler wakes at least this often, even with nothing due: the
    /// heartbeat `/healthz` reports.
    pub tick_secs: u64,
    /// Runs missed while the daemon was down happen once each, spread at
    /// random over this many seconds after start.
    pub catch_up_spread_secs: u64,
    /// A failing source is retried after backoff_base_secs × 2^(failures−1),
    /// capped at backoff_max_secs.
    pub backoff_base_secs: u64,
    pub backoff_max_secs: u64,
    /// On SIGTERM/SIGINT, runs and sends in progress get this long to
    /// finish; what is cut after it is redone at the next start.
    pub shutdown_grace_secs: u64,
}

/// `[curators]`: who is told, in French, that a source broke or recovered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CuratorsConfig {
    /// Addresses of the curators; empty means no alert email (health is
    /// still tracked, logged and shown by `vigie sources status`).
    pub emails: Vec<String>,
    /// Consecutive failed runs after which a source is reported failing.
    pub failure_threshold: u32,
    /// A run whose item count falls below this fraction of the median of
    /// the previous successful runs is a sudden drop.
    pub drop_ratio: f64,
    /// How many previous successful runs the median is taken over.
    pub drop_window: u32,
}

impl ServiceConfig {
    /// The override of every schedule, if any.
    pub fn every(&self) -> Option<Duration> {
        (self.schedule_override_secs > 0).then(|| Duration::from_secs(self.schedule_override_secs))
    }

    /// Checks values that serde cannot: the ranges, then the backoff's
    /// order; every error says which key to fix.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.check_ranges().map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            self.backoff_max_secs >= self.backoff_base_secs,
            "service.backoff_max_secs ({}) must not be below service.backoff_base_secs ({})",
            self.backoff_max_secs,
            self.backoff_base_secs
        );
        Ok(())
    }
}

/// Accepted ranges of the numeric settings (see `crate::limits`), checked
/// when the configuration is loaded: a value that would overflow the
/// scheduler's time arithmetic is an error naming the key.
impl ServiceConfig {
    pub const OVERRIDE_SECS: Limit<u64> =
        Limit::new(0, 7 * 86_400, "seconds (0 = the sources' schedules)");
    pub const INTERVAL_SECS: Limit<u64> = Limit::new(1, 86_400, "seconds");
    pub const TICK_SECS: Limit<u64> = Limit::new(1, 3_600, "seconds");
    pub const SPREAD_SECS: Limit<u64> = Limit::new(0, 86_400, "seconds");
    pub const BACKOFF_SECS: Limit<u64> = Limit::new(1, 7 * 86_400, "seconds");
    pub const GRACE_SECS: Limit<u64> = Limit::new(0, 3_600, "seconds");

    pub fn check_ranges(&self) -> Result<(), String> {
        Self::OVERRIDE_SECS.check(
            "service.schedule_override_secs",
            self.schedule_override_secs,
        )?;
        Self::INTERVAL_SECS.check("service.digest_interval_secs", self.digest_interval_secs)?;
        Self::INTERVAL_SECS.check("service.outbox_interval_secs", self.outbox_interval_secs)?;
        Self::TICK_SECS.check("service.tick_secs", self.tick_secs)?;
        Self::SPREAD_SECS.check("service.catch_up_spread_secs", self.catch_up_spread_secs)?;
        Self::BACKOFF_SECS.check("service.backoff_base_secs", self.backoff_base_secs)?;
        Self::BACKOFF_SECS.check("service.backoff_max_secs", self.backoff_max_secs)?;
        Self::GRACE_SECS.check("service.shutdown_grace_secs", self.shutdown_grace_secs)?;
        Ok(())
    }
}

impl CuratorsConfig {
    pub const FAILURE_THRESHOLD: Limit<u32> = Limit::new(1, 1_000, "failed runs");
    pub const DROP_WINDOW: Limit<u32> = Limit::new(1, 100, "runs");

    pub fn check_ranges(&self) -> Result<(), String> {
        Self::FAILURE_THRESHOLD.check("curators.failure_threshold", self.failure_threshold)?;
        Self::DROP_WINDOW.check("curators.drop_window", self.drop_window)?;
        Ok(())
    }
}

impl CuratorsConfig {
    /// The ranges, the drop ratio and the addresses.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.check_ranges().map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            self.drop_ratio > 0.0 && self.drop_ratio < 1.0,
            "curators.drop_ratio must be between 0 and 1 (e.g. 0.5 for half the usual items), not {}",
            self.drop_ratio
        );
        for email in &self.emails {
            email.parse::<lettre::Address>().map_err(|e| {
                anyhow::anyhow!("curators.emails: `{email}` is not an email address ({e})")
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn the_shipped_defaults_are_valid_and_bad_values_name_their_key() {
        let c = Config::embedded();
        c.service.validate().unwrap();
        c.curators.validate().unwrap();
        assert_eq!(c.service.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.service.every(), None);
        let mut bad = c.clone();
        bad.service.tick_secs = 0;
        assert!(
            bad.service
                .validate()
                .unwrap_err()
                .to_string()
                .contains("service.tick_secs")
        );
        let mut bad = c.clone();
        bad.curators.drop_ratio = 1.5;
        assert!(
            bad.curators
                .validate()
                .unwrap_err()
                .to_string()
                .contains("curators.drop_ratio")
        );
        let mut bad = c;
        bad.curators.emails = vec!["not an address".into()];
        let err = bad.curators.validate().unwrap_err().to_string();
        assert!(
            err.contains("`not an address` is not an email address"),
            "{err}"
        );
    }
}
