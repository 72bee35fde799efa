//! The provider on two nodes behind a load balancer: whichever node the relying party's
//! requests reach, a code is redeemed exactly once, and what one node ends the other refuses.

use crate::both_databases;
use crate::multi_node::{node_options, LOAD_BALANCER};
use crate::oidc_support::*;
use crate::support::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// How many token requests a node's log shows.
fn token_requests(log: &str) -> usize {
    log.matches("/oidc/token").count()
}

/// `url` (at the load balancer) as delivered to the node at `base`.
fn at_node(url: &str, base: &str) -> String {
    url.replacen(LOAD_BALANCER, base, 1)
}

async fn a_code_from_one_node_is_redeemed_once_on_the_other(db: Db) {
    let env = OidcEnv::start_with(db, node_options()).await;
    let a = &env.s;
    let b = a.start_node(node_options()).await;
    let client = env.register(json!({})).await;
    // openid-client knows the issuer (the load balancer); its requests reach node A first.
    let rel = env
        .discover_at(
            &client,
            client.client_secret.as_deref(),
            json!({}),
            LOAD_BALANCER,
            Some(&a.base),
        )
        .await
        .unwrap();
    let req = rel
        .auth_request(json!({"scope": "openid offline_access"}))
        .await;
    assert!(req.url.starts_with(LOAD_BALANCER), "{}", req.url);
    let mut browser = Browser::new();
    let r = env
        .visit_signing_in(
            &mut browser,
            &at_node(&req.url, &a.base),
            ALICE,
            ALICE_PASSWORD,
        )
        .await;
    let cb = env.callback(&r);
    assert_eq!(
        query_param(callback_url(&cb), "iss").as_deref(),
        Some(LOAD_BALANCER)
    );

    // Redeemed on node B (its log shows the token request arrived there).
    rel.route_to(&b.base).await;
    let before = token_requests(&b.output());
    let t = rel
        .grant(&req, &cb)
        .await
        .expect("node B redeems node A's code");
    let log = b.output_once(|o| token_requests(o) > before).await;
    assert!(token_requests(&log) > before, "the code went to node B");
    rel.userinfo(&t.access_token, "GET", Some(&t.sub()))
        .await
        .unwrap();
    // Once: node A refuses it now, and B too.
    for node in [&a.base, &b.base] {
        rel.route_to(node).await;
        let e = rel.grant(&req, &cb).await.expect_err("a code works once");
        assert_eq!(e.error(), "invalid_grant", "{node}: {e:?}");
    }
    // The reuse ended the grant on both nodes (within the second nodes promise each other).
    for node in [&a.base, &b.base] {
        rel.route_to(node).await;
        let since = Instant::now();
        loop {
            match rel.userinfo(&t.access_token, "GET", None).await {
                Err(e) if e.error() == "invalid_token" => break,
                other => assert!(
                    since.elapsed() < Duration::from_millis(1500),
                    "{node} still accepts the token: {other:?}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let e = rel
            .refresh(t.refresh_token.as_deref().unwrap())
            .await
            .expect_err("the refresh token ended with its grant");
        assert_eq!(e.error(), "invalid_grant", "{node}: {e:?}");
    }

    // Refresh tokens rotate across nodes: used on A, its reuse on B ends the family.
    rel.route_to(&a.base).await;
    let req = rel
        .auth_request(json!({"scope": "openid offline_access"}))
        .await;
    let r = browser.get(&at_node(&req.url, &a.base)).await;
    let t = rel.grant(&req, &env.callback(&r)).await.unwrap();
    let first = t.refresh_token.unwrap();
    let r = rel.refresh(&first).await.unwrap();
    rel.route_to(&b.base).await;
    let e = rel
        .refresh(&first)
        .await
        .expect_err("a rotated refresh token");
    assert_eq!(e.error(), "invalid_grant");
    rel.route_to(&a.base).await;
    let e = rel
        .refresh(r.refresh_token.as_deref().unwrap())
        .await
        .expect_err("its family ended");
    assert_eq!(e.error(), "invalid_grant");
}

both_databases!(a_code_from_one_node_is_redeemed_once_on_the_other);
