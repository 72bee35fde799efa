//! A typed client for the DingTalk Open Platform calls behind "Sign in with DingTalk"
//! (see `shared/reference/dingtalk-api.md`): the authorize URL, the code exchange, the user's
//! profile, the app token (cached, single flight) and the organisation directory.
//!
//! Every call has a timeout; calls that carry a single-use code are never retried; answers are
//! parsed leniently (number-or-string `expireIn`, missing optional fields, unknown fields).
//! Errors are one [`Error`] type whose text never contains a secret, a code or a token.
//!
//! ```no_run
//! # async fn demo() -> authgate_dingtalk::Result<()> {
//! use authgate_dingtalk::*;
//! let client = DingTalkClient::new(DingTalkConfig::default());
//! let creds = ClientCredentials::new("dingxxxx", "secret");
//! let url = client.authorize_url(&AuthorizeRequest::new(
//!     "dingxxxx", "https://auth.example.com/api/dingtalk:redirect", "nonce"));
//! # let _ = url; let code = "from the callback";
//! let token = client.user_access_token(&creds, code).await?;
//! let profile = client.me(&token.access_token).await?;
//! match client.userid_by_unionid(&creds, &profile.union_id).await {
//!     Err(e) if e.is_not_org_member() => { /* refuse: not in our organisation */ }
//!     other => { other?; }
//! }
//! # Ok(()) }
//! ```

mod app_token;
mod authorize;
mod callback;
mod client;
mod config;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod lenient;
pub mod response;
mod secret;
mod transport;
mod types;

pub use authorize::{authorize_url, AuthorizeRequest, Prompt, Scope, UnknownValue};
pub use callback::{Callback, MAX_CALLBACK_VALUE_BYTES};
pub use client::DingTalkClient;
pub use config::DingTalkConfig;
pub use error::{errcode, Error, Result};
pub use secret::{ClientCredentials, Secret};
pub use types::{AppAccessToken, InClientUser, OrgUser, UnionIdLookup, UserProfile, UserToken};
