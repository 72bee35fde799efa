//! Password-guess limits under concurrency and from many addresses (attack campaign: 30
//! concurrent wrong passwords were all checked, 19 wrong and the right one sent together
//! signed in, and the per-IP limit failed the same way, on one node and across two).
//! Addresses are set through X-Forwarded-For, which authgate believes from loopback peers.

use crate::multi_node::node_options;
use crate::support::*;
use crate::{both_databases, postgres_only};
use reqwest::StatusCode;
use serde_json::json;

async fn sign_in_from(s: &Server, ip: &str, account: &str, password: &str) -> Reply {
    let r = s
        .http
        .post(s.url("/api/auth:signIn"))
        .header("X-Authenticator", "basic")
        .header("X-Forwarded-For", ip)
        .json(&json!({"account": account, "password": password}))
        .send()
        .await
        .unwrap();
    Reply::from(r).await
}

/// Sends every (node, account, password) at once; returns the statuses.
async fn all_at_once(attempts: Vec<(&Server, String, String)>) -> Vec<StatusCode> {
    let tasks: Vec<_> = attempts
        .into_iter()
        .map(|(s, account, password)| {
            let request = s
                .http
                .post(s.url("/api/auth:signIn"))
                .header("X-Authenticator", "basic")
                .json(&json!({"account": account, "password": password}));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::with_capacity(tasks.len());
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}

async fn concurrent_guesses_get_no_more_than_the_limit(db: Db) {
    let s = Server::start(db).await;
    let statuses = all_at_once(
        (0..30)
            .map(|i| (&s, "admin".to_string(), format!("wrong-password-{i}")))
            .collect(),
    )
    .await;
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        5,
        "exactly the limit of 5 guesses is checked: {statuses:?}"
    );
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 25);
    let r = s.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
}

async fn the_right_password_among_concurrent_guesses_gets_no_extra_chance(db: Db) {
    let s = Server::start(db).await;
    let mut attempts: Vec<_> = (0..19)
        .map(|i| (&s, "admin".to_string(), format!("wrong-password-{i}")))
        .collect();
    attempts.insert(10, (&s, "admin".to_string(), ADMIN_PASSWORD.to_string()));
    let statuses = all_at_once(attempts).await;
    // Five wrong guesses are checked, and no more. The right password signs in only if it got
    // one of the slots before the fifth failure locked the account (a success frees its slot,
    // so a waiting guess may take it, but it wipes no failure: still five).
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        5,
        "{statuses:?}"
    );
    let signed_in = count(&statuses, StatusCode::OK);
    assert!(signed_in <= 1);
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        15 - signed_in
    );
}

async fn the_address_limit_holds_under_concurrency(db: Db) {
    let s = Server::start_with(
        db,
        ServerOptions::default().env("AUTHGATE_IP_MAX_FAILURES", "10"),
    )
    .await;
    let statuses = all_at_once(
        (0..30)
            .map(|i| (&s, format!("nobody-{i}"), "whatever-pw".to_string()))
            .collect(),
    )
    .await;
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        10,
        "{statuses:?}"
    );
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 20);
}

async fn a_guesser_locks_out_only_their_own_address(db: Db) {
    let s = Server::start(db).await;
    let attacker = "203.0.113.7";
    for i in 0..5 {
        let r = sign_in_from(&s, attacker, "admin", &format!("guess-{i}")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    let r = sign_in_from(&s, attacker, "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    let retry: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((840..=900).contains(&retry), "{retry}");
    // The account's owner, elsewhere, signs in as usual.
    let r = sign_in_from(&s, "198.51.100.20", "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn guesses_from_many_addresses_lock_the_account_briefly_at_first(db: Db) {
    let s = Server::start_with(
        db,
        ServerOptions::default().env("AUTHGATE_ACCOUNT_TOTAL_MAX_FAILURES", "8"),
    )
    .await;
    for i in 0..8 {
        let r = sign_in_from(&s, &format!("203.0.113.{i}"), "admin", "guess").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    // Every address is refused now, the owner's too, but for a minute, not fifteen.
    let r = sign_in_from(&s, "198.51.100.20", "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    let retry: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another account is not affected.
    let r = sign_in_from(&s, "198.51.100.20", "someone", "whatever-pw").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}

async fn username_and_email_share_one_count(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    s.create_user(
        &admin,
        json!({"username": "ada", "email": "ada@example.com", "password": "ada-Passw0rd!"}),
    )
    .await;
    for account in ["ada", "ADA", "ada@example.com", "Ada@Example.com", "ada"] {
        let r = s.sign_in_reply("basic", account, "wrong-password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{account}: {}", r.text);
    }
    let r = s
        .sign_in_reply("basic", "ada@example.com", "ada-Passw0rd!")
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
}

/// Every guess with a made-up account name leaves a counter: counters left idle are deleted
/// (at start and then every ten minutes), counters still counting are kept.
async fn idle_failure_counters_are_purged(db: Db) {
    let mut s = Server::start(db).await;
    for i in 0..3 {
        let r = s
            .sign_in_reply("basic", &format!("made-up-{i}"), "whatever-pw")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Two of them a day old, as if the server had been running all along.
    s.sql(
        "UPDATE signin_failures SET window_started_at = window_started_at - 86400000 \
         WHERE key LIKE '%made-up-0%' OR key LIKE '%made-up-1%'",
    )
    .await;
    let count = "SELECT COUNT(*) FROM signin_failures WHERE key LIKE '%made-up-%'";
    assert_eq!(s.sql_count(count).await, 6);
    s.restart().await;
    let since = std::time::Instant::now();
    while s.sql_count(count).await != 2 {
        assert!(
            since.elapsed() < std::time::Duration::from_secs(5),
            "not purged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn concurrent_guesses_across_two_nodes_get_no_more_than_the_limit(db: Db) {
    let a = Server::start_with(db, node_options()).await;
    let b = a.start_node(node_options()).await;
    let statuses = all_at_once(
        (0..30)
            .map(|i| {
                let node = if i % 2 == 0 { &a } else { &b };
                (node, "admin".to_string(), format!("wrong-password-{i}"))
            })
            .collect(),
    )
    .await;
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        5,
        "{statuses:?}"
    );
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 25);
}

both_databases!(
    concurrent_guesses_get_no_more_than_the_limit,
    the_right_password_among_concurrent_guesses_gets_no_extra_chance,
    the_address_limit_holds_under_concurrency,
    a_guesser_locks_out_only_their_own_address,
    guesses_from_many_addresses_lock_the_account_briefly_at_first,
    username_and_email_share_one_count,
    idle_failure_counters_are_purged,
);

mod nodes {
    use super::*;
    postgres_only!(concurrent_guesses_across_two_nodes_get_no_more_than_the_limit);
}
