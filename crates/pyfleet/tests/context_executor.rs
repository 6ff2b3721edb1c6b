//! The executor choice: serial calls in arrival order, or N threads at once.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::time::{Duration, Instant};

use context_util::{start, within};
use interpreters::SYSTEM_PYTHON;
use pyfleet::{Broker, Context, Executor, LocalOptions, Value};

const FUNCTIONS: &str = r#"
import time
log = []

def nap(seconds, tag):
    log.append(('start', tag))
    time.sleep(seconds)
    log.append(('end', tag))
    return tag

def relay(inp, out):
    for value in inp:
        out.send(value + 1)
    return 'relayed'

def burst(out, n):
    for i in range(n):
        out.send(i)
    return n
"#;

async fn threaded(broker: &Broker, python: &std::path::Path, threads: u16) -> Context {
    let ctx = within(
        "a threaded context",
        broker.local(
            LocalOptions::new()
                .python(python)
                .executor(Executor::Threads(threads)),
        ),
    )
    .await
    .unwrap();
    ctx.exec(FUNCTIONS).await.unwrap();
    ctx
}

#[tokio::test]
async fn serial_calls_run_one_at_a_time_in_arrival_order() {
    let broker = Broker::new();
    let ctx = start(&broker, std::path::Path::new(SYSTEM_PYTHON)).await;
    ctx.exec(FUNCTIONS).await.unwrap();
    assert_eq!(ctx.executor().await.unwrap(), Executor::Serial);
    let calls: Vec<_> = (0..4)
        .map(|tag| ctx.call::<u32>("__main__", "nap", (0.05 * f64::from(4 - tag), tag), ()))
        .collect();
    let results = within("serial calls", futures_join(calls)).await;
    assert_eq!(results, vec![0, 1, 2, 3]);
    let log: Vec<(String, u32)> = ctx.eval("log").await.unwrap();
    let expected: Vec<(String, u32)> = (0..4)
        .flat_map(|tag| [("start".to_string(), tag), ("end".to_string(), tag)])
        .collect();
    assert_eq!(log, expected);
    broker.shutdown().await;
}

#[tokio::test]
async fn threads_run_calls_at_once_and_match_results_by_id() {
    let broker = Broker::new();
    for python in interpreters::interpreters() {
        let ctx = threaded(&broker, &python, 4).await;
        assert_eq!(ctx.executor().await.unwrap(), Executor::Threads(4));
        let started = Instant::now();
        // The longest first, so that results arriving out of order must still be
        // matched to their calls.
        let calls: Vec<_> = (0..4)
            .map(|tag| ctx.call::<u32>("__main__", "nap", (0.4 * f64::from(4 - tag), tag), ()))
            .collect();
        let results = within("threaded calls", futures_join(calls)).await;
        assert_eq!(results, vec![0, 1, 2, 3], "{}", python.display());
        let elapsed = started.elapsed();
        // Serially this is 4 s; at once, the longest (1.6 s).
        assert!(
            elapsed < Duration::from_millis(3200),
            "{elapsed:?} on {}",
            python.display()
        );
        // All four ran at once: every call started before the first one ended
        // (which order they then end in depends on when each thread got going).
        let log: Vec<(String, u32)> = ctx.eval("log").await.unwrap();
        let last_start = log.iter().rposition(|(what, _)| what == "start");
        let first_end = log.iter().position(|(what, _)| what == "end");
        assert!(
            last_start < first_end && first_end.is_some(),
            "{log:?} on {}",
            python.display()
        );
        // A worker loads an on-demand core module: its request is answered
        // through the main thread's mailbox.
        let value: i64 = ctx.eval("6 * 7").await.unwrap();
        assert_eq!(value, 42);
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn threaded_calls_use_channels_both_ways_with_small_windows() {
    let broker = Broker::new();
    for python in interpreters::interpreters() {
        let ctx = threaded(&broker, &python, 2).await;
        let (mut to_child, child_in) = ctx.channel_to_child_with_window::<i64>(2).unwrap();
        let (child_out, mut from_child) = ctx.channel_from_child_with_window::<i64>(2).unwrap();
        // A second call runs beside the relay, on the other thread, with a
        // window of one frame: its sends wait for credit.
        let (burst_out, burst_in) = ctx.channel_from_child_with_window::<i64>(1).unwrap();
        // Each call is polled (so sent) before anything goes on its channels.
        let relay = ctx.call::<String>("__main__", "relay", (child_in, child_out), ());
        let burst = ctx.call::<i64>("__main__", "burst", (burst_out, 50), ());
        let ping_pong = async {
            for i in 0..20 {
                to_child.send(&i).await.unwrap();
                assert_eq!(from_child.recv().await.unwrap(), Some(i + 1));
            }
            to_child.close().await.unwrap();
            from_child
        };
        let (relayed, burst, mut from_child, burst_values) =
            within("two threaded calls with channels", async {
                tokio::join!(relay, burst, ping_pong, burst_in.collect_all())
            })
            .await;
        assert_eq!(relayed.unwrap(), "relayed");
        assert_eq!(within("relay end", from_child.recv()).await.unwrap(), None);
        assert_eq!(burst_values.unwrap(), (0..50).collect::<Vec<_>>());
        assert_eq!(burst.unwrap(), 50);
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn the_executor_is_chosen_once() {
    let broker = Broker::new();
    let ctx = threaded(&broker, std::path::Path::new(SYSTEM_PYTHON), 2).await;
    ctx.set_executor(Executor::Threads(2)).await.unwrap();
    let error = ctx.set_executor(Executor::Threads(3)).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("already runs calls on 2 threads"),
        "{error}"
    );
    let error = ctx.set_executor(Executor::Serial).await.unwrap_err();
    assert!(error.to_string().contains("chosen once"), "{error}");
    let pid: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
    assert_eq!(pid, ctx.pid());
    let serial = start(&broker, std::path::Path::new(SYSTEM_PYTHON)).await;
    serial.set_executor(Executor::Serial).await.unwrap();
    broker.shutdown().await;
}

#[tokio::test]
async fn a_threaded_context_still_reports_a_raising_call() {
    let broker = Broker::new();
    let ctx = threaded(&broker, std::path::Path::new(SYSTEM_PYTHON), 2).await;
    let error = ctx
        .call::<Value>("__main__", "nap", ("not a number", 1), ())
        .await
        .unwrap_err();
    assert_eq!(error.remote().unwrap().type_name, "TypeError", "{error}");
    broker.shutdown().await;
}

/// Awaits every future, concurrently, in order of the list.
async fn futures_join<T>(
    calls: Vec<impl Future<Output = Result<T, pyfleet::CallError>>>,
) -> Vec<T> {
    let handles: Vec<_> = calls.into_iter().map(Box::pin).collect();
    let mut results = Vec::new();
    // Polling each in turn is enough: they were all sent when first polled, so
    // poll them all once before awaiting any.
    let mut pinned: Vec<_> = handles.into_iter().map(Some).collect();
    let mut outputs: Vec<Option<T>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(result) => {
                        *output = Some(result.unwrap());
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.extend(outputs.into_iter().map(Option::unwrap));
    results
}
