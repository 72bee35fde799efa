use std::sync::Arc;

use authgate_dingtalk::ClientCredentials;
use fake_dingtalk::{Endpoint, Fault, FaultRule, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::json;

use crate::common::{assert_redacted, env};

#[tokio::test]
async fn app_token_is_cached() {
    let env = env().await;
    let first = env.client.app_access_token(&env.creds).await.unwrap();
    let second = env.client.app_access_token(&env.creds).await.unwrap();
    assert_eq!(first, second);
    let fetches = env.fake.requests_to(Endpoint::AppAccessToken);
    assert_eq!(fetches.len(), 1);
    assert_eq!(
        fetches[0].json().unwrap(),
        json!({"appKey": DEFAULT_CLIENT_ID, "appSecret": DEFAULT_CLIENT_SECRET})
    );
    // Clones share the cache.
    let clone = env.client.clone();
    clone.app_access_token(&env.creds).await.unwrap();
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_callers_cause_one_fetch() {
    let env = env().await;
    // Slow DingTalk down so all callers overlap with the one fetch.
    env.fake
        .set_fault(FaultRule::new(Fault::Delay { ms: 200 }).on(Endpoint::AppAccessToken));
    let client = env.client.clone();
    let creds = Arc::new(env.creds.clone());
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            let creds = creds.clone();
            tokio::spawn(async move { client.app_access_token(&creds).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1);
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_a_failed_fetch() {
    let env = env().await;
    env.fake
        .set_fault(FaultRule::new(Fault::Delay { ms: 200 }).on(Endpoint::AppAccessToken));
    env.fake
        .set_fault(FaultRule::new(Fault::ServerError { status: 502 }).on(Endpoint::AppAccessToken));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let client = env.client.clone();
            let creds = env.creds.clone();
            tokio::spawn(async move { client.app_access_token(&creds).await })
        })
        .collect();
    for task in tasks {
        let err = task.await.unwrap().unwrap_err();
        assert_eq!(err.status(), Some(502));
    }
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 1);

    // A later caller tries again.
    env.fake.clear_faults();
    env.client.app_access_token(&env.creds).await.unwrap();
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 2);
}

#[tokio::test]
async fn uncached_fetch_invalidate_and_secret_change() {
    let env = env().await;
    let fetched = env.client.fetch_app_access_token(&env.creds).await.unwrap();
    assert_eq!(fetched.expire_in, 7200);
    env.client.fetch_app_access_token(&env.creds).await.unwrap();
    assert_eq!(
        env.fake.requests_to(Endpoint::AppAccessToken).len(),
        2,
        "never cached"
    );

    env.client.app_access_token(&env.creds).await.unwrap();
    env.client.app_access_token(&env.creds).await.unwrap();
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 3);
    env.client.invalidate_app_token(DEFAULT_CLIENT_ID);
    env.client.app_access_token(&env.creds).await.unwrap();
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 4);

    // A changed secret is not served the old secret's token.
    let wrong = ClientCredentials::new(DEFAULT_CLIENT_ID, "changed-secret");
    let err = env.client.app_access_token(&wrong).await.unwrap_err();
    assert!(err.is_invalid_credentials(), "{err}");
    assert_redacted(&err, &["changed-secret"]);
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 5);
}

#[tokio::test]
async fn string_expire_in_on_the_app_token() {
    let env = env().await;
    env.fake
        .set_fault(FaultRule::new(Fault::StringExpireIn).on(Endpoint::AppAccessToken));
    let token = env.client.fetch_app_access_token(&env.creds).await.unwrap();
    assert_eq!(token.expire_in, 7200);
    assert!(!format!("{token:?}").contains(&token.access_token));
}
