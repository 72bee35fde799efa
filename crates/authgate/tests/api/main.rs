//! End-to-end tests of the authgate binary over HTTP, each on SQLite and PostgreSQL.

mod support;

mod first_start;
mod password_sign_in;
mod sign_up;
mod sessions;
mod bad_input;
mod jwt_tampering;
mod authenticators;
mod users;
mod cli;
mod operations;
mod policy_and_audit;
