//! `chatpass twilio sync [--dry-run]`, the real binary, against a database (the suite's
//! backend) whose accounts were made through the app, and the Twilio stand-in seeded with drift: a User missing, one
//! with a stale name, one of a deleted account, one in step.

use std::{collections::BTreeMap, process::Stdio, time::Duration};

use serde_json::json;
use tempfile::TempDir;

use crate::common::{
    self,
    fixtures::{ACCOUNT_SID, API_KEY, GOOD, SERVICE_SID},
    twilio::{self, QueuedCall, Recorded, TwilioStandIn},
    TestApp,
};

const BIN: &str = env!("CARGO_BIN_EXE_chatpass");
const SECRET: &str = "sync-cli-api-secret-5b2e9c";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    fn assert_no_secret(&self) {
        assert!(
            !self.stdout.contains(SECRET) && !self.stderr.contains(SECRET),
            "{}{}",
            self.stdout,
            self.stderr
        );
    }
}

/// Runs the binary with `args` and only `env` (in a fresh directory: no `.env` is read),
/// for at most a minute.
async fn chatpass(args: &[&str], env: &[(&str, &str)]) -> Run {
    let cwd = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(BIN);
    command.args(args).current_dir(cwd.path()).env_clear().stdin(Stdio::null()).kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("chatpass twilio sync ends within a minute")
        .expect("chatpass runs");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    run.assert_no_secret();
    run
}

/// A database of its own on the suite's backend (on SQLite, a file in its own directory).
struct Database {
    _dir: TempDir,
    url: String,
}

impl Database {
    async fn new() -> Database {
        let (url, dir) = common::database_of_its_own().await;
        Database { _dir: dir, url }
    }

    /// The app on this database (demo mode: nothing reaches the stand-in).
    async fn app(&self) -> TestApp {
        TestApp::builder().env("DATABASE_URL", &self.url).spawn().await
    }
}

/// `chatpass twilio sync` with `extra` args on `db`, live, against `standin`.
async fn sync(db: &Database, standin: &TwilioStandIn, extra: &[&str]) -> Run {
    let mut args = vec!["twilio", "sync"];
    args.extend_from_slice(extra);
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ("TWILIO_API_KEY", API_KEY),
        ("TWILIO_API_SECRET", SECRET),
        ("TWILIO_CHAT_SERVICE_SID", SERVICE_SID),
        ("CHATPASS_TWILIO_API_URL", standin.url()),
    ];
    chatpass(&args, &env).await
}

/// The stand-in's Users of the service: identity to name.
async fn store(standin: &TwilioStandIn) -> BTreeMap<String, Option<String>> {
    standin.users(SERVICE_SID).await.into_iter().map(|u| (u.identity, u.friendly_name)).collect()
}

fn expected(pairs: &[(&str, &str)]) -> BTreeMap<String, Option<String>> {
    pairs.iter().map(|(i, n)| (i.to_string(), Some(n.to_string()))).collect()
}

/// A request that changes the store: its method, raw path and form.
type Change = (String, String, Vec<(String, String)>);

/// The requests that are not reads.
fn changes(requests: &[Recorded]) -> Vec<Change> {
    requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.method.clone(), r.raw_path.clone(), r.form.clone()))
        .collect()
}

/// The story's accounts, made through the app, in this order: Bob (proven; Twilio has no
/// User of his), Ann (proven, renamed herself "Ann Smith"; her User has her old name), Cat
/// (proven, in step), Dan (signed up, never proven: no User is due), Eve (proven, then
/// deleted herself: her User is left over). And the stand-in with those Users.
async fn drifted() -> (Database, TwilioStandIn) {
    let db = Database::new().await;
    let app = db.app().await;
    app.proven_user("bob@example.com").await;
    let ann = app.proven_user("ann@example.com").await;
    let renamed =
        app.post_form_with(&ann.client, "/api/set_display_name", &[("display_name", "Ann Smith")]).await;
    assert_eq!(renamed.status(), 200, "{}", renamed.text().await.unwrap_or_default());
    app.proven_user("cat@example.com").await;
    app.signup_link("dan@example.com").await;
    let eve = app.proven_user("eve@example.com").await;
    let deleted = app.post_form_with(&eve.client, "/api/delete_account", &[("password", GOOD)]).await;
    assert_eq!(deleted.status(), 200);
    // Demo mode: each queued call is skipped, not left queued.
    let finished = |rows: &[QueuedCall]| rows.iter().all(QueuedCall::finished);
    twilio::wait_for_calls(&app.pool, "the queue skipped through", Duration::from_secs(20), finished).await;
    app.stop().await;
    let standin = TwilioStandIn::start().await;
    for (identity, name) in
        [("ann@example.com", "ann"), ("cat@example.com", "cat"), ("eve@example.com", "eve")]
    {
        standin.seed_user(SERVICE_SID, identity, name).await;
    }
    (db, standin)
}

const PLAN: [&str; 3] = [
    r#"create "bob@example.com" named "bob""#,
    r#"rename "ann@example.com" to "Ann Smith""#,
    r#"delete "eve@example.com""#,
];

#[tokio::test]
async fn a_dry_run_prints_the_plan_and_changes_nothing() {
    let (db, standin) = drifted().await;
    let before = store(&standin).await;
    let run = sync(&db, &standin, &["--dry-run"]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let mut wanted: Vec<String> = PLAN.iter().map(|change| format!("would {change}")).collect();
    wanted.push("3 changes planned; nothing changed (--dry-run)".into());
    assert_eq!(run.stdout_lines(), wanted);
    assert_eq!(run.stderr, "");
    let requests = standin.requests().await;
    assert!(!requests.is_empty() && requests.iter().all(|r| r.method == "GET"), "{requests:?}");
    assert_eq!(store(&standin).await, before);
}

#[tokio::test]
async fn calls_still_queued_are_counted_beside_the_plan() {
    let db = Database::new().await;
    let standin = TwilioStandIn::start_with(json!({"credentials": [[API_KEY, SECRET]]})).await;
    // Twilio turned the create away for an hour: it waits in the queue.
    let error = json!({"code": 20503, "message": "Service Unavailable", "status": 503});
    let down = json!({"method": "POST", "status": 503, "body": error, "headers": {"Retry-After": "3600"}});
    standin.script(down).await;
    let app = TestApp::builder()
        .env("DATABASE_URL", &db.url)
        .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        .env("TWILIO_API_KEY", API_KEY)
        .env("TWILIO_API_SECRET", SECRET)
        .env("TWILIO_CHAT_SERVICE_SID", SERVICE_SID)
        .env("CHATPASS_TWILIO_API_URL", standin.url())
        .spawn()
        .await;
    app.proven_user("bob@example.com").await;
    let waiting = |rows: &[QueuedCall]| rows.len() == 1 && rows[0].attempts == 1 && !rows[0].finished();
    twilio::wait_for_calls(&app.pool, "the create turned away", Duration::from_secs(20), waiting).await;
    app.stop().await;

    let run = sync(&db, &standin, &["--dry-run"]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout_lines(),
        [r#"would create "bob@example.com" named "bob""#, "1 changes planned; nothing changed (--dry-run)"]
    );
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>(),
        ["twilio sync: 1 call(s) still queued; a running chatpass makes them, and this plan may include what they change"]
    );
}

#[tokio::test]
async fn a_sync_makes_exactly_the_plan_and_a_second_one_finds_nothing_to_do() {
    let (db, standin) = drifted().await;
    let run = sync(&db, &standin, &[]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let mut wanted: Vec<&str> = PLAN.to_vec();
    wanted.push("created 1, renamed 1, deleted 1, failed 0");
    assert_eq!(run.stdout_lines(), wanted);
    assert_eq!(
        store(&standin).await,
        expected(&[("ann@example.com", "Ann Smith"), ("bob@example.com", "bob"), ("cat@example.com", "cat")])
    );
    let users = format!("/v1/Services/{SERVICE_SID}/Users");
    let pairs =
        |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    assert_eq!(
        changes(&standin.requests().await),
        [
            (
                "POST".into(),
                users.clone(),
                pairs(&[("Identity", "bob@example.com"), ("FriendlyName", "bob")])
            ),
            ("POST".into(), format!("{users}/ann%40example.com"), pairs(&[("FriendlyName", "Ann Smith")])),
            ("DELETE".into(), format!("{users}/eve%40example.com"), vec![]),
        ]
    );
    // In step now: the second run reads, and changes nothing.
    let made = standin.requests().await.len();
    let again = sync(&db, &standin, &[]).await;
    assert_eq!(again.code, Some(0), "{}{}", again.stdout, again.stderr);
    assert_eq!(again.stdout_lines(), ["created 0, renamed 0, deleted 0, failed 0"]);
    let requests = standin.requests().await;
    assert!(requests[made..].iter().all(|r| r.method == "GET"), "{:?}", &requests[made..]);
    let dry = sync(&db, &standin, &["--dry-run"]).await;
    assert_eq!(dry.stdout_lines(), ["0 changes planned; nothing changed (--dry-run)"]);
}

#[tokio::test]
async fn thousands_of_users_are_read_page_by_page_with_a_progress_line() {
    const N: usize = 2500;
    let db = Database::new().await;
    let app = db.app().await;
    let mut tx = app.pool.begin().await.unwrap();
    for i in 0..N {
        let email = chatpass::domain::Email::parse(&format!("user{i:04}@example.com")).unwrap();
        let proven = Some(1_700_000_000);
        chatpass::db::users::insert(&mut tx, &email, chatpass::db::users::NO_PASSWORD, proven, None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    app.stop().await;
    let standin = TwilioStandIn::start().await;
    // 2,500 Users (three pages of at most 1,000): all in step but the last page's drift,
    // user2400 under an old name, user2499's missing, and a User of nobody's.
    let mut users: Vec<(String, String)> = (0..N - 1)
        .map(|i| {
            let name = if i == 2400 { "Old Name".to_string() } else { format!("user{i:04}") };
            (format!("user{i:04}@example.com"), name)
        })
        .collect();
    users.push(("ghost@example.com".into(), "ghost".into()));
    standin.seed_users(SERVICE_SID, &users).await;
    // Twilio busy for a second at the first page: the run takes long enough to report.
    let list = format!("/v1/Services/{SERVICE_SID}/Users");
    standin
        .script(json!({
            "method": "GET", "path_prefix": list, "status": 503, "headers": {"Retry-After": "1"},
            "body": {"code": 20503, "message": "Service Unavailable", "status": 503},
        }))
        .await;

    let run = sync(&db, &standin, &[]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout_lines(),
        [
            r#"rename "user2400@example.com" to "user2400""#,
            r#"create "user2499@example.com" named "user2499""#,
            r#"delete "ghost@example.com""#,
            "created 1, renamed 1, deleted 1, failed 0",
        ]
    );
    let progress: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(progress.first(), Some(&"twilio sync: 1000 Users read from Twilio"), "{}", run.stderr);
    assert!(progress.iter().all(|l| l.starts_with("twilio sync: ")), "{}", run.stderr);
    let reads: Vec<(u16, bool)> = standin
        .requests()
        .await
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| (r.answered, r.query.contains("PageToken=")))
        .collect();
    assert_eq!(reads, [(503, false), (200, false), (200, true), (200, true)], "retried, then three pages");
    let wanted: BTreeMap<String, Option<String>> =
        (0..N).map(|i| (format!("user{i:04}@example.com"), Some(format!("user{i:04}")))).collect();
    assert_eq!(store(&standin).await, wanted);
}

#[tokio::test]
async fn a_refused_change_is_reported_the_others_are_made_and_the_exit_is_1() {
    let (db, standin) = drifted().await;
    standin
        .script(json!({
            "method": "POST", "path_prefix": format!("/v1/Services/{SERVICE_SID}/Users"), "status": 400,
            "body": {"code": 20001, "message": "Invalid FriendlyName", "more_info": "https://www.twilio.com/docs/errors/20001", "status": 400},
        }))
        .await;
    let run = sync(&db, &standin, &[]).await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let lines = run.stdout_lines();
    assert_eq!(lines[..3], PLAN);
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    assert!(lines[3].starts_with(r#"failed: create "bob@example.com" named "bob": 400"#), "{}", lines[3]);
    assert!(lines[3].contains("20001") && lines[3].contains("Invalid FriendlyName"), "{}", lines[3]);
    assert_eq!(lines[4], "created 0, renamed 1, deleted 1, failed 1");
    assert_eq!(
        store(&standin).await,
        expected(&[("ann@example.com", "Ann Smith"), ("cat@example.com", "cat")])
    );
    // Refused is final: asked once, not retried.
    let creates =
        standin.requests().await.into_iter().filter(|r| r.method == "POST" && !r.raw_path.contains("Users/"));
    assert_eq!(creates.count(), 1);
}

#[tokio::test]
async fn refused_credentials_stop_the_run_before_any_change() {
    let (db, _) = drifted().await;
    let standin = TwilioStandIn::start_with(json!({"credentials": [[API_KEY, "the-real-secret"]]})).await;
    let run = sync(&db, &standin, &[]).await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].starts_with("chatpass: error: cannot list the service's Users: 401"), "{}", lines[0]);
    assert!(standin.requests().await.iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn demo_mode_and_an_api_url_that_is_not_https_stop_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/chatpass.db", dir.path().display());
    let demo = chatpass(&["twilio", "sync"], &[("DATABASE_URL", &url)]).await;
    assert_eq!(demo.code, Some(1), "{}", demo.stderr);
    assert_eq!(demo.stdout, "");
    let lines: Vec<&str> = demo.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", demo.stderr);
    for var in ["TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_CHAT_SERVICE_SID"] {
        assert!(lines[0].contains(var), "{}", lines[0]);
    }
    for bad in ["http://example.com", "https://conversations.twilio.com/v1", "ftp://127.0.0.1"] {
        let env = [
            ("DATABASE_URL", url.as_str()),
            ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ("TWILIO_API_KEY", API_KEY),
            ("TWILIO_API_SECRET", SECRET),
            ("TWILIO_CHAT_SERVICE_SID", SERVICE_SID),
            ("CHATPASS_TWILIO_API_URL", bad),
        ];
        for args in [&["twilio", "sync"][..], &["twilio", "sync", "--dry-run"][..]] {
            let run = chatpass(args, &env).await;
            assert_eq!(run.code, Some(1), "{bad}: {}", run.stderr);
            let lines: Vec<&str> = run.stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{bad}: {}", run.stderr);
            assert!(
                lines[0].starts_with("chatpass: error: ") && lines[0].contains("CHATPASS_TWILIO_API_URL"),
                "{}",
                lines[0]
            );
        }
    }
    // Nothing was opened, so nothing was made.
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "no database file");
}
