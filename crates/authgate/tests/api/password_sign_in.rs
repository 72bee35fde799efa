use crate::both_databases;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

const WRONG: &str = "The username/email or password is incorrect, please re-enter";

async fn signs_in_by_username_or_email_any_case(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    s.create_user(
        &admin,
        json!({"username": "Ann", "email": "Ann@Example.com", "password": "ann-password"}),
    )
    .await;
    for account in ["Ann", "ann", "ann@example.com", "ANN@EXAMPLE.COM"] {
        s.sign_in(account, "ann-password").await;
    }
}

async fn wrong_password_and_unknown_account_look_the_same(db: Db) {
    let s = Server::start(db).await;
    let wrong = s.sign_in_reply("basic", "admin", "not-the-password").await;
    let unknown = s.sign_in_reply("basic", "nobody", "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.message(), WRONG);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.body, wrong.body);
}

async fn missing_fields_and_authenticator_problems_are_clear_400s(db: Db) {
    let s = Server::start(db).await;
    let r = s.sign_in_reply("basic", "", "x").await;
    assert_eq!(
        (r.status, r.message()),
        (
            StatusCode::BAD_REQUEST,
            "Please enter your username or email"
        )
    );
    let r = s.sign_in_reply("basic", "admin", "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.sign_in_reply("nope", "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        (r.status, r.message()),
        (
            StatusCode::BAD_REQUEST,
            "Authenticator 'nope' does not exist"
        )
    );
    let r = s
        .post(
            "/api/auth:signIn",
            None,
            json!({"account": "admin", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.message().contains("X-Authenticator"), "{}", r.text);

    // A disabled authenticator is refused by name, never replaced by another one.
    let admin = s.admin_token().await;
    let created = s
        .post(
            "/api/authenticators:create",
            Some(&admin),
            json!({"name": "staff", "authType": "password"}),
        )
        .await;
    created.assert_ok();
    let id = created.body["data"]["id"].as_i64().unwrap();
    s.post(
        &format!("/api/authenticators:update?filterByTk={id}"),
        Some(&admin),
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
    let r = s.sign_in_reply("staff", "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        (r.status, r.message()),
        (StatusCode::BAD_REQUEST, "Authenticator 'staff' is disabled")
    );
}

async fn nocobase_scrypt_hash_verifies_and_is_upgraded(db: Db) {
    #[derive(serde::Deserialize)]
    struct Fixture {
        hashes: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        password: String,
        hash: String,
    }
    let fixture: Fixture = serde_json::from_str(include_str!(
        "../../../../fixtures/nocobase-scrypt-hashes.json"
    ))
    .unwrap();
    let s = Server::start(db).await;
    for (i, e) in fixture.hashes.iter().enumerate() {
        let name = format!("imported{i}");
        s.sql(&format!(
            "INSERT INTO users (username, password_hash, is_admin, enabled, created_at, updated_at) \
             VALUES ('{name}', '{}', FALSE, TRUE, 0, 0)",
            e.hash
        ))
        .await;
        assert_eq!(
            s.sign_in_reply("basic", &name, "wrong password")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        s.sign_in(&name, &e.password).await;
        let stored = s
            .sql_text(&format!(
                "SELECT password_hash FROM users WHERE username = '{name}'"
            ))
            .await
            .unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        // The upgraded hash keeps working.
        s.sign_in(&name, &e.password).await;
    }
}

async fn account_lockout_returns_429_with_retry_after(db: Db) {
    let s = Server::start(db).await;
    for _ in 0..5 {
        assert_eq!(
            s.sign_in_reply("basic", "admin", "bad-password")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = s.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.text
    );
    let retry: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(locked
        .message()
        .contains("Too many failed sign-in attempts"));
    // Another account from the same IP is not locked.
    let other = s
        .sign_in_reply("basic", "someone-else", "whatever-pw")
        .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED, "{}", other.text);
}

/// A right password between wrong ones is not counted, and does not wipe them either (a
/// success that did would let a burst of guesses around it check more than the limit).
async fn a_success_is_not_counted_and_forgives_nothing(db: Db) {
    let s = Server::start(db).await;
    for _ in 0..4 {
        s.sign_in_reply("basic", "admin", "bad-password").await;
    }
    for _ in 0..3 {
        s.sign_in("admin", ADMIN_PASSWORD).await;
    }
    let fifth = s.sign_in_reply("basic", "admin", "bad-password").await;
    assert_eq!(fifth.status, StatusCode::UNAUTHORIZED);
    let r = s.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
}

async fn per_ip_limit_covers_many_accounts(db: Db) {
    let s = Server::start_with(
        db,
        ServerOptions::default().env("AUTHGATE_IP_MAX_FAILURES", "3"),
    )
    .await;
    for account in ["a1", "a2", "a3"] {
        assert_eq!(
            s.sign_in_reply("basic", account, "whatever-pw")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = s.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.header("retry-after").is_some());
}

async fn disabled_user_cannot_sign_in(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let id = s
        .create_user(
            &admin,
            json!({"username": "gone", "password": "gone-password"}),
        )
        .await;
    s.post(
        &format!("/api/users:update?filterByTk={id}"),
        Some(&admin),
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
    // Answered exactly like a wrong password: the answer never confirms the password.
    let right = s.sign_in_reply("basic", "gone", "gone-password").await;
    let wrong = s.sign_in_reply("basic", "gone", "not-the-password").await;
    assert_eq!(right.status, StatusCode::UNAUTHORIZED, "{}", right.text);
    assert_eq!(right.body, wrong.body);
    assert_eq!(right.code(), "INVALID_CREDENTIALS");
}

both_databases!(
    signs_in_by_username_or_email_any_case,
    wrong_password_and_unknown_account_look_the_same,
    missing_fields_and_authenticator_problems_are_clear_400s,
    nocobase_scrypt_hash_verifies_and_is_upgraded,
    account_lockout_returns_429_with_retry_after,
    a_success_is_not_counted_and_forgives_nothing,
    per_ip_limit_covers_many_accounts,
    disabled_user_cannot_sign_in,
);
