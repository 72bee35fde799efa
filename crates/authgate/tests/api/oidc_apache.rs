//! A real relying party end to end: Apache httpd with mod_auth_openidc (Debian's
//! `libapache2-mod-auth-openidc`) protects a page with authgate as its OpenID Provider, and a
//! person gets in by signing in with DingTalk (the fake) on authgate's sign-in page.

use crate::both_databases;
use crate::dingtalk_support::*;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

const APACHE: &str = "/usr/sbin/apache2";
const MODULES: &str = "/usr/lib/apache2/modules";

/// Apache in the foreground on its own configuration; stopped on drop.
struct Apache {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Apache {
    fn drop(&mut self) {
        // The parent stops its children on SIGTERM.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

impl Apache {
    async fn start(dir: &Path, issuer: &str, client_id: &str, secret: &str) -> Apache {
        assert!(
            Path::new(APACHE).exists() && Path::new(MODULES).join("mod_auth_openidc.so").exists(),
            "Apache with mod_auth_openidc is needed: apt-get install apache2 libapache2-mod-auth-openidc (.ci/run does)"
        );
        let port = free_port();
        let www = dir.join("www/protected");
        std::fs::create_dir_all(&www).unwrap();
        std::fs::write(www.join("index.html"), "the protected page\n").unwrap();
        // Apache's children run as www-data and must read the pages.
        for p in [dir.to_path_buf(), dir.join("www"), www.clone()] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let d = dir.display();
        let conf = format!(
            r#"ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {d}/httpd.pid
ErrorLog {d}/error.log
LogLevel warn auth_openidc:info
Mutex file:{d} default
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule headers_module {MODULES}/mod_headers.so
LoadModule dir_module {MODULES}/mod_dir.so
LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so
User www-data
Group www-data
DocumentRoot {d}/www
DirectoryIndex index.html
<Directory {d}/www>
  Require all granted
</Directory>
OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {client_id}
OIDCClientSecret {secret}
OIDCRedirectURI http://127.0.0.1:{port}/protected/redirect_uri
OIDCCryptoPassphrase apache-test-passphrase-0123456789
OIDCScope "openid profile email"
OIDCPKCEMethod S256
OIDCRemoteUserClaim preferred_username
<Location /protected>
  AuthType openid-connect
  Require valid-user
  Header always set X-Seen-User "%{{OIDC_CLAIM_preferred_username}}e"
  Header always set X-Seen-Sub "%{{OIDC_CLAIM_sub}}e"
</Location>
"#
        );
        std::fs::write(dir.join("httpd.conf"), conf).unwrap();
        let child = Command::new(APACHE)
            .args([
                "-f",
                &dir.join("httpd.conf").to_string_lossy(),
                "-DFOREGROUND",
            ])
            .spawn()
            .expect("apache2 starts");
        let mut apache = Apache {
            child,
            dir: dir.to_path_buf(),
            port,
        };
        for _ in 0..100 {
            if let Ok(Some(exit)) = apache.child.try_wait() {
                panic!("Apache stopped ({exit}): {}", apache.log());
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return apache;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("Apache did not start: {}", apache.log());
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

/// Requests to Apache with its own cookies, redirects not followed.
struct ApacheBrowser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl ApacheBrowser {
    async fn get(
        &mut self,
        url: &str,
    ) -> (
        StatusCode,
        Option<String>,
        reqwest::header::HeaderMap,
        String,
    ) {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let r = self
            .http
            .get(url)
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        for v in r.headers().get_all("set-cookie") {
            let text = v.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            if let Some((k, val)) = pair.split_once('=') {
                self.cookies.insert(k.trim().into(), val.trim().into());
            }
        }
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        let headers = r.headers().clone();
        (status, location, headers, r.text().await.unwrap())
    }
}

async fn apache_signs_people_in_with_dingtalk_through_authgate(db: Db) {
    let env = DingEnv::start(db, json!({})).await;
    let s = &env.s;
    s.create_user(
        &env.admin,
        json!({"username": "alicew", "phone": "+86 138-0013-8000"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    // The redirect URI is Apache's: registered once Apache has its port.
    let created = s
        .post(
            "/api/oidcClients:create",
            Some(&env.admin),
            json!({"name": "Wiki behind Apache", "redirectUris": ["http://127.0.0.1:1/placeholder"]}),
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
    let apache = Apache::start(dir.path(), &s.base, &client_id, &secret).await;
    let redirect_uri = apache.url("/protected/redirect_uri");
    s.post(
        &format!("/api/oidcClients:update?filterByTk={client_id}"),
        Some(&env.admin),
        json!({"redirectUris": [redirect_uri]}),
    )
    .await
    .assert_ok();

    // Apache sends the signed-out person to authgate's authorization endpoint...
    let mut at_apache = ApacheBrowser {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookies: BTreeMap::new(),
    };
    let (status, to_authgate, _, body) = at_apache.get(&apache.url("/protected/")).await;
    assert_eq!(status, StatusCode::FOUND, "{body}\n{}", apache.log());
    let to_authgate = to_authgate.unwrap();
    assert!(
        to_authgate.starts_with(&format!("{}/oidc/authorize?", s.base)),
        "{to_authgate}"
    );

    // ...which sends them to sign in; they choose DingTalk and come back to the request.
    let mut browser = Browser::new();
    let r = browser
        .authgate(reqwest::Method::GET, &to_authgate, &[], None)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let signin = r.header("location").unwrap().to_string();
    assert!(signin.starts_with("/signin?redirect="), "{signin}");
    let resume = query_param(&format!("{}{signin}", s.base), "redirect").unwrap();
    let done = browser
        .sign_in_as(s, AUTHENTICATOR, "alice", Some(&resume))
        .await;
    assert_eq!(done.location, resume);
    let r = browser
        .authgate(reqwest::Method::GET, &s.url(&done.location), &[], None)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let callback = r.header("location").unwrap().to_string();
    assert!(callback.starts_with(&redirect_uri), "{callback}");

    // Apache redeems the code at authgate's token endpoint and lets the person in.
    let (status, back_to_page, _, body) = at_apache.get(&callback).await;
    assert_eq!(status, StatusCode::FOUND, "{body}\n{}", apache.log());
    assert_eq!(
        back_to_page.as_deref(),
        Some(apache.url("/protected/").as_str())
    );
    let (status, _, headers, body) = at_apache.get(&apache.url("/protected/")).await;
    assert_eq!(status, StatusCode::OK, "{}", apache.log());
    assert_eq!(body, "the protected page\n");
    assert_eq!(headers["x-seen-user"], "alicew");
    let me = browser.whoami(s).await;
    assert_eq!(
        headers["x-seen-sub"].to_str().unwrap(),
        me.body["data"]["id"].to_string()
    );
    // Someone without Apache's session cookie is still sent away.
    let (status, _, _, _) = ApacheBrowser {
        http: at_apache.http.clone(),
        cookies: BTreeMap::new(),
    }
    .get(&apache.url("/protected/"))
    .await;
    assert_eq!(status, StatusCode::FOUND);
}

both_databases!(apache_signs_people_in_with_dingtalk_through_authgate);
