use crate::both_databases;
use crate::support::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let h = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
    let c = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
    (h, c, it.next().unwrap().to_string())
}

fn enc(v: &Value) -> String {
    B64.encode(serde_json::to_vec(v).unwrap())
}

async fn assert_refused(s: &Server, token: &str, what: &str) {
    let r = s.get("/api/auth:check", Some(token)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text);
    assert_eq!(r.code(), "INVALID_TOKEN", "{what}");
}

async fn forged_tokens_are_refused(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let uid = s
        .create_user(
            &admin,
            json!({"username": "eve", "password": "eve-password"}),
        )
        .await;
    let real = s.sign_in("eve", "eve-password").await;
    let (header, claims, signature) = parts(&real);
    let kid = header["kid"].as_str().unwrap().to_string();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(claims["userId"], uid);
    assert_eq!(claims["temp"], true);
    assert!(claims["signInTime"].as_i64().unwrap() > 1_700_000_000_000);

    // alg: none
    let none = format!(
        "{}.{}.",
        enc(&json!({"alg": "none", "typ": "JWT", "kid": kid})),
        enc(&claims)
    );
    assert_refused(&s, &none, "alg none").await;

    // HS256 keyed with the published public key
    let jwks = s.get("/.well-known/jwks.json", None).await;
    let x = B64
        .decode(jwks.body["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(kid.clone());
    let hs = jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(&x)).unwrap();
    assert_refused(&s, &hs, "HS256 with the public key").await;

    // Another Ed25519 key under our kid
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[7u8; 32]);
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some(kid.clone());
    let wrong_key = jsonwebtoken::encode(&h, &claims, &EncodingKey::from_ed_der(&der)).unwrap();
    assert_refused(&s, &wrong_key, "wrong key").await;

    // Edited claims under the original signature: become the admin, or live forever
    let mut admin_claims = claims.clone();
    admin_claims["userId"] = json!(1);
    assert_refused(
        &s,
        &format!("{}.{}.{}", enc(&header), enc(&admin_claims), signature),
        "edited userId",
    )
    .await;
    let mut longer = claims.clone();
    longer["exp"] = json!(claims["exp"].as_i64().unwrap() + 86_400 * 365);
    assert_refused(
        &s,
        &format!("{}.{}.{}", enc(&header), enc(&longer), signature),
        "edited exp",
    )
    .await;

    // A token signed by another authgate server
    let other = Server::start(db).await;
    let foreign = other.admin_token().await;
    assert_refused(&s, &foreign, "another server's token").await;

    // Garbage
    for junk in ["abc", "a.b.c", "..", &"x".repeat(5000)] {
        assert_refused(&s, junk, junk).await;
    }
    // The real token still works after all that.
    assert_eq!(
        s.get("/api/auth:check", Some(&real)).await.status,
        StatusCode::OK
    );
}

/// Random bearer values never produce a 5xx and never authenticate.
async fn random_tokens_are_clear_401s(db: Db) {
    let s = Server::start(db).await;
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 150,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = prop_oneof![
        "[ -~]{0,300}",
        "[A-Za-z0-9_-]{1,60}\\.[A-Za-z0-9_-]{1,200}\\.[A-Za-z0-9_-]{0,90}",
    ];
    tokio::task::block_in_place(|| {
        runner
            .run(&strategy, |token| {
                let r = handle.block_on(s.get("/api/auth:check", Some(token.trim())));
                prop_assert!(
                    r.status == StatusCode::UNAUTHORIZED,
                    "{} for {:?}: {}",
                    r.status,
                    token,
                    r.text
                );
                Ok(())
            })
            .unwrap();
    });
}

both_databases!(forged_tokens_are_refused, random_tokens_are_clear_401s);
