//! The site's listener: accepts TCP connections and serves HTTP/1 on each with the router,
//! bounded against clients that are slow or silent on purpose.
//!
//! - A client has [`HEADER_TIMEOUT`] to send a request's whole header, counted from when
//!   the connection opens or its previous answer went out; then the connection is closed.
//! - At most a cap of connections are open at once ([`connection_cap`], from the descriptor
//!   limit). At the cap, a new connection takes the place of the oldest one that has not sent
//!   a single byte; when every open connection has spoken, the new one is answered 503 and
//!   closed.
//! - A failed accept (out of descriptors, say) pauses the loop briefly instead of spinning.
//! - On shutdown it stops accepting, closes the connections that never spoke, and waits for
//!   the others: each finishes the request it is in and then closes.

use std::{
    collections::VecDeque,
    future::Future,
    io,
    pin::{pin, Pin},
    sync::{
        atomic::{AtomicBool, Ordering::Relaxed},
        Arc,
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{extract::ConnectInfo, http::Request, Router};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{watch, OwnedSemaphorePermit, Semaphore},
    task::AbortHandle,
};
use tower::ServiceExt;

/// How long a client has to send a request's whole header (see the module's doc).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Descriptors kept for everything but connections and the database pool: stdio (the log),
/// the runtime's own, the listeners, an outbox file being written, an SMTP connection and
/// its DNS lookup, with room to spare.
pub const RESERVE: u64 = 32;
/// The fewest connections served, however low the descriptor limit.
const MIN_CONNECTIONS: usize = 8;
/// The most: beyond what one process serves, and within what `acquire_many` (a `u32`) counts.
const MAX_CONNECTIONS: usize = 1 << 20;
/// The highest soft descriptor limit asked for (Linux's default `fs.nr_open`).
const MAX_DESCRIPTORS: libc::rlim_t = 1 << 20;
/// The pause after an accept that failed for want of descriptors or memory.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// The same warning is logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Raises the soft limit on open descriptors to the hard limit (no privilege needed), and
/// returns the soft limit in force.
#[allow(unsafe_code, reason = "libc has no safe call for the descriptor limit")]
pub fn raise_descriptor_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct it is given, which outlives the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        // Linux's usual default, a guess that errs low.
        return 1024;
    }
    let wanted = limit.rlim_max.min(MAX_DESCRIPTORS);
    if wanted > limit.rlim_cur {
        let raised = libc::rlimit { rlim_cur: wanted, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit only reads the struct it is given, which outlives the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return wanted;
        }
    }
    limit.rlim_cur
}

/// How many connections may be open at once when `descriptors` may be open in all and
/// `reserved` are held for others (the database pool) besides [`RESERVE`].
pub fn connection_cap(descriptors: u64, reserved: u64) -> usize {
    let spare = descriptors.saturating_sub(RESERVE.saturating_add(reserved));
    usize::try_from(spare).unwrap_or(MAX_CONNECTIONS).clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
}

/// Serves `router` on `listener`, at most `cap` connections at once, until `shutdown`
/// resolves; then returns once every connection has closed (see the module's doc).
/// Handlers find the peer's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, router: Router, cap: usize, shutdown: impl Future<Output = ()>) {
    let cap = cap.clamp(1, MAX_CONNECTIONS);
    let slots = Arc::new(Semaphore::new(cap));
    let mut silent = Silent::default();
    let (stopping, stop) = watch::channel(());
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
    let (mut accept_warned, mut cap_warned) = (None, None);
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                after_accept_error(error, &mut silent, &mut accept_warned).await;
                continue;
            }
        };
        let Some(permit) = slot(&slots, &mut silent).await else {
            if due(&mut cap_warned) {
                tracing::warn!(cap, "at the connection cap with every connection in use: answering 503");
            }
            refuse(&stream);
            continue;
        };
        let spoke = Arc::new(AtomicBool::new(false));
        let io = TokioIo::new(Watched { stream, spoke: spoke.clone() });
        let router = router.clone();
        let service = service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let connection = http.serve_connection(io, service);
        let mut stop = stop.clone();
        let task = tokio::spawn(async move {
            let _permit = permit;
            let mut connection = pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stop.changed() => {}
            }
            // Answers the request in progress, if any, with `Connection: close`, then ends.
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
        silent.push(spoke, task.abort_handle());
    }
    drop(listener);
    let _ = stopping.send(());
    silent.close_all();
    // Every connection holds a slot until it ends: all slots back means all ended.
    let _ = slots.acquire_many(u32::try_from(cap).unwrap_or(u32::MAX)).await;
}

/// A slot for a new connection: a free one, or that of the oldest connection that never
/// spoke, closed to make room. `None` when every open connection has spoken.
async fn slot(slots: &Arc<Semaphore>, silent: &mut Silent) -> Option<OwnedSemaphorePermit> {
    if let Ok(permit) = slots.clone().try_acquire_owned() {
        return Some(permit);
    }
    if !silent.close_oldest() {
        return None;
    }
    // The closed connection's task gives its slot back as it is dropped, at once.
    slots.clone().acquire_owned().await.ok()
}

/// Answers a connection over the cap without reading from it: 503, and closed.
fn refuse(stream: &TcpStream) {
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\n\
        content-length: 0\r\nconnection: close\r\n\r\n";
    // A new socket's send buffer is empty: the answer fits without waiting.
    let _ = stream.try_write(BUSY);
}

/// After a failed accept. An error about that one connection (gone before it was accepted)
/// is nothing; any other (out of descriptors, out of memory) closes the oldest connection
/// that never spoke, which frees a descriptor, and pauses the loop instead of spinning.
async fn after_accept_error(error: io::Error, silent: &mut Silent, warned: &mut Option<Instant>) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted) {
        return;
    }
    silent.close_oldest();
    if due(warned) {
        tracing::warn!(error = %error, "cannot accept connections; retrying");
    }
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}

/// `true` when a warning last logged at `last` may be logged again (and notes it is now).
fn due(last: &mut Option<Instant>) -> bool {
    let now = Instant::now();
    if last.is_some_and(|at| now.duration_since(at) < WARN_EVERY) {
        return false;
    }
    *last = Some(now);
    true
}

/// The open connections that had not sent a byte when they were noted, oldest first, each
/// with its task. Entries whose connection has since spoken or ended are skipped.
#[derive(Default)]
struct Silent(VecDeque<(Arc<AtomicBool>, AbortHandle)>);

impl Silent {
    fn push(&mut self, spoke: Arc<AtomicBool>, task: AbortHandle) {
        // Hyper closes a connection that sends nothing within the header timeout, so every
        // entry older than that is dropped here: the queue holds about that long's accepts.
        while self.0.front().is_some_and(|(spoke, task)| spoke.load(Relaxed) || task.is_finished()) {
            self.0.pop_front();
        }
        self.0.push_back((spoke, task));
    }

    /// Closes the oldest connection that has not sent a byte; `false` when there is none.
    fn close_oldest(&mut self) -> bool {
        while let Some((spoke, task)) = self.0.pop_front() {
            if !spoke.load(Relaxed) && !task.is_finished() {
                task.abort();
                return true;
            }
        }
        false
    }

    /// Closes every connection that has not sent a byte: none of them is in a request.
    fn close_all(&mut self) {
        for (spoke, task) in self.0.drain(..) {
            if !spoke.load(Relaxed) {
                task.abort();
            }
        }
    }
}

/// A TCP stream that notes when it first reads a byte.
struct Watched {
    stream: TcpStream,
    spoke: Arc<AtomicBool>,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before && !this.spoke.load(Relaxed) {
            this.spoke.store(true, Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_the_reserve_and_the_pool_their_descriptors() {
        assert_eq!(connection_cap(80, 24), 80 - 32 - 24);
        assert_eq!(connection_cap(65536, 24), 65536 - 32 - 24);
        assert_eq!(connection_cap(40, 24), MIN_CONNECTIONS, "a floor, however low the limit");
        assert_eq!(connection_cap(u64::MAX, 24), MAX_CONNECTIONS);
    }

    #[test]
    #[allow(unsafe_code, reason = "the limit is only readable through libc")]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let now = raise_descriptor_limit();
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: as in `raise_descriptor_limit`.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
        assert_eq!(now, limit.rlim_cur);
        assert_eq!(limit.rlim_cur, limit.rlim_max.min(MAX_DESCRIPTORS));
    }
}
