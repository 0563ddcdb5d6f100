//! Which cut-off of a call is "the" deadline. A multi-stage call has
//! several cut-offs; every place that shows one deadline (call listings,
//! `vigie calls show`, `vigie sources check --fetch`, the web) picks it
//! here, so they never disagree.

use chrono::{DateTime, FixedOffset, Utc};

/// The next cut-off not yet passed at `now`, else the last one (the call
/// is closed); `None` without any cut-off. `deadlines` is ascending, as
/// normalize and the store keep it.
pub fn current_deadline(
    deadlines: &[DateTime<FixedOffset>],
    now: DateTime<Utc>,
) -> Option<DateTime<FixedOffset>> {
    deadlines
        .iter()
        .find(|d| **d >= now)
        .or(deadlines.last())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn the_next_cut_off_not_yet_passed_else_the_last() {
        let cutoffs = [
            t("2026-01-15T23:59:59+01:00"),
            t("2027-03-15T12:00:00+01:00"),
            t("2027-09-15T12:00:00+02:00"),
        ];
        let at = |s: &str| t(s).to_utc();
        assert_eq!(
            current_deadline(&cutoffs, at("2026-12-03T10:00:00+01:00")),
            Some(cutoffs[1]),
            "the past one is skipped"
        );
        assert_eq!(
            current_deadline(&cutoffs, at("2027-03-15T12:00:00+01:00")),
            Some(cutoffs[1]),
            "a cut-off is still current at its own instant"
        );
        assert_eq!(
            current_deadline(&cutoffs, at("2027-03-15T12:00:01+01:00")),
            Some(cutoffs[2])
        );
        assert_eq!(
            current_deadline(&cutoffs, at("2028-01-01T00:00:00+01:00")),
            Some(cutoffs[2]),
            "all passed: the last one"
        );
        assert_eq!(current_deadline(&[], at("2026-12-03T10:00:00+01:00")), None);
    }
}
