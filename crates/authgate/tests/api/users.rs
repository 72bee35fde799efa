use crate::both_databases;
use crate::multi_node::node_options;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

async fn crud_with_normalised_unique_fields(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let created = s
        .post("/api/users:create", Some(&admin), json!({"username": "li", "email": "Li@Corp.CN", "phone": "138 0013 8000", "nickname": "李雷", "password": "li-password"}))
        .await;
    created.assert_ok();
    let id = created.body["data"]["id"].as_i64().unwrap();
    assert_eq!(created.body["data"]["email"], "li@corp.cn");
    assert_eq!(created.body["data"]["phone"], "+8613800138000");
    assert_eq!(created.body["data"]["nickname"], "李雷");
    assert_eq!(created.body["data"]["hasPassword"], true);
    assert!(!created.text.contains("argon2"));

    for (body, message) in [
        (json!({"username": "LI"}), "Username already exists"),
        (
            json!({"username": "li2", "email": "LI@corp.cn"}),
            "E-mail already exists",
        ),
        (
            json!({"username": "li3", "phone": "+8613800138000"}),
            "Phone number already exists",
        ),
        (
            json!({"nickname": "nobody"}),
            "A user needs at least a username, an e-mail or a phone number",
        ),
        (
            json!({"username": "li4", "password": "short"}),
            "The password must be at least 8 characters long",
        ),
    ] {
        let r = s
            .post("/api/users:create", Some(&admin), body.clone())
            .await;
        assert_eq!(
            (r.status, r.message()),
            (StatusCode::BAD_REQUEST, message),
            "{body}"
        );
    }

    let got = s
        .get(&format!("/api/users:get?filterByTk={id}"), Some(&admin))
        .await;
    assert_eq!(got.body["data"]["identities"], json!([]));
    let updated = s
        .post(
            &format!("/api/users:update?filterByTk={id}"),
            Some(&admin),
            json!({"phone": "+1 415 555 0100", "email": null, "id": id}),
        )
        .await;
    updated.assert_ok();
    assert_eq!(updated.body["data"]["phone"], "+14155550100");
    assert_eq!(updated.body["data"]["email"], serde_json::Value::Null);
    assert_eq!(
        s.post(
            "/api/users:update?filterByTk=999",
            Some(&admin),
            json!({"nickname": "x"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    s.post(
        &format!("/api/users:destroy?filterByTk={id}"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_ok();
    assert_eq!(
        s.get(&format!("/api/users:get?filterByTk={id}"), Some(&admin))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn list_search_filter_sort_and_paging(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    for i in 0..25 {
        s.create_user(&admin, json!({"username": format!("user{i:02}"), "nickname": if i == 7 { "Wang_Wu" } else { "someone" }})).await;
    }
    let page = s
        .get("/api/users:list?page=2&pageSize=10", Some(&admin))
        .await;
    assert_eq!(
        page.body["meta"],
        json!({"count": 26, "page": 2, "pageSize": 10, "totalPage": 3})
    );
    assert_eq!(page.body["data"].as_array().unwrap().len(), 10);
    let found = s.get("/api/users:list?q=wang_", Some(&admin)).await;
    assert_eq!(found.body["meta"]["count"], 1);
    assert_eq!(found.body["data"][0]["username"], "user07");
    // `_` is a literal here, not a wildcard.
    assert_eq!(
        s.get("/api/users:list?q=ser_0", Some(&admin)).await.body["meta"]["count"],
        0
    );
    let filtered = s
        .get(
            "/api/users:list?filter=%7B%22isAdmin%22%3Atrue%7D",
            Some(&admin),
        )
        .await;
    assert_eq!(filtered.body["meta"]["count"], 1);
    assert_eq!(filtered.body["data"][0]["username"], "admin");
    let sorted = s
        .get("/api/users:list?sort=-username&pageSize=1", Some(&admin))
        .await;
    assert_eq!(sorted.body["data"][0]["username"], "user24");
    for bad in [
        "page=0",
        "pageSize=1000",
        "sort=password",
        "filter=%7B%22password%22%3A1%7D",
        "filter=nope",
    ] {
        assert_eq!(
            s.get(&format!("/api/users:list?{bad}"), Some(&admin))
                .await
                .status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

async fn the_last_admin_cannot_be_removed(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let r = s
        .post(
            "/api/users:update?filterByTk=1",
            Some(&admin),
            json!({"isAdmin": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s
        .post("/api/users:destroy?filterByTk=1", Some(&admin), json!({}))
        .await;
    assert_eq!(
        (r.status, r.message()),
        (
            StatusCode::BAD_REQUEST,
            "You cannot delete your own account"
        )
    );
    let second = s
        .create_user(
            &admin,
            json!({"username": "root2", "password": "root2-password", "isAdmin": true}),
        )
        .await;
    let other = s.sign_in("root2", "root2-password").await;
    s.post(
        "/api/users:update?filterByTk=1",
        Some(&other),
        json!({"isAdmin": false}),
    )
    .await
    .assert_ok();
    let r = s
        .post(
            &format!("/api/users:update?filterByTk={second}"),
            Some(&other),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM users WHERE is_admin AND enabled")
            .await,
        1
    );
}

const OTHER_ADMIN_PASSWORD: &str = "other-Admin-pw1";

/// Attack campaign: four admins demoted (or disabled) at the same moment left none; on
/// SQLite on the third try, on two PostgreSQL nodes on the first. Every round here, every
/// enabled admin removes another at once (demote, disable or delete, through alternating
/// nodes when there are two); at least one enabled admin must remain.
async fn concurrent_removals_keep_an_enabled_admin(nodes: &[&Server]) {
    let s = nodes[0];
    let mut passwords = std::collections::BTreeMap::from([("admin".to_string(), ADMIN_PASSWORD)]);
    for round in 0..6 {
        // The admins left, and three new ones.
        let acting = enabled_admins(s).await;
        let (first_name, _) = &acting[0];
        let first = s.sign_in(first_name, passwords[first_name]).await;
        for n in 0..3 {
            let name = format!("admin{round}x{n}");
            s.create_user(
                &first,
                json!({"username": name, "password": OTHER_ADMIN_PASSWORD, "isAdmin": true}),
            )
            .await;
            passwords.insert(name, OTHER_ADMIN_PASSWORD);
        }
        let admins = enabled_admins(s).await;
        assert!(admins.len() >= 4);
        let mut tokens = Vec::new();
        for (name, _) in &admins {
            tokens.push(s.sign_in(name, passwords[name]).await);
        }
        let tasks: Vec<_> = admins
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let node = nodes[i % nodes.len()];
                let target = admins[(i + 1) % admins.len()].1;
                let (path, body) = match (i + round) % 3 {
                    0 => ("update", json!({"isAdmin": false})),
                    1 => ("update", json!({"enabled": false})),
                    _ => ("destroy", json!({})),
                };
                let request = node
                    .http
                    .post(node.url(&format!("/api/users:{path}?filterByTk={target}")))
                    .bearer_auth(&tokens[i])
                    .json(&body);
                tokio::spawn(async move { request.send().await.unwrap().status() })
            })
            .collect();
        for t in tasks {
            let status = t.await.unwrap();
            // 401/403: the acting admin was removed a moment earlier by another.
            assert!(
                [
                    StatusCode::OK,
                    StatusCode::BAD_REQUEST,
                    StatusCode::UNAUTHORIZED,
                    StatusCode::FORBIDDEN
                ]
                .contains(&status),
                "{status}"
            );
        }
        assert!(
            !enabled_admins(s).await.is_empty(),
            "round {round} left no enabled admin"
        );
    }
}

async fn enabled_admins(s: &Server) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    loop {
        let row = format!(
            "FROM users WHERE is_admin AND enabled ORDER BY id LIMIT 1 OFFSET {}",
            out.len()
        );
        let Some(name) = s.sql_text(&format!("SELECT username {row}")).await else {
            return out;
        };
        out.push((name, s.sql_count(&format!("SELECT id {row}")).await));
    }
}

async fn concurrent_removals_keep_an_enabled_admin_on_one_node(db: Db) {
    let s = Server::start(db).await;
    concurrent_removals_keep_an_enabled_admin(&[&s]).await;
}

async fn concurrent_removals_keep_an_enabled_admin_across_two_nodes(db: Db) {
    let a = Server::start_with(db, node_options()).await;
    let b = a.start_node(node_options()).await;
    concurrent_removals_keep_an_enabled_admin(&[&a, &b]).await;
}

async fn disabling_or_resetting_a_user_ends_their_sessions(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let id = s
        .create_user(
            &admin,
            json!({"username": "fay", "password": "fay-password"}),
        )
        .await;
    let t = s.sign_in("fay", "fay-password").await;
    s.post(
        &format!("/api/users:update?filterByTk={id}"),
        Some(&admin),
        json!({"password": "fay-password-2"}),
    )
    .await
    .assert_ok();
    assert_eq!(
        s.get("/api/auth:check", Some(&t)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let t = s.sign_in("fay", "fay-password-2").await;
    s.post(
        &format!("/api/users:update?filterByTk={id}"),
        Some(&admin),
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
    assert_eq!(
        s.get("/api/auth:check", Some(&t)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

both_databases!(
    crud_with_normalised_unique_fields,
    list_search_filter_sort_and_paging,
    the_last_admin_cannot_be_removed,
    disabling_or_resetting_a_user_ends_their_sessions,
    concurrent_removals_keep_an_enabled_admin_on_one_node,
);

mod nodes {
    use super::*;
    crate::postgres_only!(concurrent_removals_keep_an_enabled_admin_across_two_nodes);
}
