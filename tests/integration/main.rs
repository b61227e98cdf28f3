//! Every integration test, in one test binary: one link of the crate instead of one per
//! file (each test binary links chatpass once).
//!
//! Each module holds the tests of one area; `common` is the
//! harness they share (`TestApp`: the real router on port 0 and a fresh database).
//! Run one module with `cargo test --features ssr --test integration accounts::`.

mod common;

/// Tests whose outcome depends on the database: they run on the backend named by
/// `CHATPASS_TEST_BACKEND`, and `make test` runs them twice, on SQLite and on PostgreSQL
/// (`cargo test --test integration each_database::` is the second pass).
mod each_database {
    mod accounts;
    mod chat_token;
    mod device_tokens;
    mod display_name;
    mod form_errors;
    mod health;
    mod lifecycle;
    mod limits;
    mod mail_files;
    mod oidc;
    mod password_login_off;
    mod proof;
    mod proxy_login;
    mod sealed_mail;
    mod sessions;
    mod signed_in_browsers;
    mod sweeps;
    mod twilio_sync_cli;
    mod twilio_users;
    mod twilio_webhook;
    mod verification;
}

/// Always two `chatpass` processes on PostgreSQL, whatever the backend setting.
mod scaleout;

// These start no database of their own choosing, or none at all: they run once.
mod cli_token;
mod deploy;
mod layers;
mod listener;
mod logs;
mod metrics;
mod oidc_provider;
mod proxies;
mod secrets;
mod settings;
mod shape;
mod sql_in_db;
mod token_conformance;
mod token_roundtrip;
mod twilio_logs;
mod twilio_rest_oracle_selfcheck;
mod twilio_signatures;
