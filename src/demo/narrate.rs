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
