//! `/signup`: create an account; it is signed in straight away.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::Signup,
    pages::form::{ErrorSummary, Field, ReturnedError},
};

/// Rendered on the server only; the form inside is an island.
#[component]
pub fn SignupPage() -> impl IntoView {
    let returned = ReturnedError::from_query(&use_query_map().get_untracked());
    view! { <SignupForm returned /> }
}

/// The form: works as a plain HTML form, and through the server function once hydrated.
#[island]
fn SignupForm(returned: Option<ReturnedError>) -> impl IntoView {
    if let Some(returned) = returned {
        returned.provide();
    }
    let action = ServerAction::<Signup>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));

    view! {
        <section class="card">
            <h1>"Sign up"</h1>
            <ActionForm action attr:class="stack" attr:novalidate=true>
                <ErrorSummary error fields=&["email", "password"] />
                <Field
                    name="email"
                    label="Email"
                    kind="email"
                    autocomplete="username"
                    error
                />
                <Field
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    hint="8 to 128 characters. Any characters; a common password is refused."
                    error
                />
                <button type="submit" disabled=move || action.pending().get()>
                    "Create account"
                </button>
            </ActionForm>
            <p class="hint">
                "Have an account? " <a href="/login">"Log in"</a>
            </p>
        </section>
    }
}
