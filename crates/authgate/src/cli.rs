//! Command-line interface. Flags override environment variables, which override
//! `authgate.toml`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "authgate",
    version,
    about = "Self-hosted authentication server with Sign in with DingTalk",
    long_about = "authgate is a self-hosted authentication server compatible with NocoBase's \
authentication API, with password and DingTalk sign-in.\n\n\
Settings come from authgate.toml (or --config), then AUTHGATE_* environment variables, then \
flags, each overriding the one before. `authgate serve` with no settings at all starts on \
http://127.0.0.1:8080 with an embedded SQLite database in ./data."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (TOML). Default: ./authgate.toml when it exists.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database: sqlite://path or postgres://user@host/db [env: AUTHGATE_DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Folder for the SQLite database and the generated secret key [env: AUTHGATE_DATA_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format: text or json [env: AUTHGATE_LOG_FORMAT]; verbosity comes from RUST_LOG
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (applies migrations, creates the root admin on first start)
    Serve(ServeArgs),
    /// Apply database migrations and exit
    Migrate,
    /// Manage administrator accounts from the command line
    #[command(subcommand)]
    Admin(AdminCommand),
    /// List, enable or disable authenticators offline, directly on the database
    ///
    /// The way back in for an administrator locked out by a disabled password authenticator.
    #[command(subcommand)]
    Authenticators(AuthenticatorsCommand),
    /// Show or reset the token policy offline, directly on the database
    ///
    /// The way back in when a policy signs everyone out (tokens that die at once).
    #[command(subcommand)]
    TokenPolicy(TokenPolicyCommand),
    /// List or rotate the signing keys (JWKS)
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Write a consistent copy of the SQLite database to FILE while servers keep running
    ///
    /// Keep the secret key (`<data_dir>/secret.key` or AUTHGATE_SECRET_KEY) with it: without
    /// the same key the sealed secrets in the copy (DingTalk client secrets, signing keys)
    /// cannot be opened. On PostgreSQL, use pg_dump instead.
    Backup {
        /// The new file (it must not exist)
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Run the server with a built-in fake DingTalk, sample employees and a DingTalk
    /// authenticator already configured: try "Sign in with DingTalk" with no DingTalk account
    Demo(DemoArgs),
    /// Run only the fake DingTalk (login, api and oapi hosts on one port), for tests and benchmarks
    FakeDingtalk(FakeDingTalkArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Port of the embedded fake DingTalk (default: any free port)
    #[arg(long, value_name = "PORT")]
    pub fake_port: Option<u16>,
}

#[derive(Debug, Args)]
pub struct FakeDingTalkArgs {
    /// Port to listen on (127.0.0.1 unless --host says otherwise)
    #[arg(long, default_value_t = 8099)]
    pub port: u16,
    /// Address to bind
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Users (and optionally apps) as JSON: a list of users or {"users": [...], "apps": [...]}.
    /// Default: the built-in sample employees
    #[arg(long, value_name = "FILE")]
    pub users: Option<std::path::PathBuf>,
    /// Redirect URL to register with the default app `dingdemo` (repeatable)
    #[arg(long = "redirect-uri", value_name = "URL")]
    pub redirect_uris: Vec<String>,
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080 [env: AUTHGATE_LISTEN]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// URL browsers use to reach authgate (default http://<listen>) [env: AUTHGATE_PUBLIC_URL]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator. The password is read from standard input with
    /// --password-stdin, or generated and printed once.
    Create {
        /// Username of the new administrator
        #[arg(long)]
        username: String,
        /// E-mail address (optional)
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password for a user and sign out all their sessions. The password is read
    /// from standard input with --password-stdin, or generated and printed once.
    ResetPassword {
        /// Username or e-mail of the user
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthenticatorsCommand {
    /// Show every authenticator: name, auth type, enabled or not, title
    List,
    /// Enable an authenticator
    ///
    /// Running servers apply the change within a second.
    Enable {
        /// Name of the authenticator, as `authgate authenticators list` shows it
        name: String,
    },
    /// Disable an authenticator
    ///
    /// Refused for the last enabled one, and for the last password authenticator while an
    /// administrator can sign in with nothing else. Running servers apply the change within a
    /// second.
    Disable {
        /// Name of the authenticator, as `authgate authenticators list` shows it
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Show every signing key: kid, algorithm, created, active or retired
    List,
    /// Make a new active key for an algorithm; the old one stays published until the tokens
    /// it signed have expired. Restart every node afterwards.
    Rotate {
        /// Which key: RS256 (ID tokens by default) or EdDSA (sessions, access tokens)
        #[arg(long, value_enum)]
        alg: KeyAlg,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KeyAlg {
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "EdDSA")]
    EdDsa,
}

#[derive(Debug, Subcommand)]
pub enum TokenPolicyCommand {
    /// Show the token policy
    Show,
    /// Put the default policy back (token 1 day, session 7 days, renewal 1 day)
    ///
    /// Running servers apply it within a second.
    Reset,
}
