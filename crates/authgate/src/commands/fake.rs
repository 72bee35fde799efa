//! `authgate fake-dingtalk`: the fake DingTalk alone.

use crate::cli::FakeDingTalkArgs;
use anyhow::Context;
use fake_dingtalk::{FakeConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_CORP_ID};

pub async fn run(args: &FakeDingTalkArgs) -> anyhow::Result<()> {
    let mut config = match &args.users {
        Some(path) => FakeConfig::from_users_file(path)?,
        None => FakeConfig::default(),
    };
    if !args.redirect_uris.is_empty() {
        let mut app = config
            .apps
            .iter()
            .find(|a| a.client_id == DEFAULT_CLIENT_ID)
            .cloned()
            .unwrap_or_else(FakeConfig::default_app);
        app.redirect_uris.extend(args.redirect_uris.iter().cloned());
        config = config.with_app(app);
    }
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let address = listener.local_addr()?;
    eprintln!(
        "fake DingTalk: listening on http://{address} (login, api and oapi hosts alike)\n  \
         app: clientId {DEFAULT_CLIENT_ID}, clientSecret {DEFAULT_CLIENT_SECRET}, corpId {DEFAULT_CORP_ID}\n  \
         users: {}\n  control API: http://{address}/_fake/ (register redirect URLs with POST /_fake/apps)",
        config.users.iter().map(|u| u.userid.as_str()).collect::<Vec<_>>().join(", ")
    );
    fake_dingtalk::serve(listener, config).await?;
    Ok(())
}
