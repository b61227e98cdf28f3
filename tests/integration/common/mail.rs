//! Reading mail in tests: the file outbox (chatpass's default) and the test SMTP server
//! (`tests/smtp/sink.py`, aiosmtpd: a real SMTP server started on a free loopback port).

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    time::{Duration, Instant},
};

/// Every `.eml` in `dir`, in the order of the number its name starts with (the outbox
/// names files by row id, `00000012-user3-….eml`; the sink by arrival, `12.eml`), as text.
pub fn read_dir(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut paths: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
    paths.sort_by_key(|p| {
        let name = p.file_name().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
        (digits.parse::<u64>().unwrap_or(u64::MAX), name)
    });
    paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
}

/// The value of a header (first occurrence), unfolded.
pub fn header(mail: &str, name: &str) -> Option<String> {
    let head = mail.split("\r\n\r\n").next()?;
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim().to_string())
    })
}

/// The address in the `To` header.
pub fn recipient(mail: &str) -> Option<String> {
    let to = header(mail, "To")?;
    let address = match (to.find('<'), to.find('>')) {
        (Some(a), Some(b)) if a < b => &to[a + 1..b],
        _ => to.as_str(),
    };
    Some(address.trim().to_lowercase())
}

/// The mail's text (after the headers).
pub fn body(mail: &str) -> &str {
    mail.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")
}

/// The links in the mail's text.
pub fn links(mail: &str) -> Vec<String> {
    body(mail)
        .split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(String::from)
        .collect()
}

/// The token of the mail's `/verify?token=…` link.
pub fn verify_token(mail: &str) -> Option<String> {
    links(mail).iter().find_map(|l| l.split_once("/verify?token=").map(|(_, t)| t.to_string()))
}

/// The token of the mail's `/reset?token=…` link.
pub fn reset_token(mail: &str) -> Option<String> {
    links(mail).iter().find_map(|l| l.split_once("/reset?token=").map(|(_, t)| t.to_string()))
}

/// The mail's subject.
pub fn subject(mail: &str) -> String {
    header(mail, "Subject").unwrap_or_default()
}

/// A real SMTP server (aiosmtpd) on a loopback port, keeping each mail it receives as a
/// file. Stops when dropped.
pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
    stdin: Option<ChildStdin>,
}

/// The Python of the venv `make test` installs aiosmtpd into.
fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".tools/smtp-venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: run `make test` (it installs tests/smtp/requirements.txt)",
        python.display()
    );
    python
}

impl SmtpSink {
    /// Starts on a free port.
    pub fn start() -> SmtpSink {
        Self::start_on(0)
    }

    /// Starts on `port` (0: any free one).
    pub fn start_on(port: u16) -> SmtpSink {
        let dir = tempfile::tempdir().expect("sink dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/sink.py");
        let mut child = Command::new(python())
            .arg(&script)
            .arg(dir.path())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP sink");
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("sink's first line");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("sink said {line:?}"));
        SmtpSink { port, dir, child, stdin }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn mails(&self) -> Vec<String> {
        read_dir(self.dir.path())
    }

    /// Waits (up to `timeout`) until the sink holds at least `n` mails.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "{n} mail(s) never reached the SMTP server; it has {}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on right now (bound, then released), for a server that
/// must know its port before it starts (a callback URL names it). Below Linux's ephemeral
/// range (32768-60999), so that between now and the server's bind no outgoing connection
/// of the busy suite takes it as its own port, nor a server bound to port 0; and never the
/// same one twice in a run.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Another run of the suite on the machine starts elsewhere in the range.
    let start = std::process::id().wrapping_mul(7_919) % COUNT;
    for _ in 0..COUNT {
        let port = (FIRST + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % COUNT) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {FIRST}..{}", FIRST + COUNT)
}
