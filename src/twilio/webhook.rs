//! `POST /twilio/conversations`: the Conversations service's webhook. Twilio's signature is
//! checked before anything else is read (403 without it). For the pre-action events
//! `onMessageAdd`, `onParticipantAdd` and `onConversationAdd` the acting identity must be
//! an account that exists and may chat (else 403: Twilio refuses the action), so a deleted
//! or unproven account cannot post with a token that has not expired yet. Any other event:
//! 200 and a log line.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json,
};
use secrecy::{ExposeSecret, SecretString};

use super::signature::{self, RawParams};
use crate::{
    config::{ChatIdentity, Verification},
    db::{users, Pool},
    error::AppError,
};

/// The route Twilio is told to call.
pub const PATH: &str = "/twilio/conversations";

/// A webhook body may be this large (a message's text and attributes, percent-encoded);
/// more is 413.
pub const BODY_LIMIT: usize = 256 * 1024;

/// What the webhook needs: the token Twilio signs with, the origin it calls, the accounts.
pub struct Webhook {
    pub pool: Pool,
    pub auth_token: SecretString,
    /// `CHATPASS_PUBLIC_URL`'s origin (else the address served): the URL Twilio signed is
    /// this plus the request's path and query, however many proxies are in between.
    pub origin: String,
    pub identity: ChatIdentity,
    pub verification: Verification,
}

pub async fn conversations(
    State(hook): State<Arc<Webhook>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = signature::parse_form(&body);
    if !is_signed(&hook, &uri, &headers, &params) {
        crate::metrics::twilio_webhook("any", "bad_signature");
        tracing::warn!("Twilio webhook refused: no valid X-Twilio-Signature");
        return refuse(AppError::BadSignature);
    }
    let Some(params) = as_text(params) else {
        return refuse(AppError::bad_input("request", "The webhook's form is not UTF-8."));
    };
    let event_type = param(&params, "EventType").unwrap_or_default();
    let Some(event) = PreAction::parse(event_type) else {
        crate::metrics::twilio_webhook("other", "allowed");
        tracing::info!(event = %event_type.chars().take(64).collect::<String>(), "Twilio webhook received");
        return StatusCode::OK.into_response();
    };
    let Some(actor) = event.acting_identity(&params) else {
        crate::metrics::twilio_webhook(event.name(), "refused");
        tracing::info!(event = event.name(), "Twilio action refused: no acting identity");
        return refuse(AppError::ChatRefused);
    };
    // A participant added by someone else must be able to chat too: a removed account
    // is not brought back by another's hand.
    let added = match event {
        PreAction::Participant => param(&params, "Identity").filter(|added| *added != actor),
        _ => None,
    };
    for identity in std::iter::once(actor).chain(added) {
        let found = users::by_chat_identity(&hook.pool, hook.identity, identity)
            .await
            // Twilio's identities are case-sensitive, SQLite's email lookup is not (NOCASE):
            // "Ann@example.com" is not ann@example.com's identity.
            .map(|found| found.filter(|user| user.chat_identity(hook.identity) == identity));
        match found {
            Ok(Some(user)) if user.may_chat(hook.verification) => {}
            Ok(found) => {
                crate::metrics::twilio_webhook(event.name(), "refused");
                let why =
                    if found.is_some() { "its email is not proven" } else { "no account has its identity" };
                tracing::info!(
                    event = event.name(),
                    user.id = found.map(|u| u.id),
                    "Twilio action refused: {why}"
                );
                return refuse(AppError::ChatRefused);
            }
            // 503: Twilio applies the service's failure policy; nothing is let through by us.
            Err(e) => return refuse(e.into()),
        }
    }
    crate::metrics::twilio_webhook(event.name(), "allowed");
    StatusCode::OK.into_response()
}

fn is_signed(hook: &Webhook, uri: &Uri, headers: &HeaderMap, params: &RawParams) -> bool {
    let mut given = headers.get_all("x-twilio-signature").iter();
    let (Some(signature), None) = (given.next(), given.next()) else {
        return false;
    };
    let Ok(signature) = signature.to_str() else {
        return false;
    };
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let url = format!("{}{path_and_query}", hook.origin);
    signature::is_valid(hook.auth_token.expose_secret(), &url, params, signature)
}

fn as_text(params: RawParams) -> Option<Vec<(String, String)>> {
    params.into_iter().map(|(n, v)| Some((String::from_utf8(n).ok()?, String::from_utf8(v).ok()?))).collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

fn refuse(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::FORBIDDEN);
    (status, Json(error)).into_response()
}

/// The events that ask before something is added (a message, a participant, a
/// conversation), and whose identity acts in each.
#[derive(Clone, Copy)]
enum PreAction {
    Message,
    Participant,
    Conversation,
}

impl PreAction {
    fn parse(event_type: &str) -> Option<PreAction> {
        match event_type {
            "onMessageAdd" => Some(PreAction::Message),
            "onParticipantAdd" => Some(PreAction::Participant),
            "onConversationAdd" => Some(PreAction::Conversation),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            PreAction::Message => "onMessageAdd",
            PreAction::Participant => "onParticipantAdd",
            PreAction::Conversation => "onConversationAdd",
        }
    }

    /// `ClientIdentity` (Twilio sends it for actions from the SDK), else the message's
    /// `Author` or the participant's `Identity`. A conversation names no creator besides
    /// `ClientIdentity`; without one (an SMS or a REST call) no account acts, so it is refused.
    fn acting_identity(self, params: &[(String, String)]) -> Option<&str> {
        param(params, "ClientIdentity").or_else(|| match self {
            PreAction::Message => param(params, "Author"),
            PreAction::Participant => param(params, "Identity"),
            PreAction::Conversation => None,
        })
    }
}
