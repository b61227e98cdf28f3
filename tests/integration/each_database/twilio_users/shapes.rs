//! The requests chatpass sends Twilio, held to what twilio-python (Twilio's own helper
//! library, pinned in `tests/oracle/requirements.txt`) sends for the same calls against the
//! same stand-in; and identities with the characters a URL path reserves, which must stay
//! one path segment.

use chatpass::twilio::rest::CallError;
use serde_json::json;

use super::{
    create, delete, delete_call, live, live_env, prove, rename, rename_call, Live, Made, SECRET, USERS_FORM,
};
use crate::common::{
    fixtures::{ACCOUNT_SID, API_KEY, SERVICE_SID},
    twilio::{python_oracle, Recorded},
};

/// What a request asks, compared between chatpass and twilio-python. The raw path is not
/// in it: twilio-python does not percent-encode the identity at all (`…/Users/ann@x.y`, and
/// an identity with `/`, `?` or `#` breaks its URL), chatpass encodes every reserved byte
/// (`…/Users/ann%40x.y`); what Twilio reads, each segment decoded once, is compared.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    method: String,
    path_segments: Vec<String>,
    query: String,
    form: Vec<(String, String)>,
    basic_auth: Option<(String, String)>,
    content_type: Option<String>,
}

impl From<&Recorded> for Shape {
    fn from(r: &Recorded) -> Shape {
        Shape {
            method: r.method.clone(),
            path_segments: r.path_segments.clone(),
            query: r.query.clone(),
            form: r.form.clone(),
            basic_auth: r.basic_auth.clone(),
            content_type: r.header("content-type").map(str::to_string),
        }
    }
}

#[tokio::test]
async fn chatpass_sends_what_twilio_python_sends_for_create_rename_and_delete() {
    let live = live(&[]).await;
    let ann = prove(&live.app, "ann@example.com", Some("Ann Lee")).await;
    live.settled(1).await;
    rename(&live.app, &ann, "Ann Lee-Smith ü").await;
    live.settled(2).await;
    delete(&live.app, &ann).await;
    live.settled(3).await;
    let ours = live.twilio.requests().await;
    assert_eq!(
        ours.iter().map(Made::from).collect::<Vec<_>>(),
        [
            create("ann@example.com", "Ann Lee", 201),
            rename_call("ann@example.com", "Ann Lee-Smith ü", 200),
            delete_call("ann@example.com", 204)
        ]
    );
    for r in &ours {
        assert_eq!(r.header("accept"), Some("application/json"), "{r:?}");
        let agent = r.header("user-agent").unwrap_or_default();
        assert_eq!(agent, concat!("chatpass/", env!("CARGO_PKG_VERSION")), "{r:?}");
    }
    // The identity is one percent-encoded segment in chatpass's paths.
    assert_eq!(ours[1].raw_path, format!("/v1/Services/{SERVICE_SID}/Users/ann%40example.com"));

    live.twilio.reset().await;
    let ops = json!([
        {"op": "create", "identity": "ann@example.com", "friendly_name": "Ann Lee"},
        {"op": "update", "identity": "ann@example.com", "friendly_name": "Ann Lee-Smith ü"},
        {"op": "delete", "identity": "ann@example.com"},
    ]);
    let results = python_oracle(&json!({
        "base_url": live.twilio.url(), "account_sid": ACCOUNT_SID, "api_key": API_KEY,
        "api_secret": SECRET, "service_sid": SERVICE_SID, "ops": ops,
    }));
    assert!(results.as_array().unwrap().iter().all(|r| r["ok"] == true), "{results}");
    let theirs = live.twilio.requests().await;

    let shapes = |records: &[Recorded]| records.iter().map(Shape::from).collect::<Vec<_>>();
    assert_eq!(shapes(&ours), shapes(&theirs), "chatpass's requests against twilio-python's");
    assert_eq!(ours[0].header("content-type"), Some(USERS_FORM));
}

/// `chatpass twilio sync` reads the service's Users page by page: every page asked for as
/// twilio-python asks for it (the first with `PageSize`, the rest by the URL the page
/// before named), and the same Users read.
#[tokio::test]
async fn listing_every_page_asks_what_twilio_python_asks() {
    let live = live(&[]).await;
    let users: Vec<(String, String)> =
        (0..2100).map(|i| (format!("user{i:04}@example.com"), format!("User {i}"))).collect();
    live.twilio.seed_users(SERVICE_SID, &users).await;
    let api = users_api(&live);
    let (mut ours, mut page) = (Vec::new(), None);
    loop {
        let (listed, next) = api.list_page(page.as_deref()).await.expect("a page");
        ours.extend(listed.into_iter().map(|u| u.identity));
        match next {
            Some(next) => page = Some(next),
            None => break,
        }
    }
    let our_requests = live.twilio.requests().await;
    assert_eq!(our_requests.len(), 3, "2,100 Users in pages of 1,000");

    live.twilio.reset().await;
    live.twilio.seed_users(SERVICE_SID, &users).await;
    let results = python_oracle(&json!({
        "base_url": live.twilio.url(), "account_sid": ACCOUNT_SID, "api_key": API_KEY,
        "api_secret": SECRET, "service_sid": SERVICE_SID, "ops": [{"op": "list", "page_size": 1000}],
    }));
    assert_eq!(results[0]["ok"], true, "{results}");
    let theirs: Vec<String> = serde_json::from_value(results[0]["identities"].clone()).unwrap();
    assert_eq!(ours, theirs, "the same Users, in the same order");
    // A page token is the stand-in's, new for each store (seeded twice here), so it is
    // compared by place; and a GET has no body, so no content type is compared (requests,
    // under twilio-python, names one anyway on the first).
    let asked = |records: &[Recorded]| -> Vec<Shape> {
        records
            .iter()
            .map(|r| {
                let query: Vec<String> = r
                    .query
                    .split('&')
                    .map(|p| if p.starts_with("PageToken=") { "PageToken=…".into() } else { p.to_string() })
                    .collect();
                Shape { query: query.join("&"), content_type: None, ..Shape::from(r) }
            })
            .collect()
    };
    assert_eq!(asked(&our_requests), asked(&live.twilio.requests().await));
}

/// The client the sender uses, made from the live app's settings.
fn users_api(live: &Live) -> chatpass::twilio::rest::UsersApi {
    let env: Vec<(String, String)> =
        live_env(&live.twilio).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let config =
        chatpass::config::Config::from_lookup(|k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
            .expect("settings");
    chatpass::twilio::rest::UsersApi::new(&config.twilio_side.api_url, config.twilio.account().unwrap())
        .expect("a client")
}

/// Emails may hold `+ / ? #` before the `@` (and chatpass accepts them): through the
/// whole flow, each account's User is made, renamed and deleted by exactly its email.
#[tokio::test]
async fn emails_with_reserved_characters_stay_one_path_segment() {
    let live = live(&[]).await;
    let emails = [
        "a+b@example.com",
        "x/y@example.com",
        "q?r@example.com",
        "h#t@example.com",
        "a+b/c?d#e&f=g@example.com",
    ];
    let mut accounts = Vec::new();
    for (n, email) in emails.iter().enumerate() {
        accounts.push(prove(&live.app, email, Some(&format!("Person {n}"))).await);
    }
    live.settled(emails.len()).await;
    let held = |names: Vec<(String, Option<String>)>| {
        names.into_iter().map(|(i, n)| (i, n.unwrap())).collect::<Vec<_>>()
    };
    let expected = |prefix: &str| -> Vec<(String, String)> {
        emails.iter().enumerate().map(|(n, e)| (e.to_string(), format!("{prefix} {n}"))).collect()
    };
    assert_eq!(held(live.named_users().await), expected("Person"));

    for (n, account) in accounts.iter().enumerate() {
        rename(&live.app, account, &format!("Renamed {n}")).await;
    }
    live.settled(2 * emails.len()).await;
    assert_eq!(held(live.named_users().await), expected("Renamed"), "each renamed by its own identity");

    for account in &accounts {
        delete(&live.app, account).await;
    }
    live.settled(3 * emails.len()).await;
    assert!(live.users().await.is_empty(), "each deleted by its own identity");

    let records = live.twilio.requests().await;
    for r in records.iter().filter(|r| r.path_segments.len() > 4) {
        // One segment after Users, and it decodes to exactly the email.
        assert_eq!(r.path_segments.len(), 5, "{r:?}");
        assert!(emails.contains(&r.path_segments[4].as_str()), "{r:?}");
        assert!(!r.raw_path.contains(['@', '+', '#']), "reserved bytes are encoded: {r:?}");
        assert_eq!(r.query, "", "nothing of the identity leaked into a query: {r:?}");
    }
    assert_eq!(records.iter().filter(|r| r.answered >= 400).count(), 0, "no call missed its User");
}

/// Identities no account can have (emails refuse `%` and spaces before the `@`, and a
/// domain's `ü` becomes `xn--…`), but Twilio allows and `chatpass twilio sync` may meet:
/// the client the sender uses keeps them one segment too.
#[tokio::test]
async fn any_identity_stays_one_path_segment_in_the_client_the_sender_uses() {
    let live: Live = live(&[]).await;
    let api = users_api(&live);
    let identities =
        ["100%@example.com", "%41", "a b@example.com", "jürgen@bücher.example", "@+/?#% ü", "...", ".a"];
    for identity in identities {
        api.create(identity, "Before").await.unwrap_or_else(|e| panic!("create {identity:?}: {e}"));
        api.rename(identity, &format!("After {identity}"))
            .await
            .unwrap_or_else(|e| panic!("rename {identity:?}: {e}"));
    }
    let held: Vec<(String, Option<String>)> = live.named_users().await;
    let expected: Vec<(String, Option<String>)> =
        identities.iter().map(|i| (i.to_string(), Some(format!("After {i}")))).collect();
    assert_eq!(held, expected, "the store holds each identity exactly, renamed by it");
    for identity in identities {
        api.delete(identity).await.unwrap_or_else(|e| panic!("delete {identity:?}: {e}"));
    }
    assert!(live.users().await.is_empty());
    for r in live.twilio.requests().await.iter().filter(|r| r.path_segments.len() > 4) {
        assert_eq!(r.path_segments.len(), 5, "one segment: {r:?}");
        assert!(identities.contains(&r.path_segments[4].as_str()), "{r:?}");
        assert_eq!(r.query, "", "{r:?}");
    }
    // Deleted already: 404 is "not found", not a failure of another kind.
    assert!(matches!(api.delete("a b@example.com").await, Err(CallError::NotFound)));

    // `.` and `..` are steps in any URL's path however they are encoded (`…/Users/..` is
    // the service itself), and an empty one is `…/Users/`: such a call is refused, unsent.
    let sent = live.twilio.requests().await.len();
    for identity in ["", ".", ".."] {
        assert!(
            matches!(api.rename(identity, "x").await, Err(CallError::Refused { status: 0, .. })),
            "{identity:?}"
        );
        assert!(
            matches!(api.delete(identity).await, Err(CallError::Refused { status: 0, .. })),
            "{identity:?}"
        );
    }
    assert_eq!(live.twilio.requests().await.len(), sent, "nothing sent for them");
}
