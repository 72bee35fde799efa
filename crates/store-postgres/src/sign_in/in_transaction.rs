//! Identity resolution in a transaction: what the one-statement sign-ins leave (a changed
//! profile, a match to link or report, a race lost), decided on rows read in the same
//! transaction. A unique violation or a deadlock fails the whole attempt, which the caller
//! makes again from scratch (the next one finds the winner's rows).

use super::one_statement;
use crate::connection::{Db, Tx};
use crate::inserts::{push_audit, push_binding, Binding, SessionRows, UserFrom};
use crate::rows::{self, BOUND_PROFILE_SELECT, USER_COLUMNS, U_USER_COLUMNS};
use crate::sql::Sql;
use authgate_core::audit::NewAuditEntry;
use authgate_core::model::User;
use authgate_store::{
    ExternalIdentity, FirstSignIn, LinkOutcome, MatchCandidate, ProfileChanges, Resolved, Returned,
    SessionStart, SignedInBy, StoreError, StoreResult,
};

/// A sign-in by a binding: the user, if enabled, has their profile brought up to date (when
/// `sync_profile`) and is signed in. `meta` is the identity's, as stored.
pub(super) async fn sign_in_bound(
    tx: &mut Tx<'_>,
    ext: &ExternalIdentity,
    meta: &str,
    sync_profile: bool,
    start: &SessionStart,
    now: i64,
) -> StoreResult<Returned> {
    let found = tx
        .query_opt(BOUND_PROFILE_SELECT, &[&ext.authenticator, &ext.uuid])
        .await?;
    let Some(row) = found else {
        return Ok(Returned::NotBound);
    };
    let (mut user, stored) = rows::bound_profile(&row)?;
    if !user.enabled {
        return Ok(Returned::Disabled(user));
    }
    if sync_profile {
        let changes = ProfileChanges::between(&stored, ext, meta);
        if changes.identity {
            tx.execute(
                "UPDATE identities SET nickname = $3, avatar = $4, meta = $5, updated_at = $6 \
                 WHERE authenticator = $1 AND uuid = $2",
                &[
                    &ext.authenticator,
                    &ext.uuid,
                    &ext.nickname,
                    &ext.avatar,
                    &meta,
                    &now,
                ],
            )
            .await?;
        }
        if let Some(nickname) = &changes.user_nickname {
            let sql = format!(
                "UPDATE users SET nickname = $2, updated_at = $3 WHERE id = $1 \
                 RETURNING {USER_COLUMNS}"
            );
            user = rows::user(&tx.query_one(&sql, &[&user.id, nickname, &now]).await?)?;
        }
    }
    start_session(tx, start, user.id, SignedInBy::Binding, None).await?;
    Ok(Returned::SignedIn(user))
}

/// A first-time identity: bound meanwhile, else matched and linked, else signed up.
pub(super) async fn resolve_first_time(
    tx: &mut Tx<'_>,
    r: &FirstSignIn,
    meta: &str,
) -> StoreResult<Resolved> {
    let ext = &r.identity;
    match sign_in_bound(tx, ext, meta, r.sync_profile, &r.start, r.now).await? {
        Returned::SignedIn(user) => return Ok(Resolved::Bound(user)),
        Returned::Disabled(user) => return Ok(Resolved::Disabled(user)),
        Returned::NotBound => {}
    }
    let matched = matching_users(tx, &r.candidates).await?;
    match matched.as_slice() {
        [] => match &r.sign_up {
            Some(new) => match one_statement::sign_up(tx, r, new, meta).await? {
                Some(user) => Ok(Resolved::SignedUp(user)),
                None => Err(StoreError::Busy(
                    "a binding or a matching user appeared during the sign-in".into(),
                )),
            },
            None => Ok(Resolved::NotFound),
        },
        [(user, field)] => link_match(tx, r, meta, user.clone(), field).await,
        several => Ok(Resolved::Ambiguous {
            fields: several.iter().map(|(_, field)| *field).collect(),
        }),
    }
}

/// The one user the candidates matched, through `field`: linked and signed in, unless
/// something forbids it.
async fn link_match(
    tx: &mut Tx<'_>,
    r: &FirstSignIn,
    meta: &str,
    user: User,
    field: &'static str,
) -> StoreResult<Resolved> {
    let ext = &r.identity;
    if !user.enabled {
        return Ok(Resolved::Disabled(user));
    }
    let other = tx
        .query_opt(
            "SELECT uuid FROM identities WHERE authenticator = $1 AND user_id = $2 LIMIT 1",
            &[&ext.authenticator, &user.id],
        )
        .await?;
    match other
        .map(|row| rows::get::<String>(&row, "uuid"))
        .transpose()?
    {
        // This very identity, bound by a concurrent first sign-in since this transaction's
        // first read (each statement reads the latest commits).
        Some(uuid) if uuid == ext.uuid => {
            start_session(tx, &r.start, user.id, SignedInBy::Binding, None).await?;
            return Ok(Resolved::Bound(user));
        }
        Some(_) => return Ok(Resolved::AlreadyLinked { field }),
        None => {}
    }
    // A matching phone or address proves less than the account's own password: an
    // administrator is never linked by it, others only if the option allows.
    if user.is_admin || (r.link_requires_password && user.password_hash.is_some()) {
        return Ok(Resolved::LinkRefused {
            field,
            admin: user.is_admin,
        });
    }
    let binding = Binding {
        identity: ext,
        meta,
        at: r.now,
    };
    start_session(
        tx,
        &r.start,
        user.id,
        SignedInBy::Link { field },
        Some(binding),
    )
    .await?;
    Ok(Resolved::Linked { user, field })
}

/// The users the candidates match, each once with the field that matched it first, in the
/// candidates' order.
async fn matching_users(
    tx: &mut Tx<'_>,
    candidates: &[MatchCandidate],
) -> StoreResult<Vec<(User, &'static str)>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // One row per candidate: its phone number or its e-mail address.
    let phones: Vec<Option<&str>> = candidates
        .iter()
        .map(|c| match c {
            MatchCandidate::Phone(v) => Some(v.as_str()),
            MatchCandidate::Email { .. } => None,
        })
        .collect();
    let emails: Vec<Option<&str>> = candidates
        .iter()
        .map(|c| match c {
            MatchCandidate::Email { value, .. } => Some(value.as_str()),
            MatchCandidate::Phone(_) => None,
        })
        .collect();
    let sql = format!(
        "SELECT c.n, {U_USER_COLUMNS} \
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(phone, email, n) \
         JOIN users u ON u.phone = c.phone OR u.email = c.email ORDER BY c.n, u.id"
    );
    let mut found: Vec<(User, &'static str)> = Vec::new();
    for row in tx.query(&sql, &[&phones, &emails]).await? {
        let n: i64 = rows::get(&row, "n")?;
        let user = rows::user(&row)?;
        if !found.iter().any(|(u, _)| u.id == user.id) {
            let field = candidates[(n - 1) as usize].field();
            found.push((user, field));
        }
    }
    Ok(found)
}

/// `start`'s rows for `user_id`, who signed in `by` (and the binding, on a link).
async fn start_session(
    tx: &mut Tx<'_>,
    start: &SessionStart,
    user_id: i64,
    by: SignedInBy,
    binding: Option<Binding<'_>>,
) -> StoreResult<()> {
    let (session, token) = start.for_user(user_id);
    let audit = start.audit_for(user_id, by);
    let rows = SessionRows {
        session: &session,
        token: &token,
        audit: &audit,
        binding,
    };
    rows.write(tx).await
}

/// `SignInStore::link_identity`, in `tx`; commits when it links.
pub(super) async fn link(
    mut tx: Tx<'_>,
    user_id: i64,
    ext: &ExternalIdentity,
    audit: &NewAuditEntry,
    now: i64,
) -> StoreResult<LinkOutcome> {
    let bound_to = tx
        .query_opt(
            "SELECT user_id FROM identities WHERE authenticator = $1 AND uuid = $2",
            &[&ext.authenticator, &ext.uuid],
        )
        .await?;
    match bound_to
        .map(|r| rows::get::<i64>(&r, "user_id"))
        .transpose()?
    {
        Some(id) if id == user_id => return Ok(LinkOutcome::AlreadyYours),
        Some(_) => return Ok(LinkOutcome::LinkedToAnother),
        None => {}
    }
    let enabled = tx
        .query_opt("SELECT enabled FROM users WHERE id = $1", &[&user_id])
        .await?;
    if enabled
        .map(|r| rows::get::<bool>(&r, "enabled"))
        .transpose()?
        != Some(true)
    {
        return Ok(LinkOutcome::UserGone);
    }
    let another = tx
        .query_opt(
            "SELECT id FROM identities WHERE authenticator = $1 AND user_id = $2 LIMIT 1",
            &[&ext.authenticator, &user_id],
        )
        .await?;
    if another.is_some() {
        return Ok(LinkOutcome::HasAnother);
    }
    let meta = authgate_store::stored_meta(ext);
    let binding = Binding {
        identity: ext,
        meta: &meta,
        at: now,
    };
    let mut sql = Sql::new("WITH i AS (");
    push_binding(&mut sql, &binding, user_id, UserFrom::Values);
    sql.push(") ");
    push_audit(&mut sql, std::slice::from_ref(audit), UserFrom::Values);
    match tx.execute_sql(&sql).await {
        // A first sign-in of this identity won the race.
        Err(StoreError::Conflict(_)) => return Ok(LinkOutcome::LinkedToAnother),
        other => other?,
    };
    tx.commit().await?;
    Ok(LinkOutcome::Linked)
}
