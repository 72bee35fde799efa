//! The `dingtalk` authenticator's options: validation on save, what admins see, and what each
//! option does to a sign-in.

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use fake_dingtalk::{Endpoint, Fault, FaultRule, DEFAULT_CLIENT_SECRET};
use reqwest::StatusCode;
use serde_json::json;

async fn options_are_validated_and_the_secret_never_shown(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    let bad = |r: Reply, part: &str| {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(
            r.message().contains(part),
            "{:?} lacks {part:?}",
            r.message()
        );
    };
    let create = |name: &str, options: serde_json::Value| {
        s.post(
            "/api/authenticators:create",
            Some(&env.admin),
            json!({"name": name, "authType": "dingtalk", "options": options}),
        )
    };
    bad(
        create("d1", json!({"clientSecret": "x"})).await,
        "Client ID is required",
    );
    bad(
        create("d2", json!({"clientId": "x"})).await,
        "Client Secret is required",
    );
    bad(
        create("d3", json!({"clientId": "", "clientSecret": "x"})).await,
        "Client ID is required",
    );
    bad(
        env.create_authenticator_reply("d4", json!({"colour": "red"}))
            .await,
        "Unknown option 'colour'",
    );
    bad(
        env.create_authenticator_reply("d5", json!({"publicOrigin": "https://x.example.com/path"}))
            .await,
        "publicOrigin",
    );
    bad(
        env.create_authenticator_reply("d6", json!({"publicOrigin": "ftp://x"}))
            .await,
        "publicOrigin",
    );
    bad(
        env.create_authenticator_reply("d7", json!({"bindBy": "email"}))
            .await,
        "bindBy",
    );
    bad(
        env.create_authenticator_reply("d8", json!({"matchBy": ["phone", "phone"]}))
            .await,
        "matchBy",
    );
    bad(
        env.create_authenticator_reply("d9", json!({"allowedCorpIds": "ding1"}))
            .await,
        "allowedCorpIds",
    );
    bad(
        env.create_authenticator_reply("d10", json!({"prompt": "none"}))
            .await,
        "prompt",
    );
    bad(
        env.create_authenticator_reply("d11", json!({"autoSignup": "yes"}))
            .await,
        "autoSignup",
    );
    env.create_authenticator("auto1", json!({"autoLoginInClient": true}))
        .await;
    bad(
        env.create_authenticator_reply("auto2", json!({"autoLoginInClient": true}))
            .await,
        "already enabled on authenticator 'auto1'",
    );
    let r = env
        .update_options(AUTHENTICATOR, json!({"autoLoginInClient": true}))
        .await;
    bad(r, "only one DingTalk authenticator");
    assert_eq!(
        s.sql_count(
            "SELECT COUNT(*) FROM authenticators WHERE name LIKE 'd%' AND name <> 'dingtalk'"
        )
        .await,
        0
    );

    // Defaults, computed URLs, masked secret.
    let list = s.get("/api/authenticators:list", Some(&env.admin)).await;
    assert!(!list.text.contains(DEFAULT_CLIENT_SECRET));
    let a = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == AUTHENTICATOR)
        .unwrap()
        .clone();
    let o = &a["options"];
    assert_eq!(o["clientSecret"], "••••cdef");
    assert_eq!(o["autoSignup"], true);
    assert_eq!(o["bindBy"], "unionId");
    assert_eq!(o["matchBy"], json!(["phone"]));
    assert_eq!(o["restrictToOrg"], true);
    assert_eq!(o["allowedCorpIds"], json!([]));
    assert_eq!(o["autoLoginInClient"], false);
    assert_eq!(o["corpId"], "");
    assert_eq!(o["publicOrigin"], "");
    assert_eq!(o["prompt"], "consent");
    assert_eq!(o["syncProfile"], true);
    assert_eq!(o["tokenInRedirect"], false);
    assert_eq!(o["redirectUrl"], env.redirect_url());
    assert_eq!(
        o["autoLoginUrl"],
        s.url("/dingtalk/auto?authenticator=dingtalk&corpId=$CORPID$")
    );
    // Sealed at rest.
    let stored = s
        .sql_text("SELECT options FROM authenticators WHERE name = 'dingtalk'")
        .await
        .unwrap();
    assert!(!stored.contains(DEFAULT_CLIENT_SECRET) && stored.contains("enc:v1:"));
    // The public list shows no secret, and no server-only option.
    let public = s.get("/api/authenticators:publicList", None).await;
    assert!(!public.text.contains("clientSecret") && !public.text.contains("matchBy"));

    // Echoing the admin view back keeps the secret; publicOrigin moves the Redirect URL.
    let mut echoed = o.clone();
    echoed["publicOrigin"] = json!("https://auth.example.com");
    let r = env.update_options(AUTHENTICATOR, echoed).await;
    r.assert_ok();
    assert_eq!(
        r.body["data"]["options"]["redirectUrl"],
        "https://auth.example.com/api/dingtalk:redirect"
    );
    assert_eq!(r.body["data"]["options"]["clientSecret"], "••••cdef");
    // The secret never reached the log.
    assert!(!s.output().contains(DEFAULT_CLIENT_SECRET));
}

async fn bind_by_userid_and_mobile(db: Db) {
    let env = DingEnv::start(db, json!({"bindBy": "userid"})).await;
    env.create_authenticator("bymobile", json!({"bindBy": "mobile"}))
        .await;
    let mut b = Browser::new();
    b.sign_in_as(&env.s, AUTHENTICATOR, "zhangsan", None).await;
    b.sign_in_as(&env.s, "bymobile", "zhangsan", None).await;
    assert_eq!(
        env.s
            .sql_text("SELECT uuid FROM identities WHERE authenticator = 'dingtalk'")
            .await
            .unwrap(),
        "zhangsan"
    );
    assert_eq!(
        env.s
            .sql_text("SELECT uuid FROM identities WHERE authenticator = 'bymobile'")
            .await
            .unwrap(),
        "+8613900139000"
    );
    // Both bindings belong to the one user created by the first sign-in (matched by phone).
    assert_eq!(
        env.s
            .sql_count("SELECT COUNT(DISTINCT user_id) FROM identities")
            .await,
        1
    );
}

async fn match_by_org_email_and_personal_email(db: Db) {
    let env = DingEnv::start(db, json!({"matchBy": ["orgEmail"], "autoSignup": false})).await;
    env.create_authenticator(
        "byemail",
        json!({"matchBy": ["email"], "autoSignup": false}),
    )
    .await;
    let s = &env.s;
    let carol = s
        .create_user(
            &env.admin,
            json!({"username": "carol", "email": "Carol@Corp.Example.com"}),
        )
        .await;
    let dave = s
        .create_user(
            &env.admin,
            json!({"username": "dave", "email": "dave@example.com"}),
        )
        .await;
    let mut b = Browser::new();
    b.sign_in_as(s, AUTHENTICATOR, "carol.nomobile", None).await;
    assert_eq!(b.whoami(s).await.body["data"]["id"], carol);
    let mut b = Browser::new();
    b.sign_in_as(s, "byemail", "dave.us", None).await;
    assert_eq!(b.whoami(s).await.body["data"]["id"], dave);
    // Personal e-mail is not used unless asked for.
    let before = env.counts().await;
    let out = Browser::new()
        .sign_in_as(s, AUTHENTICATOR, "dave.us", None)
        .await;
    env.assert_refused(&out, before, "user_not_found", "User not found")
        .await;
}

async fn restrict_to_org_off_lets_outsiders_in(db: Db) {
    let env = DingEnv::start(db, json!({"restrictToOrg": false})).await;
    let mut b = Browser::new();
    let out = b
        .sign_in_as(&env.s, AUTHENTICATOR, "eve.outsider", None)
        .await;
    assert_eq!(out.location, "/");
    assert_eq!(
        b.whoami(&env.s).await.body["data"]["nickname"],
        "Eve Outsider"
    );
    assert!(env.fake.requests_to(Endpoint::GetByUnionId).len() <= 1);
}

async fn allowed_corp_ids_ask_for_the_corp_scope(db: Db) {
    let env = DingEnv::start(
        db,
        json!({"allowedCorpIds": ["dingcorp002"], "prompt": "login consent"}),
    )
    .await;
    let mut b = Browser::new();
    let url = b.get_auth_url(&env.s, AUTHENTICATOR, None).await;
    assert!(url.contains("&scope=openid%20corpid&"), "{url}");
    assert!(url.ends_with("&prompt=login%20consent"), "{url}");
    // Alice picks her second organisation, which is allowed.
    let back = b
        .authorize(&url, "&login_as=alice&corpId=dingcorp002")
        .await;
    assert_eq!(b.callback(&back).await.location, "/");
    let meta = env.s.sql_text("SELECT meta FROM identities").await.unwrap();
    assert!(meta.contains("\"corpId\":\"dingcorp002\""), "{meta}");
}

async fn sync_profile_refreshes_the_nickname(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    env.create_authenticator("nosync", json!({"syncProfile": false, "bindBy": "userid"}))
        .await;
    let s = &env.s;
    let mut b = Browser::new();
    b.sign_in_as(s, AUTHENTICATOR, "zhangsan", None).await;
    b.sign_in_as(s, "nosync", "zhangsan", None).await;
    let mut renamed = env.fake_user("zhangsan");
    renamed.nick = Some("张三丰".into());
    env.add_user(renamed);
    b.sign_in_as(s, "nosync", "zhangsan", None).await;
    assert_eq!(b.whoami(s).await.body["data"]["nickname"], "张三");
    assert_eq!(
        s.sql_text("SELECT nickname FROM identities WHERE authenticator = 'nosync'")
            .await
            .unwrap(),
        "张三"
    );
    b.sign_in_as(s, AUTHENTICATOR, "zhangsan", None).await;
    assert_eq!(b.whoami(s).await.body["data"]["nickname"], "张三丰");
    assert_eq!(
        s.sql_text("SELECT nickname FROM identities WHERE authenticator = 'dingtalk'")
            .await
            .unwrap(),
        "张三丰"
    );
}

async fn masked_phone_is_never_matched_but_another_field_may_be(db: Db) {
    let env = DingEnv::start(db, json!({"matchBy": ["phone", "orgEmail"]})).await;
    let s = &env.s;
    // Holds alice's real number; DingTalk only shows it masked (138****8000).
    let holder = s
        .create_user(
            &env.admin,
            json!({"username": "digits", "phone": "+8613800138000"}),
        )
        .await;
    env.fake.set_fault(FaultRule::new(Fault::MaskedMobile));
    let mut b = Browser::new();
    // Alice's organisation e-mail is still usable: no one has it, so she is signed up as a
    // new user, never linked through the masked number, and the masked number is not stored.
    b.sign_in_as(s, AUTHENTICATOR, "alice", None).await;
    let me = b.whoami(s).await;
    me.assert_ok();
    assert_ne!(me.body["data"]["id"], holder);
    assert_eq!(me.body["data"]["phone"], serde_json::Value::Null);
    assert_eq!(me.body["data"]["email"], "alice@corp.example.com");
}

both_databases!(
    options_are_validated_and_the_secret_never_shown,
    bind_by_userid_and_mobile,
    match_by_org_email_and_personal_email,
    restrict_to_org_off_lets_outsiders_in,
    allowed_corp_ids_ask_for_the_corp_scope,
    sync_profile_refreshes_the_nickname,
    masked_phone_is_never_matched_but_another_field_may_be,
);
