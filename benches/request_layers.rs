//! What the request id, the metrics and the request's deadline cost per request: the
//! router with a handler that does nothing, bare, and with `server::identify_bound_and_measure`, the one layer
//! that does them (the recorder installed, as with `CHATPASS_METRICS_ADDR`; the body is
//! empty, so there is none to read). Three alternating rounds each, on one thread; prints
//! one JSON line of the medians. `bench/run.py` reports them beside chat_token's own rate.
//!
//! `cargo bench --features ssr --bench request_layers`

use std::time::{Duration, Instant};

use axum::{body::Body, http::Request, middleware, routing::post, Router};
use tower::ServiceExt;

const RUN: Duration = Duration::from_millis(1500);

async fn rate(router: &Router) -> f64 {
    let request = || {
        Request::post("/api/chat_token")
            .header("x-request-id", "lb-0123456789")
            .body(Body::empty())
            .expect("request")
    };
    for _ in 0..2000 {
        let _ = router.clone().oneshot(request()).await;
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < RUN {
        for _ in 0..500 {
            let response = router.clone().oneshot(request()).await.expect("infallible");
            std::hint::black_box(response);
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    chatpass::metrics::handle();
    let bare: Router = Router::new().route("/api/chat_token", post(|| async { "{}" }));
    let with_edge = bare.clone().layer(middleware::from_fn(chatpass::server::identify_bound_and_measure));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut rounds: [Vec<f64>; 2] = Default::default();
    runtime.block_on(async {
        for _ in 0..3 {
            for (i, router) in [&bare, &with_edge].into_iter().enumerate() {
                rounds[i].push(rate(router).await);
            }
        }
    });
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let [mut a, mut b] = rounds;
    let (bare, with_edge) = (median(&mut a), median(&mut b));
    println!(
        "{{\"bare_per_s\":{bare:.0},\"edge_per_s\":{with_edge:.0},\"edge_ns\":{:.0}}}",
        1e9 / with_edge - 1e9 / bare
    );
}
