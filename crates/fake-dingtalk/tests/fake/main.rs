//! The fake DingTalk over real HTTP: one test binary, one module per area.

mod common;

mod api_errors;
mod authorize;
mod control_api;
mod directory;
mod exchange;
mod faults;
mod request_log;
