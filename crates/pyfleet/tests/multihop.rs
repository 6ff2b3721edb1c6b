//! Contexts started by contexts: chains of local interpreters, routing, isolation,
//! a hop's death, and modules served once per hop.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::path::Path;

use context_util::{start, within};
use interpreters::SYSTEM_PYTHON;
use pyfleet::{Broker, LocalOptions};

fn system() -> &'static Path {
    Path::new(SYSTEM_PYTHON)
}

#[tokio::test]
async fn a_context_starts_a_context_and_calls_reach_it() {
    let broker = Broker::new();
    let hop = start(&broker, system()).await;
    let leaf = within(
        "a context through a hop",
        hop.local(LocalOptions::new().python(system())),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let pid: u32 = leaf.call("os", "getpid", (), ()).await.unwrap();
    assert_eq!(pid, leaf.pid());
    let ppid: u32 = leaf.call("os", "getppid", (), ()).await.unwrap();
    assert_eq!(ppid, hop.pid());
    broker.shutdown().await;
}
