//! The writer thread: the only connection of this process that writes. Every write of the
//! store is a closure run here, inside a transaction begun with BEGIN IMMEDIATE, so the
//! decisions a write makes between its statements (the last admin, a first sign-in's user)
//! see no other write come in between, in this process or another (the `authgate` CLI's own
//! writer waits on the file lock).
//!
//! Writes queued while the thread works run together: one transaction and one commit for the
//! group. If a write fails, the group is rolled back and each write runs again alone, so a
//! failing write fails alone (and a write that refuses, such as `LastEnabledAdmin`, leaves
//! nothing behind). That is why a write is `Fn`, not `FnOnce`: it may run twice. A write is
//! answered only after its group committed, and runs to its end even when the request that
//! queued it is abandoned.

use crate::checkpointer::{self, Checkpoints};
use crate::connection::{self, Access};
use crate::errors::{self, DbError};
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Enough to cover every request in flight at the load the benchmark applies; larger groups
/// would only delay the first answers of the group.
const MAX_GROUP: usize = 32;

pub(crate) struct Writer {
    jobs: mpsc::Sender<Box<dyn Queued>>,
}

impl Writer {
    /// Opens the writer's connection (creating the file, in WAL mode) and starts its thread
    /// and the checkpointer's; the threads end when this handle is dropped.
    pub(crate) fn start(path: &Path) -> rusqlite::Result<Self> {
        Self::start_with(path, checkpointer::Pace::USUAL)
    }

    fn start_with(path: &Path, pace: checkpointer::Pace) -> rusqlite::Result<Self> {
        let conn = connection::open(path, Access::ReadWrite)?;
        let checkpoints = Checkpoints::start(path, pace)?;
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_groups(conn, queue, checkpoints))
            .map_err(|e| {
                failure(
                    rusqlite::ffi::SQLITE_ERROR,
                    format!("no writer thread: {e}"),
                )
            })?;
        Ok(Self { jobs })
    }

    /// Runs `write` in a transaction (with other writes if they are waiting) and returns what
    /// it found once the transaction committed.
    pub(crate) async fn write<T, F>(&self, write: F) -> Result<T, DbError>
    where
        F: Fn(&Connection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            write,
            outcome: None,
            answer,
        };
        self.jobs
            .send(Box::new(job))
            .map_err(|_| errors::threads_stopped("writer"))?;
        answered
            .await
            .map_err(|_| errors::threads_stopped("writer"))?
    }
}

fn failure(code: std::ffi::c_int, message: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(message))
}

/// A queued write, whatever its output.
trait Queued: Send {
    /// Runs the write; false if it failed (its outcome is kept for the answer).
    fn run(&mut self, conn: &Connection) -> bool;
    /// It ran and failed.
    fn failed(&self) -> bool;
    /// Answers the caller once the group's fate is known: `Err` if nothing was committed.
    fn answer(self: Box<Self>, committed: Result<(), &rusqlite::Error>);
}

struct Job<T, F> {
    write: F,
    outcome: Option<Result<T, DbError>>,
    answer: oneshot::Sender<Result<T, DbError>>,
}

impl<T, F> Queued for Job<T, F>
where
    F: Fn(&Connection) -> Result<T, DbError> + Send,
    T: Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        // A bug in one write must not stop the thread every later write depends on.
        let outcome = catch_unwind(AssertUnwindSafe(|| (self.write)(conn)))
            .unwrap_or_else(|_| Err(errors::panicked("write")));
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn failed(&self) -> bool {
        matches!(self.outcome, Some(Err(_)))
    }

    fn answer(self: Box<Self>, committed: Result<(), &rusqlite::Error>) {
        let answer = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            // The write's own error says more than the group's.
            (Err(_), Some(Err(own))) => Err(own),
            (Err(group), _) => Err(DbError::Sqlite(copy_of(group))),
            (Ok(()), None) => Err(DbError::Sqlite(failure(
                rusqlite::ffi::SQLITE_ERROR,
                "write not run".into(),
            ))),
        };
        // The caller may have gone; the write happened regardless.
        let _ = self.answer.send(answer);
    }
}

/// The group's error, once for each of its writes.
fn copy_of(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => failure(rusqlite::ffi::SQLITE_ERROR, other.to_string()),
    }
}

fn run_groups(conn: Connection, queue: mpsc::Receiver<Box<dyn Queued>>, checkpoints: Checkpoints) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    loop {
        // After the last group's answers, before waiting for the next.
        checkpoints.finish_if_wanted(&conn);
        let Ok(first) = queue.recv() else { return };
        group.push(first);
        group.extend(queue.try_iter().take(MAX_GROUP - 1));
        let committed = run_together(&conn, &mut group);
        if committed.is_ok() {
            checkpoints.committed();
        }
        if committed.is_err() && group.len() > 1 && group.iter().any(|job| job.failed()) {
            // Nothing of the group was committed: each write runs again alone, so that a
            // failing write answers for itself only. Failures are rare, which is why the group
            // has no savepoints: one per write cost more than the writes' own statements. (A
            // busy database or a failed commit answers the whole group: alone, each write
            // would only wait as long again.)
            for job in group.drain(..) {
                let mut alone = [job];
                let committed = run_together(&conn, &mut alone);
                let [job] = alone;
                job.answer(committed.as_ref().map(|_| ()));
            }
            continue;
        }
        for job in group.drain(..) {
            job.answer(committed.as_ref().map(|_| ()));
        }
    }
}

/// The writes in one transaction: all of them, or none if one fails.
fn run_together(conn: &Connection, group: &mut [Box<dyn Queued>]) -> rusqlite::Result<()> {
    execute(conn, "BEGIN IMMEDIATE")?;
    let outcome = group
        .iter_mut()
        .try_for_each(|job| match job.run(conn) {
            true => Ok(()),
            false => Err(failure(
                rusqlite::ffi::SQLITE_ABORT,
                "a write failed".into(),
            )),
        })
        .and_then(|()| execute(conn, "COMMIT"));
    if outcome.is_err() && !conn.is_autocommit() {
        // Never leave the connection inside a transaction.
        let _ = execute(conn, "ROLLBACK");
    }
    outcome
}

fn execute(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use authgate_store::StoreError;
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    /// Inserts one row and returns its name; the same id twice is a unique violation.
    fn insert(id: i64) -> impl Fn(&Connection) -> Result<String, DbError> {
        move |conn| {
            Ok(conn
                .prepare_cached("INSERT INTO t (id, name) VALUES (?1, ?2) RETURNING name")?
                .query_row((id, format!("row {id}")), |r| r.get(0))?)
        }
    }

    /// Holds the writer until the test lets it go, so that the writes after it queue up.
    fn hold(barrier: Arc<Barrier>) -> impl Fn(&Connection) -> Result<(), DbError> {
        move |_| {
            barrier.wait();
            barrier.wait();
            Ok(())
        }
    }

    /// Inserts a row of 4,000 bytes: a WAL page at least.
    fn wide(id: i64) -> impl Fn(&Connection) -> Result<(), DbError> {
        move |conn| {
            conn.prepare_cached("INSERT INTO t (id, name) VALUES (?1, ?2)")?
                .execute((id, "x".repeat(4000)))?;
            Ok(())
        }
    }

    fn file_len(path: &Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    fn database() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "PRAGMA journal_mode = WAL; \
                 CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
            )
            .unwrap();
        (dir, path)
    }

    fn ids(path: &Path) -> Vec<i64> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn.prepare("SELECT id FROM t ORDER BY id").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[tokio::test]
    async fn a_write_alone_answers_its_rows_and_a_failing_one_changes_nothing() {
        let (_dir, path) = database();
        let writer = Writer::start(&path).unwrap();
        assert_eq!(writer.write(insert(1)).await.unwrap(), "row 1");
        let e = writer.write(insert(1)).await.unwrap_err();
        assert!(e.to_string().contains("UNIQUE"), "{e}");
        assert_eq!(ids(&path), [1]);
        // The connection is usable again (not left inside the failed transaction).
        assert_eq!(writer.write(insert(2)).await.unwrap(), "row 2");
        assert_eq!(ids(&path), [1, 2]);
    }

    #[tokio::test]
    async fn queued_writes_run_as_a_group_and_only_the_failing_one_fails() {
        let (_dir, path) = database();
        let writer = Arc::new(Writer::start(&path).unwrap());
        let barrier = Arc::new(Barrier::new(2));
        let held = tokio::spawn({
            let writer = writer.clone();
            let barrier = barrier.clone();
            async move { writer.write(hold(barrier)).await }
        });
        // The writer is now inside `hold`, in its group's transaction.
        tokio::task::spawn_blocking({
            let barrier = barrier.clone();
            move || barrier.wait()
        })
        .await
        .unwrap();
        let writes: Vec<_> = [1, 2, 2, 3, 4]
            .into_iter()
            .map(|id| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.write(insert(id)).await })
            })
            .collect();
        // Let every write reach the queue, then release the writer: they run as one group.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            ids(&path).is_empty(),
            "nothing runs while the writer is held"
        );
        tokio::task::spawn_blocking(move || barrier.wait())
            .await
            .unwrap();
        held.await.unwrap().unwrap();
        let mut answers = Vec::new();
        for write in writes {
            answers.push(write.await.unwrap().map_err(|e| e.to_string()));
        }
        assert_eq!(answers[0].as_deref(), Ok("row 1"));
        assert_eq!(answers[1].as_deref(), Ok("row 2"));
        assert!(answers[2].as_ref().unwrap_err().contains("UNIQUE"));
        assert_eq!(answers[3].as_deref(), Ok("row 3"));
        assert_eq!(answers[4].as_deref(), Ok("row 4"));
        assert_eq!(ids(&path), [1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn a_refusal_rolls_its_write_back_and_comes_back_as_is() {
        let (_dir, path) = database();
        let writer = Writer::start(&path).unwrap();
        let refused = writer
            .write(|conn| {
                conn.execute("INSERT INTO t (id, name) VALUES (9, 'half done')", [])?;
                Err::<(), _>(StoreError::LastEnabledAdmin.into())
            })
            .await
            .unwrap_err();
        assert!(matches!(
            StoreError::from(refused),
            StoreError::LastEnabledAdmin
        ));
        assert!(ids(&path).is_empty(), "its statements were rolled back");
    }

    #[tokio::test]
    async fn a_write_waits_for_another_connection_s_transaction() {
        let (_dir, path) = database();
        let writer = Arc::new(Writer::start(&path).unwrap());
        let other = Connection::open(&path).unwrap();
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t (id, name) VALUES (1, 'other')")
            .unwrap();
        let write = tokio::spawn({
            let writer = writer.clone();
            async move { writer.write(insert(2)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!write.is_finished(), "the write waits for the lock");
        other.execute_batch("COMMIT").unwrap();
        assert_eq!(write.await.unwrap().unwrap(), "row 2");
        assert_eq!(ids(&path), [1, 2]);
    }

    #[tokio::test]
    async fn a_panicking_write_fails_alone_and_the_writer_carries_on() {
        let (_dir, path) = database();
        let writer = Writer::start(&path).unwrap();
        let e = writer
            .write(|conn| -> Result<(), DbError> {
                conn.execute("INSERT INTO t (id, name) VALUES (5, 'half done')", [])?;
                panic!("a bug in a write");
            })
            .await
            .unwrap_err();
        assert!(e.to_string().contains("panicked"), "{e}");
        assert!(ids(&path).is_empty(), "its statements were rolled back");
        assert_eq!(writer.write(insert(6)).await.unwrap(), "row 6");
        assert_eq!(ids(&path), [6]);
    }

    #[tokio::test]
    async fn an_abandoned_write_still_runs() {
        let (_dir, path) = database();
        let writer = Writer::start(&path).unwrap();
        // Queued (on the first poll), then the caller gives up before any answer.
        let mut abandoned = Box::pin(writer.write(insert(7)));
        let _ = poll_once(abandoned.as_mut()).await;
        drop(abandoned);
        // The writer answers in order: once the next write is answered, the first ran.
        writer.write(insert(8)).await.unwrap();
        assert_eq!(ids(&path), [7, 8]);
    }

    /// Polls a future once.
    async fn poll_once<F: std::future::Future + Unpin>(mut f: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }

    #[tokio::test]
    async fn the_database_file_receives_the_writes_without_a_checkpoint_on_the_writer() {
        let (_dir, path) = database();
        let writer = Writer::start(&path).unwrap();
        for id in 0..500 {
            writer.write(wide(id)).await.unwrap();
        }
        // No connection checkpoints at its commits: the checkpointer's thread copies the
        // 2 MB of rows from the WAL into the database file.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while file_len(&path) < 500 * 4000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the database file still has {} bytes",
                file_len(&path)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_over_while_writes_never_pause() {
        let (_dir, path) = database();
        let pace = checkpointer::Pace {
            gather: Duration::from_millis(2),
            finish_at: 64,
        };
        let writer = Arc::new(Writer::start_with(&path, pace).unwrap());
        // Writers with no pause: the WAL starts over again and again instead of growing
        // with every page written (no connection checkpoints at its commits). How often it
        // does within one burst depends on how busy the machine is, so bursts go on until
        // it has started over ten times (a WAL that never restarts fails after 20 bursts).
        let wal_restarts = || {
            // The WAL header's checkpoint sequence number counts the times it started over.
            let header = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
            header
                .get(12..16)
                .map_or(0, |n| u32::from_be_bytes(n.try_into().unwrap()))
        };
        let mut bursts = 0;
        while wal_restarts() < 10 {
            assert!(
                bursts < 20,
                "the WAL started over {} times only",
                wal_restarts()
            );
            let tasks: Vec<_> = (0..64)
                .map(|task| {
                    let writer = writer.clone();
                    tokio::spawn(async move {
                        for i in 0..100 {
                            writer
                                .write(wide(bursts * 100_000 + task * 1000 + i))
                                .await
                                .unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            bursts += 1;
        }
        assert_eq!(ids(&path).len(), 6400 * bursts as usize);
    }
}
