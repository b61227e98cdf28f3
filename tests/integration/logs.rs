//! Logs as a log collector reads them (`CHATPASS_LOG_FORMAT=json`), and the request id
//! that ties a response to its log lines. The real binary, its real stdout.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::fixtures::MARKED_PASSWORD;
use crate::common::process::Instance;

async fn post(
    client: &reqwest::Client,
    at: &Instance,
    path: &str,
    id: &[u8],
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(at.url(path))
        .header("origin", format!("http://{}", at.addr))
        .header("accept", "application/json")
        .header("x-request-id", reqwest::header::HeaderValue::from_bytes(id).unwrap())
        .form(form)
        .send()
        .await
        .unwrap()
}

fn id_of(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_and_every_request_line_carries_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/chatpass.db", dir.path().display());
    let outbox = dir.path().join("outbox").display().to_string();
    let at = Instance::start(&[
        ("CHATPASS_LOG_FORMAT", "json"),
        // The per-request lines are debug (they cost a quarter of a token request).
        ("RUST_LOG", "info,tower_http=debug"),
        ("DATABASE_URL", &db),
        ("CHATPASS_OUTBOX_DIR", &outbox),
    ]);
    let client = reqwest::Client::new();

    let signup = post(
        &client,
        &at,
        "/api/signup",
        b"lb-7f3a.signup:1",
        &[("email", "ann@example.com"), ("password", MARKED_PASSWORD)],
    );
    let signup = signup.await;
    assert_eq!(signup.status(), 202);
    assert_eq!(id_of(&signup), "lb-7f3a.signup:1", "a sane id is kept");
    let long = vec![b'a'; 10 * 1024];
    for bad in [long.as_slice(), b"has space", b"tab\there", b"\x80\xffobs-text", b"<script>"] {
        let response = post(
            &client,
            &at,
            "/api/login",
            bad,
            &[("email", "ann@example.com"), ("password", "wrong password")],
        )
        .await;
        assert_eq!(response.status(), 401);
        let id = id_of(&response);
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "replaced, not echoed: {id}");
    }
    let token = post(&client, &at, "/api/chat_token", b"tok-1", &[]).await;
    assert_eq!(token.status(), 401);
    let no_id = client.get(at.url("/healthz")).send().await.unwrap();
    assert_eq!(id_of(&no_id).len(), 32, "one is made when none is sent");

    // Wait (bounded) for the last request's line to be written by the log thread.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !at.logs().iter().any(|l| l.contains("tok-1")) {
        assert!(Instant::now() < deadline, "no log line for tok-1:\n{}", at.logs().join("\n"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let lines = at.logs();
    let mut refused = 0;
    for line in &lines {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for key in ["timestamp", "level", "target"] {
            assert!(event.get(key).is_some(), "{key} in {line}");
        }
        assert!(event.get("message").is_some(), "{line}");
        // A line written inside a request: its outermost span is the request, with its id.
        if let Some(spans) = event.get("spans").and_then(Value::as_array).filter(|s| !s.is_empty()) {
            assert_eq!(spans[0]["name"], "request", "{line}");
            let id = spans[0]["request_id"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "a request's line has its id: {line}");
        }
        if event["message"] == "login refused: wrong email or password" {
            refused += 1;
            assert_eq!(event["client"], "127.0.0.1", "{line}");
            assert_eq!(event["spans"][0]["path"], "/api/login", "{line}");
        }
        assert!(
            !line.contains("ann@example.com") && !line.contains("PwMarker"),
            "no email or password: {line}"
        );
    }
    assert_eq!(refused, 5);
    assert!(lines.iter().any(|l| l.contains("\"request_id\":\"lb-7f3a.signup:1\"")));
}

/// The file outbox's log line carries each mail's link only while links are plain http
/// (trying chatpass out); behind an https public URL it names the file, never the link.
#[tokio::test]
async fn the_file_outbox_logs_a_mails_link_only_when_links_are_plain_http() {
    for public_url in [None, Some("https://chat.example.com")] {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}/chatpass.db", dir.path().display());
        let outbox = dir.path().join("outbox");
        let outbox_dir = outbox.display().to_string();
        let mut env = vec![("DATABASE_URL", db.as_str()), ("CHATPASS_OUTBOX_DIR", outbox_dir.as_str())];
        env.extend(public_url.map(|url| ("CHATPASS_PUBLIC_URL", url)));
        let at = Instance::start(&env);
        let origin = public_url.map_or_else(|| format!("http://{}", at.addr), String::from);
        let signup = reqwest::Client::new()
            .post(at.url("/api/signup"))
            .header("origin", &origin)
            .header("accept", "application/json")
            .form(&[("email", "ann@example.com"), ("password", MARKED_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(signup.status(), 202);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !at.logs().iter().any(|l| l.contains("mail written to a file")) {
            assert!(Instant::now() < deadline, "no mail logged:\n{}", at.logs().join("\n"));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mails = crate::common::mail::read_dir(&outbox);
        let token = crate::common::mail::verify_token(&mails[0]).expect("the mail holds its link");
        let logs = at.logs().join("\n");
        match public_url {
            None => assert!(logs.contains(&format!("{origin}/verify?token={token}")), "{logs}"),
            Some(_) => assert!(!logs.contains(&token) && !logs.contains("/verify?"), "{logs}"),
        }
    }
}
