//! Schema migrations: each backend embeds its SQL files in order and records what it applied
//! in a `schema_migrations` table (version, name, checksum, applied_at). The decision of what
//! to apply is made here, the same way for both; running the SQL is the backend's.
//!
//! A short runner of our own rather than a crate: what is needed is "apply the files not yet
//! applied, each in a transaction, and refuse a file changed after it was applied", plus
//! adopting the history of databases made before this runner, which sqlx's migrator recorded
//! in `_sqlx_migrations` (versions 1 and 2). A runner crate would need that adoption written
//! against its own history table all the same.

use crate::error::StoreError;
use sha2::{Digest, Sha256};

/// One migration file, embedded with `include_str!`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// From the file name's number (`0002_sign_in_safety.sql` is 2).
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// SHA-256 of the SQL text, hex: an applied file must not change.
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// A row of `schema_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: i64,
    pub checksum: String,
}

/// The statement that creates the history table (both databases).
pub const HISTORY_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
     version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, \
     applied_at BIGINT NOT NULL)";

/// The migrations of `all` that `applied` lacks, in order; an error when an applied one
/// changed or is unknown to this build (a newer authgate migrated the database).
pub fn pending<'a>(
    all: &'a [Migration],
    applied: &[Applied],
) -> Result<Vec<&'a Migration>, StoreError> {
    for a in applied {
        match all.iter().find(|m| m.version == a.version) {
            None => {
                return Err(StoreError::Migration(format!(
                    "the database has migration {} applied, which this authgate does not know: \
                     it was migrated by a newer version",
                    a.version
                )))
            }
            Some(m) if m.checksum() != a.checksum => {
                return Err(StoreError::Migration(format!(
                    "migration {} ({}) was changed after it was applied",
                    m.version, m.name
                )))
            }
            Some(_) => {}
        }
    }
    Ok(all
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .collect())
}

/// The history to record for a database that sqlx's migrator made: the versions it applied
/// successfully (`_sqlx_migrations` rows with `success`), with this build's checksums (the
/// files are unchanged since).
pub fn adopted_from_sqlx(all: &[Migration], sqlx_versions: &[i64]) -> Vec<Applied> {
    all.iter()
        .filter(|m| sqlx_versions.contains(&m.version))
        .map(|m| Applied {
            version: m.version,
            checksum: m.checksum(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Migration; 2] = [
        Migration {
            version: 1,
            name: "init",
            sql: "CREATE TABLE a (x INT)",
        },
        Migration {
            version: 2,
            name: "more",
            sql: "CREATE TABLE b (x INT)",
        },
    ];

    #[test]
    fn only_what_is_missing_is_applied_in_order() {
        assert_eq!(pending(&ALL, &[]).unwrap().len(), 2);
        let first = adopted_from_sqlx(&ALL, &[1]);
        let left = pending(&ALL, &first).unwrap();
        assert_eq!(left.iter().map(|m| m.version).collect::<Vec<_>>(), [2]);
        assert!(pending(&ALL, &adopted_from_sqlx(&ALL, &[1, 2]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_changed_or_unknown_migration_is_refused() {
        let changed = [Applied {
            version: 1,
            checksum: "0".into(),
        }];
        assert!(
            matches!(pending(&ALL, &changed), Err(StoreError::Migration(m)) if m.contains("changed"))
        );
        let newer = [Applied {
            version: 3,
            checksum: "0".into(),
        }];
        assert!(
            matches!(pending(&ALL, &newer), Err(StoreError::Migration(m)) if m.contains("newer"))
        );
    }
}
