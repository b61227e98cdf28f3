//! PostgreSQL for the tests, from `scripts/pg.sh`: `make test` starts one throw-away
//! server and passes its address in `CHATPASS_TEST_POSTGRES_URL`; every test gets a
//! database of its own on it. A test that stops the server (the outage test) starts a
//! private one with [`Cluster`] instead, so it disturbs no other test.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::{AtomicU32, Ordering},
};

use sqlx::{Connection, PgConnection};

pub const URL_VAR: &str = "CHATPASS_TEST_POSTGRES_URL";

/// The shared server's address; a test that needs PostgreSQL fails with directions when
/// it is missing.
pub fn server_url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| {
        panic!("{URL_VAR} is not set: run `make test`, or `scripts/pg.sh run cargo test --features ssr`")
    })
}

/// Creates an empty database on the server at `admin_url` and returns its URL.
pub async fn fresh_database(admin_url: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "chatpass_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        rand_suffix()
    );
    let mut admin = PgConnection::connect(admin_url).await.expect("connect to the test PostgreSQL");
    sqlx::query(&format!(r#"CREATE DATABASE "{name}""#)).execute(&mut admin).await.expect("create database");
    admin.close().await.ok();
    let (base, _) = admin_url.rsplit_once('/').expect("URL with a database");
    format!("{base}/{name}")
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg.sh")
}

fn pg(args: &[&str]) -> String {
    let output = Command::new(script()).args(args).output().expect("run scripts/pg.sh");
    assert!(
        output.status.success(),
        "scripts/pg.sh {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8").trim().to_string()
}

/// A private PostgreSQL server, stopped and deleted when dropped.
pub struct Cluster {
    dir: String,
    pub url: String,
}

impl Cluster {
    pub fn start() -> Cluster {
        let started = pg(&["start"]);
        let (dir, url) = started.split_once(' ').expect("DIR URL");
        Cluster { dir: dir.to_string(), url: url.to_string() }
    }

    /// Fast shutdown: every open connection is cut.
    pub fn stop(&self) {
        pg(&["stop", &self.dir]);
    }

    pub fn restart(&self) {
        pg(&["restart", &self.dir]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).args(["destroy", &self.dir]).output();
    }
}
