//! Many contexts started at once, and what they cost in memory on both sides.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pyfleet::{Broker, Context};
use serde_json::{Value, json};

use crate::proc_status::{state, vm_rss};
use crate::setup::{ChildArgs, STEP_TIMEOUT, bounded, bounded_infallible};
use crate::stats::{median, summary, with};

#[derive(clap::Args, Clone, Debug)]
pub struct FleetArgs {
    #[command(flatten)]
    pub child: ChildArgs,
    #[arg(long, default_value_t = 50)]
    pub contexts: usize,
    #[arg(long, default_value_t = 1)]
    pub samples: usize,
}

#[derive(clap::Args, Debug)]
pub struct BareRssArgs {
    #[arg(long, default_value = "/usr/bin/python3.11")]
    pub python: PathBuf,
    /// Add `-I -S`.
    #[arg(long)]
    pub isolated: bool,
    /// Interpreters measured (they run side by side).
    #[arg(long, default_value_t = 5)]
    pub count: usize,
}

/// Each sample: start `contexts` contexts concurrently (one task each) and time
/// until all have said HELLO. Then, off the clock, each answers one call, and the
/// memory is read: the master's VmRSS growth since before the start, and each
/// child's VmRSS. A first context is started and stopped before anything is
/// measured, so one-time costs (runtime threads, the spawner thread, lazy statics)
/// are not charged to the fleet.
pub fn run(args: FleetArgs) -> anyhow::Result<Value> {
    args.child.clone().block_on(async move {
        let warm_up = Broker::new();
        let first = bounded(
            "starting a context",
            warm_up.local(args.child.local_options()),
        )
        .await?;
        bounded(
            "calling os.getpid",
            first.call::<u32>("os", "getpid", (), ()),
        )
        .await?;
        bounded_infallible("shutting down", warm_up.shutdown()).await?;

        let mut wall = Vec::new();
        let mut growth_per_context = Vec::new();
        let mut child_rss = Vec::new();
        for _ in 0..args.samples {
            let broker = Broker::new();
            let master_before = vm_rss("self")?;
            let start = Instant::now();
            let contexts = start_all(&broker, &args).await?;
            wall.push(start.elapsed().as_secs_f64());
            for context in &contexts {
                bounded(
                    "calling os.getpid",
                    context.call::<u32>("os", "getpid", (), ()),
                )
                .await?;
            }
            let master_after = vm_rss("self")?;
            growth_per_context
                .push((master_after as f64 - master_before as f64) / contexts.len() as f64);
            for context in &contexts {
                child_rss.push(vm_rss(&context.facts().pid.to_string())? as f64);
            }
            bounded_infallible("shutting down", broker.shutdown()).await?;
        }
        Ok(with(
            json!({
                "bench": "fleet",
                "unit": "s",
                "contexts": args.contexts,
                "variant": args.child.describe(),
                "master_rss_growth_per_context": {
                    "samples": growth_per_context,
                    "median": median(&growth_per_context),
                },
                "child_rss": {
                    "median": median(&child_rss),
                    "max": child_rss.iter().copied().fold(0.0, f64::max),
                    "min": crate::stats::best(&child_rss),
                },
            }),
            summary(&wall),
        ))
    })?
}

async fn start_all(broker: &Broker, args: &FleetArgs) -> anyhow::Result<Vec<Context>> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.contexts {
        let broker = broker.clone();
        let options = args.child.local_options();
        tasks.spawn(async move { broker.local(options).await });
    }
    let mut contexts = Vec::with_capacity(args.contexts);
    let all = async {
        while let Some(joined) = tasks.join_next().await {
            contexts.push(joined??);
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(STEP_TIMEOUT, all).await??;
    Ok(contexts)
}

/// `count` interpreters running `import time; time.sleep(5)` side by side; each
/// one's VmRSS is read once it sleeps (state S after start-up), then all are killed.
pub fn run_bare_rss(args: BareRssArgs) -> anyhow::Result<Value> {
    let mut children = Vec::with_capacity(args.count);
    for _ in 0..args.count {
        let mut command = Command::new(&args.python);
        if args.isolated {
            command.args(["-I", "-S"]);
        }
        command.args(["-c", "import time; time.sleep(5)"]);
        for (key, _) in std::env::vars_os() {
            if key.as_encoded_bytes().starts_with(b"PYTHON") {
                command.env_remove(key);
            }
        }
        command.stdin(Stdio::null()).stdout(Stdio::null());
        children.push(command.spawn()?);
    }
    let measured = children
        .iter()
        .map(|child| rss_once_sleeping(child.id()))
        .collect::<anyhow::Result<Vec<f64>>>();
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
    let rss = measured?;
    Ok(with(
        json!({
            "bench": "bare-rss",
            "unit": "bytes",
            "variant": {"python": args.python, "isolated": args.isolated},
        }),
        summary(&rss),
    ))
}

/// Start-up reads files and may block briefly; a settled sleeper is in state S for
/// a while. Polls for at most 5 s (the sleeper's own life).
fn rss_once_sleeping(pid: u32) -> anyhow::Result<f64> {
    const SETTLED: Duration = Duration::from_millis(200);
    let start = Instant::now();
    let mut asleep_since: Option<Instant> = None;
    while start.elapsed() < Duration::from_secs(5) {
        match state(pid) {
            Some('S') => {
                let since = *asleep_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= SETTLED {
                    return Ok(vm_rss(&pid.to_string())? as f64);
                }
            }
            _ => asleep_since = None,
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    anyhow::bail!("interpreter {pid} never settled into its sleep")
}
