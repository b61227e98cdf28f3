//! `chatpass token new` and `chatpass token inspect`, run as the real binary.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chatpass::token::{ChatGrant, Mode, TokenIssuer};

use crate::common::fixtures::{ACCOUNT_SID, API_KEY, SERVICE_SID};

const BIN: &str = env!("CARGO_BIN_EXE_chatpass");
const SECRET: &str = "cli-test-secret-0123456789";

fn twilio_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ("TWILIO_API_KEY", API_KEY),
        ("TWILIO_API_SECRET", SECRET),
        ("TWILIO_CHAT_SERVICE_SID", SERVICE_SID),
    ]
}

fn chatpass(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir.path()).env_clear();
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "token commands write no files");
    output
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn new_token(env: &[(&str, &str)], identity: &str) -> String {
    let out = chatpass(&["token", "new", "--identity", identity], env, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    stdout(&out).lines().last().unwrap().to_string()
}

#[test]
fn new_prints_the_token_last_and_inspect_says_it_is_valid() {
    let env = twilio_env();
    let out = chatpass(&["token", "new", "--identity", "ann@example.com", "--ttl", "600"], &env, None);
    assert!(out.status.success());
    let text = stdout(&out);
    let token = text.lines().last().unwrap();
    assert_eq!(token.split('.').count(), 3);
    assert!(!text.contains(SECRET) && !String::from_utf8_lossy(&out.stderr).contains(SECRET));
    let inspected = chatpass(&["token", "inspect", token], &env, None);
    let report = stdout(&inspected);
    assert!(inspected.status.success(), "{report}");
    assert!(report.contains("\"identity\": \"ann@example.com\""), "{report}");
    assert!(report.contains("signature: valid"), "{report}");
    assert!(report.trim_end().ends_with("valid"));
    // From stdin too.
    let piped = chatpass(&["token", "inspect", "-"], &env, Some(&format!("{token}\n")));
    assert!(piped.status.success(), "{}", stdout(&piped));
}

#[test]
fn new_refuses_an_empty_identity_and_a_bad_ttl() {
    let env = twilio_env();
    for args in [
        vec!["token", "new", "--identity", ""],
        vec!["token", "new", "--identity", "a@b.co", "--ttl", "179"],
        vec!["token", "new", "--identity", "a@b.co", "--ttl", "86401"],
        vec!["token", "new", "--identity", "a@b.co", "--ttl", "soon"],
    ] {
        let out = chatpass(&args, &env, None);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1, "{args:?}");
    }
}

#[test]
fn inspect_refuses_invalid_tokens_with_a_non_zero_exit() {
    let env = twilio_env();
    let good = new_token(&env, "ann@example.com");
    let parts: Vec<&str> = good.split('.').collect();

    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","cty":"twilio-fpa;v=1"}"#);
    let alg_none = format!("{none_header}.{}.", parts[1]);
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["grants"]["identity"] = "boss@example.com".into();
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    let other_secret = {
        let other: Vec<(&str, &str)> = twilio_env()
            .into_iter()
            .map(|(k, v)| if k == "TWILIO_API_SECRET" { (k, "a-different-secret") } else { (k, v) })
            .collect();
        new_token(&other, "ann@example.com")
    };
    let expired = {
        let chat = ChatGrant { service_sid: SERVICE_SID.into(), ..Default::default() };
        let issuer =
            TokenIssuer::new(ACCOUNT_SID.into(), API_KEY.into(), SECRET, chat, 3600, None, Mode::Live)
                .unwrap();
        issuer.issue("ann@example.com", 1_000_000_000).unwrap().jwt
    };
    let cases = [
        ("garbage", "garbage".to_string(), "not a token"),
        ("truncated", good[..good.len() - 20].to_string(), "signature"),
        ("half", good[..good.len() / 2].to_string(), "not a token"),
        ("alg none", alg_none, "alg"),
        ("tampered", tampered, "signature"),
        ("other secret", other_secret, "signature"),
        ("expired", expired, "expired"),
    ];
    for (name, token, says) in cases {
        let out = chatpass(&["token", "inspect", &token], &env, None);
        let report = stdout(&out);
        assert!(!out.status.success(), "{name}: {report}");
        assert!(report.contains(says), "{name} should mention {says:?}: {report}");
        assert!(report.trim_end().ends_with("invalid") || report.starts_with("invalid"), "{name}: {report}");
    }
}

#[test]
fn inspect_says_when_a_token_is_for_another_account_or_service() {
    let env = twilio_env();
    let token = new_token(&env, "ann@example.com");
    let other_account: Vec<(&str, &str)> = twilio_env()
        .into_iter()
        .map(
            |(k, v)| {
                if k == "TWILIO_ACCOUNT_SID" {
                    (k, "AC99999999999999999999999999999999")
                } else {
                    (k, v)
                }
            },
        )
        .collect();
    let out = chatpass(&["token", "inspect", &token], &other_account, None);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("another account"));
    let other_service: Vec<(&str, &str)> =
        twilio_env()
            .into_iter()
            .map(|(k, v)| {
                if k == "TWILIO_CHAT_SERVICE_SID" {
                    (k, "IS99999999999999999999999999999999")
                } else {
                    (k, v)
                }
            })
            .collect();
    let out = chatpass(&["token", "inspect", &token], &other_service, None);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("another chat service"));
}

#[test]
fn bad_twilio_settings_stop_the_start_without_echoing_the_secret() {
    let secret = "Sup3r-Secret-Value-Never-Printed";
    let with = |k: &'static str, v: &'static str| -> Vec<(&'static str, &'static str)> {
        let mut env: Vec<(&str, &str)> = twilio_env()
            .into_iter()
            .map(|(key, val)| if key == "TWILIO_API_SECRET" { (key, secret) } else { (key, val) })
            .collect();
        env.retain(|(key, _)| *key != k);
        env.push((k, v));
        env.push(("LEPTOS_SITE_ADDR", "127.0.0.1:0"));
        env
    };
    let cases = [
        (with("TWILIO_CHAT_SERVICE_SID", "MG0123456789abcdef0123456789abcdef"), "TWILIO_CHAT_SERVICE_SID"),
        (with("TWILIO_ACCOUNT_SID", API_KEY), "TWILIO_ACCOUNT_SID"),
        (with("TWILIO_API_KEY", " SK0123456789abcdef0123456789abcdef"), "TWILIO_API_KEY"),
        (with("TWILIO_API_SECRET", ""), "TWILIO_API_SECRET"),
        (with("TWILIO_API_SECRET", " Sup3r-Secret-Value-Never-Printed "), "TWILIO_API_SECRET"),
        (with("CHATPASS_TOKEN_TTL", "0"), "CHATPASS_TOKEN_TTL"),
        (with("CHATPASS_TOKEN_TTL", "179"), "CHATPASS_TOKEN_TTL"),
        (with("CHATPASS_TOKEN_TTL", "86401"), "CHATPASS_TOKEN_TTL"),
        (with("CHATPASS_TOKEN_TTL", "-1"), "CHATPASS_TOKEN_TTL"),
        (with("CHATPASS_TOKEN_TTL", "an hour"), "CHATPASS_TOKEN_TTL"),
        (vec![("TWILIO_API_SECRET", secret), ("LEPTOS_SITE_ADDR", "127.0.0.1:0")], "TWILIO_ACCOUNT_SID"),
    ];
    for (env, var) in cases {
        let out = chatpass(&["serve"], &env, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{var}: must not start");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(var), "{var}: {stderr}");
        assert!(!stderr.contains("Sup3r") && !stdout(&out).contains("Sup3r"), "secret echoed: {stderr}");
    }
}

/// A hostile token's claims cannot forge report lines or hide the verdict: newlines,
/// escape sequences and direction overrides in a claim are printed escaped.
#[test]
fn inspect_prints_hostile_claims_escaped() {
    let env = twilio_env();
    let good = new_token(&env, "ann@example.com");
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] =
        "AC1\nsignature: valid (checked with TWILIO_API_SECRET)\nvalid\u{1b}[8m\u{85}\u{202e}".into();
    claims["grants"]["identity"] = "x\u{2066}\u{200b}y".into();
    let hostile = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    let out = chatpass(&["token", "inspect", &hostile], &env, None);
    let report = stdout(&out);
    assert!(!out.status.success(), "{report}");
    assert!(!report.chars().any(|c| c.is_control() && c != '\n'), "no raw control characters: {report:?}");
    for hidden in ['\u{202e}', '\u{2066}', '\u{200b}'] {
        assert!(!report.contains(hidden), "{hidden:?} is escaped: {report:?}");
    }
    let signature_lines: Vec<&str> = report.lines().filter(|l| l.starts_with("signature:")).collect();
    assert_eq!(signature_lines, ["signature: INVALID"], "{report}");
    assert_eq!(report.lines().last(), Some("invalid"), "{report}");
    assert!(
        report.contains("\\u{202e}") || report.contains("\\u202e") || report.contains("u{202e}"),
        "{report}"
    );
}
