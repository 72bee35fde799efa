//! Who is asking: the middleware reads the bearer token or the session cookie once per request
//! (renewing it when NocoBase's rules allow), and the extractors hand the result to handlers.

use crate::auth::cookies::{self, CSRF_COOKIE, CSRF_HEADER, TOKEN_COOKIE};
use crate::auth::sessions::{authenticate, Authenticated};
use crate::error::{ApiError, Text};
use crate::http::client::ClientInfo;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

/// The outcome for a request that presented a token.
#[derive(Clone)]
struct AuthOutcome(Result<Authenticated, ApiError>);

/// How the token arrived: cookies need CSRF protection, bearer headers do not.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TokenSource {
    Bearer,
    Cookie,
}

/// A `Bearer` token, else the session cookie. Another scheme (the `Basic` credentials a proxy
/// in front adds for its own reasons) is not ours and does not hide the cookie.
fn presented_token(parts: &axum::http::HeaderMap) -> Option<(String, TokenSource)> {
    if let Some(token) = parts
        .get(header::AUTHORIZATION)
        .and_then(|v| bearer_token(v.to_str().unwrap_or_default()))
    {
        return Some((token.to_string(), TokenSource::Bearer));
    }
    cookies::read(parts, TOKEN_COOKIE).map(|t| (t, TokenSource::Cookie))
}

pub(crate) fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.split_once(' ').unwrap_or((authorization, ""));
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn csrf_ok(headers: &axum::http::HeaderMap) -> bool {
    let header = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    csrf_matches(headers, header)
}

/// Whether `value` (from the header, or a form field where a form cannot send headers) is the
/// CSRF cookie's, compared in constant time.
pub(crate) fn csrf_matches(headers: &axum::http::HeaderMap, value: &str) -> bool {
    let Some(cookie) = cookies::read(headers, CSRF_COOKIE) else {
        return false;
    };
    !value.is_empty() && bool::from(value.as_bytes().ct_eq(cookie.as_bytes()))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The pages whose POSTs are forms that carry the CSRF token themselves (see
/// `oidc::checks_csrf_itself` and `pages::signout`).
fn is_cross_site_by_design(req: &Request) -> bool {
    let path = req.uri().path();
    crate::oidc::checks_csrf_itself(path) || path == crate::pages::signout::PATH
}

pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some((token, source)) = presented_token(req.headers()) else {
        return next.run(req).await;
    };
    if source == TokenSource::Bearer && crate::oidc::takes_access_tokens(req.uri().path()) {
        return next.run(req).await;
    }
    let outcome = if token.is_empty() {
        Err(ApiError::unauthorized(
            "EMPTY_TOKEN",
            Text::new("The token is empty, please sign in", "令牌为空，请登录"),
        ))
    } else if source == TokenSource::Cookie
        && !is_safe(req.method())
        && !is_cross_site_by_design(&req)
        && !csrf_ok(req.headers())
    {
        Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "CSRF_TOKEN_INVALID",
            Text::new("This request needs the X-CSRF-Token header (the value of the authgate_csrf cookie)", "此请求需要 X-CSRF-Token 请求头（值为 authgate_csrf Cookie 的值）"),
        ))
    } else {
        let client = ClientInfo::from_request(&req, &state.config);
        authenticate(&state, &token, &client).await
    };
    let renewal = match &outcome {
        Ok(a) => a.new_token.clone().map(|t| (t, a.session_expires_at)),
        Err(_) => None,
    };
    req.extensions_mut().insert(AuthOutcome(outcome));
    req.extensions_mut().insert(source);
    let mut response = next.run(req).await;
    if let Some((new_token, session_end)) = renewal {
        // A handler that already set new cookies (sign-out, password change) has the last word.
        let handler_set_cookies = response.headers().contains_key(header::SET_COOKIE);
        if let Ok(v) = HeaderValue::from_str(&new_token) {
            response.headers_mut().insert("x-new-token", v);
        }
        if source == TokenSource::Cookie && !handler_set_cookies {
            let max_age = session_end - authgate_core::clock::now_ms();
            if let Some(c) = cookies::token_cookie(&state.config, &new_token, max_age) {
                response.headers_mut().append(header::SET_COOKIE, c);
            }
        }
    }
    response
}

/// A signed-in user (401 with NocoBase's code otherwise).
pub struct CurrentUser(pub Authenticated);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.extensions.get::<AuthOutcome>() {
            Some(AuthOutcome(Ok(a))) => Ok(CurrentUser(a.clone())),
            Some(AuthOutcome(Err(e))) => Err(e.clone()),
            None => Err(ApiError::unauthorized(
                "EMPTY_TOKEN",
                Text::new("Please sign in first", "请先登录"),
            )),
        }
    }
}

/// The signed-in user if there is one; a missing, expired or refused token is no session.
pub struct MaybeUser(pub Option<Authenticated>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(match parts.extensions.get::<AuthOutcome>() {
            Some(AuthOutcome(Ok(a))) => Some(a.clone()),
            _ => None,
        }))
    }
}

/// A signed-in administrator (403 for other users).
pub struct AdminUser(pub Authenticated);

impl<S: Send + Sync> FromRequestParts<S> for AdminUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let CurrentUser(a) = CurrentUser::from_request_parts(parts, state).await?;
        if !a.user.is_admin {
            return Err(ApiError::forbidden(Text::new(
                "Only administrators may do this",
                "只有管理员可以这样做",
            )));
        }
        Ok(AdminUser(a))
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn only_the_bearer_scheme_carries_our_token() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("BEARER abc"), Some("abc"));
        assert_eq!(bearer_token("Bearer"), Some(""));
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token("Negotiate abc"), None);
    }
}
