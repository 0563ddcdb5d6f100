//! `vigie backup FILE`: a consistent copy of the live catalogue with
//! SQLite's online backup API, while a daemon or a crawl keeps writing.
//!
//! The whole database is copied in one backup step: the step holds one
//! read transaction, which in WAL mode sees a single committed state and
//! blocks no writer (a step-by-step copy would restart every time another
//! connection commits, and might never finish under a busy daemon). The
//! copy is written beside FILE under a temporary name, switched to a
//! rollback journal (one self-contained file), checked with
//! `PRAGMA integrity_check`, and only then moved to FILE: a failed backup
//! leaves no half file and never replaces a good one. Without `force`,
//! FILE is never overwritten, even if it appears during the copy.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::migrations::LATEST;

/// What a backup wrote, as checked on the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub source: PathBuf,
    pub path: PathBuf,
    pub bytes: u64,
    /// `PRAGMA user_version` of the copy: the migrations it has.
    pub schema_version: i64,
    pub calls: i64,
    pub sightings: i64,
    pub subscribers: i64,
    pub duration: Duration,
}

impl BackupReport {
    /// The schema version this Vigie migrates databases to.
    pub fn latest_version() -> usize {
        LATEST
    }
}

impl fmt::Display for BackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schema = match usize::try_from(self.schema_version) {
            Ok(v) if v == LATEST => "this version's".to_string(),
            Ok(v) if v < LATEST => format!("older than this version's {LATEST}"),
            _ => format!("newer than this version's {LATEST}"),
        };
        write!(
            f,
            "Backed up {} to {}: {} bytes ({:.1} MiB), schema version {} ({schema}), \
             integrity check ok; {} calls, {} sightings, {} subscribers ({:.2} s)",
            self.source.display(),
            self.path.display(),
            self.bytes,
            self.bytes as f64 / (1024.0 * 1024.0),
            self.schema_version,
            self.calls,
            self.sightings,
            self.subscribers,
            self.duration.as_secs_f64(),
        )
    }
}

/// How long a busy or locked source may keep the copy from starting.
const BUSY_PATIENCE: Duration = Duration::from_secs(30);

/// Copies the database at `source` to `dest` and checks the copy.
pub fn backup(source: &Path, dest: &Path, force: bool) -> anyhow::Result<BackupReport> {
    let started = Instant::now();
    ensure!(
        source.is_file(),
        "no database at {}: pass --db PATH (or set database.path)",
        source.display()
    );
    if dest.exists() && !force {
        bail!(
            "{} already exists: choose another file or pass --force to replace it",
            dest.display()
        );
    }
    let name = dest
        .file_name()
        .with_context(|| format!("{} is not a file name", dest.display()))?;
    let tmp = dest.with_file_name(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = copy_and_check(source, &tmp).and_then(|report| {
        place(&tmp, dest, force)?;
        Ok(report)
    });
    // Whatever happened, no temporary file stays behind.
    let _ = std::fs::remove_file(&tmp);
    let (schema_version, calls, sightings, subscribers) = result?;
    let bytes = std::fs::metadata(dest)
        .with_context(|| format!("reading the size of {}", dest.display()))?
        .len();
    Ok(BackupReport {
        source: source.to_path_buf(),
        path: dest.to_path_buf(),
        bytes,
        schema_version,
        calls,
        sightings,
        subscribers,
        duration: started.elapsed(),
    })
}

/// Schema version and row counts of the checked copy.
type Checked = (i64, i64, i64, i64);

fn copy_and_check(source: &Path, tmp: &Path) -> anyhow::Result<Checked> {
    // Read-write without create: a read-only connection cannot always open
    // a WAL database (it may need to create the -shm file); nothing is
    // written to the source.
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening the database {}", source.display()))?;
    src.busy_timeout(BUSY_PATIENCE)?;
    let mut dst = Connection::open(tmp)
        .with_context(|| format!("creating the backup file {}", tmp.display()))?;
    {
        let backup = Backup::new(&src, &mut dst).context("starting the backup")?;
        let deadline = Instant::now() + BUSY_PATIENCE;
        loop {
            // -1: every page in one step, under one read transaction.
            match backup.step(-1).context("copying the database")? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                StepResult::Busy | StepResult::Locked => bail!(
                    "the database {} stayed locked for {} s: try again",
                    source.display(),
                    BUSY_PATIENCE.as_secs()
                ),
                other => bail!("unexpected backup step result {other:?}"),
            }
        }
    }
    // One self-contained file (the live database's WAL mode is set again
    // when Vigie opens a restored copy).
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    let check: Vec<String> = dst
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ensure!(
        check == ["ok"],
        "the copy failed its integrity check ({}); nothing was written to the backup file",
        check.join("; ")
    );
    let count = |table: &str, sql: &str| -> anyhow::Result<i64> {
        let exists: bool = dst.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [table],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(0);
        }
        Ok(dst.query_row(sql, [], |r| r.get(0))?)
    };
    let version: i64 = dst.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok((
        version,
        // Merged-away calls are kept as redirects: only live ones count.
        count(
            "calls",
            "SELECT count(*) FROM calls WHERE merged_into IS NULL",
        )?,
        count("sightings", "SELECT count(*) FROM sightings")?,
        count("subscribers", "SELECT count(*) FROM subscribers")?,
    ))
}

/// Moves the checked copy to `dest`: replacing it with `force`, else only
/// if it still does not exist (a hard link fails on an existing file,
/// where a rename would replace it).
fn place(tmp: &Path, dest: &Path, force: bool) -> anyhow::Result<()> {
    if force {
        std::fs::rename(tmp, dest)
            .with_context(|| format!("moving the backup to {}", dest.display()))
    } else {
        std::fs::hard_link(tmp, dest).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{} appeared during the backup: choose another file or pass --force",
                    dest.display()
                )
            } else {
                anyhow::Error::new(e).context(format!("writing the backup to {}", dest.display()))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_backup_is_a_checked_copy_and_never_overwrites_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vigie.db");
        drop(Store::open(&db).unwrap());
        let dest = dir.path().join("copy.db");
        let report = backup(&db, &dest, false).unwrap();
        assert_eq!(report.schema_version, LATEST as i64);
        assert!(report.bytes > 0 && report.bytes == std::fs::metadata(&dest).unwrap().len());
        assert!(
            report.to_string().contains("integrity check ok"),
            "{report}"
        );

        let err = backup(&db, &dest, false).unwrap_err().to_string();
        assert!(err.contains("--force"), "{err}");
        backup(&db, &dest, true).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn a_missing_database_is_an_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let err = backup(&dir.path().join("none.db"), &dir.path().join("c.db"), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--db"), "{err}");
        assert!(!dir.path().join("c.db").exists());
    }

    #[test]
    fn a_corrupt_database_leaves_no_backup_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("bad.db");
        std::fs::write(&db, b"this is not a database, just forty bytes!").unwrap();
        let dest = dir.path().join("c.db");
        assert!(backup(&db, &dest, false).is_err());
        assert!(!dest.exists());
    }
}
