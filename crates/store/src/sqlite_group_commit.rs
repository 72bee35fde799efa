//! Group commit on SQLite's one writer. Short writes that arrive while the writer is busy run
//! together in one transaction when it is free: under load, a sign-in's three writes (its
//! OAuth state, consuming it, the session) share their commit, WAL writes and checkpoint work
//! with the other sign-ins in flight instead of paying for them alone. A write is answered
//! only after its group committed.

use crate::write_script::WriteScript;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// Enough to cover every request in flight at the load the benchmark applies; larger groups
/// would only delay the first answers of the group.
const MAX_GROUP: usize = 32;

type Answer = Result<Vec<SqliteRow>, sqlx::Error>;

struct Job {
    script: Box<dyn WriteScript<Sqlite>>,
    answer: oneshot::Sender<Answer>,
}

pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

impl GroupCommit {
    /// Starts the task that runs the writes; it ends when this handle is dropped. Being a
    /// task of its own, a write runs to its end even when the request that queued it is
    /// abandoned (the writer is never left inside a transaction).
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run_groups(writer, queue));
        Self { jobs }
    }

    /// Runs `script` (in a group if other writes are waiting) and returns the rows its
    /// statements returned.
    pub(crate) async fn write(&self, script: impl WriteScript<Sqlite>) -> Answer {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            script: Box::new(script),
            answer,
        };
        self.jobs.send(job).map_err(|_| sqlx::Error::PoolClosed)?;
        answered.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn run_groups(writer: SqlitePool, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        if group.len() > 1 {
            if let Ok(answers) = run_together(&writer, &group).await {
                for (job, rows) in group.drain(..).zip(answers) {
                    let _ = job.answer.send(Ok(rows));
                }
                continue;
            }
            // Nothing of the group was committed: each write runs again alone, so that one
            // failing write (or a busy database) answers for itself only.
        }
        for job in group.drain(..) {
            let answer = run_alone(&writer, job.script.as_ref()).await;
            let _ = job.answer.send(answer);
        }
    }
}

async fn run_together(writer: &SqlitePool, group: &[Job]) -> Result<Vec<Vec<SqliteRow>>, ()> {
    let mut conn = writer.acquire().await.map_err(drop)?;
    let outcome = async {
        let mut answers = Vec::with_capacity(group.len());
        for (i, job) in group.iter().enumerate() {
            // One hand-off to the connection's thread per write: the first opens the
            // transaction, the last commits it. Each text recurs from group to group
            // (a script, with or without BEGIN and COMMIT), so it is prepared once.
            let mut qb = QueryBuilder::new(if i == 0 { "BEGIN IMMEDIATE; " } else { "" });
            job.script.push(&mut qb);
            if i + 1 == group.len() {
                qb.push("; COMMIT");
            }
            answers.push(qb.build().fetch_all(&mut *conn).await?);
        }
        Ok::<_, sqlx::Error>(answers)
    }
    .await;
    match outcome {
        Ok(answers) => Ok(answers),
        Err(_) => {
            roll_back(conn).await;
            Err(())
        }
    }
}

async fn run_alone(writer: &SqlitePool, script: &dyn WriteScript<Sqlite>) -> Answer {
    let mut conn = writer.acquire().await?;
    // One hand-off to the connection's thread for the whole transaction.
    let mut qb = QueryBuilder::new("BEGIN IMMEDIATE; ");
    script.push(&mut qb);
    qb.push("; COMMIT");
    let answer = qb.build().fetch_all(&mut *conn).await;
    if answer.is_err() {
        roll_back(conn).await;
    }
    answer
}

/// Never hands a connection stuck in a transaction back to the pool.
async fn roll_back(mut conn: PoolConnection<Sqlite>) {
    let in_transaction = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    if in_transaction.is_err() {
        // No transaction was open (it failed before BEGIN, or COMMIT already ended it);
        // the connection is fine, but closing it is the safe answer to not knowing.
        let _ = conn.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    /// Inserts one row and returns it; the same id twice is a unique violation.
    struct Insert(i64);

    impl WriteScript<Sqlite> for Insert {
        fn push<'a>(&'a self, qb: &mut QueryBuilder<'a, Sqlite>) {
            qb.push("INSERT INTO t (id, name) VALUES (");
            qb.push_bind(self.0);
            qb.push(", ");
            qb.push_bind(format!("row {}", self.0));
            qb.push(") RETURNING id, name");
        }
    }

    async fn writer() -> SqlitePool {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    async fn ids(pool: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT id FROM t ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    /// A job whose answer nobody waits for (`run_together` returns the answers itself).
    fn job(id: i64) -> Job {
        let (answer, _) = oneshot::channel();
        Job {
            script: Box::new(Insert(id)),
            answer,
        }
    }

    #[tokio::test]
    async fn a_group_answers_each_write_with_its_own_rows() {
        let pool = writer().await;
        let group: Vec<Job> = [3, 1, 2].into_iter().map(job).collect();
        let answers = run_together(&pool, &group).await.unwrap();
        let names: Vec<String> = answers
            .iter()
            .map(|rows| rows[0].get::<String, _>("name"))
            .collect();
        assert_eq!(names, ["row 3", "row 1", "row 2"]);
        assert_eq!(ids(&pool).await, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_group_with_a_failing_write_commits_nothing() {
        let pool = writer().await;
        let group: Vec<Job> = [1, 2, 1, 3].into_iter().map(job).collect();
        assert!(run_together(&pool, &group).await.is_err());
        assert!(ids(&pool).await.is_empty());
        // The connection is usable again (not left inside the failed transaction).
        sqlx::query("INSERT INTO t (id, name) VALUES (9, 'x')")
            .execute(&pool)
            .await
            .unwrap();
        // The first write (which opens the transaction) failing, then the last (which
        // commits it).
        for ids_in_group in [[9, 10], [10, 9]] {
            let group: Vec<Job> = ids_in_group.into_iter().map(job).collect();
            assert!(run_together(&pool, &group).await.is_err());
            assert_eq!(ids(&pool).await, [9]);
        }
    }

    #[tokio::test]
    async fn queued_writes_run_and_only_the_failing_one_fails() {
        let pool = writer().await;
        let commit = std::sync::Arc::new(GroupCommit::start(pool.clone()));
        // Hold the writer so that the writes queue up behind it and run as a group.
        let held = pool.acquire().await.unwrap();
        let writes: Vec<_> = [1, 2, 2, 3, 4]
            .into_iter()
            .map(|id| {
                let commit = commit.clone();
                tokio::spawn(async move { commit.write(Insert(id)).await })
            })
            .collect();
        tokio::task::yield_now().await;
        drop(held);
        let mut failed = 0;
        for write in writes {
            match write.await.unwrap() {
                Ok(rows) => assert_eq!(rows.len(), 1),
                Err(e) => {
                    assert!(e.to_string().contains("UNIQUE"), "{e}");
                    failed += 1;
                }
            }
        }
        assert_eq!(failed, 1);
        assert_eq!(ids(&pool).await, [1, 2, 3, 4]);
    }
}
