//! End-to-end tests of the authgate binary over HTTP, each on SQLite and PostgreSQL.

mod support;

mod authenticators;
mod bad_input;
mod cli;
mod first_start;
mod jwt_tampering;
mod operations;
mod password_sign_in;
mod policy_and_audit;
mod sessions;
mod sign_up;
mod users;
