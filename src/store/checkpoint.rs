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

/// The checkpointer thread of one store. Dropping it, after the writer's
/// connection (which holds the other end of the nudges), ends the thread.
pub(super) struct Checkpointer {
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts a checkpointer for the database file at `path` and routes
    /// `writer`'s checkpoints to it; `None` when the database has no WAL
    /// (an in-memory one), where SQLite's own behaviour stays.
    pub(super) fn attach(
        writer: &mut Connection,
        path: &Path,
    ) -> anyhow::Result<Option<Checkpointer>> {
        let conn = Connection::open(path)?;
        // Reading the mode opens the file: until then this connection does
        // not know the database is in WAL mode and its checkpoints are no-ops.
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if mode != "wal" {
            return Ok(None);
        }
        let (nudge, nudged) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("vigie-checkpoint".into())
            .spawn(move || {
                // Ends when the writer's connection (and its hook) is gone.
                while nudged.recv().is_ok() {
                    if let Err(e) = conn.wal_checkpoint_v2(Some("main"), CheckpointMode::PASSIVE) {
                        tracing::debug!("background checkpoint: {e}");
                    }
                }
            })?;
        // Replaces SQLite's automatic checkpoint on this connection.
        writer.wal_hook(Some(move |wal: &mut Wal, pages| {
            after_commit(&nudge, wal, pages)
        }))?;
        Ok(Some(Checkpointer {
            thread: Some(thread),
        }))
    }
}

/// Runs after each commit of the writer, with the WAL's size in pages.
fn after_commit(nudge: &SyncSender<()>, wal: &mut Wal, pages: i32) -> rusqlite::Result<()> {
    if pages >= NUDGE_PAGES {
        // A full channel means a checkpoint is already due: nothing to add.
        let _ = nudge.try_send(());
    }
    if pages >= SELF_PAGES {
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
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
