//! The rules that refuse an administrator's change, checked inside the change's write (on the
//! writer thread, under BEGIN IMMEDIATE: no other write, from this process or another, comes
//! in between the check and the change). A refusal is an error, so the write rolls back.

use crate::errors::DbError;
use authgate_store::StoreError;
use rusqlite::Connection;

/// Refuses (LastEnabledAdmin) when user `id` is the only enabled administrator.
pub(crate) fn keep_an_enabled_admin(conn: &Connection, id: i64) -> Result<(), DbError> {
    let admins = conn
        .prepare_cached("SELECT id FROM users WHERE is_admin AND enabled ORDER BY id")?
        .query_map([], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    if admins == [id] {
        return Err(StoreError::LastEnabledAdmin.into());
    }
    Ok(())
}

/// Enabled administrators who could not sign in: no password with an enabled password
/// authenticator to use it (passwords belong to users: any one will do), and no identity on
/// an enabled authenticator. Taken before a change, for [`keep_every_admin_a_way_in`].
pub(crate) fn stranded_admins(conn: &Connection) -> Result<Vec<i64>, DbError> {
    Ok(conn
        .prepare_cached(
            "SELECT u.id FROM users u WHERE u.is_admin AND u.enabled \
             AND NOT (u.password_hash IS NOT NULL AND EXISTS (SELECT 1 FROM authenticators p \
                      WHERE p.enabled AND p.auth_type = 'password')) \
             AND NOT EXISTS (SELECT 1 FROM identities i JOIN authenticators a \
                             ON a.name = i.authenticator WHERE i.user_id = u.id AND a.enabled) \
             ORDER BY u.id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?)
}

/// Refuses (AdminsNeedPassword) a change, made but not committed, that leaves an
/// administrator with no way to sign in who had one `before` it.
pub(crate) fn keep_every_admin_a_way_in(conn: &Connection, before: &[i64]) -> Result<(), DbError> {
    let after = stranded_admins(conn)?;
    if after.iter().any(|id| !before.contains(id)) {
        return Err(StoreError::AdminsNeedPassword.into());
    }
    Ok(())
}
