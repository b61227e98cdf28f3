//! `/signup`: start an account. With email verification on (the default) it asks only for
//! the email, and the answer is "check your inbox", whether or not the email has an
//! account (the password is chosen on the mailed link's page); the page then says where
//! the mail went when this server writes mail to files.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::{Signup, SignupOutcome},
    pages::form::{
        outbox_dir, password_at_signup, ErrorSummary, Field, NewAccountFields, OutboxNotice, ReturnedError,
    },
    pages::sso::{password_login_on, SingleSignOn},
};

/// Rendered on the server only; the form inside is an island.
#[component]
pub fn SignupPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let returned = ReturnedError::from_query(&query);
    // A form posted without JavaScript comes back here with `sent=1`.
    let sent = query.get("sent").is_some_and(|v| v == "1");
    let outbox = outbox_dir();
    let with_password = password_at_signup();
    let form = password_login_on().then(|| view! { <SignupForm returned sent outbox with_password /> });
    view! {
        <SingleSignOn next="/chat".to_string() refused=None />
        {form}
    }
}

/// The form: works as a plain HTML form, and through the server function once hydrated.
#[island(lazy)]
fn SignupForm(
    returned: Option<ReturnedError>,
    sent: bool,
    outbox: Option<String>,
    with_password: bool,
) -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    if let Some(returned) = returned {
        returned.provide();
    }
    let action = ServerAction::<Signup>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let check_inbox = move || sent || matches!(action.value().get(), Some(Ok(SignupOutcome::CheckYourInbox)));

    view! {
        <section class="card">
            <Show
                when=check_inbox
                fallback=move || {
                    view! {
                        <h1>"Sign up"</h1>
                        <ActionForm action attr:class="stack" attr:novalidate=true>
                            <ErrorSummary error fields=&["email", "password", "display_name"] />
                            <Field
                                name="email"
                                label="Email"
                                kind="email"
                                autocomplete="username"
                                error
                            />
                            <Show
                                when=move || with_password
                                fallback=|| {
                                    view! {
                                        <p class="hint">
                                            "We mail you a link; you choose your password on its page."
                                        </p>
                                    }
                                }
                            >
                                <NewAccountFields error />
                            </Show>
                            <button type="submit" disabled=move || action.pending().get()>
                                "Create account"
                            </button>
                        </ActionForm>
                        <p class="hint">"Have an account? " <a href="/login">"Log in"</a></p>
                    }
                }
            >
                <h1>"Check your inbox"</h1>
                <p data-testid="check-inbox" role="status">
                    "We sent a mail to the address you gave. Open the link in it within 24 hours and choose your password there; then you can chat."
                </p>
                <OutboxNotice dir=outbox.clone() />
                <p class="hint">
                    "Already confirmed? " <a href="/login">"Log in"</a>
                </p>
            </Show>
        </section>
    }
}
