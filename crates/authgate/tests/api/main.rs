//! End-to-end tests of the authgate binary over HTTP, each on SQLite and PostgreSQL.

mod support;

mod account_linking;
mod api_schema_regressions;
mod attacks;
mod authenticators;
mod bad_input;
mod browser;
mod cli;
mod client_address;
mod crash_recovery;
mod dingtalk_concurrency;
mod dingtalk_failures;
mod dingtalk_faults_under_load;
mod dingtalk_flow;
mod dingtalk_in_client;
mod dingtalk_options;
mod dingtalk_support;
mod file_permissions;
mod first_start;
mod guess_limits;
mod jwt_tampering;
mod language_choice;
mod lost_connections;
mod multi_node;
mod operations;
mod pages;
mod password_sign_in;
mod policy_and_audit;
mod secrets_never_leak;
mod sessions;
mod sign_up;
mod slow_clients;
mod users;
