use crate::both_databases;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

async fn set_policy(s: &Server, admin: &str, token: &str, session: &str, renew: &str) {
    s.post(
        "/api/tokenPolicies:update",
        Some(admin),
        json!({"config": {"tokenExpirationTime": token, "sessionExpirationTime": session, "expiredTokenRenewLimit": renew}}),
    )
    .await
    .assert_ok();
}

fn cookie_value(r: &Reply, name: &str) -> (String, String) {
    let line = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", r.headers));
    let value = line.split(';').next().unwrap()[name.len() + 1..].to_string();
    (value, line)
}

async fn with_cookies(
    s: &Server,
    method: reqwest::Method,
    path: &str,
    cookies: &str,
    csrf: Option<&str>,
) -> Reply {
    let mut req = s
        .http
        .request(method, s.url(path))
        .header("cookie", cookies);
    if let Some(c) = csrf {
        req = req.header("x-csrf-token", c);
    }
    Reply::from(req.send().await.unwrap()).await
}

async fn browser_cookies_need_csrf_on_unsafe_requests(db: Db) {
    let s = Server::start(db).await;
    let signed_in = s.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
    let (token, token_line) = cookie_value(&signed_in, "authgate_token");
    let (csrf, csrf_line) = cookie_value(&signed_in, "authgate_csrf");
    assert!(
        token_line.contains("HttpOnly") && token_line.contains("SameSite=Lax"),
        "{token_line}"
    );
    assert!(!csrf_line.contains("HttpOnly"), "{csrf_line}");
    assert!(
        !token_line.contains("Secure"),
        "plain http public URL: no Secure flag"
    );
    let cookies = format!("authgate_token={token}; authgate_csrf={csrf}");

    let me = with_cookies(&s, reqwest::Method::GET, "/api/auth:check", &cookies, None).await;
    assert_eq!(me.body["data"]["username"], "admin");
    let forged = with_cookies(
        &s,
        reqwest::Method::POST,
        "/api/auth:signOut",
        &cookies,
        None,
    )
    .await;
    assert_eq!(
        (forged.status, forged.code()),
        (StatusCode::FORBIDDEN, "CSRF_TOKEN_INVALID")
    );
    let wrong = with_cookies(
        &s,
        reqwest::Method::POST,
        "/api/auth:signOut",
        &cookies,
        Some("guess"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // Still signed in: the forged requests changed nothing.
    assert_eq!(
        s.get("/api/auth:check", Some(&token)).await.status,
        StatusCode::OK
    );

    let out = with_cookies(
        &s,
        reqwest::Method::POST,
        "/api/auth:signOut",
        &cookies,
        Some(&csrf),
    )
    .await;
    out.assert_ok();
    let (cleared, _) = cookie_value(&out, "authgate_token");
    assert!(cleared.is_empty());
    let after = s.get("/api/auth:check", Some(&token)).await;
    assert_eq!(
        (after.status, after.code()),
        (StatusCode::UNAUTHORIZED, "BLOCKED_TOKEN")
    );
}

async fn secure_cookies_and_hsts_on_https_public_url(db: Db) {
    let s = Server::start_with(
        db,
        ServerOptions::default().env("AUTHGATE_PUBLIC_URL", "https://auth.example.com"),
    )
    .await;
    let r = s.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
    let (_, line) = cookie_value(&r, "authgate_token");
    assert!(line.contains("Secure"), "{line}");
    assert!(r.header("strict-transport-security").is_some());
}

async fn missing_token_codes(db: Db) {
    let s = Server::start(db).await;
    let r = s.get("/api/auth:check", None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "EMPTY_TOKEN")
    );
    let r = s.get("/api/auth:check", Some("")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn expired_token_is_renewed_once_for_concurrent_requests(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    set_policy(&s, &admin, "2s", "1h", "1h").await;
    let token = s.sign_in("admin", ADMIN_PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let replies = futures_join(&s, &token, 10).await;
    let new_tokens: Vec<_> = replies
        .iter()
        .map(|r| r.header("x-new-token").unwrap().to_string())
        .collect();
    assert!(replies.iter().all(|r| r.status == StatusCode::OK));
    assert!(
        new_tokens.iter().all(|t| *t == new_tokens[0]),
        "one new token for all"
    );
    assert_ne!(new_tokens[0], token);
    let fresh = s.get("/api/auth:check", Some(&new_tokens[0])).await;
    fresh.assert_ok();
    assert!(fresh.header("x-new-token").is_none());
    // The old token, shortly after, still maps to the same new token (no second renewal).
    let again = s.get("/api/auth:check", Some(&token)).await;
    assert_eq!(again.header("x-new-token"), Some(new_tokens[0].as_str()));
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM issued_tokens").await,
        3,
        "admin's first token + this one + its renewal"
    );
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM audit_log WHERE event = 'auth.tokenRenew'")
            .await,
        1
    );
}

async fn futures_join(s: &Server, token: &str, n: usize) -> Vec<Reply> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let http = s.http.clone();
        let url = s.url("/api/auth:check");
        let token = token.to_string();
        tasks.push(tokio::spawn(async move {
            Reply::from(http.get(url).bearer_auth(token).send().await.unwrap()).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn renewal_window_and_session_expiry(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    set_policy(&s, &admin, "1s", "1h", "1s").await;
    let token = s.sign_in("admin", ADMIN_PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let r = s.get("/api/auth:check", Some(&token)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "EXPIRED_TOKEN")
    );

    let admin = s.sign_in("admin", ADMIN_PASSWORD).await;
    set_policy(&s, &admin, "1s", "2s", "1h").await;
    let token = s.sign_in("admin", ADMIN_PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let r = s.get("/api/auth:check", Some(&token)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "EXPIRED_SESSION")
    );
}

async fn renewal_through_cookie_updates_the_cookie(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    set_policy(&s, &admin, "1s", "1h", "1h").await;
    let signed_in = s.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
    let (token, _) = cookie_value(&signed_in, "authgate_token");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = with_cookies(
        &s,
        reqwest::Method::GET,
        "/api/auth:check",
        &format!("authgate_token={token}"),
        None,
    )
    .await;
    r.assert_ok();
    let (renewed, _) = cookie_value(&r, "authgate_token");
    assert_eq!(Some(renewed.as_str()), r.header("x-new-token"));
}

async fn password_change_signs_out_every_other_session(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    s.create_user(
        &admin,
        json!({"username": "carl", "password": "carl-password-1"}),
    )
    .await;
    let a = s.sign_in("carl", "carl-password-1").await;
    let b = s.sign_in("carl", "carl-password-1").await;
    let wrong = s
        .post(
            "/api/auth:changePassword",
            Some(&a),
            json!({"oldPassword": "nope-nope", "newPassword": "carl-password-2"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.get("/api/auth:check", Some(&b)).await.status,
        StatusCode::OK,
        "a failed change changes nothing"
    );
    let weak = s
        .post(
            "/api/auth:changePassword",
            Some(&a),
            json!({"oldPassword": "carl-password-1", "newPassword": "short"}),
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);

    let changed = s
        .post(
            "/api/auth:changePassword",
            Some(&a),
            json!({"oldPassword": "carl-password-1", "newPassword": "carl-password-2", "confirmPassword": "carl-password-2"}),
        )
        .await;
    changed.assert_ok();
    let fresh = changed.body["data"]["token"].as_str().unwrap();
    assert_eq!(
        s.get("/api/auth:check", Some(&b)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.get("/api/auth:check", Some(&a)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.get("/api/auth:check", Some(fresh)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.sign_in_reply("basic", "carl", "carl-password-1")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    s.sign_in("carl", "carl-password-2").await;
}

async fn sessions_are_listed_and_revoked(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let uid = s
        .create_user(
            &admin,
            json!({"username": "dora", "password": "dora-password"}),
        )
        .await;
    let t1 = s.sign_in("dora", "dora-password").await;
    let t2 = s.sign_in("dora", "dora-password").await;
    let mine = s.get("/api/auth:sessions", Some(&t1)).await;
    let mine = mine.body["data"].as_array().unwrap().clone();
    assert_eq!(mine.len(), 2);
    let other = mine.iter().find(|x| x["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.post(
        &format!("/api/auth:revokeSession?filterByTk={other}"),
        Some(&t1),
        json!({}),
    )
    .await
    .assert_ok();
    assert_eq!(
        s.get("/api/auth:check", Some(&t2)).await.code(),
        "BLOCKED_TOKEN"
    );
    assert_eq!(
        s.get("/api/auth:check", Some(&t1)).await.status,
        StatusCode::OK
    );

    // Another user's session id is not mine to revoke.
    let admin_sessions = s.get("/api/sessions:list?userId=1", Some(&admin)).await;
    let admin_sid = admin_sessions.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s
        .post(
            &format!("/api/auth:revokeSession?filterByTk={admin_sid}"),
            Some(&t1),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The admin lists live sessions and revokes the rest of dora's.
    let list = s
        .get(&format!("/api/sessions:list?userId={uid}"), Some(&admin))
        .await;
    assert_eq!(list.body["meta"]["count"], 1);
    assert_eq!(list.body["data"][0]["username"], "dora");
    assert!(list.body["data"][0]["ip"]
        .as_str()
        .unwrap()
        .starts_with("127."));
    let denied = s.get("/api/sessions:list", Some(&t1)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let r = s
        .post(
            &format!("/api/sessions:revokeUser?userId={uid}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.body["data"]["revoked"], 1);
    assert_eq!(
        s.get("/api/auth:check", Some(&t1)).await.code(),
        "BLOCKED_TOKEN"
    );
    assert_eq!(
        s.get(&format!("/api/sessions:list?userId={uid}"), Some(&admin))
            .await
            .body["meta"]["count"],
        0
    );
}

/// Administrators name people the way they know them: sessions and the audit log filter by
/// name, username, e-mail or id, and the log names the people in it.
async fn filters_find_people_by_name(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let lilei = s
        .create_user(&admin, json!({"username": "lilei", "nickname": "李雷", "email": "lilei@corp.example", "password": "lilei-pass-1"}))
        .await;
    s.create_user(
        &admin,
        json!({"username": "lina", "nickname": "李娜", "password": "lina-pass-12"}),
    )
    .await;
    s.sign_in("lilei", "lilei-pass-1").await;
    s.sign_in("lina", "lina-pass-12").await;
    for who in [
        "lilei",
        "李雷",
        "LILEI@corp.example",
        &lilei.to_string(),
        &format!("#{lilei}"),
    ] {
        let r = s
            .get(
                &format!("/api/sessions:list?user={}", urlencode(who)),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text);
        let users: Vec<_> = r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["userId"].as_i64().unwrap())
            .collect();
        assert_eq!(users, vec![lilei], "{who}");
    }
    let r = s
        .get(
            &format!("/api/sessions:list?user={}", urlencode("李")),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Several people match '李'")
            && message.contains("李雷 (lilei)")
            && message.contains("李娜 (lina)"),
        "{message}"
    );
    let r = s
        .get("/api/auditLogs:list?user=nobody-here", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["errors"][0]["message"],
        "Nobody is called 'nobody-here'"
    );
    let r = s
        .get(
            &format!(
                "/api/auditLogs:list?user={}&event=auth.signIn",
                urlencode("李雷")
            ),
            Some(&admin),
        )
        .await;
    let entries = r.body["data"].as_array().unwrap();
    assert!(!entries.is_empty(), "{}", r.text);
    for e in entries {
        assert_eq!(
            (e["userId"].as_i64(), e["userName"].as_str()),
            (Some(lilei), Some("李雷")),
            "{e}"
        );
    }
    // An administrator's act names both: who did it and to whom.
    s.post(
        &format!("/api/sessions:revokeUser?user={}", urlencode("李雷")),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_ok();
    let r = s
        .get(
            &format!("/api/auditLogs:list?user={lilei}&event=admin.sessionRevoke"),
            Some(&admin),
        )
        .await;
    let e = &r.body["data"][0];
    assert_eq!(
        (e["userName"].as_str(), e["actorName"].as_str()),
        (Some("李雷"), Some("Super Admin")),
        "{}",
        r.text
    );
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

both_databases!(
    filters_find_people_by_name,
    browser_cookies_need_csrf_on_unsafe_requests,
    secure_cookies_and_hsts_on_https_public_url,
    missing_token_codes,
    expired_token_is_renewed_once_for_concurrent_requests,
    renewal_window_and_session_expiry,
    renewal_through_cookie_updates_the_cookie,
    password_change_signs_out_every_other_session,
    sessions_are_listed_and_revoked,
);
