//! Prometheus metrics (the `metrics` facade, rendered by `metrics-exporter-prometheus`):
//! the recorder, once per process, and the names every feature counts under, written once
//! here. Served by the server on its own listener (`CHATPASS_METRICS_ADDR`), never on the
//! public router.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Request latency buckets (seconds): from a cached page to a slow hash.
const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The process's recorder, installed on first use. A second server in the same process
/// (the tests start many) shares it.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("non-empty buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only when another recorder is installed: then ours just stays empty.
        let _ = ::metrics::set_global_recorder(recorder);
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        ::metrics::gauge!("chatpass_process_start_time_seconds").set(started);
        handle
    })
}

/// The text a scrape gets.
pub fn render() -> String {
    let handle = handle();
    handle.run_upkeep();
    handle.render()
}

pub fn token_issued(mode: &'static str) {
    ::metrics::counter!("chatpass_tokens_issued_total", "mode" => mode).increment(1);
}

/// `result`: `ok`, `bad_credentials` or `limited`.
pub fn login(result: &'static str) {
    ::metrics::counter!("chatpass_logins_total", "result" => result).increment(1);
}

pub fn device_connected() {
    ::metrics::counter!("chatpass_devices_connected_total").increment(1);
}

pub fn signup() {
    ::metrics::counter!("chatpass_signups_total").increment(1);
}

pub fn verification() {
    ::metrics::counter!("chatpass_verifications_total").increment(1);
}

pub fn password_reset() {
    ::metrics::counter!("chatpass_password_resets_total").increment(1);
}

/// `result`: `sent`, `retry` or `failed` (given up).
pub fn mail(result: &'static str) {
    ::metrics::counter!("chatpass_mails_total", "result" => result).increment(1);
}

/// A call to Twilio's REST API finished: `call` (`create`, `rename`, `delete`,
/// `change_email`) and `result` (`done`, `retry`, `given_up`, `skipped`).
pub fn twilio_call(call: &'static str, result: &'static str) {
    ::metrics::counter!("chatpass_twilio_calls_total", "call" => call, "result" => result).increment(1);
}

/// A Twilio webhook answered: `event` (one of the pre-action events, or `other`) and
/// `result` (`allowed`, `refused`, `bad_signature`).
pub fn twilio_webhook(event: &'static str, result: &'static str) {
    ::metrics::counter!("chatpass_twilio_webhooks_total", "event" => event, "result" => result).increment(1);
}

/// One answered request: its latency, and 429s and 503s counted by route.
pub fn request(route: &'static str, status: u16, seconds: f64) {
    ::metrics::histogram!("chatpass_request_duration_seconds", "route" => route).record(seconds);
    match status {
        429 => ::metrics::counter!("chatpass_rate_limited_total", "route" => route).increment(1),
        503 => ::metrics::counter!("chatpass_unavailable_total", "route" => route).increment(1),
        _ => {}
    }
}

/// Password hashes waiting for a hashing thread, and how long one waited.
pub fn hash_queue(depth: usize) {
    ::metrics::gauge!("chatpass_hash_queue_depth").set(depth as f64);
}

pub fn hash_wait(seconds: f64) {
    ::metrics::histogram!("chatpass_hash_wait_seconds").record(seconds);
}

/// The database pool, read when scraped.
pub fn pool(size: u32, idle: usize) {
    ::metrics::gauge!("chatpass_db_pool_connections").set(f64::from(size));
    ::metrics::gauge!("chatpass_db_pool_idle_connections").set(idle as f64);
}
