//! End-to-end tests of the authgate binary over HTTP, each on SQLite and PostgreSQL.

mod support;

mod first_start;
mod password_sign_in;
mod sign_up;
