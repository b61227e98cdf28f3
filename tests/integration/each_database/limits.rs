//! Failed-login limits: counted in the database, taken before the password is checked,
//! per account and address pair and per address.

use crate::common;

use common::fixtures::GOOD;
use common::TestApp;

fn wrong_login(email: &str, i: usize) -> Vec<(&'static str, String)> {
    vec![("email", email.to_string()), ("password", format!("wrong guess {i:04}"))]
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn thirty_concurrent_wrong_passwords_for_one_account_check_exactly_the_budget() {
    let app = TestApp::builder().env("CHATPASS_LOGIN_FAILURES_PER_ACCOUNT", "10").spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    for i in 0..3 {
        assert_eq!(app.login("ann@example.com", &format!("wrong guess {i}")).await.status(), 401);
    }
    let forms = (0..30).map(|i| wrong_login("ann@example.com", i)).collect();
    let statuses = app.post_concurrently("/api/login", forms).await;
    assert_eq!((count(&statuses, 401), count(&statuses, 429)), (7, 23), "{statuses:?}");
}

#[tokio::test]
async fn concurrent_wrong_passwords_from_one_address_check_exactly_its_budget() {
    let app = TestApp::builder().env("CHATPASS_LOGIN_FAILURES_PER_IP", "20").spawn().await;
    let forms = (0..30).map(|i| wrong_login(&format!("user{i}@example.com"), i)).collect();
    let statuses = app.post_concurrently("/api/login", forms).await;
    assert_eq!((count(&statuses, 401), count(&statuses, 429)), (20, 10), "{statuses:?}");
    // Another address is not limited by this one.
    let elsewhere = common::client_from("127.0.0.2");
    let other = app
        .post_form_with(&elsewhere, "/api/login", &[("email", "x@example.com"), ("password", "wrong guess")])
        .await;
    assert_eq!(other.status(), 401);
}

#[tokio::test]
async fn one_address_failing_a_hundred_times_does_not_lock_the_owner_out() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let attacker = common::client_from("127.0.0.2");
    let mut statuses = Vec::new();
    for i in 0..100 {
        let form = [("email", "ann@example.com"), ("password", &format!("guess {i:04}") as &str)];
        statuses.push(app.post_form_with(&attacker, "/api/login", &form).await.status().as_u16());
    }
    assert_eq!((count(&statuses, 401), count(&statuses, 429)), (10, 90), "the pair's budget of 10");
    // The owner, from an address that has not failed, gets in; the attacker's pair stays slowed down.
    app.logged_in_browser("ann@example.com", GOOD, None).await;
    let attacker_right = app
        .post_form_with(&attacker, "/api/login", &[("email", "ann@example.com"), ("password", GOOD)])
        .await;
    assert_eq!(attacker_right.status(), 429);
    let wait: u64 = attacker_right.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&wait), "until the 15-minute window ends: {wait}");
    // Nothing that names the email is stored with the count.
    let named = common::count(&app.pool, "SELECT COUNT(*) FROM login_failures WHERE key LIKE '%ann%'").await;
    assert_eq!(named, 0);
}

#[tokio::test]
async fn a_right_password_gives_its_slot_back() {
    let app = TestApp::builder().env("CHATPASS_LOGIN_FAILURES_PER_IP", "3").spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    for _ in 0..6 {
        assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
    }
    for i in 0..3 {
        assert_eq!(app.login("ann@example.com", &format!("wrong guess {i}")).await.status(), 401);
    }
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 429, "the address's budget is spent");
}

#[tokio::test]
async fn failure_counts_survive_a_restart() {
    let app = TestApp::builder().env("CHATPASS_LOGIN_FAILURES_PER_ACCOUNT", "3").spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    for i in 0..3 {
        assert_eq!(app.login("ann@example.com", &format!("wrong guess {i}")).await.status(), 401);
    }
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 429);
    let app = app.restart().await;
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 429, "still counted after a restart");
    // When the window has ended, the pair starts over.
    app.execute("UPDATE login_failures SET window_start = window_start - 3600").await;
    assert_eq!(app.login("ann@example.com", GOOD).await.status(), 200);
}
