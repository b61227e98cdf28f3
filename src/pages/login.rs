//! `/login`: email and password, then back to `next` (a path on this site) or home.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::Login,
    pages::form::{ErrorSummary, Field, ReturnedError},
    pages::sso::{password_login_on, SingleSignOn},
};

/// Rendered on the server only; the form inside is an island.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let next = query.get("next").unwrap_or_default();
    let returned = ReturnedError::from_query(&query);
    let refused = query.get("sso");
    let form = password_login_on().then(|| view! { <LoginForm next=next.clone() returned /> });
    view! {
        <SingleSignOn next refused />
        {form}
    }
}

/// The form: works as a plain HTML form, and through the server function once hydrated.
#[island]
fn LoginForm(next: String, returned: Option<ReturnedError>) -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    if let Some(returned) = returned {
        returned.provide();
    }
    let action = ServerAction::<Login>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));

    view! {
        <section class="card">
            <h1>"Log in"</h1>
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
                    autocomplete="current-password"
                    error
                />
                <input type="hidden" name="next" value=next />
                <button type="submit" disabled=move || action.pending().get()>
                    "Log in"
                </button>
            </ActionForm>
            <p class="hint">
                <a href="/forgot">"Forgot your password?"</a>
            </p>
            <p class="hint">
                "No account yet? " <a href="/signup">"Sign up"</a>
            </p>
        </section>
    }
}
