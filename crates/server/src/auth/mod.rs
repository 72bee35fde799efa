//! Sessions and tokens: signing keys, JWTs, NocoBase's renewal rules, cookies, CSRF, and the
//! sign-in failure limits.

pub mod cookies;
pub mod failure_limits;
pub mod keys;
pub mod request_auth;
pub mod sessions;
pub mod sign_out;
pub mod tokens;

pub use request_auth::{AdminUser, CurrentUser};
pub use sessions::{Authenticated, IssuedSession};
