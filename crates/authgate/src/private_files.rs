//! Keeps the data folder (0700) and the SQLite database files and secret key (0600) private
//! to the account that runs authgate, whatever umask it was started with: they hold password
//! hashes, sessions and the key that seals every secret, and another local user who can read
//! them can forge sign-ins. New files are covered by a private umask; files and folders made
//! wider earlier (older versions, umask 000, a careless copy) are tightened at start, with a
//! warning, rather than refused, so an upgrade never locks an installation out.

use crate::settings::Settings;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const PRIVATE_FOLDER: u32 = 0o700;
const PRIVATE_FILE: u32 = 0o600;
/// What SQLite adds to the database's name for its write-ahead log and shared memory.
const SQLITE_COMPANIONS: [&str; 2] = ["-wal", "-shm"];

/// Files and folders this process creates from now on are private. SQLite creates the WAL
/// and shared-memory files later, at moments this code does not see.
pub fn keep_new_files_private() {
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// Tightens the data folder, the secret key file and, for a SQLite database, the database
/// and its WAL and shared-memory files, when they exist and are wider than private. Runs
/// before the database is opened: SQLite gives a new WAL the database file's mode. Never
/// refuses to start: what cannot be changed is reported.
pub fn tighten_existing(settings: &Settings) {
    tighten(&settings.data_dir, PRIVATE_FOLDER);
    tighten(
        &settings.data_dir.join(crate::secret_key::KEY_FILE),
        PRIVATE_FILE,
    );
    if let Ok(database) = authgate_store_sqlite::database_file(&settings.database_url()) {
        tighten(&database, PRIVATE_FILE);
        for suffix in SQLITE_COMPANIONS {
            let mut companion = database.clone().into_os_string();
            companion.push(suffix);
            tighten(Path::new(&companion), PRIVATE_FILE);
        }
    }
}

/// Removes the permission bits beyond `private` from `path`, if it exists.
fn tighten(path: &Path, private: u32) {
    let (mode, is_folder) = match std::fs::metadata(path) {
        Ok(metadata) => (metadata.permissions().mode(), metadata.is_dir()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot check the permissions");
            return;
        }
    };
    let found = mode & 0o777;
    if found & !private == 0 {
        return;
    }
    // A sticky folder such as /tmp is shared by design: closing it would break other programs.
    if is_folder && mode & 0o1000 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = %format!("{found:04o}"),
            "the data folder is a shared folder: give authgate a folder of its own"
        );
        return;
    }
    let narrowed = found & private;
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(narrowed)) {
        Ok(()) => tracing::warn!(
            path = %path.display(),
            mode = %format!("{found:04o}"),
            tightened_to = %format!("{narrowed:04o}"),
            "other users could reach this file or folder; tightened its permissions"
        ),
        Err(e) => tracing::warn!(
            path = %path.display(),
            mode = %format!("{found:04o}"),
            error = %e,
            "other users can reach this file or folder, and its permissions cannot be tightened"
        ),
    }
}
