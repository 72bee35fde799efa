//! Scripts, styles and the vendored DingTalk JSAPI, embedded in the binary and served from
//! `/assets/...` with long cache lifetimes (pages link them with `?v=<content hash>`).

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/app.css"),
    },
    Asset {
        path: "common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/common.js"),
    },
    Asset {
        path: "signin.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/signin.js"),
    },
    Asset {
        path: "account.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/account.js"),
    },
    Asset {
        path: "admin.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/admin.js"),
    },
    Asset {
        path: "admin_apps.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/admin_apps.js"),
    },
    Asset {
        path: "admin_rules.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/admin_rules.js"),
    },
    Asset {
        path: "form_post.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/form_post.js"),
    },
    Asset {
        path: "auto.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/auto.js"),
    },
    Asset {
        path: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../assets/favicon.svg"),
    },
    Asset {
        path: "vendor/dingtalk-jsapi.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/dingtalk-jsapi.js"),
    },
];

/// A short hash of every asset: changes whenever any of them does, so links bust caches.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for a in ASSETS {
        h.update(a.path.as_bytes());
        h.update(a.body);
    }
    h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// `/favicon.ico`, which browsers ask for on their own (pages link the SVG directly).
pub async fn favicon() -> Response {
    serve(Path("favicon.svg".to_string())).await
}

pub async fn serve(Path(path): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut r = asset.body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    r
}
