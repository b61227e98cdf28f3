//! The webhook's body: up to 256 KiB (a long message and its attributes; other routes take
//! 16 KiB), 413 above; the signature is checked on the bytes sent, before they are read as
//! text, so a body that is not UTF-8 is 403 unsigned and 400 signed.

use super::{
    app, form_body, hook_url, message_from, send, send_raw, twilio_signature, Outcome, Params, AUTH_TOKEN,
    OTHER_TOKEN, PATH,
};
use chatpass::error::AppError;

/// Ann's message with its `Body` replaced by `body`.
fn message_with_body(body: &[u8]) -> Params {
    let mut params = message_from("ann@example.com");
    for (name, value) in params.iter_mut() {
        if name == b"Body" {
            *value = body.to_vec();
        }
    }
    params
}

#[tokio::test]
async fn a_megabyte_body_is_413_and_the_webhook_works_on() {
    let app = app().await;
    let _ann = app.proven_user("ann@example.com").await;
    let params = message_with_body("x".repeat(1024 * 1024).as_bytes());
    let signature = twilio_signature(AUTH_TOKEN, &hook_url(&app), &params);
    let answer = send_raw(&app, PATH, form_body(&params), &[&signature]).await;
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert_eq!(send(&app, &message_from("ann@example.com")).await.outcome(), Outcome::Allowed);
}

#[tokio::test]
async fn a_long_message_is_fine_up_to_the_limit_and_413_one_byte_above() {
    let app = app().await;
    let _ann = app.proven_user("ann@example.com").await;
    let limit = chatpass::twilio::webhook::BODY_LIMIT;
    // A body of 200 KB: a long text, with spaces, punctuation and more than ASCII.
    let text = "Grüße aus Köln, a long message! ".repeat(4000);
    let long = message_with_body(text.as_bytes());
    let size = form_body(&long).len();
    assert!(size > 200 * 1000 && size < limit, "{size} bytes");
    assert_eq!(send(&app, &long).await.outcome(), Outcome::Allowed, "{size} bytes");
    // Exactly 256 KiB encoded, then one byte more.
    let around = form_body(&message_with_body(b"")).len();
    let at_limit = message_with_body(&vec![b'x'; limit - around]);
    assert_eq!(form_body(&at_limit).len(), limit);
    assert_eq!(send(&app, &at_limit).await.outcome(), Outcome::Allowed, "at the limit");
    let above = message_with_body(&vec![b'x'; limit - around + 1]);
    assert_eq!(send(&app, &above).await.status, 413, "one byte above");
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_403_unsigned_and_400_signed() {
    let app = app().await;
    let _ann = app.proven_user("ann@example.com").await;
    let in_value = message_with_body(&[b'h', b'i', 0xff, 0xfe, b'!']);
    let mut in_name = message_from("ann@example.com");
    in_name.push((vec![b'X', 0xc3, 0x28], b"1".to_vec()));
    for (what, params) in [("a value", in_value), ("a name", in_name)] {
        let body = form_body(&params);
        assert!(
            String::from_utf8_lossy(&body).contains("%FF")
                || String::from_utf8_lossy(&body).contains("%C3%28")
        );
        // Signature first: without one, or with another token's, nothing is read.
        let other = twilio_signature(OTHER_TOKEN, &hook_url(&app), &params);
        for signatures in [&[][..], &[other.as_str()][..]] {
            let answer = send_raw(&app, PATH, body.clone(), signatures).await;
            assert_eq!(answer.outcome(), Outcome::BadSignature, "{what}, {signatures:?}");
        }
        // Signed over those very bytes: read, and refused as input.
        let answer = send(&app, &params).await;
        assert_eq!(answer.status, 400, "{what}: {}", answer.text());
        assert!(matches!(answer.error(), AppError::BadInput { field, .. } if field == "request"), "{what}");
    }
}
