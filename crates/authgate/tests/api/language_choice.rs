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
    let location = |lang: &'static str| {
        let http = http.clone();
        let url = s.url("/api/dingtalk:redirect?authCode=forged&state=forged");
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
            let error = url::Url::parse(&format!("http://x{loc}"))
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "error")
                .unwrap()
                .1
                .to_string();
            error
        }
    };
    let zh = location("zh-CN").await;
    assert!(
        zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{zh}"
    );
    let en = location("en").await;
    assert!(en.is_ascii(), "{en}");
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
