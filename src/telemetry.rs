//! Structured logs with `tracing`: level from `RUST_LOG` (default `info`), written to
//! stdout by a background thread in batches (`batched`: logging a line wakes no thread and
//! makes no system call; a request waits only if 4 MiB of lines are queued), leaving stderr
//! for the one-line fatal error, if any. `CHATPASS_LOG_FORMAT=json` writes one JSON object
//! per line: `timestamp`, `level`, `target`, `message` and the event's fields at the top,
//! and `spans`, outermost first: the request's (`request_id`, `method`, `path`), then any
//! inside it.

mod batched;

use std::io::IsTerminal;

pub use batched::Guard;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Installs the subscriber. Keep the guard alive until exit: dropping it writes what is
/// queued. Fails only when the writer thread cannot be started.
pub fn init(format: LogFormat) -> std::io::Result<Guard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,tower_sessions=warn,tower_sessions_core=warn,axum_login=warn")
    });
    // Lossless: a thread that logs waits when the queue is full (see `batched`).
    let (writer, guard) = batched::spawn(std::io::stdout())?;
    // try_init: a test process may call this more than once.
    let _ = match format {
        LogFormat::Text => fmt()
            .with_env_filter(filter)
            .with_target(true)
            .with_ansi(std::io::stdout().is_terminal())
            .with_writer(writer)
            .try_init(),
        LogFormat::Json => fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .with_env_filter(filter)
            .with_target(true)
            .with_writer(writer)
            .try_init(),
    };
    Ok(guard)
}
