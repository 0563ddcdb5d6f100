//! How long to wait before trying again: exponential backoff with jitter, and
//! the server's own `Retry-After` (RFC 9110 §10.2.3). Whether to retry at all
//! is decided by [`super::FetchError::is_retryable`].

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime};

/// No backoff wait exceeds this, whatever the attempt number.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The wait before retry number `retry` (0 for the first retry):
/// `base × 2^retry`, capped at [`MAX_BACKOFF`], of which a random half is
/// dropped ("equal jitter") so that several sources failing together do not
/// hammer a host in lockstep.
pub fn backoff(base: Duration, retry: u32) -> Duration {
    let full = base
        .saturating_mul(2u32.saturating_pow(retry.min(20)))
        .min(MAX_BACKOFF);
    let half = full / 2;
    half + half.mul_f64(jitter_fraction())
}

/// A number in `[0, 1)`; quality is irrelevant, only spread matters, so a
/// freshly seeded std hasher stands in for a random number generator.
fn jitter_fraction() -> f64 {
    let bits = RandomState::new().hash_one(SystemTime::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (IMF-fixdate,
/// e.g. `Wed, 21 Oct 2015 07:28:00 GMT`). A date in the past means "now".
/// Unparseable values give `None`, and the caller falls back to backoff.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(date.with_timezone(&chrono::Utc));
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_jitter_bounds() {
        let base = Duration::from_millis(100);
        for retry in 0..4 {
            let full = Duration::from_millis(100 * 2u64.pow(retry));
            let wait = backoff(base, retry);
            assert!(wait >= full / 2 && wait <= full, "{retry}: {wait:?}");
        }
    }

    #[test]
    fn backoff_is_capped() {
        assert!(backoff(Duration::from_secs(10), 30) <= MAX_BACKOFF);
    }

    #[test]
    fn retry_after_accepts_seconds() {
        assert_eq!(
            parse_retry_after(" 120 ", SystemTime::now()),
            Some(Duration::from_secs(120))
        );
    }

    #[test]
    fn retry_after_accepts_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_420); // 07:27:00 GMT
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn retry_after_in_the_past_means_now() {
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", SystemTime::now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage_is_ignored() {
        assert_eq!(parse_retry_after("soon", SystemTime::now()), None);
        assert_eq!(parse_retry_after("-5", SystemTime::now()), None);
    }
}
