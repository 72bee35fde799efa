//! The token, introspection and revocation endpoints as applications use them (through
//! openid-client): client credentials, what introspection tells whom, revocation, client
//! authentication, caching headers, and simultaneous redemptions.

use crate::both_databases;
use crate::oidc_support::*;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

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

async fn client_credentials(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env
        .relying(json!({"clientCredentials": true, "allowedScopes": ["openid", "profile"]}))
        .await;
    let t = rel
        .client_credentials(json!({"scope": "profile email"}))
        .await
        .unwrap();
    assert!(t.id_token.is_none() && t.refresh_token.is_none(), "{t:?}");
    assert_eq!(t.scope.as_deref(), Some("profile"), "only what it may have");
    let i = rel.introspect(&t.access_token).await;
    assert_eq!(i["active"], json!(true), "{i}");
    assert_eq!(i["client_id"], json!(rel.client.client_id));
    assert_eq!(
        i["sub"],
        json!(rel.client.client_id),
        "the token is about the client"
    );
    // It names no person: user info has nothing to say.
    refused(
        rel.userinfo(&t.access_token, "GET", None).await,
        "invalid_token",
    );
    // Not for a client that was not allowed it.
    let plain = env.relying(json!({})).await;
    refused(
        plain.client_credentials(json!({})).await,
        "unauthorized_client",
    );
}

async fn introspection(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let other = env.relying(json!({"name": "Another application"})).await;
    let t = env
        .code_flow(
            &rel,
            &mut Browser::new(),
            json!({"scope": "openid profile offline_access"}),
        )
        .await;
    let refresh = t.refresh_token.clone().unwrap();
    let i = rel.introspect(&t.access_token).await;
    assert_eq!(i["active"], json!(true), "{i}");
    assert_eq!(i["sub"], json!(env.alice_id.to_string()));
    assert_eq!(i["client_id"], json!(rel.client.client_id));
    assert_eq!(i["iss"], json!(env.issuer()));
    assert_eq!(i["username"], json!(ALICE));
    assert!(i["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .any(|s| s == "profile"));
    assert!(i["exp"].as_i64().unwrap() > i["iat"].as_i64().unwrap());
    let i = rel.introspect(&refresh).await;
    assert_eq!(i["active"], json!(true), "{i}");
    assert_eq!(i["token_type"], json!("refresh_token"));
    // Another client learns nothing about them.
    for token in [&t.access_token, &refresh] {
        assert_eq!(other.introspect(token).await, json!({"active": false}));
    }
    // Nor about nonsense.
    assert_eq!(rel.introspect("not-a-token").await["active"], json!(false));
    // Revoked: inactive, and refused at user info.
    rel.revoke(&t.access_token).await.unwrap();
    assert_eq!(
        rel.introspect(&t.access_token).await["active"],
        json!(false)
    );
    refused(
        rel.userinfo(&t.access_token, "GET", None).await,
        "invalid_token",
    );
    // Another client's revocation changes nothing.
    let t2 = rel.refresh(&refresh).await.unwrap();
    other.revoke(&t2.access_token).await.unwrap();
    assert_eq!(
        rel.introspect(&t2.access_token).await["active"],
        json!(true)
    );
}

/// Revoking a refresh token ends its family: the token, its successors' use, and the access
/// tokens issued from the grant.
async fn revoking_a_refresh_token_ends_its_family(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let t = env
        .code_flow(
            &rel,
            &mut Browser::new(),
            json!({"scope": "openid offline_access"}),
        )
        .await;
    let t2 = rel
        .refresh(t.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    let latest = t2.refresh_token.clone().unwrap();
    rel.revoke(&latest).await.unwrap();
    refused(rel.refresh(&latest).await, "invalid_grant");
    for access in [&t.access_token, &t2.access_token] {
        assert_eq!(rel.introspect(access).await["active"], json!(false));
        refused(rel.userinfo(access, "GET", None).await, "invalid_token");
    }
    assert_eq!(rel.introspect(&latest).await["active"], json!(false));
}

async fn a_wrong_client_secret_is_invalid_client(db: Db) {
    let env = OidcEnv::start(db).await;
    for auth in ["client_secret_basic", "client_secret_post"] {
        let client = env.register(json!({"tokenEndpointAuthMethod": auth})).await;
        let wrong = env
            .discover_with(&client, Some("wrong-secret-0123456789"), json!({}))
            .await
            .unwrap();
        let req = wrong.auth_request(json!({})).await;
        let cb = env.authorize(&mut Browser::new(), &req).await;
        let e = refused(wrong.grant(&req, &cb).await, "invalid_client");
        assert_eq!(e.status, Some(401), "{auth}: {e:?}");
        // The right secret still redeems that code: a failed authentication spent nothing.
        let right = env.discover(&client).await;
        right.grant(&req, &cb).await.unwrap();
        // Introspection and revocation check the secret as well.
        let e = wrong
            .op("tokenIntrospection", json!({"token": "x"}))
            .await
            .unwrap_err();
        assert_eq!(
            (e.error(), e.status),
            ("invalid_client", Some(401)),
            "{e:?}"
        );
        let e = wrong.revoke("x").await.unwrap_err();
        assert_eq!(
            (e.error(), e.status),
            ("invalid_client", Some(401)),
            "{e:?}"
        );
    }
}

/// RFC 6749 5.1: token answers (and their errors) are never cached.
async fn token_answers_are_not_cached(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let client = &rel.client;
    let req = rel
        .auth_request(json!({"scope": "openid offline_access"}))
        .await;
    let cb = env.authorize(&mut Browser::new(), &req).await;
    let code = query_param(callback_url(&cb), "code").unwrap();
    let token = |form: Vec<(&'static str, String)>| {
        env.s
            .http
            .post(env.s.url("/oidc/token"))
            .basic_auth(&client.client_id, client.client_secret.as_deref())
            .form(&form)
            .send()
    };
    let no_store = |r: &Reply, what: &str| {
        assert_eq!(r.header("cache-control"), Some("no-store"), "{what}: {r:?}");
        assert_eq!(r.header("pragma"), Some("no-cache"), "{what}: {r:?}");
    };
    let form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code),
        ("redirect_uri", REDIRECT_URI.to_string()),
        ("code_verifier", req.code_verifier.clone().unwrap()),
    ];
    let r = Reply::from(token(form.clone()).await.unwrap()).await;
    r.assert_ok();
    no_store(&r, "the code's tokens");
    let refreshed = Reply::from(
        token(vec![
            ("grant_type", "refresh_token".into()),
            (
                "refresh_token",
                r.body["refresh_token"].as_str().unwrap().into(),
            ),
        ])
        .await
        .unwrap(),
    )
    .await;
    refreshed.assert_ok();
    no_store(&refreshed, "a refresh");
    let access_token = refreshed.body["access_token"].as_str().unwrap().to_string();
    let r = Reply::from(
        env.s
            .http
            .get(env.s.url("/oidc/userinfo"))
            .bearer_auth(&access_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_ok();
    no_store(&r, "user info");
    let again = Reply::from(token(form).await.unwrap()).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.body["error"], json!("invalid_grant"));
    no_store(&again, "an error");
}

fn outcomes(results: &[Result<Value, RpError>]) -> (usize, Vec<String>) {
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let errors = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| format!("{} {:?}", e.error(), e.status))
        .collect();
    (ok, errors)
}

/// Eight redemptions of one code at once: exactly one gets tokens.
async fn concurrent_code_redemptions(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let req = rel
        .auth_request(json!({"scope": "openid offline_access"}))
        .await;
    let cb = env.authorize(&mut Browser::new(), &req).await;
    let results = env
        .rp
        .parallel(
            (0..8)
                .map(|_| rel.grant_request(&req, &cb, json!({})))
                .collect(),
        )
        .await;
    let (ok, errors) = outcomes(&results);
    assert_eq!(ok, 1, "exactly one redemption succeeds: {errors:?}");
    assert!(
        errors.iter().all(|e| e.starts_with("invalid_grant")),
        "{errors:?}"
    );
}

/// Eight refreshes with one refresh token at once: exactly one gets tokens.
async fn concurrent_refreshes(db: Db) {
    let env = OidcEnv::start(db).await;
    let rel = env.relying(json!({})).await;
    let t = env
        .code_flow(
            &rel,
            &mut Browser::new(),
            json!({"scope": "openid offline_access"}),
        )
        .await;
    let refresh = t.refresh_token.unwrap();
    let results = env
        .rp
        .parallel(
            (0..8)
                .map(|_| rel.request("refreshTokenGrant", json!({"refreshToken": refresh})))
                .collect(),
        )
        .await;
    let (ok, errors) = outcomes(&results);
    assert_eq!(ok, 1, "exactly one refresh succeeds: {errors:?}");
    assert!(
        errors.iter().all(|e| e.starts_with("invalid_grant")),
        "{errors:?}"
    );
}

both_databases!(
    client_credentials,
    introspection,
    revoking_a_refresh_token_ends_its_family,
    a_wrong_client_secret_is_invalid_client,
    token_answers_are_not_cached,
    concurrent_code_redemptions,
    concurrent_refreshes,
);
