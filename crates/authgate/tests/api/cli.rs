use crate::both_databases;
use crate::support::*;
use reqwest::StatusCode;
use std::io::Write;
use std::process::{Command, Stdio};

fn authgate(
    dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> (bool, String) {
    let mut cmd = Command::new(binary());
    cmd.current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn help_explains_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = authgate(dir.path(), &["--help"], None, &[]);
    assert!(ok);
    for c in ["serve", "migrate", "admin", "authenticators"] {
        assert!(text.contains(c), "{text}");
    }
    for args in [
        &["serve", "--help"][..],
        &["migrate", "--help"],
        &["admin", "create", "--help"],
        &["admin", "reset-password", "--help"],
        &["authenticators", "enable", "--help"],
    ] {
        let (ok, text) = authgate(dir.path(), args, None, &[]);
        assert!(ok && text.len() > 100, "{args:?}: {text}");
    }
    assert!(authgate(dir.path(), &["serve", "--help"], None, &[])
        .1
        .contains("AUTHGATE_LISTEN"));
}

#[test]
fn migrate_creates_the_sqlite_database_in_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = authgate(dir.path(), &["migrate"], None, &[]);
    assert!(ok, "{text}");
    assert!(dir.path().join("data/authgate.db").exists());
    let (ok, _) = authgate(dir.path(), &["migrate"], None, &[]);
    assert!(ok, "migrate is idempotent");
}

#[test]
fn configuration_errors_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = authgate(dir.path(), &["migrate"], None, &[("AUTHGATE_LISTN", "x")]);
    assert!(!ok && text.contains("listn"), "{text}");
    std::fs::write(dir.path().join("authgate.toml"), "log_format = \"xml\"\n").unwrap();
    let (ok, text) = authgate(dir.path(), &["migrate"], None, &[]);
    assert!(!ok && text.contains("log_format"), "{text}");
    let (ok, text) = authgate(
        dir.path(),
        &["migrate", "--database-url", "mysql://x"],
        None,
        &[("AUTHGATE_LOG_FORMAT", "text")],
    );
    assert!(!ok && text.contains("unsupported database_url"), "{text}");
}

async fn issuer_of(s: &Server) -> String {
    use base64::Engine;
    let token = s.admin_token().await;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    claims["iss"].as_str().unwrap().to_string()
}

/// authgate.toml < AUTHGATE_* < flags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_precedence_file_env_flags() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    std::fs::write(
        dir.path().join("authgate.toml"),
        "public_url = \"https://from-file.example\"\n",
    )
    .unwrap();
    let start = |opts: ServerOptions| {
        let dir = dir.clone();
        async move {
            let url = format!("sqlite://{}", dir.path().join("p.db").display());
            let data = dir.path().join("data").display().to_string();
            let shared = vec![
                ("AUTHGATE_DATABASE_URL".into(), url),
                ("AUTHGATE_DATA_DIR".into(), data),
            ];
            Server::start_with(
                Db::Sqlite,
                ServerOptions {
                    env: [opts.env, shared].concat(),
                    ..opts
                },
            )
            .await
        }
    };
    // The test kit runs the server in its own temp folder; point it at ours with --config.
    let config = dir.path().join("authgate.toml").display().to_string();
    let s = start(ServerOptions {
        args: vec!["--config".into(), config.clone()],
        ..Default::default()
    })
    .await;
    assert_eq!(issuer_of(&s).await, "https://from-file.example");
    drop(s);
    let s = start(
        ServerOptions {
            args: vec!["--config".into(), config.clone()],
            ..Default::default()
        }
        .env("AUTHGATE_PUBLIC_URL", "https://from-env.example"),
    )
    .await;
    assert_eq!(issuer_of(&s).await, "https://from-env.example");
    drop(s);
    let s = start(
        ServerOptions {
            args: vec![
                "--config".into(),
                config,
                "--public-url".into(),
                "https://from-flag.example".into(),
            ],
            ..Default::default()
        }
        .env("AUTHGATE_PUBLIC_URL", "https://from-env.example"),
    )
    .await;
    assert_eq!(issuer_of(&s).await, "https://from-flag.example");
}

/// `admin create` and `admin reset-password` work on the database a server uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands() {
    let s = Server::start(Db::Sqlite).await;
    let env = [("AUTHGATE_DATABASE_URL", s.database_url.as_str())];
    let (ok, text) = authgate(
        s.dir.path(),
        &["admin", "create", "--username", "ops", "--password-stdin"],
        Some("ops-password-1\n"),
        &env,
    );
    assert!(ok, "{text}");
    let ops = s.sign_in("ops", "ops-password-1").await;
    assert_eq!(
        s.get("/api/auth:check", Some(&ops)).await.body["data"]["isAdmin"],
        true
    );
    let (ok, text) = authgate(
        s.dir.path(),
        &["admin", "reset-password", "--username", "ops"],
        None,
        &env,
    );
    assert!(ok, "{text}");
    let generated = text
        .lines()
        .find_map(|l| l.strip_prefix("password (shown once): "))
        .unwrap()
        .trim()
        .to_string();
    // Another process changed the database: the server sees it within a second.
    let since = std::time::Instant::now();
    while s.get("/api/auth:check", Some(&ops)).await.status != StatusCode::UNAUTHORIZED {
        assert!(
            since.elapsed() < std::time::Duration::from_secs(1),
            "old sessions end within a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        s.sign_in_reply("basic", "ops", "ops-password-1")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    s.sign_in("ops", &generated).await;
    let (ok, text) = authgate(
        s.dir.path(),
        &["admin", "reset-password", "--username", "ghost"],
        None,
        &env,
    );
    assert!(!ok && text.contains("ghost"), "{text}");
    let (ok, _) = authgate(
        s.dir.path(),
        &["admin", "create", "--username", "ops", "--password-stdin"],
        Some("ops-password-1\n"),
        &env,
    );
    assert!(!ok, "duplicate username");
}

/// `authgate demo`: one command, and a newcomer can sign in with DingTalk (the embedded fake).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_signs_an_employee_in_with_the_built_in_fake_dingtalk() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(binary())
        .current_dir(dir.path())
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut ready = false;
    for _ in 0..300 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "the demo starts");
    let r = http
        .post(format!("{base}/api/dingtalk:getAuthUrl"))
        .header("X-Authenticator", "dingtalk")
        .json(&serde_json::json!({"redirect": "/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let binding = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let url = r.json::<serde_json::Value>().await.unwrap()["data"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http
        .get(format!("{url}&login_as=zhangsan"))
        .send()
        .await
        .unwrap();
    let callback = r.headers()["location"].to_str().unwrap().to_string();
    let r = http
        .get(&callback)
        .header("cookie", binding)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("authgate_token="))
        .unwrap();
    let me: serde_json::Value = http
        .get(format!("{base}/api/auth:check"))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["nickname"], "张三");
    let admin = http
        .post(format!("{base}/api/auth:signIn"))
        .header("X-Authenticator", "basic")
        .json(&serde_json::json!({"account": "admin", "password": "authgate-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), StatusCode::OK);
    let _ = child.kill();
    let _ = child.wait();
}

/// The demo's "try it via API" commands work as printed: pasted into a shell, they sign
/// zhangsan in through the fake DingTalk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_s_api_hint_works_as_printed() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(binary())
        .current_dir(dir.path())
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The demo logs to stderr as it runs: keep reading it (a closed pipe would stop it).
    let stderr = child.stderr.take().unwrap();
    let (found, commands) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut hint = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(command) = line.trim_start().strip_prefix("$ ") {
                hint.push(command.to_string());
                if command.contains("auth:check") {
                    let _ = found.send(std::mem::take(&mut hint));
                }
            }
        }
    });
    let commands = commands
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the demo prints its API hint");
    assert_eq!(commands.len(), 3, "{commands:?}");
    // As a person would: once the demo answers.
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let out = Command::new("bash")
        .current_dir(dir.path())
        .args(["-c", &commands.join("\n")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let me: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{text}{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(me["data"]["nickname"], "张三", "{me}");
    let _ = child.kill();
    let _ = child.wait();
}

/// A token policy whose tokens die at once (and cannot be renewed) signs everyone out, the
/// admins too; `authgate token-policy reset` puts the default back offline.
async fn token_policy_reset_recovers_from_a_policy_that_signs_everyone_out(db: Db) {
    let s = Server::start(db).await;
    let env = [("AUTHGATE_DATABASE_URL", s.database_url.as_str())];
    let admin = s.admin_token().await;
    s.post(
        "/api/tokenPolicies:update",
        Some(&admin),
        serde_json::json!({"config": {"tokenExpirationTime": "1", "sessionExpirationTime": "7d", "expiredTokenRenewLimit": "0"}}),
    )
    .await
    .assert_ok();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let fresh = s.admin_token().await;
    let r = s.get("/api/auth:check", Some(&fresh)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    let (ok, text) = authgate(s.dir.path(), &["token-policy", "reset"], None, &env);
    assert!(ok && text.contains("tokenExpirationTime 1ms"), "{text}");
    let (ok, text) = authgate(s.dir.path(), &["token-policy", "show"], None, &env);
    assert!(ok && text.contains("tokenExpirationTime 1d"), "{text}");
    // Within a second the server follows: a new token works again.
    let since = std::time::Instant::now();
    loop {
        let token = s.admin_token().await;
        if s.get("/api/auth:check", Some(&token)).await.status == StatusCode::OK {
            break;
        }
        assert!(since.elapsed() < std::time::Duration::from_secs(2));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The RSA keys' ids in the JWKS.
async fn rsa_kids(s: &Server) -> Vec<String> {
    let jwks = s.get("/.well-known/jwks.json", None).await.body;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kty"] == "RSA")
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

async fn keys_rotate_publishes_the_new_key_beside_the_old(db: Db) {
    let mut s = Server::start(db).await;
    let env = [("AUTHGATE_DATABASE_URL", s.database_url.as_str())];
    let before = rsa_kids(&s).await;
    assert_eq!(before.len(), 1);
    let (ok, text) = authgate(
        s.dir.path(),
        &["keys", "rotate", "--alg", "RS256"],
        None,
        &env,
    );
    assert!(ok, "{text}");
    let (ok, listed) = authgate(s.dir.path(), &["keys", "list"], None, &env);
    assert!(ok, "{listed}");
    let old = listed.lines().find(|l| l.starts_with(&before[0])).unwrap();
    assert!(old.contains("retired"), "{listed}");
    assert_eq!(
        listed.lines().filter(|l| l.contains("active")).count(),
        2,
        "one active key per algorithm: {listed}"
    );
    s.restart().await;
    let after = rsa_kids(&s).await;
    assert_eq!(after.len(), 2, "the old key stays published: {after:?}");
    assert!(after.contains(&before[0]));
    let new_kid = after.iter().find(|k| **k != before[0]).unwrap();
    assert!(text.contains(new_kid.as_str()), "{text}");
    // Without the secret key, nothing can be rotated.
    let (ok, text) = authgate(
        s.dir.path(),
        &["keys", "rotate", "--alg", "EdDSA"],
        None,
        &[
            ("AUTHGATE_DATABASE_URL", s.database_url.as_str()),
            (
                "AUTHGATE_SECRET_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
        ],
    );
    assert!(!ok, "{text}");
}

both_databases!(
    authenticators_commands_recover_a_disabled_password_sign_in,
    token_policy_reset_recovers_from_a_policy_that_signs_everyone_out,
    keys_rotate_publishes_the_new_key_beside_the_old,
);

/// Waits (up to the second a running server may take to see another process's change) until
/// the admin's password sign-in works, or fails, as `works` says.
async fn password_sign_in_becomes(s: &Server, works: bool) {
    let since = std::time::Instant::now();
    loop {
        let r = s.sign_in_reply("basic", "admin", ADMIN_PASSWORD).await;
        if (r.status == StatusCode::OK) == works {
            return;
        }
        assert!(
            since.elapsed() < std::time::Duration::from_secs(2),
            "password sign-in should {} within a second: {} {}",
            if works { "work" } else { "fail" },
            r.status,
            r.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Attack campaign: an admin locked out by a disabled password authenticator had only SQL to
/// get back in. `authgate authenticators` does it offline, under the store's rules.
async fn authenticators_commands_recover_a_disabled_password_sign_in(db: Db) {
    let s = Server::start(db).await;
    let env = [("AUTHGATE_DATABASE_URL", s.database_url.as_str())];
    let run = |args: &[&str]| {
        authgate(
            s.dir.path(),
            &[&["authenticators"], args].concat(),
            None,
            &env,
        )
    };
    s.sql("UPDATE authenticators SET enabled = FALSE WHERE name = 'basic'")
        .await;
    password_sign_in_becomes(&s, false).await;

    let (ok, text) = run(&["list"]);
    assert!(ok, "{text}");
    let basic_line = text.lines().find(|l| l.starts_with("basic ")).expect(&text);
    assert_eq!(
        basic_line.split_whitespace().take(3).collect::<Vec<_>>(),
        ["basic", "password", "no"],
        "{text}"
    );
    let (ok, text) = run(&["enable", "basic"]);
    assert!(
        ok && text.contains("enabled the authenticator 'basic'"),
        "{text}"
    );
    password_sign_in_becomes(&s, true).await;
    let (ok, text) = run(&["enable", "basic"]);
    assert!(ok && text.contains("already enabled"), "{text}");

    // With another authenticator enabled, the admin still signs in only with a password.
    s.sql(
        "INSERT INTO authenticators (name, auth_type, title, options, enabled, sort, created_at, \
         updated_at) VALUES ('dingtalk', 'dingtalk', 'DingTalk', '{}', TRUE, 2, 0, 0)",
    )
    .await;
    let (ok, text) = run(&["disable", "basic"]);
    assert!(
        !ok && text.contains("An administrator signs in only with a password"),
        "{text}"
    );
    let (ok, text) = run(&["disable", "dingtalk"]);
    assert!(
        ok && text.contains("disabled the authenticator 'dingtalk'"),
        "{text}"
    );
    let (ok, text) = run(&["disable", "basic"]);
    assert!(
        !ok && text.contains("Please keep and enable at least one authenticator"),
        "{text}"
    );
    password_sign_in_becomes(&s, true).await;

    let (ok, text) = run(&["enable", "ghost"]);
    assert!(
        !ok && text.contains("'ghost'") && text.contains("'basic', 'dingtalk'"),
        "{text}"
    );
    let (ok, text) = run(&["list"]);
    assert!(ok, "{text}");
    let names: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["basic", "dingtalk"], "{text}");
}

/// `authgate backup FILE` copies a running server's SQLite database; the copy, put in place
/// with the same secret key, is the same authgate: its users and its signing keys. Another
/// key cannot open it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_of_a_running_server_restores_with_its_secret_key() {
    use std::os::unix::fs::PermissionsExt;
    let s = Server::start(Db::Sqlite).await;
    let data_dir = s.data_dir();
    let env = [
        ("AUTHGATE_DATABASE_URL", s.database_url.as_str()),
        ("AUTHGATE_DATA_DIR", data_dir.to_str().unwrap()),
    ];
    let admin = s.admin_token().await;
    s.post(
        "/api/users:create",
        Some(&admin),
        serde_json::json!({"username": "张伟", "password": "restore-me-123"}),
    )
    .await
    .assert_ok();
    // The RSA signing key is made in the background at first start: let it be there.
    while rsa_kids(&s).await.is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let copy = s.dir.path().join("authgate-backup.db");
    let copy_arg = copy.to_str().unwrap();
    let (ok, text) = authgate(s.dir.path(), &["backup", copy_arg], None, &env);
    assert!(ok, "{text}");
    let key_file = s.data_dir().join("secret.key");
    assert!(text.contains(key_file.to_str().unwrap()), "{text}");
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a backup holds password hashes");
    let size = std::fs::metadata(&copy).unwrap().len();
    // A backup never overwrites a file.
    let (ok, text) = authgate(s.dir.path(), &["backup", copy_arg], None, &env);
    assert!(!ok && text.contains("already exists"), "{text}");
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), size);
    // Later changes are not in the copy.
    s.post(
        "/api/users:create",
        Some(&admin),
        serde_json::json!({"username": "after-backup", "password": "after-backup-123"}),
    )
    .await
    .assert_ok();

    let restore = |key: Vec<u8>| {
        let copy = copy.clone();
        move |url: String| async move {
            let file = std::path::PathBuf::from(url.strip_prefix("sqlite://").unwrap());
            std::fs::copy(&copy, &file).unwrap();
            let data = file.parent().unwrap().join("data");
            std::fs::create_dir_all(&data).unwrap();
            std::fs::write(data.join("secret.key"), key).unwrap();
            std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
            std::fs::set_permissions(
                data.join("secret.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        }
    };
    let key = std::fs::read(&key_file).unwrap();
    let restored =
        Server::start_on_filled(Db::Sqlite, ServerOptions::default(), restore(key)).await;
    restored.sign_in("张伟", "restore-me-123").await;
    assert_eq!(
        restored
            .sign_in_reply("basic", "after-backup", "after-backup-123")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // The signing keys, sealed with the secret key, are the same ones.
    assert_eq!(
        restored.get("/.well-known/jwks.json", None).await.body,
        s.get("/.well-known/jwks.json", None).await.body
    );

    // With another key, the server refuses to start rather than lose the sealed secrets.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("authgate.db").display());
    let other_key = b"eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg=".to_vec();
    restore(other_key)(url.clone()).await;
    let mut serve = Command::new(binary())
        .current_dir(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .env_clear()
        .env("AUTHGATE_DATABASE_URL", &url)
        .env("AUTHGATE_DATA_DIR", dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let since = std::time::Instant::now();
    while serve.try_wait().unwrap().is_none() {
        if since.elapsed() > std::time::Duration::from_secs(20) {
            let _ = serve.kill();
            panic!("authgate started with another secret key");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let out = serve.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && text.contains("another secret key"),
        "{text}"
    );
}

/// On PostgreSQL, `authgate backup` says to use pg_dump and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_on_postgres_points_to_pg_dump() {
    let s = Server::start(Db::Postgres).await;
    let env = [("AUTHGATE_DATABASE_URL", s.database_url.as_str())];
    let copy = s.dir.path().join("authgate-backup.db");
    let (ok, text) = authgate(
        s.dir.path(),
        &["backup", copy.to_str().unwrap()],
        None,
        &env,
    );
    assert!(!ok && text.contains("pg_dump"), "{text}");
    assert!(!copy.exists());
}
