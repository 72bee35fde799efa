//! The two sign-ins that take one statement each (data-modifying CTEs: one round trip, no
//! transaction to begin and commit), because they are nearly every sign-in:
//! - a returning user whose profile has not changed: nothing but the session is written;
//! - a first sign-in that signs up: the identity is unbound and no candidate matches anyone,
//!   so the new user, the binding and the session are written.
//!
//! Each writes nothing when its condition does not hold, and says so; the caller then
//! resolves in a transaction (`in_transaction.rs`), whose sign-up is this same statement.

use crate::connection::Db;
use crate::inserts::{Binding, SessionRows, UserFrom};
use crate::rows::{self, USER_COLUMNS, U_USER_COLUMNS};
use crate::sql::Sql;
use authgate_core::model::{NewUser, User};
use authgate_store::{FirstSignIn, MatchCandidate, ReturningSignIn, SignedInBy, StoreResult};

/// What the returning sign-in's statement found.
pub(super) enum Returning {
    /// The identity is bound to no one.
    NotBound,
    /// The bound user, signed in: the session's rows are written.
    SignedIn(User),
    /// The bound user, but nothing was written: the user is disabled, or the profile changed
    /// (then a transaction writes it with the session).
    Undecided(User),
}

/// A returning sign-in, if the identity is bound to an enabled user and (when the profile is
/// synchronised) nothing in the profile changed. `meta` is the identity's, as stored.
pub(super) async fn sign_in_returning(
    db: &mut impl Db,
    r: &ReturningSignIn,
    meta: &str,
) -> StoreResult<Returning> {
    let ext = &r.identity;
    // The user id is the bound user's (`b.bound_id`), whatever this one says.
    let audit = r.start.audit_for(0, SignedInBy::Binding);
    let mut sql = Sql::new("");
    let sync = sql.param(r.sync_profile);
    let nickname = sql.param(&ext.nickname);
    let avatar = sql.param(&ext.avatar);
    let meta = sql.param(meta);
    let authenticator = sql.param(&ext.authenticator);
    let uuid = sql.param(&ext.uuid);
    // `signed_in`: the user is enabled and, when the profile is synchronised, it is
    // unchanged. "Unchanged" is the rule `authgate_store::ProfileChanges::between(..)
    // .is_empty()` decides on the transaction path: the binding's nickname, avatar and meta
    // equal the identity's (IS NOT DISTINCT FROM compares NULLs as Rust compares `None`), and
    // the user's nickname equals the identity's when the identity has one.
    sql.push(&format!(
        "WITH b AS (SELECT u.id AS bound_id, u.enabled AND (NOT {sync}::boolean OR (\
         i.nickname IS NOT DISTINCT FROM {nickname}::text \
         AND i.avatar IS NOT DISTINCT FROM {avatar}::text AND i.meta = {meta}::text \
         AND ({nickname}::text IS NULL OR u.nickname IS NOT DISTINCT FROM {nickname}::text))) \
         AS signed_in FROM identities i JOIN users u ON u.id = i.user_id \
         WHERE i.authenticator = {authenticator} AND i.uuid = {uuid}), "
    ));
    let session_rows = SessionRows {
        session: &r.start.session,
        token: &r.start.token,
        audit: &audit,
        binding: None,
    };
    session_rows.push_ctes(
        &mut sql,
        UserFrom::B {
            filter: "WHERE b.signed_in",
        },
    );
    sql.push(&format!(
        " SELECT {U_USER_COLUMNS}, b.signed_in FROM users u JOIN b ON b.bound_id = u.id"
    ));
    let Some(row) = db.query_opt_sql(&sql).await? else {
        return Ok(Returning::NotBound);
    };
    let user = rows::user(&row)?;
    Ok(if rows::get(&row, "signed_in")? {
        Returning::SignedIn(user)
    } else {
        Returning::Undecided(user)
    })
}

/// A first sign-in that creates `new`, if the identity is unbound and none of the candidates
/// matches a user; `None` (nothing written) otherwise. `meta` is the identity's, as stored.
pub(super) async fn sign_up(
    db: &mut impl Db,
    r: &FirstSignIn,
    new: &NewUser,
    meta: &str,
) -> StoreResult<Option<User>> {
    let audit = r.start.audit_for(0, SignedInBy::SignUp);
    let mut sql = Sql::new("");
    let (username, email, phone) = (
        sql.param(&new.username),
        sql.param(&new.email),
        sql.param(&new.phone),
    );
    let nickname = sql.param(&new.nickname);
    let is_admin = sql.param(new.is_admin);
    let enabled = sql.param(new.enabled);
    let password_hash = sql.param(&new.password_hash);
    let now = sql.param(r.now);
    let authenticator = sql.param(&r.identity.authenticator);
    let uuid = sql.param(&r.identity.uuid);
    // One lookup per candidate, each on its column's unique index.
    let unmatched: String = r
        .candidates
        .iter()
        .map(|c| {
            let column = match c {
                MatchCandidate::Phone(_) => "phone",
                MatchCandidate::Email { .. } => "email",
            };
            let value = sql.param(c.value());
            format!(" AND NOT EXISTS (SELECT 1 FROM users WHERE {column} = {value}::text)")
        })
        .collect();
    // A username, e-mail or phone another user holds is left out (NULL): the one place that
    // rule is written, for every sign-up.
    sql.push(&format!(
        "WITH b AS (INSERT INTO users (username, email, phone, nickname, is_admin, enabled, \
         password_hash, created_at, updated_at) SELECT \
         CASE WHEN EXISTS (SELECT 1 FROM users WHERE lower(username) = lower({username}::text)) \
         THEN NULL ELSE {username}::text END, \
         CASE WHEN EXISTS (SELECT 1 FROM users WHERE email = {email}::text) \
         THEN NULL ELSE {email}::text END, \
         CASE WHEN EXISTS (SELECT 1 FROM users WHERE phone = {phone}::text) \
         THEN NULL ELSE {phone}::text END, \
         {nickname}, {is_admin}, {enabled}, {password_hash}, {now}, {now} \
         WHERE NOT EXISTS (SELECT 1 FROM identities \
                           WHERE authenticator = {authenticator} AND uuid = {uuid}){unmatched} \
         RETURNING {USER_COLUMNS}, id AS bound_id), "
    ));
    let session_rows = SessionRows {
        session: &r.start.session,
        token: &r.start.token,
        audit: &audit,
        binding: Some(Binding {
            identity: &r.identity,
            meta,
            at: r.now,
        }),
    };
    session_rows.push_ctes(&mut sql, UserFrom::B { filter: "" });
    sql.push(&format!(" SELECT {USER_COLUMNS} FROM b"));
    let row = db.query_opt_sql(&sql).await?;
    row.map(|r| rows::user(&r)).transpose()
}
