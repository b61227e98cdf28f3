//! The floor for `POST /api/chat_token`: a bare axum server on the same runtime that
//! mints the same token with chatpass's own `token` module, for a fixed identity, with no
//! session, no database and no middleware. `make bench` builds it
//! (`cargo build --release --features ssr --example token_floor`) and measures it pinned
//! to the same core as chatpass: what the stack itself costs, and nothing of ours.
//!
//! `token_floor PORT`

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{extract::State, routing::post, Json, Router};
use chatpass::token::{ChatGrant, Mode, TokenIssuer};

/// The same allocator as the chatpass binary: the floor differs by what chatpass does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn chat_token(State(issuer): State<Arc<TokenIssuer>>) -> Json<serde_json::Value> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    match issuer.issue("bench@example.com", now) {
        Ok(signed) => Json(serde_json::json!({
            "token": signed.jwt,
            "identity": "bench@example.com",
            "issued_at": signed.iat,
            "expires_at": signed.exp,
            "ttl": issuer.ttl,
            "demo": true,
        })),
        Err(_) => Json(serde_json::json!({"error": "signing"})),
    }
}

#[tokio::main]
async fn main() {
    let Some(port) = std::env::args().nth(1).and_then(|p| p.parse::<u16>().ok()) else {
        eprintln!("usage: token_floor PORT (a port number)");
        std::process::exit(2);
    };
    let issuer = TokenIssuer::new(
        "AC00000000000000000000000000000000".into(),
        "SK00000000000000000000000000000000".into(),
        "bench-floor-secret-0123456789abcdef",
        ChatGrant { service_sid: "IS00000000000000000000000000000000".into(), ..Default::default() },
        3600,
        None,
        Mode::Demo,
    )
    .expect("a non-empty secret");
    let app = Router::new()
        .route("/api/chat_token", post(chat_token))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .with_state(Arc::new(issuer));
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
