//! Twilio's helper libraries as oracles (`tests/oracle/`, pinned; `make oracles` installs
//! them): one process per batch, JSON on stdin, JSON on stdout.

use std::{
    io::Write,
    path::PathBuf,
    process::{Command, Stdio},
};

use serde_json::Value;

/// `tests/oracle/`: the scripts and twilio-node's `node_modules`.
pub fn oracle_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracle")
}

/// The oracle venv's Python (twilio-python), or `CHATPASS_ORACLE_PYTHON`.
pub fn python() -> PathBuf {
    std::env::var_os("CHATPASS_ORACLE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/oracle-venv/bin/python"))
}

/// A script of `tests/oracle/` run by twilio-python's interpreter.
pub fn python_script(script: &str) -> Command {
    let mut command = Command::new(python());
    command.arg(oracle_dir().join(script));
    command
}

/// A script of `tests/oracle/` run by Node, next to twilio-node.
pub fn node_script(script: &str) -> Command {
    let mut command = Command::new("node");
    command.arg(oracle_dir().join(script)).current_dir(oracle_dir());
    command
}

/// Runs `command` with `input` on stdin and returns its stdout as JSON.
pub fn run_json(mut command: Command, input: &Value) -> Value {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}; run `make oracles` first"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    // An input larger than a pipe's buffer is written while the oracle answers.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("the oracle ends");
    writer.join().expect("the writer ends").expect("the oracle's stdin");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{command:?} failed (run `make oracles` to install the pinned Twilio libraries): {stderr}"
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("the oracle's stdout is not JSON ({e}): {}\n{stderr}", String::from_utf8_lossy(&output.stdout))
    })
}
