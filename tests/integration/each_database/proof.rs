//! The proof holds: nothing a stranger chose (a password, a session, a link, a name)
//! survives the owner proving their email. Each test replays an attack on the flow where
//! a sign-up chose the password and a link set it, through the real router and database.

use crate::common;

use common::{mail, TestApp};

const OWNER: &str = "the owner's own long passphrase";
const ATTACKER: &str = "an attacker's chosen passphrase";

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    let form = [("email", email), ("password", password)];
    app.post_form_with(&common::client(), "/api/login", &form).await.status().as_u16()
}

/// A sign-up from a client of its own, as an attacker sends it (with a password of theirs).
async fn stranger_signs_up(app: &TestApp, email: &str) {
    let form = [("email", email), ("password", ATTACKER), ("display_name", "Mallory")];
    assert_eq!(app.post_form_with(&common::client(), "/api/signup", &form).await.status(), 202);
}

async fn stored_name(app: &TestApp, email: &str) -> Option<String> {
    let sql = "SELECT display_name FROM users WHERE email = $1";
    match &app.pool {
        chatpass::db::Pool::Sqlite(p) => sqlx::query_scalar(sql).bind(email).fetch_one(p).await.unwrap(),
        chatpass::db::Pool::Postgres(p) => sqlx::query_scalar(sql).bind(email).fetch_one(p).await.unwrap(),
    }
}

/// The two-sign-up takeover, in both orders: whichever link the owner presses, the
/// password is the one chosen on its page; the attacker's password never works, and the
/// other link is dead once the email is proven.
#[tokio::test]
async fn a_second_sign_up_cannot_set_the_password_whichever_link_the_owner_uses() {
    for (order, owner_first) in [("owner first", true), ("attacker first", false)] {
        let app = TestApp::spawn().await;
        let email = "victim@example.com";
        let owner = common::client();
        if owner_first {
            assert_eq!(app.post_form_with(&owner, "/api/signup", &[("email", email)]).await.status(), 202);
            stranger_signs_up(&app, email).await;
        } else {
            stranger_signs_up(&app, email).await;
            assert_eq!(app.post_form_with(&owner, "/api/signup", &[("email", email)]).await.status(), 202);
        }
        let first = mail::verify_token(&app.wait_for_mail(email, 1).await).unwrap();
        let second = mail::verify_token(&app.wait_for_mail(email, 2).await).unwrap();
        // The owner presses the newer mail's link.
        assert_eq!(app.verify_with(&owner, &second, OWNER).await.status(), 200, "{order}");
        assert_eq!(login_status(&app, email, ATTACKER).await, 401, "{order}: the attacker's password");
        assert_eq!(login_status(&app, email, OWNER).await, 200, "{order}: the owner's password");
        assert_eq!(stored_name(&app, email).await, None, "{order}: the sign-up's name is not kept");
        // The older link is dead and answers "already confirmed": no session, no password.
        let attacker = common::client();
        let late = app.verify_with(&attacker, &first, ATTACKER).await;
        assert_eq!(late.status(), 409, "{order}");
        assert_eq!(app.whoami_with(&attacker).await, None, "{order}");
        assert_eq!(login_status(&app, email, ATTACKER).await, 401, "{order}");
        assert_eq!(app.post_form_with(&owner, "/api/chat_token", &[]).await.status(), 200, "{order}");
    }
}

/// After the owner confirmed, a new sign-up for the address mails only a notice, and no
/// link mailed before works.
#[tokio::test]
async fn after_the_proof_a_sign_up_mails_a_notice_and_no_old_link_works() {
    let app = TestApp::spawn().await;
    let email = "victim@example.com";
    stranger_signs_up(&app, email).await;
    stranger_signs_up(&app, email).await;
    let older = mail::verify_token(&app.wait_for_mail(email, 1).await).unwrap();
    let newer = mail::verify_token(&app.wait_for_mail(email, 2).await).unwrap();
    assert_eq!(app.verify_with(&app.client, &older, OWNER).await.status(), 200);
    // The confirmation notice is mail 3; the next sign-up's notice has no link that acts.
    stranger_signs_up(&app, email).await;
    let attempt = app.wait_for_mail(email, 4).await;
    assert!(mail::verify_token(&attempt).is_none(), "{attempt}");
    for link in [&older, &newer] {
        assert_eq!(app.verify_with(&common::client(), link, ATTACKER).await.status(), 409);
    }
    assert_eq!(common::count(&app.pool, "SELECT COUNT(*) FROM email_tokens WHERE used_at IS NULL").await, 0);
    assert_eq!(login_status(&app, email, OWNER).await, 200);
}

/// Pre-hijack: an account from before the owner chose the password (its squatter knows
/// that password and is signed in) loses the squatter's session, password and display
/// name the moment the owner proves the address.
#[tokio::test]
async fn a_squatters_session_password_and_name_end_when_the_owner_proves_the_address() {
    let app = TestApp::spawn().await;
    let email = "ceo@example.com";
    app.legacy_account(email, ATTACKER).await;
    let squatter = common::client();
    let form = [("email", email), ("password", ATTACKER)];
    assert_eq!(app.post_form_with(&squatter, "/api/login", &form).await.status(), 200);
    let renamed =
        app.post_form_with(&squatter, "/api/set_display_name", &[("display_name", "The CEO")]).await;
    assert_eq!(renamed.status(), 200);
    assert_eq!(app.post_form_with(&squatter, "/api/chat_token", &[]).await.status(), 403);
    // The squatter cannot change the password (which would void the owner's links).
    let change = [("current_password", ATTACKER), ("new_password", "yet another long passphrase")];
    assert_eq!(app.post_form_with(&squatter, "/api/change_password", &change).await.status(), 403);

    let owner = common::client();
    assert_eq!(app.post_form_with(&owner, "/api/signup", &[("email", email)]).await.status(), 202);
    let link = app.verification_token(email, 1).await;
    // The squatter keeps trying to get in the way meanwhile: nothing voids the owner's link.
    for _ in 0..5 {
        assert_eq!(app.post_form_with(&squatter, "/api/change_password", &change).await.status(), 403);
    }
    let form = [("token", link.as_str()), ("password", OWNER), ("display_name", "Ann")];
    assert_eq!(app.post_form_with(&owner, "/api/verify_email", &form).await.status(), 200);
    assert_eq!(app.whoami_with(&squatter).await, None, "the squatter's session ended");
    assert_eq!(app.post_form_with(&squatter, "/api/chat_token", &[]).await.status(), 401);
    assert_eq!(login_status(&app, email, ATTACKER).await, 401);
    assert_eq!(login_status(&app, email, OWNER).await, 200);
    assert_eq!(stored_name(&app, email).await.as_deref(), Some("Ann"));
    let body = app.chat_token_with(&owner).await;
    assert_eq!(body.identity, email);
    assert_eq!(body.display_name, "Ann");
}

/// A reset link (mailed before) dies with a password change, and a reset proves the
/// address and drops a name chosen before.
#[tokio::test]
async fn a_password_change_voids_every_unused_link() {
    let app = TestApp::spawn().await;
    let email = "ann@example.com";
    assert_eq!(app.register(email, OWNER).await.status(), 200);
    assert_eq!(app.post_form("/api/forgot_password", &[("email", email)]).await.status(), 202);
    let reset_mail = app.wait_for_mail(email, 3).await;
    let reset = mail::links(&reset_mail)
        .into_iter()
        .find_map(|l| l.split_once("/reset?token=").map(|(_, t)| t.to_string()))
        .expect("a reset link");
    let change = [("current_password", OWNER), ("new_password", "a brand new long passphrase")];
    assert_eq!(app.post_form("/api/change_password", &change).await.status(), 200);
    let form = [("token", reset.as_str()), ("password", ATTACKER)];
    assert_eq!(app.post_form_with(&common::client(), "/api/reset_password", &form).await.status(), 400);
    assert_eq!(login_status(&app, email, ATTACKER).await, 401);
}

/// The mail cannon: a hundred password changes in a row mail a handful of notices, and
/// sign-ups naming one address mail it a handful of links.
#[tokio::test]
async fn a_hundred_password_changes_or_sign_ups_mail_a_handful() {
    let app = TestApp::builder().env("CHATPASS_SIGNUPS_PER_IP", "1000").spawn().await;
    let email = "ann@example.com";
    assert_eq!(app.register(email, OWNER).await.status(), 200);
    let passwords = [OWNER, "a second long passphrase"];
    let mut changed = 0;
    let mut limited = 0;
    for round in 0..100 {
        let (current, new) = (passwords[round % 2], passwords[(round + 1) % 2]);
        let form = [("current_password", current), ("new_password", new)];
        match app.post_form("/api/change_password", &form).await.status().as_u16() {
            200 => changed += 1,
            429 => limited += 1,
            // Limited while the other password is current: it stays current.
            401 => {}
            other => panic!("round {round}: {other}"),
        }
    }
    assert!((1..=5).contains(&changed), "changed {changed} times");
    assert!(limited > 0);
    let notices =
        common::count(&app.pool, "SELECT COUNT(*) FROM outbox WHERE kind = 'password_changed'").await;
    assert_eq!(notices, 1, "one notice for a burst of changes");

    for _ in 0..100 {
        let form = [("email", "bob@example.com")];
        assert_eq!(app.post_form_with(&common::client(), "/api/signup", &form).await.status(), 202);
    }
    let links = common::count(
        &app.pool,
        "SELECT COUNT(*) FROM outbox WHERE kind = 'verify' AND recipient = 'bob@example.com'",
    )
    .await;
    assert_eq!(links, 3);
}

/// The enumeration through a follow-up login: a new address and an existing one both
/// refuse the password the sign-up sent.
#[tokio::test]
async fn a_login_after_a_sign_up_does_not_tell_a_new_address_from_an_existing_one() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", OWNER).await.status(), 200);
    for email in ["ann@example.com", "new@example.com"] {
        let form = [("email", email), ("password", ATTACKER)];
        assert_eq!(app.post_form_with(&common::client(), "/api/signup", &form).await.status(), 202);
        assert_eq!(login_status(&app, email, ATTACKER).await, 401, "{email}");
    }
}
