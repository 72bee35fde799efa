//! Attack campaign: the SQLite database and its WAL were readable by every local user (0644,
//! or 0666 under umask 000) and the data folder open (0755/0777). The data folder must be
//! 0700 and the database files and secret key 0600 whatever the umask, and wider ones left by
//! an older start are tightened with a warning.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A server whose data folder (database included, as by default) lives in `data`.
async fn start_with_data_in(data: &Path, opts: ServerOptions) -> Server {
    let database_url = format!("sqlite://{}", data.join("authgate.db").display());
    let opts = opts
        .env("AUTHGATE_DATA_DIR", &data.display().to_string())
        .env("AUTHGATE_DATABASE_URL", &database_url);
    Server::start_with(Db::Sqlite, opts).await
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The data folder and every file in it that holds secrets, with the mode each must have.
fn private_paths(data: &Path) -> Vec<(PathBuf, u32)> {
    vec![
        (data.to_path_buf(), 0o700),
        (data.join("authgate.db"), 0o600),
        (data.join("authgate.db-wal"), 0o600),
        (data.join("authgate.db-shm"), 0o600),
        (data.join("secret.key"), 0o600),
    ]
}

#[track_caller]
fn assert_private(data: &Path) {
    for (path, wanted) in private_paths(data) {
        assert_eq!(
            format!("{:04o}", mode(&path)),
            format!("{wanted:04o}"),
            "{}",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_data_folder_is_private_even_under_umask_000() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let opts = ServerOptions {
        umask: Some(0o000),
        ..Default::default()
    };
    let s = start_with_data_in(&data, opts).await;
    // A write, so that the WAL and shared-memory files exist.
    s.admin_token().await;
    assert_private(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wider_files_left_from_before_are_tightened_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // JSON logs: the warnings' fields are read back.
    let opts = ServerOptions::default().env("AUTHGATE_LOG_FORMAT", "json");
    let mut s = start_with_data_in(&data, opts).await;
    s.admin_token().await;
    // Killed, so the WAL and shared-memory files stay, as after a crash.
    s.kill9();
    set_mode(&data, 0o755);
    for file in ["authgate.db", "authgate.db-wal", "secret.key"] {
        set_mode(&data.join(file), 0o644);
    }
    s.restart().await;
    s.admin_token().await;
    assert_private(&data);
    let warned = |out: &str| -> Vec<(String, String)> {
        out.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|l| l["level"] == "WARN")
            .filter_map(|l| Some((l["path"].as_str()?.into(), l["mode"].as_str()?.into())))
            .collect()
    };
    let mut expected = vec![(data.display().to_string(), "0755".to_string())];
    for file in ["authgate.db", "authgate.db-wal", "secret.key"] {
        expected.push((data.join(file).display().to_string(), "0644".into()));
    }
    let out = s
        .output_once(|out| warned(out).len() >= expected.len())
        .await;
    let mut found = warned(&out);
    found.sort();
    expected.sort();
    assert_eq!(found, expected, "{out}");
}
