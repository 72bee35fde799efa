//! HTTP plumbing shared by every route: request parsing with clear 4xx errors, client
//! identification, middleware and the router.

pub mod client;
pub mod extract;
pub mod invalid_input;
pub mod layers;
pub mod listener;
pub mod rate_limit;
pub mod redirect_target;
pub mod response;
pub mod router;
