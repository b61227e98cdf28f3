//! `/account`: the signed-in account (email, whether it is proven, since when), and its
//! forms: change the display name, end signed-in browsers, connect and disconnect devices
//! (`pages::devices`), change the password, delete the account. Signed-out visitors are sent to log in first (by the server, before any HTML).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::{
        account,
        sessions_list::{sessions, EndOtherSessions, EndSession, SessionInfo},
        AccountInfo, ChangePassword, DeleteAccount, SetDisplayName,
    },
    devices::device_tokens,
    pages::{
        devices::ConnectedDevices,
        form::{ErrorSummary, Field, ReturnedError},
    },
};

/// Rendered on the server only; the forms inside are islands.
#[component]
pub fn AccountPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let returned = ReturnedError::from_query(&query);
    let for_browsers = returned.clone().filter(|r| r.is_for("end_session") || r.is_for("end_other_sessions"));
    let for_devices =
        returned.clone().filter(|r| r.is_for("revoke_device_token") || r.is_for("connect_device"));
    let (for_name, for_change, for_delete) = match &returned {
        _ if for_browsers.is_some() || for_devices.is_some() => (None, None, None),
        Some(r) if r.is_for("delete_account") => (None, None, returned.clone()),
        Some(r) if r.is_for("set_display_name") => (returned.clone(), None, None),
        _ => (None, returned.clone(), None),
    };
    // A change posted without JavaScript comes back here with `changed=1` (the password)
    // or `renamed=1` (the display name).
    let changed = query.get("changed").is_some_and(|v| v == "1");
    let renamed = query.get("renamed").is_some_and(|v| v == "1");
    // An ending posted without JavaScript comes back with `ended=one` or `ended=others`.
    let ended = query.get("ended").filter(|v| v == "one" || v == "others");
    let info = Resource::new(|| (), |_| account());
    let browsers = Resource::new(|| (), |_| sessions());
    let devices = Resource::new(|| (), |_| device_tokens());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new({
                let (for_name, for_change, for_delete) =
                    (for_name.clone(), for_change.clone(), for_delete.clone());
                let (for_browsers, for_devices, ended) = (for_browsers.clone(), for_devices.clone(), ended.clone());
                async move {
                    match (info.await, browsers.await, devices.await) {
                        (Ok(info), Ok(list), Ok(devices)) => view! {
                            <AccountSummary info=info.clone() />
                            <DisplayNameForm current=info.display_name returned=for_name renamed />
                            <SignedInBrowsers list returned=for_browsers ended />
                            <ConnectedDevices list=devices.devices returned=for_devices />
                            {info.has_password.then(|| view! { <ChangePasswordForm returned=for_change changed /> })}
                            <DeleteAccountForm returned=for_delete has_password=info.has_password />
                        }
                            .into_any(),
                        _ => view! {
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

/// The account's sessions, newest first, each with a button that ends it, and one that
/// ends every other. With JavaScript a row goes once its session has ended; without, the
/// post comes back with `ended=…` and the page lists the sessions afresh.
#[island(lazy)]
fn SignedInBrowsers(
    list: Vec<SessionInfo>,
    returned: Option<ReturnedError>,
    ended: Option<String>,
) -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    if let Some(returned) = returned {
        returned.provide();
    }
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let error = Signal::derive(move || {
        end_one.value().get().and_then(Result::err).or_else(|| end_others.value().get().and_then(Result::err))
    });
    let gone = RwSignal::new(Vec::<String>::new());
    Effect::new(move || {
        if let Some(Ok(done)) = end_one.value().get() {
            gone.update(|g| g.push(done.handle));
        }
    });
    let (one_ended, others_ended) = (ended.as_deref() == Some("one"), ended.as_deref() == Some("others"));
    let one_gone = move || one_ended || matches!(end_one.value().get(), Some(Ok(_)));
    let others_gone = move || others_ended || matches!(end_others.value().get(), Some(Ok(_)));
    let rows = list
        .into_iter()
        .map(|session| {
            let handle = session.handle.clone();
            let hidden = move || !session.current && (others_gone() || gone.with(|g| g.contains(&handle)));
            view! {
                <li data-testid="browser" data-current=session.current.then_some("true") hidden=hidden>
                    <strong>{session.browser}</strong>
                    {session.current.then_some(" (this browser)")}
                    <br />
                    <span class="hint">
                        "Signed in " {session.signed_in} "; last seen " {session.last_seen}
                    </span>
                    <ActionForm action=end_one attr:class="inline">
                        <input type="hidden" name="handle" value=session.handle />
                        <button type="submit" disabled=move || end_one.pending().get()>
                            {if session.current { "Sign out here" } else { "End this one" }}
                        </button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card">
            <h2>"Signed-in browsers"</h2>
            <p class="banner ok" role="status" data-testid="browser-ended" hidden=move || !one_gone()>
                "That browser was signed out."
            </p>
            <p class="banner ok" role="status" data-testid="browsers-ended" hidden=move || !others_gone()>
                "Every other browser was signed out."
            </p>
            <ErrorSummary error fields=&[] />
            <ul class="browsers">{rows}</ul>
            <ActionForm action=end_others>
                <button type="submit" disabled=move || end_others.pending().get()>
                    "End all others"
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
fn DeleteAccountForm(returned: Option<ReturnedError>, has_password: bool) -> impl IntoView {
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
                {if has_password {
                    view! {
                        <Field
                            name="password"
                            label="Your password, to confirm"
                            kind="password"
                            autocomplete="current-password"
                            error
                        />
                    }
                        .into_any()
                } else {
                    view! {
                        <Field name="password" label="Your email address, to confirm" kind="email" autocomplete="off" error />
                    }
                        .into_any()
                }}
                <button type="submit" class="danger" disabled=move || action.pending().get()>
                    "Delete my account"
                </button>
            </ActionForm>
        </section>
    }
}
