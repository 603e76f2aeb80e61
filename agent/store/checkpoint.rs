//! Checkpoints and memory: the thread that copies the WAL into the database after big
//! commits, the full checkpoint at a stop, and giving back the memory a burst of work used.
//!
//! The agent works in bursts (a start, a run) and idles for hours between them: these keep
//! the WAL short and the process small without holding up the writer.

use super::{Result, Store, configure, lock};
use crate::heap;
use rusqlite::Connection;
use std::path::Path;

impl Store {
    /// Copies the WAL into the database and empties it, for a stop: the next start then
    /// opens a database with no WAL to read through. Waits for readers (up to the busy
    /// timeout); on failure the WAL is simply kept, which is always safe.
    pub fn checkpoint(&self) -> Result<()> {
        lock(&self.inner.writer).execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    /// Gives back the memory a burst of work left behind, for an agent that then idles for
    /// hours: the page caches of the writer and of pooled readers (all but two readers are
    /// closed; more open again under load), and the allocator's free pages.
    pub fn release_memory(&self) {
        let _ = lock(&self.inner.writer).release_memory();
        {
            let mut idle = lock(&self.inner.readers);
            idle.truncate(2);
            for c in idle.iter() {
                let _ = c.release_memory();
            }
        }
        heap::give_back();
    }
}

/// WAL pages past which a commit asks for a checkpoint: SQLite's own autocheckpoint
/// threshold (about 4 MB).
const CHECKPOINT_PAGES: std::ffi::c_int = 1000;

/// Moves checkpoints off the writer, onto a thread of their own. SQLite's autocheckpoint
/// runs inside the commit that crosses its threshold: the commit of a 100k-asset first sync
/// copied the whole run (~100 MB) into the database before the run could end, 0.2 s of its
/// 3.3 s. A PASSIVE checkpoint on another connection takes no write lock, so the writer
/// goes on meanwhile; the WAL is durable either way, and a checkpoint that is refused or
/// cut short is simply asked for again by the next commit. Registering the hook replaces
/// the autocheckpoint (it is SQLite's own WAL hook).
pub(super) fn start_checkpointer(writer: &mut Connection, path: &Path) -> std::io::Result<()> {
    let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("assetd-checkpoint".into())
        .spawn(move || {
            // Ends when the writer, whose hook holds the only sender, is closed.
            while woken.recv().is_ok() {
                let done = Connection::open_with_flags(
                    &path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .and_then(|c| {
                    configure(&c)?;
                    c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                });
                if let Err(e) = done {
                    tracing::debug!(error = %e, "Background checkpoint did not run; the next commit asks again.");
                }
                // The connection is closed by now; what it used stays in this thread's
                // arena unless given back, after the run's own release_memory has run.
                heap::give_back();
            }
        })?;
    writer
        .wal_hook(Some(
            move |_: &mut rusqlite::hooks::Wal, pages: std::ffi::c_int| {
                if pages >= CHECKPOINT_PAGES {
                    // Full means one is already asked for.
                    let _ = wake.try_send(());
                }
                Ok(())
            },
        ))
        .map_err(std::io::Error::other)
}
