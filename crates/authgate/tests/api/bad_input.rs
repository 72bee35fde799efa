use crate::both_databases;
use crate::support::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn raw(
    s: &Server,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let mut req = s
        .http
        .post(s.url(path))
        .header("X-Authenticator", "basic")
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Reply::from(req.send().await.unwrap()).await
}

async fn malformed_requests_get_clear_4xx_and_change_nothing(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let users_before = s.sql_count("SELECT COUNT(*) FROM users").await;
    let json_ct = Some("application/json");
    let cases: Vec<(&str, Option<&str>, Vec<u8>, StatusCode)> = vec![
        (
            "/api/auth:signIn",
            json_ct,
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/auth:signIn",
            json_ct,
            vec![0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/auth:signIn",
            json_ct,
            br#"{"account": 5, "password": []}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/auth:signIn",
            Some("text/plain"),
            br#"{"account":"admin"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "/api/auth:signIn",
            None,
            br#"{"account":"admin"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "/api/auth:signIn",
            json_ct,
            vec![b' '; 70 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "/api/users:create",
            json_ct,
            br#"{"username": "x", "isAdmin": "yes"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/users:create",
            json_ct,
            br#"{"username": "x", "shoeSize": 44}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/users:create",
            json_ct,
            br#"{"username": "x", "phone": "call me"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/users:create",
            json_ct,
            br#"{"email": "not-an-email"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/users:create",
            json_ct,
            br#"[1,2,3]"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/users:update?filterByTk=abc",
            json_ct,
            br#"{}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/users:update",
            json_ct,
            br#"{}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/authenticators:create",
            json_ct,
            br#"{"name": "x y", "authType": "password"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/authenticators:create",
            json_ct,
            br#"{"name": "ok", "authType": "carrier-pigeon"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/tokenPolicies:update",
            json_ct,
            br#"{"config": {"tokenExpirationTime": "forever"}}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, ct, body, expected) in cases {
        let r = raw(&s, path, Some(&admin), ct, body).await;
        assert_eq!(r.status, expected, "{path}: {}", r.text);
        assert!(
            !r.message().is_empty(),
            "{path} explains itself: {}",
            r.text
        );
    }
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM users").await,
        users_before
    );
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM authenticators").await, 1);
    let unknown = s.get("/api/nothing:here", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.message().contains("openapi"));
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("account".to_string()),
                    Just("password".to_string()),
                    Just("username".to_string()),
                    Just("email".to_string()),
                    Just("phone".to_string()),
                    Just("isAdmin".to_string()),
                    Just("nickname".to_string()),
                    "[a-z]{1,8}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Arbitrary JSON bodies to the write endpoints: never a 5xx.
async fn random_bodies_never_cause_server_errors(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let target = s.create_user(&admin, json!({"username": "target"})).await;
    let update = format!("/api/users:update?filterByTk={target}");
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 120,
        failure_persistence: None,
        ..Config::default()
    });
    let paths = [
        "/api/auth:signIn",
        "/api/auth:signUp",
        "/api/users:create",
        &update,
        "/api/authenticators:create",
        "/api/tokenPolicies:update",
        "/api/auth:changePassword",
    ];
    tokio::task::block_in_place(|| {
        runner
            .run(&(json_value(), 0..paths.len()), |(body, i)| {
                let r = handle.block_on(raw(
                    &s,
                    paths[i],
                    Some(&admin),
                    Some("application/json"),
                    serde_json::to_vec(&body).unwrap(),
                ));
                prop_assert!(
                    r.status.as_u16() < 500,
                    "{} {}: {} for {}",
                    paths[i],
                    r.status,
                    r.text,
                    body
                );
                if !r.status.is_success() {
                    prop_assert!(r.body["errors"][0]["message"].is_string(), "{}", r.text);
                }
                Ok(())
            })
            .unwrap();
    });
    // The admin's session survived: nothing random replaced or revoked it.
    assert_eq!(
        s.get("/api/auth:check", Some(&admin)).await.status,
        StatusCode::OK
    );
}

both_databases!(
    malformed_requests_get_clear_4xx_and_change_nothing,
    random_bodies_never_cause_server_errors
);
