//! Form pieces shared by the account pages: a labelled field with its inline error,
//! and a summary for errors that belong to no single field.

use leptos::{prelude::*, server::ServerActionError};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The error a form posted without JavaScript came back with (`?__path=…&__err=…`),
/// read on the server and handed to the form's island, which shows it inline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReturnedError {
    path: String,
    error: String,
}

impl ReturnedError {
    /// From the page's query string, when this server signed it for this page in the last
    /// few minutes (`security::form_error`): a link someone else wrote cannot put their
    /// text in the page's error banner. Only on the server: the check needs its key.
    pub fn from_query(query: &leptos_router::params::ParamsMap) -> Option<Self> {
        shadow_url_errors();
        #[cfg(feature = "ssr")]
        {
            use crate::security::form_error::{is_ours, ENDPOINT, ERROR, SIGNATURE, SIGNED_AT};
            let page = leptos_router::hooks::use_location().pathname.get_untracked();
            let (path, error) = (query.get(ENDPOINT)?, query.get(ERROR)?);
            let (signed_at, signature) = (query.get(SIGNED_AT)?, query.get(SIGNATURE)?);
            let now = std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs());
            if !is_ours(&page, &path, &error, &signed_at, &signature, now) {
                return None;
            }
            Some(ReturnedError { error: shown(&error)?, path })
        }
        #[cfg(not(feature = "ssr"))]
        {
            let _ = query;
            None
        }
    }

    /// Whether the error came from the server function at `/api/{endpoint}`.
    pub fn is_for(&self, endpoint: &str) -> bool {
        self.path.strip_prefix("/api/") == Some(endpoint)
    }

    /// Makes the next `ServerAction` created for this form's server function start with
    /// the error, as if the browser had posted the form itself.
    pub fn provide(self) {
        provide_context(ServerActionError::new(&self.path, &self.error));
    }
}

/// What a page says for a request the server could not read: the decoder's own words can
/// quote the request, so they never reach a page from a URL.
#[cfg(feature = "ssr")]
const UNREADABLE: &str = "The form could not be read. Reload the page and try again.";

/// The error (`__err`: base64url JSON) as a page shows it: only a kind of [`AppError`] the
/// server answers, each in its fixed words; a bad input in the reason the server wrote,
/// except a request it could not read (see [`UNREADABLE`]).
#[cfg(feature = "ssr")]
fn shown(error: &str) -> Option<String> {
    use base64::{engine::general_purpose::URL_SAFE, Engine};
    let error = match serde_json::from_slice::<AppError>(&URL_SAFE.decode(error).ok()?).ok()? {
        AppError::Network(_) => return None,
        AppError::BadInput { field, .. } if field == "request" => AppError::bad_input("request", UNREADABLE),
        known => known,
    };
    Some(URL_SAFE.encode(serde_json::to_string(&error).ok()?))
}

/// Hides the error the router reads from any URL (`__err`) from the forms of this page:
/// the router offers it to every form's action, and anyone can write such a link. A page
/// shows only what [`ReturnedError::from_query`] accepted (which calls this first).
pub fn shadow_url_errors() {
    #[cfg(feature = "ssr")]
    provide_context(ServerActionError::new("", ""));
}

/// A labelled input with its hint and inline error. Required unless `optional`; `value`
/// fills it in.
#[component]
pub fn Field(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(optional)] optional: bool,
    #[prop(optional, into)] value: Option<String>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = move || error.get().and_then(|e| e.for_field(name));
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if message().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=!optional
                value=value
                aria-invalid=move || message().is_some().then_some("true")
                aria-describedby=described_by
            />
            {hint.map(|h| view! { <span class="hint" id=hint_id>{h}</span> })}
            <span class="error" id=error_id role="alert">
                {message}
            </span>
        </div>
    }
}

/// The password and the optional display name an account starts with (the verification
/// link's page; the sign-up form with verification off).
#[component]
pub fn NewAccountFields(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <Field
            name="password"
            label="Password"
            kind="password"
            autocomplete="new-password"
            hint="8 to 128 characters. Any characters; a common password is refused."
            error
        />
        <Field
            name="display_name"
            label="Display name (optional)"
            kind="text"
            autocomplete="nickname"
            hint="How you are shown: 1 to 64 characters. Left empty, the part of your email before the @."
            optional=true
            error
        />
    }
}

/// Shows an error that is not about one of `fields` (wrong credentials, 409, 429…).
#[component]
pub fn ErrorSummary(
    #[prop(into)] error: Signal<Option<AppError>>,
    fields: &'static [&'static str],
) -> impl IntoView {
    let general = move || {
        error.get().filter(|e| !fields.iter().any(|f| e.for_field(f).is_some())).map(|e| e.to_string())
    };
    view! {
        <p class="banner error form-error" role="alert" hidden=move || general().is_none()>
            {general}
        </p>
    }
}

/// Where mail goes when this server has no SMTP server (None: real mail). Read on the
/// server and handed to the page's island.
pub fn outbox_dir() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<std::sync::Arc<crate::mail::Mailer>>()
            .and_then(|mailer| mailer.file_outbox.as_ref().map(|dir| dir.display().to_string()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Whether the sign-up form asks for a password: only with `CHATPASS_EMAIL_VERIFICATION=off`
/// (otherwise the owner chooses it on the mailed link's page). Read on the server.
pub fn password_at_signup() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<crate::config::AccountSettings>()
            .is_some_and(|accounts| accounts.verification == crate::config::Verification::Off)
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// Says where mail went when this server writes it to files instead of sending it.
#[component]
pub fn OutboxNotice(dir: Option<String>) -> impl IntoView {
    dir.map(|dir| {
        view! {
            <p class="banner demo" data-testid="outbox-notice">
                <strong>"No mail server is configured. "</strong>
                "This server writes each mail to a file in " <code>{dir}</code>
                " and prints its link in the server log. Set CHATPASS_SMTP_URL to send real mail."
            </p>
        }
    })
}
