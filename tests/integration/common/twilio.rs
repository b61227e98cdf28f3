//! Twilio's REST API, faked: `tests/twilio/standin.py` (Python standard library only) on a
//! free loopback port emulates the Conversations Users API of any service
//! (`/v1/Services/{IS}/Users…`), records every request and answers from scripts when told
//! to (a 500, a delay, a hang). Stopped when dropped (and it exits by itself when its stdin
//! closes, so it never outlives the test). `tests/twilio/README.md` lists its routes.
//!
//! [`python_oracle`] runs twilio-python (`tests/oracle/rest_oracle.py`, pinned in
//! `tests/oracle/requirements.txt`) against a stand-in: what the reference library sends
//! for the same call, to compare with what chatpass sends.

use std::{
    collections::BTreeMap,
    io::Write,
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, ChildStdin, Command},
};

/// One request the stand-in received (control routes aside), as it arrived.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// The path as sent, percent-encoding and all, without the query.
    pub raw_path: String,
    /// The query string as sent ("" without one).
    pub query: String,
    /// The path split on its raw `/`s, each piece percent-decoded once.
    pub path_segments: Vec<String>,
    /// Lowercased names; a repeated header's values joined with ", ".
    pub headers: BTreeMap<String, String>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
    /// The form-encoded body's pairs, decoded, in order (empty for other content types).
    pub form: Vec<(String, String)>,
    /// The `Authorization: Basic` pair, if the request had a well-formed one.
    pub basic_auth: Option<(String, String)>,
    /// The status it was answered with (or will be, after a scripted delay); 0 for a
    /// scripted hang, which is never answered.
    pub answered: u16,
}

impl Recorded {
    /// A header's value (`name` in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// A user in the stand-in's store (the fields of Twilio's Service User resource that tests
/// look at).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct StoredUser {
    pub sid: String,
    pub identity: String,
    pub friendly_name: Option<String>,
    pub attributes: String,
    pub role_sid: String,
}

/// A running `tests/twilio/standin.py`.
pub struct TwilioStandIn {
    url: String,
    child: Child,
    stdin: Option<ChildStdin>,
    http: reqwest::Client,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl TwilioStandIn {
    /// A stand-in that lets in any Basic credentials (still recorded).
    pub async fn start() -> TwilioStandIn {
        Self::start_with(json!({})).await
    }

    /// A stand-in with `config` (`standin.py`'s CONFIG: `credentials`, `account_sid`,
    /// `verbose`), started and waited for (its ready line, 30 s at most).
    pub async fn start_with(config: Value) -> TwilioStandIn {
        let script = root().join("tests/twilio/standin.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Quiet unless something breaks (a traceback belongs in the test's output).
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 {}: {e}", script.display()));
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let read = tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line)).await;
        let ready: Option<Value> = match read {
            Ok(Ok(_)) => serde_json::from_str(&line).ok(),
            _ => None,
        };
        let Some(url) = ready.as_ref().and_then(|r| r["url"].as_str()).map(str::to_string) else {
            let _ = child.start_kill();
            panic!("the Twilio stand-in did not start (first line {line:?}); its stderr is above");
        };
        // It prints nothing else on stdout; keep reading so it could never block on it.
        tokio::spawn(async move {
            let mut rest = String::new();
            while matches!(stdout.read_line(&mut rest).await, Ok(n) if n > 0) {
                rest.clear();
            }
        });
        let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
        TwilioStandIn { url, child, stdin, http }
    }

    /// `http://127.0.0.1:PORT`: what chatpass (or twilio-python) uses as Twilio's origin.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request so far (control routes aside), in arrival order.
    pub async fn requests(&self) -> Vec<Recorded> {
        let answer = self.control(self.http.get(format!("{}/_standin/requests", self.url))).await;
        serde_json::from_value(answer).expect("the stand-in's records")
    }

    /// Forgets the records, the users and the scripts.
    pub async fn reset(&self) {
        self.control(self.http.post(format!("{}/_standin/reset", self.url))).await;
    }

    /// The users of `service` in the store, in creation order.
    pub async fn users(&self, service: &str) -> Vec<StoredUser> {
        let request = self.http.get(format!("{}/_standin/users", self.url)).query(&[("service", service)]);
        serde_json::from_value(self.control(request).await).expect("the stand-in's users")
    }

    /// Puts a user in the store, as if created earlier (not recorded).
    pub async fn seed_user(&self, service: &str, identity: &str, friendly_name: &str) -> StoredUser {
        let request = self.http.post(format!("{}/_standin/users", self.url)).json(&json!({
            "service": service, "identity": identity, "friendly_name": friendly_name,
        }));
        serde_json::from_value(self.control(request).await).expect("the seeded user")
    }

    /// Puts many `(identity, friendly name)` users of `service` in the store at once.
    pub async fn seed_users(&self, service: &str, users: &[(String, String)]) {
        let batch: Vec<Value> = users
            .iter()
            .map(|(identity, name)| json!({"service": service, "identity": identity, "friendly_name": name}))
            .collect();
        self.control(self.http.post(format!("{}/_standin/users", self.url)).json(&batch)).await;
    }

    /// Appends scripted answers (an array of `{"method", "path_prefix", "status", "body",
    /// "headers", "delay_ms", "hang", "times"}`, or one such object). A request matching
    /// the first entry not used up is answered by it instead of the emulation.
    pub async fn script(&self, answers: Value) {
        self.control(self.http.post(format!("{}/_standin/script", self.url)).json(&answers)).await;
    }

    /// Waits until `f` holds for the records (polled every 25 ms) and returns them; panics
    /// with `what` and the records seen when `deadline` passes first.
    pub async fn wait_for(
        &self,
        what: &str,
        deadline: Duration,
        f: impl Fn(&[Recorded]) -> bool,
    ) -> Vec<Recorded> {
        let until = Instant::now() + deadline;
        loop {
            let seen = self.requests().await;
            if f(&seen) {
                return seen;
            }
            if Instant::now() >= until {
                let lines: Vec<String> = seen
                    .iter()
                    .map(|r| {
                        format!("  {} {}?{} -> {} {:?}", r.method, r.raw_path, r.query, r.answered, r.form)
                    })
                    .collect();
                panic!(
                    "waited {deadline:?} for {what}; the stand-in saw {} request(s):\n{}",
                    seen.len(),
                    lines.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn control(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.send().await.expect("the Twilio stand-in answers");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{status} from the stand-in's control route: {body}");
        serde_json::from_str(&body).expect("JSON from a control route")
    }
}

impl Drop for TwilioStandIn {
    fn drop(&mut self) {
        // Closing stdin ends it; the kill is for one that is stuck.
        drop(self.stdin.take());
        let _ = self.child.start_kill();
        let _ = self.child.try_wait();
    }
}

/// Runs twilio-python's calls (`tests/oracle/rest_oracle.py`: `input` is its stdin JSON,
/// `{"base_url", "account_sid", "api_key", "api_secret", "service_sid", "ops": [...]}`) and
/// returns its results, one per op. Blocks until the calls are done.
pub fn python_oracle(input: &Value) -> Value {
    super::oracle::run_json(super::oracle::python_script("rest_oracle.py"), input)
}

// ---------------------------------------------------------------------------------------
// The queue's side, for `each_database/twilio_users` (and anyone): the `twilio_calls`
// rows typed, a wait on them, a nameless seed, and twilio-python's webhook signature.
// ---------------------------------------------------------------------------------------

/// One row of `twilio_calls` (`src/db/twilio_calls.rs`), as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct QueuedCall {
    pub user_id: i64,
    /// `create`, `rename`, `delete` or `change_email`.
    pub call: String,
    pub email: String,
    pub chat_id: String,
    pub friendly_name: String,
    pub old_email: Option<String>,
    pub attempts: i32,
    pub claimed_until: Option<i64>,
    pub done_at: Option<i64>,
    pub failed_at: Option<i64>,
    /// `created`, `renamed`, `deleted`, `absent`, `unchanged`, `skipped` or `given_up`.
    pub outcome: Option<String>,
    pub last_error: Option<String>,
}

impl QueuedCall {
    /// Done or given up: never tried again.
    pub fn finished(&self) -> bool {
        self.done_at.is_some() || self.failed_at.is_some()
    }

    /// Whether a finished row still holds anything that names the account.
    pub fn names_someone(&self) -> bool {
        !self.email.is_empty()
            || !self.chat_id.is_empty()
            || !self.friendly_name.is_empty()
            || self.old_email.is_some()
    }
}

/// Every row of `twilio_calls`, oldest first.
pub async fn queued_calls(pool: &chatpass::db::Pool) -> Vec<QueuedCall> {
    const SELECT: &str = "SELECT user_id, call, email, chat_id, friendly_name, old_email, attempts, \
                          claimed_until, done_at, failed_at, outcome, last_error FROM twilio_calls ORDER BY id";
    match pool {
        chatpass::db::Pool::Sqlite(p) => sqlx::query_as(SELECT).fetch_all(p).await.expect("twilio_calls"),
        chatpass::db::Pool::Postgres(p) => sqlx::query_as(SELECT).fetch_all(p).await.expect("twilio_calls"),
    }
}

/// Waits until `f` holds for the rows of `twilio_calls` (polled every 25 ms) and returns
/// them; panics with `what` and the rows seen when `deadline` passes first.
pub async fn wait_for_calls(
    pool: &chatpass::db::Pool,
    what: &str,
    deadline: Duration,
    f: impl Fn(&[QueuedCall]) -> bool,
) -> Vec<QueuedCall> {
    let until = Instant::now() + deadline;
    loop {
        let rows = queued_calls(pool).await;
        if f(&rows) {
            return rows;
        }
        assert!(Instant::now() < until, "waited {deadline:?} for {what}; twilio_calls holds:\n{rows:#?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

impl TwilioStandIn {
    /// Puts a user without a friendly name in the store: what the Conversations SDK makes
    /// when an identity first connects before anyone created its User.
    pub async fn seed_nameless_user(&self, service: &str, identity: &str) -> StoredUser {
        let request = self.http.post(format!("{}/_standin/users", self.url)).json(&json!({
            "service": service, "identity": identity, "friendly_name": null,
        }));
        serde_json::from_value(self.control(request).await).expect("the seeded user")
    }
}

/// `X-Twilio-Signature` for a webhook to `url` with the form `params`, as twilio-python's
/// `RequestValidator(auth_token).compute_signature(url, params)` computes it (the oracle
/// venv's, see [`python_oracle`]): Twilio's own signature, not a copy of chatpass's.
pub fn twilio_python_signature(auth_token: &str, url: &str, params: &[(&str, &str)]) -> String {
    // A repeated name's values as Django's QueryDict gives them (`getlist`), which
    // RequestValidator reads.
    const SIGN: &str = "import json, sys\n\
                        from twilio.request_validator import RequestValidator\n\
                        class Form(dict):\n    def getlist(self, name):\n        return self[name]\n\
                        spec = json.load(sys.stdin)\n\
                        params = Form()\n\
                        for name, value in spec['params']:\n    params.setdefault(name, []).append(value)\n\
                        print(RequestValidator(spec['token']).compute_signature(spec['url'], params))\n";
    let python = super::oracle::python();
    let mut child = std::process::Command::new(&python)
        .args(["-c", SIGN])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; run `make oracles` first", python.display()));
    let input = json!({"token": auth_token, "url": url, "params": params});
    child.stdin.take().expect("stdin").write_all(input.to_string().as_bytes()).expect("the signer's stdin");
    let output = child.wait_with_output().expect("the signer ends");
    assert!(
        output.status.success(),
        "twilio-python's RequestValidator failed (run `make oracles`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("a base64 signature").trim().to_string()
}
