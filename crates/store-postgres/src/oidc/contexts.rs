//! The reads that judging a code, a refresh token or an access token needs: a grant with its
//! user and its session's revocation, each in one statement (and, for an access token, the
//! user's identities, which UserInfo answers from).

use crate::connection::Db;
use crate::oidc_rows::{self, GRANT_CONTEXT_COLUMNS};
use crate::rows::get;
use crate::users::identities_of;
use authgate_store::{AccessTokenContext, GrantContext, RefreshTokenRecord, StoreResult};

pub(super) async fn refresh_token_context(
    db: &mut impl Db,
    hash: &str,
) -> StoreResult<Option<(RefreshTokenRecord, GrantContext)>> {
    let sql = format!(
        "SELECT t.hash, t.issued_at, t.used_at, {GRANT_CONTEXT_COLUMNS} \
         FROM oidc_refresh_tokens t JOIN oidc_grants g ON g.id = t.grant_id \
         JOIN users u ON u.id = g.user_id WHERE t.hash = $1"
    );
    let Some(row) = db.query_opt(&sql, &[&hash]).await? else {
        return Ok(None);
    };
    let context = oidc_rows::grant_context(&row)?;
    let token = RefreshTokenRecord {
        hash: get(&row, "hash")?,
        grant_id: context.grant.id.clone(),
        issued_at: get(&row, "issued_at")?,
        used_at: get(&row, "used_at")?,
    };
    Ok(Some((token, context)))
}

pub(super) async fn access_token_context(
    db: &mut impl Db,
    jti: &str,
    grant_id: Option<&str>,
) -> StoreResult<AccessTokenContext> {
    // One row whatever is found: the grant's columns are NULL when there is none.
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM oidc_revoked_tokens WHERE jti = $1) AS revoked, \
         {GRANT_CONTEXT_COLUMNS} FROM (SELECT 1) AS one LEFT JOIN oidc_grants g ON g.id = $2 \
         LEFT JOIN users u ON u.id = g.user_id"
    );
    let row = db.query_one(&sql, &[&jti, &grant_id]).await?;
    let found: Option<&str> = get(&row, "grant_id")?;
    let grant = match found {
        Some(_) => Some(oidc_rows::grant_context(&row)?),
        None => None,
    };
    let identities = match &grant {
        Some(g) => identities_of(db, g.user.id).await?,
        None => Vec::new(),
    };
    Ok(AccessTokenContext {
        revoked: get(&row, "revoked")?,
        grant,
        identities,
    })
}
