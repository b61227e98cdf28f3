//! The root component, the HTML shell, the router and the navigation bar.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    SsrMode, StaticSegment,
};

use crate::{
    auth::{current_user, Logout, UserInfo},
    error::AppError,
    pages::{
        account::AccountPage, chat::ChatPage, forgot::ForgotPage, home::HomePage, login::LoginPage,
        not_found::NotFound, reset::ResetPage, signup::SignupPage, verify::VerifyPage,
    },
};

/// The whole HTML document, rendered on the server around [`App`]. Also sets the page's
/// Content-Security-Policy, which names the nonce Leptos puts on its inline scripts.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    {
        // `cargo leptos watch` (make dev) sets LEPTOS_WATCH; the page then carries
        // Leptos's live-reload script, which connects to the reload port.
        // Read once per process, not on every page.
        static WATCHED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let watched = *WATCHED.get_or_init(|| std::env::var_os("LEPTOS_WATCH").is_some());
        let live_reload = watched.then_some(options.reload_port);
        let csp = crate::security::page_csp(&nonce.to_string(), live_reload);
        if let Ok(value) = axum::http::HeaderValue::from_str(&csp) {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    let interactive = page_is_interactive();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" />
                // Renders only under `cargo leptos watch` (make dev): the live-reload script.
                <AutoReload options=options.clone() />
                // Only a page with an island loads the WASM bundle.
                {interactive.then(|| view! { <HydrationScripts options islands=true /> })}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The pages with an `#[island]`: only they load the WASM bundle. The others (home, not
/// found) are complete HTML.
pub const INTERACTIVE_PAGES: &[&str] =
    &["/login", "/signup", "/verify", "/forgot", "/reset", "/account", "/chat"];

/// Whether the page being rendered is one of [`INTERACTIVE_PAGES`].
fn page_is_interactive() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .is_none_or(|parts| INTERACTIVE_PAGES.contains(&parts.uri.path()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

/// Who is signed in, refetched whenever an account action completes.
pub type UserResource = Resource<Result<Option<UserInfo>, AppError>>;

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/chatpass.css" />
        <Title text="chatpass" />
        <Router>
            <Layout />
        </Router>
    }
}

/// Everything inside the router. Rendered on the server only (the app is built as
/// islands): the pages' interactive parts are `#[island]`s, and signing in, signing up
/// and logging out end in a full page load, so the nav is always rendered afresh.
#[component]
fn Layout() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let user: UserResource = Resource::new(|| (), |_| current_user());
    // Pages that say something different to signed-in visitors read the same answer.
    provide_context(user);

    // In-order rendering: pages are complete HTML without JavaScript.
    view! {
            <HydrationMark />
            <header class="topbar">
                <Nav user logout />
            </header>
            <main id="content">
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::InOrder />
                    <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::InOrder />
                    <Route path=StaticSegment("signup") view=SignupPage ssr=SsrMode::InOrder />
                    <Route path=StaticSegment("chat") view=ChatPage ssr=SsrMode::InOrder />
                    <Route path=StaticSegment("verify") view=VerifyPage ssr=SsrMode::InOrder />
                    <Route path=StaticSegment("forgot") view=ForgotPage ssr=SsrMode::InOrder />
                    <Route path=StaticSegment("reset") view=ResetPage ssr=SsrMode::InOrder />
                    <Route path=StaticSegment("account") view=AccountPage ssr=SsrMode::InOrder />
                </Routes>
            </main>
    }
}

/// On every interactive page, so that `data-hydrated` is set there even before (or
/// without) the page's own islands (see `pages::hydration`). On a page without the
/// bundle it never runs.
#[island]
fn HydrationMark() -> impl IntoView {
    crate::pages::hydration::island_hydrated();
}

#[component]
fn Nav(user: UserResource, logout: ServerAction<Logout>) -> impl IntoView {
    view! {
        <nav aria-label="Main">
            <A href="/" attr:class="brand">
                "chatpass"
            </A>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) => {
                            view! {
                                <A href="/chat">"Chat"</A>
                                <A href="/account" attr:class="nav-user" attr:data-testid="signed-in-as">
                                    {user.email}
                                </A>
                                <ActionForm action=logout>
                                    <button type="submit" class="secondary">
                                        "Log out"
                                    </button>
                                </ActionForm>
                            }
                                .into_any()
                        }
                        _ => {
                            view! {
                                <A href="/login">"Log in"</A>
                                <A href="/signup">"Sign up"</A>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </nav>
    }
}
