//! WAL checkpoints on a thread of their own. SQLite checkpoints at the commit that finds the
//! WAL long enough, on the committing connection: it copies the WAL's pages into the database
//! file and waits for two fsyncs (synchronous=NORMAL), while every sign-in in flight waits for
//! the writer thread. Measured under sign-in load, such commits took the writer thread about
//! 15% of its time, up to 30 ms at once. Here the copying and the fsyncs happen beside it.
//!
//! A checkpoint beside a busy writer may never catch up with the pages appended while it runs,
//! and the WAL only starts over from its beginning once every page is in the database file
//! (under the benchmark's sign-in load it grew past 800 MB in 20 s): when a checkpoint leaves
//! the WAL longer than [`Pace::finish_at`], the writer thread finishes it between two groups
//! (a short copy: the rest is done already). The WAL then stays under about 30 MB.

use rusqlite::Connection;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// With no commit from the writer thread, the WAL is still checkpointed this often (the other
/// connections' commits do not announce themselves).
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// How often checkpoints run while the writer thread commits.
#[derive(Clone, Copy)]
pub(crate) struct Pace {
    /// Commits gather this long before a checkpoint copies their pages.
    pub(crate) gather: Duration,
    /// WAL pages (4 KiB each) beyond which the writer thread finishes a checkpoint itself.
    pub(crate) finish_at: i64,
}

impl Pace {
    pub(crate) const USUAL: Pace = Pace {
        gather: Duration::from_millis(50),
        finish_at: 4096,
    };
}

/// The writer thread's side.
pub(crate) struct Checkpoints {
    committed: mpsc::SyncSender<()>,
    /// Whether the checkpointer asked for a finishing checkpoint (the WAL is long).
    finish_wanted: Arc<AtomicBool>,
}

impl Checkpoints {
    /// Opens the checkpointer's connection and starts its thread, which ends when this is
    /// dropped.
    pub(crate) fn start(path: &Path, pace: Pace) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(crate::connection::BUSY_TIMEOUT)?;
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
        let (committed, commits) = mpsc::sync_channel(1);
        let finish_wanted = Arc::new(AtomicBool::new(false));
        let wanted = finish_wanted.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoints".into())
            .spawn(move || run(conn, commits, wanted, pace))
            .map_err(|e| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                    Some(format!("no checkpoint thread: {e}")),
                )
            })?;
        Ok(Self {
            committed,
            finish_wanted,
        })
    }

    /// After a commit: a checkpoint will follow soon.
    pub(crate) fn committed(&self) {
        // Full: one is already announced.
        let _ = self.committed.try_send(());
    }

    /// Between groups: finishes a checkpoint the thread could not, so the WAL can start over.
    pub(crate) fn finish_if_wanted(&self, conn: &Connection) {
        if self.finish_wanted.swap(false, Ordering::Relaxed) {
            match checkpoint(conn) {
                // The thread is checkpointing this moment: after the next group, then.
                Ok(Checkpoint { busy: true, .. }) => {
                    self.finish_wanted.store(true, Ordering::Relaxed)
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed"),
            }
        }
    }
}

fn run(conn: Connection, commits: mpsc::Receiver<()>, finish_wanted: Arc<AtomicBool>, pace: Pace) {
    loop {
        match commits.recv_timeout(IDLE_CHECK) {
            Ok(()) => std::thread::sleep(pace.gather),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        match checkpoint(&conn) {
            // The WAL did not start over: the writer appended while it was copied.
            Ok(Checkpoint { wal_pages, .. }) if wal_pages > pace.finish_at => {
                finish_wanted.store(true, Ordering::Relaxed)
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed"),
        }
    }
}

struct Checkpoint {
    /// Another connection was checkpointing: nothing was done.
    busy: bool,
    wal_pages: i64,
}

/// A checkpoint that waits for no one (PASSIVE).
fn checkpoint(conn: &Connection) -> rusqlite::Result<Checkpoint> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok(Checkpoint {
            busy: row.get::<_, i64>(0)? != 0,
            wal_pages: row.get(1)?,
        })
    })
}
