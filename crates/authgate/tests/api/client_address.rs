//! The client's address behind a reverse proxy. The test client talks to authgate from
//! 127.0.0.1, a trusted proxy by default, and plays a proxy that appends the real client's
//! address to whatever X-Forwarded-For the client sent: the forged entries on the left must
//! neither escape the per-IP failure limit nor reach the audit log.

use crate::both_databases;
use crate::slow_clients::refused_settings;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

const REAL_CLIENT: &str = "203.0.113.7";

async fn wrong_password(s: &Server, forwarded_for: &str) -> StatusCode {
    s.http
        .post(s.url("/api/auth:signIn"))
        .header("X-Authenticator", "basic")
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"account": "dora", "password": "not-her-password"}))
        .send()
        .await
        .unwrap()
        .status()
}

async fn failed_sign_in_addresses(s: &Server, admin: &str) -> Vec<String> {
    let r = s
        .get(
            "/api/auditLogs:list?event=auth.signIn&result=failure&pageSize=100",
            Some(admin),
        )
        .await;
    r.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("audit entries: {}", r.text))
        .iter()
        // Identical failures within a minute share a row: `detail.repeated` more of them.
        .flat_map(|e| {
            let times = 1 + e["detail"]["repeated"].as_u64().unwrap_or(0) as usize;
            std::iter::repeat_n(e["ip"].as_str().unwrap_or_default().to_string(), times)
        })
        .collect()
}

async fn start(db: Db, trusted_proxies: Option<&str>) -> (Server, String) {
    let mut opts = ServerOptions::default()
        .env("AUTHGATE_IP_MAX_FAILURES", "3")
        .env("AUTHGATE_ACCOUNT_MAX_FAILURES", "100");
    if let Some(proxies) = trusted_proxies {
        opts = opts.env("AUTHGATE_TRUSTED_PROXIES", proxies);
    }
    let s = Server::start_with(db, opts).await;
    let admin = s.admin_token().await;
    s.create_user(
        &admin,
        json!({"username": "dora", "password": "dora-password"}),
    )
    .await;
    (s, admin)
}

async fn forged_left_entries_do_not_escape_the_ip_limit(db: Db) {
    let (s, admin) = start(db, None).await;
    for i in 0..3 {
        let forged = format!("198.51.100.{i}, 10.0.0.{i}, 127.0.0.1");
        let status = wrong_password(&s, &format!("{forged}, {REAL_CLIENT}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let status = wrong_password(&s, &format!("198.51.100.99, {REAL_CLIENT}")).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the real client is limited"
    );
    // Another client behind the same proxy is not.
    assert_eq!(
        wrong_password(&s, "198.51.100.1, 203.0.113.8").await,
        StatusCode::UNAUTHORIZED
    );

    let addresses = failed_sign_in_addresses(&s, &admin).await;
    assert!(
        addresses.iter().filter(|ip| *ip == REAL_CLIENT).count() >= 3,
        "{addresses:?}"
    );
    assert!(
        addresses
            .iter()
            .all(|ip| ip == REAL_CLIENT || ip == "203.0.113.8"),
        "only real addresses are recorded: {addresses:?}"
    );
}

async fn headers_from_an_untrusted_peer_are_ignored(db: Db) {
    // Nobody is trusted: the TCP peer (127.0.0.1) is the client, whatever it claims.
    let (s, admin) = start(db, Some("")).await;
    for i in 0..3 {
        let status = wrong_password(&s, &format!("198.51.100.{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    assert_eq!(
        wrong_password(&s, "198.51.100.200").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let addresses = failed_sign_in_addresses(&s, &admin).await;
    assert!(!addresses.is_empty());
    assert!(
        addresses.iter().all(|ip| ip == "127.0.0.1"),
        "{addresses:?}"
    );
}

both_databases!(
    forged_left_entries_do_not_escape_the_ip_limit,
    headers_from_an_untrusted_peer_are_ignored,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deprecated_trust_proxy_headers_false_still_means_trust_nobody() {
    let s = Server::start_with(
        Db::Sqlite,
        ServerOptions::default()
            .env("AUTHGATE_TRUST_PROXY_HEADERS", "false")
            .env("AUTHGATE_IP_MAX_FAILURES", "1"),
    )
    .await;
    let admin = s.admin_token().await;
    s.create_user(
        &admin,
        json!({"username": "dora", "password": "dora-password"}),
    )
    .await;
    assert_eq!(
        wrong_password(&s, "198.51.100.1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        wrong_password(&s, "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[test]
fn proxy_settings_are_checked() {
    let text = refused_settings(&[("AUTHGATE_TRUST_PROXY_HEADERS", "true")]);
    assert!(text.contains("trusted_proxies"), "{text}");
    let text = refused_settings(&[("AUTHGATE_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")]);
    assert!(text.contains("proxy.internal"), "{text}");
    let text = refused_settings(&[
        ("AUTHGATE_TRUST_PROXY_HEADERS", "false"),
        ("AUTHGATE_TRUSTED_PROXIES", "10.0.0.1"),
    ]);
    assert!(text.contains("only trusted_proxies"), "{text}");
}
