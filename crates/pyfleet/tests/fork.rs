//! Context::fork and the worker pool, on real interpreters.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::path::Path;
use std::time::{Duration, Instant};

use context_util::{Recorder, process_running, start, within};
use interpreters::SYSTEM_PYTHON;
use pyfleet::api::{Pool, PoolOptions};
use pyfleet::spawn::ExitStatus;
use pyfleet::{Broker, CallError, Executor, ForkError, LocalOptions, OutputStream};

const FUNCTIONS: &str = r#"
import os, time
state = {'loaded': u'in the template'}

def describe():
    return {'pid': os.getpid(), 'ppid': os.getppid(), 'state': state['loaded']}

def remember(value):
    state['loaded'] = value
    return value

def job(seconds, value):
    time.sleep(seconds)
    return (os.getpid(), value * 2)

def die_once(marker):
    if not os.path.exists(marker):
        open(marker, 'w').close()
        os.kill(os.getpid(), 9)
    return 'survived'
"#;

fn python() -> &'static Path {
    Path::new(SYSTEM_PYTHON)
}

#[tokio::test]
async fn a_fork_is_a_new_context_with_everything_imported_on_every_interpreter() {
    let broker = Broker::new();
    for python in interpreters::interpreters() {
        let parent = start(&broker, &python).await;
        parent.exec(FUNCTIONS).await.unwrap();
        let started = Instant::now();
        let copy = within("fork", parent.fork()).await.unwrap();
        let fork_time = started.elapsed();
        assert_ne!(copy.id(), parent.id());
        assert_ne!(copy.pid(), parent.pid());
        let facts: std::collections::HashMap<String, pyfleet::Value> =
            copy.call("__main__", "describe", (), ()).await.unwrap();
        assert_eq!(facts["pid"], pyfleet::Value::Int(copy.pid().into()));
        assert_eq!(facts["ppid"], pyfleet::Value::Int(parent.pid().into()));
        assert_eq!(
            facts["state"],
            pyfleet::Value::Str("in the template".into())
        );
        // The copy's memory is its own.
        let _: String = copy
            .call("__main__", "remember", ("in the copy",), ())
            .await
            .unwrap();
        let parent_state: String = parent.eval("state['loaded']").await.unwrap();
        assert_eq!(parent_state, "in the template");
        // Both keep serving, and the copy can fork again.
        let grandchild = within("fork of a fork", copy.fork()).await.unwrap();
        let state: String = grandchild.eval("state['loaded']").await.unwrap();
        assert_eq!(state, "in the copy");
        assert_eq!(
            parent.call::<u32>("os", "getpid", (), ()).await.unwrap(),
            parent.pid()
        );
        eprintln!("{}: fork in {fork_time:?}", python.display());
        grandchild.shutdown().await;
        copy.shutdown().await;
        parent.shutdown().await;
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn a_forked_context_reports_its_exit_and_can_be_killed() {
    let broker = Broker::new();
    let parent = start(&broker, python()).await;
    let copy = parent.fork().await.unwrap();
    copy.call_no_reply("os", "_exit", (5,), ()).await.unwrap();
    assert_eq!(
        within("the copy's exit", copy.wait(context_util::LIMIT))
            .await
            .unwrap(),
        ExitStatus::Code(5)
    );
    let end = within("the copy's end", copy.wait_end()).await;
    assert!(end.to_string().contains("exited with code 5"), "{end}");
    let second = parent.fork().await.unwrap();
    let pending = {
        let second = second.clone();
        tokio::spawn(async move {
            second
                .call::<pyfleet::Value>("time", "sleep", (60,), ())
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let status = within("kill", second.kill()).await.unwrap();
    assert_eq!(status.signal_name().as_deref(), Some("SIGKILL"));
    let error = within("the call", pending).await.unwrap().unwrap_err();
    assert!(error.to_string().contains("killed by SIGKILL"), "{error}");
    // The parent is unharmed.
    assert!(parent.is_alive());
    assert_eq!(
        parent.call::<u32>("os", "getpid", (), ()).await.unwrap(),
        parent.pid()
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn fork_is_refused_while_the_context_runs_threads_of_its_own() {
    let broker = Broker::new();
    for python in interpreters::interpreters() {
        let parent = start(&broker, &python).await;
        parent
            .exec(
                "import threading\nstop = threading.Event()\n\
                 worker = threading.Thread(target=stop.wait)\nworker.start()",
            )
            .await
            .unwrap();
        let error = within("fork", parent.fork()).await.unwrap_err();
        let ForkError::Refused { message, .. } = &error else {
            panic!("{error:?}")
        };
        assert!(
            message.contains("1 thread(s) besides the core's own"),
            "{message}"
        );
        assert!(error.to_string().contains(parent.name()), "{error}");
        parent.exec("stop.set()\nworker.join()").await.unwrap();
        let copy = within("fork after the thread ended", parent.fork())
            .await
            .unwrap();
        assert_eq!(
            copy.call::<u32>("os", "getpid", (), ()).await.unwrap(),
            copy.pid()
        );
        parent.shutdown().await;
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn fork_is_refused_on_a_threaded_executor() {
    let broker = Broker::new();
    let ctx = broker
        .local(
            LocalOptions::new()
                .python(python())
                .executor(Executor::Threads(2)),
        )
        .await
        .unwrap();
    let error = within("fork", ctx.fork()).await.unwrap_err();
    assert!(error.to_string().contains("serial executor"), "{error}");
    broker.shutdown().await;
}

#[tokio::test]
async fn a_forked_copy_prints_as_itself_and_the_broker_stops_it() {
    let recorder = Recorder::default();
    let broker = Broker::builder().on_output(recorder.handler()).build();
    let parent = start(&broker, python()).await;
    let copy = parent.fork().await.unwrap();
    copy.exec("print('hello from the copy')").await.unwrap();
    assert!(
        recorder
            .text(OutputStream::Stdout)
            .contains("hello from the copy")
    );
    // The parent going away leaves the copy running: it is a context of its own.
    parent.shutdown().await;
    assert_eq!(
        copy.call::<u32>("os", "getpid", (), ()).await.unwrap(),
        copy.pid()
    );
    let pid = copy.pid();
    within("shutdown", broker.shutdown()).await;
    within("the copy to exit", context_util::wait_gone(pid)).await;
    assert!(!process_running(pid));
    let error = copy.call::<u32>("os", "getpid", (), ()).await.unwrap_err();
    assert!(matches!(error, CallError::BrokerShutdown), "{error:?}");
}

#[tokio::test]
async fn a_pool_spreads_jobs_and_replaces_a_dead_worker() {
    let broker = Broker::new();
    let template = start(&broker, python()).await;
    template.exec(FUNCTIONS).await.unwrap();
    let pool = within("a pool", Pool::new(&template, 4)).await.unwrap();
    let started = Instant::now();
    let jobs: Vec<_> = (0..8)
        .map(|value| {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.call::<(u32, i64)>("__main__", "job", (0.3, value), ())
                    .await
            })
        })
        .collect();
    let mut pids = std::collections::HashSet::new();
    for (value, job) in jobs.into_iter().enumerate() {
        let (pid, doubled) = within("a job", job).await.unwrap().unwrap();
        assert_eq!(doubled, 2 * value as i64);
        pids.insert(pid);
    }
    // Eight 0.3 s jobs on four workers: two rounds, not eight.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(pids.len(), 4);

    // A worker killed under its job: the job fails with how, a new worker comes.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("died");
    let error = pool
        .call::<String>("__main__", "die_once", (marker.to_str().unwrap(),), ())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("killed by SIGKILL"), "{error}");
    assert_eq!(pool.replaced(), 1);
    assert_eq!(pool.workers().len(), 4);
    assert!(pool.workers().iter().all(|w| w.is_alive()));

    // With a retry, the same kind of job succeeds on the replacement.
    let retrying = Pool::with_options(&template, PoolOptions::new(2).retries(1))
        .await
        .unwrap();
    let marker = dir.path().join("died-again");
    let outcome: String = within(
        "a retried job",
        retrying.call("__main__", "die_once", (marker.to_str().unwrap(),), ()),
    )
    .await
    .unwrap();
    assert_eq!(outcome, "survived");
    assert_eq!(retrying.replaced(), 1);
    pool.shutdown().await;
    retrying.shutdown().await;
    broker.shutdown().await;
}

#[tokio::test]
async fn a_context_started_through_a_hop_cannot_fork() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("note: skipping: chroot needs root");
        return;
    }
    let broker = Broker::new();
    let ctx = within(
        "a context through chroot",
        broker.connect(pyfleet::ChrootOptions::new("/").python(SYSTEM_PYTHON)),
    )
    .await
    .unwrap();
    let error = ctx.fork().await.unwrap_err();
    assert!(matches!(error, ForkError::NotLocal { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("only local contexts") && text.contains(ctx.name()),
        "{text}"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn a_pool_whose_template_is_gone_fails_jobs_instead_of_hanging() {
    let broker = Broker::new();
    let template = start(&broker, python()).await;
    let pool = Pool::new(&template, 1).await.unwrap();
    template.shutdown().await;
    let worker = pool.workers()[0].clone();
    let pending = {
        let pool = pool.clone();
        tokio::spawn(async move {
            pool.call::<pyfleet::Value>("time", "sleep", (60,), ())
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Its parent (the template) is gone, so nobody can report how it ended; the
    // master still learns (through its pidfd) that it did.
    let status = worker.kill().await.unwrap();
    assert_eq!(status, pyfleet::spawn::ExitStatus::Unreported);
    let error = within("the job", pending).await.unwrap().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("its exit status went to its parent process"),
        "{error}"
    );
    // No replacement could be forked: the next job fails at once.
    let error = within(
        "a job with no workers",
        pool.call::<u32>("os", "getpid", (), ()),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("was shut down"), "{error}");
    broker.shutdown().await;
}
