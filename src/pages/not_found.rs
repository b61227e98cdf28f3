//! Any path no route matches: a 404 page with a 404 status.

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <h1>"Page not found"</h1>
        <p>
            <a href="/">"Back to the start"</a>
        </p>
    }
}
