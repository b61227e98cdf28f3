//! The `chatpass` binary: `chatpass serve` (the default) runs the web server.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use chatpass::{config::Config, server, telemetry};

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
}

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
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve(config)),
    }
}

async fn serve(config: Config) -> ExitCode {
    telemetry::init();
    let prepared = match server::prepare(&config).await {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    tracing::info!(addr = %prepared.addr, "chatpass listening on http://{}", prepared.addr);
    match prepared.run(server::shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// Prints one line to stderr and returns a failing exit code: no panic, no backtrace.
fn fail(error: impl std::fmt::Display) -> ExitCode {
    let line = error.to_string().replace('\n', " ");
    eprintln!("chatpass: error: {line}");
    ExitCode::FAILURE
}
