use fake_dingtalk::{Endpoint, Fault, FaultRule, DEFAULT_CLIENT_ID};

use crate::common::{assert_redacted, env};

const ALICE_UNION: &str = "aLiCe0unionIdQvHZqQiEiE";

#[tokio::test]
async fn unionid_to_userid() {
    let env = env().await;
    let found = env
        .client
        .userid_by_unionid(&env.creds, ALICE_UNION)
        .await
        .unwrap();
    assert_eq!(found.userid, "alice");
    assert_eq!(found.contact_type, Some(0));
    let sent = env.fake.requests_to(Endpoint::GetByUnionId);
    assert_eq!(sent[0].json().unwrap()["unionid"], ALICE_UNION);
    let app_token = env.client.app_access_token(&env.creds).await.unwrap();
    assert_eq!(sent[0].query_param("access_token"), Some(app_token));
}

#[tokio::test]
async fn outsiders_are_recognisable() {
    let env = env().await;
    let err = env
        .client
        .userid_by_unionid(&env.creds, "eVeOuTsIdEr0unionIdM3QiEiE")
        .await
        .unwrap_err();
    assert!(err.is_not_org_member(), "{err}");
    assert_eq!(err.errcode(), Some(60121));
    assert!(err.request_id().is_some());
}

#[tokio::test]
async fn org_user_details() {
    let env = env().await;
    env.fake
        .set_fault(FaultRule::new(Fault::ExtraFields).on(Endpoint::UserGet));
    let alice = env.client.user_get(&env.creds, "alice").await.unwrap();
    assert_eq!(alice.userid, "alice");
    assert_eq!(alice.unionid.as_deref(), Some(ALICE_UNION));
    assert_eq!(alice.name.as_deref(), Some("Alice Wang"));
    assert_eq!(alice.mobile.as_deref(), Some("13800138000"));
    assert_eq!(alice.state_code.as_deref(), Some("86"));
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert_eq!(alice.org_email.as_deref(), Some("alice@corp.example.com"));
    assert_eq!(alice.title.as_deref(), Some("Engineering Manager"));
    assert_eq!(alice.job_number.as_deref(), Some("E0001"));
    assert_eq!(alice.active, Some(true));
    assert_eq!(alice.admin, Some(true));
    assert_eq!(alice.dept_id_list, vec![1, 100]);
    assert!(alice.extra.contains_key("fakeUnknownField"));
    assert!(alice.extra.contains_key("hide_mobile"));

    let bob = env
        .client
        .user_get(&env.creds, "bob.noemail")
        .await
        .unwrap();
    assert_eq!((bob.email, bob.org_email), (None, None));
    let err = env
        .client
        .user_get(&env.creds, "eve.outsider")
        .await
        .unwrap_err();
    assert!(err.is_not_org_member());
}

#[tokio::test]
async fn in_client_code_resolves_once() {
    let env = env().await;
    let code = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, "zhangsan")
        .unwrap();
    let user = env
        .client
        .user_info_by_code(&env.creds, &code)
        .await
        .unwrap();
    assert_eq!(user.userid, "zhangsan");
    assert_eq!(user.unionid.as_deref(), Some("zHaNgSaN0unionId7aRvQiEiE"));
    assert_eq!(user.name.as_deref(), Some("张三"));
    assert_eq!(user.sys, Some(false));
    assert_eq!(user.sys_level, Some(0));
    assert!(user.device_id.is_some());
    assert_eq!(user.associated_unionid, None, "empty string means absent");
    assert_eq!(
        env.fake.requests_to(Endpoint::GetUserInfo)[0]
            .json()
            .unwrap()["code"],
        code.as_str()
    );

    let err = env
        .client
        .user_info_by_code(&env.creds, &code)
        .await
        .unwrap_err();
    assert!(err.is_invalid_code(), "{err}");
    assert_eq!(err.errcode(), Some(40078));
    assert_redacted(&err, &[&code]);
}

#[tokio::test]
async fn rejected_app_token_is_dropped_and_retried_once() {
    let env = env().await;
    let old = env.client.app_access_token(&env.creds).await.unwrap();
    env.fake.revoke_app_tokens(None);
    env.fake.clear_requests();

    let found = env
        .client
        .userid_by_unionid(&env.creds, ALICE_UNION)
        .await
        .unwrap();
    assert_eq!(found.userid, "alice");
    let lookups = env.fake.requests_to(Endpoint::GetByUnionId);
    assert_eq!(lookups.len(), 2);
    assert_eq!(lookups[0].query_param("access_token"), Some(old.clone()));
    assert_ne!(lookups[1].query_param("access_token"), Some(old));
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 1);
}

#[tokio::test]
async fn calls_with_a_code_are_not_retried_on_40014() {
    let env = env().await;
    env.client.app_access_token(&env.creds).await.unwrap();
    env.fake.revoke_app_tokens(None);
    env.fake.clear_requests();
    let code = env
        .fake
        .mint_in_client_code(DEFAULT_CLIENT_ID, "alice")
        .unwrap();

    let err = env
        .client
        .user_info_by_code(&env.creds, &code)
        .await
        .unwrap_err();
    assert!(err.is_invalid_token(), "{err}");
    assert_eq!(env.fake.requests_to(Endpoint::GetUserInfo).len(), 1);
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 0);

    // But the bad token was dropped: the next call fetches a fresh one.
    env.client
        .userid_by_unionid(&env.creds, ALICE_UNION)
        .await
        .unwrap();
    assert_eq!(env.fake.requests_to(Endpoint::AppAccessToken).len(), 1);
    assert_eq!(env.fake.requests_to(Endpoint::GetByUnionId).len(), 1);
}

#[tokio::test]
async fn legacy_permission_denied() {
    let env = env().await;
    env.fake.set_fault(
        FaultRule::new(Fault::PermissionDenied {
            required_scopes: vec!["fieldMobile".into()],
        })
        .on(Endpoint::UserGet),
    );
    let err = env.client.user_get(&env.creds, "alice").await.unwrap_err();
    assert!(err.is_permission_denied(), "{err}");
    assert!(err.to_string().contains("fieldMobile"));
}
