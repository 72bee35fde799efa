//! `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0), built once.

use crate::oidc::claims;
use crate::oidc::client::SCOPES;
use crate::oidc::{
    AUTHORIZE_PATH, END_SESSION_PATH, INTROSPECT_PATH, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH,
};
use serde_json::{json, Value};

pub fn document(issuer: &str) -> Value {
    let at = |path: &str| format!("{issuer}{path}");
    json!({
        "issuer": issuer,
        "authorization_endpoint": at(AUTHORIZE_PATH),
        "token_endpoint": at(TOKEN_PATH),
        "userinfo_endpoint": at(USERINFO_PATH),
        "jwks_uri": at("/.well-known/jwks.json"),
        "introspection_endpoint": at(INTROSPECT_PATH),
        "revocation_endpoint": at(REVOKE_PATH),
        "end_session_endpoint": at(END_SESSION_PATH),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": SCOPES,
        "claims_supported": claims::supported(),
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "display_values_supported": ["page", "popup", "touch"],
        "ui_locales_supported": ["en", "zh-CN"],
        "claim_types_supported": ["normal"],
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_endpoint_is_under_the_issuer() {
        let d = super::document("https://auth.example.com");
        for key in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
            "end_session_endpoint",
        ] {
            assert!(
                d[key]
                    .as_str()
                    .unwrap()
                    .starts_with("https://auth.example.com/"),
                "{key}"
            );
        }
    }
}
