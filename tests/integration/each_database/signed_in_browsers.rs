//! Signed-in browsers: the account's sessions listed by handle (never by id), ended one at
//! a time or all but this one, and capped per account with the oldest ending first.

use chatpass::db::{
    sessions::{NewRow, SessionRow},
    Pool,
};

use crate::common::fixtures::GOOD;
use crate::common::{self, TestApp};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
const CAP: usize = 20;

async fn end(app: &TestApp, client: &reqwest::Client, handle: &str) -> u16 {
    app.post_form_with(client, "/api/end_session", &[("handle", handle)]).await.status().as_u16()
}

async fn end_others(app: &TestApp, client: &reqwest::Client) -> u16 {
    app.post_form_with(client, "/api/end_other_sessions", &[]).await.status().as_u16()
}

/// Whether `client` is still signed in, by the chat token (200) or not (401).
async fn chat_token(app: &TestApp, client: &reqwest::Client) -> u16 {
    app.post_form_with(client, "/api/chat_token", &[]).await.status().as_u16()
}

/// This client's own row of the list.
async fn own_handle(app: &TestApp, client: &reqwest::Client) -> String {
    let (sessions, _) = app.sessions_with(client).await;
    sessions.into_iter().find(|s| s.current).expect("a current session").handle
}

async fn fetch_strings(app: &TestApp, sql: &str, bind: &str) -> Vec<String> {
    match &app.pool {
        Pool::Sqlite(p) => sqlx::query_scalar(sql).bind(bind).fetch_all(p).await.unwrap(),
        Pool::Postgres(p) => sqlx::query_scalar(sql).bind(bind).fetch_all(p).await.unwrap(),
    }
}

/// The ids of `email`'s session rows.
async fn session_ids(app: &TestApp, email: &str) -> Vec<String> {
    let sql = format!(
        "SELECT s.id FROM {} s JOIN users u ON u.id = s.user_id WHERE u.email = $1",
        app.sessions_table()
    );
    fetch_strings(app, &sql, email).await
}

async fn session_id_of(app: &TestApp, handle: &str) -> String {
    let sql = format!("SELECT id FROM {} WHERE handle = $1", app.sessions_table());
    let ids = fetch_strings(app, &sql, handle).await;
    assert_eq!(ids.len(), 1, "one row has handle {handle}");
    ids.into_iter().next().unwrap()
}

/// Makes session `id` look last seen long ago, in its record and its row, behind the
/// server's back: the next request of it changes (and saves) the session.
async fn seen_long_ago(app: &TestApp, id: &str) {
    let table = app.sessions_table();
    let select = format!("SELECT data FROM {table} WHERE id = $1");
    let data: Vec<u8> = match &app.pool {
        Pool::Sqlite(p) => sqlx::query_scalar(&select).bind(id).fetch_one(p).await.unwrap(),
        Pool::Postgres(p) => sqlx::query_scalar(&select).bind(id).fetch_one(p).await.unwrap(),
    };
    let mut record: tower_sessions::session::Record = rmp_serde::from_slice(&data).unwrap();
    record.data.insert("chatpass.seen_at".into(), serde_json::json!(0));
    let data = rmp_serde::to_vec(&record).unwrap();
    let update = format!("UPDATE {table} SET data = $1, seen_at = 0 WHERE id = $2");
    match &app.pool {
        Pool::Sqlite(p) => sqlx::query(&update).bind(data).bind(id).execute(p).await.map(drop).unwrap(),
        Pool::Postgres(p) => sqlx::query(&update).bind(data).bind(id).execute(p).await.map(drop).unwrap(),
    }
    chatpass::db::accounts_changed();
}

async fn count_of(app: &TestApp, email: &str) -> usize {
    session_ids(app, email).await.len()
}

#[tokio::test]
async fn the_list_shows_this_accounts_sessions_newest_first_and_never_an_id() {
    let app = TestApp::spawn().await;
    let ann = app.register_user("ann@example.com").await;
    let firefox = ann.new_browser(&app, Some(FIREFOX)).await;
    let android = ann.new_browser(&app, Some(ANDROID)).await;
    let bob = app.proven_user("bob@example.com").await.client;

    let (sessions, text) = app.sessions_with(&app.client).await;
    let browsers: Vec<&str> = sessions.iter().map(|s| s.browser.as_str()).collect();
    assert_eq!(browsers, ["Chrome on Android", "Firefox on Linux", "an app or unknown browser"]);
    let current: Vec<bool> = sessions.iter().map(|s| s.current).collect();
    assert_eq!(current, [false, false, true], "the browser asking is marked");
    for session in &sessions {
        assert_eq!(session.handle.len(), 32, "{session:?}");
        assert!(session.handle.bytes().all(|b| b.is_ascii_hexdigit()), "{session:?}");
        assert!(session.signed_in.ends_with(" UTC") && session.last_seen.ends_with(" UTC"), "{session:?}");
    }
    let handles: Vec<&str> = sessions.iter().map(|s| s.handle.as_str()).collect();
    let distinct: std::collections::BTreeSet<&&str> = handles.iter().collect();
    assert_eq!(distinct.len(), 3);
    // No session id, nor the raw header, is in the answer or in the page.
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("Firefox on Linux") && page.contains("(this browser)"), "{page}");
    let mut ids = session_ids(&app, "ann@example.com").await;
    ids.extend(session_ids(&app, "bob@example.com").await);
    assert_eq!(ids.len(), 4);
    for id in &ids {
        assert!(!text.contains(id.as_str()) && !page.contains(id.as_str()), "a session id was shown");
    }
    assert!(!text.contains("rv:133.0") && !text.contains("Gecko"), "{text}");
    let agents = format!("SELECT agent FROM {} WHERE agent LIKE $1", app.sessions_table());
    assert!(fetch_strings(&app, &agents, "%Mozilla%").await.is_empty(), "only coarse words are stored");

    // Each account sees its own sessions only; each browser sees itself as current.
    let (of_bob, _) = app.sessions_with(&bob).await;
    assert_eq!(of_bob.len(), 1);
    assert!(of_bob[0].current && !handles.contains(&of_bob[0].handle.as_str()));
    let (from_firefox, _) = app.sessions_with(&firefox).await;
    assert_eq!(from_firefox.iter().filter(|s| s.current).count(), 1);
    assert_eq!(from_firefox.iter().find(|s| s.current).unwrap().browser, "Firefox on Linux");
    drop(android);

    // Signed out: 401 for every endpoint.
    let stranger = common::client();
    assert_eq!(app.post_form_with(&stranger, "/api/sessions", &[]).await.status(), 401);
    assert_eq!(end(&app, &stranger, handles[0]).await, 401);
    assert_eq!(end_others(&app, &stranger).await, 401);
}

#[tokio::test]
async fn ending_one_ends_exactly_that_session_at_once() {
    let app = TestApp::spawn().await;
    let ann = app.register_user("ann@example.com").await;
    let b = ann.new_browser(&app, Some(FIREFOX)).await;
    let c = ann.new_browser(&app, Some(ANDROID)).await;
    // Every session read recently: in this instance's cache.
    for client in [&app.client, &b, &c] {
        assert_eq!(chat_token(&app, client).await, 200);
    }
    let b_handle = own_handle(&app, &b).await;
    let b_id = session_id_of(&app, &b_handle).await;

    let response = app.post_form("/api/end_session", &[("handle", &b_handle)]).await;
    assert_eq!(response.status(), 200);
    let answer: chatpass::auth::sessions_list::EndedSession = response.json().await.unwrap();
    assert_eq!(answer.handle, b_handle);
    assert_eq!(chat_token(&app, &b).await, 401, "the ended session's next request");
    assert_eq!(app.whoami_with(&b).await, None);
    assert_eq!(app.chat_token_with_session_id(&b_id).await, 401);
    assert_eq!(chat_token(&app, &c).await, 200, "another session goes on");
    assert_eq!(chat_token(&app, &app.client).await, 200, "this one goes on");
    let (left, _) = app.sessions_with(&app.client).await;
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|s| s.handle != b_handle));
    // Ending it again: it is gone.
    assert_eq!(end(&app, &app.client, &b_handle).await, 404);

    // Ending this browser's own session signs it out.
    let c_handle = own_handle(&app, &c).await;
    assert_eq!(end(&app, &c, &c_handle).await, 200);
    assert_eq!(app.whoami_with(&c).await, None);
    assert_eq!(chat_token(&app, &app.client).await, 200);
    assert_eq!(count_of(&app, "ann@example.com").await, 1);
}

#[tokio::test]
async fn ending_all_others_keeps_this_one() {
    let app = TestApp::spawn().await;
    let ann = app.register_user("ann@example.com").await;
    let others = [ann.new_browser(&app, None).await, ann.new_browser(&app, None).await];
    let bob = app.proven_user("bob@example.com").await.client;
    for client in others.iter().chain([&app.client, &bob]) {
        assert_eq!(chat_token(&app, client).await, 200);
    }
    let response = app.post_form("/api/end_other_sessions", &[]).await;
    assert_eq!(response.status(), 200);
    let answer: chatpass::auth::sessions_list::EndedSessions = response.json().await.unwrap();
    assert_eq!(answer.ended, 2);
    for client in &others {
        assert_eq!(chat_token(&app, client).await, 401);
    }
    assert_eq!(chat_token(&app, &app.client).await, 200);
    assert_eq!(chat_token(&app, &bob).await, 200, "another account's session is not touched");
    let (left, _) = app.sessions_with(&app.client).await;
    assert_eq!(left.len(), 1);
    assert!(left[0].current);
}

#[tokio::test]
async fn a_handle_of_another_accounts_session_cannot_end_it() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let bob = app.proven_user("bob@example.com").await.client;
    let bobs = own_handle(&app, &bob).await;
    assert_eq!(end(&app, &app.client, &bobs).await, 404);
    assert_eq!(chat_token(&app, &bob).await, 200);
    assert_eq!(app.sessions_with(&bob).await.0.len(), 1);
    // "All others" of Ann are Ann's only.
    assert_eq!(end_others(&app, &app.client).await, 200);
    assert_eq!(chat_token(&app, &bob).await, 200);
}

#[tokio::test]
async fn bad_handles_are_refused_and_never_a_500() {
    let app = TestApp::spawn().await;
    let ann = app.register_user("ann@example.com").await;
    let other = ann.new_browser(&app, None).await;
    let own = own_handle(&app, &app.client).await;
    let long = "a".repeat(10 * 1024);
    let cases: &[(&str, u16)] = &[
        ("", 400),
        (&long, 400),
        ("ünïcødé-ünïcødé-ünïcødé-ünïcødé", 400),
        ("\u{202e}0123456789abcdef0123456789abcd", 400),
        ("' OR '1'='1", 400),
        ("x' OR handle IS NOT NULL; DELETE FROM users; --", 400),
        ("%", 400),
        (&own[..31], 400),
        (&own.to_uppercase(), 400),
        ("0123456789abcdef0123456789abcdef", 404),
    ];
    for (handle, status) in cases {
        let got = end(&app, &app.client, handle).await;
        assert_eq!(got, *status, "handle {:?}", &handle[..handle.len().min(40)]);
    }
    // A form without the field, and a handle sent twice.
    assert_eq!(app.post_form("/api/end_session", &[]).await.status(), 400);
    let twice = app.post_form("/api/end_session", &[("handle", own.as_str()), ("handle", "x")]).await;
    assert!(matches!(twice.status().as_u16(), 400 | 404), "{}", twice.status());
    assert_eq!(count_of(&app, "ann@example.com").await, 2, "nothing ended");
    assert_eq!(chat_token(&app, &app.client).await, 200);
    assert_eq!(chat_token(&app, &other).await, 200);
}

#[tokio::test]
async fn the_forms_work_without_javascript() {
    let app = TestApp::spawn().await;
    let ann = app.register_user("ann@example.com").await;
    let b = ann.new_browser(&app, Some(FIREFOX)).await;
    let b_handle = own_handle(&app, &b).await;
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("Signed-in browsers") && page.contains(&b_handle), "{page}");

    let ended = app.post_plain_form("/api/end_session", "/account", &[("handle", &b_handle)]).await;
    assert_eq!(ended.status(), 302);
    assert_eq!(ended.headers()["location"], "/account?ended=one");
    assert_eq!(chat_token(&app, &b).await, 401);
    let page = app.get("/account?ended=one").await.text().await.unwrap();
    assert!(page.contains("That browser was signed out.") && !page.contains(&b_handle));

    // A refused handle comes back to the page, with the error shown there.
    let refused = app.post_plain_form("/api/end_session", "/account", &[("handle", "nope")]).await;
    assert_eq!(refused.status(), 302);
    let back = refused.headers()["location"].to_str().unwrap().to_string();
    assert!(back.contains("__err"), "{back}");
    let page = app.client.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("This is not a session of the list."), "{page}");

    let c = ann.new_browser(&app, None).await;
    let all = app.post_plain_form("/api/end_other_sessions", "/account", &[]).await;
    assert_eq!(all.status(), 302);
    assert_eq!(all.headers()["location"], "/account?ended=others");
    assert_eq!(chat_token(&app, &c).await, 401);
    assert_eq!(chat_token(&app, &app.client).await, 200);
}

#[tokio::test]
async fn past_the_cap_the_oldest_sessions_end_first() {
    let app = TestApp::spawn().await;
    let ann = app.register_user("ann@example.com").await;
    assert_eq!(app.post_form("/api/logout", &[]).await.status(), 200);
    let bob = app.proven_user("bob@example.com").await.client;
    let mut browsers = Vec::new();
    for _ in 0..25 {
        browsers.push(ann.new_browser(&app, None).await);
    }
    assert_eq!(count_of(&app, "ann@example.com").await, CAP);
    for (i, client) in browsers.iter().enumerate() {
        let expected = if i < 25 - CAP { 401 } else { 200 };
        assert_eq!(chat_token(&app, client).await, expected, "login {i}");
    }
    let (listed, _) = app.sessions_with(&browsers[24]).await;
    assert_eq!(listed.len(), CAP);
    assert_eq!(chat_token(&app, &bob).await, 200, "another account's sessions are its own");
}

#[tokio::test]
async fn concurrent_logins_never_leave_more_than_the_cap() {
    let app = TestApp::builder()
        .env("CHATPASS_LOGIN_FAILURES_PER_ACCOUNT", "1000")
        .env("CHATPASS_LOGIN_FAILURES_PER_IP", "1000")
        .spawn()
        .await;
    let ann = app.register_user("ann@example.com").await;
    // Near the cap first, so that even a few of the logins below cross it together.
    for _ in 0..(CAP - 5) {
        ann.new_browser(&app, None).await;
    }
    let form = || vec![("email", "ann@example.com".to_string()), ("password", GOOD.to_string())];
    let statuses = app.post_concurrently("/api/login", (0..30).map(|_| form()).collect()).await;
    let logged_in = statuses.iter().filter(|s| **s == 200).count();
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    assert!(logged_in >= 10, "most logins got through: {statuses:?}");
    assert_eq!(count_of(&app, "ann@example.com").await, CAP, "{statuses:?}");
}

#[tokio::test]
async fn ending_a_session_while_a_request_of_it_is_in_flight_keeps_it_ended() {
    let app = TestApp::spawn().await;
    let ann = app.register_user("ann@example.com").await;
    for round in 0..10 {
        let victim = ann.new_browser(&app, None).await;
        let handle = own_handle(&app, &victim).await;
        let id = session_id_of(&app, &handle).await;
        // The request in flight changes its session (a last visit long ago), so it saves it.
        seen_long_ago(&app, &id).await;
        let answer = app
            .request_overlapping("/api/chat_token", &id, async {
                let status = if round % 2 == 0 {
                    end(&app, &app.client, &handle).await
                } else {
                    end_others(&app, &app.client).await
                };
                assert_eq!(status, 200, "round {round}");
            })
            .await;
        let status = answer.lines().next().unwrap_or_default();
        assert!(status.contains(" 200 ") || status.contains(" 401 "), "round {round}: {answer}");
        let rows = format!("SELECT id FROM {} WHERE id = $1", app.sessions_table());
        assert!(fetch_strings(&app, &rows, &id).await.is_empty(), "round {round}: the row stays gone");
        assert_eq!(app.chat_token_with_session_id(&id).await, 401, "round {round}");
        assert_eq!(chat_token(&app, &victim).await, 401, "round {round}");
        assert_eq!(chat_token(&app, &app.client).await, 200, "round {round}");
    }
    assert_eq!(count_of(&app, "ann@example.com").await, 1);
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let now_ms = || {
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis())
            .unwrap()
    };
    let seen_at = format!("SELECT seen_at FROM {}", app.sessions_table());
    // Seen 30 s ago: a request now (read afresh: `execute` drops the cache) writes nothing.
    let recent = now_ms() - 30_000;
    app.execute(&format!("UPDATE {} SET seen_at = {recent}", app.sessions_table())).await;
    assert_eq!(chat_token(&app, &app.client).await, 200);
    assert_eq!(common::count(&app.pool, &seen_at).await, recent);
    // Seen 61 s ago: the next request notes it was seen now.
    let before = now_ms();
    app.execute(&format!("UPDATE {} SET seen_at = {}", app.sessions_table(), before - 61_000)).await;
    assert_eq!(chat_token(&app, &app.client).await, 200);
    let noted = common::count(&app.pool, &seen_at).await;
    assert!(noted >= before && noted <= now_ms(), "{noted} vs {before}");
}

/// The logins above take turns at the password hash (one thread on a small machine), so
/// this lines up what each login does after it, all at once: its row written, then the cap.
#[tokio::test]
async fn sessions_started_at_the_same_moment_never_leave_more_than_the_cap() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let user_id = common::count(&app.pool, "SELECT id FROM users").await;
    for round in 0..5 {
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(30));
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..30 {
            let (pool, start) = (app.pool.clone(), start.clone());
            tasks.spawn(async move {
                let id = tower_sessions::session::Id::default();
                let expiry = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
                let (handle, at) = (format!("{round:02}{n:030}"), chatpass::sessions::store::unix_ms());
                start.wait().await;
                let row =
                    SessionRow { id: &id, data: &[0u8; 8], expiry_date: expiry, user_id: Some(user_id) };
                let new = NewRow { handle, agent: None, created_at: at };
                chatpass::db::sessions::insert_new(&pool, row, &new).await.expect("a session row");
                chatpass::db::sessions::keep_newest(&pool, user_id, CAP as i64).await
            });
        }
        for ended in tasks.join_all().await {
            ended.expect("the cap runs");
        }
        chatpass::db::accounts_changed();
        assert_eq!(count_of(&app, "ann@example.com").await, CAP, "round {round}");
    }
}
