use crate::both_databases;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

async fn token_policy_defaults_and_validation(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let got = s.get("/api/tokenPolicies:get", Some(&admin)).await;
    assert_eq!(
        got.body["data"]["config"],
        json!({"tokenExpirationTime": "1d", "sessionExpirationTime": "1w", "expiredTokenRenewLimit": "1d"})
    );
    let bad = s
        .post("/api/tokenPolicies:update", Some(&admin), json!({"config": {"tokenExpirationTime": "8d", "sessionExpirationTime": "7d", "expiredTokenRenewLimit": "1d"}}))
        .await;
    assert_eq!(
        (bad.status, bad.message()),
        (
            StatusCode::BAD_REQUEST,
            "The token lifetime must be shorter than the session lifetime"
        )
    );
    let zero = s
        .post("/api/tokenPolicies:update", Some(&admin), json!({"config": {"tokenExpirationTime": "0s", "sessionExpirationTime": "7d", "expiredTokenRenewLimit": "1d"}}))
        .await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);
    let ok = s
        .post("/api/tokenPolicies:update", Some(&admin), json!({"config": {"tokenExpirationTime": "30m", "sessionExpirationTime": "12h", "expiredTokenRenewLimit": "1h"}}))
        .await;
    ok.assert_ok();
    assert_eq!(
        s.get("/api/tokenPolicies:get", Some(&admin)).await.body["data"]["config"]
            ["tokenExpirationTime"],
        "30m"
    );
    // New tokens follow the new policy: exp - iat = 30 minutes.
    let token = s.sign_in("admin", ADMIN_PASSWORD).await;
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        1800
    );
}

/// Found by the attack campaign: "106751991167d" wrapped every expiry into the past and
/// signed everyone out for good; a session shorter than the admin's own age did the same.
async fn a_token_policy_cannot_lock_everyone_out(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let policy = |token: &str, session: &str, renew: &str| json!({"config": {"tokenExpirationTime": token, "sessionExpirationTime": session, "expiredTokenRenewLimit": renew}});
    for (body, message) in [
        (
            policy("1d", "106751991167d", "1d"),
            "sessionExpirationTime must be at most 366 days",
        ),
        (
            policy("1d", "7d", "999999d"),
            "expiredTokenRenewLimit must be at most 366 days",
        ),
        (
            policy("367d", "400d", "1d"),
            "tokenExpirationTime must be at most 366 days",
        ),
    ] {
        let r = s
            .post("/api/tokenPolicies:update", Some(&admin), body.clone())
            .await;
        assert_eq!(
            (r.status, r.message()),
            (StatusCode::BAD_REQUEST, message),
            "{body}"
        );
    }
    // A session shorter than the admin's own has lasted would end it (and likely every
    // admin's) at once.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = s
        .post(
            "/api/tokenPolicies:update",
            Some(&admin),
            policy("500ms", "1s", "1s"),
        )
        .await;
    assert_eq!(
        (r.status, r.message()),
        (
            StatusCode::BAD_REQUEST,
            "This session lifetime would end your own session at once: choose a longer sessionExpirationTime"
        )
    );
    // Nothing changed: the default policy, and the admin is still signed in.
    assert_eq!(
        s.get("/api/tokenPolicies:get", Some(&admin)).await.body["data"]["config"]
            ["sessionExpirationTime"],
        "1w"
    );
    s.get("/api/auth:check", Some(&admin)).await.assert_ok();
    // The longest allowed policy works, and the cookie's Max-Age stays within it.
    s.post(
        "/api/tokenPolicies:update",
        Some(&admin),
        policy("1d", "366d", "366d"),
    )
    .await
    .assert_ok();
    let r = s.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
    r.assert_ok();
    let cookie = r.header("set-cookie").unwrap_or_default().to_string();
    let max_age: i64 = cookie
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("Max-Age in {cookie}"));
    assert!(max_age <= 366 * 86_400, "{cookie}");
    s.get(
        "/api/auth:check",
        Some(r.body["data"]["token"].as_str().unwrap()),
    )
    .await
    .assert_ok();
}

async fn audit_log_records_and_filters(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let uid = s
        .create_user(
            &admin,
            json!({"username": "gus", "password": "gus-password"}),
        )
        .await;
    s.sign_in_reply("basic", "gus", "wrong-password").await;
    let t = s.sign_in("gus", "gus-password").await;
    s.post("/api/auth:signOut", Some(&t), json!({}))
        .await
        .assert_ok();

    let all = s
        .get("/api/auditLogs:list?pageSize=100", Some(&admin))
        .await;
    let entries = all.body["data"].as_array().unwrap();
    let events: Vec<_> = entries
        .iter()
        .map(|e| (e["event"].as_str().unwrap(), e["result"].as_str().unwrap()))
        .collect();
    for expected in [
        ("auth.signIn", "success"),
        ("auth.signIn", "failure"),
        ("auth.signOut", "success"),
        ("admin.change", "success"),
    ] {
        assert!(events.contains(&expected), "{expected:?} in {events:?}");
    }
    let failure = entries.iter().find(|e| e["result"] == "failure").unwrap();
    assert_eq!(failure["authenticator"], "basic");
    assert!(failure["reason"].as_str().unwrap().contains("wrong"));
    assert!(failure["ip"].as_str().unwrap().starts_with("127."));
    assert!(failure["userAgent"].is_string() || failure["userAgent"].is_null());
    assert!(
        !all.text.contains("gus-password") && !all.text.contains("wrong-password"),
        "no passwords in the log"
    );

    let mine = s
        .get(
            &format!("/api/auditLogs:list?userId={uid}&event=auth.signIn&result=success"),
            Some(&admin),
        )
        .await;
    assert_eq!(mine.body["meta"]["count"], 1);
    assert_eq!(mine.body["data"][0]["userId"], uid);
    let future = s
        .get(
            "/api/auditLogs:list?since=2999-01-01T00:00:00Z",
            Some(&admin),
        )
        .await;
    assert_eq!(future.body["meta"]["count"], 0);
    let paged = s
        .get("/api/auditLogs:list?pageSize=2&page=1", Some(&admin))
        .await;
    assert_eq!(paged.body["data"].as_array().unwrap().len(), 2);
    assert!(paged.body["meta"]["count"].as_i64().unwrap() >= 5);
    assert_eq!(
        s.get("/api/auditLogs:list?since=yesterday", Some(&admin))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.get("/api/auditLogs:list?result=maybe", Some(&admin))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

both_databases!(
    token_policy_defaults_and_validation,
    a_token_policy_cannot_lock_everyone_out,
    audit_log_records_and_filters
);
