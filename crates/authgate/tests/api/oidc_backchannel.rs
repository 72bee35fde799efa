//! Back-channel logout: signing out of authgate tells every application signed in through that
//! session, with a logout token it can verify, retrying an application that is briefly down.

use crate::both_databases;
use crate::support::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Form, Router};
use base64::Engine;
use reqwest::redirect::Policy;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CALLBACK: &str = "http://127.0.0.1:9/cb";

/// An application's back-channel logout endpoint: answers 503 to the first delivery (it is
/// "restarting"), 200 afterwards, and keeps every token it was sent.
#[derive(Clone, Default)]
struct Receiver {
    tokens: Arc<Mutex<Vec<String>>>,
}

async fn receive(
    State(r): State<Receiver>,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    let mut tokens = r.tokens.lock().unwrap();
    tokens.push(form.get("logout_token").cloned().unwrap_or_default());
    if tokens.len() == 1 {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

async fn start_receiver() -> (Receiver, String) {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/backchannel", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (receiver, url)
}

fn decode_part(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

async fn signing_out_tells_the_applications_of_that_session(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    let (receiver, backchannel) = start_receiver().await;
    let created = s
        .post(
            "/api/oidcClients:create",
            Some(&admin),
            json!({"name": "Wiki", "redirectUris": [CALLBACK], "backchannelLogoutUri": backchannel}),
        )
        .await;
    created.assert_ok();
    let client_id = created.body["data"]["clientId"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = created.body["data"]["clientSecret"]
        .as_str()
        .unwrap()
        .to_string();
    s.create_user(
        &admin,
        json!({"username": "carol", "password": "carol-Passw0rd!"}),
    )
    .await;
    let token = s.sign_in("carol", "carol-Passw0rd!").await;

    // Carol signs in to the wiki through authgate.
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let r = browser
        .get(s.url(&format!(
            "/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=st&nonce=nn",
            url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
        )))
        .header("cookie", format!("authgate_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens = redeem_code(&browser, &s, (&client_id, &secret), &code, CALLBACK).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let sid = decode_part(id_token, 1)["sid"].clone();
    assert!(sid.is_string());

    // She signs out of authgate; the wiki hears of it (after one failed delivery).
    s.post("/api/auth:signOut", Some(&token), json!({}))
        .await
        .assert_ok();
    let mut waited = 0;
    while receiver.tokens.lock().unwrap().len() < 2 {
        assert!(waited < 100, "no second delivery within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    let delivered = receiver.tokens.lock().unwrap().clone();
    assert_eq!(delivered.len(), 2, "delivered until accepted, then no more");
    let logout = &delivered[1];
    let header = decode_part(logout, 0);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(header["alg"], "RS256");
    // Verified against the published keys, as the application would.
    let jwks = s.get("/.well-known/jwks.json", None).await.body;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the logout token's key is published");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&client_id]);
    validation.set_issuer(&[&s.base]);
    let claims = jsonwebtoken::decode::<Value>(logout, &key, &validation)
        .expect("a valid logout token")
        .claims;
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["sub"], decode_part(id_token, 1)["sub"]);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].is_string());
}

both_databases!(signing_out_tells_the_applications_of_that_session);
