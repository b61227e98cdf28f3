//! The `chatpass` binary: `chatpass serve` (the default) runs the web server;
//! `chatpass token new|inspect` makes and explains Twilio Access Tokens; `chatpass twilio
//! sync` puts right what drifted between the accounts and Twilio's Users.

use std::{
    io::Read,
    process::ExitCode,
    time::{SystemTime, UNIX_EPOCH},
};

use clap::{Parser, Subcommand};

use chatpass::{
    config::{twilio, Config},
    server, telemetry,
    token::{
        inspect::{self, Expected, Signature},
        issuer::DEMO_WARNING,
        TokenIssuer,
    },
};

#[derive(Parser)]
#[command(name = "chatpass", version, about = "A Twilio chat behind your own login")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default). Settings come from the environment and `.env`.
    Serve,
    /// Make or explain Twilio Access Tokens with the configured settings.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Keep Twilio's side in step with the accounts.
    #[command(subcommand)]
    Twilio(TwilioCommand),
}

#[derive(Subcommand)]
enum TwilioCommand {
    /// Compare the accounts with the Conversations service's Users and put right what
    /// drifted: create, rename or delete Users (a progress line on stderr on long runs).
    Sync {
        /// Print the plan only; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a token for IDENTITY (the token alone on the last line of stdout).
    New {
        /// The identity (chatpass uses the user's email).
        #[arg(long)]
        identity: String,
        /// Lifetime in seconds, 180..=86400 (default: CHATPASS_TOKEN_TTL or 3600).
        #[arg(long)]
        ttl: Option<String>,
    },
    /// Print a token's header and claims, check its signature when TWILIO_API_SECRET is
    /// set, and say whether it is expired, not yet valid, or for another account or
    /// service. Exits non-zero for an invalid token.
    Inspect {
        /// The token, or `-` to read it from stdin.
        token: String,
    },
}

/// mimalloc: the request path allocates many small, short-lived blocks, which glibc's
/// allocator serves slowly (bench/README.md has the profile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            return fail(format!(".env: {e}"));
        }
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => return fail(format!("cannot start the async runtime: {e}")),
            };
            runtime.block_on(serve(config))
        }
        Command::Token(TokenCommand::New { identity, ttl }) => token_new(&config, &identity, ttl.as_deref()),
        Command::Token(TokenCommand::Inspect { token }) => token_inspect(&config, &token),
        Command::Twilio(TwilioCommand::Sync { dry_run }) => {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => return fail(format!("cannot start the async runtime: {e}")),
            };
            runtime.block_on(twilio_sync(config, dry_run))
        }
    }
}

async fn serve(config: Config) -> ExitCode {
    let _logs = match telemetry::init(config.log_format) {
        Ok(guard) => guard,
        Err(e) => return fail(format!("cannot start the log writer: {e}")),
    };
    let prepared = match server::prepare(&config).await {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let shutdown = server::shutdown_signal();
    tracing::info!(addr = %prepared.addr, "chatpass listening on http://{}", prepared.addr);
    match prepared.run(shutdown).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `chatpass twilio sync [--dry-run]`: the plan on stdout, one change per line, then what was done.
async fn twilio_sync(config: Config, dry_run: bool) -> ExitCode {
    use chatpass::twilio::{drift, rest::UsersApi};
    let Some(account) = config.twilio.account() else {
        return fail("twilio sync needs Twilio: set TWILIO_ACCOUNT_SID, TWILIO_API_KEY, TWILIO_API_SECRET and TWILIO_CHAT_SERVICE_SID");
    };
    let api = match UsersApi::new(&config.twilio_side.api_url, account) {
        Ok(api) => api,
        Err(e) => return fail(format!("CHATPASS_TWILIO_API_URL: {e}")),
    };
    let pool = match chatpass::db::open(&config.database).await {
        Ok(pool) => pool,
        Err(e) => return fail(e),
    };
    let (mut out, mut progress) = (std::io::stdout(), std::io::stderr());
    let accounts = config.accounts;
    let changes =
        match drift::plan(&pool, &api, accounts.chat_identity, accounts.verification, &mut progress).await {
            Ok(changes) => changes,
            Err(e) => return fail(e),
        };
    // The queue may still hold calls an instance has yet to make (Twilio was down, say):
    // this plan may include what they will change, so say how many.
    match chatpass::db::twilio_calls::unfinished(&pool).await {
        Ok(0) => {}
        Ok(n) => eprintln!("twilio sync: {n} call(s) still queued; a running chatpass makes them, and this plan may include what they change"),
        Err(e) => return fail(e),
    }
    for change in &changes {
        println!("{}{change}", if dry_run { "would " } else { "" });
    }
    if dry_run {
        println!("{} changes planned; nothing changed (--dry-run)", changes.len());
        return ExitCode::SUCCESS;
    }
    let report = drift::apply(&api, &changes, &mut out, &mut progress).await;
    println!(
        "created {}, renamed {}, deleted {}, failed {}",
        report.created, report.renamed, report.deleted, report.failed
    );
    if report.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn when(seconds: u64) -> String {
    let now = now();
    let relative =
        if seconds >= now { format!("in {} s", seconds - now) } else { format!("{} s ago", now - seconds) };
    let stamp = i64::try_from(seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "out of range".into());
    format!("{seconds} ({stamp}, {relative})")
}

fn token_new(config: &Config, identity: &str, ttl: Option<&str>) -> ExitCode {
    if identity.is_empty() {
        return fail("--identity: cannot be empty");
    }
    let ttl = match ttl.map(twilio::parse_ttl).transpose() {
        Ok(ttl) => ttl.unwrap_or(config.twilio.ttl),
        Err(e) => return fail(format!("--ttl: {}", e.reason)),
    };
    let issuer = TokenIssuer::from_settings(&config.twilio);
    if issuer.is_demo() {
        eprintln!("chatpass: warning: {DEMO_WARNING}");
    }
    let signed = match issuer.issue_with_ttl(identity, ttl, now()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    println!("identity:    {identity}");
    println!("account:     {}", issuer.account_sid);
    println!("chat service: {}", issuer.chat.service_sid);
    println!("jti:         {}", signed.jti);
    println!("issued at:   {}", when(signed.iat));
    println!("expires at:  {}", when(signed.exp));
    println!("{}", signed.jwt);
    ExitCode::SUCCESS
}

fn token_inspect(config: &Config, token: &str) -> ExitCode {
    let token = if token == "-" {
        let mut input = String::new();
        if let Err(e) = std::io::stdin().take(1 << 20).read_to_string(&mut input) {
            return fail(format!("cannot read the token from stdin: {e}"));
        }
        input
    } else {
        token.to_string()
    };
    let twilio = config.twilio.account();
    let expected = Expected {
        secret: twilio.map(|t| t.secret()),
        account_sid: twilio.map(|t| t.account_sid.as_str()),
        api_key_sid: twilio.map(|t| t.api_key_sid.as_str()),
        service_sid: twilio.map(|t| t.chat_service_sid.as_str()),
    };
    let report = match inspect::inspect(&token, &expected, now()) {
        Ok(report) => report,
        Err(e) => {
            println!("invalid: {}", inspect::printable(&e.to_string()));
            return ExitCode::FAILURE;
        }
    };
    // Everything from the token goes through `printable`: control and direction characters
    // in a claim are shown escaped, so they cannot forge or hide lines of this report. (The
    // pretty JSON's own newlines are layout: JSON escapes those inside strings.)
    let pretty = |v: &serde_json::Value| {
        let text = serde_json::to_string_pretty(v).unwrap_or_default();
        text.lines().map(inspect::printable).collect::<Vec<_>>().join("\n")
    };
    println!("header:\n{}", pretty(&report.header));
    println!("claims:\n{}", pretty(&report.claims));
    for (name, claim) in [("issued at", "iat"), ("not before", "nbf"), ("expires at", "exp")] {
        if let Some(t) = report.claims.get(claim).and_then(serde_json::Value::as_u64) {
            println!("{name}: {}", when(t));
        }
    }
    println!(
        "signature: {}",
        match report.signature {
            Signature::Valid => "valid (checked with TWILIO_API_SECRET)",
            Signature::Invalid => "INVALID",
            Signature::NotChecked => "not checked (no TWILIO_API_SECRET configured)",
        }
    );
    for problem in &report.problems {
        println!("problem: {}", inspect::printable(problem));
    }
    if report.is_valid() {
        println!("valid");
        ExitCode::SUCCESS
    } else {
        println!("invalid");
        ExitCode::FAILURE
    }
}

/// Prints one line to stderr and returns a failing exit code: no panic, no backtrace.
fn fail(error: impl std::fmt::Display) -> ExitCode {
    let line = error.to_string().replace('\n', " ");
    eprintln!("chatpass: error: {line}");
    ExitCode::FAILURE
}
