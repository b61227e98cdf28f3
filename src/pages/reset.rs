//! `/reset?token=…`: the link in the password-reset mail. A form for the new password;
//! a GET never uses the token (mail scanners fetch links before people click them).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::ResetPassword,
    error::AppError,
    pages::form::{ErrorSummary, Field, ReturnedError},
};

/// Rendered on the server only; the form inside is an island.
#[component]
pub fn ResetPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let token = query.get("token").unwrap_or_default();
    let returned = ReturnedError::from_query(&query);
    view! { <ResetForm token returned /> }
}

#[island(lazy)]
fn ResetForm(token: String, returned: Option<ReturnedError>) -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    if let Some(returned) = returned {
        returned.provide();
    }
    let action = ServerAction::<ResetPassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    // A refused link gets the page's own words, never text from the URL.
    let link_refused = move || error.get().is_some_and(|e: AppError| e.for_field("token").is_some());

    view! {
        <section class="card">
            <h1>"Choose a new password"</h1>
            <p class="banner error" role="alert" data-testid="reset-refused" hidden=move || !link_refused()>
                "This link does not work: it has expired, was already used (or the password was changed since), or was cut short. "
                <a href="/forgot">"Ask for a new link"</a>
            </p>
            <ActionForm action attr:class="stack" attr:novalidate=true>
                <ErrorSummary error fields=&["password", "token"] />
                <input type="hidden" name="token" value=token />
                <Field
                    name="password"
                    label="New password"
                    kind="password"
                    autocomplete="new-password"
                    hint="8 to 128 characters. Any characters; a common password is refused."
                    error
                />
                <button type="submit" disabled=move || action.pending().get()>
                    "Set the new password"
                </button>
            </ActionForm>
            <p class="hint">"Every browser signed in to this account will be signed out; this one will be signed in."</p>
        </section>
    }
}
