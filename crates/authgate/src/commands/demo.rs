//! `authgate demo`: the server plus an embedded fake DingTalk with sample employees and a
//! DingTalk authenticator configured against it, so a newcomer sees the whole flow at once.

use super::serve;
use crate::settings::Settings;
use anyhow::Context;
use authgate_core::clock::now_ms;
use authgate_core::model::NewAuthenticator;
use fake_dingtalk::{FakeConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_CORP_ID};
use serde_json::{json, Map};
use std::path::PathBuf;

/// Known to the newcomer: printed at every start (a demo holds nothing worth protecting).
const DEMO_ADMIN_PASSWORD: &str = "authgate-demo";

pub async fn run(mut settings: Settings, fake_port: Option<u16>) -> anyhow::Result<()> {
    // Demo data never mixes with a real installation's.
    if settings.database_url.is_none()
        && settings.data_dir.as_path() == std::path::Path::new("./data")
    {
        settings.data_dir = PathBuf::from("./data-demo");
    }
    let fake_listener = tokio::net::TcpListener::bind(("127.0.0.1", fake_port.unwrap_or(0)))
        .await
        .context("cannot start the fake DingTalk")?;
    let fake_base = format!("http://{}", fake_listener.local_addr()?);
    settings.dingtalk.login_base = fake_base.clone();
    settings.dingtalk.api_base = fake_base.clone();
    settings.dingtalk.oapi_base = fake_base.clone();
    let password = settings
        .admin_password
        .clone()
        .unwrap_or_else(|| DEMO_ADMIN_PASSWORD.to_string());
    settings.admin_password = Some(password.clone());

    let (state, listener) = serve::prepare(&settings).await?;
    let redirect_url = format!("{}/api/dingtalk:redirect", state.config.public_origin());
    let fake_config = FakeConfig::default()
        .with_app(FakeConfig::default_app().with_redirect_uri(redirect_url.clone()));
    let users: Vec<String> = fake_config
        .users
        .iter()
        .map(|u| format!("{} ({})", u.userid, u.display_name()))
        .collect();
    tokio::spawn(async move {
        if let Err(e) = fake_dingtalk::serve(fake_listener, fake_config).await {
            tracing::error!(error = %e, "the fake DingTalk stopped");
        }
    });

    // The admin's password is the demo one even when the demo database already existed.
    if let Some(admin) = state
        .store
        .find_user_by_account(&settings.admin_username)
        .await?
    {
        let hash = state.passwords.hash(password.clone()).await;
        state
            .store
            .set_password_hash(admin.id, &hash, None, now_ms())
            .await?;
    }
    let dingtalk = state
        .auth_types
        .get("dingtalk")
        .context("the dingtalk auth type is registered")?;
    let mut input = Map::new();
    for (k, v) in [
        ("clientId", json!(DEFAULT_CLIENT_ID)),
        ("clientSecret", json!(DEFAULT_CLIENT_SECRET)),
        ("corpId", json!(DEFAULT_CORP_ID)),
        ("autoSignup", json!(true)),
    ] {
        input.insert(k.to_string(), v);
    }
    let existing = state.store.get_authenticator_by_name("dingtalk").await?;
    if existing.is_none() {
        let options = dingtalk
            .prepare_options(&state, "dingtalk", input, None)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        state
            .store
            .ensure_authenticator(
                &NewAuthenticator {
                    name: "dingtalk".into(),
                    auth_type: "dingtalk".into(),
                    // No title of its own: "Sign in via DingTalk" in the reader's language.
                    title: String::new(),
                    description: "The demo's fake DingTalk".into(),
                    options,
                    enabled: true,
                },
                now_ms(),
            )
            .await?;
    }
    let origin = state.config.public_origin();
    eprintln!(
        "\nauthgate demo\n\
         \n  open            {origin}/ (sign-in page: {origin}/signin)\
         \n  admin           username '{}', password '{password}'\
         \n  DingTalk        a fake DingTalk at {fake_base} (app {DEFAULT_CLIENT_ID}, redirect URL {redirect_url})\
         \n  employees       {}\
         \n  data            {}\
         \n\
         \n  try it via API (the cookie jar stands for the browser the sign-in is bound to):\
         \n    $ url=$(curl -s -c jar -X POST {origin}/api/dingtalk:getAuthUrl -H 'X-Authenticator: dingtalk' -H 'Content-Type: application/json' -d '{{}}' | sed 's/.*\"url\":\"\\([^\"]*\\)\".*/\\1/')\
         \n    $ curl -s -b jar -c jar -L -o /dev/null \"$url&login_as=zhangsan\"\
         \n    $ curl -s -b jar {origin}/api/auth:check\
         \n  (login_as=zhangsan is the fake DingTalk's shortcut: without it, open $url in a browser\
         \n  that has the jar's cookie, or simply use the sign-in page's button)\n",
        settings.admin_username,
        users.join(", "),
        settings.database_url(),
    );
    serve::serve_app(state, listener).await
}
