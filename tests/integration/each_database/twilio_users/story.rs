//! The whole story of issue #29's "Done when": an account signs up and proves its email
//! (its User is created with its name), renames itself (renamed), is deleted (deleted),
//! and a message webhook with its identity, signed as Twilio signs, is refused.

use super::{create, delete, delete_call, live, outcomes, prove, rename, rename_call, AUTH_TOKEN};
use crate::common::{self, twilio::twilio_python_signature, TestApp};

use chatpass::error::AppError;

const EMAIL: &str = "ann@example.com";

/// `POST /twilio/conversations` as Twilio sends `onMessageAdd` for a message `identity`
/// posts from the SDK, signed with [`AUTH_TOKEN`] over the URL called (by twilio-python's
/// `RequestValidator`).
async fn message_webhook(app: &TestApp, identity: &str) -> reqwest::Response {
    let url = app.url("/twilio/conversations");
    let params = [
        ("AccountSid", common::fixtures::ACCOUNT_SID),
        ("Attributes", "{}"),
        ("Author", identity),
        ("Body", "still here?"),
        ("ChatServiceSid", common::fixtures::SERVICE_SID),
        ("ClientIdentity", identity),
        ("ConversationSid", "CH0123456789abcdef0123456789abcdef"),
        ("EventType", "onMessageAdd"),
        ("RetryCount", "0"),
        ("Source", "SDK"),
    ];
    let signature = twilio_python_signature(AUTH_TOKEN, &url, &params);
    common::client().post(url).header("X-Twilio-Signature", signature).form(&params).send().await.unwrap()
}

#[tokio::test]
async fn an_account_is_created_renamed_and_deleted_at_twilio_and_its_messages_are_refused_after() {
    let live = live(&[("TWILIO_AUTH_TOKEN", AUTH_TOKEN)]).await;
    assert!(live.named_users().await.is_empty());

    let ann = prove(&live.app, EMAIL, Some("Ann Lee")).await;
    live.settled(1).await;
    assert_eq!(
        live.named_users().await,
        [(EMAIL.to_string(), Some("Ann Lee".to_string()))],
        "created, named"
    );
    // While the account can chat, the signed webhook lets its message through: the
    // refusal below is the account's, not the signature's.
    let allowed = message_webhook(&live.app, EMAIL).await;
    assert_eq!(allowed.status(), 200, "{}", allowed.text().await.unwrap_or_default());

    rename(&live.app, &ann, "Ann B. Lee").await;
    live.settled(2).await;
    assert_eq!(live.named_users().await, [(EMAIL.to_string(), Some("Ann B. Lee".to_string()))], "renamed");

    delete(&live.app, &ann).await;
    let rows = live.settled(3).await;
    assert!(live.users().await.is_empty(), "deleted at Twilio");

    assert_eq!(
        live.made().await,
        [create(EMAIL, "Ann Lee", 201), rename_call(EMAIL, "Ann B. Lee", 200), delete_call(EMAIL, 204)],
        "one call each, in the order of the changes"
    );
    let expected = [("create", "created"), ("rename", "renamed"), ("delete", "deleted")];
    assert_eq!(outcomes(&rows), expected.map(|(c, o)| (c.to_string(), o.to_string())));
    assert!(
        rows.iter().all(|r| r.attempts == 1 && r.done_at.is_some() && r.last_error.is_none()),
        "{rows:#?}"
    );
    super::assert_names_no_one(&rows);

    // Its token may not have expired, but Twilio asks first, and chatpass says no.
    let refused = message_webhook(&live.app, EMAIL).await;
    assert_eq!(refused.status(), 403);
    assert!(matches!(common::app_error(refused).await, AppError::ChatRefused));
}
