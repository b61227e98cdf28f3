//! The Twilio stand-in (`tests/twilio/standin.py`) against twilio-python, Twilio's own
//! helper library: the library can work with it (create, update, fetch, a list over three
//! pages, delete, and Twilio's errors), it records what the library sends, and its scripts
//! misbehave as told. The tests that hold chatpass's Twilio client to the same requests
//! stand on this.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::twilio::{python_oracle, Recorded, TwilioStandIn};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "SKfedcba9876543210fedcba9876543210";
const SECRET: &str = "the-api-secret";
const SERVICE: &str = "IS00112233445566778899aabbccddeeff";
const FORM: &str = "application/x-www-form-urlencoded";

fn oracle_input(standin: &TwilioStandIn, secret: &str, ops: Value) -> Value {
    json!({
        "base_url": standin.url(),
        "account_sid": ACCOUNT,
        "api_key": KEY,
        "api_secret": secret,
        "service_sid": SERVICE,
        "ops": ops,
    })
}

fn users_path() -> String {
    format!("/v1/Services/{SERVICE}/Users")
}

fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The status and Twilio error code of an op that failed with a TwilioRestException.
fn failure(result: &Value) -> (u64, u64) {
    assert_eq!(result["ok"], false, "{result}");
    (result["status"].as_u64().expect("status"), result["code"].as_u64().expect("code"))
}

/// What every request of twilio-python carries: the key and secret as Basic auth, its
/// User-Agent, JSON wanted (but on DELETE, where it drops its Accept).
fn assert_library_request(r: &Recorded) {
    assert_eq!(r.basic_auth, Some((KEY.to_string(), SECRET.to_string())), "{r:?}");
    let user_agent = r.header("user-agent").unwrap_or_default();
    assert!(user_agent.starts_with("twilio-python/9.13.0 ("), "{user_agent}");
    assert_eq!(r.header("x-twilio-client"), Some("python-9.13.0"));
    assert_eq!(r.header("accept-charset"), Some("utf-8"));
    let accept = if r.method == "DELETE" { "*/*" } else { "application/json" };
    assert_eq!(r.header("accept"), Some(accept), "{r:?}");
    if r.method == "POST" {
        assert_eq!(r.header("content-type"), Some(FORM), "{r:?}");
    }
}

#[tokio::test]
async fn twilio_python_works_against_the_stand_in_and_is_recorded() {
    let standin =
        TwilioStandIn::start_with(json!({"credentials": [[KEY, SECRET]], "account_sid": ACCOUNT})).await;
    for n in 0..120 {
        standin.seed_user(SERVICE, &format!("seed{n:03}@example.test"), &format!("Seed {n}")).await;
    }
    let ops = json!([
        {"op": "create", "identity": "ada@example.test", "friendly_name": "Ada"},
        {"op": "update", "identity": "ada@example.test", "friendly_name": "Ada L."},
        {"op": "fetch", "identity": "ada@example.test"},
        {"op": "list", "page_size": 50},
        {"op": "delete", "identity": "ada@example.test"},
        {"op": "create", "identity": "twice@example.test"},
        {"op": "create", "identity": "twice@example.test", "friendly_name": "Again"},
        {"op": "delete", "identity": "twice@example.test"},
        {"op": "delete", "identity": "twice@example.test"},
    ]);
    let results = python_oracle(&oracle_input(&standin, SECRET, ops));

    let ada = &results[0]["user"];
    assert_eq!(results[0]["ok"], true, "{results}");
    assert_eq!(
        (ada["identity"].as_str(), ada["friendly_name"].as_str()),
        (Some("ada@example.test"), Some("Ada"))
    );
    assert!(ada["sid"].as_str().is_some_and(|s| s.starts_with("US") && s.len() == 34), "{ada}");
    assert_eq!(results[1]["user"]["friendly_name"], "Ada L.", "{results}");
    assert_eq!(
        results[2]["user"],
        json!({"sid": ada["sid"], "identity": "ada@example.test", "friendly_name": "Ada L."})
    );
    let listed: Vec<&str> =
        results[3]["identities"].as_array().expect("identities").iter().filter_map(Value::as_str).collect();
    let mut expected: Vec<String> = (0..120).map(|n| format!("seed{n:03}@example.test")).collect();
    expected.push("ada@example.test".into());
    assert_eq!(listed, expected, "every page, in creation order");
    assert_eq!(results[4], json!({"ok": true}));
    assert_eq!(results[5]["ok"], true, "{results}");
    assert_eq!(failure(&results[6]), (409, 50201), "{results}");
    assert_eq!(results[7], json!({"ok": true}));
    assert_eq!(failure(&results[8]), (404, 20404), "{results}");

    let seen = standin.requests().await;
    let users = users_path();
    let ada_path = format!("{users}/ada@example.test");
    let twice_path = format!("{users}/twice@example.test");
    let summary: Vec<(&str, &str, u16)> =
        seen.iter().map(|r| (r.method.as_str(), r.raw_path.as_str(), r.answered)).collect();
    assert_eq!(
        summary,
        vec![
            ("POST", users.as_str(), 201),
            ("POST", ada_path.as_str(), 200),
            ("GET", ada_path.as_str(), 200),
            ("GET", users.as_str(), 200),
            ("GET", users.as_str(), 200),
            ("GET", users.as_str(), 200),
            ("DELETE", ada_path.as_str(), 204),
            ("POST", users.as_str(), 201),
            ("POST", users.as_str(), 409),
            ("DELETE", twice_path.as_str(), 204),
            ("DELETE", twice_path.as_str(), 404),
        ]
    );
    for r in &seen {
        assert_library_request(r);
    }
    // The identity goes into the path as it is: twilio-python does not encode its "@".
    assert_eq!(seen[1].path_segments.last().map(String::as_str), Some("ada@example.test"));
    assert_eq!(seen[0].form, pairs(&[("Identity", "ada@example.test"), ("FriendlyName", "Ada")]));
    assert_eq!(seen[0].body, "Identity=ada%40example.test&FriendlyName=Ada");
    assert_eq!(seen[1].form, pairs(&[("FriendlyName", "Ada L.")]));
    assert_eq!(
        seen[7].form,
        pairs(&[("Identity", "twice@example.test")]),
        "no FriendlyName when none is given"
    );
    for r in [&seen[2], &seen[6]] {
        assert_eq!((r.body.as_str(), r.query.as_str()), ("", ""), "{r:?}");
    }
    // The list: PageSize on the first page, then the stand-in's next_page_url as given.
    assert_eq!(seen[3].query, "PageSize=50");
    assert!(seen[4].query.starts_with("PageSize=50&Page=1&PageToken=PA"), "{}", seen[4].query);
    assert!(seen[5].query.starts_with("PageSize=50&Page=2&PageToken=PA"), "{}", seen[5].query);

    let stored = standin.users(SERVICE).await;
    assert_eq!(stored.len(), 120, "ada and twice are gone");
    assert!(stored.iter().all(|u| u.identity.starts_with("seed") && u.attributes == "{}"));
    assert_eq!(stored[7].friendly_name.as_deref(), Some("Seed 7"));

    // A secret the stand-in does not know: Twilio's 401.
    let refused = python_oracle(&oracle_input(
        &standin,
        "wrong",
        json!([{"op": "fetch", "identity": "seed000@example.test"}]),
    ));
    assert_eq!(failure(&refused[0]), (401, 20003), "{refused}");
    let last = standin.requests().await.pop().expect("the refused request is recorded");
    assert_eq!((last.answered, last.basic_auth), (401, Some((KEY.to_string(), "wrong".to_string()))));
}

#[tokio::test]
async fn a_scripted_500_answers_once_then_the_emulation_does() {
    let standin = TwilioStandIn::start().await;
    standin
        .script(json!([{
            "method": "POST", "path_prefix": users_path(), "status": 500,
            "body": {"code": 20500, "message": "Internal Server Error", "status": 500},
            "headers": {"Retry-After": "1"}, "times": 1,
        }]))
        .await;
    let ops = json!([
        {"op": "create", "identity": "grace@example.test", "friendly_name": "Grace"},
        {"op": "create", "identity": "grace@example.test", "friendly_name": "Grace"},
    ]);
    let results = python_oracle(&oracle_input(&standin, SECRET, ops));
    assert_eq!(failure(&results[0]), (500, 20500), "{results}");
    assert_eq!(results[1]["ok"], true, "{results}");
    let seen = standin.wait_for("two creates", Duration::from_secs(5), |r| r.len() == 2).await;
    assert_eq!(seen.iter().map(|r| r.answered).collect::<Vec<_>>(), vec![500, 201]);
    assert_eq!(seen[0].form, seen[1].form, "the scripted answer still records the request");
    let stored = standin.users(SERVICE).await;
    assert_eq!(stored.iter().map(|u| u.identity.as_str()).collect::<Vec<_>>(), vec!["grace@example.test"]);

    standin.reset().await;
    assert!(standin.requests().await.is_empty());
    assert!(standin.users(SERVICE).await.is_empty());
}

#[tokio::test]
async fn a_scripted_hang_holds_its_request_and_no_other() {
    let standin = TwilioStandIn::start().await;
    let seeded = standin.seed_user(SERVICE, "kept@example.test", "Kept").await;
    let hung_path = format!("{}/hung@example.test", users_path());
    standin.script(json!([{"method": "GET", "path_prefix": hung_path, "hang": true}])).await;
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(1)).build().unwrap();

    let hung = {
        let request = client.get(format!("{}{hung_path}", standin.url())).basic_auth(KEY, Some(SECRET));
        tokio::spawn(async move {
            let started = Instant::now();
            (request.send().await, started.elapsed())
        })
    };
    standin
        .wait_for("the hung request", Duration::from_secs(5), |r| r.iter().any(|r| r.raw_path == hung_path))
        .await;
    // While it hangs, another request is answered by the emulation, at once.
    let started = Instant::now();
    let other = client
        .get(format!("{}{}/kept@example.test", standin.url(), users_path()))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .expect("answered while the other hangs");
    assert_eq!(other.status(), 200);
    let user: Value = other.json().await.unwrap();
    assert_eq!(user["sid"], seeded.sid.as_str());
    assert!(started.elapsed() < Duration::from_millis(900), "{:?}", started.elapsed());

    let (outcome, waited) = hung.await.unwrap();
    let error = outcome.expect_err("the hung request is never answered");
    assert!(error.is_timeout(), "{error}");
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    let seen = standin.requests().await;
    assert_eq!(seen.iter().map(|r| r.answered).collect::<Vec<_>>(), vec![0, 200]);
}
