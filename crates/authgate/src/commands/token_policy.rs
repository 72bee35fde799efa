//! `authgate token-policy show|reset`: offline recovery from a token policy that signs
//! everyone out (a token lifetime of a millisecond, say, with no renewal), without SQL.

use super::open_store;
use crate::cli::TokenPolicyCommand;
use crate::settings::Settings;
use authgate_core::clock::now_ms;
use authgate_core::token_policy::TokenPolicy;

pub async fn run(settings: Settings, cmd: TokenPolicyCommand) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    let shown = |p: TokenPolicy| {
        let c = p.to_config();
        format!(
            "tokenExpirationTime {}, sessionExpirationTime {}, expiredTokenRenewLimit {}",
            c.token_expiration_time, c.session_expiration_time, c.expired_token_renew_limit
        )
    };
    match cmd {
        TokenPolicyCommand::Show => println!("{}", shown(store.token_policy().await?)),
        TokenPolicyCommand::Reset => {
            let before = store.token_policy().await?;
            store
                .set_token_policy(&TokenPolicy::default(), now_ms())
                .await?;
            println!(
                "authgate: the token policy was {}; it is now {} (running servers apply it within a second)",
                shown(before),
                shown(TokenPolicy::default())
            );
        }
    }
    Ok(())
}
