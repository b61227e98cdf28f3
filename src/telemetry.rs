//! Structured logs with `tracing`: level from `RUST_LOG` (default `info`), written to
//! stdout so that stderr carries only the one-line fatal error, if any.

use std::io::IsTerminal;

use tracing_subscriber::{fmt, EnvFilter};

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,tower_sessions=warn,tower_sessions_core=warn,axum_login=warn")
    });
    // try_init: the test harness may call this more than once in one process.
    let _ = fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(std::io::stdout().is_terminal())
        .with_writer(std::io::stdout)
        .try_init();
}
