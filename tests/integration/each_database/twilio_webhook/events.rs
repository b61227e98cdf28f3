//! Which pre-action events go ahead: those whose acting identity (`ClientIdentity`, else the
//! message's `Author` or the participant's `Identity`) is an account that may chat, and, for a
//! participant added by someone, whose added identity is one too. Any other event is 200.

use super::{
    app, app_with, conversation_by, deleted_account, event, every_action_of, message_by_author, message_from,
    outcome, participant_added, send, unproven_account, Outcome,
};
use crate::common::{self, fixtures::GOOD};

#[tokio::test]
async fn a_proven_account_may_add_messages_participants_and_conversations() {
    let app = app().await;
    let ann = app.proven_user("ann@example.com").await;
    let bob = app.proven_user("bob@example.com").await;
    for (what, params) in every_action_of(&ann.email) {
        let answer = send(&app, &params).await;
        assert_eq!(answer.outcome(), Outcome::Allowed, "{what}: {answer:?}");
        assert!(answer.body.is_empty(), "{what}: nothing but 200 (a body would be read as changes)");
    }
    // Ann adds Bob, who may chat too.
    assert_eq!(outcome(&app, &participant_added(Some(&ann.email), &bob.email)).await, Outcome::Allowed);
}

#[tokio::test]
async fn deleted_unproven_and_unknown_identities_are_refused_in_every_pre_action_event() {
    let app = app().await;
    deleted_account(&app, "carl@example.com").await;
    unproven_account(&app, "dora@example.com").await;
    let ann = app.proven_user("ann@example.com").await;
    for identity in ["carl@example.com", "dora@example.com", "nobody@example.com"] {
        for (what, params) in every_action_of(identity) {
            let answer = send(&app, &params).await;
            assert_eq!(answer.status, 403, "{identity}, {what}: {}", answer.text());
            assert_eq!(answer.outcome(), Outcome::Refused, "{identity}, {what}");
        }
        // A proven account cannot bring them in either.
        let added = participant_added(Some(&ann.email), identity);
        assert_eq!(outcome(&app, &added).await, Outcome::Refused, "ann adds {identity}");
    }
    // `ClientIdentity` is who acts, whatever `Author` says.
    let mut as_ann = message_from("carl@example.com");
    for (name, value) in as_ann.iter_mut() {
        if name == b"Author" {
            *value = ann.email.as_bytes().to_vec();
        }
    }
    assert_eq!(outcome(&app, &as_ann).await, Outcome::Refused, "carl's client posting as ann");
    // Ann may still do all of it.
    for (what, params) in every_action_of(&ann.email) {
        assert_eq!(outcome(&app, &params).await, Outcome::Allowed, "{what}");
    }
}

#[tokio::test]
async fn a_conversation_without_a_client_identity_is_refused() {
    let app = app().await;
    let _ann = app.proven_user("ann@example.com").await;
    // Made through the REST API (no account acts): nothing to allow it by.
    assert_eq!(outcome(&app, &conversation_by(None)).await, Outcome::Refused);
    // An empty ClientIdentity is none.
    assert_eq!(outcome(&app, &conversation_by(Some(""))).await, Outcome::Refused);
    assert_eq!(outcome(&app, &message_by_author("")).await, Outcome::Refused, "a message by nobody");
}

#[tokio::test]
async fn an_identity_is_matched_exactly_not_by_case() {
    let app = app().await;
    let ann = app.proven_user("ann@example.com").await;
    assert_eq!(outcome(&app, &message_from(&ann.email)).await, Outcome::Allowed);
    // Twilio's identities are case-sensitive: another case is another identity, which no
    // chat token chatpass issues carries.
    for other in ["Ann@example.com", "ANN@EXAMPLE.COM", " ann@example.com", "ann@example.com "] {
        assert_eq!(outcome(&app, &message_from(other)).await, Outcome::Refused, "{other:?}");
    }
}

#[tokio::test]
async fn other_events_are_answered_200_whoever_they_name() {
    let app = app().await;
    for event_type in
        ["onMessageAdded", "onConversationRemoved", "onParticipantRemoved", "onSomethingNew", ""]
    {
        let params =
            event(event_type, &[("ClientIdentity", "nobody@example.com"), ("Author", "nobody@example.com")]);
        assert_eq!(outcome(&app, &params).await, Outcome::Allowed, "{event_type:?}");
    }
    // Without any EventType at all.
    let params =
        super::params(&[("AccountSid", common::fixtures::ACCOUNT_SID), ("Author", "nobody@example.com")]);
    assert_eq!(outcome(&app, &params).await, Outcome::Allowed);
    // Names are case-sensitive: this is not the pre-action event.
    let params = event("onmessageadd", &[("ClientIdentity", "nobody@example.com")]);
    assert_eq!(outcome(&app, &params).await, Outcome::Allowed);
}

#[tokio::test]
async fn with_user_id_identities_the_opaque_id_acts_and_the_email_is_refused() {
    let app = app_with(&[("CHATPASS_CHAT_IDENTITY", "user-id")]).await;
    let ann = app.proven_user("ann@example.com").await;
    let identity = app.chat_token_with(&ann.client).await.identity;
    assert_ne!(identity, ann.email);
    for (what, params) in every_action_of(&identity) {
        assert_eq!(outcome(&app, &params).await, Outcome::Allowed, "{what}");
    }
    for (what, params) in every_action_of(&ann.email) {
        assert_eq!(outcome(&app, &params).await, Outcome::Refused, "{what} by the email");
    }
    // Once deleted, the id is refused too.
    let deleted = app.post_form_with(&ann.client, "/api/delete_account", &[("password", GOOD)]).await;
    assert_eq!(deleted.status(), 200);
    for (what, params) in every_action_of(&identity) {
        assert_eq!(outcome(&app, &params).await, Outcome::Refused, "{what} after the deletion");
    }
}

#[tokio::test]
async fn with_verification_off_an_unproven_account_may_chat() {
    let app = app_with(&[("CHATPASS_EMAIL_VERIFICATION", "off")]).await;
    app.legacy_account("dora@example.com", GOOD).await;
    for (what, params) in every_action_of("dora@example.com") {
        assert_eq!(outcome(&app, &params).await, Outcome::Allowed, "{what}");
    }
    assert_eq!(outcome(&app, &message_from("nobody@example.com")).await, Outcome::Refused);
}
