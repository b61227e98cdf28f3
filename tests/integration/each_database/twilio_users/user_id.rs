//! The identity Twilio knows an account by: its email (the default), or with
//! `CHATPASS_CHAT_IDENTITY=user-id` its opaque id, which no Twilio call then reveals the
//! email with. An email changed at the OpenID provider moves an email-identified User to
//! the new email; an opaque one stays, and only its name follows (a provider's account
//! shows the email's local part until its owner chooses a name). An account deleted while
//! its email change still waits leaves no User at either address.

use serde_json::json;

use super::{
    chat_id_of, create, delete, delete_call, live, live_env, outcomes, prove, rename, rename_call, standin,
    Live, PATIENCE,
};
use crate::{
    common::{
        self,
        oidc::{OidcConfig, OidcProvider},
        twilio::{wait_for_calls, QueuedCall},
    },
    each_database::oidc::{app_for, callback_url, wait_until_ready},
};

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[tokio::test]
async fn with_opaque_ids_the_user_is_made_renamed_and_deleted_by_its_id_alone() {
    let live = live(&[("CHATPASS_CHAT_IDENTITY", "user-id")]).await;
    let ann = prove(&live.app, "ann@example.com", Some("Ann Lee")).await;
    let id = chat_id_of(&live.app, "ann@example.com").await;
    assert_eq!(live.app.chat_token_with(&ann.client).await.identity, id, "the token's identity");
    live.settled(1).await;
    assert_eq!(live.named_users().await, [(id.clone(), Some("Ann Lee".to_string()))]);
    rename(&live.app, &ann, "Ann B. Lee").await;
    delete(&live.app, &ann).await;
    let rows = live.settled(3).await;

    assert_eq!(
        live.made().await,
        [create(&id, "Ann Lee", 201), rename_call(&id, "Ann B. Lee", 200), delete_call(&id, 204)]
    );
    assert!(live.users().await.is_empty());
    for r in live.twilio.requests().await {
        assert!(!r.body.contains("ann") && !r.raw_path.contains("ann"), "the email reached Twilio: {r:?}");
    }
    super::assert_names_no_one(&rows);
}

/// A provider's user `u-ann` with `email`, its keys in `keys`.
fn ann_at(port: u16, keys: &std::path::Path, email: &str) -> OidcConfig {
    OidcConfig::new(&callback_url(port)).keys_file(keys).verified_account("u-ann", email)
}

/// A live app (plus `env`) signing in with a provider whose user `u-ann` signs in once as
/// ann@example.com, then (the provider restarted, same issuer) as ann.lee@example.org;
/// the queue settled.
async fn email_changed_at_the_provider(env: &[(&str, &str)]) -> (Live, String) {
    let (live, id, _) = signed_in_again_with_a_new_email(env, None).await;
    live.settled(2).await;
    (live, id)
}

/// As [`email_changed_at_the_provider`], with `script` given to the stand-in once the
/// first create is made, and the queue not waited for; the browser signed in the second
/// time, and the account's opaque id.
async fn signed_in_again_with_a_new_email(
    env: &[(&str, &str)],
    script: Option<serde_json::Value>,
) -> (Live, String, reqwest::Client) {
    let keys = tempfile::tempdir().unwrap();
    let keys_file = keys.path().join("keys.json");
    let port = common::mail::free_port();
    let provider = OidcProvider::start(ann_at(port, &keys_file, "ann@example.com"));
    let twilio = standin().await;
    let live_env = live_env(&twilio);
    let mut all: Vec<(&str, &str)> = live_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(env);
    let app = app_for(&provider, port, &all).await;
    wait_until_ready(&app).await;
    let live = Live { app, twilio };

    let browser = live.app.oidc_browser(&provider, "u-ann").await;
    assert_eq!(live.app.account_with(&browser).await.display_name, "ann");
    live.settled(1).await;
    let id = chat_id_of(&live.app, "ann@example.com").await;
    if let Some(script) = script {
        live.twilio.script(script).await;
    }

    // Restarted on its port with its secret: the same issuer and client, to chatpass.
    let (provider_port, secret) = (provider.port(), provider.client_secret().to_string());
    drop(provider);
    let config = ann_at(port, &keys_file, "ann.lee@example.org")
        .set("port", provider_port)
        .set("client_secret", secret.as_str());
    let provider = OidcProvider::start(config);
    let browser = live.app.oidc_browser(&provider, "u-ann").await;
    let account = live.app.account_with(&browser).await;
    assert_eq!((account.email.as_str(), account.display_name.as_str()), ("ann.lee@example.org", "ann.lee"));
    (live, id, browser)
}

#[tokio::test]
async fn an_email_changed_at_the_provider_moves_the_user_to_the_new_email() {
    let (live, _) = email_changed_at_the_provider(&[]).await;
    assert_eq!(
        live.made().await,
        [
            create("ann@example.com", "ann", 201),
            delete_call("ann@example.com", 204),
            create("ann.lee@example.org", "ann.lee", 201)
        ]
    );
    assert_eq!(live.named_users().await, [("ann.lee@example.org".to_string(), Some("ann.lee".to_string()))]);
    let rows = live.calls().await;
    assert_eq!(outcomes(&rows), pairs(&[("create", "created"), ("change_email", "created")]));
    super::assert_names_no_one(&rows);
}

#[tokio::test]
async fn with_opaque_ids_an_email_change_keeps_the_user_and_its_name_follows() {
    let (live, id) = email_changed_at_the_provider(&[("CHATPASS_CHAT_IDENTITY", "user-id")]).await;
    // The identity stays; the name shown for the account changed with the email, and so
    // does Twilio's.
    assert_eq!(live.made().await, [create(&id, "ann", 201), rename_call(&id, "ann.lee", 200)]);
    assert_eq!(live.named_users().await, [(id, Some("ann.lee".to_string()))]);
    let rows = live.calls().await;
    assert_eq!(outcomes(&rows), pairs(&[("create", "created"), ("change_email", "renamed")]));
    super::assert_names_no_one(&rows);
}

#[tokio::test]
async fn an_account_deleted_while_its_email_change_is_queued_leaves_no_user_at_either_address() {
    // Twilio turns the email change's delete of the old address away, for a while.
    let error = json!({"code": 20503, "message": "Service Unavailable", "status": 503});
    let turned_away =
        json!({"method": "DELETE", "status": 503, "body": error, "headers": {"Retry-After": "5"}});
    let (live, _, browser) = signed_in_again_with_a_new_email(&[], Some(turned_away)).await;
    let waiting = |rows: &[QueuedCall]| {
        rows.len() == 2
            && rows[1].call == "change_email"
            && rows[1].attempts == 1
            && rows[1].claimed_until.is_none()
            && !rows[1].finished()
    };
    wait_for_calls(&live.app.pool, "the email change waiting out its Retry-After", PATIENCE, waiting).await;

    // Deleted by typing its email (a provider's account has no password).
    let deleted = live
        .app
        .post_form_with(&browser, "/api/delete_account", &[("password", "ann.lee@example.org")])
        .await;
    assert_eq!(deleted.status(), 200, "{}", deleted.text().await.unwrap_or_default());
    let rows = live.calls().await;
    assert!(
        rows.len() == 3 && waiting(&rows[..2]) && rows[2].call == "delete",
        "the email change is still waiting as the deletion is queued (the premise): {rows:#?}"
    );

    let rows = live.settled(3).await;
    assert!(live.users().await.is_empty(), "a User is left: {:#?}", live.made().await);
    assert_eq!(
        live.made().await,
        [
            create("ann@example.com", "ann", 201),
            delete_call("ann@example.com", 503),
            delete_call("ann@example.com", 204),
            create("ann.lee@example.org", "ann.lee", 201),
            delete_call("ann.lee@example.org", 204)
        ],
        "the old address's User goes first, then the new one's"
    );
    assert_eq!(
        outcomes(&rows),
        pairs(&[("create", "created"), ("change_email", "created"), ("delete", "deleted")])
    );
    super::assert_names_no_one(&rows);
}
