//! `pyfleet`: run Python code in local and remote interpreters.

mod args;
mod commands;
mod fleet;
mod json_out;
mod literal;
mod output;
mod startup_args;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status when the code raised an exception (its traceback is on stderr).
pub const EXIT_REMOTE_ERROR: u8 = 1;
/// Exit status for a bad command line.
pub const EXIT_USAGE: u8 = 2;
/// Exit status when the interpreter could not be started or was lost.
pub const EXIT_CONTEXT_FAILED: u8 = 3;

#[derive(Parser)]
#[command(
    name = "pyfleet",
    version,
    about = "Start Python interpreters anywhere and run code in them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Call MODULE.FUNCTION with arguments and print the result as JSON.
    Call(commands::call::CallArgs),
    /// Run Python code and print what it prints and the value of a trailing expression.
    Exec(commands::exec::ExecArgs),
    /// Show how an interpreter is started: launch argv and environment, the core's
    /// first-stage steps, and the configuration the child reports.
    Inspect(commands::inspect::InspectArgs),
    /// List the Python interpreters on this machine (one probe, cached).
    Interpreters(commands::interpreters::InterpretersArgs),
    /// Run code or a function on every host an inventory pattern selects, in
    /// parallel; report ok / failed / unreachable per host.
    Run(commands::run::RunArgs),
    /// Connect to every host an inventory pattern selects and report its
    /// interpreter and a call's round trip.
    Ping(commands::ping::PingArgs),
    /// Make one executable file from a Python app: a small launcher followed by a
    /// zip of the app, its dependencies and their bytecode.
    Pack(commands::pack::PackArgs),
    /// Copy a local file into the interpreter's file system (chunked, verified
    /// with SHA-256, written atomically, mode kept).
    Push(commands::transfer::PushArgs),
    /// Copy a file from the interpreter's file system here (chunked, verified with
    /// SHA-256, written atomically, mode kept).
    Pull(commands::transfer::PullArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("pyfleet: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_CONTEXT_FAILED);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Call(args) => commands::call::run(args).await,
            Command::Exec(args) => commands::exec::run(args).await,
            Command::Inspect(args) => commands::inspect::run(args).await,
            Command::Interpreters(args) => commands::interpreters::run(args).await,
            Command::Pack(args) => commands::pack::run(args).await,
            Command::Run(args) => commands::run::run(args).await,
            Command::Ping(args) => commands::ping::run(args).await,
            Command::Push(args) => commands::transfer::push(args).await,
            Command::Pull(args) => commands::transfer::pull(args).await,
        }
    });
    ExitCode::from(code)
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_new(pyfleet::logging::log_filter())
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(pyfleet::logging::DEFAULT_LOG_FILTER)
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
