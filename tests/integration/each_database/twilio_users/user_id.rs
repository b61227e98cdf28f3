//! The identity Twilio knows an account by: its email (the default), or with
//! `CHATPASS_CHAT_IDENTITY=user-id` its opaque id, which no Twilio call then reveals the
//! email with. An email changed at the OpenID provider moves an email-identified User to
//! the new email; an opaque one stays, and only its name follows (a provider's account
//! shows the email's local part until its owner chooses a name).

use super::{
    chat_id_of, create, delete, delete_call, live, live_env, outcomes, prove, rename, rename_call, standin,
    Live,
};
use crate::{
    common::{
        self,
        oidc::{OidcConfig, OidcProvider},
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
/// ann@example.com, then (the provider restarted, same issuer) as ann.lee@example.org.
async fn email_changed_at_the_provider(env: &[(&str, &str)]) -> (Live, String) {
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
    live.settled(2).await;
    (live, id)
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
