//! Token minting on one core: our `token` module against the floor, one HMAC-SHA256 over
//! the same signing input. Prints one JSON line; `bench/run.py` compares it with
//! twilio-node and twilio-python measured on the same inputs.
//!
//! `cargo bench --features ssr --bench token_mint`

use std::time::{Duration, Instant};

use chatpass::token::{ChatGrant, Mode, TokenIssuer};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The allocator the server runs with (`src/main.rs`), so the figure is the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &str = "bench-secret-0123456789abcdef0123";
const IDENTITY: &str = "ann.lee@example.com";
const RUN: Duration = Duration::from_secs(2);

/// Calls `f` repeatedly for about `RUN` and returns operations per second.
fn rate(mut f: impl FnMut(u64) -> usize) -> f64 {
    let mut sink = 0usize;
    for i in 0..10_000 {
        sink = sink.wrapping_add(f(i));
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < RUN {
        for _ in 0..1000 {
            sink = sink.wrapping_add(f(1_764_300_000 + n));
            n += 1;
        }
    }
    std::hint::black_box(sink);
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let chat = ChatGrant { service_sid: "IS0123456789abcdef0123456789abcdef".into(), ..Default::default() };
    let issuer = TokenIssuer::new(
        "AC0123456789abcdef0123456789abcdef".into(),
        "SK0123456789abcdef0123456789abcdef".into(),
        SECRET,
        chat,
        3600,
        None,
        Mode::Live,
    )
    .expect("issuer");
    let ours = rate(|now| issuer.issue(IDENTITY, now).expect("token").jwt.len());

    let sample = issuer.issue(IDENTITY, 1_764_300_000).expect("token").jwt;
    let signing_input = sample.rsplit_once('.').expect("three parts").0.as_bytes().to_vec();
    let hmac_floor = rate(|_| {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
        mac.update(std::hint::black_box(&signing_input));
        mac.finalize().into_bytes()[0] as usize
    });
    println!(
        "{{\"ours_per_s\":{ours:.0},\"hmac_floor_per_s\":{hmac_floor:.0},\"signing_input_bytes\":{}}}",
        signing_input.len()
    );
}
