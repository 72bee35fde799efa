//! `auth:*`: sign in, sign up, sign out, who am I, change password.

use super::authenticator_from_header;
use super::views::{Id, UserView};
use crate::audit::Entry;
use crate::auth::cookies;
use crate::auth::sessions::{issue_session, IssuedSession};
use crate::auth::sign_out::{end_session, Ending};
use crate::auth::CurrentUser;
use crate::auth_types::password::TYPE_NAME as PASSWORD_TYPE;
use crate::auth_types::SignInContext;
use crate::error::{ApiError, ApiResult, Text};
use crate::http::client::ClientInfo;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::response::{data, Data, WithCookies};
use crate::random_id::random_id;
use crate::state::AppState;
use authgate_core::audit::{event, Outcome};
use authgate_core::clock::now_ms;
use authgate_core::model::User;
use authgate_core::password::{check_password_rules, Verification};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    user: UserView,
    /// Send it as `Authorization: Bearer <token>`; renewed tokens come in `x-new-token`.
    token: String,
}

/// `auth:check`: the user and the authenticator they signed in with.
#[derive(Serialize, ToSchema)]
pub struct CheckedUser {
    #[serde(flatten)]
    user: UserView,
    authenticator: String,
}

/// `{}`
#[derive(Serialize, ToSchema)]
pub struct Empty {}

/// The sign-in answer: the token in the body (API clients) and in cookies (browsers).
pub fn signed_in_response(
    state: &AppState,
    user: User,
    issued: IssuedSession,
) -> WithCookies<Data<SignedIn>> {
    let max_age = issued.session_expires_at - now_ms();
    let cookies = cookies::session_cookies(&state.config, &issued.token, &random_id(), max_age);
    WithCookies {
        cookies,
        body: data(SignedIn {
            user: user.into(),
            token: issued.token,
        }),
    }
}

#[utoipa::path(post, path = "/api/auth:signIn", tag = "auth",
    params(("X-Authenticator" = String, Header, example = "basic", description = "Authenticator name, e.g. basic")),
    request_body = crate::auth_types::password::SignInBody,
    responses((status = 200, description = "Signed in: the token in the body and in session cookies", body = Data<SignedIn>),
              (status = 400, description = "Missing field or unknown/disabled authenticator"),
              (status = 401, description = "Wrong account or password (a disabled account with the right password answers the same)"),
              (status = 403, description = "Refused by a non-password authenticator (e.g. a DingTalk account that is disabled here)"),
              (status = 429, description = "Too many failures; see Retry-After",
               headers(("Retry-After" = i64, description = "Seconds until the lock ends")))))]
pub async fn sign_in(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<WithCookies<Data<SignedIn>>> {
    let a = authenticator_from_header(&state, &headers).await?;
    let auth_type = state.auth_types.get(&a.auth_type).ok_or_else(|| {
        ApiError::internal(format!("auth type {} is not registered", a.auth_type))
    })?;
    let ctx = SignInContext {
        state: &state,
        client: &client,
    };
    let user = match auth_type.sign_in(&ctx, &a, body).await {
        Ok(user) => user,
        Err(e) => {
            state.metrics.sign_in(&a.name, "failure");
            state
                .audit(Entry {
                    event: event::SIGN_IN,
                    outcome: Outcome::Failure,
                    user_id: e.audit_user,
                    authenticator: Some(a.name.clone()),
                    client: Some(&client),
                    reason: Some(e.audit_reason()),
                    ..Default::default()
                })
                .await;
            return Err(e);
        }
    };
    let entry = Entry {
        event: event::SIGN_IN,
        user_id: Some(user.id),
        authenticator: Some(a.name.clone()),
        client: Some(&client),
        ..Default::default()
    };
    let issued = issue_session(&state, &user, &a.name, &client, Some(entry)).await?;
    state.metrics.sign_in(&a.name, "success");
    Ok(signed_in_response(&state, user, issued))
}

#[utoipa::path(post, path = "/api/auth:signUp", tag = "auth",
    params(("X-Authenticator" = String, Header, example = "basic", description = "Authenticator name")),
    request_body = crate::auth_types::password::PasswordSignUp,
    responses((status = 200, description = "The new user", body = Data<UserView>),
              (status = 400, description = "Invalid or duplicate field, or unknown/disabled authenticator"),
              (status = 403, description = "Sign-up is not allowed")))]
pub async fn sign_up(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Data<UserView>>> {
    let a = authenticator_from_header(&state, &headers).await?;
    let auth_type = state.auth_types.get(&a.auth_type).ok_or_else(|| {
        ApiError::internal(format!("auth type {} is not registered", a.auth_type))
    })?;
    let ctx = SignInContext {
        state: &state,
        client: &client,
    };
    let result = auth_type.sign_up(&ctx, &a, body).await;
    state
        .audit(Entry {
            event: event::SIGN_UP,
            outcome: if result.is_ok() {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            user_id: result.as_ref().ok().map(|u| u.id),
            authenticator: Some(a.name.clone()),
            client: Some(&client),
            reason: result.as_ref().err().map(ApiError::audit_reason),
            ..Default::default()
        })
        .await;
    Ok(data(result?.into()))
}

#[utoipa::path(post, path = "/api/auth:signOut", tag = "auth",
    responses((status = 200, description = "Signed out; the session is revoked and the cookies cleared", body = Data<Empty>)))]
pub async fn sign_out(
    State(state): State<AppState>,
    client: ClientInfo,
    CurrentUser(me): CurrentUser,
) -> ApiResult<WithCookies<Data<Empty>>> {
    let how = Ending {
        reason: "signed out",
        event: event::SIGN_OUT,
        detail: Default::default(),
        from: &client,
    };
    end_session(&state, &me, how).await?;
    Ok(WithCookies {
        cookies: cookies::clearing_cookies(&state.config),
        body: data(Empty {}),
    })
}

#[utoipa::path(get, path = "/api/auth:check", tag = "auth",
    responses((status = 200, description = "The signed-in user", body = Data<CheckedUser>)))]
pub async fn check(CurrentUser(me): CurrentUser) -> ApiResult<Json<Data<CheckedUser>>> {
    Ok(data(CheckedUser {
        user: me.user.into(),
        authenticator: me.authenticator,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"oldPassword": "old password", "newPassword": "a new passphrase", "confirmPassword": "a new passphrase"}))]
pub struct ChangePasswordBody {
    old_password: Option<String>,
    new_password: String,
    confirm_password: Option<String>,
}

#[utoipa::path(post, path = "/api/auth:changePassword", tag = "auth",
    request_body = ChangePasswordBody,
    responses((status = 200, description = "Changed; every other session is signed out, this one gets a new token", body = Data<SignedIn>),
              (status = 400, description = "The new password breaks a rule, or the current one is missing"),
              (status = 401, description = "Not signed in, or the current password is wrong (INVALID_CREDENTIALS)")))]
pub async fn change_password(
    State(state): State<AppState>,
    client: ClientInfo,
    CurrentUser(me): CurrentUser,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> ApiResult<WithCookies<Data<SignedIn>>> {
    if body
        .confirm_password
        .as_ref()
        .is_some_and(|c| *c != body.new_password)
    {
        return Err(ApiError::bad_request(Text::new(
            "The passwords entered twice do not match",
            "两次输入的密码不一致",
        )));
    }
    check_password_rules(&body.new_password).map_err(|e| ApiError::bad_request(e.text()))?;
    let Some(stored) = me.user.password_hash.clone() else {
        return Err(ApiError::bad_request(Text::new(
            "This account has no password (it signs in another way); an administrator can set one",
            "该账号没有设置密码（它通过其他方式登录）；可请管理员为其设置密码",
        )));
    };
    let old = body.old_password.unwrap_or_default();
    let failure = |reason: &str| Entry {
        event: event::PASSWORD_CHANGE,
        outcome: Outcome::Failure,
        user_id: Some(me.user.id),
        client: Some(&client),
        reason: Some(reason.to_string()),
        ..Default::default()
    };
    if old.is_empty() {
        return Err(ApiError::bad_request(Text::new(
            "Please enter your current password",
            "请输入当前密码",
        )));
    }
    if state.passwords.verify(Some(stored), old).await == Verification::Mismatch {
        state.audit(failure("wrong current password")).await;
        return Err(ApiError::unauthorized(
            "INVALID_CREDENTIALS",
            Text::new(
                "The password is incorrect, please re-enter",
                "密码不正确，请重新输入",
            ),
        ));
    }
    let hash = state.passwords.hash(body.new_password).await;
    let now = now_ms();
    state
        .store
        .set_password_hash(me.user.id, &hash, Some(now), now)
        .await?;
    state
        .store
        .revoke_user_sessions(me.user.id, None, "password changed", Some(me.user.id), now)
        .await?;
    crate::oidc::backchannel::sessions_ended(&state, me.user.id).await;
    state
        .audit(Entry {
            event: event::PASSWORD_CHANGE,
            user_id: Some(me.user.id),
            client: Some(&client),
            ..Default::default()
        })
        .await;
    let user = state.store.get_user(me.user.id).await?.ok_or_else(|| {
        ApiError::unauthorized(
            "NOT_EXIST_USER",
            Text::new("The user does not exist", "该用户不存在"),
        )
    })?;
    let issued = issue_session(&state, &user, &me.authenticator, &client, None).await?;
    Ok(signed_in_response(&state, user, issued))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MyIdentity {
    identity_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/auth:unlinkIdentity", tag = "auth",
    params(("identityId" = i64, Query, example = 1, description = "One of my linked identities")),
    responses((status = 200, description = "Unlinked", body = Data<Id>),
              (status = 400, description = "It is the only way this account can sign in (no password, no other identity)"),
              (status = 401, description = "Not signed in"),
              (status = 404, description = "No such identity of mine")))]
pub async fn unlink_identity(
    State(state): State<AppState>,
    client: ClientInfo,
    CurrentUser(me): CurrentUser,
    ApiQuery(q): ApiQuery<MyIdentity>,
) -> ApiResult<Json<Data<Id>>> {
    let id = q.identity_id.ok_or_else(|| {
        ApiError::bad_request(Text::new(
            "identityId (the identity's id) is required",
            "缺少 identityId（绑定身份的 ID）",
        ))
    })?;
    let mine = state.store.list_identities(me.user.id).await?;
    let Some(identity) = mine.iter().find(|i| i.id == id) else {
        return Err(ApiError::not_found(Text::new(
            format!("You have no linked account {id}"),
            format!("你没有 ID 为 {id} 的绑定账号"),
        )));
    };
    // Another way in: a password with an enabled password authenticator, or another identity
    // on an enabled authenticator. (For administrators the store checks it again, atomically.)
    let enabled: Vec<_> = state
        .store
        .list_authenticators()
        .await?
        .into_iter()
        .filter(|a| a.enabled)
        .collect();
    let by_password =
        me.user.password_hash.is_some() && enabled.iter().any(|a| a.auth_type == PASSWORD_TYPE);
    let by_other_identity = mine
        .iter()
        .any(|i| i.id != id && enabled.iter().any(|a| a.name == i.authenticator));
    if !by_password && !by_other_identity {
        return Err(ApiError::bad_request(Text::new(
            "This linked account is the only way you can sign in: ask an administrator to set a password for you first",
            "这是你唯一的登录方式，无法解除绑定：请先请管理员为你设置密码",
        )));
    }
    if state.store.delete_identity(me.user.id, id).await? {
        state
            .audit(Entry {
                event: event::IDENTITY_UNLINK,
                user_id: Some(me.user.id),
                actor_id: Some(me.user.id),
                authenticator: Some(identity.authenticator.clone()),
                client: Some(&client),
                ..Default::default()
            })
            .await;
    }
    Ok(data(Id { id }))
}
