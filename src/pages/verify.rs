//! `/verify?token=…`: the link in the verification mail. The page only shows a button:
//! a GET never uses the token (mail scanners fetch links before people click them); the
//! button posts it to `/api/verify_email`, which signs in and goes to the chat.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Server-rendered, no island: a plain form that works without JavaScript.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let token = query.get("token").unwrap_or_default();
    // A refused token comes back here with `__err`; the page shows its own words for it,
    // never text from the URL.
    let refused = query.get("__err").is_some();
    view! {
        <section class="card">
            <h1>"Confirm your email"</h1>
            <Show
                when=move || !refused
                fallback=|| {
                    view! {
                        <p class="banner error" role="alert" data-testid="verify-refused">
                            "This link does not work: it has expired, was already used, or was cut short. "
                            "Log in, and the chat page offers to send a new one."
                        </p>
                        <p>
                            <a href="/login?next=/chat">"Log in"</a>
                        </p>
                    }
                }
            >
                <p>"Press the button to confirm that this address is yours. You will be signed in."</p>
                <form method="post" action="/api/verify_email" class="stack">
                    <input type="hidden" name="token" value=token.clone() />
                    <button type="submit">"Confirm my email"</button>
                </form>
            </Show>
        </section>
    }
}
