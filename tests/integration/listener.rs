//! The site's listener (`chatpass::listener`) against clients that are slow or silent on
//! purpose: what they can hold open, for how long, and that a stop still lets a request in
//! flight finish.

use std::time::{Duration, Instant};

use chatpass::{listener::HEADER_TIMEOUT, server::BODY_TIMEOUT};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::common::{self, process::Instance, TestApp};

/// Everything the server sends until it closes the connection (a reset counts as closed),
/// or `None` when it is still open after `within`.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let read = async {
        let (mut seen, mut buf) = (Vec::new(), [0u8; 4096]);
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return seen,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok()
}

/// Reads until `marker` has arrived; what came, bounded by `within`.
async fn until_seen(stream: &mut TcpStream, marker: &str, within: Duration) -> String {
    let read = async {
        let (mut seen, mut buf) = (Vec::new(), [0u8; 4096]);
        while !String::from_utf8_lossy(&seen).contains(marker) {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before {marker:?}: {:?}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    };
    tokio::time::timeout(within, read).await.unwrap_or_else(|_| panic!("no {marker:?} within {within:?}"))
}

#[tokio::test]
async fn sixty_four_silent_sockets_leave_healthz_answering_under_80_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/chatpass.db", dir.path().display());
    let outbox = dir.path().join("outbox").display().to_string();
    let mut server = Instance::start_with_descriptor_limit(
        80,
        &[("DATABASE_URL", &database), ("CHATPASS_OUTBOX_DIR", &outbox)],
    );
    let mut silent = Vec::new();
    for _ in 0..64 {
        silent.push(TcpStream::connect(server.addr).await.expect("connect"));
    }
    // Well under the header timeout: the room is made at once, not by the timeout.
    let bound = HEADER_TIMEOUT / 2;
    let started = Instant::now();
    let response =
        common::client().get(server.url("/healthz")).timeout(bound).send().await.unwrap_or_else(|e| {
            panic!("/healthz did not answer within {bound:?} beside 64 silent sockets: {e}")
        });
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() < bound, "{:?}", started.elapsed());
    // The room was made by closing the oldest silent socket, without a word.
    let said = until_closed(&mut silent[0], bound).await.expect("the oldest silent socket is closed");
    assert!(said.is_empty(), "{:?}", String::from_utf8_lossy(&said));
    assert!(
        server.logs().iter().any(|l| l.contains("connections at once")),
        "the cap is logged at start: {:?}",
        server.logs()
    );
    assert!(server.is_running());
}

#[tokio::test]
async fn a_partial_header_a_silent_socket_and_an_idle_keep_alive_are_closed_after_the_header_timeout() {
    let app = TestApp::spawn().await;
    let started = Instant::now();
    let mut partial = TcpStream::connect(app.addr).await.unwrap();
    partial.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let mut kept = TcpStream::connect(app.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let answer = until_seen(&mut kept, r#"{"status":"ok"}"#, HEADER_TIMEOUT).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let kept_since = Instant::now();

    let within = HEADER_TIMEOUT + Duration::from_secs(5);
    let (partial, silent, kept) =
        tokio::join!(until_closed(&mut partial, within), until_closed(&mut silent, within), async {
            let said = until_closed(&mut kept, within).await;
            (said, kept_since.elapsed())
        });
    let elapsed = started.elapsed();
    for (name, said) in [("partial header", partial), ("silent", silent), ("idle keep-alive", kept.0)] {
        let said = said.unwrap_or_else(|| panic!("{name}: still open {within:?} after connecting"));
        assert!(said.is_empty(), "{name}: closed without an answer: {:?}", String::from_utf8_lossy(&said));
    }
    // Closed by the timeout, not before it (1 s for the time the test took to connect).
    let early = HEADER_TIMEOUT - Duration::from_secs(1);
    assert!(elapsed >= early, "closed after {elapsed:?}");
    assert!(kept.1 >= early, "the idle keep-alive closed {:?} after its answer", kept.1);
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_stops_coming_is_answered_408_after_the_body_timeout() {
    let app = TestApp::spawn().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=a",
        addr = app.addr
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    let said = until_closed(&mut stream, BODY_TIMEOUT + Duration::from_secs(5)).await.expect("closed");
    let said = String::from_utf8_lossy(&said);
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.to_ascii_lowercase().contains("connection: close"), "{said}");
    assert!(started.elapsed() >= BODY_TIMEOUT - Duration::from_secs(1), "{:?}", started.elapsed());
    app.stop().await;
}

#[tokio::test]
async fn a_stop_lets_the_request_in_flight_finish_and_closes_silent_sockets_at_once() {
    let app = TestApp::spawn().await;
    let addr = app.addr;
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let body = "email=nobody%40example.com&password=not-the-password-1";
    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    // hyper says "100 Continue" when the server starts reading the body: the request is in
    // the router now.
    until_seen(&mut in_flight, "100 Continue\r\n\r\n", Duration::from_secs(10)).await;

    let started = Instant::now();
    let stopping = tokio::spawn(app.stop());
    // The silent socket is closed when the stop begins, not after the header timeout.
    let said =
        until_closed(&mut silent, HEADER_TIMEOUT / 2).await.expect("the silent socket is closed at the stop");
    assert!(said.is_empty());
    assert!(!stopping.is_finished(), "the stop waits for the request in flight");

    in_flight.write_all(body.as_bytes()).await.unwrap();
    let said = until_closed(&mut in_flight, Duration::from_secs(30)).await.expect("answered and closed");
    let said = String::from_utf8_lossy(&said);
    let answer = &said[said.find("HTTP/1.1 4").unwrap_or_else(|| panic!("an answer: {said}"))..];
    assert!(answer.starts_with("HTTP/1.1 401"), "wrong password: {said}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{said}");
    tokio::time::timeout(HEADER_TIMEOUT / 2, stopping).await.expect("stopped").expect("server task");
    assert!(started.elapsed() < HEADER_TIMEOUT / 2, "{:?}", started.elapsed());
    assert!(TcpStream::connect(addr).await.is_err(), "no longer listening");
}
