//! `/`: what chatpass is, whether this instance is live or in demo mode (and what makes
//! it live), and the next step for this visitor. Rendered on the server only: nothing
//! here needs the browser.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::UserInfo,
    error::AppError,
    token::{demo_instance, LIVE_SETTINGS},
};

/// Whether an account must prove its email before it gets a token
/// (`CHATPASS_EMAIL_VERIFICATION`). Server-rendered pages only.
fn proof_required() -> bool {
    #[cfg(feature = "ssr")]
    {
        use crate::config::{AccountSettings, Verification};
        use_context::<AccountSettings>().is_none_or(|a| a.verification == Verification::Required)
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    // Where deleting an account lands (`/?deleted=1`).
    let deleted = use_query_map().get_untracked().get("deleted").is_some_and(|v| v == "1");
    // Who is signed in: the shell's answer, provided as context (one read per page).
    let user = expect_context::<Resource<Result<Option<UserInfo>, AppError>>>();
    let mode = if demo_instance() {
        view! {
            <section class="banner demo" aria-labelledby="mode-heading" data-testid="instance-mode" data-mode="demo">
                <h2 id="mode-heading">"This instance runs in demo mode"</h2>
                <p>
                    "No Twilio account is configured here, so Twilio refuses the tokens it signs. "
                    "Everything on this side works: sign up, confirm your email, and the chat page shows exactly the token a live instance would hand to Twilio."
                </p>
                <p>"To make it live, set these four settings on the server and restart it:"</p>
                <ul class="settings-list">
                    {LIVE_SETTINGS.map(|name| view! { <li><code>{name}</code></li> }).collect_view()}
                </ul>
            </section>
        }
        .into_any()
    } else {
        view! {
            <section class="banner ok" aria-labelledby="mode-heading" data-testid="instance-mode" data-mode="live">
                <h2 id="mode-heading">"This instance is live"</h2>
                <p>"Its tokens are signed for a real Twilio account: the chat page connects to Twilio and you can talk to other people signed in here."</p>
            </section>
        }
        .into_any()
    };
    view! {
        {deleted.then(|| view! {
            <p class="banner ok" role="status" data-testid="account-deleted">
                "Your account was deleted, and you are signed out."
            </p>
        })}
        <section class="hero">
            <h1>"chatpass"</h1>
            <p>
                "chatpass puts a Twilio chat behind your own login: you sign up with an email you prove, and the chat page gets its Twilio Access Token from this server, with your account as the identity. "
                "It is a small Rust web app that teams copy to do the same."
            </p>
        </section>
        {mode}
        <section class="next-step" aria-labelledby="next-heading" data-testid="next-step">
            <h2 id="next-heading">"Next step"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) if user.email_verified || !proof_required() => view! {
                            <p>"You are signed in as " <strong class="identity">{user.email}</strong> "."</p>
                            <p><a class="button" href="/chat">"Open the chat"</a></p>
                        }.into_any(),
                        Ok(Some(user)) => view! {
                            <p>
                                "Confirm your email: open the link we mailed to "
                                <strong class="identity">{user.email}</strong>
                                ", then open the chat. The chat page can mail the link again."
                            </p>
                            <p><a class="button" href="/chat">"Open the chat"</a></p>
                        }.into_any(),
                        _ => view! {
                            <p>"Make an account to get a chat token; it takes an email and a password."</p>
                            <p class="actions">
                                <a class="button" href="/signup">"Sign up"</a>
                                " or "
                                <a href="/login">"log in"</a>
                            </p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
