//! `authgate serve`.

use super::open_store;
use crate::secret_key;
use crate::settings::Settings;
use anyhow::Context;
use authgate_server::bootstrap::{self, AdminPassword};
use authgate_server::config::ConnectionLimits;
use authgate_server::http::listener::{self as accept_loop, RESERVED_DESCRIPTORS};
use authgate_server::AppState;

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let (state, listener) = prepare(&settings).await?;
    serve_app(state, listener).await
}

/// Everything up to the first request: database, keys, first-start admin, the listener.
pub async fn prepare(settings: &Settings) -> anyhow::Result<(AppState, tokio::net::TcpListener)> {
    let config = settings.server_config()?;
    let key = secret_key::load(settings.secret_key.as_deref(), &settings.data_dir)?;
    let secrets = key.secrets;
    let mut admin_password = AdminPassword::new(settings.admin_password.as_deref());
    if key.generated_now {
        // A fresh data folder: the root admin will most likely be created.
        admin_password.hash_ahead(config.hashing.hasher().map_err(anyhow::Error::msg)?);
    }
    let store = open_store(settings).await?;
    secret_key::verify_against_store(&secrets, store.as_ref()).await?;
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let state = AppState::new(config, store, secrets).await?;
    if let Some(admin) =
        bootstrap::first_start(&state, &settings.admin_username, admin_password).await?
    {
        match admin.generated_password {
            Some(password) => eprintln!(
                "authgate: created the root admin '{}' with the password below. It is shown \
                 only this once; sign in and change it.\n\n    {password}\n",
                admin.username
            ),
            None => eprintln!(
                "authgate: created the root admin '{}' with the password from AUTHGATE_ADMIN_PASSWORD",
                admin.username
            ),
        }
    }
    // The dummy hash that equalises unknown-account timing is computed off the start-up path.
    let warm = state.clone();
    tokio::task::spawn_blocking(move || warm.passwords.hasher().warm_up());
    Ok((state, listener))
}

pub async fn serve_app(state: AppState, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let address = listener.local_addr()?;
    tracing::info!(%address, public_url = %state.config.public_url, "authgate is listening");
    eprintln!(
        "authgate: listening on http://{address} (public URL {})",
        state.config.public_url
    );
    let limits = state.config.connections;
    let limits = accept_loop::fit_to_descriptor_limit(limits, raise_open_files_limit(&limits));
    let trusted_proxies = state.config.trusted_proxies.clone();
    authgate_server::housekeeping::start(state.clone());
    let app = authgate_server::app(state);
    accept_loop::serve(listener, app, limits, trusted_proxies, shutdown_signal()).await;
    Ok(())
}

/// Raises the soft descriptor limit (often 1024) towards the hard one, as far as
/// `max_connections` needs; returns the limit in force.
fn raise_open_files_limit(limits: &ConnectionLimits) -> u64 {
    let wanted = limits.max_connections as u64 + RESERVED_DESCRIPTORS;
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut current) != 0 {
            return u64::MAX;
        }
        if current.rlim_cur < wanted && current.rlim_cur < current.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: wanted.min(current.rlim_max),
                rlim_max: current.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
    }
    current.rlim_cur
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler installs");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down");
}
