//! The deployment samples in `deploy/` are checked by the tools that run them:
//! `systemd-analyze verify` for the unit and `nginx -t` for the proxy (Debian's
//! nginx-light, installed by `scripts/install-tools.sh deploy`, which `make test` runs).

use std::{path::Path, process::Command};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_chatpass");

/// The tool's path: on PATH, or in /usr/sbin (Debian puts nginx there, off a user's PATH).
fn found(tool: &str) -> Option<String> {
    let on_path = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().ok()?;
    if on_path.status.success() {
        return Some(String::from_utf8_lossy(&on_path.stdout).trim().to_string());
    }
    let sbin = format!("/usr/sbin/{tool}");
    Path::new(&sbin).exists().then_some(sbin)
}

/// `systemd-analyze verify` on a copy of the unit whose ExecStart is the binary just built
/// (verify checks that it exists). It exits 0 even for lines it ignores, so any output fails.
fn verify_unit(text: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("chatpass.service");
    std::fs::write(&unit, text.replace("/usr/local/bin/chatpass", BIN)).unwrap();
    let out = Command::new("systemd-analyze").arg("verify").arg(&unit).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() && said.trim().is_empty() {
        Ok(())
    } else {
        Err(said)
    }
}

/// `nginx -t` on a copy of the config in a prefix of its own, with a throw-away certificate.
fn check_nginx(text: &str) -> Result<(), String> {
    let prefix = tempfile::tempdir().unwrap();
    let p = prefix.path();
    std::fs::create_dir_all(p.join("tmp")).unwrap();
    std::fs::create_dir_all(p.join("certs")).unwrap();
    std::fs::write(p.join("nginx.conf"), text).unwrap();
    let cert = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"])
        .args(["-subj", "/CN=chat.example.com", "-days", "1"])
        .arg("-keyout")
        .arg(p.join("certs/chat.example.com.key"))
        .arg("-out")
        .arg(p.join("certs/chat.example.com.pem"))
        .output()
        .unwrap();
    assert!(cert.status.success(), "a throw-away certificate");
    let out = Command::new(found("nginx").expect("nginx"))
        .arg("-t")
        .arg("-p")
        .arg(format!("{}/", p.display()))
        .arg("-c")
        .arg(p.join("nginx.conf"))
        .args(["-e", "stderr", "-g"])
        .arg(format!("pid {}/nginx.pid;", p.display()))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    if out.status.success() {
        Ok(())
    } else {
        Err(said)
    }
}

#[test]
fn the_systemd_unit_verifies_and_a_broken_one_does_not() {
    assert!(
        found("systemd-analyze").is_some(),
        "systemd-analyze (Debian's systemd) is needed to check deploy/chatpass.service"
    );
    let unit = std::fs::read_to_string(Path::new(ROOT).join("deploy/chatpass.service")).unwrap();
    verify_unit(&unit).unwrap_or_else(|said| panic!("deploy/chatpass.service: {said}"));
    // The check can fail: a value systemd ignores is reported.
    assert!(verify_unit(&unit.replace("Restart=on-failure", "Restart=sometimes")).is_err());
    for setting in
        ["CHATPASS_TRUSTED_PROXIES=127.0.0.1", "LEPTOS_SITE_ADDR=127.0.0.1:3000", "KillSignal=SIGTERM"]
    {
        assert!(unit.contains(setting), "{setting}");
    }
}

#[test]
fn the_nginx_sample_passes_nginx_t_and_appends_to_x_forwarded_for() {
    assert!(
        found("nginx").is_some(),
        "nginx is needed: scripts/install-tools.sh deploy installs Debian's nginx-light"
    );
    let conf = std::fs::read_to_string(Path::new(ROOT).join("deploy/nginx.conf")).unwrap();
    check_nginx(&conf).unwrap_or_else(|said| panic!("deploy/nginx.conf: {said}"));
    assert!(check_nginx(&conf.replace("proxy_pass ", "proxy_pas ")).is_err(), "the check can fail");
    assert!(conf.contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"));
    assert!(conf.contains("proxy_set_header Host $host;"));
    assert!(!conf.contains("location /metrics"), "metrics stay off the public side");
}
