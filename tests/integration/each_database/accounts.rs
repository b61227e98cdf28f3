//! Sign-up, login, logout and sessions through the real router and a real SQLite file,
//! with the bad inputs the Accounts issue lists. None may answer 5xx or leave a row behind.

use crate::common;

use chatpass::{
    auth::{SignupOutcome, UserInfo},
    error::AppError,
};
use common::fixtures::GOOD;
use common::TestApp;
use serde_json::Value;

/// The whole body as JSON: for answers a test pins exactly, field for field.
async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// A 400 naming `field`, and no user written.
async fn assert_bad_input(app: &TestApp, response: reqwest::Response, field: &str) {
    let users_before = app.user_count().await;
    assert_eq!(response.status(), 400);
    let (named, reason) = common::bad_input(response).await;
    assert_eq!(named, field, "{reason}");
    assert!(!reason.is_empty());
    assert_eq!(app.user_count().await, users_before);
}

#[tokio::test]
async fn sign_up_mails_a_link_that_signs_in_and_stores_a_lowercased_email_with_an_argon2id_hash() {
    let app = TestApp::spawn().await;
    let response = app.signup("  Ann.Lee@Example.COM ", GOOD).await;
    assert_eq!(response.status(), 202);
    assert!(response.headers().get("set-cookie").is_none(), "no session before the email is proven");
    assert_eq!(json(response).await, serde_json::json!({"status": "check_your_inbox"}));
    assert_eq!(app.whoami().await, None);
    let token = app.verification_token("ann.lee@example.com", 1).await;
    let response = app.post_form("/api/verify_email", &[("token", &token), ("password", GOOD)]).await;
    assert_eq!(common::answer::<UserInfo>(response, 200).await.email, "ann.lee@example.com");
    assert_eq!(app.whoami().await.as_deref(), Some("ann.lee@example.com"));
    let (email, hash) = app.stored_credentials().await;
    assert_eq!(email, "ann.lee@example.com");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains(GOOD));
}

#[tokio::test]
async fn empty_and_missing_fields_are_400_with_the_field() {
    let app = TestApp::spawn().await;
    assert_bad_input(&app, app.signup("", GOOD).await, "email").await;
    assert_bad_input(&app, app.signup("   ", GOOD).await, "email").await;
    assert_bad_input(&app, app.post_form("/api/signup", &[("password", GOOD)]).await, "email").await;
    assert_bad_input(&app, app.post_form("/api/login", &[("password", GOOD)]).await, "email").await;
    assert_bad_input(&app, app.login("", GOOD).await, "email").await;
    assert_bad_input(&app, app.login("ann@example.com", "").await, "password").await;
    assert_eq!(app.user_count().await, 0);
    // The password is chosen on the link's page: there it is required.
    let token = app.signup_link("ann@example.com").await;
    assert_bad_input(&app, app.verify_with(&app.client, &token, "").await, "password").await;
    assert_bad_input(&app, app.post_form("/api/verify_email", &[("token", &token)]).await, "password").await;
    // With verification off, the sign-up itself takes it.
    let off = TestApp::builder().env("CHATPASS_EMAIL_VERIFICATION", "off").spawn().await;
    assert_bad_input(&off, off.signup("ann@example.com", "").await, "password").await;
    assert_bad_input(&off, off.post_form("/api/signup", &[("email", "ann@example.com")]).await, "password")
        .await;
    assert_eq!(off.user_count().await, 0);
}

#[tokio::test]
async fn malformed_emails_are_refused() {
    let app = TestApp::spawn().await;
    let long = format!("{}@example.com", "a".repeat(288));
    assert_eq!(long.len(), 300);
    for bad in [
        "not an email",
        "ann",
        "ann@",
        "@example.com",
        "ann@@example.com",
        "ann@localhost",
        long.as_str(),
        "ann\0@example.com",
        "'; DROP TABLE users; --",
        "ann@example.com' OR '1'='1",
    ] {
        assert_bad_input(&app, app.signup(bad, GOOD).await, "email").await;
    }
    assert_eq!(app.user_count().await, 0);
}

/// The email is the chat identity: an address that only reads like another one must not
/// become an account of its own.
#[tokio::test]
async fn look_alike_emails_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    for look_alike in [
        "\u{0456}van@example.com",             // Cyrillic i
        "\u{0430}nn@example.com",              // Cyrillic a
        "an\u{200B}n@example.com",             // zero-width space
        "an\u{200D}n@example.com",             // zero-width joiner
        "\u{FF41}nn@example.com",              // fullwidth a
        "ann\u{202E}moc.elpmaxe@evil.example", // right-to-left override
        "a\u{0301}nn@example.com",             // combining acute accent
        "\"victim@example.com\"@evil.example", // quoted local part
        "ann@exa\u{202E}mple.com",             // override in the domain
        "ann@example.com.",                    // trailing dot
    ] {
        assert_bad_input(&app, app.signup(look_alike, GOOD).await, "email").await;
    }
    assert_eq!(app.user_count().await, 0);
    assert_eq!(app.session_count().await, 0);
}

/// Spellings of one address are one account: case, and a domain in Unicode or punycode.
#[tokio::test]
async fn one_address_in_two_spellings_is_one_account() {
    let app = TestApp::spawn().await;
    for (first, second) in
        [("UPPER@Example.COM", "upper@example.com"), ("ann@b\u{FC}cher.example", "ann@xn--bcher-kva.example")]
    {
        assert_eq!(
            app.post_form_with(&common::client(), "/api/signup", &[("email", first), ("password", GOOD)])
                .await
                .status(),
            202
        );
        let users = app.user_count().await;
        let again = app
            .post_form_with(&common::client(), "/api/signup", &[("email", second), ("password", GOOD)])
            .await;
        assert_eq!(again.status(), 202, "{first} then {second}");
        assert_eq!(app.user_count().await, users, "{second} is {first}'s account, not a new one");
    }
    let (email, _) = {
        let sql = "SELECT email, password_hash FROM users WHERE email LIKE 'ann@%'";
        match &app.pool {
            chatpass::db::Pool::Sqlite(p) => {
                sqlx::query_as::<_, (String, String)>(sql).fetch_one(p).await.unwrap()
            }
            chatpass::db::Pool::Postgres(p) => {
                sqlx::query_as::<_, (String, String)>(sql).fetch_one(p).await.unwrap()
            }
        }
    };
    assert_eq!(email, "ann@xn--bcher-kva.example", "stored in its ASCII form");
    assert_eq!(app.user_count().await, 2);
}

#[tokio::test]
async fn password_length_bounds_and_nul_bytes() {
    let app = TestApp::spawn().await;
    let token = app.signup_link("a@example.com").await;
    for bad in ["x".repeat(7), "y".repeat(129), "nul\0inside-password".into(), "password1".into()] {
        assert_bad_input(&app, app.verify_with(&app.client, &token, &bad).await, "password").await;
    }
    assert_eq!(app.verify_with(&app.client, &token, &"q".repeat(128)).await.status(), 200);
    assert_eq!(app.user_count().await, 1);
}

/// The HTTP race (`twenty_concurrent_sign_ups_…`) is mostly settled by the "email exists?"
/// check before hashing; this one goes past it, straight at the insert, so the unique
/// index has to decide.
#[tokio::test]
async fn concurrent_inserts_of_one_email_leave_one_row_and_name_the_rest_taken() {
    use chatpass::{db::users, domain::Email, error::AppError};
    let app = TestApp::spawn().await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let pool = app.pool.clone();
        tasks.push(tokio::spawn(async move {
            let email =
                Email::parse(if i % 2 == 0 { "race@example.com" } else { "RACE@example.com" }).unwrap();
            users::create(&pool, &email, "$argon2id$not-a-real-hash", None, None).await
        }));
    }
    let (mut created, mut taken) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(AppError::EmailTaken) => taken += 1,
            Err(e) => panic!("neither created nor taken: {e:?}"),
        }
    }
    assert_eq!((created, taken), (1, 15));
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn a_one_megabyte_password_is_413_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let huge = "p".repeat(1024 * 1024);
    let response = app.signup("big@example.com", &huge).await;
    assert_eq!(response.status(), 413);
    let response = app.login("big@example.com", &huge).await;
    assert_eq!(response.status(), 413);
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn an_email_differing_only_in_case_is_409_with_verification_off() {
    let app = TestApp::builder().env("CHATPASS_EMAIL_VERIFICATION", "off").spawn().await;
    let response = app.signup("ann@example.com", GOOD).await;
    assert_eq!(common::answer::<SignupOutcome>(response, 200).await, SignupOutcome::SignedIn);
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"));
    let other = common::client();
    let response =
        app.post_form_with(&other, "/api/signup", &[("email", "ANN@Example.com"), ("password", GOOD)]).await;
    assert_eq!(response.status(), 409);
    assert_eq!(common::app_error(response).await, AppError::EmailTaken);
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.whoami_with(&other).await, None, "the refused sign-up is not signed in");
}

#[tokio::test]
async fn unicode_passwords_log_in_by_their_nfkc_form() {
    let app = TestApp::spawn().await;
    // "ﬁ" (U+FB01) and "Ⅻ" (U+216B) are NFKC-equivalent to "fi" and "XII".
    assert_eq!(app.register("uni@example.com", "con\u{FB01}dential Ⅻ 😀🔑").await.status(), 200);
    let fresh = common::client();
    let response = app
        .post_form_with(
            &fresh,
            "/api/login",
            &[("email", "uni@example.com"), ("password", "confidential XII 😀🔑")],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.whoami_with(&fresh).await.as_deref(), Some("uni@example.com"));
    let emoji = common::client();
    let response = app
        .post_form_with(
            &emoji,
            "/api/signup",
            &[("email", "emoji@example.com"), ("password", "🐙🦑🐳🐬🦈🐟🐠🐡")],
        )
        .await;
    assert_eq!(response.status(), 202);
}

#[tokio::test]
async fn sql_looking_passwords_are_just_passwords() {
    let app = TestApp::spawn().await;
    let sneaky = "x' OR '1'='1'; DROP TABLE users; --";
    assert_eq!(app.register("sql@example.com", sneaky).await.status(), 200);
    let fresh = common::client();
    let ok =
        app.post_form_with(&fresh, "/api/login", &[("email", "sql@example.com"), ("password", sneaky)]).await;
    assert_eq!(ok.status(), 200);
    let bad = app
        .post_form_with(
            &common::client(),
            "/api/login",
            &[("email", "sql@example.com"), ("password", "' OR 1=1 --")],
        )
        .await;
    assert_eq!(bad.status(), 401);
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_one_generic_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let fresh = common::client();
    let wrong = app
        .post_form_with(
            &fresh,
            "/api/login",
            &[("email", "ann@example.com"), ("password", "not the password")],
        )
        .await;
    let unknown = app
        .post_form_with(
            &fresh,
            "/api/login",
            &[("email", "nobody@example.com"), ("password", "not the password")],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    assert_eq!(json(wrong).await, json(unknown).await);
    assert_eq!(app.whoami_with(&fresh).await, None);
}

#[tokio::test]
async fn twenty_concurrent_sign_ups_of_one_email_make_exactly_one_account() {
    let app = TestApp::spawn().await;
    let forms = (0..20)
        .map(|i| {
            let email = if i % 2 == 0 { "race@example.com" } else { "RACE@example.com" };
            vec![("email", email.to_string()), ("password", GOOD.to_string())]
        })
        .collect();
    let statuses = app.post_concurrently("/api/signup", forms).await;
    // Every answer alike (nobody learns which one made the account), one account, and
    // the address gets a few links, not twenty.
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");
    assert_eq!(app.user_count().await, 1);
    let count = |sql| common::count(&app.pool, sql);
    let queued = count("SELECT COUNT(*) FROM outbox WHERE kind = 'verify'").await;
    assert!((1..=3).contains(&queued), "{queued} verification mails for one address");
    assert_eq!(count("SELECT COUNT(*) FROM email_tokens").await, queued);
}

#[tokio::test]
async fn cross_site_posts_to_every_server_function_are_403_before_any_handler() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let endpoints: [(&str, &[(&str, &str)]); 7] = [
        ("/api/signup", &[("email", "evil@example.com"), ("password", GOOD)]),
        ("/api/login", &[("email", "ann@example.com"), ("password", GOOD)]),
        ("/api/logout", &[]),
        ("/api/current_user", &[]),
        ("/api/chat_token", &[]),
        ("/api/verify_email", &[("token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]),
        ("/api/resend_verification", &[]),
    ];
    let attacks: [(&str, &str); 4] = [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("referer", "https://evil.example/page"),
        ("sec-fetch-site", "cross-site"),
    ];
    for (path, form) in endpoints {
        for (header, value) in attacks {
            let response = app
                .client
                .post(app.url(path))
                .header(header, value)
                .header("accept", "application/json")
                .form(form)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{path} with {header}: {value}");
            // The refusal is an answer like any other: security headers and a request id.
            let headers = response.headers();
            for (name, expected) in [
                ("x-content-type-options", "nosniff"),
                ("x-frame-options", "DENY"),
                ("cache-control", "no-store"),
                ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
            ] {
                assert_eq!(headers.get(name).and_then(|v| v.to_str().ok()), Some(expected), "{path}: {name}");
            }
            assert!(headers.get("x-request-id").is_some_and(|id| id.len() == 32), "{path}: a request id");
        }
    }
    assert_eq!(app.user_count().await, 1, "no sign-up went through");
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"), "logout did not go through");
}

#[tokio::test]
async fn next_is_followed_only_when_it_is_a_path_on_this_site() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    for (next, expected) in [
        ("/chat", "/chat"),
        ("/", "/"),
        ("https://evil.example/", "/chat"),
        ("//evil.example/", "/chat"),
        ("/\\evil.example", "/chat"),
        ("javascript:alert(1)", "/chat"),
    ] {
        let response = app
            .post_form_with(
                &common::client(),
                "/api/login",
                &[("email", "ann@example.com"), ("password", GOOD), ("next", next)],
            )
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["location"], expected, "next={next}");
    }
    // Without JavaScript: a real 302 to the same safe place.
    let response = app
        .client
        .post(app.url("/api/login"))
        .header("accept", "text/html")
        .header("referer", app.url("/login?next=https://evil.example/"))
        .form(&[("email", "ann@example.com"), ("password", GOOD), ("next", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/chat");
}

#[tokio::test]
async fn the_chat_page_sends_signed_out_visitors_to_log_in_first() {
    let app = TestApp::spawn().await;
    let response = app.get("/chat").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/login?next=/chat");
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let response = app.get("/chat").await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(
        csp.contains("'nonce-")
            && csp.contains("wss://*.twilio.com")
            && csp.contains("frame-ancestors 'none'")
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.text().await.unwrap().contains("<h1>Chat</h1>"));
}

#[tokio::test]
async fn forms_without_javascript_redirect_with_the_error_for_the_page() {
    let app = TestApp::spawn().await;
    let response = app
        .post_plain_form(
            "/api/login",
            "/login",
            &[("email", "ann@example.com"), ("password", "not the password")],
        )
        .await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("/login?") && location.contains("__err="), "{location}");
    let page = app.client.get(location).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Wrong email or password."), "the login page shows the error inline");
}

/// `next`, `__path` and `__err` come from the URL and go into the form islands' props,
/// which the page carries as JSON in an attribute: garbage there must render a page, not
/// a 500, and markup in it must stay text.
#[tokio::test]
async fn garbage_in_the_query_of_the_form_pages_renders_a_page_and_stays_text() {
    let app = TestApp::spawn().await;
    let script = "\"'><script>alert(1)</script>";
    let long = "x".repeat(4000);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("next", script)],
        vec![("__path", "/api/login"), ("__err", script)],
        vec![("__path", "/api/signup"), ("__err", "{\"error\":\"bad_input\",\"field\":")],
        vec![("__path", "/api/login"), ("__err", "")],
        vec![("__path", script), ("__err", "Wrong")],
        vec![("__err", "no path")],
        vec![("__path", "/api/login"), ("__err", long.as_str()), ("next", long.as_str())],
        vec![("next", "\u{0}\u{feff}\u{202e}caf\u{e9}"), ("__path", "\u{0}"), ("__err", "\u{0}")],
    ];
    for page in ["/login", "/signup"] {
        for query in &cases {
            let response = app.client.get(app.url(page)).query(query).send().await.unwrap();
            assert_eq!(response.status(), 200, "{page} {query:?}");
            let html = response.text().await.unwrap();
            assert!(html.contains("<form"), "{page} {query:?}: the form is there");
            assert!(!html.contains("<script>alert(1)"), "{page} {query:?}: markup stays text");
            if page == "/login" && query == &cases[0] {
                assert!(html.contains("alert(1)"), "next reaches the page (escaped), or this proves nothing");
            }
        }
    }
    assert_eq!(app.user_count().await, 0);
    assert_eq!(app.session_count().await, 0);
}

#[tokio::test]
async fn the_session_id_changes_at_login_and_logout_deletes_it_on_the_server() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    // A visitor with a pre-existing session cookie (e.g. planted by an attacker).
    let client = common::client();
    let planted = "chatpass_session=AAAAAAAAAAAAAAAAAAAAAA";
    let response = client
        .post(app.url("/api/login"))
        .header("origin", format!("http://{}", app.addr))
        .header("accept", "application/json")
        .header("cookie", planted)
        .form(&[("email", "ann@example.com"), ("password", GOOD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.starts_with("chatpass_session="), "{set_cookie}");
    assert!(!set_cookie.starts_with(planted), "a new id at login");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{attribute} in {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "no Secure on plain http");
    let cookie = set_cookie.split(';').next().unwrap().to_string();

    // The saved cookie works until logout...
    let replay = |cookie: String| {
        let app = &app;
        async move {
            let response = reqwest::Client::new()
                .post(app.url("/api/current_user"))
                .header("cookie", cookie)
                .header("accept", "application/json")
                .send()
                .await
                .unwrap();
            common::answer::<Option<UserInfo>>(response, 200).await
        }
    };
    assert_eq!(replay(cookie.clone()).await.expect("signed in").email, "ann@example.com");
    let sessions_before = app.session_count().await;
    let response = reqwest::Client::new()
        .post(app.url("/api/logout"))
        .header("cookie", cookie.clone())
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(app.session_count().await, sessions_before - 1, "the session row is deleted");
    // ...and is worthless afterwards.
    assert_eq!(replay(cookie).await, None);
}

#[tokio::test]
async fn secure_cookies_when_the_public_url_is_https() {
    let app = TestApp::builder().env("CHATPASS_PUBLIC_URL", "https://chat.example.com").spawn().await;
    let response = app
        .client
        .post(app.url("/api/signup"))
        .header("origin", "https://chat.example.com")
        .header("accept", "application/json")
        .form(&[("email", "ann@example.com"), ("password", GOOD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let token = app.verification_token("ann@example.com", 1).await;
    let response = app
        .client
        .post(app.url("/api/verify_email"))
        .header("origin", "https://chat.example.com")
        .header("accept", "application/json")
        .form(&[("token", token.as_str()), ("password", GOOD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-chatpass_session=") && cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("Path=/") && !cookie.to_lowercase().contains("domain="), "{cookie}");
    assert_eq!(response.headers()["strict-transport-security"], "max-age=63072000");
    assert_eq!(response.headers()["cache-control"], "no-store", "account data is never cached");
    // The link in the mail points at the public URL, not at the address the server listens on.
    let mail = app.wait_for_mail("ann@example.com", 1).await;
    assert!(common::mail::links(&mail)[0].starts_with("https://chat.example.com/verify?token="), "{mail}");
    // With a public URL set, the request's own host is no longer trusted as the origin.
    let response = app.signup("bob@example.com", GOOD).await;
    assert_eq!(response.status(), 403);
    // Plain http: no HSTS (a browser would pin https on a site that has none).
    let plain = TestApp::spawn().await;
    let home = plain.get("/").await;
    assert!(home.headers().get("strict-transport-security").is_none());
    assert!(home.headers().get("cache-control").is_none_or(|v| v != "no-store"), "pages may be cached");
}

#[tokio::test]
async fn a_session_survives_a_server_restart() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let app = app.restart().await;
    assert_eq!(app.whoami().await.as_deref(), Some("ann@example.com"));
}

#[tokio::test]
async fn a_password_change_ends_other_sessions() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    assert!(app.whoami().await.is_some());
    // A new session key (what every password change sets) invalidates the session.
    app.execute("UPDATE users SET session_key = session_key || 'x'").await;
    assert_eq!(app.whoami().await, None);
}

#[tokio::test]
async fn a_logged_out_cookie_gets_no_user() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    assert_eq!(app.post_form("/api/logout", &[]).await.status(), 200);
    assert_eq!(app.whoami().await, None);
    // Logging out twice is harmless.
    assert_eq!(app.post_form("/api/logout", &[]).await.status(), 200);
}

#[tokio::test]
async fn forty_wrong_passwords_for_one_account_bring_429_with_retry_after() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let attacker = common::client();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..40 {
        let response = app
            .post_form_with(
                &attacker,
                "/api/login",
                &[("email", "ann@example.com"), ("password", &format!("guess-{i:04}"))],
            )
            .await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            retry_after =
                response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            assert!(matches!(common::app_error(response).await, AppError::RateLimited { .. }));
        }
    }
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    let first_429 = statuses.iter().position(|s| *s == 429).expect("429 comes");
    assert!(first_429 <= 11, "429 after the default budget of 10: {statuses:?}");
    assert!(statuses[first_429..].iter().all(|s| *s == 429), "stays limited: {statuses:?}");
    assert!(retry_after.unwrap() >= 1);
    // Even the right password waits now: the account is limited, not the guess.
    assert_eq!(
        app.post_form_with(&attacker, "/api/login", &[("email", "ann@example.com"), ("password", GOOD)])
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn sign_ups_per_address_are_limited() {
    let app = TestApp::builder().env("CHATPASS_SIGNUPS_PER_IP", "3").spawn().await;
    for i in 0..3 {
        let email = format!("user{i}@example.com");
        let response = app
            .post_form_with(&common::client(), "/api/signup", &[("email", &email), ("password", GOOD)])
            .await;
        assert_eq!(response.status(), 202);
    }
    let response = app.signup("user9@example.com", GOOD).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(app.user_count().await, 3);
}

/// A link someone else wrote (`/login?__path=…&__err=…`) cannot put text in the real login
/// page's error banner: only an error this server signed when it redirected is shown.
#[tokio::test]
async fn a_form_error_in_a_link_someone_else_wrote_is_not_shown() {
    use base64::{engine::general_purpose::URL_SAFE, Engine};
    let app = TestApp::spawn().await;
    let forged = serde_json::json!({"error": "bad_input", "field": "email", "reason": "Account locked: call 555-0100"});
    let err = URL_SAFE.encode(forged.to_string());
    for page in ["/login", "/signup", "/forgot", "/reset?token=x"] {
        for sig in ["", "00", &"ab".repeat(32)] {
            let sep = if page.contains('?') { '&' } else { '?' };
            let url = format!("{page}{sep}__path=/api/login&__err={err}&__sig={sig}");
            let html = app.get(&url).await.text().await.unwrap();
            assert!(html.contains("<form"), "{url}");
            assert!(!html.contains("555-0100"), "{url}: a forged message is not shown");
        }
    }
    // The server's own error, through the redirect it signed, is shown.
    let response = app
        .post_plain_form(
            "/api/login",
            "/login",
            &[("email", "ann@example.com"), ("password", "not the password")],
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("__sig="), "{location}");
    let html = app.client.get(&location).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Wrong email or password."));
}

/// Bodies that are not UTF-8, or not a form, are 400 with a JSON error: no 500.
#[tokio::test]
async fn a_body_that_is_not_utf8_is_400_not_500() {
    let app = TestApp::spawn().await;
    let bodies: [&[u8]; 4] =
        [b"email=\xff\xfe@example.com&password=abcdefghij", b"\xc3\x28", b"%ff%fe=%c3%28", b"email=a%00b"];
    for path in ["/api/login", "/api/signup", "/api/forgot_password", "/api/chat_token"] {
        for body in bodies {
            let response = app
                .client
                .post(app.url(path))
                .header("origin", format!("http://{}", app.addr))
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_vec())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "{path} {body:?}: {status}");
        }
    }
    assert_eq!(app.user_count().await, 0);
}
