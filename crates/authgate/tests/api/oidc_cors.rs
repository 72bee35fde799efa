//! Browser applications (public clients) call the provider from their own origin: CORS is
//! granted to the origins of registered redirect URIs, and to nobody else; discovery and the
//! JWKS are public documents.

use crate::both_databases;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const SPA: &str = "http://spa.example:3000";

async fn cors(s: &Server, method: Method, path: &str, origin: &str) -> reqwest::Response {
    s.http
        .request(method, s.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap()
}

fn allowed_origin(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_string())
}

async fn registered_origins_and_only_they_may_call_from_the_browser(db: Db) {
    let s = Server::start(db).await;
    let admin = s.admin_token().await;
    s.post(
        "/api/oidcClients:create",
        Some(&admin),
        json!({"name": "Dashboard SPA", "redirectUris": [format!("{SPA}/callback")], "tokenEndpointAuthMethod": "none"}),
    )
    .await
    .assert_ok();

    for path in [
        "/oidc/token",
        "/oidc/userinfo",
        "/oidc/revoke",
        "/oidc/introspect",
    ] {
        let preflight = cors(&s, Method::OPTIONS, path, SPA).await;
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT, "{path}");
        assert_eq!(allowed_origin(&preflight).as_deref(), Some(SPA), "{path}");
        let methods = preflight.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap();
        assert!(methods.contains("POST"), "{path}: {methods}");
        let headers = preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap();
        assert!(headers.contains("Authorization"), "{path}: {headers}");

        for stranger in ["http://evil.example", "http://spa.example:3001", "null"] {
            let refused = cors(&s, Method::OPTIONS, path, stranger).await;
            assert_eq!(allowed_origin(&refused), None, "{path} from {stranger}");
        }
    }
    // The answer itself carries the header too (here an error: no such code).
    let r = s
        .http
        .post(s.url("/oidc/token"))
        .header("origin", SPA)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("redirect_uri", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(allowed_origin(&r).as_deref(), Some(SPA));
    let r = s
        .http
        .get(s.url("/oidc/userinfo"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(allowed_origin(&r), None);

    for public in [
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    ] {
        let r = cors(&s, Method::GET, public, "http://anyone.example").await;
        assert_eq!(allowed_origin(&r).as_deref(), Some("*"), "{public}");
    }
    // The admin API is not opened to other origins by any of this.
    let r = cors(&s, Method::GET, "/api/oidcClients:list", SPA).await;
    assert_eq!(allowed_origin(&r), None);
}

both_databases!(registered_origins_and_only_they_may_call_from_the_browser);
