//! Sequential no-op calls on one warm context.

use std::time::Instant;

use pyfleet::Broker;
use serde_json::{Value, json};

use crate::setup::{ChildArgs, bounded, bounded_infallible, call_noop, context_with_noop};
use crate::stats::{summary, with};

#[derive(clap::Args, Debug)]
pub struct RoundTripArgs {
    #[command(flatten)]
    pub child: ChildArgs,
    #[arg(long, default_value_t = 10)]
    pub samples: usize,
    /// Calls per sample; a sample is their mean, so timer cost is negligible.
    #[arg(long, default_value_t = 1000)]
    pub calls: usize,
}

/// Warm-up (imports, caches, allocator) is one sample's worth of calls, dropped.
pub fn run(args: RoundTripArgs) -> anyhow::Result<Value> {
    let child = args.child.clone();
    let (calls, count) = (args.calls, args.samples);
    let samples = args.child.block_on(async move {
        let broker = Broker::new();
        let context = context_with_noop(&broker, &child).await?;
        let mut samples = Vec::with_capacity(count);
        for index in 0..=count {
            // One bound per batch: a timer per call would be part of what is timed.
            let batch = async {
                let start = Instant::now();
                for _ in 0..calls {
                    call_noop(&context).await?;
                }
                Ok::<_, pyfleet::CallError>(start.elapsed().as_secs_f64() / calls as f64)
            };
            let per_call = bounded("a batch of no-op calls", batch).await?;
            if index > 0 {
                samples.push(per_call);
            }
        }
        bounded_infallible("shutting down", broker.shutdown()).await?;
        anyhow::Ok(samples)
    })??;
    Ok(with(
        json!({
            "bench": "round-trip",
            "unit": "s",
            "calls_per_sample": args.calls,
            "variant": args.child.describe(),
        }),
        summary(&samples),
    ))
}
