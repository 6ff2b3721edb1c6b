//! One large bytes value through a call, as the argument or as the result.

use std::time::Instant;

use bytes::Bytes;
use clap::ValueEnum;
use pyfleet::{Broker, Value};
use serde_json::json;

use crate::setup::{ChildArgs, bounded, bounded_infallible};
use crate::stats::{summary, with};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Direction {
    /// Master → child: `len(data)` with the data as the argument.
    Argument,
    /// Child → master: a function returning the data.
    Result,
}

#[derive(clap::Args, Debug)]
pub struct BulkArgs {
    #[command(flatten)]
    pub child: ChildArgs,
    #[arg(long, value_enum)]
    pub direction: Direction,
    #[arg(long, default_value_t = 64 << 20)]
    pub bytes: usize,
    #[arg(long, default_value_t = 5)]
    pub samples: usize,
}

/// The data exists before the clock starts on the sending side (a Rust buffer, or
/// a Python bytes object made at set-up); the receiver gets a new value every
/// transfer, in whatever memory the library gives it. The received value is dropped
/// after the clock stops. One warm-up transfer is dropped.
pub fn run(args: BulkArgs) -> anyhow::Result<serde_json::Value> {
    let (child, count, direction, size) =
        (args.child.clone(), args.samples, args.direction, args.bytes);
    let samples = args.child.block_on(async move {
        let broker = Broker::builder().max_message_size(size + (1 << 20)).build();
        let context = bounded("starting a context", broker.local(child.local_options())).await?;
        let set_up = format!("BLOB = b'x' * {size}\ndef blob():\n    return BLOB\n");
        bounded("making the blob", context.exec(&set_up)).await?;
        let data = Bytes::from(vec![0x5a_u8; size]);
        let mut samples = Vec::with_capacity(count);
        for index in 0..=count {
            let start = Instant::now();
            match direction {
                Direction::Argument => {
                    let call =
                        context.call::<u64>("builtins", "len", (Value::Bytes(data.clone()),), ());
                    let length = bounded("len(data)", call).await?;
                    let elapsed = start.elapsed().as_secs_f64();
                    anyhow::ensure!(length as usize == size, "len answered {length}");
                    if index > 0 {
                        samples.push(elapsed);
                    }
                }
                Direction::Result => {
                    let result =
                        bounded("blob()", context.call::<Value>("__main__", "blob", (), ()))
                            .await?;
                    let elapsed = start.elapsed().as_secs_f64();
                    let received = match &result {
                        Value::Bytes(bytes) => bytes.len(),
                        _ => 0,
                    };
                    anyhow::ensure!(received == size, "blob() answered {received} bytes");
                    drop(result);
                    if index > 0 {
                        samples.push(elapsed);
                    }
                }
            }
        }
        bounded_infallible("shutting down", broker.shutdown()).await?;
        anyhow::Ok(samples)
    })??;
    Ok(with(
        json!({
            "bench": "bulk",
            "unit": "s",
            "bytes": size,
            "direction": format!("{:?}", args.direction),
            "variant": args.child.describe(),
            "best_bytes_per_s": size as f64 / crate::stats::best(&samples),
        }),
        summary(&samples),
    ))
}
