//! The reference OpenID Provider the OIDC scenarios are measured against: panva's
//! `oidc-provider` (npm, OpenID Certified), from the read-only launcher folder
//! `../shared/anchors/oidc-provider` (or `/work/shared/...`, or `AUTHGATE_BENCH_ANCHOR_OP`). The folder is copied to a
//! temporary directory, its launcher gets a `client_credentials` client (and the feature
//! turned on), and `npm install` runs there once per harness run; each round then starts its
//! own `node anchor_op.mjs PORT` (an in-memory store).
//!
//! Without node, npm or the npm registry this fails, and says so: the OIDC rows are never
//! silently left out.

use crate::procs::{free_port, Proc};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The launcher's confidential client (client_secret_basic) and its redirect URI.
pub const CLIENT_ID: &str = "rp-basic";
pub const CLIENT_SECRET: &str = "secret-basic-0123456789abcdef0123456789";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";
/// The client added to the launcher for the `client_credentials` scenario.
pub const CC_CLIENT_ID: &str = "rp-cc";
pub const CC_CLIENT_SECRET: &str = "secret-cc-0123456789abcdef0123456789abcd";

/// The `database` column of oidc-provider's rows.
pub const DB: &str = "oidc-provider";

/// What `npm install` takes at most (a registry that does not answer must not hang CI).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(300);

/// The launcher folder with its packages installed, removed when dropped.
pub struct Install {
    dir: tempfile::TempDir,
    /// "oidc-provider 9.13.3 on node v20.20.2".
    pub version: String,
}

/// `AUTHGATE_BENCH_ANCHOR_OP`, else the repository's sibling `shared` folder, else the
/// workplace's (`/work/shared`: a clone elsewhere, such as CI's, has no sibling).
fn source_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AUTHGATE_BENCH_ANCHOR_OP") {
        return PathBuf::from(dir);
    }
    let sibling =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/anchors/oidc-provider");
    let workplace = PathBuf::from("/work/shared/anchors/oidc-provider");
    if !sibling.join("anchor_op.mjs").exists() && workplace.join("anchor_op.mjs").exists() {
        return workplace;
    }
    sibling
}

/// `program --version`, or an error that says the OIDC scenarios need it.
fn tool_version(program: &str) -> anyhow::Result<String> {
    let out = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            anyhow::anyhow!(
                "the OIDC scenarios compare authgate with panva's oidc-provider, which needs \
                 node and npm, but `{program}` could not be run ({e}): install Node.js 20 or \
                 later with npm (Debian: apt-get install nodejs npm)"
            )
        })?;
    if !out.status.success() {
        bail!(
            "`{program} --version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Adds the `client_credentials` client and feature to the launcher's configuration.
fn patch_launcher(source: &str) -> anyhow::Result<String> {
    let client = format!(
        "clients: [\n    {{ client_id: '{CC_CLIENT_ID}', client_secret: '{CC_CLIENT_SECRET}', \
         token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], \
         response_types: [], redirect_uris: [] }}, // added by authgate-bench"
    );
    let feature =
        "features: {\n    clientCredentials: { enabled: true }, // added by authgate-bench";
    if source.matches("clients: [").count() != 1 || source.matches("features: {").count() != 1 {
        bail!(
            "the launcher anchor_op.mjs changed: `clients: [` and `features: {{` must each occur \
             once for authgate-bench to add its client_credentials client"
        );
    }
    Ok(source
        .replacen("clients: [", &client, 1)
        .replacen("features: {", feature, 1))
}

impl Install {
    /// Copies the launcher folder, adds the client_credentials client and installs the
    /// packages (`npm install`).
    pub async fn prepare() -> anyhow::Result<Install> {
        let node = tool_version("node")?;
        tool_version("npm")?;
        let source = source_dir();
        let launcher = source.join("anchor_op.mjs");
        if !launcher.exists() {
            bail!(
                "{} is missing: the OIDC scenarios need oidc-provider's launcher folder \
                 (set AUTHGATE_BENCH_ANCHOR_OP to the folder holding anchor_op.mjs and \
                 package.json)",
                launcher.display()
            );
        }
        let dir = tempfile::Builder::new().prefix("anchor-op-").tempdir()?;
        for entry in std::fs::read_dir(&source)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::copy(entry.path(), dir.path().join(entry.file_name()))?;
            }
        }
        let launcher = dir.path().join("anchor_op.mjs");
        let patched = patch_launcher(&std::fs::read_to_string(&launcher)?)?;
        // The copy may keep the read-only mode of the original.
        let _ = std::fs::remove_file(&launcher);
        std::fs::write(&launcher, patched)?;
        eprintln!(
            "installing oidc-provider (npm install in {})",
            dir.path().display()
        );
        let mut npm = tokio::process::Command::new("npm");
        npm.args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let out = tokio::time::timeout(INSTALL_TIMEOUT, npm.output())
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "npm install of oidc-provider took more than {} s: is the npm registry \
                     reachable? (the OIDC scenarios need it)",
                    INSTALL_TIMEOUT.as_secs()
                )
            })?
            .context("running npm install")?;
        if !out.status.success() {
            bail!(
                "npm install of oidc-provider failed ({}); the OIDC scenarios need it (is the \
                 npm registry reachable?):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let package = dir.path().join("node_modules/oidc-provider/package.json");
        let package: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&package)
                .with_context(|| format!("npm install left no {}", package.display()))?,
        )?;
        let version = format!(
            "oidc-provider {} on node {node}",
            package["version"].as_str().unwrap_or("?")
        );
        let install = Install { dir, version };
        // Launched once now, so that a launcher that does not start fails the run before
        // anything is measured, not minutes later.
        drop(install.start()?);
        Ok(install)
    }

    /// A fresh provider process (empty in-memory store), ready when discovery answers.
    pub fn start(&self) -> anyhow::Result<Proc> {
        let port = free_port();
        let mut cmd = Command::new("node");
        cmd.arg("anchor_op.mjs")
            .arg(port.to_string())
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        let log = self.dir.path().join("anchor_op.log");
        Proc::spawn_logged(cmd, port, "/.well-known/openid-configuration", Some(&log)).with_context(
            || {
                let output = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: String = output
                    .chars()
                    .rev()
                    .take(3000)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!(
                    "starting oidc-provider ({}) failed; its output:\n{tail}",
                    self.version
                )
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_gets_a_client_credentials_client() {
        let source = "const op = new Provider(ISS, {\n  clients: [\n    { a },\n  ],\n  \
                      features: {\n    devInteractions: { enabled: true },\n  },\n});";
        let patched = patch_launcher(source).unwrap();
        assert!(patched.contains("grant_types: ['client_credentials']"));
        assert!(patched.contains("clientCredentials: { enabled: true }"));
        assert!(patched.contains("{ a }"));
        assert!(patch_launcher("no clients here").is_err());
    }
}
