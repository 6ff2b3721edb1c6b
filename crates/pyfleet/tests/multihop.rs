//! Contexts started by contexts (hops): chains of local interpreters on every
//! interpreter here, calls and streams through two hops, a hop killed under its
//! children, spoofed sources, isolation of siblings and parents, and modules
//! fetched once per hop.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/demo_package.rs"]
mod demo_package;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use context_util::{Recorder, process_running, start, wait_gone, within};
use interpreters::SYSTEM_PYTHON;
use pyfleet::wire::ByteBuf;
use pyfleet::{
    Broker, CallError, Context, EndReason, LocalOptions, ModuleServer, OutputStream, StartupConfig,
    Value,
};

fn system() -> &'static Path {
    Path::new(SYSTEM_PYTHON)
}

/// A context on the system interpreter, started by `hop`.
async fn child_of(hop: &Context) -> Context {
    within(
        "a context through a hop",
        hop.local(LocalOptions::new().python(system())),
    )
    .await
    .unwrap_or_else(|e| panic!("through {}: {e}", hop.name()))
}

/// Polls `check` until it holds, failing the test after the usual limit.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < context_util::LIMIT, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Python that writes one raw frame to this context's parent stream.
fn raw_frame(dst: u32, src: u32, handle: u32, body: &str) -> String {
    format!(
        "import marshal, sys\n\
         from pyfleet_core import wire\n\
         body = marshal.dumps({body}, 2)\n\
         conn = sys.modules['pyfleet_core'].connection\n\
         conn._write_all([wire.HEADER.pack(wire.MAGIC, wire.VALUE, 0, {dst}, {src}, {src}, \
         {handle}, 0, len(body)), body])\n"
    )
}

#[tokio::test]
async fn every_interpreter_can_be_the_middle_hop() {
    let recorder = Recorder::default();
    let broker = Broker::builder().on_output(recorder.handler()).build();
    for python in interpreters::interpreters() {
        let hop = start(&broker, &python).await;
        let leaf = child_of(&hop).await;
        let what = python.display().to_string();
        assert_eq!(leaf.via().map(|c| c.id()), Some(hop.id()), "{what}");
        let ppid: u32 = leaf.call("os", "getppid", (), ()).await.unwrap();
        assert_eq!(ppid, hop.pid(), "{what}: the hop is the parent");
        let pid: u32 = leaf.call("os", "getpid", (), ()).await.unwrap();
        assert_eq!(pid, leaf.pid(), "{what}");
        leaf.exec(&format!("print('leaf of {}')", hop.id()))
            .await
            .unwrap();
        // The hop keeps serving its own calls while it routes.
        let sum: i64 = hop.call("operator", "add", (2, 3), ()).await.unwrap();
        assert_eq!(sum, 5, "{what}");
        // And its child can be the same interpreter as itself.
        let same = within(
            "a context on the hop's interpreter",
            hop.local(LocalOptions::new().python(&python)),
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        let version: Value = same
            .eval("list(__import__('sys').version_info[:2])")
            .await
            .unwrap();
        assert_eq!(
            version,
            Value::List(vec![
                Value::Int(hop.facts().version.0.into()),
                Value::Int(hop.facts().version.1.into())
            ]),
            "{what}"
        );
        let pids = [leaf.pid(), same.pid(), hop.pid()];
        within("shutting the leaf down", leaf.shutdown()).await;
        wait_gone(pids[0]).await;
        within("shutting the hop down", hop.shutdown()).await;
        for pid in pids {
            wait_gone(pid).await;
        }
        assert!(
            same.end().is_some(),
            "{what}: its children end with the hop"
        );
        let text = recorder.text(OutputStream::Stdout);
        assert!(
            text.contains(&format!("leaf of {}\n", hop.id())),
            "{what}: {text}"
        );
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn calls_streams_and_large_values_cross_two_hops() {
    let broker = Broker::new();
    let first = start(&broker, system()).await;
    let second = child_of(&first).await;
    let leaf = child_of(&second).await;
    assert_eq!(leaf.via().unwrap().via().unwrap().id(), first.id());
    let ppid: u32 = leaf.call("os", "getppid", (), ()).await.unwrap();
    assert_eq!(ppid, second.pid());
    let ppid: u32 = second.call("os", "getppid", (), ()).await.unwrap();
    assert_eq!(ppid, first.pid());
    let big = vec![7u8; 5 << 20];
    let back: ByteBuf = leaf
        .call(
            "pyfleet_core.compat",
            "to_bytes",
            (ByteBuf::from(bytes::Bytes::from(big.clone())),),
            (),
        )
        .await
        .unwrap();
    assert_eq!(back.0, big);
    let mut stream = leaf
        .stream::<i64>("builtins", "range", (5,), ())
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(item) = within("a streamed item", stream.recv()).await.unwrap() {
        seen.push(item);
    }
    assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    let error = leaf.call::<Value>("operator", "truediv", (1, 0), ()).await;
    let remote = error.unwrap_err();
    assert!(
        remote
            .remote()
            .is_some_and(|r| r.type_name == "ZeroDivisionError"),
        "{remote}"
    );
    // Calls in flight on all three at once.
    let (a, b, c) = tokio::join!(
        first.call::<i64>("operator", "add", (1, 1), ()),
        second.call::<i64>("operator", "add", (2, 2), ()),
        leaf.call::<i64>("operator", "add", (3, 3), ()),
    );
    assert_eq!((a.unwrap(), b.unwrap(), c.unwrap()), (2, 4, 6));
    broker.shutdown().await;
    for ctx in [&first, &second, &leaf] {
        wait_gone(ctx.pid()).await;
    }
}

#[tokio::test]
async fn a_hop_killed_fails_everything_behind_it_naming_the_hop() {
    let broker = Broker::new();
    let hop = start(&broker, system()).await;
    let middle = child_of(&hop).await;
    let leaf = child_of(&middle).await;
    let sibling = child_of(&hop).await;
    let sleeping = {
        let leaf = leaf.clone();
        tokio::spawn(async move { leaf.call::<Value>("time", "sleep", (60,), ()).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The middle hop dies: what is behind it fails, naming it; the rest lives.
    let middle_pid = middle.pid();
    // SAFETY: kill(2) on a pid this test owns through its contexts.
    assert_eq!(unsafe { libc::kill(middle_pid as i32, libc::SIGKILL) }, 0);
    let error = within("the leaf's call to fail", sleeping)
        .await
        .unwrap()
        .unwrap_err();
    let CallError::ContextEnded(end) = &error else {
        panic!("{error}")
    };
    assert!(
        matches!(&end.reason, EndReason::HopEnded { hop, .. } if hop == middle.name()),
        "{end:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains(middle.name()) && text.contains("SIGKILL"),
        "{text}"
    );
    let middle_end = within("the middle hop's end", middle.wait_end()).await;
    assert!(text.contains(&middle_end.to_string()), "{text}");
    wait_gone(leaf.pid()).await;
    let sum: i64 = sibling.call("operator", "add", (1, 2), ()).await.unwrap();
    assert_eq!(sum, 3, "a sibling of the dead hop carries on");

    // The first hop dies too: its remaining child follows it, no orphan left.
    let sibling_pid = sibling.pid();
    hop.process().kill().unwrap();
    let end = within("the sibling's end", sibling.wait_end()).await;
    assert!(
        matches!(&end.reason, EndReason::HopEnded { hop: name, .. } if name == hop.name()),
        "{end:?}"
    );
    let late = sibling.call::<Value>("os", "getpid", (), ()).await;
    assert!(matches!(late, Err(CallError::ContextEnded(_))), "{late:?}");
    wait_gone(sibling_pid).await;
    assert!(!process_running(leaf.pid()));
    assert!(broker.contexts().is_empty(), "ended contexts are forgotten");
    broker.shutdown().await;
}

#[tokio::test]
async fn spoofed_sources_are_dropped_at_the_hop_and_counted() {
    let broker = Broker::new();
    let hop = start(&broker, system()).await;
    let leaf = child_of(&hop).await;
    let other = child_of(&hop).await;
    let output = "(1, b'spoofed\\n')";
    for src in [999, hop.id(), other.id(), 0] {
        leaf.exec(&raw_frame(0, src, 3, output)).await.unwrap();
    }
    eventually("four drops counted on the leaf", || {
        leaf.dropped_frames().0 == 4
    })
    .await;
    assert_eq!(other.dropped_frames(), (0, 0));
    assert_eq!(hop.dropped_frames(), (0, 0));
    // A direct child is checked by the master itself.
    hop.exec(&raw_frame(0, 777, 3, output)).await.unwrap();
    eventually("a drop counted on the hop", || hop.dropped_frames().0 == 1).await;
    let pid: u32 = leaf.call("os", "getpid", (), ()).await.unwrap();
    assert_eq!(pid, leaf.pid(), "the leaf still works");
    broker.shutdown().await;
}

#[tokio::test]
async fn a_child_reaches_neither_its_siblings_nor_its_parent() {
    let broker = Broker::new();
    let hop = start(&broker, system()).await;
    let leaf = child_of(&hop).await;
    let sibling = child_of(&hop).await;
    let dir = tempfile::tempdir().unwrap();
    let marker = |name: &str| dir.path().join(name).display().to_string();
    let call = |path: String| format!("('os', 'mkdir', ({path:?},), {{}})");
    let attempts = [
        (sibling.id(), leaf.id(), "sibling"),
        (hop.id(), leaf.id(), "parent"),
        (hop.id(), 0, "parent-as-master"),
        (sibling.id(), 0, "sibling-as-master"),
    ];
    for (dst, src, name) in attempts {
        leaf.exec(&raw_frame(dst, src, 1, &call(marker(name))))
            .await
            .unwrap();
    }
    // To the master, a CALL is an unexpected handle: dropped there.
    leaf.exec(&raw_frame(0, leaf.id(), 1, &call(marker("master"))))
        .await
        .unwrap();
    eventually("four refusals counted", || leaf.dropped_frames().0 == 4).await;
    eventually("the master's drop counted", || leaf.dropped_frames().1 == 1).await;
    // Calls after the attempts complete, so the attempts were handled before.
    for ctx in [&hop, &sibling, &leaf] {
        let _: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
    }
    for name in [
        "sibling",
        "parent",
        "parent-as-master",
        "sibling-as-master",
        "master",
    ] {
        assert!(!Path::new(&marker(name)).exists(), "{name} ran the call");
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn modules_are_fetched_once_per_hop() {
    let dir = tempfile::tempdir().unwrap();
    let site: PathBuf = demo_package::install_into(dir.path(), system());
    let server = ModuleServer::new().root(&site).unwrap();
    let broker = Broker::builder().modules(server.clone()).build();
    let isolated = || {
        LocalOptions::new()
            .python(system())
            .startup(StartupConfig::system())
    };
    let import = "import demo_pkg.api\ndemo_pkg.api.greet('x')";
    let greeting = Value::Str("HELLO X!".into());

    // What one context costs the master when it imports the package directly.
    let direct = within("a direct child", broker.local(isolated()))
        .await
        .unwrap();
    let before = server.requests_served();
    assert_eq!(
        direct.exec(import).await.unwrap().value,
        Some(greeting.clone())
    );
    let per_context = server.requests_served() - before;
    assert!(per_context >= 1);

    let hop = within("a hop", broker.local(isolated())).await.unwrap();
    let second = within("a second hop", hop.local(isolated())).await.unwrap();
    let before = server.requests_served();
    for _ in 0..3 {
        let ctx = within("a child of the second hop", second.local(isolated()))
            .await
            .unwrap();
        assert_eq!(
            ctx.exec(import).await.unwrap().value,
            Some(greeting.clone())
        );
        let file: String = ctx.eval("demo_pkg.api.__file__").await.unwrap();
        assert!(file.ends_with("demo_pkg/api.py"), "{file}");
    }
    let leaf = within("a child of the first hop", hop.local(isolated()))
        .await
        .unwrap();
    assert_eq!(
        leaf.exec(import).await.unwrap().value,
        Some(greeting.clone())
    );
    // The hops import it themselves from the cache they filled for their children.
    assert_eq!(
        hop.exec(import).await.unwrap().value,
        Some(greeting.clone())
    );
    assert_eq!(second.exec(import).await.unwrap().value, Some(greeting));
    assert_eq!(
        server.requests_served() - before,
        per_context,
        "five contexts behind the first hop cost the master what one direct child does"
    );
    // Package data is asked for through the hops too.
    let data: Vec<u8> = leaf.call("demo_pkg.api", "data", (), ()).await.unwrap();
    assert_eq!(data, b"hello from package data\n");
    broker.shutdown().await;
}

#[tokio::test]
async fn connecting_one_hop_further_costs_about_one_start() {
    let broker = Broker::new();
    let hop = start(&broker, system()).await;
    let options = || {
        LocalOptions::new()
            .python(system())
            .startup(StartupConfig::system())
    };
    let mut direct = Vec::new();
    let mut through = Vec::new();
    // The first start through the hop also makes it a parent: measured apart.
    let started = Instant::now();
    let first = within("the first child of the hop", hop.local(options()))
        .await
        .unwrap();
    let becoming = started.elapsed();
    for _ in 0..5 {
        let started = Instant::now();
        let ctx = within("a direct child", broker.local(options()))
            .await
            .unwrap();
        direct.push(started.elapsed());
        ctx.shutdown().await;
        let started = Instant::now();
        let ctx = within("a child of the hop", hop.local(options()))
            .await
            .unwrap();
        through.push(started.elapsed());
        let ping = Instant::now();
        let _: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
        let round_trip = ping.elapsed();
        eprintln!("call round trip through one hop: {round_trip:?}");
        ctx.shutdown().await;
    }
    direct.sort();
    through.sort();
    eprintln!(
        "connect direct: median {:?}; through one hop: median {:?}; first through the hop \
         (it becomes a parent): {becoming:?}",
        direct[2], through[2]
    );
    assert!(
        through[2] < direct[2] * 4 + Duration::from_millis(100),
        "through {through:?}, direct {direct:?}"
    );
    first.shutdown().await;
    broker.shutdown().await;
}

/// Open fds of process `pid`, by number.
fn fds_of(pid: u32) -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    fds.sort();
    fds
}

/// The blocked-signal mask of `pid`, from /proc.
fn blocked_signals(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("SigBlk:").map(|v| v.trim().to_string()))
        .unwrap()
}

#[tokio::test]
async fn a_hop_leaks_no_fds_to_or_after_its_children() {
    let broker = Broker::new();
    for python in interpreters::interpreters() {
        let what = python.display().to_string();
        let hop = start(&broker, &python).await;
        let direct = start(&broker, system()).await;
        // Becoming a parent opens the internal pipe once; measured after that.
        let first = child_of(&hop).await;
        first.shutdown().await;
        let baseline = fds_of(hop.pid());
        let mut children = Vec::new();
        for _ in 0..3 {
            children.push(child_of(&hop).await);
        }
        for child in &children {
            // A child has what a direct child has: nothing of the hop's.
            assert_eq!(fds_of(child.pid()), fds_of(direct.pid()), "{what}");
            // glibc blocks every signal for a moment while it creates a thread (the
            // child's watchdog): an inherited mask is one that stays.
            eventually(&format!("{what}: no signal blocked in the child"), || {
                blocked_signals(child.pid()) == "0000000000000000"
            })
            .await;
        }
        for child in &children {
            within("a child's shutdown", child.shutdown()).await;
        }
        eventually(
            &format!("{what}: the hop's fds back to {baseline:?}"),
            || fds_of(hop.pid()) == baseline,
        )
        .await;
        hop.shutdown().await;
        direct.shutdown().await;
    }
    broker.shutdown().await;
}

/// Set in the helper's environment: where to write the pids of its chain.
const CHAIN_PID_FILE_VAR: &str = "PYFLEET_MULTIHOP_ORPHAN_PIDS";

/// Does nothing in a normal run; is the master when the variable is set: it starts
/// a chain of three contexts (the two behind the first busy with calls), writes
/// their pids and waits to be SIGKILLed.
#[test]
fn orphan_chain_master_helper() {
    let Some(pid_file) = std::env::var_os(CHAIN_PID_FILE_VAR).map(PathBuf::from) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let broker = Broker::new();
        let first = start(&broker, system()).await;
        let second = child_of(&first).await;
        let leaf = child_of(&second).await;
        let idle_leaf = child_of(&second).await;
        for ctx in [&second, &leaf] {
            let ctx = ctx.clone();
            tokio::spawn(async move { ctx.call::<Value>("time", "sleep", (300,), ()).await });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let pids: Vec<String> = [&first, &second, &leaf, &idle_leaf]
            .iter()
            .map(|c| c.facts().pid.to_string())
            .collect();
        let temporary = pid_file.with_extension("partial");
        std::fs::write(&temporary, pids.join(" ")).unwrap();
        std::fs::rename(&temporary, &pid_file).unwrap();
        tokio::time::sleep(Duration::from_secs(120)).await;
    });
}

#[tokio::test]
async fn no_context_of_a_chain_survives_a_sigkilled_master() {
    context_util::no_context_outlives_a_sigkilled_master(
        "orphan_chain_master_helper",
        CHAIN_PID_FILE_VAR,
        4,
    )
    .await;
}

#[tokio::test]
async fn lifecycle_behind_a_hop_is_carried_out_by_the_hop() {
    let broker = Broker::new();
    let hop = start(&broker, system()).await;
    let leaf = child_of(&hop).await;
    let pid = leaf.pid();
    assert!(process_running(pid));
    // wait is bounded and leaves it running.
    let waited = leaf.wait(Duration::from_millis(200)).await.unwrap_err();
    assert!(waited.to_string().contains("still running"), "{waited}");
    // Signals cannot be sent from here: the pid is on the hop's side.
    let refused = leaf.send_sigterm().unwrap_err().to_string();
    assert!(refused.contains("behind a hop"), "{refused}");
    // kill: the hop sends SIGKILL and reports it; the hop itself carries on.
    let status = within("killing through the hop", leaf.kill())
        .await
        .unwrap();
    assert_eq!(
        status.signal_name().as_deref(),
        Some("SIGKILL"),
        "{status:?}"
    );
    wait_gone(pid).await;
    let hop_pid: u32 = hop.call("os", "getpid", (), ()).await.unwrap();
    assert_eq!(hop_pid, hop.pid());
    // terminate: asked politely, it ends by itself.
    let second = child_of(&hop).await;
    let status = within(
        "terminating through the hop",
        second.terminate(Duration::from_secs(2)),
    )
    .await
    .unwrap();
    assert!(
        matches!(status, pyfleet::spawn::ExitStatus::Code(0)),
        "{status:?}"
    );
    broker.shutdown().await;
}
