//! The OpenID Connect scenarios, each measured against a fresh authgate (per database) and
//! against panva's oidc-provider (in-memory store) in the same run:
//!
//! - (o1) discovery: `GET /.well-known/openid-configuration`;
//! - (o2) UserInfo with a bearer access token (each connection got its token beforehand
//!   through a real code flow);
//! - (o3) introspection of that access token by its client (client_secret_basic);
//! - (o4) `client_credentials` at the token endpoint (client_secret_basic);
//! - (o5) the silent code flow: authorize with an existing session (a redirect to the client
//!   with a code, no interaction), then the token exchange, with PKCE (S256), a nonce and
//!   an RS256 ID token, on both sides alike;
//!
//! plus (o0), oidc-provider's start-up and idle memory (authgate's is row (g)), and the RS256
//! signing bound the silent flow is compared with: cores / the time of one RS256 signature of
//! a typical ID token with a 2048-bit key, measured here with ring as authgate signs.
//!
//! Every connection has its own session (authgate: a password sign-in; oidc-provider: one pass
//! through its development sign-in and consent pages, its cookies kept in the connection's jar).

use crate::anchor_op;
use crate::load::{self, Outcome};
use crate::procs::Proc;
use crate::scenarios::{http_client, Row, Target, PASSWORD};
use crate::{Db, Plan, ADMIN_PASSWORD};
use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// What every authorization request asks for, on both sides.
const SCOPE: &str = "openid profile email";
/// Where the clients send people back (nothing listens: the harness reads the Location).
const REDIRECT_URI: &str = anchor_op::REDIRECT_URI;
/// Distinct people signed in, the connections' sessions spread over them.
const PEOPLE: usize = 8;

/// The row of the RS256 signing bound.
pub const BOUND_ROW: &str = "bound: one RS256 signature";

/// One provider's endpoints (from its discovery document, on the address the harness
/// reaches it at) and the clients the scenarios use.
pub struct Provider {
    discovery: String,
    authorize: String,
    token: String,
    userinfo: String,
    introspect: String,
    client: (String, String),
    /// The client of the `client_credentials` scenario.
    cc_client: (String, String),
}

impl Provider {
    async fn discover(
        base: &str,
        client: (String, String),
        cc_client: (String, String),
    ) -> anyhow::Result<Provider> {
        let discovery = format!("{base}/.well-known/openid-configuration");
        let doc: Value = http_client()
            .get(&discovery)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        // The path of each endpoint on the address we use (the document may name another host).
        let endpoint = |name: &str| -> anyhow::Result<String> {
            let url = doc[name]
                .as_str()
                .with_context(|| format!("discovery names no {name}"))?;
            let url = reqwest::Url::parse(url).with_context(|| format!("{name}: {url}"))?;
            Ok(format!("{base}{}", url.path()))
        };
        Ok(Provider {
            authorize: endpoint("authorization_endpoint")?,
            token: endpoint("token_endpoint")?,
            userinfo: endpoint("userinfo_endpoint")?,
            introspect: endpoint("introspection_endpoint")?,
            discovery,
            client,
            cc_client,
        })
    }
}

/// One connection's state: its HTTP client, its session and the access token it got through a
/// code flow.
#[derive(Clone)]
pub struct Conn {
    http: reqwest::Client,
    p: Arc<Provider>,
    /// authgate's session cookie; oidc-provider's cookies live in the client's jar.
    cookie: Option<Arc<str>>,
    access_token: Arc<str>,
}

fn random_b64(n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
    B64URL.encode(bytes)
}

/// A fresh authorization request (PKCE S256, state, nonce) and what the exchange needs.
struct AuthRequest {
    url: String,
    state: String,
    verifier: String,
}

fn authorization_request(p: &Provider) -> anyhow::Result<AuthRequest> {
    let verifier = random_b64(32);
    let challenge = B64URL.encode(Sha256::digest(verifier.as_bytes()));
    let state = random_b64(12);
    let nonce = random_b64(12);
    let url = reqwest::Url::parse_with_params(
        &p.authorize,
        &[
            ("response_type", "code"),
            ("client_id", p.client.0.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("scope", SCOPE),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )?;
    Ok(AuthRequest {
        url: url.into(),
        state,
        verifier,
    })
}

fn location(r: &reqwest::Response) -> anyhow::Result<String> {
    Ok(r.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .with_context(|| format!("a {} without a Location", r.status()))?
        .to_string())
}

/// The code from the redirect back to the client.
fn code_from(location: &str, request: &AuthRequest) -> anyhow::Result<String> {
    if !location.starts_with(&format!("{REDIRECT_URI}?")) {
        bail!("authorize sent the browser to {location}, not back to the client with a code");
    }
    let url = reqwest::Url::parse(location)?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        bail!(
            "authorize answered {error}: {}",
            param("error_description").unwrap_or_default()
        );
    }
    if param("state").as_deref() != Some(request.state.as_str()) {
        bail!("authorize returned another state: {location}");
    }
    param("code").context("no code in the redirect")
}

/// The token exchange for `code` (client_secret_basic): the token endpoint's answer.
async fn exchange(c: &Conn, code: &str, request: &AuthRequest) -> anyhow::Result<Value> {
    let (id, secret) = &c.p.client;
    let r = c
        .http
        .post(&c.p.token)
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", request.verifier.as_str()),
        ])
        .send()
        .await?;
    let status = r.status();
    if !status.is_success() {
        bail!("token exchange {status}: {}", r.text().await?);
    }
    let answer: Value = r.json().await?;
    if !answer["id_token"].is_string() || !answer["access_token"].is_string() {
        bail!("the token exchange gave no ID token and access token: {answer}");
    }
    Ok(answer)
}

/// The silent code flow: authorize with the session (a redirect with a code, no
/// interaction), then the token exchange.
async fn silent_flow(c: &Conn) -> anyhow::Result<Value> {
    let request = authorization_request(&c.p)?;
    let mut authorize = c.http.get(&request.url);
    if let Some(cookie) = &c.cookie {
        authorize = authorize.header(COOKIE, cookie.as_ref());
    }
    let r = authorize.send().await?;
    if !r.status().is_redirection() {
        bail!("authorize answered {} instead of a redirect", r.status());
    }
    let to = location(&r)?;
    r.bytes().await?;
    let code = code_from(&to, &request)?;
    exchange(c, &code, &request).await
}

/// The `alg` of a JWT's header.
fn jwt_alg(token: &str) -> anyhow::Result<String> {
    let header = token.split('.').next().context("not a JWT")?;
    let header: Value = serde_json::from_slice(&B64URL.decode(header)?)?;
    Ok(header["alg"].as_str().context("no alg")?.to_string())
}

/// The access token of a first code flow, checking the ID token is RS256.
fn first_tokens(answer: &Value) -> anyhow::Result<Arc<str>> {
    let id_token = answer["id_token"].as_str().context("an ID token")?;
    let alg = jwt_alg(id_token)?;
    if alg != "RS256" {
        bail!("the ID token is signed with {alg}, not RS256");
    }
    Ok(answer["access_token"]
        .as_str()
        .context("an access token")?
        .into())
}

// The scenarios' operations.

fn contains(body: &[u8], needle: &[u8]) -> bool {
    body.windows(needle.len()).any(|w| w == needle)
}

async fn discovery_op(c: Conn) -> anyhow::Result<()> {
    let r = c.http.get(&c.p.discovery).send().await?;
    if !r.status().is_success() {
        bail!("discovery {}", r.status());
    }
    r.bytes().await?;
    Ok(())
}

async fn userinfo_op(c: Conn) -> anyhow::Result<()> {
    let r = c
        .http
        .get(&c.p.userinfo)
        .bearer_auth(c.access_token.as_ref())
        .send()
        .await?;
    let status = r.status();
    let body = r.bytes().await?;
    if !status.is_success() || !contains(&body, b"\"sub\":") {
        bail!("userinfo {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(())
}

async fn introspect_op(c: Conn) -> anyhow::Result<()> {
    let (id, secret) = &c.p.client;
    let r = c
        .http
        .post(&c.p.introspect)
        .basic_auth(id, Some(secret))
        .form(&[("token", c.access_token.as_ref())])
        .send()
        .await?;
    let status = r.status();
    let body = r.bytes().await?;
    if !status.is_success() || !contains(&body, b"\"active\":true") {
        bail!("introspection {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(())
}

async fn client_credentials_op(c: Conn) -> anyhow::Result<()> {
    let (id, secret) = &c.p.cc_client;
    let r = c
        .http
        .post(&c.p.token)
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    let status = r.status();
    let body = r.bytes().await?;
    if !status.is_success() || !contains(&body, b"\"access_token\":") {
        bail!(
            "client_credentials {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(())
}

async fn silent_flow_op(c: Conn) -> anyhow::Result<()> {
    silent_flow(&c).await.map(|_| ())
}

// authgate.

/// A fresh authgate with a confidential client (client_secret_basic, client_credentials on),
/// people to sign in, and one signed-in connection each with an access token.
pub async fn start_authgate(db: Db, connections: usize) -> anyhow::Result<(Target, Vec<Conn>)> {
    let t = Target::start(db).await?;
    // The baseline database of the other scenarios: 1,000 users.
    crate::seed::grow(&t.database_url, 0, 1_000, 0).await?;
    let http = http_client();
    let admin = t.sign_in(&http, "admin", ADMIN_PASSWORD).await?;
    let r = http
        .post(t.url("/api/oidcClients:create"))
        .bearer_auth(&admin)
        .json(&json!({
            "name": "bench-rp", "redirectUris": [REDIRECT_URI],
            "tokenEndpointAuthMethod": "client_secret_basic", "clientCredentials": true,
        }))
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await?;
    if !status.is_success() {
        bail!("oidcClients:create {status}: {body}");
    }
    let client = (
        body["data"]["clientId"]
            .as_str()
            .context("clientId")?
            .to_string(),
        body["data"]["clientSecret"]
            .as_str()
            .context("clientSecret")?
            .to_string(),
    );
    let people = PEOPLE.min(connections.max(1));
    for i in 0..people {
        let r = http
            .post(t.url("/api/users:create"))
            .bearer_auth(&admin)
            .json(&json!({
                "username": format!("oidc{i}"), "email": format!("oidc{i}@example.com"),
                "nickname": format!("OIDC Person {i}"), "password": PASSWORD,
            }))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("users:create: {}", r.text().await?);
        }
    }
    let p = Arc::new(Provider::discover(&t.proc.base, client.clone(), client).await?);
    let mut conns = Vec::with_capacity(connections);
    for i in 0..connections {
        let http = http_client();
        let session = t
            .sign_in(&http, &format!("oidc{}", i % people), PASSWORD)
            .await?;
        let mut c = Conn {
            http,
            p: p.clone(),
            cookie: Some(format!("authgate_token={session}").into()),
            access_token: "".into(),
        };
        c.access_token = first_tokens(&silent_flow(&c).await.context("authgate's code flow")?)?;
        conns.push(c);
    }
    Ok((t, conns))
}

// oidc-provider.

/// A client that keeps cookies (oidc-provider's session and interaction cookies).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(4)
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client")
}

/// One code flow through oidc-provider's development pages: sign-in (any password), then
/// consent; its session and grant stay in the connection's cookie jar. The token endpoint's
/// answer.
async fn anchor_sign_in(c: &Conn, base: &str, login: &str) -> anyhow::Result<Value> {
    let request = authorization_request(&c.p)?;
    let mut next = request.url.clone();
    let mut form: Option<Vec<(&str, &str)>> = None;
    for _ in 0..12 {
        let r = match form.take() {
            Some(fields) => c.http.post(&next).form(&fields),
            None => c.http.get(&next),
        }
        .send()
        .await?;
        let status = r.status();
        if status.is_redirection() {
            let to = location(&r)?;
            r.bytes().await?;
            if to.starts_with(REDIRECT_URI) {
                let code = code_from(&to, &request)?;
                return exchange(c, &code, &request).await;
            }
            next = if to.starts_with('/') {
                format!("{base}{to}")
            } else {
                to
            };
            continue;
        }
        let page = r.text().await?;
        if !status.is_success() {
            bail!("oidc-provider's sign-in: {next} answered {status}: {page}");
        }
        // The interaction page's form posts back to the same address.
        form = Some(if page.contains(r#"name="prompt" value="login""#) {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else if page.contains(r#"name="prompt" value="consent""#) {
            vec![("prompt", "consent")]
        } else {
            bail!("oidc-provider's sign-in: an unexpected page at {next}: {page}");
        });
    }
    bail!("oidc-provider's sign-in did not end with a code")
}

/// A fresh oidc-provider and one signed-in connection (with consent given) each, with an
/// access token.
pub async fn start_anchor(
    install: &anchor_op::Install,
    connections: usize,
) -> anyhow::Result<(Proc, Vec<Conn>)> {
    let proc = install.start()?;
    let pair = |id: &str, secret: &str| (id.to_string(), secret.to_string());
    let p = Arc::new(
        Provider::discover(
            &proc.base,
            pair(anchor_op::CLIENT_ID, anchor_op::CLIENT_SECRET),
            pair(anchor_op::CC_CLIENT_ID, anchor_op::CC_CLIENT_SECRET),
        )
        .await?,
    );
    let people = PEOPLE.min(connections.max(1));
    let mut conns = Vec::with_capacity(connections);
    for i in 0..connections {
        let mut c = Conn {
            http: browser(),
            p: p.clone(),
            cookie: None,
            access_token: "".into(),
        };
        let answer = anchor_sign_in(&c, &proc.base, &format!("oidc{}", i % people)).await?;
        c.access_token = first_tokens(&answer)?;
        // From now on authorize answers at once (session and grant exist).
        silent_flow(&c)
            .await
            .context("oidc-provider's silent code flow after sign-in")?;
        conns.push(c);
    }
    Ok((proc, conns))
}

/// oidc-provider's start-up (launch to the first discovery 200) and resident memory once idle,
/// the counterpart of authgate's row (g).
pub async fn anchor_idle(install: &anchor_op::Install) -> anyhow::Result<Row> {
    let proc = install.start()?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let idle = proc.rss_kib() as f64 / 1024.0;
    let ready = proc.ready_after;
    let mut outcome = Outcome {
        ops: 1,
        elapsed: ready,
        latencies_us: vec![ready.as_micros() as u64],
        ..Default::default()
    };
    outcome.all_ops = 1;
    Ok(Row {
        scenario: "(o0) OIDC provider start-up: launch to the first discovery 200, then idle"
            .into(),
        db: anchor_op::DB.into(),
        cpu_ms_per_op: proc.cpu_time().as_secs_f64() * 1000.0,
        peak_rss_mib: idle,
        outcome,
        ceiling_fraction: None,
        note: format!(
            "{}, its launcher with a client_credentials client added; {:.1} ms to ready; \
             {idle:.1} MiB resident when idle",
            install.version,
            ready.as_secs_f64() * 1000.0
        ),
    })
}

// The rows.

/// Runs the load against `proc` and makes a row of it with that process's CPU and memory.
#[allow(clippy::too_many_arguments)]
async fn measure<F, Fut>(
    proc: &Proc,
    database_url: Option<&str>,
    plan: &Plan,
    name: &str,
    db: &str,
    conns: &[Conn],
    op: F,
) -> Row
where
    F: Fn(Conn) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let cpu_before = proc.cpu_time();
    let settle = async {
        if let Some(url) = database_url {
            crate::seed::analyze_after_warmup(url).await;
        }
    };
    let outcome = load::run_settled(conns.to_vec(), plan.warmup, settle, plan.duration, op).await;
    let cpu = proc.cpu_time().saturating_sub(cpu_before);
    Row {
        scenario: name.to_string(),
        db: db.to_string(),
        cpu_ms_per_op: cpu.as_secs_f64() * 1000.0 / outcome.all_ops.max(1) as f64,
        peak_rss_mib: proc.peak_rss_kib() as f64 / 1024.0,
        outcome,
        ceiling_fraction: None,
        note: String::new(),
    }
}

/// Scenarios (o1)-(o5) against one provider; `db` names it in the rows.
///
/// (o4) is measured last, on both sides alike: oidc-provider's in-memory store is a
/// least-recently-used map of 1,000 entries, and the tokens `client_credentials` issues by the
/// thousand would push out the sessions and grants the silent code flow needs. Sessions and
/// tokens in use stay in it (each use makes them recent again).
pub async fn scenarios(
    proc: &Proc,
    database_url: Option<&str>,
    plan: &Plan,
    db: &str,
    conns: &[Conn],
) -> Vec<Row> {
    let n = conns.len();
    let row = |text: &str| format!("{text}, {n} connections");
    let o1 = measure(
        proc,
        database_url,
        plan,
        &row("(o1) OIDC discovery document"),
        db,
        conns,
        discovery_op,
    )
    .await;
    let o2 = measure(
        proc,
        database_url,
        plan,
        &row("(o2) OIDC userinfo, bearer access token"),
        db,
        conns,
        userinfo_op,
    )
    .await;
    let o3 = measure(
        proc,
        database_url,
        plan,
        &row("(o3) OIDC introspection of an access token (client_secret_basic)"),
        db,
        conns,
        introspect_op,
    )
    .await;
    let o5 = measure(
        proc,
        database_url,
        plan,
        &row(
            "(o5) OIDC silent code flow: authorize with a session (redirect with a code) + \
             token exchange (PKCE, RS256 ID token)",
        ),
        db,
        conns,
        silent_flow_op,
    )
    .await;
    let o4 = measure(
        proc,
        database_url,
        plan,
        &row("(o4) OIDC client_credentials at the token endpoint (client_secret_basic)"),
        db,
        conns,
        client_credentials_op,
    )
    .await;
    vec![o1, o2, o3, o4, o5]
}

/// The OIDC rows of authgate on `db`.
pub async fn authgate_rows(plan: &Plan, db: Db) -> anyhow::Result<Vec<Row>> {
    let (t, conns) = start_authgate(db, plan.connections).await?;
    Ok(scenarios(&t.proc, Some(&t.database_url), plan, db.name(), &conns).await)
}

/// oidc-provider's rows: (o0), then (o1)-(o5).
pub async fn anchor_rows(install: &anchor_op::Install, plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let mut rows = vec![anchor_idle(install).await?];
    let (proc, conns) = start_anchor(install, plan.connections).await?;
    rows.extend(scenarios(&proc, None, plan, anchor_op::DB, &conns).await);
    Ok(rows)
}

// The RS256 signing bound.

/// One RS256 signature of a typical ID token with a 2048-bit key, as authgate makes it (ring,
/// RSASSA-PKCS1-v1_5 with SHA-256).
pub struct SigningBound {
    /// The fastest of the signatures timed, in seconds.
    pub one_s: f64,
    /// All the signatures timed, sorted, in microseconds.
    pub latencies_us: Vec<u64>,
    pub cores: usize,
}

impl SigningBound {
    /// Cores / the time of one signature: the most silent code flows per second this machine
    /// could complete if signing the ID token were all they did.
    pub fn per_second(&self) -> f64 {
        self.cores as f64 / self.one_s
    }
}

/// The signing input (header.payload) of an ID token like authgate's for a password sign-in.
fn typical_id_token_input() -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": random_b64(12)});
    let now = 1_767_000_000i64;
    let payload = json!({
        "iss": "https://auth.example.com", "sub": "1042", "aud": random_b64(16),
        "exp": now + 3600, "iat": now, "auth_time": now - 600, "nonce": random_b64(16),
        "amr": ["pwd"], "sid": random_b64(16), "azp": random_b64(16), "at_hash": random_b64(16),
    });
    format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(payload.to_string())
    )
}

/// Measured once per run, at its fastest (the quickest of many signatures: one slowed by the
/// machine's other tenants would lower the bound and flatter the verdict).
pub fn rs256_bound() -> &'static SigningBound {
    static BOUND: OnceLock<SigningBound> = OnceLock::new();
    BOUND.get_or_init(|| {
        use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
        let der = key.to_pkcs8_der().expect("PKCS#8");
        let pair = RsaKeyPair::from_pkcs8(der.as_bytes()).expect("ring reads the key");
        let random = ring::rand::SystemRandom::new();
        let input = typical_id_token_input();
        let mut signature = vec![0; pair.public().modulus_len()];
        let mut sign = || {
            let started = Instant::now();
            pair.sign(&RSA_PKCS1_SHA256, &random, input.as_bytes(), &mut signature)
                .expect("an RSA signature");
            started.elapsed()
        };
        for _ in 0..20 {
            sign();
        }
        let mut latencies_us: Vec<u64> = (0..300).map(|_| sign().as_micros() as u64).collect();
        latencies_us.sort_unstable();
        let one_s = latencies_us[0].max(1) as f64 / 1e6;
        SigningBound {
            one_s,
            latencies_us,
            cores: std::thread::available_parallelism().map_or(1, |c| c.get()),
        }
    })
}

/// The bound as a row (its ops/s column is the bound; CPU ms/op the median signature).
pub fn bound_row() -> Row {
    let b = rs256_bound();
    let median_ms = b.latencies_us[b.latencies_us.len() / 2] as f64 / 1000.0;
    let mut outcome = Outcome {
        ops: b.cores as u64,
        elapsed: Duration::from_secs_f64(b.one_s),
        latencies_us: b.latencies_us.clone(),
        ..Default::default()
    };
    outcome.all_ops = b.latencies_us.len() as u64;
    Row {
        scenario: format!(
            "{BOUND_ROW} of a typical ID token (2048-bit key, ring), cores / its time"
        ),
        db: "-".into(),
        cpu_ms_per_op: median_ms,
        peak_rss_mib: 0.0,
        outcome,
        ceiling_fraction: None,
        note: format!(
            "the bound of the silent code flow (o5): {} cores / {:.3} ms (the fastest of {} \
             signatures in this process; median {median_ms:.3} ms)",
            b.cores,
            b.one_s * 1000.0,
            b.latencies_us.len()
        ),
    }
}

/// Notes on authgate's OIDC rows: how they compare with oidc-provider's, and the silent flow
/// with the RS256 signing bound.
pub fn relate(rows: &mut [Row]) {
    let anchor: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.db == anchor_op::DB && r.scenario.starts_with("(o"))
        .map(|r| (r.scenario[..4].to_string(), r.outcome.per_second()))
        .collect();
    let bound = rows
        .iter()
        .any(|r| r.scenario.starts_with(BOUND_ROW))
        .then(|| rs256_bound().per_second());
    for r in rows.iter_mut() {
        if r.db == anchor_op::DB || !r.scenario.starts_with("(o") {
            continue;
        }
        let rate = r.outcome.per_second();
        let mut notes = Vec::new();
        if let Some((_, theirs)) = anchor
            .iter()
            .find(|(p, _)| r.scenario.starts_with(p))
            .filter(|(_, theirs)| *theirs > 0.0)
        {
            notes.push(format!(
                "{:.1}x oidc-provider ({theirs:.0}/s)",
                rate / theirs
            ));
        }
        if let (true, Some(bound)) = (r.scenario.starts_with("(o5)"), bound) {
            notes.push(format!(
                "{:.0}% of the RS256 signing bound ({bound:.0}/s)",
                100.0 * rate / bound
            ));
        }
        if !notes.is_empty() {
            if !r.note.is_empty() {
                r.note.push_str("; ");
            }
            r.note.push_str(&notes.join("; "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_comes_back_only_to_the_client_with_its_state() {
        let request = AuthRequest {
            url: String::new(),
            state: "s1".into(),
            verifier: String::new(),
        };
        let ok = format!("{REDIRECT_URI}?code=abc&state=s1&iss=x");
        assert_eq!(code_from(&ok, &request).unwrap(), "abc");
        let other_state = format!("{REDIRECT_URI}?code=abc&state=s2");
        assert!(code_from(&other_state, &request).is_err());
        let refused = format!("{REDIRECT_URI}?error=login_required&state=s1");
        assert!(code_from(&refused, &request).is_err());
        assert!(code_from("/signin?redirect=x", &request).is_err());
    }

    #[test]
    fn bodies_are_searched_for_the_whole_needle() {
        assert!(contains(
            br#"{"active":true,"sub":"1"}"#,
            br#""active":true"#
        ));
        assert!(!contains(br#"{"active":false}"#, br#""active":true"#));
        assert!(!contains(b"", b"x"));
    }

    #[test]
    fn jwt_alg_reads_the_header() {
        let token = format!("{}.e30.sig", B64URL.encode(r#"{"alg":"RS256"}"#));
        assert_eq!(jwt_alg(&token).unwrap(), "RS256");
    }
}
