//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), with the end-session URL
//! openid-client builds: a valid `id_token_hint` signs the person out at once and goes back
//! to the client's registered page; anything less asks the person and never redirects.

use crate::both_databases;
use crate::oidc_support::*;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

/// What prompt=none answers this browser: a code (still signed in) or an error.
async fn silent_sign_in(env: &OidcEnv, rel: &Relying, b: &mut Browser) -> Result<Tokens, RpError> {
    let req = rel.auth_request(json!({"prompt": "none"})).await;
    let r = b.get(&req.url).await;
    rel.grant(&req, &env.callback(&r)).await
}

#[track_caller]
fn assert_signed_out(r: Result<Tokens, RpError>) {
    match r {
        Ok(t) => panic!("still signed in: {t:?}"),
        Err(e) => assert_eq!(e.error(), "login_required", "{e:?}"),
    }
}

/// A page for the person (the question, or "signed out"), not a redirect anywhere.
#[track_caller]
fn assert_page(r: &Reply, what: &str) {
    assert_eq!(r.status, StatusCode::OK, "{what}: {r:?}");
    assert!(r.header("location").is_none(), "{what} redirected: {r:?}");
}

/// An ID token with one signature character changed (in the middle: the last one may only
/// carry padding bits).
fn forged(id_token: &str) -> String {
    let (head, sig) = id_token.rsplit_once('.').unwrap();
    let mut sig: Vec<char> = sig.chars().collect();
    let i = sig.len() / 2;
    sig[i] = if sig[i] == 'A' { 'B' } else { 'A' };
    format!("{head}.{}", sig.into_iter().collect::<String>())
}

async fn logout_with_a_valid_hint_ends_the_session(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    let t = env.code_flow(&rel, &mut b, json!({})).await;
    let session = b.session().unwrap();
    let mut same_cookies = Browser::new();
    same_cookies.cookies = b.cookies.clone();

    let url = rel
        .end_session_url(json!({
            "id_token_hint": t.id_token.as_deref().unwrap(),
            "post_logout_redirect_uri": POST_LOGOUT_URI,
            "state": "after-logout",
        }))
        .await;
    assert!(url.starts_with(&env.s.url("/oidc/end_session?")), "{url}");
    let r = b.get(&url).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    assert_eq!(
        r.header("location"),
        Some(format!("{POST_LOGOUT_URI}?state=after-logout").as_str())
    );
    assert!(b.session().is_none(), "the session cookie is cleared");
    // Signed out for real: the session, not only the cookie.
    assert_signed_out(silent_sign_in(&env, &rel, &mut b).await);
    assert_signed_out(silent_sign_in(&env, &rel, &mut same_cookies).await);
    assert_eq!(
        env.s.get("/api/auth:check", Some(&session)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The tokens the session gave the application end with it.
    let e = rel
        .userinfo(&t.access_token, "GET", None)
        .await
        .expect_err("the access token ended with the session");
    assert_eq!(e.error(), "invalid_token", "{e:?}");
}

async fn logout_without_a_valid_hint_asks_and_never_redirects(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let other = env.relying(json!({"name": "Another application"})).await;
    let mut b = Browser::new();
    let t = env.code_flow(&rel, &mut b, json!({})).await;
    let id_token = t.id_token.clone().unwrap();
    let others = env.code_flow(&other, &mut b, json!({})).await;

    let asks = [
        (
            "no hint",
            json!({"post_logout_redirect_uri": POST_LOGOUT_URI, "state": "s"}),
        ),
        (
            "a forged hint",
            json!({"id_token_hint": forged(&id_token), "post_logout_redirect_uri": POST_LOGOUT_URI}),
        ),
        (
            "another client's hint",
            json!({"id_token_hint": others.id_token.unwrap(), "post_logout_redirect_uri": POST_LOGOUT_URI}),
        ),
    ];
    for (what, params) in asks {
        let url = rel.end_session_url(params).await;
        let r = b.get(&url).await;
        assert_page(&r, what);
        assert!(r.text.contains("oidc-logout"), "{what}: the question");
        // Nothing happened without an answer.
        silent_sign_in(&env, &rel, &mut b)
            .await
            .unwrap_or_else(|e| panic!("{what} signed the person out: {e:?}"));
    }

    // Answering the question signs out, and still goes nowhere it cannot vouch for.
    let url = rel
        .end_session_url(json!({"post_logout_redirect_uri": POST_LOGOUT_URI}))
        .await;
    let question = b.get(&url).await;
    let (action, mut fields) = form_in(&question.text).expect("the question's form");
    assert_eq!(field(&fields, "csrf"), b.csrf().as_deref());
    fields.push(("logout".into(), "yes".into()));
    let r = b.post_form(&env.s.url(&action), &fields).await;
    assert_page(&r, "the confirmed sign-out");
    assert_signed_out(silent_sign_in(&env, &rel, &mut b).await);

    // A valid hint with a URI the client never registered: signed out, not redirected.
    let mut b = Browser::new();
    let t = env.code_flow(&rel, &mut b, json!({})).await;
    let url = rel
        .end_session_url(json!({
            "id_token_hint": t.id_token.unwrap(),
            "post_logout_redirect_uri": "http://127.0.0.1:9/elsewhere",
        }))
        .await;
    let r = b.get(&url).await;
    assert_page(&r, "an unregistered post_logout_redirect_uri");
    assert!(!r.text.contains("/elsewhere"), "{}", r.text);
    assert_signed_out(silent_sign_in(&env, &rel, &mut b).await);
}

/// A form without the CSRF value (another site's page posting it) signs nobody out.
async fn a_forged_logout_confirmation_is_refused(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    env.code_flow(&rel, &mut b, json!({})).await;
    for csrf in ["", "not-the-cookie"] {
        let r = b
            .post_form(
                &env.s.url("/oidc/end_session"),
                &[
                    ("logout".into(), "yes".into()),
                    ("csrf".into(), csrf.into()),
                ],
            )
            .await;
        assert_page(&r, "a forged confirmation");
        silent_sign_in(&env, &rel, &mut b)
            .await
            .expect("still signed in");
    }
}

both_databases!(
    logout_with_a_valid_hint_ends_the_session,
    logout_without_a_valid_hint_asks_and_never_redirects,
    a_forged_logout_confirmation_is_refused,
);
