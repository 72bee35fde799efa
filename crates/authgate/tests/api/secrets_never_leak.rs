//! A tour of everything that handles a secret (passwords set, changed, reset and guessed; a
//! DingTalk client secret saved, rotated, wrong and tested; DingTalk codes and access tokens;
//! authgate's own tokens and secret key), with debug logging on. Afterwards none of those
//! secrets appears in the logs, the audit log, any API response or any URL authgate produced;
//! an authgate token appears only in the answer that issued it. The same for the OpenID Connect
//! provider: client secrets, codes, PKCE verifiers, refresh, access and ID tokens.

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use fake_dingtalk::{Endpoint, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use reqwest::Method;
use serde_json::{json, Value};

const SECRET_KEY: &str = "c2VjcmV0cy1uZXZlci1sZWFrLWtleS0wMTIzNDU2Nzg=";
const USER_PASSWORD: &str = "Leaky-Pass-1!x9q";
const CHANGED_PASSWORD: &str = "Leaky-Pass-2!y8r";
const RESET_PASSWORD: &str = "Leaky-Pass-3!z7s";
const GUESSED_PASSWORD: &str = "Wr0ng-Guess-Pass!";
const UNKNOWN_ACCOUNT_PASSWORD: &str = "Gh0st-Pass-Guess!";
const WRONG_CLIENT_SECRET: &str = "Wrong-Client-Secret-987654321";
const TESTED_CLIENT_SECRET: &str = "Tested-Client-Secret-55555";

/// Every answer authgate gave and every URL it produced.
#[derive(Default)]
struct Seen {
    /// (what, the whole answer: status, headers and body)
    answers: Vec<(String, String)>,
    urls: Vec<String>,
}

impl Seen {
    fn keep(&mut self, what: &str, r: &Reply) {
        let mut text = format!("{}\n", r.status);
        for (k, v) in &r.headers {
            text.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("<binary>")));
        }
        text.push_str(&r.text);
        if let Some(l) = r.header("location") {
            self.urls.push(l.to_string());
        }
        if let Some(u) = r.body["data"]["url"].as_str() {
            self.urls.push(u.to_string());
        }
        self.answers.push((what.to_string(), text));
    }

    async fn call(
        &mut self,
        s: &Server,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let r = s.request(method, path, token, body).await;
        self.keep(path, &r);
        r
    }

    async fn sign_in(&mut self, s: &Server, authenticator: &str, account: &str, pw: &str) -> Reply {
        let r = s.sign_in_reply(authenticator, account, pw).await;
        self.keep("auth:signIn", &r);
        r
    }
}

async fn audit_log_text(s: &Server) -> String {
    let row = "event || '|' || result || '|' || COALESCE(reason, '') || '|' || \
               COALESCE(user_agent, '') || '|' || detail";
    let q = match s.db {
        Db::Sqlite => format!("SELECT group_concat({row}, char(10)) FROM audit_log"),
        Db::Postgres => format!("SELECT string_agg({row}, chr(10)) FROM audit_log"),
    };
    s.sql_text(&q).await.unwrap_or_default()
}

async fn secrets_never_reach_logs_audit_answers_or_urls(db: Db) {
    let opts = ServerOptions {
        secret_key: Some(SECRET_KEY.into()),
        ..Default::default()
    }
    .env("RUST_LOG", "debug");
    let env = DingEnv::start_with(
        db,
        json!({"autoLoginInClient": true, "corpId": "dingcorp001"}),
        opts,
    )
    .await;
    let s = &env.s;
    let mut seen = Seen::default();
    let mut tokens: Vec<String> = vec![env.admin.clone()];
    let admin = env.admin.clone();

    // Passwords: set, used, guessed, changed, reset by an admin.
    let created = seen
        .call(
            s,
            Method::POST,
            "/api/users:create",
            Some(&admin),
            Some(json!({"username": "leaky", "password": USER_PASSWORD})),
        )
        .await;
    created.assert_ok();
    let uid = created.body["data"]["id"].as_i64().unwrap();
    let r = seen.sign_in(s, "basic", "leaky", USER_PASSWORD).await;
    let user_token = r.body["data"]["token"].as_str().unwrap().to_string();
    tokens.push(user_token.clone());
    seen.sign_in(s, "basic", "leaky", GUESSED_PASSWORD).await;
    seen.sign_in(s, "basic", "ghost", UNKNOWN_ACCOUNT_PASSWORD)
        .await;
    seen.call(
        s,
        Method::POST,
        "/api/auth:changePassword",
        Some(&user_token),
        Some(json!({"oldPassword": USER_PASSWORD, "newPassword": CHANGED_PASSWORD})),
    )
    .await
    .assert_ok();
    seen.call(
        s,
        Method::POST,
        &format!("/api/users:update?filterByTk={uid}"),
        Some(&admin),
        Some(json!({"password": RESET_PASSWORD})),
    )
    .await
    .assert_ok();
    let r = seen.sign_in(s, "basic", "leaky", RESET_PASSWORD).await;
    tokens.push(r.body["data"]["token"].as_str().unwrap().to_string());

    // The DingTalk client secret: listed, read, tested, made wrong, rotated back.
    let id = env.authenticator_id(AUTHENTICATOR).await;
    for path in [
        "/api/authenticators:list".to_string(),
        format!("/api/authenticators:get?filterByTk={id}"),
        "/api/authenticators:publicList".to_string(),
        "/api/authenticators:listTypes".to_string(),
    ] {
        seen.call(s, Method::GET, &path, Some(&admin), None)
            .await
            .assert_ok();
    }
    for body in [
        json!({"authenticator": AUTHENTICATOR}),
        json!({"clientId": DEFAULT_CLIENT_ID, "clientSecret": TESTED_CLIENT_SECRET}),
    ] {
        seen.call(
            s,
            Method::POST,
            "/api/dingtalk:testConnection",
            Some(&admin),
            Some(body),
        )
        .await
        .assert_ok();
    }
    let update = format!("/api/authenticators:update?filterByTk={id}");
    seen.call(
        s,
        Method::POST,
        &update,
        Some(&admin),
        Some(json!({"options": {"clientSecret": WRONG_CLIENT_SECRET}})),
    )
    .await
    .assert_ok();
    let mut codes = Vec::new();
    let mut b = Browser::new();
    let wrong = dingtalk_round_trip(&mut b, &env, "alice", &mut seen, &mut codes).await;
    assert!(wrong.contains("error="), "a wrong secret fails: {wrong}");
    seen.call(
        s,
        Method::POST,
        &update,
        Some(&admin),
        Some(json!({"options": {"clientSecret": DEFAULT_CLIENT_SECRET}})),
    )
    .await
    .assert_ok();

    // DingTalk sign-ins: on the web and inside the DingTalk client.
    let mut b = Browser::new();
    let done = dingtalk_round_trip(&mut b, &env, "zhangsan", &mut seen, &mut codes).await;
    assert_eq!(done, "/");
    tokens.push(b.token().unwrap());
    let me = b.whoami(s).await;
    seen.keep("auth:check (cookie)", &me);
    me.assert_ok();
    let code = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, "alice")
        .unwrap();
    codes.push(code.clone());
    let r = s
        .http
        .post(s.url("/api/dingtalk:signInInClient"))
        .header("x-authenticator", AUTHENTICATOR)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    let r = Reply::from(r).await;
    seen.keep("dingtalk:signInInClient", &r);
    r.assert_ok();
    tokens.push(r.body["data"]["token"].as_str().unwrap().to_string());

    // Everything an admin or a user can read.
    for path in [
        "/api/auth:check",
        "/api/auth:sessions",
        "/api/sessions:list",
        "/api/auditLogs:list?pageSize=200",
        "/api/users:list",
        &format!("/api/users:get?filterByTk={uid}"),
        "/api/tokenPolicies:get",
        "/api/openapi.json",
        "/.well-known/jwks.json",
        "/metrics",
        "/admin",
        "/",
    ] {
        seen.call(s, Method::GET, path, Some(&admin), None).await;
    }
    seen.call(
        s,
        Method::POST,
        "/api/auth:signOut",
        Some(&user_token),
        Some(json!({})),
    )
    .await;

    // An application signing people in through the OpenID Connect provider.
    let (oidc_secrets, oidc_tokens) = oidc_tour(s, &admin, &mut seen).await;

    // What DingTalk handed to authgate: access tokens and codes are secrets too.
    let mut dingtalk_secrets = codes;
    for r in env.fake.requests() {
        if let Some(t) = r.headers.get("x-acs-dingtalk-access-token") {
            dingtalk_secrets.push(t.clone());
        }
        for (k, v) in r.query_pairs() {
            if k == "access_token" {
                dingtalk_secrets.push(v);
            }
        }
    }
    assert!(
        !env.fake.requests_to(Endpoint::UsersMe).is_empty() && dingtalk_secrets.len() >= 5,
        "the tour reached DingTalk: {dingtalk_secrets:?}"
    );

    let logs = s.output();
    assert!(logs.contains("DEBUG"), "debug logging was on");
    let audit = audit_log_text(s).await;
    assert!(audit.contains("auth.signIn"));
    for event in ["oidc.grant", "oidc.token", "oidc.revoke", "oidc.logout"] {
        assert!(
            audit.contains(event),
            "the OIDC tour is in the audit log: {event}"
        );
    }
    assert!(logs.contains("/oidc/token"), "the OIDC tour is in the logs");
    let mut secrets: Vec<(&str, String)> = vec![
        ("the admin password", ADMIN_PASSWORD.into()),
        ("a user password", USER_PASSWORD.into()),
        ("a changed password", CHANGED_PASSWORD.into()),
        ("a reset password", RESET_PASSWORD.into()),
        ("a guessed password", GUESSED_PASSWORD.into()),
        (
            "an unknown account's password",
            UNKNOWN_ACCOUNT_PASSWORD.into(),
        ),
        ("the client secret", DEFAULT_CLIENT_SECRET.into()),
        ("a wrong client secret", WRONG_CLIENT_SECRET.into()),
        ("a tested client secret", TESTED_CLIENT_SECRET.into()),
        ("the secret key", SECRET_KEY.into()),
    ];
    secrets.extend(
        dingtalk_secrets
            .into_iter()
            .map(|v| ("a DingTalk code or token", v)),
    );
    secrets.extend(oidc_secrets);
    for (what, secret) in &secrets {
        assert!(!logs.contains(secret.as_str()), "{what} is in the logs");
        assert!(
            !audit.contains(secret.as_str()),
            "{what} is in the audit log"
        );
        for (answer, text) in &seen.answers {
            assert!(
                !text.contains(secret.as_str()),
                "{what} is in the answer to {answer}"
            );
        }
        for url in &seen.urls {
            assert!(!url.contains(secret.as_str()), "{what} is in the URL {url}");
        }
    }
    for token in &oidc_tokens {
        // Handed to the application, never written down.
        let signature = token.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature), "an OIDC token is in the logs");
        assert!(
            !audit.contains(signature),
            "an OIDC token is in the audit log"
        );
        for (answer, text) in &seen.answers {
            assert!(
                !text.contains(signature),
                "an OIDC token is in the answer to {answer}"
            );
        }
    }
    for token in &tokens {
        // The signature is what makes a token usable: look for it alone too.
        let signature = token.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature), "a token is in the logs");
        assert!(!audit.contains(signature), "a token is in the audit log");
        assert!(
            seen.urls.iter().all(|u| !u.contains(signature)),
            "a token is in a URL"
        );
        let issued_in = seen
            .answers
            .iter()
            .filter(|(_, text)| text.contains(signature))
            .map(|(what, _)| what.as_str())
            .collect::<Vec<_>>();
        assert!(
            issued_in.len() <= 1,
            "a token appears in several answers: {issued_in:?}"
        );
        // The check sees tokens where they belong (the admin's was issued before the tour).
        if *token != admin {
            assert_eq!(
                issued_in.len(),
                1,
                "the answer that issued a token was seen"
            );
        }
    }
}

/// A relying party (openid-client) through everything the provider does with a secret: a
/// client registered and its secret rotated, a wrong secret tried, codes redeemed and
/// replayed, tokens refreshed (and a rotated one replayed), user info by header and by form
/// body, introspection, revocation, client credentials, and a logout whose URL carries the ID
/// token. Answers its secrets (codes, verifiers, refresh tokens, client secrets) and its JWTs
/// (access and ID tokens). The answers that show a client secret (create, rotate) are the one
/// place it may be, so they are not kept in `seen`.
async fn oidc_tour(
    s: &Server,
    admin: &str,
    seen: &mut Seen,
) -> (Vec<(&'static str, String)>, Vec<String>) {
    use crate::oidc_support::{Browser as OidcBrowser, Oidc, Registered, POST_LOGOUT_URI};
    let oidc = Oidc::new(s, admin.to_string()).await;
    let mut secrets: Vec<(&'static str, String)> = Vec::new();
    let mut jwts = Vec::new();
    let client = oidc
        .register(json!({"name": "Leaky app", "clientCredentials": true}))
        .await;
    let secret = client.client_secret.clone().unwrap();
    secrets.push(("an OIDC client secret", secret.clone()));
    for path in [
        "/api/oidcClients:list".to_string(),
        format!("/api/oidcClients:get?filterByTk={}", client.client_id),
    ] {
        seen.call(s, Method::GET, &path, Some(admin), None)
            .await
            .assert_ok();
    }
    let rel = oidc.discover(&client).await;
    let mut b = OidcBrowser::new();
    let req = rel
        .auth_request(json!({"scope": "openid profile email offline_access"}))
        .await;
    secrets.push(("a PKCE verifier", req.code_verifier.clone().unwrap()));
    let cb = oidc
        .authorize_as(&mut b, &req, "admin", ADMIN_PASSWORD)
        .await;
    let url = crate::oidc_support::callback_url(&cb);
    secrets.push(("an authorization code", query_param(url, "code").unwrap()));
    let t = rel.grant(&req, &cb).await.unwrap();
    assert!(rel.grant(&req, &cb).await.is_err(), "a replayed code fails");
    // The replay ended that grant: another sign-in for the rest.
    let req = rel
        .auth_request(json!({"scope": "openid profile email offline_access"}))
        .await;
    let cb = oidc
        .authorize_as(&mut b, &req, "admin", ADMIN_PASSWORD)
        .await;
    let url = crate::oidc_support::callback_url(&cb);
    secrets.push(("an authorization code", query_param(url, "code").unwrap()));
    secrets.push(("a PKCE verifier", req.code_verifier.clone().unwrap()));
    let t2 = rel.grant(&req, &cb).await.unwrap();
    for method in ["GET", "POST-header", "POST-body"] {
        rel.userinfo(&t2.access_token, method, Some(&t2.sub()))
            .await
            .unwrap();
    }
    let first = t2.refresh_token.clone().unwrap();
    let t3 = rel.refresh(&first).await.unwrap();
    let second = t3.refresh_token.clone().unwrap();
    assert_eq!(rel.introspect(&second).await["active"], json!(true));
    assert_eq!(
        rel.introspect(&t3.access_token).await["active"],
        json!(true)
    );
    assert!(
        rel.refresh(&first).await.is_err(),
        "a replayed refresh token fails"
    );
    rel.revoke(&t3.access_token).await.unwrap();
    rel.revoke(&second).await.unwrap();
    let wrong_secret = "Wrong-OIDC-Client-Secret-4242".to_string();
    let wrong = oidc
        .discover_with(&client, Some(&wrong_secret), json!({}))
        .await
        .unwrap();
    assert!(wrong.client_credentials(json!({})).await.is_err());
    secrets.push(("a wrong OIDC client secret", wrong_secret));
    let cc = rel.client_credentials(json!({})).await.unwrap();
    let rotated = s
        .post(
            &format!(
                "/api/oidcClients:rotateSecret?filterByTk={}",
                client.client_id
            ),
            Some(admin),
            json!({}),
        )
        .await;
    rotated.assert_ok();
    let new_secret = rotated.body["data"]["clientSecret"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(("a rotated OIDC client secret", new_secret.clone()));
    let renewed = oidc
        .discover(&Registered {
            client_secret: Some(new_secret),
            ..client.clone()
        })
        .await;
    let cc2 = renewed.client_credentials(json!({})).await.unwrap();
    // RP-initiated logout: the ID token travels in the URL.
    let logout = renewed
        .end_session_url(json!({
            "id_token_hint": t2.id_token.clone().unwrap(),
            "post_logout_redirect_uri": POST_LOGOUT_URI,
        }))
        .await;
    let r = b.get(&logout).await;
    assert_eq!(r.header("location"), Some(POST_LOGOUT_URI), "{r:?}");
    secrets.extend(
        [&t, &t2, &t3]
            .iter()
            .filter_map(|t| t.refresh_token.clone())
            .map(|r| ("an OIDC refresh token", r)),
    );
    for tokens in [&t, &t2, &t3, &cc, &cc2] {
        jwts.push(tokens.access_token.clone());
        jwts.extend(tokens.id_token.clone());
    }
    (secrets, jwts)
}

/// getAuthUrl -> DingTalk -> callback, keeping authgate's answers and DingTalk's code.
async fn dingtalk_round_trip(
    b: &mut Browser,
    env: &DingEnv,
    userid: &str,
    seen: &mut Seen,
    codes: &mut Vec<String>,
) -> String {
    let r = b
        .authgate(
            Method::POST,
            &env.s.url("/api/dingtalk:getAuthUrl"),
            &[("x-authenticator", AUTHENTICATOR)],
            Some(json!({})),
        )
        .await;
    seen.keep("dingtalk:getAuthUrl", &r);
    let url = r.body["data"]["url"].as_str().unwrap().to_string();
    let back = b.authorize(&url, &format!("&login_as={userid}")).await;
    codes.push(query_param(&back, "authCode").unwrap());
    let r = b.authgate(Method::GET, &back, &[], None).await;
    seen.keep("dingtalk:redirect", &r);
    r.header("location").unwrap().to_string()
}

both_databases!(secrets_never_reach_logs_audit_answers_or_urls);
