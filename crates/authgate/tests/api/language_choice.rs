use crate::both_databases;
use crate::support::*;
use reqwest::StatusCode;

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

both_databases!(
    dingtalk_failure_messages_follow_the_language_switch,
    option_help_exists_in_english_and_chinese
);
