//! Grows the database for the growth scenarios: users and revoked sessions written with one
//! set-based statement each, straight into the database authgate uses.

use anyhow::Context;

fn user_sql(series: &str, first: u64, n: u64) -> String {
    format!(
        "INSERT INTO users (username, email, phone, nickname, is_admin, enabled, created_at, updated_at) \
         SELECT 'seed' || (x + {off}), 'seed' || (x + {off}) || '@example.com', '+861' || (3000000000 + x + {off}), \
         'Seed ' || x, FALSE, TRUE, 0, 0 FROM {series}",
        off = first,
        series = series.replace("{n}", &n.to_string())
    )
}

fn revoked_sql(series: &str, n: u64) -> Vec<String> {
    let s = series.replace("{n}", &n.to_string());
    vec![
        format!("INSERT INTO sessions (id, user_id, authenticator, signed_in_at) SELECT 'seed-s' || x, 1, 'basic', 0 FROM {s}"),
        format!("INSERT INTO issued_tokens (jti, session_id, user_id, issued_at, expires_at) SELECT 'seed-t' || x, 'seed-s' || x, 1, 0, 1 FROM {s}"),
        format!("INSERT INTO revocations (session_id, revoked_at, reason) SELECT 'seed-s' || x, 0, 'seed' FROM {s}"),
    ]
}

/// Adds `users` users (numbered from `first`) and `revoked` revoked sessions (each with a
/// token; call with revoked > 0 once per database).
pub async fn grow(database_url: &str, first: u64, users: u64, revoked: u64) -> anyhow::Result<()> {
    if database_url.starts_with("sqlite:") {
        let series = "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT x FROM c) AS c";
        let mut statements = vec![user_sql(series, first, users)];
        if revoked > 0 {
            statements.extend(revoked_sql(series, revoked));
        }
        let path = database_url.trim_start_matches("sqlite://").to_string();
        tokio::task::spawn_blocking(move || {
            let conn = rusqlite::Connection::open(path)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            for sql in statements {
                conn.execute_batch(&sql).context("seeding SQLite")?;
            }
            // The seed's pages go from the write-ahead log into the database file now, not in
            // checkpoints during the measurement.
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            anyhow::Ok(())
        })
        .await??;
    } else {
        let series = "generate_series(1, {n}) AS x";
        let pg = crate::postgres::connect(database_url).await?;
        let mut statements = vec![user_sql(series, first, users)];
        if revoked > 0 {
            statements.extend(revoked_sql(series, revoked));
        }
        for sql in statements {
            pg.batch_execute(&sql).await.context("seeding PostgreSQL")?;
        }
        // Vacuumed as a database of this size would be: otherwise the insert-triggered
        // autovacuum of the million new rows runs during the measurement.
        pg.batch_execute("VACUUM ANALYZE").await?;
        // Likewise its pages would be on disk already, not flushed by a checkpoint during the
        // measurement.
        pg.batch_execute("CHECKPOINT").await?;
    }
    Ok(())
}

/// PostgreSQL's statistics as any deployment older than a minute has them (autovacuum
/// analyses a table once it has changed enough, at most a minute later). A database created
/// for a few seconds of load has none yet: PostgreSQL then keeps the sequential-scan plans it
/// chose for foreign-key checks while `sessions` was empty, and every sign-in reads the whole,
/// growing table. SQLite's planner needs no statistics for these lookups.
pub async fn analyze_after_warmup(database_url: &str) {
    if database_url.starts_with("sqlite:") {
        return;
    }
    let analyzed = async {
        let pg = crate::postgres::connect(database_url).await?;
        pg.batch_execute("ANALYZE").await?;
        anyhow::Ok(())
    };
    if let Err(e) = analyzed.await {
        eprintln!("ANALYZE after the warm-up failed: {e:#}");
    }
}
