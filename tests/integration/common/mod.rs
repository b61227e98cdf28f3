//! The integration-test harness: the real router on port 0, a fresh database, and an
//! HTTP client that keeps cookies like a browser.
//!
//! The database is picked by `CHATPASS_TEST_BACKEND`: `sqlite` (the default: a file in a
//! temporary directory) or `postgres` (a database of its own on the server named by
//! `CHATPASS_TEST_POSTGRES_URL`). `make test` runs the whole suite once with each.

pub mod answers;
pub mod devices;
pub mod fixtures;
pub mod mail;
pub mod oidc;
pub mod oracle;
pub mod postgres;
pub mod process;
pub mod source_files;
pub mod twilio;
pub mod user;

pub use answers::{answer, app_error, bad_input};

use std::{collections::HashMap, net::SocketAddr};

use chatpass::{config::Config, db::Pool, server};
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};

pub struct TestApp {
    pub addr: SocketAddr,
    /// Where `/metrics` is served (with `CHATPASS_METRICS_ADDR`).
    pub metrics_addr: Option<SocketAddr>,
    env: HashMap<String, String>,
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
        if !env.contains_key("DATABASE_URL") {
            env.insert("DATABASE_URL".into(), database_in(dir.path()).await);
        }
        env.entry("LEPTOS_SITE_ADDR".into()).or_insert_with(|| "127.0.0.1:0".into());
        no_real_twilio(&mut env);
        // Mail files in the test's own directory (on PostgreSQL there is no SQLite file
        // to put them beside).
        if !env.contains_key("CHATPASS_SMTP_URL") {
            env.entry("CHATPASS_OUTBOX_DIR".into())
                .or_insert_with(|| dir.path().join("outbox").display().to_string());
        }
        TestApp::start(env, dir, client()).await
    }
}

/// A live app whose Twilio calls go nowhere else: with no stand-in named
/// (`CHATPASS_TWILIO_API_URL`), `CHATPASS_TWILIO_SYNC` is off unless the test set it, so
/// no test sends its fixture credentials to the real Twilio.
pub fn no_real_twilio(env: &mut HashMap<String, String>) {
    if !env.contains_key("CHATPASS_TWILIO_API_URL") {
        env.entry("CHATPASS_TWILIO_SYNC".into()).or_insert_with(|| "off".into());
    }
}

impl TestApp {
    async fn start(env: HashMap<String, String>, dir: TempDir, client: reqwest::Client) -> TestApp {
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test settings parse");
        let prepared = server::prepare(&config).await.expect("server starts");
        let addr = prepared.addr;
        let metrics_addr = prepared.metrics_addr;
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
        TestApp { addr, metrics_addr, env, client, dir, pool, stop: Some(stop), task: Some(task) }
    }

    /// Stops the server and starts a new one on the same database, same client (cookies).
    pub async fn restart(mut self) -> TestApp {
        self.shutdown().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        TestApp::start(self.env.clone(), dir, self.client.clone()).await
    }
}

/// A database of its own on this run's backend, for apps or processes to share or to
/// start again on: its URL, and the directory that holds it on SQLite (and the test's
/// other files).
pub async fn database_of_its_own() -> (String, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    (database_in(dir.path()).await, dir)
}

/// A new database on this run's backend: on SQLite a file in `dir`, on PostgreSQL a
/// database of its own on the server.
async fn database_in(dir: &std::path::Path) -> String {
    match backend() {
        Backend::Sqlite => format!("sqlite://{}/chatpass.db", dir.display()),
        Backend::Postgres => postgres::fresh_database(&postgres::server_url()).await,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database this run of the suite uses (`CHATPASS_TEST_BACKEND`).
pub fn backend() -> Backend {
    match std::env::var("CHATPASS_TEST_BACKEND").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("CHATPASS_TEST_BACKEND={other:?}: expected sqlite or postgres"),
    }
}

/// A browser-like client: a cookie jar, no automatic redirects, and a bound on every
/// request far above any documented wait (a request that takes this long is a hang, and
/// fails its test instead of stalling the suite).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client")
}

/// A browser-like client (see [`client`]) whose connections come from `ip`, a loopback
/// address other than 127.0.0.1 (Linux routes all of 127.0.0.0/8 to lo): the server sees
/// another client address.
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .local_address(ip.parse::<std::net::IpAddr>().expect("an address"))
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
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// POSTs a form the way the app's own (hydrated) pages do: same origin, JSON answer.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_with(&self.client, path, form).await
    }

    pub async fn post_form_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .header("origin", format!("http://{}", self.addr))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn signup(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form("/api/signup", &[("email", email), ("password", password)]).await
    }

    /// POSTs a form as a browser without JavaScript does, from the page `from_page`:
    /// `Accept: text/html` and a `Referer`, so the answer is a redirect.
    pub async fn post_plain_form(
        &self,
        path: &str,
        from_page: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("origin", format!("http://{}", self.addr))
            .header("accept", "text/html")
            .header("referer", self.url(from_page))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// POSTs every form at once, each from a fresh client with no cookies, the way the
    /// app's pages do; the statuses, sorted.
    pub async fn post_concurrently(&self, path: &str, forms: Vec<Vec<(&'static str, String)>>) -> Vec<u16> {
        let mut tasks = tokio::task::JoinSet::new();
        for form in forms {
            let (url, origin) = (self.url(path), format!("http://{}", self.addr));
            tasks.spawn(async move {
                let request =
                    client().post(url).header("origin", origin).header("accept", "application/json");
                request.form(&form).send().await.expect("request").status().as_u16()
            });
        }
        let mut statuses = tasks.join_all().await;
        statuses.sort();
        statuses
    }

    /// Signs up, reads the verification mail from the outbox, and uses its link choosing
    /// `password`: the client is signed in with a proven email. Returns the verification's answer.
    pub async fn register(&self, email: &str, password: &str) -> reqwest::Response {
        let token = self.signup_link(email).await;
        self.verify_with(&self.client, &token, password).await
    }

    /// Signs up `email` (no password: the link's page asks for it) and returns the token of
    /// the verification link that sign-up mailed.
    pub async fn signup_link(&self, email: &str) -> String {
        let before = self.mails_to(email).len();
        let response = self.post_form("/api/signup", &[("email", email)]).await;
        assert_eq!(
            response.status(),
            202,
            "sign-up of {email}: {}",
            response.text().await.unwrap_or_default()
        );
        self.verification_token(email, before + 1).await
    }

    /// An account nobody has proven that already has `password`: what a sign-up made
    /// before the owner chose the password on the link's page (a legacy account, or one
    /// made with `CHATPASS_EMAIL_VERIFICATION=off`). Written behind the server's back.
    pub async fn legacy_account(&self, email: &str, password: &str) {
        let hasher = chatpass::passwords::Hasher::new(1);
        let password = chatpass::domain::Password::parse(password).expect("a good password");
        let hash = hasher.hash_new(password).await.expect("hashed");
        let email = chatpass::domain::Email::parse(email).expect("an email");
        chatpass::db::users::create(&self.pool, &email, &hash, None, None).await.expect("created");
        chatpass::db::accounts_changed();
    }

    /// Uses a verification link from `client`, choosing `password` on its page.
    pub async fn verify_with(
        &self,
        client: &reqwest::Client,
        token: &str,
        password: &str,
    ) -> reqwest::Response {
        self.post_form_with(client, "/api/verify_email", &[("token", token), ("password", password)]).await
    }

    /// The token of the `nth` (1-based) mail to `email`, waiting for the sender to
    /// write it. `email` is matched as stored (lowercase).
    pub async fn verification_token(&self, email: &str, nth: usize) -> String {
        let mail = self.wait_for_mail(email, nth).await;
        mail::verify_token(&mail).unwrap_or_else(|| panic!("no /verify link in:\n{mail}"))
    }

    /// Waits (up to 20 s) until the outbox holds `n` mails to `email`; returns the `n`th.
    pub async fn wait_for_mail(&self, email: &str, n: usize) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let mails = self.mails_to(email);
            if mails.len() >= n {
                return mails[n - 1].clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{n} mail(s) to {email} never came; have {}",
                mails.len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// The mails the file outbox holds for `email`, oldest first.
    pub fn mails_to(&self, email: &str) -> Vec<String> {
        let dir = std::path::PathBuf::from(
            self.env
                .get("CHATPASS_OUTBOX_DIR")
                .cloned()
                .unwrap_or_else(|| self.dir.path().join("outbox").display().to_string()),
        );
        mail::read_dir(&dir)
            .into_iter()
            .filter(|m| mail::recipient(m).as_deref() == Some(&email.trim().to_lowercase()))
            .collect()
    }

    /// `POST /api/forgot_password` for `email` from a client with no cookies; the status.
    pub async fn forgot_password(&self, email: &str) -> u16 {
        self.post_form_with(&client(), "/api/forgot_password", &[("email", email)]).await.status().as_u16()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form("/api/login", &[("email", email), ("password", password)]).await
    }

    /// The signed-in user's email according to the server, for this client's cookie.
    pub async fn whoami_with(&self, client: &reqwest::Client) -> Option<String> {
        self.current_user_with(client).await.map(|user| user.email)
    }

    pub async fn whoami(&self) -> Option<String> {
        self.whoami_with(&self.client).await
    }

    pub async fn user_count(&self) -> i64 {
        count(&self.pool, "SELECT COUNT(*) FROM users").await
    }

    /// The session table's name in this backend.
    pub fn sessions_table(&self) -> &'static str {
        match &self.pool {
            Pool::Sqlite(_) => "tower_sessions",
            Pool::Postgres(_) => "tower_sessions.session",
        }
    }

    pub async fn session_count(&self) -> i64 {
        count(&self.pool, &format!("SELECT COUNT(*) FROM {}", self.sessions_table())).await
    }

    /// The one stored account's email and password hash.
    pub async fn stored_credentials(&self) -> (String, String) {
        let sql = "SELECT email, password_hash FROM users";
        match &self.pool {
            Pool::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
            Pool::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
        }
    }

    /// The session row of user `email` (there must be exactly one), decoded: its id and record.
    pub async fn session_of(&self, email: &str) -> (String, tower_sessions::session::Record) {
        let sql = format!(
            "SELECT s.id, s.data FROM {} s JOIN users u ON u.id = s.user_id WHERE u.email = $1",
            self.sessions_table()
        );
        let rows: Vec<(String, Vec<u8>)> = match &self.pool {
            Pool::Sqlite(p) => sqlx::query_as(&sql).bind(email).fetch_all(p).await.unwrap(),
            Pool::Postgres(p) => sqlx::query_as(&sql).bind(email).fetch_all(p).await.unwrap(),
        };
        assert_eq!(rows.len(), 1, "{email} has one session");
        let (id, data) = rows.into_iter().next().unwrap();
        (id, rmp_serde::from_slice(&data).expect("a tower-sessions record"))
    }

    /// Sets `key` of user `email`'s session record to `value`, behind the server's back
    /// (to make a login or a last visit look long ago without waiting).
    pub async fn set_session_value(&self, email: &str, key: &str, value: serde_json::Value) {
        let (id, mut record) = self.session_of(email).await;
        record.data.insert(key.to_string(), value);
        let data = rmp_serde::to_vec(&record).unwrap();
        let sql = format!("UPDATE {} SET data = $1 WHERE id = $2", self.sessions_table());
        match &self.pool {
            Pool::Sqlite(p) => sqlx::query(&sql).bind(data).bind(id).execute(p).await.map(drop).unwrap(),
            Pool::Postgres(p) => sqlx::query(&sql).bind(data).bind(id).execute(p).await.map(drop).unwrap(),
        }
        // A write behind the server's back is announced as one (the server is in this
        // process), or its session cache would keep the old row for up to CACHE_FOR.
        chatpass::db::accounts_changed();
    }

    /// A POST to `path` (a server function without arguments) of `session_id`'s session that is in flight while `meanwhile` runs: sent
    /// over a raw connection with `Expect: 100-continue` and its body held back. The server
    /// answers "100 Continue" only once the handler reads the body, so by then the session
    /// layers have loaded the session (and, with its last visit long ago, changed it). Then
    /// `meanwhile` runs to its end, the body goes out, and the request finishes (saving its
    /// session). Returns the status line and headers of its answer. No timing is guessed.
    pub async fn request_overlapping<F: std::future::Future<Output = ()>>(
        &self,
        path: &str,
        session_id: &str,
        meanwhile: F,
    ) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nAccept: application/json\r\n\
             Cookie: chatpass_session={session_id}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
            addr = self.addr
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        until_asked_for_the_body(&mut stream).await;
        meanwhile.await;
        stream.write_all(b"x=1").await.unwrap();
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        let answer = String::from_utf8_lossy(&rest).to_string();
        answer.split("\r\n\r\n").next().unwrap_or_default().to_string()
    }

    /// `POST /api/chat_token` with only this session id as the cookie (no jar): whether an
    /// old session id still works.
    pub async fn chat_token_with_session_id(&self, session_id: &str) -> u16 {
        client()
            .post(self.url("/api/chat_token"))
            .header("origin", format!("http://{}", self.addr))
            .header("cookie", format!("chatpass_session={session_id}"))
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    }

    /// Runs a statement on the server's database, behind its back, and announces it as
    /// an account write (see `set_session_value`).
    pub async fn execute(&self, sql: &str) {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(drop).unwrap(),
            Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(drop).unwrap(),
        }
        chatpass::db::accounts_changed();
    }

    /// Stops the server gracefully and waits until it has.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}

pub async fn count(pool: &Pool, sql: &str) -> i64 {
    match pool {
        Pool::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Pool::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

/// Reads what the server sends on `stream` until hyper's "100 Continue" (the handler has
/// begun reading the body: the request is being served).
pub async fn until_asked_for_the_body(stream: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("100 Continue\r\n\r\n") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut buf))
            .await
            .expect("the server asks for the body")
            .unwrap();
        assert!(n > 0, "closed before asking for the body: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
}
