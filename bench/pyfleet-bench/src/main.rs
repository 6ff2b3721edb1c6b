//! Measurements of pyfleet for the side-by-side comparison driven by
//! bench/compare.py. Each subcommand prints one JSON line: what was measured, every
//! sample (seconds, or bytes for sizes), and the best and median of them, so the
//! driver can pool samples from several interleaved runs.

mod bootstrap_size;
mod bulk;
mod channel;
mod deadline;
mod fleet;
mod hops;
mod in_flight;
mod module_import;
mod proc_status;
mod round_trip;
mod setup;
mod spawn;
mod stats;

use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "pyfleet measurements for bench/compare.py; one JSON line each")]
struct Cli {
    /// Exit with status 3 when the run takes longer than this; children see their
    /// input close and exit too, so a hang never outlives the run.
    #[arg(long, default_value_t = 120, global = true)]
    deadline_secs: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Spawn a context and wait for its first call's answer (os.getpid).
    Spawn(spawn::SpawnArgs),
    /// Spawn `python [-I -S] -c pass` and wait for it to exit.
    BareSpawn(spawn::BareSpawnArgs),
    /// Sequential no-op calls on one context.
    RoundTrip(round_trip::RoundTripArgs),
    /// Many no-op calls in flight at once on one context.
    InFlight(in_flight::InFlightArgs),
    /// One large bytes argument or result.
    Bulk(bulk::BulkArgs),
    /// Many contexts started at once: wall time and memory.
    Fleet(fleet::FleetArgs),
    /// Memory of a bare interpreter that only sleeps.
    BareRss(fleet::BareRssArgs),
    /// Bytes a child receives before it runs the core: argv and payload.
    BootstrapSize(bootstrap_size::BootstrapSizeArgs),
    /// A context through ssh or sudo, until its first call's answer.
    HopSpawn(hops::HopArgs),
    /// The plain `ssh HOST python -I -S -c pass` / `sudo -u USER python …` it is
    /// compared with, until it exits.
    BareHop(hops::HopArgs),
    /// Import a 20-module package served by the module forwarder: round trips
    /// and time, against importing it from disk.
    ModuleImport(module_import::ModuleImportArgs),
    /// Messages streamed child → master on one channel.
    Channel(channel::ChannelArgs),
    /// Forking a warm context until the copy (or a pool of copies) answers.
    Fork(channel::ForkArgs),
    /// push or pull of one file (or the `cat | cat` baseline).
    Transfer(channel::TransferArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    deadline::arm(Duration::from_secs(cli.deadline_secs));
    let report = match cli.command {
        Command::Spawn(args) => spawn::run(args)?,
        Command::BareSpawn(args) => spawn::run_bare(args)?,
        Command::RoundTrip(args) => round_trip::run(args)?,
        Command::InFlight(args) => in_flight::run(args)?,
        Command::Bulk(args) => bulk::run(args)?,
        Command::Fleet(args) => fleet::run(args)?,
        Command::BareRss(args) => fleet::run_bare_rss(args)?,
        Command::BootstrapSize(args) => bootstrap_size::run(args)?,
        Command::HopSpawn(args) => hops::run(args)?,
        Command::BareHop(args) => hops::run_bare(args)?,
        Command::ModuleImport(args) => module_import::run(args)?,
        Command::Channel(args) => channel::run(args)?,
        Command::Fork(args) => channel::run_fork(args)?,
        Command::Transfer(args) => channel::run_transfer(args)?,
    };
    println!("{report}");
    Ok(())
}
