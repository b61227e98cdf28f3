//! The API secret and the Auth Token (and passwords and session ids) never reach a response
//! body or header, a log line at any level, or the built site.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Arc, Mutex},
};

use base64::Engine as _;
use serde_json::json;

use crate::common::{
    fixtures::{ACCOUNT_SID, API_KEY, MARKED_PASSWORD, SERVICE_SID},
    twilio::{Recorded, TwilioStandIn},
};

const BIN: &str = env!("CARGO_BIN_EXE_chatpass");
const SECRET: &str = "ZzSecretMarker_7f3a9c1e5b2d";
/// Twilio's webhook key: a secret too, though only the webhook route reads it.
const AUTH_TOKEN: &str = "fedcba9876543210fedcba9876543210";

/// A request to make: method, path, form fields.
type Step = (&'static str, &'static str, Vec<(&'static str, &'static str)>);

#[tokio::test]
async fn the_secret_is_in_no_response_and_no_log_line_even_at_trace() {
    let dir = tempfile::tempdir().unwrap();
    // Twilio's REST API (a stand-in that lets in only this key and secret): the proof makes
    // a real call with the secret in its Basic auth, traced like everything else.
    let twilio = TwilioStandIn::start_with(json!({"credentials": [[API_KEY, SECRET]]})).await;
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("RUST_LOG", "trace")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        .env("TWILIO_API_KEY", API_KEY)
        .env("TWILIO_API_SECRET", SECRET)
        .env("TWILIO_CHAT_SERVICE_SID", SERVICE_SID)
        .env("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
        .env("CHATPASS_TWILIO_API_URL", twilio.url())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let logs = Arc::new(Mutex::new(String::new()));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let out_logs = logs.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(addr) = line.split("listening on http://").nth(1) {
                let _ = addr_tx.send(addr.split_whitespace().next().unwrap().to_string());
            }
            out_logs.lock().unwrap().push_str(&line);
            out_logs.lock().unwrap().push('\n');
        }
    });
    let addr = addr_rx.recv_timeout(std::time::Duration::from_secs(30)).expect("server starts");
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut seen = String::new();
    let mut cookies = Vec::new();
    let before_verification: Vec<Step> = vec![
        ("GET", "/", vec![]),
        ("GET", "/login", vec![]),
        ("GET", "/healthz", vec![]),
        ("POST", "/api/chat_token", vec![]),
        ("POST", "/api/signup", vec![("email", "ann@example.com"), ("password", MARKED_PASSWORD)]),
        ("POST", "/api/login", vec![("email", "ann@example.com"), ("password", MARKED_PASSWORD)]),
        ("POST", "/api/chat_token", vec![]),
        ("POST", "/api/resend_verification", vec![]),
    ];
    for (method, path, form) in before_verification {
        step(&client, &base, method, path, &form, &mut seen, &mut cookies).await;
    }
    // The link from the mail (the file outbox beside the default database).
    let outbox = dir.path().join("data/outbox");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let token = loop {
        if let Some(token) =
            crate::common::mail::read_dir(&outbox).iter().find_map(|m| crate::common::mail::verify_token(m))
        {
            break token;
        }
        assert!(std::time::Instant::now() < deadline, "no verification mail in {}", outbox.display());
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    step(
        &client,
        &base,
        "POST",
        "/api/verify_email",
        &[("token", token.as_str()), ("password", MARKED_PASSWORD)],
        &mut seen,
        &mut cookies,
    )
    .await;
    let after_verification: Vec<Step> = vec![
        ("POST", "/api/chat_token", vec![]),
        ("POST", "/api/chat_token", vec![("identity", SECRET)]),
        ("POST", "/api/current_user", vec![]),
        ("POST", "/api/login", vec![("email", "ann@example.com"), ("password", "wrong password here")]),
        ("POST", "/api/login", vec![("email", "ann@example.com"), ("password", MARKED_PASSWORD)]),
        ("POST", "/api/signup", vec![("email", "ann@example.com"), ("password", MARKED_PASSWORD)]),
        ("POST", "/api/logout", vec![]),
        ("POST", "/api/chat_token", vec![]),
        ("GET", "/no/such/page", vec![]),
    ];
    for (method, path, form) in after_verification {
        step(&client, &base, method, path, &form, &mut seen, &mut cookies).await;
    }
    let created = |r: &[Recorded]| r.iter().any(|r| r.method == "POST" && r.answered == 201);
    twilio.wait_for("the User's create, let in", std::time::Duration::from_secs(20), created).await;
    assert!(!seen.contains(SECRET), "the API secret reached a response");
    assert!(!seen.contains(MARKED_PASSWORD), "a password reached a response");

    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    let logs = format!("{}{}", logs.lock().unwrap(), stderr);
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"), "the log really was at trace level");
    assert!(logs.contains("chat token issued"), "token issuance is logged");
    assert!(!logs.contains(SECRET), "the API secret reached a log line");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:{SECRET}"));
    assert!(!logs.contains(&basic), "the Basic auth of a Twilio call reached a log line");
    assert!(!logs.contains(AUTH_TOKEN), "the Auth Token reached a log line");
    assert!(!logs.contains(MARKED_PASSWORD), "a password reached a log line");
    assert!(!logs.contains("$argon2id$"), "a password hash reached a log line");
    assert!(logs.contains("email verified"), "the verification is logged");
    assert!(!logs.contains("ann@example.com"), "logs name users by id, never by email");
    assert!(logs.contains(&format!("/verify?token={token}")), "without SMTP, the log gives the mail's link");
    assert!(!cookies.is_empty());
    for id in cookies {
        assert!(!logs.contains(&id), "a session id reached a log line");
    }
}

/// Makes one request and keeps what came back (headers, body, session ids) for the checks.
async fn step(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    form: &[(&str, &str)],
    seen: &mut String,
    cookies: &mut Vec<String>,
) {
    let request = match method {
        "GET" => client.get(format!("{base}{path}")),
        _ => client
            .post(format!("{base}{path}"))
            .header("origin", base)
            .header("accept", "application/json")
            .form(form),
    };
    let response = request.send().await.unwrap();
    assert!(response.status().as_u16() < 500, "{path}: {}", response.status());
    for (name, value) in response.headers() {
        let value = value.to_str().unwrap_or("");
        if name == "set-cookie" {
            if let Some(id) = value.split(';').next().and_then(|c| c.split_once('=')).map(|(_, v)| v) {
                if !id.is_empty() {
                    cookies.push(id.to_string());
                }
            }
        }
        seen.push_str(&format!("{name}: {value}\n"));
    }
    seen.push_str(&response.text().await.unwrap());
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Needs the built site: `make test` builds it before the Rust tests (`make site`).
#[test]
fn the_built_site_holds_no_secret_and_no_server_settings_code() {
    let site = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/site");
    let pkg = site.join("pkg");
    assert!(pkg.is_dir(), "no built site at {}: run `make site` first", site.display());
    let mut needles: Vec<String> = vec![SECRET.into(), "TWILIO_API_SECRET".into(), "argon2".into()];
    // Whatever secret this checkout is configured with must not be in the bundle either.
    if let Ok(dotenv) = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".env")) {
        for line in dotenv.lines() {
            if let Some(value) = line.strip_prefix("TWILIO_API_SECRET=") {
                if !value.trim().is_empty() {
                    needles.push(value.trim().to_string());
                }
            }
        }
    }
    if let Ok(value) = std::env::var("TWILIO_API_SECRET") {
        if !value.is_empty() {
            needles.push(value);
        }
    }
    let all = files(&site);
    assert!(all.iter().any(|p| p.extension().is_some_and(|e| e == "wasm")), "the bundle is there");
    for path in all {
        let bytes = std::fs::read(&path).unwrap();
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} contains {needle:?}",
                path.display()
            );
        }
    }
}
