//! Running the fake: embedded in a test ([`FakeDingTalk`]) or as a process ([`serve`]).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

use crate::config::{FakeApp, FakeConfig, FakeUser};
use crate::connection::{ConnHandle, KillableListener};
use crate::faults::{Endpoint, FaultRule};
use crate::request_log::RecordedRequest;
use crate::routes;
use crate::state::{FakeError, Shared};

/// Serves the fake on `listener` until the process ends or the listener fails.
/// This is what `authgate fake-dingtalk --port P --users FILE` runs.
pub async fn serve(listener: TcpListener, config: FakeConfig) -> io::Result<()> {
    serve_with_shutdown(listener, config, std::future::pending()).await
}

/// Like [`serve`], stopping gracefully when `shutdown` completes.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    config: FakeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    run(listener, Arc::new(Shared::new(config)), shutdown).await
}

async fn run(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = routes::router(shared).into_make_service_with_connect_info::<ConnHandle>();
    axum::serve(KillableListener(listener), app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A fake DingTalk running inside the current tokio runtime, on `127.0.0.1` and a free port.
/// It stops when dropped (or with [`FakeDingTalk::shutdown`]).
pub struct FakeDingTalk {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl FakeDingTalk {
    /// Starts the fake. Panics if no local port can be bound: it is a test fixture.
    pub async fn start(config: FakeConfig) -> FakeDingTalk {
        Self::try_start(config)
            .await
            .expect("fake-dingtalk: cannot bind 127.0.0.1:0")
    }

    /// Starts the fake, reporting a bind failure.
    pub async fn try_start(config: FakeConfig) -> io::Result<FakeDingTalk> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, shared.clone(), async move {
            let _ = stopped.await;
        }));
        Ok(FakeDingTalk {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`: use it as login, API and oapi base alike.
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).expect("a socket address is a valid host")
    }

    /// Switches a fault on. Panics on a rule that could never fire (e.g. `MissingMobile` on the
    /// app-token endpoint), so a test cannot silently test nothing.
    pub fn set_fault(&self, rule: impl Into<FaultRule>) {
        let rule = rule.into();
        if let Err(e) = rule.validate() {
            panic!("fake-dingtalk: {e}");
        }
        self.shared.faults.add(rule);
    }

    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// The faults still in force (counted ones disappear once used up).
    pub fn faults(&self) -> Vec<FaultRule> {
        self.shared.faults.list()
    }

    /// Every request received (oldest first), except the control API's.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.snapshot()
    }

    /// The requests received by one endpoint.
    pub fn requests_to(&self, endpoint: Endpoint) -> Vec<RecordedRequest> {
        let mut requests = self.requests();
        requests.retain(|r| r.endpoint == Some(endpoint));
        requests
    }

    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// A login-free code as `dd.requestAuthCode` would give `userid` inside the app's organisation.
    pub fn mint_in_client_code(&self, client_id: &str, userid: &str) -> Result<String, FakeError> {
        self.shared.mint_in_client_code(client_id, userid)
    }

    /// A web sign-in code, as if `userid_or_union_id` had consented (skips `/oauth2/auth`).
    pub fn mint_web_code(
        &self,
        client_id: &str,
        userid_or_union_id: &str,
        with_corp: bool,
    ) -> Result<String, FakeError> {
        let app = self
            .shared
            .app(client_id)
            .ok_or_else(|| FakeError::UnknownApp(client_id.to_owned()))?;
        let user = self
            .shared
            .find_user(userid_or_union_id)
            .ok_or_else(|| FakeError::UnknownUser(userid_or_union_id.to_owned()))?;
        Ok(self.shared.issue_web_code(&app, &user, with_corp, None))
    }

    /// Registers an app, or replaces the one with the same client ID.
    pub fn add_app(&self, app: FakeApp) -> Result<(), FakeError> {
        self.shared.upsert_app(app)
    }

    /// Adds a user, or replaces the one with the same userid.
    pub fn add_user(&self, user: FakeUser) -> Result<(), FakeError> {
        self.shared.upsert_user(user)
    }

    pub fn apps(&self) -> Vec<FakeApp> {
        self.shared.apps()
    }

    pub fn users(&self) -> Vec<FakeUser> {
        self.shared.users()
    }

    /// Invalidates issued app tokens (one app's or all): the next legacy call gets 40014.
    pub fn revoke_app_tokens(&self, client_id: Option<&str>) {
        self.shared.revoke_app_tokens(client_id);
    }

    /// Back to the start-up configuration, with no codes, tokens, faults or log.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops accepting, lets requests in flight finish (for at most 2 s), and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for FakeDingTalk {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
