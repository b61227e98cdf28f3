//! `/account`: the signed-in account (email, whether it is proven, since when), and its
//! forms: change the display name, change the password, delete the account. Signed-out
//! visitors are sent to log in first (by the server, before any HTML).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::{account, AccountInfo, ChangePassword, DeleteAccount, SetDisplayName},
    pages::form::{ErrorSummary, Field, ReturnedError},
};

/// Rendered on the server only; the forms inside are islands.
#[component]
pub fn AccountPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let returned = ReturnedError::from_query(&query);
    let (for_name, for_change, for_delete) = match &returned {
        Some(r) if r.is_for("delete_account") => (None, None, returned.clone()),
        Some(r) if r.is_for("set_display_name") => (returned.clone(), None, None),
        _ => (None, returned.clone(), None),
    };
    // A change posted without JavaScript comes back here with `changed=1` (the password)
    // or `renamed=1` (the display name).
    let changed = query.get("changed").is_some_and(|v| v == "1");
    let renamed = query.get("renamed").is_some_and(|v| v == "1");
    let info = Resource::new(|| (), |_| account());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new({
                let (for_name, for_change, for_delete) =
                    (for_name.clone(), for_change.clone(), for_delete.clone());
                async move {
                    match info.await {
                        Ok(info) => view! {
                            <AccountSummary info=info.clone() />
                            <DisplayNameForm current=info.display_name returned=for_name renamed />
                            <ChangePasswordForm returned=for_change changed />
                            <DeleteAccountForm returned=for_delete />
                        }
                            .into_any(),
                        Err(_) => view! {
                            <section class="card">
                                <h1>"Your account"</h1>
                                <p>"You are not signed in. " <a href="/login?next=/account">"Log in"</a></p>
                            </section>
                        }
                            .into_any(),
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountSummary(info: AccountInfo) -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Your account"</h1>
            <dl class="account-facts">
                <dt>"Email"</dt>
                <dd class="identity" data-testid="account-email">{info.email}</dd>
                <dt>"Email confirmed"</dt>
                <dd data-testid="account-verified">
                    {if info.email_verified { "Yes" } else { "Not yet: open the link we mailed you" }}
                </dd>
                <dt>"Member since"</dt>
                <dd data-testid="account-created">{info.created_on}</dd>
            </dl>
        </section>
    }
}

/// The display name as saved, and a form to change it. The saved name shows here (not in
/// the summary above, which is server HTML) so that a change made through the server
/// function shows at once; without JavaScript the post comes back with `renamed=1` and
/// the page reads the saved name afresh.
#[island(lazy)]
fn DisplayNameForm(current: String, returned: Option<ReturnedError>, renamed: bool) -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    if let Some(returned) = returned {
        returned.provide();
    }
    let action = ServerAction::<SetDisplayName>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let saved = move || match action.value().get() {
        Some(Ok(info)) => info.display_name,
        _ => current.clone(),
    };
    let done = move || renamed || matches!(action.value().get(), Some(Ok(_)));
    view! {
        <section class="card">
            <h2>"Display name"</h2>
            <dl class="account-facts">
                <dt>"Shown as"</dt>
                <dd data-testid="account-display-name">{saved.clone()}</dd>
            </dl>
            <p class="banner ok" role="status" data-testid="display-name-saved" hidden=move || !done()>
                "Your display name was saved."
            </p>
            <ActionForm action attr:class="stack" attr:novalidate=true>
                <ErrorSummary error fields=&["display_name"] />
                <Field
                    name="display_name"
                    label="New display name"
                    kind="text"
                    autocomplete="nickname"
                    hint="1 to 64 characters; no < or >, no invisible formatting characters."
                    value=saved()
                    error
                />
                <button type="submit" disabled=move || action.pending().get()>
                    "Save display name"
                </button>
            </ActionForm>
        </section>
    }
}

#[island(lazy)]
fn ChangePasswordForm(returned: Option<ReturnedError>, changed: bool) -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    if let Some(returned) = returned {
        returned.provide();
    }
    let action = ServerAction::<ChangePassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let done = move || changed || matches!(action.value().get(), Some(Ok(())));
    view! {
        <section class="card">
            <h2>"Change your password"</h2>
            <p class="banner ok" role="status" data-testid="password-changed" hidden=move || !done()>
                "Your password was changed. Every other browser signed in to this account was signed out."
            </p>
            <ActionForm action attr:class="stack" attr:novalidate=true>
                <ErrorSummary error fields=&["current_password", "new_password"] />
                <Field
                    name="current_password"
                    label="Current password"
                    kind="password"
                    autocomplete="current-password"
                    error
                />
                <Field
                    name="new_password"
                    label="New password"
                    kind="password"
                    autocomplete="new-password"
                    hint="8 to 128 characters, not the one you have now; a common password is refused."
                    error
                />
                <button type="submit" disabled=move || action.pending().get()>
                    "Change password"
                </button>
            </ActionForm>
        </section>
    }
}

#[island(lazy)]
fn DeleteAccountForm(returned: Option<ReturnedError>) -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    if let Some(returned) = returned {
        returned.provide();
    }
    let action = ServerAction::<DeleteAccount>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <section class="card danger-zone">
            <h2>"Delete your account"</h2>
            <p>
                "Your account, its sessions and any mail not sent yet are deleted at once, and this address can sign up again. "
                "Messages you sent stay in the conversations they were sent to."
            </p>
            <ActionForm action attr:class="stack" attr:novalidate=true>
                <ErrorSummary error fields=&["password"] />
                <Field
                    name="password"
                    label="Your password, to confirm"
                    kind="password"
                    autocomplete="current-password"
                    error
                />
                <button type="submit" class="danger" disabled=move || action.pending().get()>
                    "Delete my account"
                </button>
            </ActionForm>
        </section>
    }
}
