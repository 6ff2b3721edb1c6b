//! Round trips through a real child interpreter (/usr/bin/python3.11, or
//! PYFLEET_BENCH_PYTHON). Each group is one transport with one context, started
//! once and reused by every benchmark in it, so only the call path is measured.
//! An iteration is one call in its own `block_on` on a current_thread runtime, so
//! it includes entering the runtime: a few µs more than a loop of awaits (which is
//! what bench/pyfleet-bench times).
//!
//! Run with `cargo bench -p pyfleet --bench calls`. The side-by-side comparison with
//! other libraries lives in bench/ (bench/run.sh).

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use divan::Bencher;
use divan::counter::BytesCount;
use pyfleet::spawn::Transport;
use pyfleet::{Broker, Context, LocalOptions, Value};

fn main() {
    watchdog::start();
    divan::main();
}

/// The bytes-argument benchmarks' payload: large enough to leave the small-frame
/// path, small enough to fit a pipe's buffer in one write.
const ARGUMENT_BYTES: usize = 64 * 1024;

/// A started context and the runtime that drives it. The runtime only runs inside
/// `block_on`, which is where every benchmark iteration waits.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    context: Context,
    // Kept so the context lives as long as the process; children exit on EOF.
    _broker: Broker,
}

impl Fixture {
    fn start(transport: Transport) -> Fixture {
        let python = std::env::var_os("PYFLEET_BENCH_PYTHON")
            .unwrap_or_else(|| "/usr/bin/python3.11".into());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let broker = Broker::new();
        let options = LocalOptions::new()
            .python(python)
            .transport(transport)
            .connect_timeout(Duration::from_secs(30));
        let context = runtime.block_on(async {
            let context = broker
                .local(options)
                .await
                .expect("starting the benchmark context");
            context
                .exec("def noop():\n    pass\n")
                .await
                .expect("defining noop");
            context
        });
        Fixture {
            runtime,
            context,
            _broker: broker,
        }
    }

    fn noop(&self) {
        let reply = self
            .runtime
            .block_on(self.context.call::<Value>("__main__", "noop", (), ()));
        reply.expect("noop()");
        watchdog::progress();
    }

    fn len(&self, data: &Bytes) -> u64 {
        let call = self
            .context
            .call::<u64>("builtins", "len", (Value::Bytes(data.clone()),), ());
        let length = self.runtime.block_on(call).expect("len(data)");
        watchdog::progress();
        length
    }
}

fn bench_noop(bencher: Bencher, fixture: &Fixture) {
    fixture.noop(); // the first call of a benchmark pays for nothing else
    bencher.bench_local(|| fixture.noop());
}

fn bench_bytes_argument(bencher: Bencher, fixture: &Fixture) {
    let data = Bytes::from(vec![0x5a_u8; ARGUMENT_BYTES]);
    assert_eq!(fixture.len(&data), ARGUMENT_BYTES as u64);
    bencher
        .counter(BytesCount::new(ARGUMENT_BYTES))
        .bench_local(|| fixture.len(&data));
}

#[divan::bench_group]
mod pipes {
    use super::*;

    static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| Fixture::start(Transport::Pipes));

    #[divan::bench]
    fn noop_call(bencher: Bencher) {
        bench_noop(bencher, &FIXTURE);
    }

    #[divan::bench]
    fn bytes_argument_64k(bencher: Bencher) {
        bench_bytes_argument(bencher, &FIXTURE);
    }
}

#[divan::bench_group]
mod socketpair {
    use super::*;

    static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| Fixture::start(Transport::SocketPair));

    #[divan::bench]
    fn noop_call(bencher: Bencher) {
        bench_noop(bencher, &FIXTURE);
    }

    #[divan::bench]
    fn bytes_argument_64k(bencher: Bencher) {
        bench_bytes_argument(bencher, &FIXTURE);
    }
}

/// Bounds every wait without a timer in the measured loop: each finished call
/// counts as progress, and a run that makes none for `STALL` exits.
mod watchdog {
    use super::*;

    const STALL: Duration = Duration::from_secs(60);

    static PROGRESS: AtomicU64 = AtomicU64::new(0);

    pub fn progress() {
        PROGRESS.fetch_add(1, Ordering::Relaxed);
    }

    pub fn start() {
        std::thread::spawn(|| {
            let mut seen = PROGRESS.load(Ordering::Relaxed);
            loop {
                std::thread::sleep(STALL);
                let now = PROGRESS.load(Ordering::Relaxed);
                if now == seen {
                    eprintln!("calls benchmark: no call finished in {STALL:?}, giving up");
                    std::process::exit(3);
                }
                seen = now;
            }
        });
    }
}
