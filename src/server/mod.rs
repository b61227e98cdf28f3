//! The HTTP server, one job per file: `router` (the routes and the layers in order), the
//! layers (`bound_and_measure`, `body`, `require_login`, `error_status`), `probes`,
//! `features` (each feature's state for server functions), `start` (start-up order and
//! serving), `sweeps` (the periodic ones) and `shutdown`.

mod body;
mod bound_and_measure;
mod error_status;
mod features;
mod probes;
mod require_login;
mod router;
mod shutdown;
mod start;
mod sweeps;

pub use body::{BODY_LIMIT, BODY_TIMEOUT};
pub use bound_and_measure::{identify_bound_and_measure, REQUEST_TIMEOUT};
pub use shutdown::shutdown_signal;
pub use start::{leptos_options, prepare, Prepared, StartError};
