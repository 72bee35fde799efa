//! Applications as administrators and people manage them: registration through the admin
//! API (the secret shown once), grants listed and revoked, "remove access" from one's own
//! account, and the consent a third-party application asks for.

use crate::both_databases;
use crate::oidc_support::*;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, RpError>, error: &str) -> RpError {
    match r {
        Ok(v) => panic!("expected {error}, got {v:?}"),
        Err(e) => {
            assert_eq!(e.error(), error, "{e:?}");
            e
        }
    }
}

async fn admin_api_crud_shows_the_secret_once(db: Db) {
    let env = OidcEnv::start(db).await;
    let s = &env.s;
    let admin = Some(env.admin.as_str());
    let client = env
        .register(json!({"name": "Grafana", "clientCredentials": true}))
        .await;
    let secret = client.client_secret.clone().expect("the secret, this once");
    assert!(secret.len() >= 43, "256 bits: {secret}");
    let d = &client.answer["data"];
    assert_eq!(d["name"], json!("Grafana"));
    assert_eq!(d["redirectUris"], json!([REDIRECT_URI]));
    assert_eq!(d["issuer"], json!(env.issuer()));
    assert_eq!(
        d["discoveryUrl"],
        json!(format!("{}/.well-known/openid-configuration", env.issuer()))
    );
    let id = &client.client_id;
    let get = format!("/api/oidcClients:get?filterByTk={id}");

    // Never shown again.
    let list = s.get("/api/oidcClients:list", admin).await;
    list.assert_ok();
    assert!(list.text.contains(id.as_str()));
    let got = s.get(&get, admin).await;
    got.assert_ok();
    assert_eq!(got.body["data"]["name"], json!("Grafana"));
    for r in [&list, &got] {
        assert!(!r.text.contains(&secret), "the secret is shown again");
        assert!(!r.text.contains("clientSecret"), "{}", r.text);
    }
    let rel = env.discover(&client).await;
    rel.client_credentials(json!({})).await.unwrap();

    // Update: what it says is what the provider does.
    let updated = s
        .post(
            &format!("/api/oidcClients:update?filterByTk={id}"),
            admin,
            json!({"name": "Grafana 2", "redirectUris": ["http://127.0.0.1:9/new"]}),
        )
        .await;
    updated.assert_ok();
    assert!(!updated.text.contains("clientSecret"));
    assert_eq!(
        s.get(&get, admin).await.body["data"]["name"],
        json!("Grafana 2")
    );
    let mut b = Browser::new();
    b.sign_in(&s.base, ALICE, ALICE_PASSWORD).await;
    let old = rel.auth_request(json!({})).await;
    let r = b.get(&old.url).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "the old redirect URI: {r:?}"
    );
    assert!(r.header("location").is_none());
    let new = rel
        .auth_request(json!({"redirect_uri": "http://127.0.0.1:9/new"}))
        .await;
    let cb = env.callback(&b.get(&new.url).await);
    assert!(callback_url(&cb).starts_with("http://127.0.0.1:9/new?"));
    rel.grant(&new, &cb).await.unwrap();

    // A new secret: the old one stops working at once.
    let rotated = s
        .post(
            &format!("/api/oidcClients:rotateSecret?filterByTk={id}"),
            admin,
            json!({}),
        )
        .await;
    rotated.assert_ok();
    let new_secret = rotated.body["data"]["clientSecret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let e = refused(rel.client_credentials(json!({})).await, "invalid_client");
    assert_eq!(e.status, Some(401));
    let renewed = env
        .discover_with(&client, Some(new_secret), json!({}))
        .await
        .unwrap();
    renewed.client_credentials(json!({})).await.unwrap();
    assert!(!s.get(&get, admin).await.text.contains(new_secret));

    // Disabled: no sign-ins, no tokens, and its tokens stop working.
    let req = renewed
        .auth_request(json!({"redirect_uri": "http://127.0.0.1:9/new"}))
        .await;
    let cb = env.callback(&b.get(&req.url).await);
    let user_tokens = renewed.grant(&req, &cb).await.unwrap();
    s.post(
        &format!("/api/oidcClients:update?filterByTk={id}"),
        admin,
        json!({"enabled": false}),
    )
    .await
    .assert_ok();
    let r = b.get(&req.url).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a disabled client: {r:?}"
    );
    refused(
        renewed.client_credentials(json!({})).await,
        "invalid_client",
    );
    let e = renewed
        .userinfo(&user_tokens.access_token, "GET", None)
        .await
        .unwrap_err();
    assert_eq!(e.error(), "invalid_token", "{e:?}");
    s.post(
        &format!("/api/oidcClients:update?filterByTk={id}"),
        admin,
        json!({"enabled": true}),
    )
    .await
    .assert_ok();

    // Destroyed: gone, and so are its tokens.
    s.post(
        &format!("/api/oidcClients:destroy?filterByTk={id}"),
        admin,
        json!({}),
    )
    .await
    .assert_ok();
    assert_eq!(s.get(&get, admin).await.status, StatusCode::NOT_FOUND);
    assert!(!s
        .get("/api/oidcClients:list", admin)
        .await
        .text
        .contains(id.as_str()));
    refused(
        renewed.client_credentials(json!({})).await,
        "invalid_client",
    );
    let r = b.get(&req.url).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a deleted client: {r:?}");
}

async fn admin_api_refuses_bad_registrations_and_non_admins(db: Db) {
    let env = OidcEnv::start(db).await;
    let s = &env.s;
    let admin = Some(env.admin.as_str());
    let base = json!({"name": "App", "redirectUris": [REDIRECT_URI]});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (what, body) in [
        (
            "a javascript: URI",
            with("redirectUris", json!(["javascript:alert(1)"])),
        ),
        (
            "a fragment",
            with("redirectUris", json!(["https://app.example.com/cb#x"])),
        ),
        ("a relative URI", with("redirectUris", json!(["/cb"]))),
        ("no redirect URI", with("redirectUris", json!([]))),
        (
            "an unknown scope",
            with("allowedScopes", json!(["openid", "address"])),
        ),
        ("an unknown field", with("grantTypes", json!(["implicit"]))),
        (
            "an unknown algorithm",
            with("idTokenSignedResponseAlg", json!("none")),
        ),
        ("an empty name", with("name", json!(""))),
    ] {
        let r = s.post("/api/oidcClients:create", admin, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.text);
    }
    assert_eq!(
        s.get("/api/oidcClients:list", admin).await.body["data"],
        json!([]),
        "nothing was registered"
    );
    // A public client has no secret, to show or to rotate.
    let public = env
        .register(json!({"tokenEndpointAuthMethod": "none"}))
        .await;
    assert!(public.client_secret.is_none(), "{}", public.answer);
    let r = s
        .post(
            &format!(
                "/api/oidcClients:rotateSecret?filterByTk={}",
                public.client_id
            ),
            admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Not for anyone but administrators.
    let alice = s.sign_in(ALICE, ALICE_PASSWORD).await;
    for (method, path) in [
        (Method::GET, "/api/oidcClients:list".to_string()),
        (
            Method::GET,
            format!("/api/oidcClients:get?filterByTk={}", public.client_id),
        ),
        (Method::POST, "/api/oidcClients:create".to_string()),
        (
            Method::POST,
            format!("/api/oidcClients:destroy?filterByTk={}", public.client_id),
        ),
        (Method::GET, "/api/oidcGrants:list".to_string()),
    ] {
        let body = (method == Method::POST).then(|| base.clone());
        let r = s.request(method, &path, Some(&alice), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
    }
    s.get(
        &format!("/api/oidcClients:get?filterByTk={}", public.client_id),
        admin,
    )
    .await
    .assert_ok();
}

/// The grants an administrator sees and revokes, and the applications a person sees in
/// their account and removes.
async fn grants_listed_and_revoked(db: Db) {
    let env = OidcEnv::start(db).await;
    let s = &env.s;
    let admin = Some(env.admin.as_str());
    let a = env.relying(json!({"name": "App A"})).await;
    let bb = env.relying(json!({"name": "App B"})).await;
    let mut b = Browser::new();
    let offline = json!({"scope": "openid offline_access"});
    env.code_flow(&a, &mut b, offline.clone()).await;
    let ta = env.code_flow(&a, &mut b, offline.clone()).await;
    let tb = env.code_flow(&bb, &mut b, offline.clone()).await;
    let uid = env.alice_id;

    let all = s
        .get(&format!("/api/oidcGrants:list?userId={uid}"), admin)
        .await;
    all.assert_ok();
    let clients: Vec<&str> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["clientId"].as_str().unwrap())
        .collect();
    assert!(
        clients.contains(&a.client.client_id.as_str()),
        "{}",
        all.text
    );
    assert!(
        clients.contains(&bb.client.client_id.as_str()),
        "{}",
        all.text
    );
    let only_a = s
        .get(
            &format!("/api/oidcGrants:list?clientId={}", a.client.client_id),
            admin,
        )
        .await;
    assert!(only_a.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["clientId"] == json!(a.client.client_id) && g["userId"] == json!(uid)));

    // Alice's account: one row per application, with its name.
    let mine = b
        .request(Method::GET, &s.url("/api/auth:applications"), None)
        .await;
    mine.assert_ok();
    let names: Vec<&str> = mine.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["clientName"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["App A", "App B"], "{}", mine.text);

    // She removes App A (from the account page: cookie and CSRF header).
    let removed = b
        .request(
            Method::POST,
            &s.url("/api/auth:removeApplication"),
            Some(json!({"clientId": a.client.client_id})),
        )
        .await;
    removed.assert_ok();
    assert!(removed.body["data"]["revoked"].as_u64().unwrap() >= 1);
    refused(
        a.userinfo(&ta.access_token, "GET", None).await,
        "invalid_token",
    );
    refused(
        a.refresh(ta.refresh_token.as_deref().unwrap()).await,
        "invalid_grant",
    );
    bb.userinfo(&tb.access_token, "GET", Some(&tb.sub()))
        .await
        .expect("App B keeps its access");
    let mine = b
        .request(Method::GET, &s.url("/api/auth:applications"), None)
        .await;
    assert_eq!(
        mine.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        mine.text
    );

    // An administrator revokes App B's.
    let r = s
        .post(
            "/api/oidcGrants:revoke",
            admin,
            json!({"userId": uid, "clientId": bb.client.client_id}),
        )
        .await;
    r.assert_ok();
    assert!(r.body["data"]["revoked"].as_u64().unwrap() >= 1);
    refused(
        bb.userinfo(&tb.access_token, "GET", None).await,
        "invalid_token",
    );
    refused(
        bb.refresh(tb.refresh_token.as_deref().unwrap()).await,
        "invalid_grant",
    );
    let left = s
        .get(&format!("/api/oidcGrants:list?userId={uid}"), admin)
        .await;
    assert_eq!(left.body["data"], json!([]), "{}", left.text);
}

/// The consent page of a third-party application: the question, and what each answer does.
async fn consent_for_a_third_party_client(db: Db) {
    let env = OidcEnv::start(db).await;
    let s = &env.s;
    let rel = env
        .relying(json!({"name": "Third Party App", "thirdParty": true}))
        .await;
    let mut b = Browser::new();
    b.sign_in(&s.base, ALICE, ALICE_PASSWORD).await;

    // prompt=none cannot ask.
    let req = rel.auth_request(json!({"prompt": "none"})).await;
    refused(
        rel.grant(&req, &env.callback(&b.get(&req.url).await)).await,
        "consent_required",
    );

    let req = rel.auth_request(json!({"scope": "openid email"})).await;
    let page = b.get(&req.url).await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert!(page.header("location").is_none());
    assert!(page.text.contains("Third Party App"));
    let (action, fields) = form_in(&page.text).expect("the consent form");
    assert_eq!(action, "/oidc/consent");
    assert_eq!(field(&fields, "csrf"), b.csrf().as_deref());
    assert!(field(&fields, "request").is_some());

    // A forged answer (no CSRF value) is refused and goes nowhere.
    let mut forged: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect();
    forged.push(("decision".into(), "allow".into()));
    let r = b.post_form(&s.url(&action), &forged).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert!(r.header("location").is_none());

    let answer = |decision: &str| {
        let mut f = fields.clone();
        f.push(("decision".into(), decision.into()));
        f
    };
    let r = b.post_form(&s.url(&action), &answer("allow")).await;
    let resume = location(&s.base, &r).expect("back to the request");
    assert!(resume.starts_with(&s.url("/oidc/authorize?")), "{resume}");
    let cb = env.callback(&b.get(&resume).await);
    let t = rel.grant(&req, &cb).await.unwrap();
    assert_eq!(t.sub(), env.alice_id.to_string());

    // Remembered: the same request goes straight through; a wider one asks again.
    let again = rel.auth_request(json!({"scope": "openid email"})).await;
    let r = b.get(&again.url).await;
    rel.grant(&again, &env.callback(&r)).await.unwrap();
    let wider = rel
        .auth_request(json!({"scope": "openid email phone"}))
        .await;
    let r = b.get(&wider.url).await;
    assert!(
        form_in(&r.text).is_some_and(|(a, _)| a == "/oidc/consent"),
        "{r:?}"
    );

    // Deny: the application is told.
    let (action, fields) = form_in(&r.text).unwrap();
    let mut deny = fields.clone();
    deny.push(("decision".into(), "deny".into()));
    let r = b.post_form(&s.url(&action), &deny).await;
    refused(rel.grant(&wider, &env.callback(&r)).await, "access_denied");

    // Removing the application forgets the consent.
    b.request(
        Method::POST,
        &s.url("/api/auth:removeApplication"),
        Some(json!({"clientId": rel.client.client_id})),
    )
    .await
    .assert_ok();
    let req = rel.auth_request(json!({"scope": "openid email"})).await;
    let r = b.get(&req.url).await;
    assert!(
        form_in(&r.text).is_some_and(|(a, _)| a == "/oidc/consent"),
        "{r:?}"
    );

    // A first-party application never asks.
    let first = env.relying(json!({})).await;
    env.code_flow(&first, &mut b, json!({"scope": "openid email phone"}))
        .await;
}

both_databases!(
    admin_api_crud_shows_the_secret_once,
    admin_api_refuses_bad_registrations_and_non_admins,
    grants_listed_and_revoked,
    consent_for_a_third_party_client,
);
