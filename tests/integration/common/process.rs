//! The real `chatpass` binary as a separate process: what runs in production, several
//! at a time against one PostgreSQL.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

const BIN: &str = env!("CARGO_BIN_EXE_chatpass");

/// A running `chatpass serve`; stopped with SIGTERM (then killed) when dropped.
pub struct Instance {
    child: Child,
    pub addr: SocketAddr,
    /// Every line the process has written to stdout (its log), so far.
    logs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Instance {
    /// Starts the binary on a free port with these settings only (plus `PATH`), and waits
    /// for its "listening" line.
    pub fn start(env: &[(&str, &str)]) -> Instance {
        let mut command = Command::new(BIN);
        command.arg("serve");
        Instance::launch(command, env)
    }

    /// As [`Instance::start`], with at most `descriptors` open files (soft and hard limit,
    /// set by the shell that then becomes the server).
    pub fn start_with_descriptor_limit(descriptors: u32, env: &[(&str, &str)]) -> Instance {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", r#"ulimit -n "$1" && exec "$0" serve"#, BIN, &descriptors.to_string()]);
        Instance::launch(command, env)
    }

    fn launch(mut command: Command, env: &[(&str, &str)]) -> Instance {
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut env: std::collections::HashMap<String, String> =
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        super::no_real_twilio(&mut env);
        command.envs(&env);
        let mut child = command.spawn().expect("start chatpass");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = logs.clone();
        // Reads the log until the address is known, then keeps draining it so the
        // process never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                if let Some(addr) = listening_addr(&line) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr);
                    }
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => Instance { child, addr, logs },
            Err(_) => {
                let _ = child.kill();
                panic!("chatpass did not report its address within 60 s");
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The log lines written so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// `true` while the process runs (it has not panicked or exited).
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.split_once("listening on http://")?.1;
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':')).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        for _ in 0..100 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
