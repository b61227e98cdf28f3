//! `X-Twilio-Signature`: checked before anything else, over the URL Twilio called (the
//! public URL behind a proxy, never the request's own Host) and every parameter, with the
//! server's Auth Token. Anything else is 403 `bad_signature`, whoever the event names.

use std::{io::Write, path::Path, process::Stdio};

use serde_json::{json, Value};

use super::{
    app, app_with, deleted_account, form_body, hook_url, message_from, params, send, send_raw,
    send_signed_for, twilio_signature, unproven_account, Answer, Outcome, Params, AUTH_TOKEN, OTHER_TOKEN,
    PATH,
};
use crate::common::{self, TestApp};

/// twilio-python (the oracle venv's, `make oracles`; or `CHATPASS_ORACLE_PYTHON`) run on
/// `cases`: for each, `RequestValidator(token).compute_signature(url, params)` and whether
/// `.validate(url, params, ours)` holds. Repeated names go in as a MultiDict, as Flask's.
fn python_signatures(cases: &Value) -> Value {
    const SCRIPT: &str = r#"
import json, sys
from twilio.request_validator import RequestValidator

class MultiDict(dict):
    """Flask's MultiDict, as far as RequestValidator uses it."""
    def __init__(self, pairs):
        super().__init__()
        self.pairs = pairs
        for name, value in pairs:
            self.setdefault(name, value)
    def getall(self, name):
        return [v for n, v in self.pairs if n == name]

out = []
for case in json.load(sys.stdin):
    validator = RequestValidator(case["token"])
    params = MultiDict([tuple(p) for p in case["params"]])
    out.append({
        "signature": validator.compute_signature(case["url"], params),
        "valid": validator.validate(case["url"], params, case["ours"]),
    })
json.dump(out, sys.stdout)
"#;
    let python = std::env::var_os("CHATPASS_ORACLE_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/oracle-venv/bin/python"));
    let mut child = std::process::Command::new(&python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; run `make oracles` first", python.display()));
    child.stdin.take().unwrap().write_all(cases.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "twilio-python failed (run `make oracles`): {stderr}");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"))
}

#[test]
fn the_tests_signature_is_twilio_pythons() {
    let long = "x ".repeat(5000);
    // (the token, the URL, the parameters)
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case<'_>> = vec![
        // Twilio's documented example (its "webhooks security" page).
        (
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            vec![
                ("CallSid", "CA1234567890ABCDE"),
                ("Caller", "+12349013030"),
                ("Digits", "1234"),
                ("From", "+12349013030"),
                ("To", "+18005551212"),
            ],
        ),
        (AUTH_TOKEN, "http://127.0.0.1:4000/twilio/conversations", vec![]),
        (
            AUTH_TOKEN,
            "https://chat.example.com/twilio/conversations?x=1",
            vec![
                ("EventType", "onMessageAdd"),
                ("ClientIdentity", "ann@example.com"),
                ("Author", "ann@example.com"),
                ("Body", "Grüße, 世界 🎉 & 100% = +"),
                ("Attributes", "{\"a\":[1,2]}"),
                ("Empty", ""),
            ],
        ),
        // Names sorted by code point (uppercase before lowercase, astral last), a name's
        // several values sorted, a pair sent twice counted once.
        (
            OTHER_TOKEN,
            "https://chat.example.com:443/twilio/conversations",
            vec![
                ("b", "2"),
                ("B", "1"),
                ("b", "1"),
                ("b", "1"),
                ("é", "x"),
                ("😀", "y"),
                ("z", ""),
                ("a", "zz"),
                ("a", "a"),
            ],
        ),
        (AUTH_TOKEN, "http://localhost:8080/hook?a=%20b&a=c", vec![("Body", long.as_str())]),
    ];
    let input: Vec<Value> = cases
        .iter()
        .map(|(token, url, pairs)| {
            let ours = twilio_signature(token, url, &params(pairs));
            json!({"token": token, "url": url, "params": pairs, "ours": ours})
        })
        .collect();
    let theirs = python_signatures(&Value::from(input.clone()));
    assert_eq!(theirs.as_array().map(Vec::len), Some(cases.len()));
    for (case, theirs) in input.iter().zip(theirs.as_array().unwrap()) {
        assert_eq!(case["ours"], theirs["signature"], "{case}");
        assert_eq!(theirs["valid"], true, "{case}");
    }
    assert_eq!(input[0]["ours"], "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "Twilio's documented value");
}

/// Ann's message, and the answer to it signed as Twilio signs it (which must be allowed).
async fn ann_and_her_message(app: &TestApp) -> Params {
    let ann = app.proven_user("ann@example.com").await;
    let params = message_from(&ann.email);
    assert_eq!(send(app, &params).await.outcome(), Outcome::Allowed, "the signed original");
    params
}

#[tokio::test]
async fn an_unsigned_request_is_refused_alike_for_everyone_before_the_database_is_asked() {
    let app = app().await;
    let _ann = app.proven_user("ann@example.com").await;
    deleted_account(&app, "carl@example.com").await;
    unproven_account(&app, "dora@example.com").await;
    let identities = ["ann@example.com", "carl@example.com", "dora@example.com", "nobody@example.com"];
    let mut answers: Vec<(u16, Vec<u8>)> = Vec::new();
    for identity in identities {
        for signatures in [&[][..], &[""][..], &["not base64!"][..]] {
            let answer = send_raw(&app, PATH, form_body(&message_from(identity)), signatures).await;
            assert_eq!(answer.outcome(), Outcome::BadSignature, "{identity} {signatures:?}");
            answers.push((answer.status, answer.body));
        }
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "one answer for every identity: {answers:?}");

    // With the database gone, a signed request cannot be judged (503: Twilio's failure
    // policy applies), and an unsigned one is refused all the same: it never reached it.
    app.pool.close().await;
    let signed = send(&app, &message_from("ann@example.com")).await;
    assert_eq!(signed.status, 503, "{}", signed.text());
    for identity in identities {
        let unsigned = send_raw(&app, PATH, form_body(&message_from(identity)), &[]).await;
        assert_eq!(unsigned.outcome(), Outcome::BadSignature, "{identity}");
    }
}

#[tokio::test]
async fn a_signature_over_another_url_or_with_another_token_is_refused() {
    let app = app().await;
    let params = ann_and_her_message(&app).await;
    let port = app.addr.port();
    let signed_for = |url: String| (url.clone(), twilio_signature(AUTH_TOKEN, &url, &params));
    let mut refused = vec![
        signed_for(format!("http://127.0.0.1:{port}/twilio/conversation")),
        signed_for(format!("http://127.0.0.1:{port}/twilio/conversations/")),
        signed_for(format!("http://127.0.0.1:{port}/twilio/Conversations")),
        signed_for(format!("http://127.0.0.1:{port}/twilio/conversations?x=1")),
        signed_for(format!("http://localhost:{port}/twilio/conversations")),
        signed_for(format!("http://[::1]:{port}/twilio/conversations")),
        signed_for(format!("https://127.0.0.1:{port}/twilio/conversations")),
        signed_for(format!("http://127.0.0.1:{}/twilio/conversations", port + 1)),
        signed_for("http://127.0.0.1:80/twilio/conversations".into()),
        signed_for(String::new()),
    ];
    refused.push(("another token".into(), twilio_signature(OTHER_TOKEN, &hook_url(&app), &params)));
    refused.push((
        "the token upper-cased".into(),
        twilio_signature(&AUTH_TOKEN.to_uppercase(), &hook_url(&app), &params),
    ));
    for (what, signature) in &refused {
        let answer = send_raw(&app, PATH, form_body(&params), &[signature]).await;
        assert_eq!(answer.outcome(), Outcome::BadSignature, "signed over {what}");
    }
    // Signed without the port (Twilio's servers have signed so behind some front ends):
    // accepted, as twilio-python's and twilio-node's validators accept it.
    for url in ["http://127.0.0.1/twilio/conversations"] {
        let (_, signature) = signed_for(url.into());
        let answer = send_raw(&app, PATH, form_body(&params), &[&signature]).await;
        assert_eq!(answer.outcome(), Outcome::Allowed, "signed over {url}");
    }
    // The query is part of the URL signed: both ways.
    let with_query = format!("{}?x=1", hook_url(&app));
    assert_eq!(
        send_signed_for(&app, "/twilio/conversations?x=1", &with_query, &params).await.outcome(),
        Outcome::Allowed
    );
    for (sent, signed) in [("?x=1", "?x=2"), ("?x=1", ""), ("", "?x=1"), ("?x=1&y=2", "?y=2&x=1")] {
        let signed = format!("{}{signed}", hook_url(&app));
        let answer = send_signed_for(&app, &format!("{PATH}{sent}"), &signed, &params).await;
        assert_eq!(answer.outcome(), Outcome::BadSignature, "sent {sent:?}, signed over {signed}");
    }
}

/// `params` with the `at`th byte of the `pair`th name (`in_name`) or value changed.
fn with_byte_changed(params: &Params, pair: usize, in_name: bool) -> Params {
    let mut changed = params.clone();
    let part = if in_name { &mut changed[pair].0 } else { &mut changed[pair].1 };
    if part.is_empty() {
        part.push(b'x');
    } else {
        let at = part.len() / 2;
        part[at] = if part[at] == b'A' { b'B' } else { b'A' };
    }
    changed
}

#[tokio::test]
async fn one_byte_changed_in_any_name_value_or_signature_is_refused() {
    let app = app().await;
    let params = ann_and_her_message(&app).await;
    let signature = twilio_signature(AUTH_TOKEN, &hook_url(&app), &params);
    for pair in 0..params.len() {
        for in_name in [true, false] {
            let changed = with_byte_changed(&params, pair, in_name);
            let answer = send_raw(&app, PATH, form_body(&changed), &[&signature]).await;
            let name = String::from_utf8_lossy(&params[pair].0);
            assert_eq!(
                answer.outcome(),
                Outcome::BadSignature,
                "{name}'s {}",
                if in_name { "name" } else { "value" }
            );
        }
    }
    // A parameter left out, or one added.
    let fewer: Params = params[1..].to_vec();
    assert_eq!(send_raw(&app, PATH, form_body(&fewer), &[&signature]).await.outcome(), Outcome::BadSignature);
    let mut more = params.clone();
    more.push((b"Extra".to_vec(), b"1".to_vec()));
    assert_eq!(send_raw(&app, PATH, form_body(&more), &[&signature]).await.outcome(), Outcome::BadSignature);
    // Each position of the signature.
    for at in 0..signature.len() {
        let mut bytes = signature.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        let answer = send_raw(&app, PATH, form_body(&params), &[&changed]).await;
        assert_eq!(answer.outcome(), Outcome::BadSignature, "signature byte {at}: {changed}");
    }
    // Cut short, or with a byte more.
    for changed in [&signature[..signature.len() - 1], &signature[..20], &format!("{signature}A")] {
        assert_eq!(
            send_raw(&app, PATH, form_body(&params), &[changed]).await.outcome(),
            Outcome::BadSignature
        );
    }
    // And the original still goes through.
    assert_eq!(send_raw(&app, PATH, form_body(&params), &[&signature]).await.outcome(), Outcome::Allowed);
}

#[tokio::test]
async fn the_body_may_come_in_any_order() {
    let app = app().await;
    let params = ann_and_her_message(&app).await;
    let signature = twilio_signature(AUTH_TOKEN, &hook_url(&app), &params);
    let mut reversed = params.clone();
    reversed.reverse();
    let mut rotated = params.clone();
    rotated.rotate_left(3);
    for (what, order) in [("reversed", reversed), ("rotated", rotated)] {
        let answer = send_raw(&app, PATH, form_body(&order), &[&signature]).await;
        assert_eq!(answer.outcome(), Outcome::Allowed, "{what}");
    }
    // Encoded otherwise (`%20` for a space, lowercase hex, unreserved bytes escaped): the
    // same parameters, the same signature.
    let body = String::from_utf8(form_body(&params))
        .unwrap()
        .replace('+', "%20")
        .replace("%7B", "%7b")
        .replace("%7D", "%7d")
        .replace('a', "%61");
    assert_eq!(send_raw(&app, PATH, body.into_bytes(), &[&signature]).await.outcome(), Outcome::Allowed);
}

#[tokio::test]
async fn two_signature_headers_are_refused_even_when_both_are_right() {
    let app = app().await;
    let params = ann_and_her_message(&app).await;
    let right = twilio_signature(AUTH_TOKEN, &hook_url(&app), &params);
    let wrong = twilio_signature(OTHER_TOKEN, &hook_url(&app), &params);
    for pair in [[&right, &right], [&right, &wrong], [&wrong, &right]] {
        let answer = send_raw(&app, PATH, form_body(&params), &[pair[0].as_str(), pair[1].as_str()]).await;
        assert_eq!(answer.outcome(), Outcome::BadSignature, "{pair:?}");
    }
    // Both in one header, comma-separated, as a proxy might merge them.
    let merged = format!("{right}, {right}");
    assert_eq!(send_raw(&app, PATH, form_body(&params), &[&merged]).await.outcome(), Outcome::BadSignature);
}

/// A proven account made behind the server's back (sign-up needs the public origin here).
async fn proven_in_db(app: &TestApp, email: &str) {
    let email = chatpass::domain::Email::parse(email).unwrap();
    chatpass::db::users::create(
        &app.pool,
        &email,
        chatpass::db::users::NO_PASSWORD,
        Some(1_700_000_000),
        None,
    )
    .await
    .expect("created");
}

#[tokio::test]
async fn behind_a_proxy_the_public_url_is_the_url_signed() {
    let app = app_with(&[("CHATPASS_PUBLIC_URL", "https://chat.example.com")]).await;
    proven_in_db(&app, "ann@example.com").await;
    let params = message_from("ann@example.com");
    let path = "/twilio/conversations?x=1";
    let port = app.addr.port();
    for url in [
        "https://chat.example.com/twilio/conversations?x=1",
        "https://chat.example.com:443/twilio/conversations?x=1",
    ] {
        let answer = send_signed_for(&app, path, url, &params).await;
        assert_eq!(answer.outcome(), Outcome::Allowed, "signed over {url}: {answer:?}");
    }
    for url in [
        format!("http://127.0.0.1:{port}/twilio/conversations?x=1"),
        "http://chat.example.com/twilio/conversations?x=1".into(),
        "https://chat.example.com:8443/twilio/conversations?x=1".into(),
        "https://chat.example.com/twilio/conversations".into(),
        "https://other.example.com/twilio/conversations?x=1".into(),
    ] {
        let answer = send_signed_for(&app, path, &url, &params).await;
        assert_eq!(answer.outcome(), Outcome::BadSignature, "signed over {url}");
    }
    // The Host a request names is not the URL: whoever sends it chooses it.
    let forged = |host: &str| {
        let signature = twilio_signature(AUTH_TOKEN, &format!("https://{host}{path}"), &params);
        common::client()
            .post(app.url(path))
            .header(reqwest::header::HOST, host)
            .header("x-forwarded-host", host)
            .header("x-forwarded-proto", "https")
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(form_body(&params))
            .send()
    };
    let answer = forged("evil.example.com").await.unwrap();
    assert_eq!(answer.status(), 403);
    assert_eq!(
        answer.json::<chatpass::error::AppError>().await.unwrap(),
        chatpass::error::AppError::BadSignature
    );
    // Sent with the public name as Host, it is the public URL's signature that counts.
    assert_eq!(forged("chat.example.com").await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_refusal_for_a_bad_signature_says_only_that() {
    let app = app().await;
    let params = ann_and_her_message(&app).await;
    let answer: Answer = send_raw(&app, PATH, form_body(&params), &["AAAA"]).await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.error(), chatpass::error::AppError::BadSignature);
    let body: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body, json!({"error": "bad_signature"}));
}
