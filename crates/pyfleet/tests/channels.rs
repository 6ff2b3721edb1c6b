//! Channels and streams between the master and real children.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::path::Path;
use std::time::{Duration, Instant};

use context_util::{start, within};
use interpreters::SYSTEM_PYTHON;
use pyfleet::{Broker, CallError, Context, Select, Value};

const FUNCTIONS: &str = r#"
import time

def produce(out, n):
    for i in range(n):
        out.send(i)
    return 'sent %d' % n

def count(n):
    for i in range(n):
        yield i

def broken(n):
    for i in range(n):
        yield i
    raise KeyError('halfway')

def total(inp):
    return sum(inp)

def doubler(inp, out):
    for value in inp:
        out.send(value * 2)

def slow_consumer_probe(out, n, progress):
    for i in range(n):
        out.send(i)
        with open(progress, 'w') as f:
            f.write(str(i + 1))

def send_after_close(out):
    out.close()
    out.send(1)

def late(out, delay):
    time.sleep(delay)
    out.send('late')

def timeout_probe(inp):
    try:
        inp.recv(timeout=0.2)
    except Exception as exc:
        return type(exc).__name__

def big(size):
    yield b'x' * size

def bulk(chunks, size):
    block = b'\xab' * size
    for _ in range(chunks):
        yield block
"#;

/// A whole test, bounded: a hang fails the test instead of stalling the run.
async fn bounded(test: impl Future<Output = ()>) {
    if tokio::time::timeout(Duration::from_secs(300), test)
        .await
        .is_err()
    {
        panic!("the test did not finish within 300 s");
    }
}

async fn child(broker: &Broker, python: &Path) -> Context {
    let ctx = start(broker, python).await;
    ctx.exec(FUNCTIONS).await.unwrap();
    ctx
}

#[tokio::test]
async fn a_sender_passed_to_a_remote_function_streams_back_on_every_interpreter() {
    bounded(a_sender_passed_to_a_remote_function_streams_back_on_every_interpreter_body()).await;
}

async fn a_sender_passed_to_a_remote_function_streams_back_on_every_interpreter_body() {
    let broker = Broker::new();
    for python in interpreters::interpreters() {
        let ctx = child(&broker, &python).await;
        let (tx, rx) = ctx.channel_from_child::<i64>().unwrap();
        let (result, values) = tokio::join!(
            ctx.call::<String>("__main__", "produce", (tx, 100), ()),
            rx.collect_all()
        );
        assert_eq!(result.unwrap(), "sent 100", "{}", python.display());
        assert_eq!(values.unwrap(), (0..100).collect::<Vec<i64>>());
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn a_remote_generator_is_a_stream_and_its_exception_ends_it() {
    bounded(a_remote_generator_is_a_stream_and_its_exception_ends_it_body()).await;
}

async fn a_remote_generator_is_a_stream_and_its_exception_ends_it_body() {
    let broker = Broker::new();
    for python in interpreters::interpreters() {
        let ctx = child(&broker, &python).await;
        let values = ctx
            .stream::<i64>("__main__", "count", (50,), ())
            .await
            .unwrap()
            .collect_all()
            .await
            .unwrap();
        assert_eq!(
            values,
            (0..50).collect::<Vec<i64>>(),
            "{}",
            python.display()
        );

        let mut stream = ctx
            .stream::<i64>("__main__", "broken", (3,), ())
            .await
            .unwrap();
        for expected in 0..3 {
            assert_eq!(stream.recv().await.unwrap(), Some(expected));
        }
        let error = stream.recv().await.unwrap_err();
        assert_eq!(
            error.remote().map(|r| r.type_name.as_str()),
            Some("KeyError"),
            "{error}"
        );
        assert!(
            stream.recv().await.unwrap().is_none(),
            "the stream has ended"
        );
        // The context still answers.
        let pid: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
        assert_eq!(pid, ctx.pid());
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn values_flow_to_the_child_and_back_on_duplex_channels() {
    bounded(values_flow_to_the_child_and_back_on_duplex_channels_body()).await;
}

async fn values_flow_to_the_child_and_back_on_duplex_channels_body() {
    let broker = Broker::new();
    let ctx = child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let (mut tx, child_rx) = ctx.channel_to_child::<i64>().unwrap();
    let feed = async move {
        for i in 1..=100 {
            tx.send(&i).await.unwrap();
        }
        tx.close().await.unwrap();
    };
    let (sum, ()) = tokio::join!(ctx.call::<i64>("__main__", "total", (child_rx,), ()), feed);
    assert_eq!(sum.unwrap(), 5050);

    let (mut tx, child_rx) = ctx.channel_to_child::<i64>().unwrap();
    let (child_tx, rx) = ctx.channel_from_child::<i64>().unwrap();
    let call = ctx.call::<Value>("__main__", "doubler", (child_rx, child_tx), ());
    let feed = async move {
        for i in 0..20 {
            tx.send(&i).await.unwrap();
        }
        tx.close().await.unwrap();
    };
    let (result, (), doubled) = tokio::join!(call, feed, rx.collect_all());
    result.unwrap();
    assert_eq!(
        doubled.unwrap(),
        (0..20).map(|i| i * 2).collect::<Vec<i64>>()
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn select_takes_from_whichever_receiver_has_a_value() {
    bounded(select_takes_from_whichever_receiver_has_a_value_body()).await;
}

async fn select_takes_from_whichever_receiver_has_a_value_body() {
    let broker = Broker::new();
    let a = child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let b = child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let streams = vec![
        a.stream::<i64>("__main__", "count", (10,), ())
            .await
            .unwrap(),
        b.stream::<i64>("__main__", "count", (20,), ())
            .await
            .unwrap(),
    ];
    let mut select = Select::new(streams);
    let mut seen = [0usize; 2];
    while let Some((index, value)) = within("select", select.next()).await {
        value.unwrap();
        seen[index] += 1;
    }
    assert_eq!(seen, [10, 20]);
    broker.shutdown().await;
}

#[tokio::test]
async fn closed_channels_and_timeouts_fail_clearly() {
    bounded(closed_channels_and_timeouts_fail_clearly_body()).await;
}

async fn closed_channels_and_timeouts_fail_clearly_body() {
    let broker = Broker::new();
    let ctx = child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let (tx, rx) = ctx.channel_from_child::<i64>().unwrap();
    let (result, values) = tokio::join!(
        ctx.call::<Value>("__main__", "send_after_close", (tx,), ()),
        rx.collect_all()
    );
    let error = result.unwrap_err();
    assert!(
        error.remote().unwrap().type_name.ends_with("ChannelClosed"),
        "{error}"
    );
    assert!(values.unwrap().is_empty());

    // The child's receiving call returned: sending more is an error, not a hang.
    let (mut tx, child_rx) = ctx.channel_to_child::<i64>().unwrap();
    let outcome: String = ctx
        .call("__main__", "timeout_probe", (child_rx,), ())
        .await
        .unwrap();
    assert_eq!(outcome, "ChannelTimeout");
    let mut sent = Ok(());
    for i in 0..100 {
        sent = within("a send after the child's end closed", tx.send(&i)).await;
        if sent.is_err() {
            break;
        }
    }
    let error = sent.unwrap_err();
    assert!(error.to_string().contains("closed its end"), "{error}");

    // recv_timeout: nothing yet, then the value.
    let (tx, mut rx) = ctx.channel_from_child::<String>().unwrap();
    let call = ctx.call::<Value>("__main__", "late", (tx, 0.5), ());
    let receive = async {
        let first = rx.recv_timeout(Duration::from_millis(100)).await;
        assert!(matches!(first, Err(CallError::Timeout { .. })), "{first:?}");
        rx.recv().await.unwrap()
    };
    let (result, value) = tokio::join!(call, receive);
    result.unwrap();
    assert_eq!(value.as_deref(), Some("late"));
    broker.shutdown().await;
}

#[tokio::test]
async fn a_context_killed_mid_stream_ends_it_with_how() {
    bounded(a_context_killed_mid_stream_ends_it_with_how_body()).await;
}

async fn a_context_killed_mid_stream_ends_it_with_how_body() {
    let broker = Broker::new();
    let ctx = child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let mut stream = ctx
        .stream::<i64>("__main__", "count", (1_000_000_000i64,), ())
        .await
        .unwrap();
    for _ in 0..10 {
        stream.recv().await.unwrap();
    }
    ctx.process().kill().unwrap();
    let error = within("the stream to fail", async {
        loop {
            match stream.recv().await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("ended cleanly"),
                Err(error) => return error,
            }
        }
    })
    .await;
    assert!(error.to_string().contains("killed by SIGKILL"), "{error}");
    broker.shutdown().await;
}

#[tokio::test]
async fn a_fast_producer_waits_for_a_slow_consumer() {
    bounded(a_fast_producer_waits_for_a_slow_consumer_body()).await;
}

async fn a_fast_producer_waits_for_a_slow_consumer_body() {
    let broker = Broker::new();
    let ctx = child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("progress");
    let (tx, mut rx) = ctx.channel_from_child_with_window::<i64>(8).unwrap();
    let call = ctx.call::<Value>(
        "__main__",
        "slow_consumer_probe",
        (tx, 200, progress.display().to_string()),
        (),
    );
    let consume = async {
        for expected in 0..40 {
            assert_eq!(rx.recv().await.unwrap(), Some(expected));
            // Ten times slower than the producer could go.
            tokio::time::sleep(Duration::from_millis(5)).await;
            let sent: i64 = std::fs::read_to_string(&progress)
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            // At most the window (8) ahead, plus the frame being decided on.
            assert!(
                sent <= expected + 1 + 8 + 1,
                "sent {sent} while {expected} consumed"
            );
        }
        while rx.recv().await.unwrap().is_some() {}
    };
    let (result, ()) = tokio::join!(call, consume);
    result.unwrap();
    broker.shutdown().await;
}

#[tokio::test]
async fn values_larger_than_a_message_travel_in_chunks() {
    bounded(values_larger_than_a_message_travel_in_chunks_body()).await;
}

async fn values_larger_than_a_message_travel_in_chunks_body() {
    let broker = Broker::builder().max_message_size(2 << 20).build();
    let ctx = child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let size = 9 << 20;
    let mut stream = ctx
        .stream::<Value>("__main__", "big", (size,), ())
        .await
        .unwrap();
    let value = stream.recv().await.unwrap().unwrap();
    assert_eq!(value.as_bytes().map(<[u8]>::len), Some(size));
    assert!(value.as_bytes().unwrap().iter().all(|&b| b == b'x'));

    let (mut tx, child_rx) = ctx.channel_to_child::<Value>().unwrap();
    let check = ctx.exec("def length(inp):\n    return [len(v) for v in inp]\n");
    check.await.unwrap();
    let feed = async move {
        tx.send(&Value::Bytes(vec![7u8; size].into()))
            .await
            .unwrap();
        tx.close().await.unwrap();
    };
    let (lengths, ()) = tokio::join!(
        ctx.call::<Vec<usize>>("__main__", "length", (child_rx,), ()),
        feed
    );
    assert_eq!(lengths.unwrap(), vec![size]);
    broker.shutdown().await;
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap()
}

#[tokio::test]
async fn streaming_a_gibibyte_keeps_memory_bounded() {
    bounded(streaming_a_gibibyte_keeps_memory_bounded_body()).await;
}

async fn streaming_a_gibibyte_keeps_memory_bounded_body() {
    let broker = Broker::new();
    let ctx = child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let master_before = rss_kib(std::process::id());
    let started = Instant::now();
    let mut stream = ctx
        .stream::<pyfleet::wire::ByteBuf>("__main__", "bulk", (1024, 1 << 20), ())
        .await
        .unwrap();
    let mut total = 0usize;
    let mut peak_master = 0;
    let mut peak_child = 0;
    while let Some(block) = within("a block", stream.recv()).await.unwrap() {
        total += block.0.len();
        if total.is_multiple_of(64 << 20) {
            peak_master = peak_master.max(rss_kib(std::process::id()));
            peak_child = peak_child.max(rss_kib(ctx.pid()));
        }
    }
    assert_eq!(total, 1 << 30);
    let grown = peak_master.saturating_sub(master_before);
    eprintln!(
        "1 GiB in {:?}: master grew {grown} KiB, child peak {peak_child} KiB",
        started.elapsed()
    );
    // Window of 16 frames of 1 MiB, twice over for decoding: far below 1 GiB.
    assert!(grown < 96 * 1024, "master grew {grown} KiB");
    assert!(peak_child < 96 * 1024, "child at {peak_child} KiB");
    broker.shutdown().await;
}

#[tokio::test]
async fn a_call_that_fails_ends_its_channels_with_its_error() {
    bounded(a_call_that_fails_ends_its_channels_with_its_error_body()).await;
}

async fn a_call_that_fails_ends_its_channels_with_its_error_body() {
    let broker = Broker::new();
    let ctx = child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let (tx, rx) = ctx.channel_from_child::<i64>().unwrap();
    let (mut to_child, child_rx) = ctx.channel_to_child::<i64>().unwrap();
    let call = ctx.call::<Value>("__main__", "no_such_function", (tx, child_rx), ());
    let (result, values) = within("the call and its channel", async {
        tokio::join!(call, rx.collect_all())
    })
    .await;
    assert_eq!(
        result.unwrap_err().remote().unwrap().type_name,
        "AttributeError"
    );
    // A sender handed to a failing call ends with that call's error.
    let ended = values.unwrap_err();
    assert_eq!(
        ended.remote().map(|r| r.type_name.as_str()),
        Some("AttributeError"),
        "{ended}"
    );
    let error = within("a send on the orphaned channel", to_child.send(&1))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("closed its end"), "{error}");
    broker.shutdown().await;
}
