//! What the demo tells its user, in plain words: read back from the
//! catalogue and the outbox folder after each cycle, so that the lines say
//! what is stored, not what was attempted.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};

use crate::store::{CallFilter, Store};

/// Deadlines at most this far away count as "closing soon" in the summary.
const CLOSING_SOON_DAYS: i64 = 7;

/// The catalogue, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Catalogue {
    /// Calls (a merged call counts once).
    pub calls: usize,
    /// Calls seen on more than one source.
    pub merged: usize,
    /// Calls waiting for a curator.
    pub pending_review: usize,
    /// Open calls whose deadline is within [`CLOSING_SOON_DAYS`].
    pub closing_soon: usize,
}

impl Catalogue {
    pub fn read(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Catalogue> {
        let calls = store.list_calls(&CallFilter::default(), now)?;
        let soon = now + Duration::days(CLOSING_SOON_DAYS);
        Ok(Catalogue {
            calls: calls.len(),
            merged: calls.iter().filter(|c| distinct(&c.sources) > 1).count(),
            pending_review: calls.iter().filter(|c| c.review == "pending").count(),
            closing_soon: calls
                .iter()
                .filter(|c| c.deadline.is_some_and(|d| d >= now && d <= soon))
                .count(),
        })
    }

    /// "Crawled 4 sources: 11 calls (2 merged across sources, 2 waiting
    /// for review, 2 closing within 7 days)".
    pub fn crawled_line(&self, sources: usize) -> String {
        format!(
            "Crawled {sources} {}: {} ({} merged across sources, {} waiting for review, {} closing within {CLOSING_SOON_DAYS} days)",
            plural(sources, "source", "sources"),
            count(self.calls, "call", "calls"),
            self.merged,
            self.pending_review,
            self.closing_soon,
        )
    }
}

fn distinct(sources: &[String]) -> usize {
    let mut s: Vec<&String> = sources.iter().collect();
    s.sort();
    s.dedup();
    s.len()
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", plural(n, one, many))
}

/// The `.eml` files of the outbox folder, by outbox id.
pub fn eml_files(outbox: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(outbox) else {
        return Vec::new();
    };
    let mut files: Vec<(i64, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|p| {
            let id = p
                .file_name()?
                .to_str()?
                .strip_suffix(".eml")?
                .parse()
                .ok()?;
            Some((id, p))
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

/// "Wrote 3 digests to /tmp/vigie-demo-…/outbox/ (open 1.eml in a mail client)".
pub fn wrote_line(written: usize, outbox: &Path, first: Option<&Path>) -> String {
    let open = first
        .and_then(Path::file_name)
        .map(|n| format!(" (open {} in a mail client)", n.to_string_lossy()))
        .unwrap_or_default();
    format!(
        "Wrote {} to {}{}{open}",
        count(written, "digest", "digests"),
        outbox.display(),
        std::path::MAIN_SEPARATOR
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_as_sentences() {
        let c = Catalogue {
            calls: 11,
            merged: 2,
            pending_review: 1,
            closing_soon: 2,
        };
        assert_eq!(
            c.crawled_line(4),
            "Crawled 4 sources: 11 calls (2 merged across sources, 1 waiting for review, 2 closing within 7 days)"
        );
        assert_eq!(
            wrote_line(
                1,
                Path::new("/tmp/d/outbox"),
                Some(Path::new("/tmp/d/outbox/3.eml"))
            ),
            "Wrote 1 digest to /tmp/d/outbox/ (open 3.eml in a mail client)"
        );
    }

    #[test]
    fn eml_files_are_listed_by_outbox_id() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["10.eml", "2.eml", ".3.eml.tmp", "notes.txt"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let names: Vec<String> = eml_files(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["2.eml", "10.eml"]);
    }
}
