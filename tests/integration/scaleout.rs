//! Several chatpass processes sharing one PostgreSQL, as behind a load balancer: users
//! and sessions are shared, sign-ups stay unique, mail from one outbox goes once, and a
//! database outage is a 503 the app recovers from without a restart.
//!
//! These always use PostgreSQL (`make test` provides it; see `tests/integration/common/postgres.rs`).

use crate::common;

use std::time::{Duration, Instant};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chatpass::{
    auth::{sessions_list::SessionInfo, UserInfo},
    db::{ACQUIRE_TIMEOUT, PING_TIMEOUT},
    token::IssuedChatToken,
};
use common::fixtures::{ACCOUNT_SID, API_KEY, GOOD, SERVICE_SID};
use common::{
    postgres::{self, Cluster},
    process::Instance,
};
use serde_json::Value;
use sqlx::{Connection, PgConnection};

/// Both instances are one site to the browser, as behind a load balancer.
const PUBLIC_URL: &str = "http://chat.test";
const SECRET: &str = "scale-out-test-secret";

/// An instance with sign-up signing in at once: these tests are about sessions and
/// outages across instances; mail across instances has its own test below.
fn instance(database_url: &str) -> Instance {
    Instance::start(&[
        ("CHATPASS_EMAIL_VERIFICATION", "off"),
        ("DATABASE_URL", database_url),
        ("CHATPASS_PUBLIC_URL", PUBLIC_URL),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ("TWILIO_API_KEY", API_KEY),
        ("TWILIO_API_SECRET", SECRET),
        ("TWILIO_CHAT_SERVICE_SID", SERVICE_SID),
    ])
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // Far above every documented bound: a request that takes this long is a hang.
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn post(
    client: &reqwest::Client,
    at: &Instance,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(at.url(path))
        .header("origin", PUBLIC_URL)
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .expect("request")
}

async fn signup(client: &reqwest::Client, at: &Instance, email: &str) -> reqwest::Response {
    post(client, at, "/api/signup", &[("email", email), ("password", GOOD)]).await
}

async fn whoami(client: &reqwest::Client, at: &Instance) -> Option<String> {
    let user: Option<UserInfo> = common::answer(post(client, at, "/api/current_user", &[]).await, 200).await;
    user.map(|user| user.email)
}

fn identity_in(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["grants"]["identity"].as_str().unwrap().to_string()
}

async fn users_in(database_url: &str) -> i64 {
    let mut db = PgConnection::connect(database_url).await.unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut db).await.unwrap()
}

#[tokio::test]
async fn a_session_made_on_one_instance_works_and_ends_on_the_other() {
    let database = postgres::fresh_database(&postgres::server_url()).await;
    let a = instance(&database);
    let b = instance(&database);
    assert_ne!(a.addr, b.addr);
    let client = browser();

    assert_eq!(signup(&client, &a, "  Ann@Example.com").await.status(), 200);
    assert_eq!(whoami(&client, &a).await.as_deref(), Some("ann@example.com"));

    // The same cookie on B: B knows the session and the user behind it.
    let body: IssuedChatToken = common::answer(post(&client, &b, "/api/chat_token", &[]).await, 200).await;
    assert_eq!(body.identity, "ann@example.com");
    assert_eq!(identity_in(&body.token), "ann@example.com");
    let token = body.token.as_str();
    let key = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes());
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).expect("B signs with the shared secret");

    // Log out on B: A refuses the cookie from then on.
    assert_eq!(post(&client, &b, "/api/logout", &[]).await.status(), 200);
    assert_eq!(whoami(&client, &a).await, None);
    assert_eq!(post(&client, &a, "/api/chat_token", &[]).await.status(), 401);
    let chat = client.get(a.url("/chat")).send().await.unwrap();
    assert_eq!(chat.status(), 302, "A sends the logged-out browser to log in");

    // And logging in on A works on B.
    let response = post(&client, &a, "/api/login", &[("email", "ann@example.com"), ("password", GOOD)]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(whoami(&client, &b).await.as_deref(), Some("ann@example.com"));
}

/// A request with exactly this session cookie (no cookie jar: a logout's Set-Cookie must
/// not stop the old cookie from being tried again).
async fn token_status(at: &Instance, cookie: &str) -> u16 {
    reqwest::Client::new()
        .post(at.url("/api/chat_token"))
        .header("origin", PUBLIC_URL)
        .header("accept", "application/json")
        .header("cookie", cookie)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// Each instance keeps a session it read for at most `CACHE_FOR` (1 s) in memory. A
/// logout and a password change take effect at once on the instance that made them, and
/// on the others within that bound, never later, however hard they are being asked.
#[tokio::test]
async fn a_logout_password_change_or_ended_session_on_one_instance_holds_on_the_other_within_the_cache_bound()
{
    let bound = chatpass::sessions::CACHE_FOR;
    let database = postgres::fresh_database(&postgres::server_url()).await;
    let a = instance(&database);
    let b = instance(&database);
    for ending in ["logout", "change_password", "end_session", "end_other_sessions"] {
        let client = browser();
        let email = format!("{ending}@example.com");
        let response = signup(&client, &a, &email).await;
        assert_eq!(response.status(), 200);
        let cookie =
            response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        // Both instances have just read (and keep) the session.
        assert_eq!(token_status(&a, &cookie).await, 200);
        assert_eq!(token_status(&b, &cookie).await, 200);

        // Ending from the list of signed-in browsers: another browser of the account asks, on B.
        let (asking, handle) = match ending {
            "end_session" | "end_other_sessions" => {
                let other = browser();
                let login = [("email", email.as_str()), ("password", GOOD)];
                assert_eq!(post(&other, &b, "/api/login", &login).await.status(), 200);
                let listed: Vec<SessionInfo> =
                    common::answer(post(&other, &b, "/api/sessions", &[]).await, 200).await;
                let theirs = listed.into_iter().find(|s| !s.current).unwrap();
                (Some(other), theirs.handle)
            }
            _ => (None, String::new()),
        };
        let form: &[(&str, &str)] = match ending {
            "logout" | "end_other_sessions" => &[],
            "end_session" => &[("handle", &handle)],
            _ => &[("current_password", GOOD), ("new_password", "an entirely new passphrase")],
        };
        let ended = match &asking {
            Some(other) => post(other, &b, &format!("/api/{ending}"), form).await,
            None => reqwest::Client::new()
                .post(b.url(&format!("/api/{ending}")))
                .header("origin", PUBLIC_URL)
                .header("accept", "application/json")
                .header("cookie", &cookie)
                .form(form)
                .send()
                .await
                .unwrap(),
        };
        assert_eq!(ended.status(), 200, "{ending}");
        let committed = Instant::now();
        // On B, which made the change: at once.
        assert_eq!(token_status(&b, &cookie).await, 401, "{ending}: B at once");
        // On A: within the bound, asked as often as it can answer.
        let refused = loop {
            let status = token_status(&a, &cookie).await;
            if status == 401 {
                break committed.elapsed();
            }
            assert_eq!(status, 200, "{ending}");
            assert!(
                committed.elapsed() < bound + Duration::from_millis(500),
                "{ending}: A still takes the old session after {:?}",
                committed.elapsed()
            );
        };
        assert!(refused <= bound + Duration::from_millis(500), "{ending}: {refused:?}");
        // And from then on.
        for _ in 0..20 {
            assert_eq!(token_status(&a, &cookie).await, 401, "{ending}: A after the bound");
        }
    }
}

/// Failed logins are counted in the shared database: guesses spread over two instances
/// spend one budget, and neither instance lets the pair through once it is spent.
#[tokio::test]
async fn failed_logins_through_two_instances_spend_one_budget() {
    let database = postgres::fresh_database(&postgres::server_url()).await;
    let a = instance(&database);
    let b = instance(&database);
    assert_eq!(signup(&browser(), &a, "ann@example.com").await.status(), 200);
    let attacker = browser();
    let mut statuses = Vec::new();
    for i in 0..12 {
        let at = if i % 2 == 0 { &a } else { &b };
        let guess = format!("wrong guess {i}");
        let form = [("email", "ann@example.com"), ("password", guess.as_str())];
        statuses.push(post(&attacker, at, "/api/login", &form).await.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10, "one budget of 10: {statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    for at in [&a, &b] {
        let right = post(&attacker, at, "/api/login", &[("email", "ann@example.com"), ("password", GOOD)]);
        assert_eq!(right.await.status(), 429);
    }
}

#[tokio::test]
async fn one_email_signed_up_through_both_instances_at_once_makes_one_account() {
    let database = postgres::fresh_database(&postgres::server_url()).await;
    let a = instance(&database);
    let b = instance(&database);
    let urls = [a.url("/api/signup"), b.url("/api/signup")];
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..16 {
        let url = urls[i % 2].clone();
        attempts.spawn(async move {
            let form = [("email", "race@example.com"), ("password", GOOD)];
            let request =
                browser().post(url).header("origin", PUBLIC_URL).header("accept", "application/json");
            let response = request.form(&form).send().await;
            response.expect("request").status().as_u16()
        });
    }
    let statuses: Vec<u16> = attempts.join_all().await;
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|&s| s == 200 || s == 409), "only 200 and 409: {statuses:?}");
    assert_eq!(users_in(&database).await, 1);
}

/// Every request during the outage is answered, 503, within the documented bound.
async fn expect_503(request: reqwest::RequestBuilder, what: &str) {
    let started = Instant::now();
    let response = request.send().await.unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
    let took = started.elapsed();
    assert_eq!(response.status(), 503, "{what}");
    // The documented bound is ACQUIRE_TIMEOUT (5 s), plus PING_TIMEOUT (2 s) when the
    // session could not be loaded; allow as much again for a busy machine.
    assert!(took < (ACQUIRE_TIMEOUT + PING_TIMEOUT) * 2, "{what} took {took:?}");
    assert!(response.headers().contains_key("retry-after"), "{what}: Retry-After");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"] == "unavailable" || body["status"] == "unavailable", "{what}: {body}");
}

#[tokio::test]
async fn a_database_outage_is_503_and_the_app_recovers_without_a_restart() {
    // A private server: stopping the shared one would break the other tests.
    let cluster = Cluster::start();
    let database = postgres::fresh_database(&cluster.url).await;
    let mut app = instance(&database);
    let client = browser();
    assert_eq!(signup(&client, &app, "ann@example.com").await.status(), 200);
    assert_eq!(post(&client, &app, "/api/chat_token", &[]).await.status(), 200);
    let last_session_read = Instant::now();

    cluster.stop();

    let started = Instant::now();
    let ready = client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(started.elapsed() < PING_TIMEOUT * 3, "readyz took {:?}", started.elapsed());
    assert_eq!(client.get(app.url("/healthz")).send().await.unwrap().status(), 200, "alive all the same");
    let origin =
        |r: reqwest::RequestBuilder| r.header("origin", PUBLIC_URL).header("accept", "application/json");
    // A session read less than CACHE_FOR ago is still answered from memory (the README's
    // bound); past it, a request with a session needs the database.
    tokio::time::sleep_until((last_session_read + chatpass::sessions::CACHE_FOR).into()).await;
    expect_503(origin(client.post(app.url("/api/chat_token"))), "chat_token with a session").await;
    expect_503(origin(client.post(app.url("/api/current_user"))), "current_user with a session").await;
    expect_503(client.get(app.url("/chat")), "the chat page with a session").await;
    let stranger = browser();
    let login = [("email", "ann@example.com"), ("password", GOOD)];
    expect_503(origin(stranger.post(app.url("/api/login"))).form(&login), "login").await;
    let new_user = [("email", "bob@example.com"), ("password", GOOD)];
    expect_503(origin(stranger.post(app.url("/api/signup"))).form(&new_user), "signup").await;
    assert!(app.is_running(), "the app is still up");

    cluster.restart();

    // Recovery: the pool reconnects by itself; wait (bounded) for the first good answer.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = client.get(app.url("/readyz")).send().await.unwrap().status();
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery within 30 s of PostgreSQL's return");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The session made before the outage still works, and nothing was half-written.
    let body: IssuedChatToken = common::answer(post(&client, &app, "/api/chat_token", &[]).await, 200).await;
    assert_eq!(body.identity, "ann@example.com");
    assert_eq!(users_in(&database).await, 1, "the sign-up during the outage wrote nothing");
    assert_eq!(signup(&stranger, &app, "bob@example.com").await.status(), 200);
    assert_eq!(users_in(&database).await, 2);
    assert!(app.is_running());
}

/// Two instances, one outbox, a mail server that is down while 20 people sign up through
/// both: when it comes back, both senders race for the waiting rows, and each mail
/// arrives exactly once (PostgreSQL's `FOR UPDATE SKIP LOCKED` claim).
#[tokio::test]
async fn two_instances_send_from_one_outbox_and_each_mail_goes_once() {
    use common::mail::{self, SmtpSink};
    let database = postgres::fresh_database(&postgres::server_url()).await;
    let port = mail::free_port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let mailing = |database: &str| {
        Instance::start(&[
            ("DATABASE_URL", database),
            ("CHATPASS_PUBLIC_URL", PUBLIC_URL),
            ("CHATPASS_SMTP_URL", &smtp),
            ("CHATPASS_MAIL_FROM", "chat@example.com"),
            ("CHATPASS_MAIL_RETRY_SECS", "1"),
        ])
    };
    let (a, b) = (mailing(&database), mailing(&database));
    let mut signups = tokio::task::JoinSet::new();
    for i in 0..20 {
        let url = if i % 2 == 0 { a.url("/api/signup") } else { b.url("/api/signup") };
        signups.spawn(async move {
            let email = format!("user{i}@example.com");
            let form = [("email", email.as_str()), ("password", GOOD)];
            let request =
                browser().post(url).header("origin", PUBLIC_URL).header("accept", "application/json");
            request.form(&form).send().await.expect("request").status().as_u16()
        });
    }
    assert!(signups.join_all().await.iter().all(|&s| s == 202), "sign-up answers while mail is down");
    let mut db = PgConnection::connect(&database).await.unwrap();
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(waiting, 20);

    let sink = SmtpSink::start_on(port);
    sink.wait_for(20, Duration::from_secs(60)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL")
            .fetch_one(&mut db)
            .await
            .unwrap();
        if sent == 20 {
            break;
        }
        assert!(Instant::now() < deadline, "only {sent} of 20 marked sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // All marked sent, so no sender can send one again: count what arrived.
    let mut recipients: Vec<String> = sink.mails().iter().filter_map(|m| mail::recipient(m)).collect();
    recipients.sort();
    let mut expected: Vec<String> = (0..20).map(|i| format!("user{i}@example.com")).collect();
    expected.sort();
    assert_eq!(recipients, expected, "each mail exactly once");
}
