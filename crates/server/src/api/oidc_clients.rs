//! `oidcClients:*`: the applications that sign people in through authgate (OpenID Connect
//! relying parties), registered by administrators; and `oidcGrants:*`, what each person
//! granted them.

use crate::auth::{AdminUser, CurrentUser};
use crate::error::{ApiError, ApiResult, Text};
use crate::http::client::ClientInfo;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::response::{data, whole_list, Data, Page};
use crate::oidc::client::{hash_secret, validate, AuthMethod, Client, ClientSettings, IdTokenAlg};
use crate::random_id::random_id;
use crate::state::AppState;
use authgate_core::clock::{now_ms, to_rfc3339};
use authgate_store::{GrantQuery, GrantSummary};
use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A client as administrators see it. The secret is never shown again after it is made.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OidcClientView {
    client_id: String,
    name: String,
    enabled: bool,
    #[serde(flatten)]
    settings: ClientSettings,
    /// Where applications discover everything else.
    discovery_url: String,
    issuer: String,
    created_at: String,
    updated_at: String,
}

/// A client just created, or its new secret: the only time the secret is shown.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OidcClientWithSecret {
    #[serde(flatten)]
    client: OidcClientView,
    /// Absent for public clients (`tokenEndpointAuthMethod: none`).
    client_secret: Option<String>,
}

fn view(state: &AppState, c: Client) -> OidcClientView {
    let issuer = state.config.public_origin();
    OidcClientView {
        discovery_url: format!("{issuer}/.well-known/openid-configuration"),
        issuer,
        client_id: c.id,
        name: c.name,
        enabled: c.enabled,
        settings: c.settings,
        created_at: to_rfc3339(c.created_at),
        updated_at: to_rfc3339(c.updated_at),
    }
}

/// The settings an administrator may give; what is left out keeps its default (create) or
/// its value (update).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "Grafana", "redirectUris": ["https://grafana.example.com/login/generic_oauth"], "tokenEndpointAuthMethod": "client_secret_basic"}))]
pub struct ClientBody {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    token_endpoint_auth_method: Option<AuthMethod>,
    allowed_scopes: Option<Vec<String>>,
    id_token_signed_response_alg: Option<IdTokenAlg>,
    access_token_ttl_s: Option<i64>,
    refresh_token_ttl_s: Option<i64>,
    refresh_without_offline_access: Option<bool>,
    client_credentials: Option<bool>,
    third_party: Option<bool>,
    admins_only: Option<bool>,
    /// `null` removes it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    backchannel_logout_uri: Option<Option<String>>,
    enabled: Option<bool>,
}

/// Tells a field left out (`None`) from one set to `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

impl ClientBody {
    fn apply(self, name: &mut String, s: &mut ClientSettings, enabled: &mut bool) {
        if let Some(v) = self.name {
            *name = v.trim().to_string();
        }
        if let Some(v) = self.redirect_uris {
            s.redirect_uris = v;
        }
        if let Some(v) = self.post_logout_redirect_uris {
            s.post_logout_redirect_uris = v;
        }
        if let Some(v) = self.token_endpoint_auth_method {
            s.token_endpoint_auth_method = v;
        }
        if let Some(v) = self.allowed_scopes {
            s.allowed_scopes = v;
        }
        if let Some(v) = self.id_token_signed_response_alg {
            s.id_token_signed_response_alg = v;
        }
        if let Some(v) = self.access_token_ttl_s {
            s.access_token_ttl_s = v;
        }
        if let Some(v) = self.refresh_token_ttl_s {
            s.refresh_token_ttl_s = v;
        }
        if let Some(v) = self.refresh_without_offline_access {
            s.refresh_without_offline_access = v;
        }
        if let Some(v) = self.client_credentials {
            s.client_credentials = v;
        }
        if let Some(v) = self.third_party {
            s.third_party = v;
        }
        if let Some(v) = self.admins_only {
            s.admins_only = v;
        }
        if let Some(v) = self.backchannel_logout_uri {
            s.backchannel_logout_uri = v.filter(|u| !u.is_empty());
        }
        if let Some(v) = self.enabled {
            *enabled = v;
        }
    }
}

/// `?filterByTk=<clientId>`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ByClientId {
    #[serde(rename = "filterByTk")]
    filter_by_tk: Option<String>,
}

impl ByClientId {
    fn id(&self) -> ApiResult<&str> {
        self.filter_by_tk
            .as_deref()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request(Text::new(
                    "filterByTk (the clientId) is required",
                    "缺少 filterByTk（应用的 clientId）",
                ))
            })
    }
}

/// 256 random bits.
fn new_secret() -> String {
    B64URL.encode(rand::random::<[u8; 32]>())
}

fn no_such_application(id: &str) -> Text {
    Text::new(
        format!("Application {id} does not exist"),
        format!("应用 {id} 不存在"),
    )
}

async fn find(state: &AppState, id: &str) -> ApiResult<Client> {
    let record = state
        .store
        .get_oidc_client(id)
        .await?
        .ok_or_else(|| ApiError::not_found(no_such_application(id)))?;
    Client::from_record(record).map_err(ApiError::internal)
}

async fn audit(state: &AppState, admin: &AdminUser, from: &ClientInfo, action: &str, id: &str) {
    let mut detail = Map::new();
    detail.insert("clientId".into(), Value::String(id.into()));
    let admin_id = admin.0.user.id;
    state
        .audit_admin_change(admin_id, admin_id, None, from, action, detail)
        .await;
}

#[utoipa::path(get, path = "/api/oidcClients:list", tag = "oidcClients",
    responses((status = 200, description = "Every registered application", body = Page<OidcClientView>), (status = 403, description = "Admins only")))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> ApiResult<Json<Page<OidcClientView>>> {
    let mut out = Vec::new();
    for r in state.store.list_oidc_clients().await? {
        out.push(view(
            &state,
            Client::from_record(r).map_err(ApiError::internal)?,
        ));
    }
    Ok(whole_list(out))
}

#[utoipa::path(get, path = "/api/oidcClients:get", tag = "oidcClients",
    params(("filterByTk" = String, Query, description = "The clientId")),
    responses((status = 200, description = "The application (its secret is never shown again)", body = Data<OidcClientView>), (status = 403, description = "Admins only"), (status = 404, description = "No such application")))]
pub async fn get_one(
    State(state): State<AppState>,
    _admin: AdminUser,
    ApiQuery(tk): ApiQuery<ByClientId>,
) -> ApiResult<Json<Data<OidcClientView>>> {
    Ok(data(view(&state, find(&state, tk.id()?).await?)))
}

#[utoipa::path(post, path = "/api/oidcClients:create", tag = "oidcClients",
    request_body = ClientBody,
    responses((status = 200, description = "Created; the secret is shown this once", body = Data<OidcClientWithSecret>), (status = 400, description = "Invalid settings"), (status = 403, description = "Admins only")))]
pub async fn create(
    State(state): State<AppState>,
    admin: AdminUser,
    from: ClientInfo,
    ApiJson(body): ApiJson<ClientBody>,
) -> ApiResult<Json<Data<OidcClientWithSecret>>> {
    let now = now_ms();
    let mut name = String::new();
    let mut settings = ClientSettings::default();
    let mut enabled = true;
    body.apply(&mut name, &mut settings, &mut enabled);
    validate(&name, &settings, state.config.is_https()).map_err(ApiError::bad_request)?;
    let secret = (settings.token_endpoint_auth_method != AuthMethod::None).then(new_secret);
    let client = Client {
        id: random_id(),
        name,
        secret_hash: secret.as_deref().map(hash_secret),
        settings,
        enabled,
        created_at: now,
        updated_at: now,
    };
    state.store.create_oidc_client(&client.to_record()).await?;
    audit(&state, &admin, &from, "oidcClients:create", &client.id).await;
    Ok(data(OidcClientWithSecret {
        client: view(&state, client),
        client_secret: secret,
    }))
}

#[utoipa::path(post, path = "/api/oidcClients:update", tag = "oidcClients",
    params(("filterByTk" = String, Query, description = "The clientId")),
    request_body = ClientBody,
    responses((status = 200, description = "Updated", body = Data<OidcClientView>), (status = 400, description = "Invalid settings"), (status = 403, description = "Admins only"), (status = 404, description = "No such application")))]
pub async fn update(
    State(state): State<AppState>,
    admin: AdminUser,
    from: ClientInfo,
    ApiQuery(tk): ApiQuery<ByClientId>,
    ApiJson(body): ApiJson<ClientBody>,
) -> ApiResult<Json<Data<OidcClientView>>> {
    let mut client = find(&state, tk.id()?).await?;
    let was_public = client.is_public();
    body.apply(&mut client.name, &mut client.settings, &mut client.enabled);
    validate(&client.name, &client.settings, state.config.is_https())
        .map_err(ApiError::bad_request)?;
    if was_public != client.is_public() {
        return Err(ApiError::bad_request(Text::new(
            "tokenEndpointAuthMethod cannot change between none (public) and a secret; register a new application",
            "tokenEndpointAuthMethod 不能在 none（公开客户端）与有密钥的方式之间切换，请注册一个新应用",
        )));
    }
    client.updated_at = now_ms();
    if !state.store.update_oidc_client(&client.to_record()).await? {
        return Err(ApiError::not_found(no_such_application(&client.id)));
    }
    audit(&state, &admin, &from, "oidcClients:update", &client.id).await;
    Ok(data(view(&state, client)))
}

#[utoipa::path(post, path = "/api/oidcClients:rotateSecret", tag = "oidcClients",
    params(("filterByTk" = String, Query, description = "The clientId")),
    responses((status = 200, description = "The new secret, shown this once; the old one stops working", body = Data<OidcClientWithSecret>), (status = 400, description = "A public client has no secret"), (status = 403, description = "Admins only"), (status = 404, description = "No such application")))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    admin: AdminUser,
    from: ClientInfo,
    ApiQuery(tk): ApiQuery<ByClientId>,
) -> ApiResult<Json<Data<OidcClientWithSecret>>> {
    let mut client = find(&state, tk.id()?).await?;
    if client.is_public() {
        return Err(ApiError::bad_request(Text::new(
            "A public application has no secret",
            "公开客户端没有密钥",
        )));
    }
    let secret = new_secret();
    client.secret_hash = Some(hash_secret(&secret));
    client.updated_at = now_ms();
    if !state.store.update_oidc_client(&client.to_record()).await? {
        return Err(ApiError::not_found(no_such_application(&client.id)));
    }
    audit(
        &state,
        &admin,
        &from,
        "oidcClients:rotateSecret",
        &client.id,
    )
    .await;
    Ok(data(OidcClientWithSecret {
        client: view(&state, client),
        client_secret: Some(secret),
    }))
}

#[utoipa::path(post, path = "/api/oidcClients:destroy", tag = "oidcClients",
    params(("filterByTk" = String, Query, description = "The clientId")),
    responses((status = 200, description = "ClientDeleted, with every grant and token it had", body = Data<ClientDeleted>), (status = 403, description = "Admins only"), (status = 404, description = "No such application")))]
pub async fn destroy(
    State(state): State<AppState>,
    admin: AdminUser,
    from: ClientInfo,
    ApiQuery(tk): ApiQuery<ByClientId>,
) -> ApiResult<Json<Data<ClientDeleted>>> {
    let id = tk.id()?;
    if !state.store.delete_oidc_client(id).await? {
        return Err(ApiError::not_found(no_such_application(id)));
    }
    audit(&state, &admin, &from, "oidcClients:destroy", id).await;
    Ok(data(ClientDeleted { deleted: true }))
}

#[derive(Serialize, ToSchema)]
pub struct ClientDeleted {
    deleted: bool,
}

/// A live grant: an application a person has let sign them in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantView {
    client_id: String,
    client_name: String,
    user_id: i64,
    username: Option<String>,
    scope: String,
    offline: bool,
    granted_at: String,
    expires_at: String,
}

fn grant_view(g: GrantSummary) -> GrantView {
    GrantView {
        client_id: g.client_id,
        client_name: g.client_name,
        user_id: g.user_id,
        username: g.username,
        scope: g.scope,
        offline: g.offline,
        granted_at: to_rfc3339(g.created_at),
        expires_at: to_rfc3339(g.expires_at),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantFilter {
    user_id: Option<i64>,
    client_id: Option<String>,
}

#[utoipa::path(get, path = "/api/oidcGrants:list", tag = "oidcClients",
    params(("userId" = Option<i64>, Query, description = "Only this user's"), ("clientId" = Option<String>, Query, description = "Only this application's")),
    responses((status = 200, description = "Live grants, newest first", body = Page<GrantView>), (status = 403, description = "Admins only")))]
pub async fn list_grants(
    State(state): State<AppState>,
    _admin: AdminUser,
    ApiQuery(f): ApiQuery<GrantFilter>,
) -> ApiResult<Json<Page<GrantView>>> {
    let grants = state
        .store
        .list_grants(&GrantQuery {
            user_id: f.user_id,
            client_id: f.client_id,
            session_id: None,
            now: now_ms(),
        })
        .await?;
    Ok(whole_list(grants.into_iter().map(grant_view).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeGrants {
    user_id: i64,
    client_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct GrantsRevoked {
    revoked: u64,
}

#[utoipa::path(post, path = "/api/oidcGrants:revoke", tag = "oidcClients",
    request_body = RevokeGrants,
    responses((status = 200, description = "How many grants ended (their tokens stop working on every node within a second)", body = Data<GrantsRevoked>), (status = 403, description = "Admins only")))]
pub async fn revoke_grants(
    State(state): State<AppState>,
    admin: AdminUser,
    from: ClientInfo,
    ApiJson(body): ApiJson<RevokeGrants>,
) -> ApiResult<Json<Data<GrantsRevoked>>> {
    let revoked = state
        .store
        .revoke_user_grants(body.user_id, Some(&body.client_id), now_ms())
        .await?;
    let mut detail = Map::new();
    detail.insert("clientId".into(), Value::String(body.client_id.clone()));
    let admin_id = admin.0.user.id;
    state
        .audit_admin_change(
            admin_id,
            body.user_id,
            None,
            &from,
            "oidcGrants:revoke",
            detail,
        )
        .await;
    Ok(data(GrantsRevoked { revoked }))
}

#[utoipa::path(get, path = "/api/auth:applications", tag = "auth",
    responses((status = 200, description = "The applications I let sign me in", body = Page<GrantView>)))]
pub async fn mine(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<Json<Page<GrantView>>> {
    let grants = state
        .store
        .list_grants(&GrantQuery {
            user_id: Some(me.user.id),
            client_id: None,
            session_id: None,
            now: now_ms(),
        })
        .await?;
    // One row per application (a person may have signed in to it several times).
    let mut out: Vec<GrantView> = Vec::new();
    for g in grants {
        if !out.iter().any(|v| v.client_id == g.client_id) {
            out.push(grant_view(g));
        }
    }
    Ok(whole_list(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoveApplication {
    client_id: String,
}

#[utoipa::path(post, path = "/api/auth:removeApplication", tag = "auth",
    request_body = RemoveApplication,
    responses((status = 200, description = "The application's access ended and its consent forgotten", body = Data<GrantsRevoked>)))]
pub async fn remove_mine(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    from: ClientInfo,
    ApiJson(body): ApiJson<RemoveApplication>,
) -> ApiResult<Json<Data<GrantsRevoked>>> {
    let revoked = state
        .store
        .revoke_user_grants(me.user.id, Some(&body.client_id), now_ms())
        .await?;
    state
        .audit(crate::audit::Entry {
            event: authgate_core::audit::event::OIDC_REVOKE,
            user_id: Some(me.user.id),
            client: Some(&from),
            detail: serde_json::json!({"clientId": body.client_id})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            ..Default::default()
        })
        .await;
    Ok(data(GrantsRevoked { revoked }))
}
