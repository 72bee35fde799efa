//! The OpenID Foundation's conformance modules for an OpenID Provider (Basic and Config
//! profiles, with form_post, PKCE and refresh tokens), each as a test named after its module,
//! with panva's openid-client (itself certified) as the relying party.

use crate::both_databases;
use crate::oidc_support::*;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

/// `url` with `name` removed.
fn without_param(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    u.query_pairs_mut().clear().extend_pairs(kept);
    u.to_string()
}

/// `url` with `name` set to `value` (replacing any).
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut u = url::Url::parse(&without_param(url, name)).unwrap();
    u.query_pairs_mut().append_pair(name, value);
    u.to_string()
}

#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, RpError>, error: &str) -> RpError {
    match r {
        Ok(v) => panic!("expected {error}, got {v:?}"),
        Err(e) => {
            assert_eq!(e.error(), error, "{e:?}");
            e
        }
    }
}

/// A JWT's header.
fn jwt_header(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The provider's signing key of type `kty` (`RSA` or `OKP`), from its JWKS.
async fn jwk(s: &Server, kty: &str) -> Value {
    let jwks = s.get("/.well-known/jwks.json", None).await;
    jwks.assert_ok();
    let keys = jwks.body["keys"].as_array().unwrap();
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    let mut unique = kids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        kids.len(),
        "every key has its own kid: {kids:?}"
    );
    keys.iter()
        .find(|k| k["kty"] == kty)
        .unwrap_or_else(|| panic!("a {kty} key in {}", jwks.text))
        .clone()
}

/// Verifies an ID token independently of openid-client, with the JWKS key it names.
fn verify_id_token(token: &str, key: &Value, issuer: &str, client_id: &str) -> Value {
    use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
    let (alg, key) = match key["kty"].as_str().unwrap() {
        "RSA" => (
            Algorithm::RS256,
            DecodingKey::from_rsa_components(
                key["n"].as_str().unwrap(),
                key["e"].as_str().unwrap(),
            )
            .unwrap(),
        ),
        _ => (
            Algorithm::EdDSA,
            DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap(),
        ),
    };
    let mut v = Validation::new(alg);
    v.set_audience(&[client_id]);
    v.set_issuer(&[issuer]);
    decode::<Value>(token, &key, &v)
        .expect("the ID token verifies with the JWKS key")
        .claims
}

/// oidcc-server: the basic code flow.
async fn oidcc_server(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    let req = rel.auth_request(json!({"scope": "openid"})).await;
    let cb = env.authorize(&mut b, &req).await;
    let url = callback_url(&cb);
    assert_eq!(without_query(url), REDIRECT_URI);
    assert_eq!(query_param(url, "iss"), Some(env.issuer()));
    assert_eq!(query_param(url, "state"), req.state);
    let t = rel.grant(&req, &cb).await.unwrap();
    assert_eq!(t.token_type.to_ascii_lowercase(), "bearer");
    assert!(t.expires_in.unwrap() > 0);
    assert!(
        t.refresh_token.is_none(),
        "no offline_access, no refresh token"
    );
    let c = t.id_claims();
    assert_eq!(c["iss"], json!(env.issuer()));
    assert_eq!(c["aud"], json!(rel.client.client_id));
    assert_eq!(c["sub"], json!(env.alice_id.to_string()));
    assert_eq!(c["nonce"], json!(req.nonce));
    assert_eq!(c["amr"], json!(["pwd"]));
    for claim in ["iat", "exp", "auth_time", "sid", "at_hash"] {
        assert!(c.get(claim).is_some(), "the ID token has {claim}: {c}");
    }
    let info = rel
        .userinfo(&t.access_token, "GET", Some(&t.sub()))
        .await
        .unwrap();
    assert_eq!(info["sub"], c["sub"]);
}

/// oidcc-response-type-missing: the client is told, at its redirect URI.
async fn oidcc_response_type_missing(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    let mut req = rel.auth_request(json!({})).await;
    req.url = without_param(&req.url, "response_type");
    let r = b.get(&req.url).await;
    let cb = env.callback(&r);
    assert_eq!(without_query(callback_url(&cb)), REDIRECT_URI);
    refused(rel.grant(&req, &cb).await, "invalid_request");
}

/// oidcc-idtoken-signature: RS256 with the kid of the JWKS's RSA key by default; EdDSA (the
/// Ed25519 key, another kid) for a client registered for it.
async fn oidcc_idtoken_signature(db: Db) {
    let env = OidcEnv::start(db).await;
    let rsa = jwk(&env.s, "RSA").await;
    let ed = jwk(&env.s, "OKP").await;
    assert_ne!(rsa["kid"], ed["kid"]);

    let rel = env.relying(json!({})).await;
    let t = env.code_flow(&rel, &mut Browser::new(), json!({})).await;
    let id_token = t.id_token.as_deref().unwrap();
    let h = jwt_header(id_token);
    assert_eq!((&h["alg"], &h["kid"]), (&json!("RS256"), &rsa["kid"]));
    let claims = verify_id_token(id_token, &rsa, &env.issuer(), &rel.client.client_id);
    assert_eq!(claims["sub"], json!(env.alice_id.to_string()));

    let client = env
        .register(json!({"idTokenSignedResponseAlg": "EdDSA"}))
        .await;
    let rel = env
        .discover_with(
            &client,
            client.client_secret.as_deref(),
            json!({"id_token_signed_response_alg": "EdDSA"}),
        )
        .await
        .unwrap();
    let t = env.code_flow(&rel, &mut Browser::new(), json!({})).await;
    let id_token = t.id_token.as_deref().unwrap();
    let h = jwt_header(id_token);
    assert_eq!((&h["alg"], &h["kid"]), (&json!("EdDSA"), &ed["kid"]));
    verify_id_token(id_token, &ed, &env.issuer(), &client.client_id);
}

async fn userinfo_by(db: Db, method: &str) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let t = env
        .code_flow(
            &rel,
            &mut Browser::new(),
            json!({"scope": "openid profile"}),
        )
        .await;
    let info = rel
        .userinfo(&t.access_token, method, Some(&t.sub()))
        .await
        .unwrap();
    assert_eq!(info["sub"], json!(env.alice_id.to_string()));
    assert_eq!(info["name"], json!(ALICE_NICKNAME));
    // Without a (valid) token: refused, the same way.
    let forged = format!("{}x", &t.access_token[..t.access_token.len() - 1]);
    let e = refused(rel.userinfo(&forged, method, None).await, "invalid_token");
    assert_eq!(e.status, Some(401), "{e:?}");
}

/// oidcc-userinfo-get.
async fn oidcc_userinfo_get(db: Db) {
    userinfo_by(db, "GET").await
}

/// oidcc-userinfo-post-header.
async fn oidcc_userinfo_post_header(db: Db) {
    userinfo_by(db, "POST-header").await
}

/// oidcc-userinfo-post-body.
async fn oidcc_userinfo_post_body(db: Db) {
    userinfo_by(db, "POST-body").await
}

/// oidcc-ensure-request-without-nonce-succeeds-for-code-flow.
async fn oidcc_request_without_nonce(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let req = rel.auth_request_with(json!({"nonce": false})).await;
    assert!(!req.url.contains("nonce="));
    let cb = env.authorize(&mut Browser::new(), &req).await;
    let t = rel.grant(&req, &cb).await.unwrap();
    assert!(t.id_claims().get("nonce").is_none());
}

/// The user info claims alice gets for `scope`.
async fn userinfo_for_scope(db: Db, scope: &str) -> (Tokens, Value) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let t = env
        .code_flow(&rel, &mut Browser::new(), json!({"scope": scope}))
        .await;
    let info = rel
        .userinfo(&t.access_token, "GET", Some(&t.sub()))
        .await
        .unwrap();
    (t, info)
}

fn assert_claims(info: &Value, present: &[&str], absent: &[&str]) {
    for c in present {
        assert!(info.get(*c).is_some(), "{c} is missing: {info}");
    }
    for c in absent {
        assert!(info.get(*c).is_none(), "{c} should not be there: {info}");
    }
}

const PROFILE: &[&str] = &["name", "preferred_username", "updated_at"];
const EMAIL: &[&str] = &["email", "email_verified"];
const PHONE: &[&str] = &["phone_number", "phone_number_verified"];

/// oidcc-scope-profile.
async fn oidcc_scope_profile(db: Db) {
    let (_, info) = userinfo_for_scope(db, "openid profile").await;
    assert_claims(&info, PROFILE, &[EMAIL, PHONE].concat());
    assert_eq!(info["name"], json!(ALICE_NICKNAME));
    assert_eq!(info["preferred_username"], json!(ALICE));
    assert!(info["updated_at"].is_i64());
}

/// oidcc-scope-email.
async fn oidcc_scope_email(db: Db) {
    let (_, info) = userinfo_for_scope(db, "openid email").await;
    assert_claims(&info, EMAIL, &[PROFILE, PHONE].concat());
    assert_eq!(info["email"], json!(ALICE_EMAIL));
    assert_eq!(info["email_verified"], json!(false));
}

/// oidcc-scope-phone.
async fn oidcc_scope_phone(db: Db) {
    let (_, info) = userinfo_for_scope(db, "openid phone").await;
    assert_claims(&info, PHONE, &[PROFILE, EMAIL].concat());
    assert_eq!(info["phone_number"], json!(ALICE_PHONE));
    assert_eq!(info["phone_number_verified"], json!(false));
}

/// oidcc-scope-address: authgate keeps no address; the flow succeeds without one.
async fn oidcc_scope_address(db: Db) {
    let (t, info) = userinfo_for_scope(db, "openid address").await;
    assert_claims(&info, &["sub"], &["address"]);
    let granted = t.scope.unwrap_or_default();
    assert!(!granted.split(' ').any(|s| s == "address"), "{granted}");
}

/// oidcc-scope-all.
async fn oidcc_scope_all(db: Db) {
    let (_, info) = userinfo_for_scope(db, "openid profile email phone address").await;
    assert_claims(&info, &[PROFILE, EMAIL, PHONE].concat(), &["address"]);
}

/// oidcc-ensure-other-scope-order-succeeds.
async fn oidcc_ensure_other_scope_order_succeeds(db: Db) {
    let (_, info) = userinfo_for_scope(db, "email openid").await;
    assert_eq!(info["email"], json!(ALICE_EMAIL));
}

/// A flow with `params` added to the authorization request succeeds (for parameters the
/// provider may ignore).
async fn flow_with(db: Db, params: Value) -> Tokens {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let t = env.code_flow(&rel, &mut Browser::new(), params).await;
    assert_eq!(t.sub(), env.alice_id.to_string());
    t
}

/// oidcc-display-page.
async fn oidcc_display_page(db: Db) {
    flow_with(db, json!({"display": "page"})).await;
}

/// oidcc-display-popup.
async fn oidcc_display_popup(db: Db) {
    flow_with(db, json!({"display": "popup"})).await;
}

/// oidcc-unknown-parameter.
async fn oidcc_unknown_parameter(db: Db) {
    flow_with(db, json!({"extra": "foobar"})).await;
}

/// A flow with `params` added that passes through the sign-in page: answers that page's HTML
/// once the flow has succeeded.
async fn flow_through_sign_in_with(db: Db, params: Value) -> String {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let req = rel.auth_request(params).await;
    let mut b = Browser::new();
    let first = b.get(&req.url).await;
    let sign_in = location(&env.base, &first).expect("to the sign-in page");
    let page = b.get(&sign_in).await.text;
    let target = env
        .sign_in_page(&mut b, &sign_in, ALICE, ALICE_PASSWORD)
        .await;
    let cb = env.callback(&b.get(&env.url(&target)).await);
    let t = rel.grant(&req, &cb).await.expect("the flow succeeds");
    assert_eq!(t.sub(), env.alice_id.to_string());
    page
}

/// oidcc-login-hint: the hinted account is filled in on the sign-in page.
async fn oidcc_login_hint(db: Db) {
    let page = flow_through_sign_in_with(db, json!({"login_hint": ALICE})).await;
    assert!(
        page.contains(&format!(
            r#"name="account" autocomplete="username" value="{ALICE}""#
        )),
        "{page}"
    );
    // A hint is text, never markup.
    let page = flow_through_sign_in_with(Db::Sqlite, json!({"login_hint": "\"><b>x"})).await;
    assert!(
        !page.contains("<b>x") && page.contains("name=\"account\""),
        "{page}"
    );
}

/// oidcc-ui-locales: the sign-in page speaks the first language asked for that it has.
async fn oidcc_ui_locales(db: Db) {
    let page = flow_through_sign_in_with(db, json!({"ui_locales": "fr zh-CN en"})).await;
    assert!(page.contains(r#"<html lang="zh-CN""#), "{page}");
    let page = flow_through_sign_in_with(Db::Sqlite, json!({"ui_locales": "fr"})).await;
    assert!(page.contains(r#"<html lang="en""#), "{page}");
}

/// oidcc-claims-locales.
async fn oidcc_claims_locales(db: Db) {
    flow_with(db, json!({"claims_locales": "zh-CN en"})).await;
}

/// oidcc-ensure-request-with-acr-values-succeeds.
async fn oidcc_acr_values(db: Db) {
    flow_with(db, json!({"acr_values": "1 2"})).await;
}

/// The ID token's `auth_time`.
fn auth_time(t: &Tokens) -> i64 {
    t.id_claims()["auth_time"].as_i64().expect("auth_time")
}

/// oidcc-prompt-login: a signed-in person is asked to sign in again, and the new ID token
/// says so. Skipping the sign-in page (going straight to where it would lead) does not do.
async fn oidcc_prompt_login(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    let first = env.code_flow(&rel, &mut b, json!({})).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let req = rel.auth_request(json!({"prompt": "login"})).await;
    let r = b.get(&req.url).await;
    let signin = location(&env.s.base, &r).unwrap_or_default();
    assert!(
        signin.starts_with(&env.s.url("/signin?")),
        "prompt=login asks to sign in even with a session: {r:?}"
    );
    let resume = query_param(&signin, "redirect").unwrap();
    let skipped = b.get(&env.s.url(&resume)).await;
    let again = location(&env.s.base, &skipped).unwrap_or_default();
    assert!(
        again.starts_with(&env.s.url("/signin?")),
        "the old session answered prompt=login without a new sign-in: {skipped:?}"
    );
    let target = env
        .sign_in_page(&mut b, &signin, ALICE, ALICE_PASSWORD)
        .await;
    let r = b.get(&env.s.url(&target)).await;
    let second = rel.grant(&req, &env.callback(&r)).await.unwrap();
    assert!(
        auth_time(&second) > auth_time(&first),
        "{} then {}",
        auth_time(&first),
        auth_time(&second)
    );
}

/// oidcc-prompt-none-not-logged-in.
async fn oidcc_prompt_none_not_logged_in(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let req = rel.auth_request(json!({"prompt": "none"})).await;
    let r = Browser::new().get(&req.url).await;
    let cb = env.callback(&r);
    assert_eq!(query_param(callback_url(&cb), "state"), req.state);
    refused(rel.grant(&req, &cb).await, "login_required");
}

/// oidcc-prompt-none-logged-in.
async fn oidcc_prompt_none_logged_in(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    let first = env.code_flow(&rel, &mut b, json!({})).await;
    let req = rel.auth_request(json!({"prompt": "none"})).await;
    let r = b.get(&req.url).await;
    let second = rel.grant(&req, &env.callback(&r)).await.unwrap();
    assert_eq!(second.sub(), first.sub());
    assert_eq!(auth_time(&second), auth_time(&first));
}

/// oidcc-max-age-1: a session older than a second must sign in again; the new `auth_time`
/// is later.
async fn oidcc_max_age_1(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    let first = env.code_flow(&rel, &mut b, json!({})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let req = rel.auth_request(json!({"max_age": "1"})).await;
    let r = b.get(&req.url).await;
    let signin = location(&env.s.base, &r).unwrap_or_default();
    assert!(
        signin.starts_with(&env.s.url("/signin?")),
        "max_age=1 sends an older session to sign in: {r:?}"
    );
    let target = env
        .sign_in_page(&mut b, &signin, ALICE, ALICE_PASSWORD)
        .await;
    let r = b.get(&env.s.url(&target)).await;
    let second = rel
        .grant_with(&req, &env.callback(&r), json!({"maxAge": 1}))
        .await
        .unwrap();
    assert!(auth_time(&second) > auth_time(&first));
}

/// oidcc-max-age-10000: a recent session goes straight through.
async fn oidcc_max_age_10000(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    let first = env.code_flow(&rel, &mut b, json!({})).await;
    let req = rel.auth_request(json!({"max_age": "10000"})).await;
    let r = b.get(&req.url).await;
    let second = rel
        .grant_with(&req, &env.callback(&r), json!({"maxAge": 10000}))
        .await
        .unwrap();
    assert_eq!(auth_time(&second), auth_time(&first));
}

/// oidcc-id-token-hint: the ID token given back as a hint, with prompt=none, for the person
/// signed in; a hint about someone else asks for a sign-in.
async fn oidcc_id_token_hint(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    let first = env.code_flow(&rel, &mut b, json!({})).await;
    let hint = first.id_token.clone().unwrap();
    let req = rel
        .auth_request(json!({"prompt": "none", "id_token_hint": hint}))
        .await;
    let r = b.get(&req.url).await;
    let second = rel.grant(&req, &env.callback(&r)).await.unwrap();
    assert_eq!(second.sub(), first.sub());

    // The admin's ID token, presented while alice is signed in.
    let mut admin = Browser::new();
    let req = rel.auth_request(json!({})).await;
    let r = env
        .visit_signing_in(&mut admin, &req.url, "admin", ADMIN_PASSWORD)
        .await;
    let admins = rel.grant(&req, &env.callback(&r)).await.unwrap();
    let req = rel
        .auth_request(json!({"prompt": "none", "id_token_hint": admins.id_token.unwrap()}))
        .await;
    let r = b.get(&req.url).await;
    refused(rel.grant(&req, &env.callback(&r)).await, "login_required");
}

/// oidcc-codereuse: a code redeemed twice fails the second time, and the tokens the first
/// redemption gave stop working.
async fn code_reuse_after(db: Db, pause: Duration) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let req = rel.auth_request(json!({})).await;
    let cb = env.authorize(&mut Browser::new(), &req).await;
    let t = rel.grant(&req, &cb).await.unwrap();
    rel.userinfo(&t.access_token, "GET", Some(&t.sub()))
        .await
        .unwrap();
    tokio::time::sleep(pause).await;
    refused(rel.grant(&req, &cb).await, "invalid_grant");
    refused(
        rel.userinfo(&t.access_token, "GET", None).await,
        "invalid_token",
    );
    assert_eq!(
        rel.introspect(&t.access_token).await["active"],
        json!(false)
    );
}

async fn oidcc_codereuse(db: Db) {
    code_reuse_after(db, Duration::ZERO).await
}

/// oidcc-codereuse-30seconds.
async fn oidcc_codereuse_30seconds(db: Db) {
    code_reuse_after(db, Duration::from_secs(30)).await
}

/// oidcc-ensure-registered-redirect-uri: an unregistered redirect URI gets an error page
/// for the person, never a redirect.
async fn oidcc_ensure_registered_redirect_uri(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut signed_in = Browser::new();
    signed_in.sign_in(&env.s.base, ALICE, ALICE_PASSWORD).await;
    for uri in [
        "http://127.0.0.1:9/other",
        "http://127.0.0.1:9/cb/",
        "http://127.0.0.1:9/cb?x=1",
        "http://127.0.0.1:9/cb/../evil",
        "http://127.0.0.1:9/CB",
        "http://localhost:9/cb",
        "https://127.0.0.1:9/cb",
    ] {
        let req = rel.auth_request(json!({"redirect_uri": uri})).await;
        for b in [&mut Browser::new(), &mut signed_in] {
            let r = b.get(&req.url).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {r:?}");
            assert!(r.header("location").is_none(), "{uri}: {r:?}");
            assert!(!r.text.contains("code="), "{uri}");
        }
    }
}

/// oidcc-ensure-post-request-succeeds: the authorization request as a form POST, by a
/// signed-in browser and by one that must sign in first.
async fn oidcc_ensure_post_request_succeeds(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let authorize = env.s.url("/oidc/authorize");
    let form = |req: &AuthRequest| -> Vec<(String, String)> {
        url::Url::parse(&req.url)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    };
    // Not signed in: on to the sign-in page, then back.
    let mut b = Browser::new();
    let req = rel.auth_request(json!({})).await;
    let r = b.post_form(&authorize, &form(&req)).await;
    let next = location(&env.s.base, &r).expect("a redirect");
    let r = env
        .visit_signing_in(&mut b, &next, ALICE, ALICE_PASSWORD)
        .await;
    rel.grant(&req, &env.callback(&r)).await.unwrap();
    // Signed in.
    let req = rel.auth_request(json!({})).await;
    let r = b.post_form(&authorize, &form(&req)).await;
    let r = match location(&env.s.base, &r) {
        Some(l) if l.starts_with(&authorize) => b.get(&l).await,
        _ => r,
    };
    rel.grant(&req, &env.callback(&r)).await.unwrap();
}

/// oidcc-server-client-secret-post; a client may not switch to another method.
async fn oidcc_server_client_secret_post(db: Db) {
    let env = OidcEnv::start(db).await;
    let client = env
        .register(json!({"tokenEndpointAuthMethod": "client_secret_post"}))
        .await;
    let rel = env.discover(&client).await;
    env.code_flow(&rel, &mut Browser::new(), json!({})).await;
    let as_basic = Registered {
        auth: "client_secret_basic".into(),
        ..client.clone()
    };
    let rel = env.discover(&as_basic).await;
    let req = rel.auth_request(json!({})).await;
    let cb = env.authorize(&mut Browser::new(), &req).await;
    let e = refused(rel.grant(&req, &cb).await, "invalid_client");
    assert_eq!(e.status, Some(401), "{e:?}");
}

/// oidcc-request-uri-unsigned / oidcc-unsigned-request-object (not supported): refused with
/// the errors OIDC Core 6 names, at the client.
async fn oidcc_request_object_and_uri_refused(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    b.sign_in(&env.s.base, ALICE, ALICE_PASSWORD).await;
    for (param, value, error) in [
        (
            "request",
            "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.",
            "request_not_supported",
        ),
        (
            "request_uri",
            "https://client.example.com/request.jwt",
            "request_uri_not_supported",
        ),
    ] {
        let req = rel.auth_request(json!({ param: value })).await;
        let r = b.get(&req.url).await;
        refused(rel.grant(&req, &env.callback(&r)).await, error);
    }
}

/// oidcc-claims-essential: claims asked for by the `claims` parameter, at user info and in
/// the ID token.
async fn oidcc_claims_essential(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let claims = json!({
        "userinfo": {"name": {"essential": true}},
        "id_token": {"email": {"essential": true}},
    });
    let t = env
        .code_flow(
            &rel,
            &mut Browser::new(),
            json!({"scope": "openid", "claims": claims.to_string()}),
        )
        .await;
    assert_eq!(t.id_claims()["email"], json!(ALICE_EMAIL));
    let info = rel
        .userinfo(&t.access_token, "GET", Some(&t.sub()))
        .await
        .unwrap();
    assert_eq!(info["name"], json!(ALICE_NICKNAME));
    assert!(info.get("email").is_none(), "{info}");
}

/// oidcc-refresh-token: rotation; a rotated token used again fails and ends its family.
async fn oidcc_refresh_token(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    let t = env
        .code_flow(&rel, &mut b, json!({"scope": "openid offline_access"}))
        .await;
    let first = t
        .refresh_token
        .clone()
        .expect("offline_access: a refresh token");
    let r = rel.refresh(&first).await.unwrap();
    let second = r.refresh_token.clone().expect("a rotated refresh token");
    assert_ne!(second, first);
    assert_eq!(r.sub(), t.sub());
    assert!(r.id_claims().get("nonce").is_none());
    rel.userinfo(&r.access_token, "GET", Some(&r.sub()))
        .await
        .unwrap();
    // The old one again: refused, and the family ends.
    refused(rel.refresh(&first).await, "invalid_grant");
    refused(rel.refresh(&second).await, "invalid_grant");
    refused(
        rel.userinfo(&r.access_token, "GET", None).await,
        "invalid_token",
    );
}

/// PKCE (RFC 7636) for a public client: S256 works; no challenge, `plain` or a missing
/// method is refused at the client; a wrong or missing verifier is refused and spends the code.
async fn pkce(db: Db) {
    let env = OidcEnv::start(db).await;
    let client = env
        .register(json!({"tokenEndpointAuthMethod": "none"}))
        .await;
    assert!(client.client_secret.is_none());
    let rel = env.discover(&client).await;
    let mut b = Browser::new();
    // valid-pkce.
    env.code_flow(&rel, &mut b, json!({})).await;
    // Downgrades.
    let plain = rel.auth_request(json!({})).await;
    let verifier = plain.code_verifier.clone().unwrap();
    let downgrades = [
        rel.auth_request_with(json!({"pkce": false})).await,
        AuthRequest {
            url: with_param(
                &with_param(&plain.url, "code_challenge_method", "plain"),
                "code_challenge",
                &verifier,
            ),
            ..plain.clone()
        },
        AuthRequest {
            url: without_param(&plain.url, "code_challenge_method"),
            ..plain.clone()
        },
    ];
    for req in downgrades {
        let r = b.get(&req.url).await;
        refused(rel.grant(&req, &env.callback(&r)).await, "invalid_request");
    }
    // A wrong verifier, then the right one: the code is spent.
    let req = rel.auth_request(json!({})).await;
    let r = b.get(&req.url).await;
    let cb = env.callback(&r);
    let wrong = AuthRequest {
        code_verifier: Some("w".repeat(43)),
        ..req.clone()
    };
    refused(rel.grant(&wrong, &cb).await, "invalid_grant");
    refused(rel.grant(&req, &cb).await, "invalid_grant");
    // No verifier at all.
    let req = rel.auth_request(json!({})).await;
    let r = b.get(&req.url).await;
    let cb = env.callback(&r);
    let none = AuthRequest {
        code_verifier: None,
        ..req.clone()
    };
    refused(rel.grant(&none, &cb).await, "invalid_grant");
}

/// A confidential client that used PKCE must send the verifier; one that did not may not.
async fn pkce_confidential_client(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let mut b = Browser::new();
    b.sign_in(&env.s.base, ALICE, ALICE_PASSWORD).await;
    let req = rel.auth_request(json!({})).await;
    let cb = env.callback(&b.get(&req.url).await);
    let missing = AuthRequest {
        code_verifier: None,
        ..req.clone()
    };
    refused(rel.grant(&missing, &cb).await, "invalid_grant");
    // Without PKCE it works, and a verifier nobody asked for is refused.
    let req = rel.auth_request_with(json!({"pkce": false})).await;
    let cb = env.callback(&b.get(&req.url).await);
    rel.grant(&req, &cb).await.unwrap();
    let req = rel.auth_request_with(json!({"pkce": false})).await;
    let cb = env.callback(&b.get(&req.url).await);
    let extra = AuthRequest {
        code_verifier: Some("v".repeat(43)),
        ..req.clone()
    };
    refused(rel.grant(&extra, &cb).await, "invalid_grant");
}

/// response_mode=form_post: a page whose form posts code, state and iss to the redirect URI
/// (and whose policy lets it).
async fn form_post_response_mode(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let req = rel
        .auth_request(json!({"response_mode": "form_post"}))
        .await;
    let mut b = Browser::new();
    let r = env
        .visit_signing_in(&mut b, &req.url, ALICE, ALICE_PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.header("location").is_none());
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:9"),
        "the page may post to the client: {csp}"
    );
    let cb = env.callback(&r);
    let Callback::FormPost { action, fields } = &cb else {
        unreachable!()
    };
    assert_eq!(action, REDIRECT_URI);
    assert!(field(fields, "code").is_some_and(|c| !c.is_empty()));
    assert_eq!(field(fields, "state"), req.state.as_deref());
    assert_eq!(field(fields, "iss"), Some(env.issuer().as_str()));
    let t = rel.grant(&req, &cb).await.unwrap();
    assert_eq!(t.sub(), env.alice_id.to_string());
    // An error goes back the same way.
    let req = rel
        .auth_request(json!({"response_mode": "form_post", "prompt": "none"}))
        .await;
    let r = Browser::new().get(&req.url).await;
    refused(rel.grant(&req, &env.callback(&r)).await, "login_required");
}

both_databases!(
    oidcc_server,
    oidcc_response_type_missing,
    oidcc_idtoken_signature,
    oidcc_userinfo_get,
    oidcc_userinfo_post_header,
    oidcc_userinfo_post_body,
    oidcc_request_without_nonce,
    oidcc_scope_profile,
    oidcc_scope_email,
    oidcc_scope_phone,
    oidcc_scope_address,
    oidcc_scope_all,
    oidcc_ensure_other_scope_order_succeeds,
    oidcc_display_page,
    oidcc_display_popup,
    oidcc_unknown_parameter,
    oidcc_login_hint,
    oidcc_ui_locales,
    oidcc_claims_locales,
    oidcc_acr_values,
    oidcc_prompt_login,
    oidcc_prompt_none_not_logged_in,
    oidcc_prompt_none_logged_in,
    oidcc_max_age_1,
    oidcc_max_age_10000,
    oidcc_id_token_hint,
    oidcc_codereuse,
    oidcc_codereuse_30seconds,
    oidcc_ensure_registered_redirect_uri,
    oidcc_ensure_post_request_succeeds,
    oidcc_server_client_secret_post,
    oidcc_request_object_and_uri_refused,
    oidcc_claims_essential,
    oidcc_refresh_token,
    pkce,
    pkce_confidential_client,
    form_post_response_mode,
);
