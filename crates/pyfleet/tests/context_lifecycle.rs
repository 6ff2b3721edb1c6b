//! How contexts end: killed mid-call, exiting, shut down, dropped, orphaned.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use context_util::{process_running, start, wait_gone, within};
use interpreters::SYSTEM_PYTHON;
use pyfleet::spawn::ExitStatus;
use pyfleet::{Broker, CallError, EndReason, LocalOptions, Value, messages};

fn python() -> &'static Path {
    Path::new(SYSTEM_PYTHON)
}

#[tokio::test]
async fn sigkill_mid_call_fails_the_call_with_the_signal_name() {
    let broker = Broker::new();
    for python in interpreters::interpreters() {
        let ctx = start(&broker, &python).await;
        let sleeper = {
            let ctx = ctx.clone();
            tokio::spawn(async move { ctx.call::<Value>("time", "sleep", (60,), ()).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        ctx.process().kill().unwrap();
        let error = within("the pending call to fail", sleeper)
            .await
            .unwrap()
            .unwrap_err();
        let CallError::ContextEnded(end) = &error else {
            panic!("{error}")
        };
        assert_eq!(
            end.exit_status(),
            Some(ExitStatus::Signal {
                signal: libc::SIGKILL,
                core_dumped: false
            })
        );
        let text = error.to_string();
        assert!(
            text.contains("killed by SIGKILL") && text.contains(ctx.name()),
            "{text}"
        );
        // Later calls fail at once with the same story.
        let later = ctx.call::<u32>("os", "getpid", (), ()).await.unwrap_err();
        assert!(later.to_string().contains("killed by SIGKILL"), "{later}");
        assert!(!ctx.is_alive());
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn an_exit_mid_call_reports_the_exit_code() {
    let broker = Broker::new();
    let ctx = start(&broker, python()).await;
    let error = within("os._exit", ctx.call::<Value>("os", "_exit", (7,), ()))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("exited with code 7"), "{error}");
    let end = ctx.wait_end().await;
    assert_eq!(end.reason, EndReason::Exited(ExitStatus::Code(7)));
    broker.shutdown().await;
}

#[tokio::test]
async fn broker_shutdown_fails_pending_calls_with_the_canonical_message() {
    let broker = Broker::builder()
        .shutdown_grace(Duration::from_millis(500))
        .build();
    let ctx = start(&broker, python()).await;
    let idle = start(&broker, python()).await;
    let pending = {
        let ctx = ctx.clone();
        tokio::spawn(async move { ctx.call::<Value>("time", "sleep", (60,), ()).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    within("shutdown", broker.shutdown()).await;
    let error = within("the pending call", pending)
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(error, CallError::BrokerShutdown), "{error:?}");
    assert_eq!(error.to_string(), messages::BROKER_SHUTDOWN);
    assert!(!process_running(ctx.pid()) && !process_running(idle.pid()));
    // The busy child noticed its parent was gone by itself (its watchdog), well
    // before the broker had to escalate to signals.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let after = ctx.call::<u32>("os", "getpid", (), ()).await.unwrap_err();
    assert_eq!(after.to_string(), messages::BROKER_SHUTDOWN);
    assert!(matches!(
        broker.local(LocalOptions::new().python(python())).await,
        Err(pyfleet::ConnectError::BrokerShutdown)
    ));
}

#[tokio::test]
async fn shutdown_escalates_to_signals_for_a_child_that_will_not_exit() {
    let broker = Broker::builder()
        .shutdown_grace(Duration::from_millis(300))
        .build();
    let ctx = start(&broker, python()).await;
    // Ignore SIGTERM and keep running when stdin closes.
    ctx.exec("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)")
        .await
        .unwrap();
    let pending = {
        let ctx = ctx.clone();
        tokio::spawn(async move { ctx.call::<Value>("time", "sleep", (60,), ()).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    within("shutdown", broker.shutdown()).await;
    assert!(within("the call", pending).await.unwrap().is_err());
    assert!(!process_running(ctx.pid()));
    let status = ctx.process().try_status().expect("reaped");
    assert!(!status.success(), "{status}");
}

#[tokio::test]
async fn shutting_down_one_context_leaves_the_others_running() {
    let broker = Broker::new();
    let first = start(&broker, python()).await;
    let second = start(&broker, python()).await;
    within("shutdown", first.shutdown()).await;
    assert!(!first.is_alive());
    assert_eq!(first.end().unwrap().reason, EndReason::Shutdown);
    // Asked by end of stream, the core exits on its own: no signal was needed.
    assert_eq!(first.process().try_status(), Some(ExitStatus::Code(0)));
    let error = first.call::<u32>("os", "getpid", (), ()).await.unwrap_err();
    assert!(error.to_string().contains("was shut down"), "{error}");
    let pid: u32 = second.call("os", "getpid", (), ()).await.unwrap();
    assert_eq!(pid, second.pid());
    assert_eq!(broker.contexts().len(), 1);
    broker.shutdown().await;
}

#[tokio::test]
async fn dropping_the_broker_stops_its_children() {
    let broker = Broker::builder()
        .shutdown_grace(Duration::from_millis(300))
        .build();
    let ctx = start(&broker, python()).await;
    let pid = ctx.pid();
    drop(broker);
    within("the child to exit", wait_gone(pid)).await;
    let error = ctx.call::<u32>("os", "getpid", (), ()).await.unwrap_err();
    assert_eq!(error.to_string(), messages::BROKER_SHUTDOWN);
}

#[test]
fn the_blocking_wrapper_calls_and_shuts_down() {
    let broker = pyfleet::blocking::Broker::new().unwrap();
    let ctx = broker.local(LocalOptions::new().python(python())).unwrap();
    let pid: u32 = ctx.call("os", "getpid", (), ()).unwrap();
    assert_eq!(pid, ctx.pid());
    assert_eq!(ctx.exec("6 * 7").unwrap().value, Some(Value::Int(42)));
    drop(broker);
    let start = Instant::now();
    while process_running(pid) {
        assert!(
            start.elapsed() < context_util::LIMIT,
            "child {pid} survived the blocking broker"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Set in the helper's environment: where to write the pids of its children.
const PID_FILE_VAR: &str = "PYFLEET_CONTEXT_ORPHAN_PIDS";

/// Does nothing in a normal run; is the master when the variable is set: it starts
/// three contexts (one busy with a call, one idle, one behind a shell that forks
/// instead of exec'ing, so only the core's own watchdog can notice the master's
/// death), writes their Python pids and waits to be SIGKILLed.
#[test]
fn orphan_master_helper() {
    let Some(pid_file) = std::env::var_os(PID_FILE_VAR).map(PathBuf::from) else {
        return;
    };
    let wrapper = pid_file.with_file_name("forking-python");
    std::fs::write(&wrapper, format!("#!/bin/sh\n{SYSTEM_PYTHON} \"$@\"\n")).unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let broker = Broker::new();
        let busy = start(&broker, python()).await;
        let idle = start(&broker, python()).await;
        let behind_shell = start(&broker, &wrapper).await;
        for ctx in [&busy, &behind_shell] {
            let ctx = ctx.clone();
            tokio::spawn(async move { ctx.call::<Value>("time", "sleep", (300,), ()).await });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let pids: Vec<String> = [&busy, &idle, &behind_shell]
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
async fn no_python_survives_a_sigkilled_master() {
    context_util::no_context_outlives_a_sigkilled_master("orphan_master_helper", PID_FILE_VAR, 3)
        .await;
}

#[tokio::test]
async fn wait_reports_the_exit_code_and_times_out_on_a_live_context() {
    let broker = Broker::new();
    let ctx = start(&broker, python()).await;
    let error = ctx.wait(Duration::from_millis(200)).await.unwrap_err();
    assert!(
        matches!(error, pyfleet::LifecycleError::Timeout { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains(ctx.name()) && text.contains("still running after 0.2s"),
        "{text}"
    );
    assert!(ctx.is_alive());
    ctx.call_no_reply("os", "_exit", (3,), ()).await.unwrap();
    let status = within("wait", ctx.wait(context_util::LIMIT)).await.unwrap();
    assert_eq!(status, ExitStatus::Code(3));
    assert_eq!(status.signal_name(), None);
    assert!(!ctx.is_alive());
    broker.shutdown().await;
}

#[tokio::test]
async fn kill_reports_sigkill_by_name_and_is_alive_turns_false_at_once() {
    let broker = Broker::new();
    for python in interpreters::interpreters() {
        let ctx = start(&broker, &python).await;
        let pending = {
            let ctx = ctx.clone();
            tokio::spawn(async move { ctx.call::<Value>("time", "sleep", (60,), ()).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let status = within("kill", ctx.kill()).await.unwrap();
        assert!(!ctx.is_alive());
        assert_eq!(status.signal_name().as_deref(), Some("SIGKILL"));
        let error = within("the call", pending).await.unwrap().unwrap_err();
        assert!(error.to_string().contains("killed by SIGKILL"), "{error}");
        // Killing or waiting again is harmless and says the same.
        assert_eq!(ctx.kill().await.unwrap(), status);
        assert_eq!(ctx.wait(Duration::ZERO).await.unwrap(), status);
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn terminate_asks_first_and_an_idle_core_exits_cleanly() {
    let broker = Broker::new();
    let ctx = start(&broker, python()).await;
    let started = Instant::now();
    let status = within("terminate", ctx.terminate(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(status, ExitStatus::Code(0));
    // Closing its input was enough: no grace period was sat out.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!ctx.is_alive());
    let error = ctx.call::<u32>("os", "getpid", (), ()).await.unwrap_err();
    assert!(error.to_string().contains("was shut down"), "{error}");
    broker.shutdown().await;
}

#[tokio::test]
async fn terminate_is_bounded_for_a_child_that_ignores_everything() {
    let broker = Broker::new();
    let ctx = start(&broker, python()).await;
    // SIGTERM ignored, and a call that never returns: only SIGKILL can end it.
    ctx.exec("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)")
        .await
        .unwrap();
    let pending = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            ctx.exec("while True:\n    try:\n        import time; time.sleep(60)\n    except BaseException:\n        pass")
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let grace = Duration::from_millis(300);
    let started = Instant::now();
    let status = within("terminate", ctx.terminate(grace)).await.unwrap();
    assert!(
        started.elapsed() < 2 * grace + pyfleet::api::KILL_WAIT,
        "{:?}",
        started.elapsed()
    );
    assert!(!status.success(), "{status}");
    assert!(!process_running(ctx.pid()));
    let error = within("the call", pending).await.unwrap().unwrap_err();
    assert!(error.to_string().contains("was shut down"), "{error}");
    broker.shutdown().await;
}

#[tokio::test]
async fn sigterm_ends_a_busy_context_with_the_signal_name() {
    let broker = Broker::new();
    let ctx = start(&broker, python()).await;
    let pending = {
        let ctx = ctx.clone();
        tokio::spawn(async move { ctx.call::<Value>("time", "sleep", (60,), ()).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    ctx.send_sigterm().unwrap();
    let status = within("wait", ctx.wait(context_util::LIMIT)).await.unwrap();
    assert_eq!(status.signal_name().as_deref(), Some("SIGTERM"), "{status}");
    let error = within("the call", pending).await.unwrap().unwrap_err();
    assert!(error.to_string().contains("killed by SIGTERM"), "{error}");
    broker.shutdown().await;
}
