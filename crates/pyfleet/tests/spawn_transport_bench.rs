//! Pipes against socket pairs, with a Python child on the other end.
//!
//! Not a pass/fail test; run it when choosing defaults:
//!
//! ```text
//! cargo test --release -p pyfleet --test spawn_transport_bench -- --ignored --nocapture --test-threads=1
//! ```

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use pyfleet::spawn::{SpawnOptions, Spawned, Transport, spawn_blocking_caller};
use spawn_util::{AsyncDescriptor, PYTHON, TRANSPORTS, within};

const PING_PONG_ROUNDS: usize = 20_000;
const BULK_BYTES: usize = 64 << 20;
const BULK_ROUNDS: usize = 5;

const ECHO_16: &str = "import os\n\
r, w = os.read, os.write\n\
while True:\n    \
    d = r(0, 16)\n    \
    if not d: break\n    \
    w(1, d)\n";

/// Reads `BULK_ROUNDS` payloads of `BULK_BYTES` into one reused buffer, acking each.
const SINK: &str = "import os\n\
n = 64 << 20\n\
view = memoryview(bytearray(1 << 20))\n\
for _ in range(5):\n    \
    got = 0\n    \
    while got < n:\n        \
        got += os.readv(0, [view[:min(len(view), n - got)]])\n    \
    os.write(1, b'k')\n";

/// Writes one `BULK_BYTES` payload per request byte.
const SOURCE: &str = "import os\n\
data = memoryview(bytes(64 << 20))\n\
while os.read(0, 1):\n    \
    rest = data\n    \
    while rest: rest = rest[os.write(1, rest):]\n";

fn python(script: &str, transport: Transport) -> Spawned {
    spawn_blocking_caller(
        SpawnOptions::new(PYTHON)
            .args(["-I", "-S", "-c", script])
            .transport(transport),
    )
    .expect("spawn python")
}

fn wait_for(fd: &OwnedFd, events: libc::c_short) {
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    let ready = unsafe { libc::poll(&mut poll, 1, 10_000) };
    assert_eq!(ready, 1, "poll timed out");
}

fn write_all(fd: &OwnedFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: `data` is a live buffer of the length passed.
        let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        if n > 0 {
            data = &data[n as usize..];
        } else {
            wait_for(fd, libc::POLLOUT);
        }
    }
}

fn read_exact(fd: &OwnedFd, buffer: &mut [u8]) {
    let mut filled = 0;
    while filled < buffer.len() {
        let rest = &mut buffer[filled..];
        // SAFETY: `rest` is a live buffer of the length passed.
        let n = unsafe { libc::read(fd.as_raw_fd(), rest.as_mut_ptr().cast(), rest.len()) };
        match n {
            0 => panic!("unexpected EOF"),
            n if n > 0 => filled += n as usize,
            _ => wait_for(fd, libc::POLLIN),
        }
    }
}

/// Reads `total` bytes into a reused buffer.
fn drain(fd: &OwnedFd, total: usize, buffer: &mut [u8]) {
    let mut left = total;
    while left > 0 {
        let chunk = left.min(buffer.len());
        // SAFETY: `buffer` is live and at least `chunk` long.
        let n = unsafe { libc::read(fd.as_raw_fd(), buffer.as_mut_ptr().cast(), chunk) };
        match n {
            0 => panic!("unexpected EOF"),
            n if n > 0 => left -= n as usize,
            _ => wait_for(fd, libc::POLLIN),
        }
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn gib_per_second(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 / elapsed.as_secs_f64() / (1u64 << 30) as f64
}

fn finish(child: Spawned) {
    drop(child.to_child);
    drop(child.from_child);
    child.process.kill().unwrap();
    child.process.wait_blocking();
}

#[test]
#[ignore = "measurement; run explicitly with --ignored --nocapture"]
fn ping_pong_16_bytes_poll_loop() {
    for transport in TRANSPORTS {
        let child = python(ECHO_16, transport);
        let message = [7u8; 16];
        let mut reply = [0u8; 16];
        for _ in 0..1000 {
            write_all(&child.to_child, &message);
            read_exact(&child.from_child, &mut reply);
        }
        let start = Instant::now();
        for _ in 0..PING_PONG_ROUNDS {
            write_all(&child.to_child, &message);
            read_exact(&child.from_child, &mut reply);
        }
        let per_round = start.elapsed() / PING_PONG_ROUNDS as u32;
        println!("ping-pong 16 B, poll loop      {transport:?}: {per_round:?} per round trip");
        finish(child);
    }
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "measurement; run explicitly with --ignored --nocapture"]
async fn ping_pong_16_bytes_tokio() {
    for transport in TRANSPORTS {
        let child = python(ECHO_16, transport);
        let to_child = AsyncDescriptor::new(child.to_child.try_clone().unwrap());
        let from_child = AsyncDescriptor::new(child.from_child.try_clone().unwrap());
        let message = [7u8; 16];
        let mut reply = [0u8; 16];
        let elapsed = within("ping-pong", async {
            let mut start = Instant::now();
            for round in 0..PING_PONG_ROUNDS + 1000 {
                if round == 1000 {
                    start = Instant::now();
                }
                to_child.write_all(&message).await.unwrap();
                let mut filled = 0;
                while filled < reply.len() {
                    filled += from_child.read_some(&mut reply[filled..]).await.unwrap();
                }
            }
            start.elapsed()
        })
        .await;
        let per_round = elapsed / PING_PONG_ROUNDS as u32;
        println!("ping-pong 16 B, tokio AsyncFd  {transport:?}: {per_round:?} per round trip");
        drop((to_child, from_child));
        finish(child);
    }
}

#[test]
#[ignore = "measurement; run explicitly with --ignored --nocapture"]
fn bulk_64_mib_parent_to_child() {
    for transport in TRANSPORTS {
        let child = python(SINK, transport);
        let mut samples = Vec::new();
        let mut ack = [0u8; 1];
        for _ in 0..BULK_ROUNDS {
            // A fresh buffer each round, as the data path would have.
            let payload = vec![1u8; BULK_BYTES];
            let start = Instant::now();
            write_all(&child.to_child, &payload);
            read_exact(&child.from_child, &mut ack);
            samples.push(start.elapsed());
        }
        let best = *samples.iter().min().unwrap();
        let typical = median(samples);
        println!(
            "64 MiB parent -> child          {transport:?}: median {typical:?} ({:.2} GiB/s), best {:.2} GiB/s",
            gib_per_second(BULK_BYTES, typical),
            gib_per_second(BULK_BYTES, best),
        );
        finish(child);
    }
}

#[test]
#[ignore = "measurement; run explicitly with --ignored --nocapture"]
fn bulk_64_mib_child_to_parent() {
    for transport in TRANSPORTS {
        let child = python(SOURCE, transport);
        let mut samples = Vec::new();
        let mut buffer = vec![0u8; 1 << 20];
        for _ in 0..BULK_ROUNDS {
            let start = Instant::now();
            write_all(&child.to_child, b"g");
            drain(&child.from_child, BULK_BYTES, &mut buffer);
            samples.push(start.elapsed());
        }
        let best = *samples.iter().min().unwrap();
        let typical = median(samples);
        println!(
            "64 MiB child -> parent          {transport:?}: median {typical:?} ({:.2} GiB/s), best {:.2} GiB/s",
            gib_per_second(BULK_BYTES, typical),
            gib_per_second(BULK_BYTES, best),
        );
        finish(child);
    }
}
