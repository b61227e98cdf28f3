//! What the request id and the metrics cost per request: the router with a handler that
//! does nothing, bare, with `security::request_id`, and with `server::http_metrics` as
//! well (the recorder installed, as with `CHATPASS_METRICS_ADDR`). Three alternating rounds
//! each, on one thread; prints one JSON line of the medians. `bench/run.py` reports them
//! beside chat_token's own rate.
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
    let with_id = bare.clone().layer(middleware::from_fn(chatpass::security::request_id));
    let with_both = bare
        .clone()
        .layer(middleware::from_fn(chatpass::server::http_metrics))
        .layer(middleware::from_fn(chatpass::security::request_id));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut rounds: [Vec<f64>; 3] = Default::default();
    runtime.block_on(async {
        for _ in 0..3 {
            for (i, router) in [&bare, &with_id, &with_both].into_iter().enumerate() {
                rounds[i].push(rate(router).await);
            }
        }
    });
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let [mut a, mut b, mut c] = rounds;
    let (bare, with_id, with_both) = (median(&mut a), median(&mut b), median(&mut c));
    let ns = |fast: f64, slow: f64| 1e9 / slow - 1e9 / fast;
    println!(
        "{{\"bare_per_s\":{bare:.0},\"request_id_per_s\":{with_id:.0},\"both_per_s\":{with_both:.0},\"request_id_ns\":{:.0},\"metrics_ns\":{:.0}}}",
        ns(bare, with_id),
        ns(with_id, with_both)
    );
}
