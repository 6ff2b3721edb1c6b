//! `pyfleet push LOCAL REMOTE` and `pyfleet pull REMOTE LOCAL`

use std::path::PathBuf;

use pyfleet::TransferError;

use crate::args::InterpreterArgs;
use crate::{EXIT_CONTEXT_FAILED, EXIT_REMOTE_ERROR};

#[derive(clap::Args, Debug)]
pub struct PushArgs {
    #[command(flatten)]
    interpreter: InterpreterArgs,
    /// The file to send.
    #[arg(value_name = "LOCAL")]
    local: PathBuf,
    /// Where to write it in the interpreter's file system (a file name, not a
    /// directory).
    #[arg(value_name = "REMOTE")]
    remote: String,
}

#[derive(clap::Args, Debug)]
pub struct PullArgs {
    #[command(flatten)]
    interpreter: InterpreterArgs,
    /// The file to fetch, in the interpreter's file system.
    #[arg(value_name = "REMOTE")]
    remote: String,
    /// Where to write it here (a file name, not a directory).
    #[arg(value_name = "LOCAL")]
    local: PathBuf,
}

pub async fn push(args: PushArgs) -> u8 {
    let broker = super::cli_broker(None);
    let ctx = match super::start(&broker, &args.interpreter).await {
        Ok(ctx) => ctx,
        Err(code) => return code,
    };
    let outcome = ctx.push(&args.local, &args.remote).await;
    broker.shutdown().await;
    report(outcome)
}

pub async fn pull(args: PullArgs) -> u8 {
    let broker = super::cli_broker(None);
    let ctx = match super::start(&broker, &args.interpreter).await {
        Ok(ctx) => ctx,
        Err(code) => return code,
    };
    let outcome = ctx.pull(&args.remote, &args.local).await;
    broker.shutdown().await;
    report(outcome)
}

/// One line on stderr either way; stdout stays empty for scripts.
fn report(outcome: Result<pyfleet::api::Transferred, TransferError>) -> u8 {
    match outcome {
        Ok(done) => {
            eprintln!(
                "pyfleet: {} bytes, mode {:o}, sha256 {}",
                done.bytes, done.mode, done.sha256
            );
            0
        }
        Err(TransferError::Remote(error)) => match error.remote() {
            Some(remote) => {
                eprintln!("pyfleet: {}: {}", remote.type_name, remote.message);
                EXIT_REMOTE_ERROR
            }
            None => {
                eprintln!("pyfleet: {error}");
                EXIT_CONTEXT_FAILED
            }
        },
        Err(error) => {
            eprintln!("pyfleet: {error}");
            EXIT_REMOTE_ERROR
        }
    }
}
