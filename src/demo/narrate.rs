//! The daemon's events, told in plain words: a summary of the catalogue
//! each time every demo source has run once more, the digests written to
//! the outbox, and what failed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::Utc;
use chrono_tz::Europe::Paris;

use super::summary::{self, Catalogue};
use crate::service::Event;
use crate::store::Store;

pub struct Narrator {
    sources: usize,
    db: PathBuf,
    outbox: PathBuf,
    /// The catalogue, read on a connection of its own (WAL: it does not
    /// get in the daemon's way).
    store: Option<Store>,
    /// Sources that ran since the last summary, and what they changed.
    round: BTreeSet<String>,
    changed: u32,
    summaries: usize,
    hints_given: bool,
}

impl Narrator {
    pub fn new(sources: usize, db: PathBuf, outbox: PathBuf) -> Narrator {
        Narrator {
            sources,
            db,
            outbox,
            store: None,
            round: BTreeSet::new(),
            changed: 0,
            summaries: 0,
            hints_given: false,
        }
    }

    /// How many times every source has run (summaries given).
    pub fn rounds(&self) -> usize {
        self.summaries
    }

    /// The lines `event` calls for (often none).
    pub fn hear(&mut self, event: &Event) -> anyhow::Result<Vec<String>> {
        let mut lines = Vec::new();
        match event {
            Event::CrawlFinished {
                source,
                outcome,
                error,
                new,
                updated,
                ..
            } => {
                if outcome == "failed" {
                    let why = error.as_deref().unwrap_or("no reason given");
                    lines.push(format!("  {source} failed: {why}"));
                }
                self.round.insert(source.clone());
                self.changed += new + updated;
                if self.round.len() >= self.sources {
                    lines.push(self.crawled()?);
                    self.round.clear();
                    self.changed = 0;
                }
            }
            Event::OutboxDrained { sent, failed, .. } => {
                if *sent > 0 {
                    let files = summary::eml_files(&self.outbox);
                    lines.push(summary::wrote_line(
                        *sent,
                        &self.outbox,
                        files.first().map(PathBuf::as_path),
                    ));
                    if !self.hints_given {
                        self.hints_given = true;
                        lines.extend(hints(&self.db));
                    }
                }
                if *failed > 0 {
                    lines.push(format!("  {failed} message(s) could not be written"));
                }
            }
            Event::HealthChanged {
                source, from, to, ..
            } => lines.push(format!(
                "  {source} went from {} to {}",
                from.as_str(),
                to.as_str()
            )),
            _ => {}
        }
        Ok(lines)
    }

    /// The summary line after every source ran once more.
    fn crawled(&mut self) -> anyhow::Result<String> {
        self.summaries += 1;
        if self.summaries > 1 && self.changed == 0 {
            return Ok(format!(
                "Crawled {} sources again at {}: nothing changed.",
                self.sources,
                Utc::now().with_timezone(&Paris).format("%H:%M:%S")
            ));
        }
        let store = match &mut self.store {
            Some(store) => store,
            empty => empty.insert(Store::open(&self.db)?),
        };
        Ok(Catalogue::read(store, Utc::now())?.crawled_line(self.sources))
    }
}

fn hints(db: &Path) -> Vec<String> {
    let db = db.display();
    vec![
        format!("Look at the catalogue: vigie calls --db {db}"),
        format!("Calls waiting for a curator: vigie review list --db {db}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(source: &str, outcome: &str, new: u32) -> Event {
        Event::CrawlFinished {
            source: source.into(),
            run_id: "r".into(),
            outcome: outcome.into(),
            error: (outcome == "failed").then(|| "HTTP 500 from the site".to_string()),
            items: new,
            new,
            updated: 0,
            duration_ms: 1,
            next_due: None,
        }
    }

    #[test]
    fn a_summary_comes_once_every_source_ran_and_failures_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vigie.db");
        drop(Store::open(&db).unwrap());
        let mut n = Narrator::new(2, db.clone(), dir.path().join("outbox"));
        assert!(n.hear(&finished("a", "ok", 3)).unwrap().is_empty());
        assert_eq!(n.rounds(), 0);
        let lines = n.hear(&finished("b", "failed", 0)).unwrap();
        assert_eq!(lines[0], "  b failed: HTTP 500 from the site");
        assert!(
            lines[1].starts_with("Crawled 2 sources: 0 calls"),
            "{lines:?}"
        );
        n.hear(&finished("a", "ok", 0)).unwrap();
        let again = n.hear(&finished("b", "ok", 0)).unwrap();
        assert!(again[0].ends_with(": nothing changed."), "{again:?}");

        std::fs::create_dir(dir.path().join("outbox")).unwrap();
        std::fs::write(dir.path().join("outbox/7.eml"), "x").unwrap();
        let drained = Event::OutboxDrained {
            sent: 1,
            rescheduled: 0,
            failed: 0,
        };
        let lines = n.hear(&drained).unwrap();
        assert!(
            lines[0].ends_with("(open 7.eml in a mail client)"),
            "{lines:?}"
        );
        assert!(lines[1].contains(&format!("vigie calls --db {}", db.display())));
        assert_eq!(n.hear(&drained).unwrap().len(), 1, "hints are given once");
    }
}
