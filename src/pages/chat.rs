//! `/chat`: fetches a Twilio token by itself, starts the Conversations SDK, keeps the
//! token fresh, and shows a small real chat. Signed-out visitors never get here: the
//! server redirects them to `/login?next=/chat` first.

use leptos::prelude::*;

use crate::{
    auth::{ResendOutcome, ResendVerification},
    chat::state::{break_points, clock, countdown, handle, short_clock, typing_sentence, ChatView},
};

/// The page: the demo-mode notice, rendered on the server (it names the server's
/// settings, which have no business in the WASM bundle), around the live chat.
#[component]
pub fn ChatPage() -> impl IntoView {
    view! {
        <h1>"Chat"</h1>
        {crate::token::demo_instance().then(|| view! {
            <div class="banner demo" data-testid="demo-banner">
                <p>
                    <strong>"Demo mode. "</strong>
                    "This instance has no Twilio account configured, so chatpass signs your token with a random secret and placeholder SIDs. Twilio will refuse it (the page says \u{201c}refused\u{201d} or \u{201c}cannot reach Twilio\u{201d}); everything on this side of Twilio works."
                </p>
                <p>
                    "To chat for real, set "
                    {crate::token::LIVE_SETTINGS.map(|name| view! { <code>{name}</code>" " }).collect_view()}
                    "on the server. The token panel shows exactly what a live token carries, with your real identity."
                </p>
            </div>
        })}
        <Chat />
    }
}

/// The live chat: an island, all of it runs in the browser.
#[island(lazy)]
fn Chat() -> impl IntoView {
    crate::pages::hydration::island_hydrated();
    crate::pages::form::shadow_url_errors();
    let view = ChatView::new();

    // The token lifecycle, and the demo's conversations on each client it makes.
    #[cfg(feature = "hydrate")]
    let tokens = crate::chat::token_lifecycle::TokenLifecycle::new(view);
    #[cfg(feature = "hydrate")]
    let conversations = crate::chat::conversations::Conversations::new(view, tokens);
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            crate::chat::browser::keep_time(view);
            conversations.watch_the_browser();
            tokens.start(move |client| conversations.attach(&client));
        }
    });

    let remaining = move || match view.token.with(Option::is_some) {
        true => countdown(view.token_expires_local.get().saturating_sub(view.now.get())),
        false => "–".into(),
    };
    let state_line = move || {
        if view.offline.get() {
            "Offline: chatpass reconnects when the network returns.".to_string()
        } else {
            view.connection.get().words(view.demo()).to_string()
        }
    };
    let state_key = move || if view.offline.get() { "offline" } else { view.connection.get().key() };
    // Open in demo mode; a refreshed token does not open it again once closed.
    let demo_once = Memo::new(move |_| view.demo());
    let conversation_name = RwSignal::new(String::new());
    let draft = RwSignal::new(String::new());

    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Events run in the browser only; the server renders the form and never calls this.
        #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
        let name = conversation_name.get_untracked().trim().to_string();
        if name.is_empty() {
            view.error.set(Some("Enter a conversation name to join or create.".into()));
        } else {
            #[cfg(feature = "hydrate")]
            conversations.join_or_create(name);
        }
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
        let text = draft.get_untracked();
        if !text.trim().is_empty() {
            draft.set(String::new());
            #[cfg(feature = "hydrate")]
            conversations.send(text, draft);
        }
    };
    let typing_line = move || {
        let names: Vec<String> = view.typing.get().iter().map(|i| view.name_of(i)).collect();
        typing_sentence(&names).unwrap_or_default()
    };

    // Newest message in view after an arrival; the same message in view after older
    // ones are added above it.
    let list = NodeRef::<leptos::html::Ul>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |previous: Option<(Option<i64>, i32)>| {
        let newest = view.messages.with(|m| m.last().map(|l| l.index));
        let Some(ul) = list.get() else { return (newest, 0) };
        let height = ul.scroll_height();
        match previous {
            Some((before, old_height)) if before == newest => {
                ul.set_scroll_top(ul.scroll_top() + height - old_height)
            }
            _ => ul.set_scroll_top(height),
        }
        (newest, height)
    });
    let on_scroll = move |_| {
        #[cfg(feature = "hydrate")]
        if list.get_untracked().is_some_and(|ul| ul.scroll_top() <= 0) && view.has_older.get_untracked() {
            conversations.load_older();
        }
    };

    view! {
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
                <p class="state" data-testid="connection-state" data-state=state_key role="status">
                    {state_line}
                </p>
                <p class="error" data-testid="chat-error" role="status">
                    {move || view.error.get()}
                </p>
                <h2 id="token-heading">"Token"</h2>
                <dl aria-labelledby="token-heading" data-testid="token-panel">
                    <dt>"Identity"</dt>
                    <dd data-testid="token-identity">{move || breakable(view.token.with(|t| t.as_ref().map(|t| t.identity.clone())))}</dd>
                    <dt>"Shown as"</dt>
                    <dd data-testid="token-display-name">{move || view.token.with(|t| t.as_ref().map(|t| t.display_name.clone())).unwrap_or_else(|| "–".into())}</dd>
                    <dt>"Service"</dt>
                    <dd>{move || breakable(view.token.with(|t| t.as_ref().map(|t| t.service_sid.clone())))}</dd>
                    <dt>"Issued"</dt>
                    <dd>{move || view.token.with(|t| t.as_ref().map(|t| clock(t.issued_at))).unwrap_or_else(|| "–".into())}</dd>
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
                <Show when=move || view.token_json.with(Option::is_some)>
                    <details class="token-json" open=demo_once>
                        <summary>"What the token carries"</summary>
                        <h3>"Header"</h3>
                        <pre data-testid="token-header">{move || view.token_json.get().map(|(h, _)| h)}</pre>
                        <h3>"Claims"</h3>
                        <pre data-testid="token-claims">{move || view.token_json.get().map(|(_, c)| c)}</pre>
                    </details>
                </Show>
            </aside>
            <section class="panel" aria-labelledby="conversations-heading">
                <h2 id="conversations-heading">"Conversations"</h2>
                <ul class="conversations" data-testid="conversations">
                    <For each=move || view.conversations.get() key=|c| c.sid.clone() let:item>
                        <li>
                            <button
                                type="button"
                                class="secondary"
                                aria-current={
                                    let sid = item.sid.clone();
                                    move || view.open.with(|o| o.as_ref().is_some_and(|(open, _)| *open == sid)).then_some("true")
                                }
                                on:click={
                                    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
                                    let sid = item.sid.clone();
                                    move |_| {
                                        #[cfg(feature = "hydrate")]
                                        conversations.open_listed(sid.clone());
                                    }
                                }
                            >
                                <span class="name">{item.name.clone()}</span>
                                {
                                    // Keyed by sid alone, so a count changing keeps the button (and its focus).
                                    let sid = item.sid.clone();
                                    move || {
                                        let unread = view.conversations.with(|list| {
                                            list.iter().find(|c| c.sid == sid).and_then(|c| c.unread).filter(|n| *n > 0)
                                        });
                                        unread.map(|n| view! {
                                            <span class="badge" data-testid="unread">
                                                {n.to_string()}
                                                <span class="visually-hidden">" unread"</span>
                                            </span>
                                        })
                                    }
                                }
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
                    {move || view.open.get().map(|(_, n)| format!("Messages in {n}")).unwrap_or_else(|| "Messages".into())}
                </h2>
                <Show when=move || view.open.with(Option::is_some)>
                    <p class="participants" data-testid="participants">
                        "Here: "
                        {move || {
                            view.participants.get().iter().map(|i| view.name_and_handle_of(i)).collect::<Vec<_>>().join(", ")
                        }}
                    </p>
                </Show>
                <Show when=move || view.has_older.get()>
                    <button
                        type="button"
                        class="secondary"
                        disabled=move || view.loading_older.get()
                        on:click=move |_| {
                            #[cfg(feature = "hydrate")]
                            conversations.load_older();
                        }
                    >
                        "Load older messages"
                    </button>
                </Show>
                <ul
                    class="messages"
                    aria-labelledby="messages-heading"
                    data-testid="messages"
                    tabindex="0"
                    node_ref=list
                    on:scroll=on_scroll
                >
                    <For each=move || view.messages.get() key=|l| (l.index, l.body.len()) let:line>
                        <li data-index=line.index>
                            <span class="author">
                                {
                                    let author = line.author.clone();
                                    move || view.name_of(&author)
                                }
                            </span>
                            {
                                let author = line.author.clone();
                                move || {
                                    let id = handle(&author);
                                    (view.name_of(&author) != id).then(|| view! { <span class="author-id">{id}</span> })
                                }
                            }
                            {line.sent_at_ms.map(|ms| view! { <span class="time">{short_clock(ms)}</span> })}
                            <span class="body" dir="auto">{line.body.clone()}</span>
                        </li>
                    </For>
                </ul>
                <p class="typing" data-testid="typing" aria-live="polite">{typing_line}</p>
                <form class="row" on:submit=send>
                    <label for="message">"Message"</label>
                    <input
                        id="message"
                        type="text"
                        autocomplete="off"
                        prop:value=move || draft.get()
                        on:input=move |ev| {
                            draft.set(event_target_value(&ev));
                            #[cfg(feature = "hydrate")]
                            conversations.typing();
                        }
                    />
                    <button type="submit">"Send"</button>
                </form>
            </section>
        </div>
    }
}

/// Text with break opportunities after `@`, `.`, `-` …: long identities and SIDs wrap
/// between their parts.
fn breakable(text: Option<String>) -> impl IntoView {
    match text {
        None => view! { "–" }.into_any(),
        Some(text) => {
            break_points(&text).into_iter().map(|part| view! { <wbr />{part} }).collect_view().into_any()
        }
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
