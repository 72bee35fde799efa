use crate::both_databases;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn sign_up(s: &Server, body: Value) -> Reply {
    let r = s
        .http
        .post(s.url("/api/auth:signUp"))
        .header("X-Authenticator", "basic")
        .json(&body)
        .send()
        .await
        .unwrap();
    Reply::from(r).await
}

async fn basic_id(s: &Server, admin: &str) -> i64 {
    let list = s.get("/api/authenticators:list", Some(admin)).await;
    list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "basic")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn sign_up_is_off_by_default(db: Db) {
    let s = Server::start(db).await;
    let r = sign_up(
        &s,
        json!({"username": "newbie", "password": "newbie-password"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM users").await, 1);
}

async fn sign_up_with_the_fields_the_authenticator_asks_for(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let id = basic_id(&s, &admin).await;
    let form = json!([
        {"field": "username", "show": true, "required": true},
        {"field": "phone", "show": true, "required": true},
        {"field": "email", "show": false, "required": false},
    ]);
    s.post(
        &format!("/api/authenticators:update?filterByTk={id}"),
        Some(&admin),
        json!({"options": {"allowSignUp": true, "signupForm": form}}),
    )
    .await
    .assert_ok();
    let public = s.get("/api/authenticators:publicList", None).await;
    assert_eq!(public.body["data"][0]["options"]["allowSignUp"], true);

    let missing = sign_up(
        &s,
        json!({"username": "newbie", "password": "newbie-password"}),
    )
    .await;
    assert_eq!(
        (missing.status, missing.message()),
        (StatusCode::BAD_REQUEST, "Please enter your phone")
    );
    let hidden = sign_up(&s, json!({"username": "newbie", "phone": "13800138000", "email": "a@b.co", "password": "newbie-password"})).await;
    assert_eq!(hidden.status, StatusCode::BAD_REQUEST);
    let mismatch = sign_up(&s, json!({"username": "newbie", "phone": "13800138000", "password": "newbie-password", "confirm_password": "other"})).await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    let short = sign_up(
        &s,
        json!({"username": "newbie", "phone": "13800138000", "password": "short"}),
    )
    .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM users").await,
        1,
        "failed sign-ups write nothing"
    );

    let ok = sign_up(
        &s,
        json!({"username": "newbie", "phone": "+86 138-0013-8000", "password": "newbie-password"}),
    )
    .await;
    ok.assert_ok();
    assert_eq!(ok.body["data"]["phone"], "+8613800138000");
    assert_eq!(ok.body["data"]["isAdmin"], false);
    s.sign_in("newbie", "newbie-password").await;

    let again = sign_up(
        &s,
        json!({"username": "NEWBIE", "phone": "13900139000", "password": "newbie-password"}),
    )
    .await;
    assert_eq!(
        (again.status, again.message()),
        (StatusCode::BAD_REQUEST, "Username already exists")
    );
    let same_phone = sign_up(
        &s,
        json!({"username": "other", "phone": "13800138000", "password": "newbie-password"}),
    )
    .await;
    assert_eq!(
        (same_phone.status, same_phone.message()),
        (StatusCode::BAD_REQUEST, "Phone number already exists")
    );
}

async fn invalid_sign_up_form_options_are_refused(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let id = basic_id(&s, &admin).await;
    for form in [
        json!([{"field": "username", "show": false, "required": true}]),
        json!([{"field": "shoeSize", "show": true, "required": true}]),
        json!([{"field": "nickname", "show": true, "required": true}]),
        json!("username"),
    ] {
        let r = s
            .post(
                &format!("/api/authenticators:update?filterByTk={id}"),
                Some(&admin),
                json!({"options": {"signupForm": form}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{form}: {}", r.text);
    }
}

both_databases!(
    sign_up_is_off_by_default,
    sign_up_with_the_fields_the_authenticator_asks_for,
    invalid_sign_up_form_options_are_refused,
);
