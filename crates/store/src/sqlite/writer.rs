//! SQLite's short writes (the sign-in path's) run on one thread of ours with its own
//! connection and statement cache. Writes queued while it works run together: one
//! transaction and one commit for the group; if a write fails, the group is rolled back and
//! each write runs again alone, so that a failing write fails alone. A write is answered only
//! after its group committed, and runs to its end even when the request that queued it is
//! abandoned.
//!
//! Through sqlx every statement batch was a hand-off to its connection's thread and back, row
//! by row: two thread wake-ups per write at least, about a quarter of a sign-in's CPU.

use super::checkpointer::{self, Checkpoints};
use rusqlite::{Connection, OpenFlags};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

/// Enough to cover every request in flight at the load the benchmark applies; larger groups
/// would only delay the first answers of the group.
const MAX_GROUP: usize = 32;

/// Statements kept prepared: every write's statements, with room to spare.
const STATEMENT_CACHE: usize = 64;

/// One write: its statements and what they found, with no decision left to the caller.
pub(crate) trait SqliteWrite: Send + 'static {
    type Output: Send + 'static;
    fn run(&self, conn: &Connection) -> rusqlite::Result<Self::Output>;
}

pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Box<dyn Queued>>,
}

impl SqliteWriter {
    /// Opens the writer's connection to the database file and starts its thread; the thread
    /// ends when this handle is dropped.
    pub(crate) fn start(path: &Path) -> rusqlite::Result<Self> {
        Self::start_with(path, checkpointer::Pace::USUAL)
    }

    fn start_with(path: &Path, pace: checkpointer::Pace) -> rusqlite::Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        // The settings of sqlx's connections (the file is already in WAL mode), but a shorter
        // wait between tries when the other connection writes: SQLite's own busy handler
        // sleeps 1, 2, 5, 10... ms, while every sign-in in flight waits for this thread.
        conn.busy_handler(Some(wait_for_the_lock))?;
        // Checkpoints run beside this thread (`checkpointer.rs`).
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;",
        )?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
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

    /// Runs `write` (in a group if other writes are waiting) and returns what it found.
    pub(crate) async fn write<W: SqliteWrite>(&self, write: W) -> rusqlite::Result<W::Output> {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            write,
            outcome: None,
            answer,
        };
        self.jobs.send(Box::new(job)).map_err(|_| writer_gone())?;
        answered.await.map_err(|_| writer_gone())?
    }
}

/// How long to wait between tries for the write lock.
const BUSY_RETRY: Duration = Duration::from_micros(100);

/// SQLite's busy handler: true to try again. Gives up after `BUSY_TIMEOUT` at the least
/// (each sleep may overrun), as sqlx's connections do.
fn wait_for_the_lock(attempts: std::ffi::c_int) -> bool {
    let waited = BUSY_RETRY * attempts.max(0) as u32;
    if waited >= super::BUSY_TIMEOUT {
        return false;
    }
    std::thread::sleep(BUSY_RETRY);
    true
}

fn writer_gone() -> rusqlite::Error {
    failure(
        rusqlite::ffi::SQLITE_MISUSE,
        "the SQLite writer has stopped".into(),
    )
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

struct Job<W: SqliteWrite> {
    write: W,
    outcome: Option<rusqlite::Result<W::Output>>,
    answer: oneshot::Sender<rusqlite::Result<W::Output>>,
}

impl<W: SqliteWrite> Queued for Job<W> {
    fn run(&mut self, conn: &Connection) -> bool {
        // A bug in one write must not stop the thread every later write depends on.
        let outcome =
            catch_unwind(AssertUnwindSafe(|| self.write.run(conn))).unwrap_or_else(|_| {
                Err(failure(
                    rusqlite::ffi::SQLITE_INTERNAL,
                    "the write panicked".into(),
                ))
            });
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
            (Err(group), _) => Err(copy_of(group)),
            (Ok(()), None) => Err(failure(rusqlite::ffi::SQLITE_ERROR, "write not run".into())),
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
    use std::sync::{Arc, Barrier};

    /// Inserts one row and returns its name; the same id twice is a unique violation.
    struct Insert(i64);

    impl SqliteWrite for Insert {
        type Output = String;
        fn run(&self, conn: &Connection) -> rusqlite::Result<String> {
            conn.prepare_cached("INSERT INTO t (id, name) VALUES (?1, ?2) RETURNING name")?
                .query_row((self.0, format!("row {}", self.0)), |r| r.get(0))
        }
    }

    /// Holds the writer until the test lets it go, so that the writes after it queue up.
    struct Hold(Arc<Barrier>);

    impl SqliteWrite for Hold {
        type Output = ();
        fn run(&self, _: &Connection) -> rusqlite::Result<()> {
            self.0.wait();
            self.0.wait();
            Ok(())
        }
    }

    /// Inserts a row of 4,000 bytes: a WAL page at least.
    struct Wide(i64);

    impl SqliteWrite for Wide {
        type Output = ();
        fn run(&self, conn: &Connection) -> rusqlite::Result<()> {
            conn.prepare_cached("INSERT INTO t (id, name) VALUES (?1, ?2)")?
                .execute((self.0, "x".repeat(4000)))?;
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
        let writer = SqliteWriter::start(&path).unwrap();
        assert_eq!(writer.write(Insert(1)).await.unwrap(), "row 1");
        let e = writer.write(Insert(1)).await.unwrap_err();
        assert!(e.to_string().contains("UNIQUE"), "{e}");
        assert_eq!(ids(&path), [1]);
        // The connection is usable again (not left inside the failed transaction).
        assert_eq!(writer.write(Insert(2)).await.unwrap(), "row 2");
        assert_eq!(ids(&path), [1, 2]);
    }

    #[tokio::test]
    async fn queued_writes_run_as_a_group_and_only_the_failing_one_fails() {
        let (_dir, path) = database();
        let writer = Arc::new(SqliteWriter::start(&path).unwrap());
        let hold = Arc::new(Barrier::new(2));
        let held = tokio::spawn({
            let writer = writer.clone();
            let hold = hold.clone();
            async move { writer.write(Hold(hold)).await }
        });
        // The writer is now inside `Hold`, in its group's transaction.
        tokio::task::spawn_blocking({
            let hold = hold.clone();
            move || hold.wait()
        })
        .await
        .unwrap();
        let writes: Vec<_> = [1, 2, 2, 3, 4]
            .into_iter()
            .map(|id| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.write(Insert(id)).await })
            })
            .collect();
        // Let every write reach the queue, then release the writer: they run as one group.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            ids(&path).is_empty(),
            "nothing runs while the writer is held"
        );
        tokio::task::spawn_blocking(move || hold.wait())
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
    async fn a_write_waits_for_another_connection_s_transaction() {
        let (_dir, path) = database();
        let writer = Arc::new(SqliteWriter::start(&path).unwrap());
        let other = Connection::open(&path).unwrap();
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t (id, name) VALUES (1, 'other')")
            .unwrap();
        let write = tokio::spawn({
            let writer = writer.clone();
            async move { writer.write(Insert(2)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!write.is_finished(), "the write waits for the lock");
        other.execute_batch("COMMIT").unwrap();
        assert_eq!(write.await.unwrap().unwrap(), "row 2");
        assert_eq!(ids(&path), [1, 2]);
    }

    struct Panic;

    impl SqliteWrite for Panic {
        type Output = ();
        fn run(&self, conn: &Connection) -> rusqlite::Result<()> {
            conn.execute("INSERT INTO t (id, name) VALUES (5, 'half done')", [])?;
            panic!("a bug in a write");
        }
    }

    #[tokio::test]
    async fn a_panicking_write_fails_alone_and_the_writer_carries_on() {
        let (_dir, path) = database();
        let writer = SqliteWriter::start(&path).unwrap();
        let e = writer.write(Panic).await.unwrap_err();
        assert!(e.to_string().contains("panicked"), "{e}");
        assert!(ids(&path).is_empty(), "its statements were rolled back");
        assert_eq!(writer.write(Insert(6)).await.unwrap(), "row 6");
        assert_eq!(ids(&path), [6]);
    }

    #[tokio::test]
    async fn an_abandoned_write_still_runs() {
        let (_dir, path) = database();
        let writer = SqliteWriter::start(&path).unwrap();
        // Queued (on the first poll), then the caller gives up before any answer.
        let mut abandoned = Box::pin(writer.write(Insert(7)));
        let _ = poll_once(abandoned.as_mut()).await;
        drop(abandoned);
        // The writer answers in order: once the next write is answered, the first ran.
        writer.write(Insert(8)).await.unwrap();
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
        let writer = SqliteWriter::start(&path).unwrap();
        for id in 0..500 {
            writer.write(Wide(id)).await.unwrap();
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
        let writer = Arc::new(SqliteWriter::start_with(&path, pace).unwrap());
        // Writers with no pause: the WAL starts over again and again instead of growing
        // with every page written (no connection checkpoints at its commits).
        let tasks: Vec<_> = (0..64)
            .map(|task| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    for i in 0..100 {
                        writer.write(Wide(task * 1000 + i)).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // The WAL header's checkpoint sequence number counts the times it started over.
        let header = std::fs::read(path.with_extension("db-wal")).unwrap();
        let restarts = u32::from_be_bytes(header[12..16].try_into().unwrap());
        assert!(restarts >= 10, "the WAL started over {restarts} times only");
        assert_eq!(ids(&path).len(), 6400);
    }
}
