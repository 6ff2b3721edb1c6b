//! `pyfleet push LOCAL REMOTE` and `pyfleet pull REMOTE LOCAL`

use std::path::PathBuf;

use pyfleet::TransferError;
use pyfleet::api::{Checksum, TransferOptions};

use crate::args::InterpreterArgs;
use crate::{EXIT_CONTEXT_FAILED, EXIT_REMOTE_ERROR};

#[derive(clap::Args, Debug)]
pub struct PushArgs {
    #[command(flatten)]
    interpreter: InterpreterArgs,
    /// Push to every host PATTERN (--hosts) selects in this inventory, in
    /// parallel, with a per-host report (see `pyfleet run`).
    #[arg(
        short = 'i',
        long = "inventory",
        value_name = "FILE",
        requires = "hosts",
        conflicts_with = "via",
        help_heading = "Fleet"
    )]
    inventory: Option<PathBuf>,
    /// With --inventory: the hosts (names, groups, globs, a:b, a:&b, a:!b).
    #[arg(
        long,
        value_name = "PATTERN",
        requires = "inventory",
        help_heading = "Fleet"
    )]
    hosts: Option<String>,
    #[command(flatten)]
    fleet: crate::fleet::args::RunOptions,
    /// The file to send.
    #[arg(value_name = "LOCAL")]
    local: PathBuf,
    /// Where to write it in the interpreter's file system (a file name, not a
    /// directory).
    #[arg(value_name = "REMOTE")]
    remote: String,
    #[command(flatten)]
    checksum: ChecksumArg,
}

#[derive(clap::Args, Debug)]
struct ChecksumArg {
    /// How both ends verify the copy: sha256 (default) or crc32 (faster, catches
    /// accidents, not tampering).
    #[arg(long, value_name = "NAME", default_value = "sha256", value_parser = ["sha256", "crc32"])]
    checksum: String,
}

impl ChecksumArg {
    fn checksum(&self) -> Checksum {
        match self.checksum.as_str() {
            "crc32" => Checksum::Crc32,
            _ => Checksum::Sha256,
        }
    }

    fn options(&self) -> TransferOptions {
        TransferOptions::new().checksum(self.checksum())
    }
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
    #[command(flatten)]
    checksum: ChecksumArg,
}

pub async fn push(args: PushArgs) -> u8 {
    if let (Some(inventory), Some(hosts)) = (&args.inventory, &args.hosts) {
        if !args.local.is_file() {
            eprintln!("pyfleet: {}: not a readable file", args.local.display());
            return crate::EXIT_USAGE;
        }
        let job = crate::fleet::Job::Push {
            local: args.local.clone(),
            remote: args.remote.clone(),
            checksum: args.checksum.checksum(),
        };
        return crate::fleet::command::run_on_hosts(inventory, hosts, &args.fleet, job, None).await;
    }
    let broker = super::cli_broker(None);
    let ctx = match super::start(&broker, &args.interpreter).await {
        Ok(ctx) => ctx,
        Err(code) => return code,
    };
    let outcome = ctx
        .push_with(&args.local, &args.remote, &args.checksum.options())
        .await;
    broker.shutdown().await;
    report(outcome)
}

pub async fn pull(args: PullArgs) -> u8 {
    let broker = super::cli_broker(None);
    let ctx = match super::start(&broker, &args.interpreter).await {
        Ok(ctx) => ctx,
        Err(code) => return code,
    };
    let outcome = ctx
        .pull_with(&args.remote, &args.local, &args.checksum.options())
        .await;
    broker.shutdown().await;
    report(outcome)
}

/// One line on stderr either way; stdout stays empty for scripts.
fn report(outcome: Result<pyfleet::api::Transferred, TransferError>) -> u8 {
    match outcome {
        Ok(done) => {
            eprintln!(
                "pyfleet: {} bytes, mode {:o}, {} {}",
                done.bytes,
                done.mode,
                done.checksum.name(),
                done.digest
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
