//! What a run says of a source. One rule, written once here, shared by
//! the daemon (alerts) and `vigie sources status`:
//!
//! - **zero_match**: the page was fetched but the selectors extracted
//!   nothing, where earlier runs found items: the layout probably changed.
//!   Reported at once.
//! - **drop**: a successful run found fewer than `curators.drop_ratio` ×
//!   the median item count of the previous `curators.drop_window`
//!   successful runs (at least [`MIN_HISTORY`] of them). Reported at once.
//! - **failing**: `curators.failure_threshold` consecutive failed runs.
//! - **healthy** otherwise. A 304 (not modified) clears `failing` but not
//!   `zero_match` nor `drop`: the page they judged is unchanged.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::CuratorsConfig;
use super::schedule::Retry;
use crate::crawl::{Outcome, SourceReport};
use crate::domain::{UnknownCode, code_enum};

/// The crawl's code for a run that read its pages and found no item: the
/// zero-match case when earlier runs found some.
pub const LAYOUT_CHANGED: &str = "layout_changed";

code_enum!(
    /// A source's health, as stored in `service_sources.health`.
    Health, "source health" {
        Healthy => "healthy",
        Failing => "failing",
        ZeroMatch => "zero_match",
        Drop => "drop",
    }
);

/// Successful runs needed before a drop can be judged.
pub const MIN_HISTORY: usize = 3;

/// How a run ended, as the scheduler needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunFacts {
    pub outcome: RunOutcome,
    pub pages: u32,
    pub items: u32,
}

/// The run's outcome with the failure classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RunOutcome {
    Ok,
    NotModified,
    /// Another process held the source's crawl lease: nothing ran.
    Skipped,
    Failed {
        /// A short, stable code (`layout_changed`, `timeout`, `http_503`…):
        /// metrics and the `last_error_code` column.
        code: Cow<'static, str>,
        message: String,
        #[serde(skip)]
        retry: Retry,
    },
}

impl RunOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            RunOutcome::Ok => "ok",
            RunOutcome::NotModified => "not_modified",
            RunOutcome::Skipped => "skipped",
            RunOutcome::Failed { .. } => "failed",
        }
    }

    pub fn is_failure(&self) -> bool {
        matches!(self, RunOutcome::Failed { .. })
    }
}

/// Classifies a crawl report: the one place that reads the crawl's
/// outcome. The crawl's typed error gives the code (`layout_changed`,
/// `timeout`, `http_503`, `robots`...) and whether retrying can help; a
/// source another process was crawling is neither a success nor a failure.
pub fn classify(report: &SourceReport) -> RunFacts {
    let outcome = match &report.outcome {
        Outcome::Ok => RunOutcome::Ok,
        Outcome::NotModified => RunOutcome::NotModified,
        Outcome::Skipped(_) => RunOutcome::Skipped,
        Outcome::Failed(error) => RunOutcome::Failed {
            code: error.code(),
            message: error.to_string(),
            retry: if error.is_transient() {
                Retry::Transient
            } else {
                Retry::Permanent
            },
        },
    };
    RunFacts {
        outcome,
        pages: report.pages,
        items: report.items,
    }
}

/// The health after `run`. `previous` is the health before it, `failures`
/// the consecutive failures including this run, `history` the item counts
/// of earlier successful runs, newest first.
pub fn assess(
    previous: Health,
    failures: u32,
    run: &RunFacts,
    history: &[u32],
    config: &CuratorsConfig,
) -> Health {
    match &run.outcome {
        RunOutcome::Failed { code, .. } => {
            if code == LAYOUT_CHANGED && history.iter().any(|&n| n > 0) {
                Health::ZeroMatch
            } else if failures >= config.failure_threshold {
                if previous == Health::ZeroMatch {
                    // Still no item, now also failing: keep the sharper diagnosis.
                    Health::ZeroMatch
                } else {
                    Health::Failing
                }
            } else {
                previous
            }
        }
        RunOutcome::Skipped => previous,
        RunOutcome::NotModified => match previous {
            Health::Failing => Health::Healthy,
            other => other,
        },
        RunOutcome::Ok => match usual_items(history, config) {
            Some(usual) if f64::from(run.items) < config.drop_ratio * usual => Health::Drop,
            _ => Health::Healthy,
        },
    }
}

/// The median item count of the last `drop_window` successful runs, when
/// there are enough of them.
pub fn usual_items(history: &[u32], config: &CuratorsConfig) -> Option<f64> {
    let window = (config.drop_window as usize).max(1);
    let mut last: Vec<u32> = history.iter().copied().take(window).collect();
    if last.len() < MIN_HISTORY.min(window) {
        return None;
    }
    last.sort_unstable();
    let mid = last.len() / 2;
    Some(if last.len() % 2 == 1 {
        f64::from(last[mid])
    } else {
        (f64::from(last[mid - 1]) + f64::from(last[mid])) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn config() -> CuratorsConfig {
        CuratorsConfig {
            emails: vec![],
            failure_threshold: 3,
            drop_ratio: 0.5,
            drop_window: 5,
        }
    }

    fn ok(items: u32) -> RunFacts {
        RunFacts {
            outcome: RunOutcome::Ok,
            pages: 1,
            items,
        }
    }

    fn failed(code: &'static str, pages: u32) -> RunFacts {
        RunFacts {
            outcome: RunOutcome::Failed {
                code: code.into(),
                message: "boom".into(),
                retry: Retry::Transient,
            },
            pages,
            items: 0,
        }
    }

    #[test]
    fn failures_are_reported_from_the_threshold_on() {
        let c = config();
        let run = failed("crawl", 0);
        assert_eq!(assess(Health::Healthy, 1, &run, &[], &c), Health::Healthy);
        assert_eq!(assess(Health::Healthy, 2, &run, &[], &c), Health::Healthy);
        assert_eq!(assess(Health::Healthy, 3, &run, &[], &c), Health::Failing);
        assert_eq!(assess(Health::Failing, 4, &run, &[], &c), Health::Failing);
        assert_eq!(assess(Health::Failing, 0, &ok(7), &[], &c), Health::Healthy);
    }

    #[test]
    fn a_page_that_stops_matching_is_zero_match_at_once_only_if_it_matched_before() {
        let c = config();
        let run = failed(LAYOUT_CHANGED, 1);
        assert_eq!(
            assess(Health::Healthy, 1, &run, &[12, 11], &c),
            Health::ZeroMatch
        );
        // A new source that never matched is a plain failure.
        assert_eq!(assess(Health::Healthy, 1, &run, &[], &c), Health::Healthy);
        assert_eq!(assess(Health::Healthy, 3, &run, &[], &c), Health::Failing);
        assert_eq!(
            assess(Health::ZeroMatch, 5, &failed("crawl", 0), &[12], &c),
            Health::ZeroMatch
        );
    }

    #[test]
    fn a_sudden_drop_is_below_half_the_median_of_the_last_five_successes() {
        let c = config();
        let history = [10, 12, 11, 9, 200, 3];
        assert_eq!(usual_items(&history, &c), Some(11.0));
        assert_eq!(
            assess(Health::Healthy, 0, &ok(5), &history, &c),
            Health::Drop
        );
        assert_eq!(
            assess(Health::Healthy, 0, &ok(6), &history, &c),
            Health::Healthy
        );
        // Too little history to judge.
        assert_eq!(
            assess(Health::Healthy, 0, &ok(0), &[10, 10], &c),
            Health::Healthy
        );
        // Not modified keeps a drop or a zero-match, clears a failure.
        let nm = RunFacts {
            outcome: RunOutcome::NotModified,
            pages: 1,
            items: 0,
        };
        assert_eq!(assess(Health::Drop, 0, &nm, &history, &c), Health::Drop);
        assert_eq!(
            assess(Health::Failing, 0, &nm, &history, &c),
            Health::Healthy
        );
    }

    #[test]
    fn the_crawl_error_gives_the_code_and_whether_to_retry() {
        use crate::crawl::CrawlError;
        let mut report = crate::crawl::SourceReport {
            source: "s".into(),
            outcome: Outcome::Failed(CrawlError::LayoutChanged),
            pages: 1,
            pages_not_modified: 0,
            items: 0,
            new: 0,
            updated: 0,
            unchanged: 0,
            merged: 0,
            unlisted: 0,
            errors: 1,
            warnings: vec![],
            duration: std::time::Duration::ZERO,
        };
        let RunOutcome::Failed { code, retry, .. } = classify(&report).outcome else {
            panic!("a failed crawl is a failed run");
        };
        assert_eq!((code.as_ref(), retry), (LAYOUT_CHANGED, Retry::Permanent));
        report.outcome = Outcome::Failed(CrawlError::Database("database is locked".into()));
        let RunOutcome::Failed { code, retry, .. } = classify(&report).outcome else {
            panic!("a failed crawl is a failed run");
        };
        assert_eq!((code.as_ref(), retry), ("database", Retry::Transient));
        // A source another process holds is neither a success nor a failure:
        // the health stays what it was.
        report.outcome = Outcome::Skipped(crate::store::Lease {
            source_id: "s".into(),
            holder: crate::store::LeaseHolder::this_process(),
            since: chrono::Utc::now(),
            expires_at: chrono::Utc::now(),
        });
        let run = classify(&report);
        assert_eq!(run.outcome, RunOutcome::Skipped);
        for previous in [Health::Failing, Health::ZeroMatch, Health::Healthy] {
            assert_eq!(assess(previous, 2, &run, &[20], &config()), previous);
        }
    }

    proptest! {
        #[test]
        fn the_usual_count_lies_within_the_window(history in proptest::collection::vec(0u32..10_000, 0..12)) {
            let c = config();
            if let Some(usual) = usual_items(&history, &c) {
                let window: Vec<u32> = history.iter().copied().take(5).collect();
                prop_assert!(usual >= f64::from(*window.iter().min().unwrap()));
                prop_assert!(usual <= f64::from(*window.iter().max().unwrap()));
            } else {
                prop_assert!(history.len() < MIN_HISTORY);
            }
        }
    }
}
