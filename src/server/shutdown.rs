//! Graceful shutdown: the signals that start it.

use std::future::Future;

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called (not
/// when first polled), so call it before announcing the server is up: a signal that
/// arrives after the announcement is always a graceful shutdown.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        let term = async {
            match terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let int = async {
            match interrupt.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = term => {},
            () = int => {},
        }
        tracing::info!("shutdown signal received; finishing requests in flight");
    }
}
