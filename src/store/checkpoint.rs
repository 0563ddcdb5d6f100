//! WAL checkpoints on a thread of their own.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past
//! 1,000 pages: that writer copies the pages into the database file and
//! waits for two fsyncs before it can go on. A crawl or an import commits
//! one transaction per source, so its single writer paid that again and
//! again (see BENCHMARKS.md, issue 3). Here the writer's commit only nudges
//! a checkpointer thread, which runs `PASSIVE` checkpoints on its own
//! connection while the writer goes on. Should the checkpointer fall far
//! behind, the writer checkpoints itself, so the WAL stays bounded.
//!
//! Durability is unchanged: a commit is in the WAL either way, and a
//! checkpoint only moves committed pages into the main file.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;

/// WAL size, in pages, from which a commit nudges the checkpointer (SQLite's
/// own default threshold).
const NUDGE_PAGES: i32 = 1_000;
/// WAL size, in pages, from which the writer checkpoints itself (64 MiB of
/// 4 KiB pages).
const SELF_PAGES: i32 = 16_000;

/// The checkpointer thread of one store; dropping it ends the thread (in
/// any order with the writer's connection).
pub(super) struct Checkpointer {
    thread: Option<JoinHandle<()>>,
    /// The checkpointer's own end of the nudges, to wake it up to stop.
    nudge: SyncSender<()>,
    stop: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Starts a checkpointer for the database file at `path` and routes
    /// `writer`'s checkpoints to it; `None` when the database has no WAL
    /// (an in-memory one), where SQLite's own behaviour stays.
    pub(super) fn attach(
        writer: &mut Connection,
        path: &Path,
    ) -> anyhow::Result<Option<Checkpointer>> {
        Self::attach_with(writer, path, NUDGE_PAGES, SELF_PAGES)
    }

    /// [`Checkpointer::attach`] with other thresholds (tests).
    pub(super) fn attach_with(
        writer: &mut Connection,
        path: &Path,
        nudge_pages: i32,
        self_pages: i32,
    ) -> anyhow::Result<Option<Checkpointer>> {
        let conn = Connection::open(path)?;
        // Reading the mode opens the file: until then this connection does
        // not know the database is in WAL mode and its checkpoints are no-ops.
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if mode != "wal" {
            return Ok(None);
        }
        let (nudge, nudged) = sync_channel::<()>(1);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("vigie-checkpoint".into())
            .spawn(move || {
                while nudged.recv().is_ok() && !stopped.load(Ordering::Acquire) {
                    if let Err(e) = conn.wal_checkpoint_v2(Some("main"), CheckpointMode::PASSIVE) {
                        tracing::debug!("background checkpoint: {e}");
                    }
                }
            })?;
        // Replaces SQLite's automatic checkpoint on this connection.
        let hook_nudge = nudge.clone();
        writer.wal_hook(Some(move |wal: &mut Wal, pages| {
            after_commit(&hook_nudge, wal, pages, nudge_pages, self_pages)
        }))?;
        Ok(Some(Checkpointer {
            thread: Some(thread),
            nudge,
            stop,
        }))
    }
}

/// Runs after each commit of the writer, with the WAL's size in pages.
fn after_commit(
    nudge: &SyncSender<()>,
    wal: &mut Wal,
    pages: i32,
    nudge_pages: i32,
    self_pages: i32,
) -> rusqlite::Result<()> {
    if pages >= nudge_pages {
        // A full channel means a checkpoint is already due: nothing to add.
        let _ = nudge.try_send(());
    }
    if pages >= self_pages {
        // The commit has happened whatever this returns: a checkpoint that
        // cannot run now (the checkpointer holds the lock) is not an error.
        if let Err(e) = wal.checkpoint_v2(CheckpointMode::PASSIVE) {
            tracing::debug!("writer checkpoint: {e}");
        }
    }
    Ok(())
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Blocks only while a nudge is queued, which the thread takes next.
        let _ = self.nudge.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn main_file_len(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().len()
    }

    #[test]
    fn a_writer_far_ahead_checkpoints_itself_before_its_commit_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let mut writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.execute_batch("CREATE TABLE t (b BLOB)").unwrap();
        // Never nudged; the writer's own threshold is 100 pages.
        let _checkpointer = Checkpointer::attach_with(&mut writer, &path, i32::MAX, 100)
            .unwrap()
            .expect("a file database has a WAL");
        let small = main_file_len(&path);
        // 50 pages: under the threshold, nothing moves to the main file.
        writer
            .execute("INSERT INTO t VALUES (zeroblob(200000))", [])
            .unwrap();
        assert_eq!(main_file_len(&path), small);
        // Past 100 pages: copied by the commit itself, checked at once.
        writer
            .execute("INSERT INTO t VALUES (zeroblob(400000))", [])
            .unwrap();
        assert!(
            main_file_len(&path) >= small + 600_000,
            "main file {} bytes after the writer passed its threshold",
            main_file_len(&path)
        );
    }

    #[test]
    fn an_in_memory_database_keeps_sqlite_behaviour() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert!(
            Checkpointer::attach(&mut conn, Path::new(":memory:"))
                .unwrap()
                .is_none()
        );
    }
}
