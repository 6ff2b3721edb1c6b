//! `pyfleet ping -i INVENTORY PATTERN`: connect to each host, report its
//! interpreter and one call's round trip.

use crate::fleet::command::run_on_fleet;
use crate::fleet::{FleetArgs, Job};

#[derive(clap::Args, Debug)]
pub struct PingArgs {
    #[command(flatten)]
    fleet: FleetArgs,
}

pub async fn run(args: PingArgs) -> u8 {
    run_on_fleet(&args.fleet, Job::Ping, None).await
}
