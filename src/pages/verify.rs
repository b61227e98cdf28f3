//! `/verify?token=…`: the link in the verification mail. The owner of the address chooses
//! the password (and a display name) here; a GET never uses the token (mail scanners
//! fetch links before people click them), only the form's POST to `/api/verify_email`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::VerifyEmail,
    error::AppError,
    pages::form::{ErrorSummary, NewAccountFields, ReturnedError},
};

/// Rendered on the server only; the form inside is an island.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let token = query.get("token").unwrap_or_default();
    let returned = ReturnedError::from_query(&query);
    view! { <VerifyForm token returned /> }
}

#[island(lazy)]
fn VerifyForm(token: String, returned: Option<ReturnedError>) -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    if let Some(returned) = returned {
        returned.provide();
    }
    let action = ServerAction::<VerifyEmail>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    // A refused link gets the page's own words, never text from the URL.
    let link_refused = move || error.get().is_some_and(|e: AppError| e.for_field("token").is_some());
    let already = move || matches!(error.get(), Some(AppError::AlreadyConfirmed));

    view! {
        <section class="card">
            <h1>"Confirm your email"</h1>
            <p class="banner error" role="alert" data-testid="verify-refused" hidden=move || !link_refused()>
                "This link does not work: it has expired, was already used or replaced by a newer one, or was cut short. "
                <a href="/signup">"Sign up again"</a>
                " to get a new link."
            </p>
            <p class="banner" role="status" data-testid="verify-already" hidden=move || !already()>
                "This email is already confirmed. " <a href="/login">"Log in"</a>
                " with its password, or " <a href="/forgot">"choose a new one"</a> "."
            </p>
            <p>
                "Choose the password for this address. Confirming ends every other browser, device and link of this address, and signs this browser in."
            </p>
            <ActionForm action attr:class="stack" attr:novalidate=true>
                <ErrorSummary error fields=&["password", "display_name", "token"] />
                <input type="hidden" name="token" value=token />
                <NewAccountFields error />
                <button type="submit" disabled=move || action.pending().get()>
                    "Confirm and sign in"
                </button>
            </ActionForm>
        </section>
    }
}
