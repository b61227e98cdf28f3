//! The Auth Token signs Twilio's webhooks: it is in no answer of the webhook, whatever the
//! answer is, in its body or any header.

use super::{
    app, event, form_body, hook_url, message_from, send, send_raw, twilio_signature, Answer, AUTH_TOKEN,
    OTHER_TOKEN, PATH,
};

fn assert_no_token(what: &str, answer: &Answer) {
    let mut texts = vec![answer.text()];
    for (name, value) in &answer.headers {
        texts.push(format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())));
    }
    for text in &texts {
        for needle in [AUTH_TOKEN.to_string(), AUTH_TOKEN.to_uppercase(), AUTH_TOKEN[..16].to_string()] {
            assert!(!text.contains(&needle), "{what}: the Auth Token in {text:?}");
        }
    }
}

#[tokio::test]
async fn the_auth_token_is_in_no_answer() {
    let app = app().await;
    let ann = app.proven_user("ann@example.com").await;
    let mut answers: Vec<(&str, Answer)> = vec![
        ("allowed", send(&app, &message_from(&ann.email)).await),
        ("refused", send(&app, &message_from("nobody@example.com")).await),
        ("another event", send(&app, &event("onMessageAdded", &[])).await),
        ("unsigned", send_raw(&app, PATH, form_body(&message_from(&ann.email)), &[]).await),
        (
            "the token as the signature",
            send_raw(&app, PATH, form_body(&message_from(&ann.email)), &[AUTH_TOKEN]).await,
        ),
    ];
    let other = twilio_signature(OTHER_TOKEN, &hook_url(&app), &message_from(&ann.email));
    answers
        .push(("another token", send_raw(&app, PATH, form_body(&message_from(&ann.email)), &[&other]).await));
    let not_utf8 = vec![(b"Body".to_vec(), vec![0xff]), (b"EventType".to_vec(), b"onMessageAdd".to_vec())];
    answers.push(("not UTF-8", send(&app, &not_utf8).await));
    let huge = vec![(b"Body".to_vec(), vec![b'x'; 300 * 1024])];
    answers.push(("too large", send(&app, &huge).await));
    answers.push((
        "a query",
        super::send_signed_for(&app, &format!("{PATH}?token={AUTH_TOKEN}"), "x", &Vec::new()).await,
    ));
    let statuses: Vec<u16> = answers.iter().map(|(_, a)| a.status).collect();
    assert_eq!(statuses, [200, 403, 200, 403, 403, 403, 400, 413, 403]);
    for (what, answer) in &answers {
        assert_no_token(what, answer);
    }
}
