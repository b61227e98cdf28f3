//! `/chat`: fetches a Twilio token by itself, starts the Conversations SDK, keeps the
//! token fresh, and shows a small real chat. Signed-out visitors never get here: the
//! server redirects them to `/login?next=/chat` first.

use leptos::prelude::*;

use crate::{
    auth::{ResendOutcome, ResendVerification},
    chat::state::{clock, countdown, ChatView},
    token::IssuedChatToken,
};

/// The whole page is one island: all of it is live in the browser.
#[island]
pub fn ChatPage() -> impl IntoView {
    crate::pages::form::shadow_url_errors();
    let view = ChatView::new();

    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            crate::chat::client::start(view);
        }
    });

    let token_field = move |f: fn(&IssuedChatToken) -> String| {
        move || view.token.get().map(|t| f(&t)).unwrap_or_else(|| "–".into())
    };
    let remaining = move || {
        view.token
            .get()
            .map(|t| countdown(t.expires_at.saturating_sub(view.now.get())))
            .unwrap_or_else(|| "–".into())
    };
    let conversation_name = RwSignal::new(String::new());
    let draft = RwSignal::new(String::new());

    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Events run in the browser only; the server renders the form and never calls this.
        #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
        let name = conversation_name.get_untracked().trim().to_string();
        if name.is_empty() {
            view.error.set(Some("Enter a conversation name.".into()));
        } else {
            #[cfg(feature = "hydrate")]
            crate::chat::client::join_or_create(view, name);
        }
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
        let text = draft.get_untracked();
        if !text.trim().is_empty() {
            draft.set(String::new());
            #[cfg(feature = "hydrate")]
            crate::chat::client::send(view, text);
        }
    };

    view! {
        <h1>"Chat"</h1>
        <Show when=move || view.token.get().is_some_and(|t| t.demo)>
            <p class="banner demo" data-testid="demo-banner">
                <strong>"Demo token. "</strong>
                "chatpass has no Twilio account configured, so this token is signed with a random secret and Twilio will refuse it. Set the four TWILIO_* settings to chat for real."
            </p>
        </Show>
        <Show when=move || view.unverified.get()>
            <UnverifiedBanner />
        </Show>
        <Show when=move || view.signed_out.get()>
            <p class="banner error" data-testid="signed-out" role="alert">
                "You are signed out, so chat has stopped. "
                <a href="/login?next=/chat">"Log in again"</a>
            </p>
        </Show>
        <div class="chat-layout">
            <aside class="panel" aria-labelledby="status-heading">
                <h2 id="status-heading">"Connection"</h2>
                <p>
                    "Twilio: " <span class="state" data-testid="connection-state">{move || view.connection.get()}</span>
                </p>
                <p class="error" data-testid="chat-error" role="status">
                    {move || view.error.get()}
                </p>
                <h2 id="token-heading">"Token"</h2>
                <dl aria-labelledby="token-heading" data-testid="token-panel">
                    <dt>"Identity"</dt>
                    <dd data-testid="token-identity">{token_field(|t| t.identity.clone())}</dd>
                    <dt>"Service"</dt>
                    <dd>{token_field(|t| t.service_sid.clone())}</dd>
                    <dt>"Issued"</dt>
                    <dd>{token_field(|t| clock(t.issued_at))}</dd>
                    <dt>"Expires"</dt>
                    <dd>{token_field(|t| clock(t.expires_at))}</dd>
                    <dt>"Expires in"</dt>
                    <dd data-testid="token-countdown">{remaining}</dd>
                    <dt>"Refreshed"</dt>
                    <dd data-testid="token-refreshes">{move || view.refreshes.get()} " times"</dd>
                    <dt>"Kind"</dt>
                    <dd data-testid="token-kind">
                        {move || match view.token.get() {
                            Some(t) if t.demo => "demo (Twilio will refuse it)",
                            Some(_) => "live",
                            None => "–",
                        }}
                    </dd>
                </dl>
            </aside>
            <section class="panel" aria-labelledby="conversations-heading">
                <h2 id="conversations-heading">"Conversations"</h2>
                <ul data-testid="conversations">
                    <For each=move || view.conversations.get() key=|name| name.clone() let:name>
                        <li>
                            <button
                                type="button"
                                class="secondary"
                                on:click={
                                    let name = name.clone();
                                    move |_| {
                                        conversation_name.set(name.clone());
                                        #[cfg(feature = "hydrate")]
                                        crate::chat::client::join_or_create(view, name.clone());
                                    }
                                }
                            >
                                {name.clone()}
                            </button>
                        </li>
                    </For>
                </ul>
                <form class="row" on:submit=join>
                    <label for="conversation-name">"Conversation name"</label>
                    <input
                        id="conversation-name"
                        type="text"
                        autocomplete="off"
                        prop:value=move || conversation_name.get()
                        on:input=move |ev| conversation_name.set(event_target_value(&ev))
                    />
                    <button type="submit">"Join or create"</button>
                </form>
                <h2 id="messages-heading">
                    {move || view.open.get().map(|n| format!("Messages in {n}")).unwrap_or_else(|| "Messages".into())}
                </h2>
                <ul class="messages" aria-labelledby="messages-heading" aria-live="polite" data-testid="messages">
                    {move || {
                        view.messages
                            .get()
                            .into_iter()
                            .map(|l| view! {
                                <li>
                                    <span class="author">{l.author}</span>
                                    {l.body}
                                </li>
                            })
                            .collect_view()
                    }}
                </ul>
                <form class="row" on:submit=send>
                    <label for="message">"Message"</label>
                    <input
                        id="message"
                        type="text"
                        autocomplete="off"
                        prop:value=move || draft.get()
                        on:input=move |ev| draft.set(event_target_value(&ev))
                    />
                    <button type="submit">"Send"</button>
                </form>
            </section>
        </div>
    }
}

/// "Confirm your email": shown instead of a chat until the account's email is proven,
/// with a button that mails the link again.
#[component]
fn UnverifiedBanner() -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    let answer = move || match resend.value().get() {
        None => String::new(),
        Some(Ok(ResendOutcome::CheckYourInbox)) => {
            "Sent. Check your inbox; the new link works for 24 hours.".into()
        }
        Some(Ok(ResendOutcome::AlreadyVerified)) => {
            "Your email is confirmed. Reload this page to chat.".into()
        }
        Some(Err(e)) => e.to_string(),
    };
    view! {
        <div class="banner demo" data-testid="confirm-email" role="alert">
            <p>
                <strong>"Confirm your email. "</strong>
                "Your chat identity is your email, so it needs proving first: open the link we mailed you when you signed up, then reload this page."
            </p>
            <ActionForm action=resend>
                <button type="submit" disabled=move || resend.pending().get()>
                    "Send the link again"
                </button>
            </ActionForm>
            <p role="status" data-testid="resend-status">{answer}</p>
        </div>
    }
}
