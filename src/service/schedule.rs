//! When a source is due: its 5-field cron expression read in Europe/Paris
//! (croner finds occurrences across the daylight-saving changes: a time
//! skipped in spring is not run, a repeated hour in autumn runs once), or a
//! fixed interval when schedules are compressed; when a failing source is
//! retried; and how runs missed during downtime are spread.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Paris;

/// A source's timetable.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A cron expression, Europe/Paris.
    Cron(Box<croner::Cron>),
    /// Every this often (`service.schedule_override_secs`, `--every`).
    Every(Duration),
}

/// Whether a failed run is worth retrying soon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The cause may go away by itself (timeout, 5xx, connection refused):
    /// retry after the backoff, even before the next scheduled time.
    Transient,
    /// Retrying sooner cannot help (the layout changed, 404): wait for the
    /// next scheduled time, and at least the backoff.
    Permanent,
}

impl Schedule {
    /// Parses a 5-field cron expression (as validated by the source loader).
    pub fn cron(expr: &str) -> anyhow::Result<Schedule> {
        let cron = expr
            .parse::<croner::Cron>()
            .map_err(|e| anyhow::anyhow!("invalid cron expression `{expr}`: {e}"))?;
        Ok(Schedule::Cron(Box::new(cron)))
    }

    /// The cron expression, or the interval when `every` is given.
    pub fn for_source(expr: &str, every: Option<Duration>) -> anyhow::Result<Schedule> {
        match every {
            Some(d) => Ok(Schedule::Every(d.max(Duration::from_millis(100)))),
            None => Schedule::cron(expr),
        }
    }

    /// The first scheduled time strictly after `t`; `None` when the
    /// expression never matches again (e.g. `0 0 30 2 *`).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Every(d) => Some(t + *d),
            Schedule::Cron(cron) => cron
                .find_next_occurrence(&t.with_timezone(&Paris), false)
                .ok()
                .map(|d| d.with_timezone(&Utc)),
        }
    }
}

/// The wait before retry number `failures` (1 for the first failure):
/// `base × 2^(failures−1)`, at most `max`.
pub fn backoff(failures: u32, base: Duration, max: Duration) -> Duration {
    let exp = failures.saturating_sub(1).min(31);
    base.checked_mul(1u32 << exp).unwrap_or(max).min(max)
}

/// When a source runs again after a run that ended at `now`.
/// `failures` counts consecutive failures including this run (0 after a
/// success). `None`: never (the schedule has no next time).
pub fn next_due(
    schedule: &Schedule,
    now: DateTime<Utc>,
    failures: u32,
    retry: Retry,
    base: Duration,
    max: Duration,
) -> Option<DateTime<Utc>> {
    let scheduled = schedule.next_after(now);
    if failures == 0 {
        return scheduled;
    }
    let retry_at = now + backoff(failures, base, max);
    match retry {
        Retry::Transient => Some(retry_at),
        Retry::Permanent => Some(scheduled.map_or(retry_at, |s| s.max(retry_at))),
    }
}

/// When a run that was due at `due` (missed while the daemon was down)
/// happens: now plus a random part of `spread`, so that a day of downtime
/// does not start every source at once.
pub fn catch_up(due: DateTime<Utc>, now: DateTime<Utc>, spread: Duration) -> DateTime<Utc> {
    if due > now {
        return due;
    }
    let millis = u64::try_from(spread.as_millis()).unwrap_or(u64::MAX);
    now + Duration::from_millis(if millis == 0 {
        0
    } else {
        fastrand::u64(0..millis)
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Paris
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_daily_schedule_runs_at_the_paris_hour_across_daylight_saving() {
        let s = Schedule::cron("0 6 * * *").unwrap();
        // Winter: 06:00 Paris is 05:00 UTC; summer: 04:00 UTC.
        let before_spring = paris(2026, 3, 28, 12, 0);
        let n1 = s.next_after(before_spring).unwrap();
        assert_eq!(n1, Utc.with_ymd_and_hms(2026, 3, 29, 4, 0, 0).unwrap());
        let n0 = s.next_after(paris(2026, 3, 27, 12, 0)).unwrap();
        assert_eq!(n0, Utc.with_ymd_and_hms(2026, 3, 28, 5, 0, 0).unwrap());
        let autumn = s.next_after(paris(2026, 10, 24, 12, 0)).unwrap();
        assert_eq!(autumn, Utc.with_ymd_and_hms(2026, 10, 25, 5, 0, 0).unwrap());
    }

    #[test]
    fn a_time_skipped_by_the_spring_change_is_not_run_twice_nor_lost_for_ever() {
        // 02:30 does not exist in Paris on 2026-03-29.
        let s = Schedule::cron("30 2 * * *").unwrap();
        let n = s.next_after(paris(2026, 3, 28, 12, 0)).unwrap();
        let after = s.next_after(n).unwrap();
        assert!(after - n >= chrono::Duration::hours(23), "{n} then {after}");
        assert_eq!(
            after.with_timezone(&Paris).format("%H:%M").to_string(),
            "02:30"
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let (b, m) = (Duration::from_secs(300), Duration::from_secs(86_400));
        assert_eq!(backoff(1, b, m), Duration::from_secs(300));
        assert_eq!(backoff(2, b, m), Duration::from_secs(600));
        assert_eq!(backoff(5, b, m), Duration::from_secs(4_800));
        assert_eq!(backoff(10, b, m), m);
        assert_eq!(backoff(u32::MAX, b, m), m);
    }

    #[test]
    fn a_permanent_failure_waits_for_the_schedule_and_a_success_returns_to_it() {
        let s = Schedule::cron("0 * * * *").unwrap();
        let now = paris(2026, 5, 4, 10, 10);
        let (b, m) = (Duration::from_secs(60), Duration::from_secs(86_400));
        let ok = next_due(&s, now, 0, Retry::Transient, b, m).unwrap();
        assert_eq!(ok, paris(2026, 5, 4, 11, 0));
        let transient = next_due(&s, now, 1, Retry::Transient, b, m).unwrap();
        assert_eq!(transient, now + Duration::from_secs(60));
        let permanent = next_due(&s, now, 1, Retry::Permanent, b, m).unwrap();
        assert_eq!(permanent, paris(2026, 5, 4, 11, 0));
        let long = next_due(&s, now, 8, Retry::Permanent, b, m).unwrap();
        assert_eq!(long, now + Duration::from_secs(60 * 128));
    }

    #[test]
    fn a_missed_run_is_spread_but_a_future_one_is_kept() {
        let now = paris(2026, 5, 4, 10, 0);
        let spread = Duration::from_secs(300);
        let late = catch_up(now - Duration::from_secs(86_400), now, spread);
        assert!(late >= now && late < now + spread);
        let future = now + Duration::from_secs(60);
        assert_eq!(catch_up(future, now, spread), future);
        assert_eq!(catch_up(now, now, Duration::ZERO), now);
    }

    proptest! {
        #[test]
        fn any_cron_text_is_a_schedule_or_an_error_never_a_panic(
            raw in "[0-9*/,LW#?-]{0,4}( [0-9*/,LW#?-]{0,4}){0,5}",
            start in 0i64..4_000_000_000,
        ) {
            if let Ok(s) = Schedule::cron(&raw) {
                let t = Utc.timestamp_opt(start, 0).unwrap();
                if let Some(n) = s.next_after(t) {
                    prop_assert!(n > t);
                }
            }
        }

        #[test]
        fn next_runs_are_always_later_and_backoff_never_exceeds_its_cap(
            minute in 0u32..60, hour in 0u32..24, start in 0i64..4_000_000_000,
            failures in 0u32..100, base in 1u64..10_000, extra in 0u64..1_000_000,
        ) {
            let s = Schedule::cron(&format!("{minute} {hour} * * *")).unwrap();
            let t = Utc.timestamp_opt(start, 0).unwrap();
            let n = s.next_after(t).unwrap();
            prop_assert!(n > t);
            prop_assert!(n - t <= chrono::Duration::hours(25));
            let (b, m) = (Duration::from_secs(base), Duration::from_secs(base + extra));
            prop_assert!(backoff(failures, b, m) <= m);
            prop_assert!(backoff(failures, b, m) >= b.min(m));
        }
    }
}
