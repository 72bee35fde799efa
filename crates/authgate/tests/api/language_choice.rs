use crate::both_databases;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

/// The language switch (the `lang` cookie) wins over Accept-Language, also for the message a
/// failed DingTalk round trip brings back to the sign-in page.
async fn dingtalk_failure_messages_follow_the_language_switch(db: Db) {
    let s = Server::start(db).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The callback's link names the reason; the sign-in page it leads to speaks the
    // language the switch chose (the cookie), not the browser's Accept-Language.
    let shown = |lang: &'static str| {
        let http = http.clone();
        let url = s.url("/api/dingtalk:redirect?authCode=forged&state=forged");
        let base = s.base.clone();
        async move {
            let r = http
                .get(url)
                .header("accept-language", "en-US,en;q=0.9")
                .header("cookie", format!("lang={lang}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FOUND);
            let loc = r.headers()["location"].to_str().unwrap().to_string();
            assert!(loc.contains("error=state_unknown"), "{loc}");
            http.get(format!("{base}{loc}"))
                .header("accept-language", "en-US,en;q=0.9")
                .header("cookie", format!("lang={lang}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let zh = shown("zh-CN").await;
    assert!(zh.contains("登录链接无效或已被使用"), "{zh}");
    let en = shown("en").await;
    assert!(
        en.contains("This sign-in link is invalid or was already used"),
        "{en}"
    );
}

/// Every option of every auth type has help text in both languages for the admin form.
async fn option_help_exists_in_english_and_chinese(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let types = s.get("/api/authenticators:listTypes", Some(&admin)).await;
    for t in types.body["data"].as_array().unwrap() {
        for o in t["options"].as_array().unwrap() {
            for key in ["title", "titleZh", "description", "descriptionZh"] {
                assert!(
                    !o[key].as_str().unwrap_or_default().is_empty(),
                    "{} {} lacks {key}",
                    t["name"],
                    o["name"]
                );
            }
        }
    }
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// One request of each kind of refusal the API gives, asked in English and in Chinese (by
/// Accept-Language, and by the `lang` cookie over an English Accept-Language): the same code
/// and status, the message in the reader's language, never the other.
async fn every_error_code_answers_in_the_readers_language(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    s.create_user(
        &admin,
        json!({"username": "wangfang", "password": "wangfang-pass-1"}),
    )
    .await;
    let user = s.sign_in("wangfang", "wangfang-pass-1").await;
    let big = "x".repeat(2 * 1024 * 1024);
    // (what, method, path, token, headers, body, expected code)
    type Case<'a> = (
        &'a str,
        &'a str,
        String,
        Option<&'a str>,
        Vec<(&'a str, &'a str)>,
        Option<String>,
        &'a str,
    );
    let json = |v: serde_json::Value| Some(v.to_string());
    let cases: Vec<Case> = vec![
        (
            "wrong type in a body",
            "POST",
            "/api/users:create".into(),
            Some(&admin),
            vec![],
            json(json!({"username": 123})),
            "INVALID_REQUEST",
        ),
        (
            "unknown field",
            "POST",
            "/api/users:create".into(),
            Some(&admin),
            vec![],
            json(json!({"usernmae": "x"})),
            "INVALID_REQUEST",
        ),
        (
            "not JSON",
            "POST",
            "/api/users:create".into(),
            Some(&admin),
            vec![],
            Some("{".into()),
            "INVALID_REQUEST",
        ),
        (
            "empty number in a query",
            "POST",
            "/api/sessions:revokeUser?userId=".into(),
            Some(&admin),
            vec![],
            None,
            "INVALID_REQUEST",
        ),
        (
            "bad filterByTk",
            "GET",
            "/api/users:get?filterByTk=abc".into(),
            Some(&admin),
            vec![],
            None,
            "INVALID_REQUEST",
        ),
        (
            "bad paging",
            "GET",
            "/api/users:list?pageSize=1000".into(),
            Some(&admin),
            vec![],
            None,
            "INVALID_REQUEST",
        ),
        (
            "short password",
            "POST",
            "/api/users:create".into(),
            Some(&admin),
            vec![],
            json(json!({"username": "li", "password": "short"})),
            "INVALID_REQUEST",
        ),
        (
            "taken username",
            "POST",
            "/api/users:create".into(),
            Some(&admin),
            vec![],
            json(json!({"username": "wangfang", "password": "another-pass-1"})),
            "INVALID_REQUEST",
        ),
        (
            "bad token policy",
            "POST",
            "/api/tokenPolicies:update".into(),
            Some(&admin),
            vec![],
            json(
                json!({"config": {"tokenExpirationTime": "soon", "sessionExpirationTime": "7d", "expiredTokenRenewLimit": "0"}}),
            ),
            "INVALID_REQUEST",
        ),
        (
            "no authenticator header",
            "POST",
            "/api/auth:signIn".into(),
            None,
            vec![],
            json(json!({"account": "a", "password": "b"})),
            "INVALID_REQUEST",
        ),
        (
            "unknown authenticator",
            "POST",
            "/api/auth:signIn".into(),
            None,
            vec![("x-authenticator", "nope")],
            json(json!({"account": "a", "password": "b"})),
            "INVALID_REQUEST",
        ),
        (
            "wrong password",
            "POST",
            "/api/auth:signIn".into(),
            None,
            vec![("x-authenticator", "basic")],
            json(json!({"account": "wangfang", "password": "wrong-password"})),
            "INVALID_CREDENTIALS",
        ),
        (
            "no JSON content type",
            "POST",
            "/api/users:create".into(),
            Some(&admin),
            vec![("content-type", "text/plain")],
            Some("{}".into()),
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "no token",
            "GET",
            "/api/auth:check".into(),
            None,
            vec![],
            None,
            "EMPTY_TOKEN",
        ),
        (
            "a forged token",
            "GET",
            "/api/auth:check".into(),
            Some("not.a.token"),
            vec![],
            None,
            "INVALID_TOKEN",
        ),
        (
            "not an admin",
            "GET",
            "/api/users:list".into(),
            Some(&user),
            vec![],
            None,
            "FORBIDDEN",
        ),
        (
            "no such user",
            "GET",
            "/api/users:get?filterByTk=999999".into(),
            Some(&admin),
            vec![],
            None,
            "NOT_FOUND",
        ),
        (
            "no such route",
            "GET",
            "/api/nothing:here".into(),
            None,
            vec![],
            None,
            "NOT_FOUND",
        ),
        (
            "too large",
            "POST",
            "/api/users:create".into(),
            Some(&admin),
            vec![],
            Some(format!("{{\"username\": \"{big}\"}}")),
            "PAYLOAD_TOO_LARGE",
        ),
        (
            "cookie without CSRF",
            "POST",
            "/api/auth:signOut".into(),
            None,
            vec![("cookie", "authgate_token=abc")],
            None,
            "CSRF_TOKEN_INVALID",
        ),
    ];
    for (what, method, path, token, headers, body, code) in &cases {
        let mut texts = Vec::new();
        for (accept, cookie) in [
            ("en-US,en;q=0.9", None),
            ("zh-CN,zh;q=0.9", None),
            ("en-US", Some("lang=zh-CN")),
        ] {
            // A client of its own: the server closes a connection whose body it refused.
            let mut req = reqwest::Client::new()
                .request(method.parse().unwrap(), s.url(path))
                .header("accept-language", accept);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let mut cookies: Vec<String> = cookie.iter().map(|c| c.to_string()).collect();
            let mut typed = false;
            for (k, v) in headers {
                if *k == "cookie" {
                    cookies.push(v.to_string());
                } else {
                    typed |= *k == "content-type";
                    req = req.header(*k, *v);
                }
            }
            if !cookies.is_empty() {
                req = req.header("cookie", cookies.join("; "));
            }
            if let Some(b) = body {
                if !typed {
                    req = req.header("content-type", "application/json");
                }
                req = req.body(b.clone());
            }
            let r = Reply::from(req.send().await.unwrap()).await;
            assert_eq!(r.body["errors"][0]["code"], *code, "{what}: {}", r.text);
            texts.push((
                r.status,
                r.body["errors"][0]["message"].as_str().unwrap().to_string(),
            ));
        }
        let (en, zh, zh_by_cookie) = (&texts[0], &texts[1], &texts[2]);
        assert!(
            !has_chinese(&en.1),
            "{what}: English answer in Chinese: {}",
            en.1
        );
        assert!(
            has_chinese(&zh.1),
            "{what}: Chinese answer in English: {}",
            zh.1
        );
        assert_eq!(zh, zh_by_cookie, "{what}: the lang cookie chooses Chinese");
        assert_eq!(en.0, zh.0, "{what}: the same status in both languages");
    }
    // A locked account: when to try again, in minutes, in both languages.
    let locked = |lang: &'static str| {
        let http = reqwest::Client::new();
        let url = s.url("/api/auth:signIn");
        async move {
            let r = http
                .post(url)
                .header("x-authenticator", "basic")
                .header("accept-language", lang)
                .json(&json!({"account": "wangfang", "password": "still-wrong"}))
                .send()
                .await
                .unwrap();
            Reply::from(r).await
        }
    };
    let mut tries = 0;
    while locked("en").await.status != StatusCode::TOO_MANY_REQUESTS {
        tries += 1;
        assert!(tries < 10, "the account locks after a few wrong passwords");
    }
    let (en, zh) = (locked("en").await, locked("zh-CN").await);
    assert_eq!(
        en.body["errors"][0]["message"],
        "Too many failed sign-in attempts. Please try again in 15 minutes"
    );
    assert_eq!(
        zh.body["errors"][0]["message"],
        "登录失败次数过多，请在 15 分钟后重试"
    );

    // The field is named, in words, not serde's.
    let r = s
        .http
        .post(s.url("/api/tokenPolicies:update"))
        .bearer_auth(&admin)
        .header("accept-language", "zh-CN")
        .json(&json!({"config": {"tokenExpirationTime": 5, "sessionExpirationTime": "7d", "expiredTokenRenewLimit": "0"}}))
        .send()
        .await
        .unwrap();
    let r = Reply::from(r).await;
    assert_eq!(
        r.body["errors"][0]["message"],
        "“config.tokenExpirationTime”应为文本，而不是数字 5"
    );
}

/// An authenticator created without a title of its own is named after its type in the
/// reader's language, on the sign-in page and in the public list (the stored title stays
/// empty, as the console would leave it).
async fn an_authenticator_without_a_title_is_named_in_the_readers_language(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let created = s
        .post(
            "/api/authenticators:create",
            Some(&admin),
            json!({"name": "dingtalk", "authType": "dingtalk", "enabled": true,
                   "options": {"clientId": "ding-id", "clientSecret": "ding-secret"}}),
        )
        .await;
    created.assert_ok();
    assert_eq!(created.body["data"]["title"], "");
    let shown = |lang: &'static str, path: &'static str| {
        let url = s.url(path);
        async move {
            reqwest::Client::new()
                .get(url)
                .header("accept-language", lang)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let titles = |body: String| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        titles(shown("en", "/api/authenticators:publicList").await),
        ["Password", "DingTalk"]
    );
    assert_eq!(
        titles(shown("zh-CN", "/api/authenticators:publicList").await),
        ["密码", "钉钉"]
    );
    let zh = shown("zh-CN", "/signin").await;
    assert!(
        zh.contains(">钉钉登录</button>") && !zh.contains("DingTalk</button>"),
        "{zh}"
    );
    let en = shown("en", "/signin").await;
    assert!(en.contains(">Sign in via DingTalk</button>"), "{en}");
}

both_databases!(
    an_authenticator_without_a_title_is_named_in_the_readers_language,
    dingtalk_failure_messages_follow_the_language_switch,
    option_help_exists_in_english_and_chinese,
    every_error_code_answers_in_the_readers_language
);
