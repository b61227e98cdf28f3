//! chatpass: a Leptos SSR app on axum that puts a Twilio chat behind your own login.
//!
//! The crate builds twice: with `ssr` into the `chatpass` server binary, with `hydrate`
//! into the WebAssembly bundle that makes the server-rendered pages interactive.

pub mod app;
pub mod auth;
pub mod chat;
pub mod devices;
pub mod error;
pub mod pages;
pub mod token;

#[cfg(feature = "ssr")]
pub mod caller;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod domain;
#[cfg(feature = "ssr")]
pub mod idp;
#[cfg(feature = "ssr")]
pub mod listener;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod oidc;
#[cfg(feature = "ssr")]
pub mod passwords;
#[cfg(feature = "ssr")]
pub mod proxy_login;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod sessions;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod telemetry;
#[cfg(feature = "ssr")]
pub mod twilio;

/// Entry point of the browser bundle: makes the islands (the `#[island]` components) of
/// the server-rendered page interactive. Everything else stays plain server HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
