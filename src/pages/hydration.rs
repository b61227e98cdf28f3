//! The sign that a page is fully interactive: `data-hydrated="true"` on `<body>` once
//! every island on it has hydrated (the browser tests wait for it). A lazy island
//! (`#[island(lazy)]`) hydrates only after its chunk of the bundle has loaded, so the first
//! island to hydrate is not yet the sign.

use leptos::prelude::*;

/// Called at the top of every island: counts it once its view is live in the browser.
pub fn island_hydrated() {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            use std::cell::Cell;
            thread_local! {
                static HYDRATED: Cell<u32> = const { Cell::new(0) };
            }
            let hydrated = HYDRATED.get() + 1;
            HYDRATED.set(hydrated);
            let document = document();
            let islands = document.query_selector_all("leptos-island").map(|all| all.length()).unwrap_or(0);
            if hydrated >= islands {
                if let Some(body) = document.body() {
                    let _ = body.set_attribute("data-hydrated", "true");
                }
            }
        }
    });
}
