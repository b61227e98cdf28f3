//! The integration-test harness: the real router on port 0, a fresh SQLite file in a
//! temporary directory, and an HTTP client that keeps cookies like a browser.
#![allow(dead_code)]

use std::{collections::HashMap, net::SocketAddr};

use chatpass::{config::Config, server};
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};

pub struct TestApp {
    pub addr: SocketAddr,
    /// Keeps cookies; does not follow redirects, so tests can see them.
    pub client: reqwest::Client,
    pub dir: TempDir,
    /// The server's own pool, to look at the database or break it.
    pub pool: chatpass::db::Pool,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

#[derive(Default)]
pub struct TestAppBuilder {
    env: HashMap<String, String>,
}

impl TestAppBuilder {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    pub async fn spawn(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = self.env;
        env.entry("DATABASE_URL".into())
            .or_insert_with(|| format!("sqlite://{}/chatpass.db", dir.path().display()));
        env.entry("LEPTOS_SITE_ADDR".into())
            .or_insert_with(|| "127.0.0.1:0".into());
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test settings parse");
        let prepared = server::prepare(&config).await.expect("server starts");
        let addr = prepared.addr;
        let pool = prepared.pool.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            prepared
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
        TestApp {
            addr,
            client: client(),
            dir,
            pool,
            stop: Some(stop),
            task: Some(task),
        }
    }
}

/// A browser-like client: a cookie jar, no automatic redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Stops the server gracefully and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}
