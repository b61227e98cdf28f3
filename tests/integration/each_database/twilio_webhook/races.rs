//! An account deleted while Twilio asks about its messages: a webhook may be allowed only if
//! it was judged before the deletion answered. No sleeps: some webhooks are held with their
//! body unsent (the server has begun reading them) until the deletion has answered, others
//! run freely across it, and every one sent after the deletion's answer must be refused.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::{
    app, form_body, hook_url, message_from, participant_added, send, twilio_signature, Answer, Outcome,
    Params, AUTH_TOKEN, PATH,
};
use crate::common::{self, fixtures::GOOD, TestApp};

/// A signed webhook whose head is sent with `Expect: 100-continue` and whose body is held
/// back until [`HeldWebhook::finish`]: the server is serving it (it asked for the body) but
/// has read none of it, so it is judged after whatever happens meanwhile.
struct HeldWebhook {
    stream: TcpStream,
    body: Vec<u8>,
}

impl HeldWebhook {
    async fn start(app: &TestApp, params: &Params) -> HeldWebhook {
        let body = form_body(params);
        let signature = twilio_signature(AUTH_TOKEN, &hook_url(app), params);
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        let head = format!(
            "POST {PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             X-Twilio-Signature: {signature}\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\
             Connection: close\r\n\r\n",
            addr = app.addr,
            length = body.len(),
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        common::until_asked_for_the_body(&mut stream).await;
        HeldWebhook { stream, body }
    }

    async fn finish(mut self) -> Outcome {
        self.stream.write_all(&self.body).await.unwrap();
        let mut answer = Vec::new();
        self.stream.read_to_end(&mut answer).await.unwrap();
        let text = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no answer: {text:?}"));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{head}"));
        Answer { status, headers: Default::default(), body: body.as_bytes().to_vec() }.outcome()
    }
}

#[tokio::test]
async fn no_webhook_sent_after_an_account_deletion_has_answered_is_allowed() {
    let app = app().await;
    let ann = app.proven_user("ann@example.com").await;
    let carl = app.proven_user("carl@example.com").await;
    // Carl's message, and Ann adding Carl: both his actions.
    let his = |i: usize| {
        if i.is_multiple_of(2) {
            message_from(&carl.email)
        } else {
            participant_added(Some(&ann.email), &carl.email)
        }
    };
    let mut held = Vec::new();
    for i in 0..4 {
        held.push(HeldWebhook::start(&app, &his(i)).await);
    }
    let deleted = AtomicBool::new(false);
    // Twenty in flight when the deletion starts.
    let racing = futures::future::join_all((0..20).map(|i| {
        let params = his(i);
        let app = &app;
        async move { send(app, &params).await.outcome() }
    }));
    // A stream across the deletion, each noting whether it was sent after its answer.
    let stream = async {
        let mut seen = Vec::new();
        let mut sent_after = 0;
        for i in 0.. {
            let after = deleted.load(Ordering::SeqCst);
            seen.push((after, send(&app, &his(i)).await.outcome()));
            sent_after += usize::from(after);
            if sent_after == 10 {
                break;
            }
            tokio::task::yield_now().await;
        }
        seen
    };
    let deletion = async {
        let answer = app.post_form_with(&carl.client, "/api/delete_account", &[("password", GOOD)]).await;
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap_or_default());
        deleted.store(true, Ordering::SeqCst);
    };
    let (raced, seen, ()) = tokio::join!(racing, stream, deletion);
    for (after, outcome) in &seen {
        if *after {
            assert_eq!(*outcome, Outcome::Refused, "sent after the deletion answered: {seen:?}");
        } else {
            assert!([Outcome::Allowed, Outcome::Refused].contains(outcome), "{seen:?}");
        }
    }
    for (i, request) in held.into_iter().enumerate() {
        assert_eq!(request.finish().await, Outcome::Refused, "held webhook {i}: read after the deletion");
    }
    assert!(raced.iter().all(|o| [Outcome::Allowed, Outcome::Refused].contains(o)), "racing: {raced:?}");
    // Ann is untouched.
    assert_eq!(send(&app, &message_from(&ann.email)).await.outcome(), Outcome::Allowed);
}
