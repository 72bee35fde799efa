//! The readers: a few read-only connections, each on a thread of its own, taking reads from
//! one shared queue and answering on a oneshot channel.
//!
//! A read costs one hand-off (to whichever reader is free) and one wake-up of the waiting
//! task, the least a blocking SQLite call allows without stalling the async runtime. Threads
//! that own their connection keep its prepared statements warm and need no lock around it;
//! `spawn_blocking` with a pool of connections would cost the same hand-off plus a lock, and
//! could start blocking threads under load. In WAL mode readers never wait for the writer.
//! They open after the writer, which creates the file and puts it in WAL mode.

use crate::connection::{self, Access};
use crate::errors::{self, DbError};
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

/// Read-only connections (and threads).
const READERS: usize = 4;

type Read = Box<dyn FnOnce(&Connection) + Send>;

pub(crate) struct Readers {
    reads: mpsc::Sender<Read>,
}

impl Readers {
    /// Opens the connections and starts their threads, which end when this is dropped.
    pub(crate) fn start(path: &Path) -> rusqlite::Result<Self> {
        let (reads, queue) = mpsc::channel::<Read>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..READERS {
            let conn = connection::open(path, Access::ReadOnly)?;
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{n}"))
                .spawn(move || serve(conn, &queue))
                .map_err(|e| {
                    rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                        Some(format!("no reader thread: {e}")),
                    )
                })?;
        }
        Ok(Self { reads })
    }

    /// Runs `read` on the first free reader.
    pub(crate) async fn read<T, F>(&self, read: F) -> Result<T, DbError>
    where
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Read = Box::new(move |conn| {
            let outcome = catch_unwind(AssertUnwindSafe(|| read(conn)))
                .unwrap_or_else(|_| Err(errors::panicked("read")));
            let _ = answer.send(outcome);
        });
        self.reads
            .send(job)
            .map_err(|_| errors::threads_stopped("readers"))?;
        answered
            .await
            .map_err(|_| errors::threads_stopped("readers"))?
    }
}

fn serve(conn: Connection, queue: &Mutex<mpsc::Receiver<Read>>) {
    loop {
        // The lock is held only while waiting for the next read, never while reading.
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(read) = next else { return };
        read(&conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::Writer;

    #[tokio::test]
    async fn readers_see_what_the_writer_committed_and_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let writer = Writer::start(&path).unwrap();
        let readers = Readers::start(&path).unwrap();
        writer
            .write(|conn| {
                conn.execute_batch(
                    "CREATE TABLE IF NOT EXISTS t (x INT); INSERT INTO t (x) VALUES (42);",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let x: i64 = readers
            .read(|conn| Ok(conn.query_row("SELECT x FROM t", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(x, 42);
        let refused = readers
            .read(|conn| Ok(conn.execute("INSERT INTO t (x) VALUES (1)", [])?))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("readonly"), "{refused}");
    }
}
