//! Options every fleet command shares: which inventory, which hosts, how many at
//! once, how long, how to report.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pyfleet_inventory::{HostPlan, Inventory};

/// `-i INVENTORY PATTERN` and how the run behaves.
#[derive(clap::Args, Debug, Clone)]
pub struct FleetArgs {
    /// The inventory: pyfleet TOML (*.toml), Ansible YAML (*.yml, *.yaml) or
    /// Ansible INI (anything else).
    #[arg(short = 'i', long = "inventory", value_name = "FILE")]
    pub inventory: PathBuf,
    /// The hosts: names, groups, globs (web*), unions (web:db), intersections
    /// (web:&prod), exclusions (web:!web3); `all` for every host.
    #[arg(value_name = "PATTERN")]
    pub pattern: String,
    #[command(flatten)]
    pub run: RunOptions,
}

/// How a fleet run behaves: parallelism, time bounds, retries, output format.
#[derive(clap::Args, Debug, Clone)]
pub struct RunOptions {
    /// How many hosts are worked on at once.
    #[arg(short = 'f', long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub forks: u32,
    /// Seconds each host may take, connecting included; a host over it fails
    /// and its interpreter is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0, value_parser = positive_seconds)]
    pub timeout: f64,
    /// Connect again this many times after a failed connection (never after a
    /// refused password or an unknown prompt).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// Print one JSON document when the run ends.
    #[arg(long, conflicts_with = "jsonl")]
    pub json: bool,
    /// Print one JSON line per host as it finishes, then a summary line.
    #[arg(long)]
    pub jsonl: bool,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

/// The plans of the hosts `pattern` selects in `inventory`, or a message for the user.
pub fn plans(inventory: &Path, pattern: &str) -> Result<(Inventory, Vec<HostPlan>), String> {
    let inventory = pyfleet_inventory::load(inventory).map_err(|e| e.to_string())?;
    let plans = inventory.plans(pattern).map_err(|e| e.to_string())?;
    Ok((inventory, plans))
}

impl RunOptions {
    /// The per-host time bound.
    pub fn host_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout)
    }
}
