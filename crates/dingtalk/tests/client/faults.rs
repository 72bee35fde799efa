use std::time::{Duration, Instant};

use authgate_dingtalk::{ClientCredentials, DingTalkClient, DingTalkConfig, Error};
use fake_dingtalk::{Endpoint, Fault, FaultRule, DEFAULT_CLIENT_SECRET};
use url::Url;

use crate::common::{assert_redacted, env, env_with_timeout};

#[tokio::test]
async fn timeout_is_recognisable_and_the_exchange_is_sent_once() {
    let env = env_with_timeout(Duration::from_millis(300)).await;
    env.fake
        .set_fault(FaultRule::new(Fault::Delay { ms: 1500 }).on(Endpoint::UserAccessToken));
    let code = env.code("alice");
    let started = Instant::now();
    let err = env
        .client
        .user_access_token(&env.creds, &code)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.is_dingtalk_down());
    assert!(started.elapsed() < Duration::from_millis(1200));
    assert_eq!(
        env.fake.requests_to(Endpoint::UserAccessToken).len(),
        1,
        "never retried"
    );
    assert_redacted(&err, &[&code, DEFAULT_CLIENT_SECRET]);
}

#[tokio::test]
async fn connection_reset_is_unreachable_and_not_retried() {
    let env = env().await;
    env.fake
        .set_fault(FaultRule::new(Fault::ConnectionReset).on(Endpoint::UserAccessToken));
    let code = env.code("alice");
    let err = env
        .client
        .user_access_token(&env.creds, &code)
        .await
        .unwrap_err();
    assert!(err.is_unreachable(), "{err:?}");
    assert!(!err.is_timeout());
    assert_eq!(
        env.fake.requests_to(Endpoint::UserAccessToken).len(),
        1,
        "never retried"
    );
    assert_redacted(&err, &[&code, DEFAULT_CLIENT_SECRET]);
}

#[tokio::test]
async fn reset_on_a_legacy_call_does_not_leak_the_app_token() {
    let env = env().await;
    let token = env.client.app_access_token(&env.creds).await.unwrap();
    env.fake
        .set_fault(FaultRule::new(Fault::ConnectionReset).on(Endpoint::GetByUnionId));
    let err = env
        .client
        .userid_by_unionid(&env.creds, "aLiCe0unionIdQvHZqQiEiE")
        .await
        .unwrap_err();
    assert!(err.is_unreachable(), "{err:?}");
    assert_redacted(&err, &[&token, "access_token="]);
}

#[tokio::test]
async fn nobody_listening_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let client = DingTalkClient::new(DingTalkConfig::single_host(base));
    let creds = ClientCredentials::new("app", "s3cret-value");
    let err = client.fetch_app_access_token(&creds).await.unwrap_err();
    assert!(err.is_unreachable(), "{err:?}");
    assert_eq!(err.request_id(), None);
    assert_redacted(&err, &["s3cret-value"]);
}

#[tokio::test]
async fn gateway_html_pages_keep_status_and_a_snippet() {
    let env = env().await;
    env.fake.set_fault(
        FaultRule::new(Fault::ServerError { status: 502 }).on(Endpoint::UserAccessToken),
    );
    let err = env
        .client
        .user_access_token(&env.creds, &env.code("alice"))
        .await
        .unwrap_err();
    match &err {
        Error::InvalidResponse {
            status,
            detail,
            request_id,
            ..
        } => {
            assert_eq!(*status, 502);
            assert!(detail.contains("502 Bad Gateway"), "{detail}");
            assert!(detail.len() < 260);
            assert!(request_id.is_some(), "the x-acs-request-id header is kept");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.is_dingtalk_down());

    env.fake
        .set_fault(FaultRule::new(Fault::ServerError { status: 500 }).on(Endpoint::UserGet));
    let err = env.client.user_get(&env.creds, "alice").await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidResponse { status: 500, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn malformed_json_is_an_invalid_response() {
    let env = env().await;
    env.fake
        .set_fault(FaultRule::new(Fault::MalformedJson).on(Endpoint::UserAccessToken));
    env.fake
        .set_fault(FaultRule::new(Fault::MalformedJson).on(Endpoint::GetByUnionId));
    let err = env
        .client
        .user_access_token(&env.creds, &env.code("alice"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidResponse { status: 200, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("malformed JSON"), "{err}");
    let err = env
        .client
        .userid_by_unionid(&env.creds, "aLiCe0unionIdQvHZqQiEiE")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidResponse { status: 200, .. }),
        "{err:?}"
    );
    assert!(!err.is_dingtalk_down());
}

#[tokio::test]
async fn a_failure_only_for_n_requests_clears_up() {
    let env = env().await;
    env.fake.set_fault(
        FaultRule::new(Fault::ServerError { status: 503 })
            .on(Endpoint::AppAccessToken)
            .times(1),
    );
    let err = env.client.app_access_token(&env.creds).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    env.client.app_access_token(&env.creds).await.unwrap();
}
