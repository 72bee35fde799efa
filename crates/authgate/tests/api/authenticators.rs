use crate::both_databases;
use crate::dingtalk_support::*;
use crate::multi_node::node_options;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

async fn admin_only(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    s.create_user(
        &admin,
        json!({"username": "worker", "password": "worker-password"}),
    )
    .await;
    let user = s.sign_in("worker", "worker-password").await;
    for path in [
        "/api/authenticators:list",
        "/api/authenticators:listTypes",
        "/api/authenticators:get?filterByTk=1",
        "/api/users:list",
        "/api/tokenPolicies:get",
        "/api/auditLogs:list",
        "/api/sessions:list",
    ] {
        assert_eq!(
            s.get(path, None).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        let r = s.get(path, Some(&user)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(r.message(), "Only administrators may do this");
        assert_eq!(
            s.get(path, Some(&admin)).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    let r = s
        .post(
            "/api/authenticators:create",
            Some(&user),
            json!({"name": "x", "authType": "password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM authenticators").await, 1);
}

async fn create_get_update_move_destroy(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let types = s.get("/api/authenticators:listTypes", Some(&admin)).await;
    assert!(types.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "password"));

    let mut ids = vec![1];
    for name in ["second", "third"] {
        let r = s
            .post("/api/authenticators:create", Some(&admin), json!({"name": name, "authType": "password", "title": format!("{name} title"), "description": "d"}))
            .await;
        r.assert_ok();
        assert_eq!(r.body["data"]["authTypeTitle"], "Password");
        ids.push(r.body["data"]["id"].as_i64().unwrap());
    }
    let dup = s
        .post(
            "/api/authenticators:create",
            Some(&admin),
            json!({"name": "second", "authType": "password"}),
        )
        .await;
    assert_eq!(
        (dup.status, dup.message()),
        (StatusCode::BAD_REQUEST, "Authenticator name already exists")
    );
    let bad_opt = s
        .post(
            "/api/authenticators:create",
            Some(&admin),
            json!({"name": "fourth", "authType": "password", "options": {"allowSignUp": "yes"}}),
        )
        .await;
    assert_eq!(bad_opt.status, StatusCode::BAD_REQUEST);
    let unknown_opt = s
        .post(
            "/api/authenticators:create",
            Some(&admin),
            json!({"name": "fourth", "authType": "password", "options": {"colour": "red"}}),
        )
        .await;
    assert!(
        unknown_opt.message().contains("Unknown option 'colour'"),
        "{}",
        unknown_opt.text
    );

    let got = s
        .get(
            &format!("/api/authenticators:get?filterByTk={}", ids[2]),
            Some(&admin),
        )
        .await;
    assert_eq!(got.body["data"]["title"], "third title");
    assert_eq!(
        s.get("/api/authenticators:get?filterByTk=999", Some(&admin))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let renamed = s
        .post(
            &format!("/api/authenticators:update?filterByTk={}", ids[1]),
            Some(&admin),
            json!({"name": "renamed"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST);
    let updated = s
        .post(
            &format!("/api/authenticators:update?filterByTk={}", ids[1]),
            Some(&admin),
            json!({"title": "Second", "enabled": false}),
        )
        .await;
    updated.assert_ok();
    assert_eq!(updated.body["data"]["enabled"], false);
    let names: Vec<_> = s.get("/api/authenticators:publicList", None).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["basic", "third"], "disabled ones are not public");

    // Move "third" to the first place, then the order is third, basic, second.
    s.post(
        &format!(
            "/api/authenticators:move?sourceId={}&targetId={}",
            ids[2], ids[0]
        ),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_ok();
    let order: Vec<_> = s.get("/api/authenticators:list", Some(&admin)).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(order, ["third", "basic", "second"]);
    // NocoBase clients send the ids in the body.
    s.post(
        "/api/authenticators:move",
        Some(&admin),
        json!({"sourceId": ids[2], "targetId": ids[1]}),
    )
    .await
    .assert_ok();
    let order: Vec<_> = s.get("/api/authenticators:list", Some(&admin)).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(order, ["basic", "second", "third"]);
    assert_eq!(
        s.post(
            "/api/authenticators:move",
            Some(&admin),
            json!({"sourceId": 1})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );

    s.post(
        &format!("/api/authenticators:destroy?filterByTk={}", ids[1]),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_ok();
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM authenticators").await, 2);
}

async fn the_last_enabled_authenticator_stays(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let r = s
        .post(
            "/api/authenticators:update?filterByTk=1",
            Some(&admin),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(
        (r.status, r.message()),
        (
            StatusCode::BAD_REQUEST,
            "Please keep and enable at least one authenticator"
        )
    );
    let r = s
        .post(
            "/api/authenticators:destroy?filterByTk=1",
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.message()),
        (
            StatusCode::BAD_REQUEST,
            "Please keep and enable at least one authenticator"
        )
    );
    assert_eq!(
        s.get("/api/authenticators:publicList", None).await.body["data"][0]["name"],
        "basic"
    );
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM authenticators WHERE enabled")
            .await,
        1
    );

    // With a second enabled one, the first may go; then the second is the last.
    let second = s
        .post(
            "/api/authenticators:create",
            Some(&admin),
            json!({"name": "second", "authType": "password"}),
        )
        .await;
    let second_id = second.body["data"]["id"].as_i64().unwrap();
    s.post(
        "/api/authenticators:update?filterByTk=1",
        Some(&admin),
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
    let r = s
        .post(
            &format!("/api/authenticators:destroy?filterByTk={second_id}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// Attack campaign: disabling or deleting the password authenticator locked out an admin who
/// had no other way in, and nothing but SQL undid it.
async fn the_password_authenticator_stays_while_an_admin_needs_it(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    const NEEDED: &str = "An administrator signs in only with a password: keep a password authenticator enabled, or link their DingTalk account first";
    let basic = env.authenticator_id("basic").await;
    for action in ["update", "destroy"] {
        let r = s
            .post(
                &format!("/api/authenticators:{action}?filterByTk={basic}"),
                Some(&env.admin),
                json!({"enabled": false}),
            )
            .await;
        assert_eq!(
            (r.status, r.message()),
            (StatusCode::BAD_REQUEST, NEEDED),
            "{action}"
        );
    }
    // A DingTalk user becomes the only enabled admin: now nobody depends on passwords.
    let mut b = Browser::new();
    b.sign_in_as(s, AUTHENTICATOR, "zhangsan", None).await;
    let zhangsan = b.token().expect("signed in through DingTalk");
    let id = s.get("/api/auth:check", Some(&zhangsan)).await.body["data"]["id"]
        .as_i64()
        .unwrap();
    let promote = format!("/api/users:update?filterByTk={id}");
    s.post(&promote, Some(&env.admin), json!({"isAdmin": true}))
        .await
        .assert_ok();
    s.post(
        "/api/users:update?filterByTk=1",
        Some(&zhangsan),
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
    s.post(
        &format!("/api/authenticators:update?filterByTk={basic}"),
        Some(&zhangsan),
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
}

async fn concurrent_disables_keep_one_enabled(db: Db) {
    let s = Server::start(db).await;
    disable_or_delete_all_at_once(&[&s]).await;
}

async fn concurrent_disables_through_two_nodes_keep_one_enabled(db: Db) {
    let a = Server::start_with(db, node_options()).await;
    let b = a.start_node(node_options()).await;
    disable_or_delete_all_at_once(&[&a, &b]).await;
}

/// Four password authenticators, each disabled or deleted at the same moment (alternating
/// nodes): one refusal, one left enabled.
async fn disable_or_delete_all_at_once(nodes: &[&Server]) {
    let s = nodes[0];
    let admin = s.admin_token().await;
    let mut ids = vec![1];
    for name in ["b", "c", "d"] {
        let r = s
            .post(
                "/api/authenticators:create",
                Some(&admin),
                json!({"name": name, "authType": "password"}),
            )
            .await;
        ids.push(r.body["data"]["id"].as_i64().unwrap());
    }
    let mut tasks = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        let node = nodes[i % nodes.len()];
        let http = node.http.clone();
        let action = if i % 2 == 0 { "update" } else { "destroy" };
        let url = node.url(&format!("/api/authenticators:{action}?filterByTk={id}"));
        let token = admin.clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({"enabled": false}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut refused = 0;
    for t in tasks {
        let status = t.await.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{status}"
        );
        refused += (status == StatusCode::BAD_REQUEST) as i32;
    }
    assert_eq!(refused, 1);
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM authenticators WHERE enabled")
            .await,
        1
    );
}

both_databases!(
    admin_only,
    create_get_update_move_destroy,
    the_last_enabled_authenticator_stays,
    concurrent_disables_keep_one_enabled,
    the_password_authenticator_stays_while_an_admin_needs_it,
);

mod nodes {
    use super::*;
    crate::postgres_only!(concurrent_disables_through_two_nodes_keep_one_enabled);
}
