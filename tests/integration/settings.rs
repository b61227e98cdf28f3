//! The `chatpass` binary with bad settings: a non-zero exit, one clear line on stderr
//! naming the setting, and no files left behind. And with good ones: it starts, creates
//! its database, and stops cleanly on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_chatpass");

struct Outcome {
    code: Option<i32>,
    stderr: String,
}

/// Runs `chatpass serve` in `dir` with only the given settings, and waits (bounded) for it to exit.
fn run_with(dir: &Path, env: &[(&str, &str)]) -> Outcome {
    let mut command = Command::new(BIN);
    command.arg("serve").current_dir(dir).env_clear().stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chatpass did not exit on a bad setting");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    Outcome { code: status.code(), stderr }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        walk(dir).into_iter().map(|p| p.strip_prefix(dir).unwrap().display().to_string()).collect();
    names.sort();
    names
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

fn assert_one_clear_line(outcome: &Outcome, var: &str, reason_fragment: &str) {
    assert_ne!(outcome.code, Some(0), "must exit non-zero");
    assert!(outcome.code.is_some(), "must exit, not be killed by a signal");
    let lines: Vec<&str> = outcome.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stderr, got: {:?}", outcome.stderr);
    let line = lines[0];
    assert!(line.starts_with("chatpass: error: "), "{line}");
    assert!(line.contains(var), "names {var}: {line}");
    assert!(line.contains(reason_fragment), "says why ({reason_fragment}): {line}");
    assert!(!line.contains("panicked") && !line.contains("RUST_BACKTRACE"), "{line}");
}

#[test]
fn database_directory_that_cannot_be_created() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blocker"), "a file where a directory should be").unwrap();
    let url = format!("sqlite://{}/blocker/sub/chatpass.db", dir.path().display());
    let outcome = run_with(dir.path(), &[("DATABASE_URL", &url), ("LEPTOS_SITE_ADDR", "127.0.0.1:0")]);
    assert_one_clear_line(&outcome, "DATABASE_URL", "cannot create directory");
    assert_eq!(files_in(dir.path()), vec!["blocker"]);
}

#[test]
fn listen_address_that_is_not_an_address() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["localhost", "not an address", "127.0.0.1:99999", "127.0.0.1"] {
        let outcome = run_with(dir.path(), &[("LEPTOS_SITE_ADDR", bad)]);
        assert_one_clear_line(&outcome, "LEPTOS_SITE_ADDR", "is not an address");
        assert!(files_in(dir.path()).is_empty(), "no files for {bad:?}");
    }
}

#[test]
fn port_already_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let url = format!("sqlite://{}/data/chatpass.db", dir.path().display());
    let outcome = run_with(dir.path(), &[("LEPTOS_SITE_ADDR", &addr), ("DATABASE_URL", &url)]);
    assert_one_clear_line(&outcome, "LEPTOS_SITE_ADDR", "cannot listen on");
    assert!(outcome.stderr.contains(&addr));
    assert!(files_in(dir.path()).is_empty(), "no database created: {:?}", files_in(dir.path()));
}

#[test]
fn unknown_database_scheme() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["mysql://root@localhost/chatpass", "redis://localhost", "data/chatpass.db"] {
        let outcome = run_with(dir.path(), &[("DATABASE_URL", bad), ("LEPTOS_SITE_ADDR", "127.0.0.1:0")]);
        assert_one_clear_line(&outcome, "DATABASE_URL", "scheme");
        assert!(files_in(dir.path()).is_empty());
    }
}

#[test]
fn default_database_is_created_on_first_run_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The server logs its address once it is ready.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ready = false;
    for line in stdout.lines() {
        let line = line.unwrap();
        if line.contains("listening on http://") {
            ready = true;
            break;
        }
    }
    assert!(ready, "server announced its address");
    assert!(dir.path().join("data/chatpass.db").exists(), "data/chatpass.db created on first run");
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "graceful shutdown exits 0");
}

#[test]
fn unreachable_postgres_is_one_line_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: taken, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://chatpass:pw-must-not-show@127.0.0.1:{port}/chatpass");
    let started = Instant::now();
    let outcome = run_with(dir.path(), &[("DATABASE_URL", &url), ("LEPTOS_SITE_ADDR", "127.0.0.1:0")]);
    assert_one_clear_line(&outcome, "DATABASE_URL", "cannot open the database");
    assert!(outcome.stderr.contains("refused"), "says why: {}", outcome.stderr);
    assert!(!outcome.stderr.contains("pw-must-not-show"), "{}", outcome.stderr);
    assert!(started.elapsed() < Duration::from_secs(20), "gave up in {:?}", started.elapsed());
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn a_postgres_that_accepts_but_never_answers_fails_the_start_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    // Accepts connections (the kernel's backlog does) and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgres://chatpass:pw-must-not-show@127.0.0.1:{port}/chatpass");
    let started = Instant::now();
    let outcome = run_with(dir.path(), &[("DATABASE_URL", &url), ("LEPTOS_SITE_ADDR", "127.0.0.1:0")]);
    assert_one_clear_line(&outcome, "DATABASE_URL", "cannot open the database");
    assert!(!outcome.stderr.contains("pw-must-not-show"), "{}", outcome.stderr);
    // The pool's 5 s, then at most 5 s more for the attempt that would say why.
    assert!(started.elapsed() < Duration::from_secs(20), "gave up in {:?}", started.elapsed());
    assert!(files_in(dir.path()).is_empty());
    drop(silent);
}

#[test]
fn bad_mail_and_account_settings_are_one_line_without_the_smtp_password() {
    let dir = tempfile::tempdir().unwrap();
    // (settings, the variable the error names, a fragment of its reason)
    type Case = (&'static [(&'static str, &'static str)], &'static str, &'static str);
    let cases: [Case; 18] = [
        (&[("CHATPASS_MAIL_RETRY_SECS", "0")], "CHATPASS_MAIL_RETRY_SECS", "out of range"),
        (&[("CHATPASS_MAIL_RETRY_SECS", "soon")], "CHATPASS_MAIL_RETRY_SECS", "not a whole number"),
        (&[("CHATPASS_RESENDS_PER_ACCOUNT", "-1")], "CHATPASS_RESENDS_PER_ACCOUNT", "not a whole number"),
        (&[("CHATPASS_RESENDS_PER_IP", "0")], "CHATPASS_RESENDS_PER_IP", "out of range"),
        (
            &[("CHATPASS_DISPLAY_NAMES_PER_ACCOUNT", "0")],
            "CHATPASS_DISPLAY_NAMES_PER_ACCOUNT",
            "out of range",
        ),
        (
            &[("CHATPASS_DISPLAY_NAMES_PER_ACCOUNT", "lots")],
            "CHATPASS_DISPLAY_NAMES_PER_ACCOUNT",
            "not a whole number",
        ),
        (
            &[("CHATPASS_SMTP_URL", "http://u:Hunter2Secret@mail.example.com")],
            "CHATPASS_SMTP_URL",
            "unsupported scheme",
        ),
        (&[("CHATPASS_SMTP_URL", "mail.example.com")], "CHATPASS_SMTP_URL", "not a URL"),
        (
            &[("CHATPASS_SMTP_URL", "smtp://u:Hunter2Secret@mail.example.com?tls=maybe")],
            "CHATPASS_SMTP_URL",
            "unknown option",
        ),
        (
            &[("CHATPASS_SMTP_URL", "smtp://u:Hunter2Secret@mail.example.com")],
            "CHATPASS_MAIL_FROM",
            "must be set",
        ),
        (&[("CHATPASS_MAIL_FROM", "not a mailbox")], "CHATPASS_MAIL_FROM", "is not a mailbox"),
        (
            &[("CHATPASS_EMAIL_VERIFICATION", "sometimes")],
            "CHATPASS_EMAIL_VERIFICATION",
            "expected required or off",
        ),
        (&[("CHATPASS_CHAT_IDENTITY", "phone")], "CHATPASS_CHAT_IDENTITY", "expected email or user-id"),
        (
            &[("CHATPASS_TRUSTED_PROXIES", "10.0.0.0/33")],
            "CHATPASS_TRUSTED_PROXIES",
            "not an address or a CIDR",
        ),
        (
            &[("CHATPASS_TRUSTED_PROXIES", "10.0.0.1, proxy.local")],
            "CHATPASS_TRUSTED_PROXIES",
            "not an address",
        ),
        (&[("CHATPASS_OUTBOX_DIR", "a\tb")], "CHATPASS_OUTBOX_DIR", "control character"),
        (&[("CHATPASS_MAIL_FROM", "x\ny@example.com")], "CHATPASS_MAIL_FROM", "control character"),
        (
            &[
                ("TWILIO_ACCOUNT_SID", "\u{20ac}C0123456789abcdef0123456789abcdef"),
                ("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef"),
                ("TWILIO_API_SECRET", "Hunter2Secret"),
                ("TWILIO_CHAT_SERVICE_SID", "IS0123456789abcdef0123456789abcdef"),
            ],
            "TWILIO_ACCOUNT_SID",
            "expected AC followed by 32 hex digits",
        ),
    ];
    let huge: &'static str = Box::leak("7".repeat(10 * 1024).into_boxed_str());
    let huge_cases: [Case; 2] = [
        (
            Box::leak(Box::new([("CHATPASS_SESSION_IDLE_SECS", huge)])),
            "CHATPASS_SESSION_IDLE_SECS",
            "bytes long",
        ),
        (Box::leak(Box::new([("TWILIO_API_SECRET", huge)])), "TWILIO_API_SECRET", "bytes long"),
    ];
    for (env, var, why) in cases.into_iter().chain(huge_cases) {
        let mut env = env.to_vec();
        env.push(("LEPTOS_SITE_ADDR", "127.0.0.1:0"));
        let outcome = run_with(dir.path(), &env);
        assert_one_clear_line(&outcome, var, why);
        assert!(
            !outcome.stderr.contains("Hunter2Secret"),
            "the SMTP password was printed: {}",
            outcome.stderr
        );
        assert!(files_in(dir.path()).is_empty(), "no files for {env:?}");
    }
}

#[test]
fn bad_push_credentials_and_cors_origins_are_one_line_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let live: [(&str, &str); 4] = [
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef"),
        ("TWILIO_API_SECRET", "Hunter2Secret"),
        ("TWILIO_CHAT_SERVICE_SID", "IS0123456789abcdef0123456789abcdef"),
    ];
    const CR: &str = "CR0123456789abcdef0123456789abcdef";
    // (the value, whether with the four Twilio values, the variable, a fragment of the reason)
    let cases: [(String, bool, &str, &str); 10] = [
        (format!("ios={CR},ios={CR}"), true, "TWILIO_PUSH_CREDENTIALS", "twice"),
        (format!("ios={CR},,android={CR}"), true, "TWILIO_PUSH_CREDENTIALS", "empty"),
        (format!("ios{CR}"), true, "TWILIO_PUSH_CREDENTIALS", "no `="),
        (format!("web={CR}"), true, "TWILIO_PUSH_CREDENTIALS", "TWILIO_PUSH_CREDENTIAL_SID"),
        (format!("ios={CR}, android={CR}"), true, "TWILIO_PUSH_CREDENTIALS", "whitespace"),
        ("ios=SK0123456789abcdef0123456789abcdef".into(), true, "TWILIO_PUSH_CREDENTIALS", "API key"),
        (format!("ios={CR}"), false, "TWILIO_PUSH_CREDENTIALS", "four Twilio values"),
        ("https://*.example.com".into(), false, "CHATPASS_CORS_ORIGINS", "*"),
        ("null".into(), false, "CHATPASS_CORS_ORIGINS", "null"),
        ("https://app.example.com/app".into(), false, "CHATPASS_CORS_ORIGINS", "path"),
    ];
    for (value, with_account, var, why) in &cases {
        let mut env = vec![(*var, value.as_str()), ("LEPTOS_SITE_ADDR", "127.0.0.1:0")];
        if *with_account {
            env.extend(live);
        }
        let outcome = run_with(dir.path(), &env);
        assert_eq!(outcome.code, Some(1), "{value}: {}", outcome.stderr);
        assert_one_clear_line(&outcome, var, why);
        assert!(!outcome.stderr.contains("Hunter2Secret"), "{}", outcome.stderr);
        assert!(files_in(dir.path()).is_empty(), "no files for {value}");
    }
}

#[test]
fn bad_sign_in_settings_stop_the_start_with_one_line_naming_the_variable_and_never_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let oidc =
        [("CHATPASS_OIDC_CLIENT_ID", "chatpass"), ("CHATPASS_OIDC_CLIENT_SECRET", "Hunter2ClientSecret")];
    // (the settings, the variable named, a fragment of the reason)
    type Case = (Vec<(&'static str, &'static str)>, &'static str, &'static str);
    let cases: [Case; 6] = [
        (vec![("CHATPASS_OIDC_ISSUER", "http://login.example.com")], "CHATPASS_OIDC_ISSUER", "https"),
        (vec![("CHATPASS_OIDC_ISSUER", "not a url")], "CHATPASS_OIDC_ISSUER", "URL"),
        (
            vec![("CHATPASS_TRUSTED_IDENTITY_HEADER", "X-Auth-Request-Email")],
            "CHATPASS_TRUSTED_IDENTITY_HEADER",
            "CHATPASS_TRUSTED_PROXIES",
        ),
        (
            vec![
                ("CHATPASS_TRUSTED_IDENTITY_HEADER", "Authorization"),
                ("CHATPASS_TRUSTED_PROXIES", "127.0.0.1"),
            ],
            "CHATPASS_TRUSTED_IDENTITY_HEADER",
            "authorization",
        ),
        (vec![("CHATPASS_PASSWORD_LOGIN", "off")], "CHATPASS_PASSWORD_LOGIN", "nobody could sign in"),
        (vec![("CHATPASS_OIDC_NAME", "Acme")], "CHATPASS_OIDC_NAME", "CHATPASS_OIDC_ISSUER"),
    ];
    for (settings, var, why) in &cases {
        let mut env = vec![("LEPTOS_SITE_ADDR", "127.0.0.1:0")];
        env.extend(settings.iter().copied());
        if settings.iter().any(|(k, _)| *k == "CHATPASS_OIDC_ISSUER") {
            env.extend(oidc);
        }
        let outcome = run_with(dir.path(), &env);
        assert_eq!(outcome.code, Some(1), "{settings:?}: {}", outcome.stderr);
        assert_one_clear_line(&outcome, var, why);
        assert!(!outcome.stderr.contains("Hunter2ClientSecret"), "{}", outcome.stderr);
    }
}

// --- Twilio's side (#29): CHATPASS_TWILIO_API_URL, CHATPASS_TWILIO_SYNC, TWILIO_AUTH_TOKEN ---

#[test]
fn bad_twilio_side_settings_are_one_line_naming_the_variable_and_never_the_auth_token() {
    let dir = tempfile::tempdir().unwrap();
    let live: [(&str, &str); 4] = [
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef"),
        ("TWILIO_API_SECRET", "Hunter2Secret"),
        ("TWILIO_CHAT_SERVICE_SID", "IS0123456789abcdef0123456789abcdef"),
    ];
    // A well-formed Auth Token, set beside every other bad value: it is never printed either.
    const TOKEN: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
    // (the variable, its value, with the four Twilio values, a fragment of the reason)
    let cases: [(&str, &str, bool, &str); 16] = [
        ("CHATPASS_TWILIO_API_URL", "http://example.com", true, "https"),
        ("CHATPASS_TWILIO_API_URL", "http://10.0.0.5:4010", false, "loopback"),
        ("CHATPASS_TWILIO_API_URL", "ftp://127.0.0.1", true, "https"),
        ("CHATPASS_TWILIO_API_URL", "https://conversations.twilio.com/v1", true, "origin only"),
        ("CHATPASS_TWILIO_API_URL", "https://u:Hunter2Secret@conversations.twilio.com", true, "origin only"),
        ("CHATPASS_TWILIO_API_URL", "conversations.twilio.com", true, "not a URL"),
        ("CHATPASS_TWILIO_SYNC", "yes", true, "expected on or off"),
        ("CHATPASS_TWILIO_SYNC", "ON", true, "expected on or off"),
        ("CHATPASS_TWILIO_SYNC", "0", false, "expected on or off"),
        ("TWILIO_AUTH_TOKEN", "c0ffee00c0ffee00c0ffee00c0ffeeXY", true, "32 hex digits"),
        ("TWILIO_AUTH_TOKEN", "c0ffee00c0ffee00", true, "32 hex digits"),
        (
            "TWILIO_AUTH_TOKEN",
            "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
            true,
            "32 hex digits",
        ),
        ("TWILIO_AUTH_TOKEN", " c0ffee00c0ffee00c0ffee00c0ffee00", true, "whitespace"),
        ("TWILIO_AUTH_TOKEN", "c0ffee00c0ffee00c0ffee00c0ffee00\t", false, "TWILIO_AUTH_TOKEN"),
        ("TWILIO_AUTH_TOKEN", "SK0123456789abcdef0123456789abcdef", true, "32 hex digits"),
        ("TWILIO_AUTH_TOKEN", "Hunter2Secret", false, "32 hex digits"),
    ];
    for (var, value, with_account, why) in &cases {
        let mut env = vec![(*var, *value), ("LEPTOS_SITE_ADDR", "127.0.0.1:0")];
        if *var != "TWILIO_AUTH_TOKEN" {
            env.push(("TWILIO_AUTH_TOKEN", TOKEN));
        }
        if *with_account {
            env.extend(live);
        }
        let outcome = run_with(dir.path(), &env);
        assert_eq!(outcome.code, Some(1), "{var}={value:?}: {}", outcome.stderr);
        assert_one_clear_line(&outcome, var, why);
        for secret in ["Hunter2Secret", TOKEN, &TOKEN[..16]] {
            assert!(!outcome.stderr.contains(secret), "{var}={value:?}: {}", outcome.stderr);
        }
        if *var == "TWILIO_AUTH_TOKEN" {
            let shown = value.trim();
            assert!(!outcome.stderr.contains(shown), "the value of {var} was printed: {}", outcome.stderr);
        }
        assert!(files_in(dir.path()).is_empty(), "no files for {var}={value:?}");
    }
}
