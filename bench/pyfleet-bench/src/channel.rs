//! Messages streamed child → master on one channel, and forking a warm context.

use std::time::Instant;

use pyfleet::api::{Checksum, Pool, TransferOptions};
use pyfleet::wire::ByteBuf;
use pyfleet::{Broker, Context};
use serde_json::json;

use crate::setup::{ChildArgs, bounded, bounded_infallible};
use crate::stats::{best, median, summary, with};

const PRODUCER: &str = "\
def produce(out, count, size):
    data = b'x' * size
    send = out.send
    for _ in range(count):
        send(data)
";

#[derive(clap::Args, Debug)]
pub struct ChannelArgs {
    #[command(flatten)]
    pub child: ChildArgs,
    /// Bytes per message.
    #[arg(long, default_value_t = 1)]
    pub bytes: usize,
    /// Messages per sample.
    #[arg(long, default_value_t = 100_000)]
    pub count: usize,
    /// The channel's window (frames in flight).
    #[arg(long, default_value_t = 16)]
    pub window: u32,
    #[arg(long, default_value_t = 5)]
    pub samples: usize,
}

/// The clock runs from sending the call that produces `count` messages until the
/// last has been received (and the call has returned). One warm-up batch dropped.
pub fn run(args: ChannelArgs) -> anyhow::Result<serde_json::Value> {
    let (child, count, size, window, samples) = (
        args.child.clone(),
        args.count,
        args.bytes,
        args.window,
        args.samples,
    );
    let samples = args.child.block_on(async move {
        let broker = Broker::new();
        let context = bounded("starting a context", broker.local(child.local_options())).await?;
        bounded("defining the producer", context.exec(PRODUCER)).await?;
        let mut times = Vec::with_capacity(samples);
        for index in 0..=samples {
            let (sender, mut receiver) =
                context.channel_from_child_with_window::<ByteBuf>(window)?;
            let start = Instant::now();
            let call = context.call::<()>("__main__", "produce", (sender, count, size), ());
            let consume = async {
                let mut received = 0usize;
                while let Some(message) = receiver.recv().await? {
                    received += message.len();
                }
                anyhow::Ok(received)
            };
            let (called, received) = bounded_infallible_pair(call, consume).await?;
            let elapsed = start.elapsed().as_secs_f64();
            called?;
            anyhow::ensure!(received? == count * size, "short stream");
            if index > 0 {
                times.push(elapsed);
            }
        }
        bounded_infallible("shutting down", broker.shutdown()).await?;
        anyhow::Ok(times)
    })??;
    let per_message = |seconds: f64| count as f64 / seconds;
    Ok(with(
        json!({
            "bench": "channel",
            "unit": "s",
            "bytes": size,
            "count": count,
            "window": window,
            "variant": args.child.describe(),
            "best_messages_per_s": per_message(best(&samples)),
            "median_messages_per_s": per_message(median(&samples)),
            "median_bytes_per_s": (count * size) as f64 / median(&samples),
        }),
        summary(&samples),
    ))
}

async fn bounded_infallible_pair<A, B>(
    first: impl Future<Output = A>,
    second: impl Future<Output = B>,
) -> anyhow::Result<(A, B)> {
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        tokio::join!(first, second)
    })
    .await
    .map_err(|_| anyhow::anyhow!("the stream did not finish within 60 s"))
}

#[derive(clap::Args, Debug)]
pub struct ForkArgs {
    #[command(flatten)]
    pub child: ChildArgs,
    /// Fork this many workers per sample (a pool) instead of one.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    #[arg(long, default_value_t = 10)]
    pub samples: usize,
}

/// The clock runs from asking a warm context to fork until the copy (every copy,
/// for a pool) has answered its first call (os.getpid). Copies are shut down after
/// the clock. One warm-up sample dropped (it loads the fork module).
pub fn run_fork(args: ForkArgs) -> anyhow::Result<serde_json::Value> {
    let (child, workers, samples) = (args.child.clone(), args.workers, args.samples);
    let samples = args.child.block_on(async move {
        let broker = Broker::new();
        let template = bounded("starting a context", broker.local(child.local_options())).await?;
        let mut times = Vec::with_capacity(samples);
        for index in 0..=samples {
            let start = Instant::now();
            let copies: Vec<Context> = if workers == 1 {
                let copy = bounded("fork", template.fork()).await?;
                bounded("first call", copy.call::<u32>("os", "getpid", (), ())).await?;
                vec![copy]
            } else {
                let pool = bounded("a pool", Pool::new(&template, workers)).await?;
                let copies = pool.workers();
                for copy in &copies {
                    bounded("first call", copy.call::<u32>("os", "getpid", (), ())).await?;
                }
                copies
            };
            let elapsed = start.elapsed().as_secs_f64();
            for copy in copies {
                bounded_infallible("stopping a copy", copy.shutdown()).await?;
            }
            if index > 0 {
                times.push(elapsed);
            }
        }
        bounded_infallible("shutting down", broker.shutdown()).await?;
        anyhow::Ok(times)
    })??;
    Ok(with(
        json!({
            "bench": "fork",
            "unit": "s",
            "workers": workers,
            "variant": args.child.describe(),
        }),
        summary(&samples),
    ))
}

#[derive(clap::Args, Debug)]
pub struct TransferArgs {
    #[command(flatten)]
    pub child: ChildArgs,
    /// push (master → child) or pull (child → master).
    #[arg(long, default_value = "push")]
    pub direction: String,
    /// Size of the file.
    #[arg(long, default_value_t = 1 << 30)]
    pub bytes: usize,
    /// Where the files go (a directory; both copies live there).
    #[arg(long, default_value = "/tmp")]
    pub dir: std::path::PathBuf,
    #[arg(long, default_value_t = 3)]
    pub samples: usize,
    /// Time `cat SOURCE | cat > DEST` instead (the baseline).
    #[arg(long)]
    pub cat: bool,
    /// Verify with CRC-32 instead of SHA-256.
    #[arg(long)]
    pub crc32: bool,
}

/// One file copied through a context (or through `cat | cat`), source in the page
/// cache; the clock stops when the destination has been renamed into place. One
/// warm-up copy dropped.
pub fn run_transfer(args: TransferArgs) -> anyhow::Result<serde_json::Value> {
    let dir = tempfile_dir(&args.dir)?;
    let source = dir.join("source");
    let destination = dir.join("destination");
    std::fs::write(&source, vec![0xa5u8; args.bytes])?;
    let (child, samples, pull, cat) = (
        args.child.clone(),
        args.samples,
        args.direction == "pull",
        args.cat,
    );
    let checksum = if args.crc32 {
        Checksum::Crc32
    } else {
        Checksum::Sha256
    };
    let options = TransferOptions::new().checksum(checksum);
    let (src, dst) = (source.clone(), destination.clone());
    let times = args.child.block_on(async move {
        let broker = Broker::new();
        let context = bounded("starting a context", broker.local(child.local_options())).await?;
        let mut times = Vec::with_capacity(samples);
        for index in 0..=samples {
            let _ = std::fs::remove_file(&dst);
            let start = Instant::now();
            if cat {
                let script = format!("cat '{}' | cat > '{}'", src.display(), dst.display());
                let status = std::process::Command::new("sh")
                    .args(["-c", &script])
                    .status()?;
                anyhow::ensure!(status.success(), "cat | cat failed");
            } else if pull {
                bounded(
                    "pull",
                    context.pull_with(src.to_str().unwrap(), &dst, &options),
                )
                .await?;
            } else {
                bounded(
                    "push",
                    context.push_with(&src, dst.to_str().unwrap(), &options),
                )
                .await?;
            }
            let elapsed = start.elapsed().as_secs_f64();
            if index > 0 {
                times.push(elapsed);
            }
        }
        bounded_infallible("shutting down", broker.shutdown()).await?;
        anyhow::Ok(times)
    })??;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(with(
        json!({
            "bench": "transfer",
            "unit": "s",
            "bytes": args.bytes,
            "direction": if args.cat { "cat | cat".to_string() } else { args.direction.clone() },
            "checksum": checksum.name(),
            "median_bytes_per_s": args.bytes as f64 / median(&times),
        }),
        summary(&times),
    ))
}

fn tempfile_dir(parent: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let dir = parent.join(format!("pyfleet-bench-transfer-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
