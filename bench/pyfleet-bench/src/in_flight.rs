//! Many no-op calls in flight on one context: the wall time until all answered.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Instant;

use clap::ValueEnum;
use pyfleet::Broker;
use serde_json::{Value, json};

use crate::setup::{ChildArgs, bounded, bounded_infallible, call_noop, context_with_noop};
use crate::stats::{summary, with};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Concurrency {
    /// One tokio task per call, joined with a JoinSet.
    Tasks,
    /// All call futures polled by the current task (no task per call).
    Joined,
}

#[derive(clap::Args, Debug)]
pub struct InFlightArgs {
    #[command(flatten)]
    pub child: ChildArgs,
    #[arg(long, default_value_t = 20)]
    pub samples: usize,
    #[arg(long, default_value_t = 100)]
    pub calls: usize,
    #[arg(long, value_enum, default_value_t = Concurrency::Tasks)]
    pub mode: Concurrency,
}

pub fn run(args: InFlightArgs) -> anyhow::Result<Value> {
    let child = args.child.clone();
    let (calls, count, mode) = (args.calls, args.samples, args.mode);
    let samples = args.child.block_on(async move {
        let broker = Broker::new();
        let context = context_with_noop(&broker, &child).await?;
        let mut samples = Vec::with_capacity(count);
        for index in 0..=count {
            let start = Instant::now();
            match mode {
                Concurrency::Tasks => {
                    let mut tasks = tokio::task::JoinSet::new();
                    for _ in 0..calls {
                        let context = context.clone();
                        tasks.spawn(async move { call_noop(&context).await });
                    }
                    let all = async {
                        while let Some(joined) = tasks.join_next().await {
                            joined??;
                        }
                        anyhow::Ok(())
                    };
                    tokio::time::timeout(crate::setup::STEP_TIMEOUT, all).await??;
                }
                Concurrency::Joined => {
                    let calls = (0..args.calls).map(|_| call_noop(&context)).collect();
                    let all = async {
                        join_all(calls)
                            .await
                            .into_iter()
                            .collect::<Result<Vec<_>, _>>()
                    };
                    bounded("joined no-op calls", all).await?;
                }
            }
            if index > 0 {
                samples.push(start.elapsed().as_secs_f64());
            }
        }
        bounded_infallible("shutting down", broker.shutdown()).await?;
        anyhow::Ok(samples)
    })??;
    Ok(with(
        json!({
            "bench": "in-flight",
            "unit": "s",
            "calls": args.calls,
            "mode": format!("{:?}", args.mode),
            "variant": args.child.describe(),
        }),
        summary(&samples),
    ))
}

/// Poll every future from one task until all are ready; a small stand-in for
/// `futures::future::join_all`, to keep this crate's dependencies to the workspace's.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
