use crate::both_databases;
use crate::support::*;
use reqwest::StatusCode;

async fn root_admin_signs_in_and_check_returns_them(db: Db) {
    let s = Server::start(db).await;
    let token = s.admin_token().await;
    let me = s.get("/api/auth:check", Some(&token)).await;
    me.assert_ok();
    assert_eq!(me.body["data"]["username"], "admin");
    assert_eq!(me.body["data"]["isAdmin"], true);
    assert!(me.body["data"].get("password").is_none());
    let list = s.get("/api/authenticators:publicList", None).await;
    assert_eq!(list.body["data"][0]["name"], "basic");
    assert_eq!(list.body["data"][0]["authType"], "password");
    assert_eq!(list.body["data"][0]["options"]["allowSignUp"], false);
}

async fn generated_admin_password_is_printed_once(db: Db) {
    let s = Server::start_with(
        db,
        ServerOptions {
            admin_password: false,
            ..Default::default()
        },
    )
    .await;
    let printed = |out: &str| {
        out.lines()
            .skip_while(|l| !l.contains("created the root admin"))
            .map(str::trim)
            .find(|l| l.len() == 20 && !l.contains(' '))
            .map(str::to_string)
    };
    let out = s.output_once(|out| printed(out).is_some()).await;
    let password = printed(&out).expect("the generated password is printed");
    s.sign_in("admin", &password).await;
    // A second node on the same database creates nothing and prints no password.
    let sibling = s
        .start_sibling(ServerOptions {
            admin_password: false,
            ..Default::default()
        })
        .await;
    assert!(!sibling.output().contains("created the root admin"));
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM authenticators").await, 1);
}

async fn secret_key_file_is_private_and_shared_keys_verify(db: Db) {
    use std::os::unix::fs::PermissionsExt;
    let s = Server::start(db).await;
    let mode = std::fs::metadata(s.data_dir().join("secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let jwks = s.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.body["keys"][0]["kty"], "OKP");
    assert_eq!(jwks.body["keys"][0]["crv"], "Ed25519");
    // The RSA key (RS256 ID tokens) is made in the background just after the first start.
    let since = std::time::Instant::now();
    loop {
        let jwks = s.get("/.well-known/jwks.json", None).await.body;
        let kids: Vec<_> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].clone())
            .collect();
        if jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kty"] == "RSA")
        {
            assert_eq!(kids.len(), 2);
            assert_ne!(kids[0], kids[1], "every key has its own kid");
            break;
        }
        assert!(
            since.elapsed() < std::time::Duration::from_secs(10),
            "no RSA key: {jwks}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The stored signing keys are sealed, not in clear.
    let all = s.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM signing_keys");
    assert_eq!(all.await.unwrap(), "2");
    let in_clear = s.sql_text(
        "SELECT CAST(COUNT(*) AS TEXT) FROM signing_keys WHERE private_key NOT LIKE 'enc:v1:%'",
    );
    assert_eq!(in_clear.await.unwrap(), "0");
}

async fn a_node_with_another_secret_key_refuses_to_start(db: Db) {
    let s = Server::start(db).await;
    let out = std::process::Command::new(binary())
        .current_dir(s.dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .env_clear()
        .env("AUTHGATE_DATABASE_URL", &s.database_url)
        .env(
            "AUTHGATE_SECRET_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another secret key"), "{err}");
    assert_eq!(s.get("/healthz", None).await.status, StatusCode::OK);
}

async fn a_weak_admin_password_stops_only_the_start_that_would_use_it(db: Db) {
    // An empty database and data folder: the admin would be created with it, so the start is
    // refused and nothing is created.
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(db, dir.path()).await;
    let out = std::process::Command::new(binary())
        .current_dir(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .env_clear()
        .env("AUTHGATE_DATABASE_URL", &database_url)
        .env("AUTHGATE_DATA_DIR", dir.path().join("data"))
        .env("AUTHGATE_ADMIN_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AUTHGATE_ADMIN_PASSWORD"), "{err}");
    assert!(!err.contains("created the root admin"), "{err}");
    // A database that has its admin does not use the setting: the node starts.
    let s = Server::start(db).await;
    let sibling = s
        .start_sibling(ServerOptions {
            env: vec![("AUTHGATE_ADMIN_PASSWORD".into(), "short".into())],
            ..Default::default()
        })
        .await;
    assert_eq!(sibling.get("/healthz", None).await.status, StatusCode::OK);
    s.sign_in("admin", ADMIN_PASSWORD).await;
}

both_databases!(
    root_admin_signs_in_and_check_returns_them,
    generated_admin_password_is_printed_once,
    secret_key_file_is_private_and_shared_keys_verify,
    a_node_with_another_secret_key_refuses_to_start,
    a_weak_admin_password_stops_only_the_start_that_would_use_it,
);
