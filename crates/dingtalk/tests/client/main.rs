//! The DingTalk client against the fake DingTalk over real HTTP.

mod common;

mod app_token;
mod authorize;
mod directory;
mod faults;
mod user_sign_in;
