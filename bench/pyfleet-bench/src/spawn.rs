//! Spawn → first call answered, and the bare interpreter start it is compared with.
//! Both are timed here, from Rust, with the same clock and the same environment
//! rule (the master's `PYTHON*` variables dropped).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use pyfleet::Broker;
use serde_json::{Value, json};

use crate::setup::{ChildArgs, bounded, bounded_infallible};
use crate::stats::{summary, with};

#[derive(clap::Args, Debug)]
pub struct SpawnArgs {
    #[command(flatten)]
    pub child: ChildArgs,
    #[arg(long, default_value_t = 5)]
    pub samples: usize,
}

#[derive(clap::Args, Debug)]
pub struct BareSpawnArgs {
    #[arg(long, default_value = "/usr/bin/python3.11")]
    pub python: PathBuf,
    /// Add `-I -S`.
    #[arg(long)]
    pub isolated: bool,
    #[arg(long, default_value_t = 5)]
    pub samples: usize,
}

/// Each sample: a new broker, `Broker::local`, one `os.getpid` call; the clock stops
/// at its answer. The broker's shutdown (child exit) is outside the clock but
/// inside the sample loop, so children never overlap. One warm-up sample is dropped.
pub fn run(args: SpawnArgs) -> anyhow::Result<Value> {
    let (child, count) = (args.child.clone(), args.samples);
    let samples = args.child.block_on(async move {
        let mut samples = Vec::with_capacity(count);
        for index in 0..=count {
            let broker = Broker::new();
            let start = Instant::now();
            let context =
                bounded("starting a context", broker.local(child.local_options())).await?;
            let pid: u32 =
                bounded("calling os.getpid", context.call("os", "getpid", (), ())).await?;
            let elapsed = start.elapsed().as_secs_f64();
            anyhow::ensure!(pid == context.facts().pid, "os.getpid answered {pid}");
            bounded_infallible("shutting down", broker.shutdown()).await?;
            if index > 0 {
                samples.push(elapsed);
            }
        }
        anyhow::Ok(samples)
    })??;
    Ok(with(
        json!({"bench": "spawn", "unit": "s", "variant": args.child.describe()}),
        summary(&samples),
    ))
}

/// Each sample: `python [-I -S] -c pass` from spawn to exit, stdio on /dev/null.
pub fn run_bare(args: BareSpawnArgs) -> anyhow::Result<Value> {
    let mut samples = Vec::with_capacity(args.samples);
    for index in 0..=args.samples {
        let mut command = Command::new(&args.python);
        if args.isolated {
            command.args(["-I", "-S"]);
        }
        command.args(["-c", "pass"]);
        for (key, _) in std::env::vars_os() {
            if key.as_encoded_bytes().starts_with(b"PYTHON") {
                command.env_remove(key);
            }
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let start = Instant::now();
        let status = command.status()?;
        let elapsed = start.elapsed().as_secs_f64();
        anyhow::ensure!(status.success(), "bare interpreter failed: {status}");
        if index > 0 {
            samples.push(elapsed);
        }
    }
    Ok(with(
        json!({
            "bench": "bare-spawn",
            "unit": "s",
            "variant": {"python": args.python, "isolated": args.isolated},
        }),
        summary(&samples),
    ))
}
