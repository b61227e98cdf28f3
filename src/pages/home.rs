//! `/`: what chatpass is, plus a control that only works once the WASM bundle runs.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn HomePage() -> impl IntoView {
    // Where deleting an account lands (`/?deleted=1`).
    let deleted = use_query_map().get_untracked().get("deleted").is_some_and(|v| v == "1");
    view! {
        {deleted.then(|| view! {
            <p class="banner ok" role="status" data-testid="account-deleted">
                "Your account was deleted, and you are signed out."
            </p>
        })}
        <section class="hero">
            <h1>"chatpass"</h1>
            <p>
                "Sign in, and the chat page fetches a Twilio Access Token for you: "
                "your identity is your account's email, taken from your session."
            </p>
            <HydrationCheck />
        </section>
    }
}

/// A control that only works once the WASM bundle runs: an island of its own.
#[island]
fn HydrationCheck() -> impl IntoView {
    // Effects run only in the browser, after hydration: this flips once the bundle runs.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let clicks = RwSignal::new(0u32);

    view! {
            <p class="hydration" data-hydrated=move || hydrated.get().to_string()>
                <button
                    id="hydration-check"
                    type="button"
                    disabled=move || !hydrated.get()
                    on:click=move |_| clicks.update(|n| *n += 1)
                >
                    "Check the app is live"
                </button>
                <span id="hydration-status" role="status">
                    {move || match clicks.get() {
                        0 if hydrated.get() => "Ready.".to_string(),
                        0 => "Loading the app…".to_string(),
                        1 => "Live: clicked once.".to_string(),
                        n => format!("Live: clicked {n} times."),
                    }}
                </span>
            </p>
    }
}
