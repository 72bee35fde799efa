//! What a PostgreSQL URL leaves out comes from where every PostgreSQL client looks: libpq's
//! environment variables (`PGHOST` and `PGPORT` for a URL naming no host, `PGUSER`,
//! `PGPASSWORD`, `PGDATABASE`, `PGAPPNAME`, `PGSSLMODE`) and the password file (`PGPASSFILE`, else `~/.pgpass`), so that a
//! deployment can keep the password out of the URL.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::Config;

const DEFAULT_PORT: u16 = 5432;

/// Completes `config` (parsed from `url`) from the environment and the password file.
pub(crate) fn fill_in(config: &mut Config, url: &str) {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    fill_in_from(config, url, var);
}

fn fill_in_from(config: &mut Config, url: &str, var: impl Fn(&str) -> Option<String>) {
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        config.host(var("PGHOST").unwrap_or_else(|| "localhost".into()));
    }
    if config.get_ports().is_empty() {
        if let Some(port) = var("PGPORT").and_then(|p| p.parse().ok()) {
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        if let Some(user) = var("PGUSER").or_else(|| var("USER")) {
            config.user(user);
        }
    }
    if config.get_dbname().is_none() {
        if let Some(dbname) = var("PGDATABASE") {
            config.dbname(dbname);
        }
    }
    if config.get_application_name().is_none() {
        if let Some(name) = var("PGAPPNAME") {
            config.application_name(name);
        }
    }
    if let Some(mode) = var("PGSSLMODE").filter(|_| !url.contains("sslmode=")) {
        config.ssl_mode(match mode.as_str() {
            "disable" => SslMode::Disable,
            "prefer" | "allow" => SslMode::Prefer,
            _ => SslMode::Require,
        });
    }
    if config.get_password().is_none() {
        let file = var("PGPASSFILE")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".pgpass")));
        if let Some(password) =
            var("PGPASSWORD").or_else(|| file.and_then(|f| from_file(config, f)))
        {
            config.password(password);
        }
    }
}

/// The password the file has for this connection. libpq ignores a file others may read, and
/// so does this.
fn from_file(config: &Config, path: PathBuf) -> Option<String> {
    let metadata = std::fs::metadata(&path).ok()?;
    if metadata.permissions().mode() & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "the password file is ignored: others may read it (chmod 0600)");
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        _ => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(DEFAULT_PORT)
        .to_string();
    let user = config.get_user().unwrap_or_default();
    let dbname = config.get_dbname().unwrap_or(user);
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(fields)
        .find(|f| {
            f.len() == 5
                && [&host, &port, dbname, user]
                    .iter()
                    .zip(f)
                    .all(|(want, have)| have == "*" || have == *want)
        })
        .map(|f| f[4].clone())
}

/// The `:`-separated fields of a password file line (`\:` and `\\` are a colon and a
/// backslash).
fn fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().unwrap().extend(chars.next()),
            ':' => fields.push(String::new()),
            _ => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn filled(url: &str, vars: &[(&str, &str)]) -> Config {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut config: Config = url.parse().unwrap();
        fill_in_from(&mut config, url, |name| vars.get(name).cloned());
        config
    }

    #[test]
    fn the_url_wins_and_the_environment_fills_the_rest() {
        let c = filled(
            "postgres://app@db.internal/auth",
            &[
                ("PGUSER", "other"),
                ("PGPASSWORD", "s3cret"),
                ("PGPORT", "6432"),
            ],
        );
        assert_eq!(c.get_user(), Some("app"));
        assert_eq!(c.get_password(), Some(&b"s3cret"[..]));
        assert_eq!(c.get_ports(), [5432], "a URL naming a host has its port");
        assert_eq!(c.get_dbname(), Some("auth"));
        let bare = filled(
            "postgres://",
            &[("PGHOST", "pg"), ("PGPORT", "6432"), ("USER", "me")],
        );
        assert_eq!(bare.get_hosts(), [Host::Tcp("pg".into())]);
        assert_eq!(bare.get_ports(), [6432]);
        assert_eq!(bare.get_user(), Some("me"));
        let tls = filled("postgres://app@db/auth", &[("PGSSLMODE", "require")]);
        assert_eq!(tls.get_ssl_mode(), SslMode::Require, "refused at connect");
        let url_wins = filled(
            "postgres://app@db/auth?sslmode=disable",
            &[("PGSSLMODE", "require")],
        );
        assert_eq!(url_wins.get_ssl_mode(), SslMode::Disable);
    }

    #[test]
    fn the_password_file_gives_the_matching_line_s_password() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:app:wrong\ndb.internal:*:auth:app:pa\\:ss\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let passfile = file.to_str().unwrap();
        let c = filled(
            "postgres://app@db.internal/auth",
            &[("PGPASSFILE", passfile)],
        );
        assert_eq!(c.get_password(), Some(&b"pa:ss"[..]));
        let none = filled(
            "postgres://app@db.internal/other",
            &[("PGPASSFILE", passfile)],
        );
        assert_eq!(none.get_password(), None);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = filled(
            "postgres://app@db.internal/auth",
            &[("PGPASSFILE", passfile)],
        );
        assert_eq!(
            open.get_password(),
            None,
            "a file others may read is ignored"
        );
    }
}
