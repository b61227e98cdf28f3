//! `/forgot`: ask for a link to choose a new password. The answer is "check your inbox"
//! whether or not the email has an account.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::{ForgotOutcome, ForgotPassword},
    pages::form::{outbox_dir, ErrorSummary, Field, OutboxNotice, ReturnedError},
};

/// Rendered on the server only; the form inside is an island.
#[component]
pub fn ForgotPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let returned = ReturnedError::from_query(&query);
    // A form posted without JavaScript comes back here with `sent=1`.
    let sent = query.get("sent").is_some_and(|v| v == "1");
    view! { <ForgotForm returned sent outbox=outbox_dir() /> }
}

#[island(lazy)]
fn ForgotForm(returned: Option<ReturnedError>, sent: bool, outbox: Option<String>) -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    if let Some(returned) = returned {
        returned.provide();
    }
    let action = ServerAction::<ForgotPassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let check_inbox = move || sent || matches!(action.value().get(), Some(Ok(ForgotOutcome::CheckYourInbox)));

    view! {
        <section class="card">
            <Show
                when=check_inbox
                fallback=move || {
                    view! {
                        <h1>"Forgot your password?"</h1>
                        <p>"Give the email of your account and we will mail you a link to choose a new password."</p>
                        <ActionForm action attr:class="stack" attr:novalidate=true>
                            <ErrorSummary error fields=&["email"] />
                            <Field
                                name="email"
                                label="Email"
                                kind="email"
                                autocomplete="username"
                                error
                            />
                            <button type="submit" disabled=move || action.pending().get()>
                                "Mail me a link"
                            </button>
                        </ActionForm>
                        <p class="hint">"Remembered it? " <a href="/login">"Log in"</a></p>
                    }
                }
            >
                <h1>"Check your inbox"</h1>
                <p data-testid="check-inbox" role="status">
                    "If that address has an account, a mail with a link to choose a new password is on its way. The link works for one hour, once."
                </p>
                <OutboxNotice dir=outbox.clone() />
            </Show>
        </section>
    }
}
