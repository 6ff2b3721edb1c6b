//! No fd leaks in the master across many context lifetimes.
//!
//! Alone in its test binary: tests running on other threads of the same process
//! would open and close fds while this one counts them.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::path::Path;
use std::time::{Duration, Instant};

use context_util::{open_fds, start, within};
use pyfleet::spawn::{ExitStatus, Transport};
use pyfleet::{Broker, LocalOptions};

#[tokio::test]
async fn no_fd_leaks_across_200_contexts() {
    let broker = Broker::builder()
        .shutdown_grace(Duration::from_millis(500))
        .build();
    // Warm up lazily created runtime and spawner resources before counting.
    let python = Path::new(interpreters::SYSTEM_PYTHON);
    let warm = start(&broker, python).await;
    warm.shutdown().await;
    let before = open_fds();
    for round in 0..200 {
        // Both transports: a socketpair (the default here) and pipes.
        let transport = if round % 2 == 0 {
            Transport::SocketPair
        } else {
            Transport::Pipes
        };
        let options = LocalOptions::new()
            .python(python)
            .interpreter_arg("-I")
            .interpreter_arg("-S")
            .transport(transport);
        let ctx = within("a context", broker.local(options)).await.unwrap();
        let _: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
        within("its shutdown", ctx.shutdown()).await;
        assert_eq!(
            ctx.process().try_status(),
            Some(ExitStatus::Code(0)),
            "{transport:?}: exits cleanly at end of stream"
        );
    }
    // Readers of ended contexts finish asynchronously; give them a moment.
    let settle = Instant::now();
    while open_fds() > before && settle.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open_fds(), before, "fds leaked across 200 contexts");
    broker.shutdown().await;
}
