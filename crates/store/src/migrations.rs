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
use sha2::{Digest, Sha256, Sha384};

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

    /// What sqlx's migrator recorded for this file: SHA-384 of its text.
    pub fn sqlx_checksum(&self) -> Vec<u8> {
        Sha384::digest(self.sql.as_bytes()).to_vec()
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

/// A row of `_sqlx_migrations`, the history sqlx's migrator kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlxApplied {
    pub version: i64,
    pub success: bool,
    /// SHA-384 of the file's text.
    pub checksum: Vec<u8>,
}

/// The history to record for a database that sqlx's migrator made, which must be one this
/// build's files made: every row a success, of a migration this build has, with its text.
pub fn adopted_from_sqlx(
    all: &[Migration],
    sqlx: &[SqlxApplied],
) -> Result<Vec<Applied>, StoreError> {
    let mut adopted = Vec::with_capacity(sqlx.len());
    for row in sqlx {
        let Some(m) = all.iter().find(|m| m.version == row.version) else {
            return Err(StoreError::Migration(format!(
                "the database has migration {} applied, which this authgate does not know: \
                 it was migrated by a newer version",
                row.version
            )));
        };
        if !row.success {
            return Err(StoreError::Migration(format!(
                "migration {} ({}) failed part-way under an earlier authgate: restore the \
                 database from a backup taken before that upgrade",
                m.version, m.name
            )));
        }
        if m.sqlx_checksum() != row.checksum {
            return Err(StoreError::Migration(format!(
                "migration {} ({}) was changed after it was applied",
                m.version, m.name
            )));
        }
        adopted.push(Applied {
            version: m.version,
            checksum: m.checksum(),
        });
    }
    Ok(adopted)
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

    /// sqlx's row for `m`, as its migrator wrote it.
    fn sqlx_row(m: &Migration) -> SqlxApplied {
        SqlxApplied {
            version: m.version,
            success: true,
            checksum: m.sqlx_checksum(),
        }
    }

    #[test]
    fn only_what_is_missing_is_applied_in_order() {
        assert_eq!(pending(&ALL, &[]).unwrap().len(), 2);
        let first = adopted_from_sqlx(&ALL, &[sqlx_row(&ALL[0])]).unwrap();
        let left = pending(&ALL, &first).unwrap();
        assert_eq!(left.iter().map(|m| m.version).collect::<Vec<_>>(), [2]);
        let both = adopted_from_sqlx(&ALL, &[sqlx_row(&ALL[0]), sqlx_row(&ALL[1])]).unwrap();
        assert!(pending(&ALL, &both).unwrap().is_empty());
    }

    #[test]
    fn sqlx_history_is_adopted_only_as_this_build_would_have_written_it() {
        let failed = SqlxApplied {
            success: false,
            ..sqlx_row(&ALL[0])
        };
        let changed = SqlxApplied {
            checksum: vec![0; 48],
            ..sqlx_row(&ALL[0])
        };
        let newer = SqlxApplied {
            version: 3,
            ..sqlx_row(&ALL[0])
        };
        for (row, says) in [(failed, "part-way"), (changed, "changed"), (newer, "newer")] {
            let e = adopted_from_sqlx(&ALL, &[row]).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
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
