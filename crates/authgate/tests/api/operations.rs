use crate::both_databases;
use crate::support::*;
use reqwest::StatusCode;

async fn health_readiness_metrics_and_request_ids(db: Db) {
    let s = Server::start(db).await;
    assert_eq!(s.get("/healthz", None).await.status, StatusCode::OK);
    let ready = s.get("/readyz", None).await;
    assert_eq!(
        ready.body["database"],
        if db == Db::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    s.sign_in_reply("basic", "admin", "bad-password").await;
    s.admin_token().await;
    let metrics = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"authgate_sign_ins_total{authenticator="basic",result="success"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"authgate_sign_ins_total{authenticator="basic",result="failure"} 1"#)
    );
    assert!(metrics.contains("authgate_http_request_duration_seconds_bucket"));
    assert!(metrics.contains(r#"route="/api/auth:signIn""#));
    let r = s.get("/healthz", None).await;
    assert!(r.header("x-request-id").is_some_and(|id| id.len() >= 32));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("frame-ancestors 'none'"));
    // Logs carry the request id of each request.
    let out = s.output_once(|out| out.contains("request_id")).await;
    assert!(out.contains("request_id"), "{out}");
}

async fn openapi_describes_every_route(db: Db) {
    let s = Server::start(db).await;
    let doc = s.get("/api/openapi.json", None).await;
    let paths = doc.body["paths"].as_object().unwrap();
    for p in [
        "/api/auth:signIn",
        "/api/auth:signUp",
        "/api/auth:signOut",
        "/api/auth:check",
        "/api/auth:changePassword",
        "/api/authenticators:publicList",
        "/api/authenticators:listTypes",
        "/api/authenticators:list",
        "/api/authenticators:get",
        "/api/authenticators:create",
        "/api/authenticators:update",
        "/api/authenticators:destroy",
        "/api/authenticators:move",
        "/api/users:list",
        "/api/users:get",
        "/api/users:create",
        "/api/users:update",
        "/api/users:destroy",
        "/api/tokenPolicies:get",
        "/api/tokenPolicies:update",
        "/api/auditLogs:list",
        "/api/sessions:list",
        "/api/sessions:revoke",
        "/api/sessions:revokeUser",
        "/api/auth:sessions",
        "/api/auth:revokeSession",
    ] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
}

both_databases!(
    health_readiness_metrics_and_request_ids,
    openapi_describes_every_route
);
