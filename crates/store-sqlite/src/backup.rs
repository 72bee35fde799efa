//! A consistent copy of the database while servers keep using it: `VACUUM INTO` reads one
//! snapshot (WAL readers never block the writer) and writes a new, compact file. Copying the
//! file with `cp` instead can miss what still sits in the `-wal` file, or catch a page mid-write.

use crate::connection::{self, Access};
use crate::errors::DbError;
use authgate_store::{StoreError, StoreResult};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Writes a copy of the database at `database_url` to `target`, which must not exist yet.
pub fn backup_into(database_url: &str, target: &Path) -> StoreResult<()> {
    let source = crate::database_file(database_url)?;
    if !source.exists() {
        return Err(StoreError::Config(format!(
            "there is no database at {}",
            source.display()
        )));
    }
    let target_text = target
        .to_str()
        .ok_or_else(|| StoreError::Config(format!("the path {} is not UTF-8", target.display())))?;
    // Created here, empty and readable by its owner only (it holds password hashes and sealed
    // secrets); `create_new` refuses a file that exists: a backup never overwrites one.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(target)
        .map_err(|e| {
            StoreError::Config(if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "{} already exists; name a new file (a backup never overwrites one)",
                    target.display()
                )
            } else {
                format!("cannot create {}: {e}", target.display())
            })
        })?;
    let copied = connection::open(&source, Access::ReadOnly)
        .and_then(|conn| conn.execute("VACUUM INTO ?1", [target_text]));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(target);
        return Err(DbError::from(e).into());
    }
    Ok(())
}
