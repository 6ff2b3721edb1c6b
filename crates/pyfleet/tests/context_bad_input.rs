//! Bad input at every stage gets a clear error, loses nothing, and hangs nothing.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use context_util::{Recorder, process_running, start, within};
use interpreters::SYSTEM_PYTHON;
use pyfleet::spawn::SpawnError;
use pyfleet::{
    BootStage, Broker, ConnectError, EndReason, LocalOptions, OutputStream, Value, messages,
};

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

async fn connect_error(broker: &Broker, options: LocalOptions) -> ConnectError {
    match within("the connection attempt", broker.local(options)).await {
        Ok(ctx) => panic!("{} started, but should not have", ctx.name()),
        Err(error) => error,
    }
}

#[tokio::test]
async fn a_missing_interpreter_is_named() {
    let broker = Broker::new();
    let error = connect_error(&broker, LocalOptions::new().python("/nonexistent/python9")).await;
    assert!(
        matches!(
            error,
            ConnectError::Spawn(SpawnError::InterpreterNotFound { .. })
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains(messages::INTERPRETER_NOT_FOUND) && text.contains("/nonexistent/python9"),
        "{text}"
    );
    let error = connect_error(
        &broker,
        LocalOptions::new().python("no-such-python-on-path"),
    )
    .await;
    assert!(
        error.to_string().contains("no-such-python-on-path"),
        "{error}"
    );
}

#[tokio::test]
async fn programs_that_are_not_python_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::new();

    let error = connect_error(&broker, LocalOptions::new().python("/bin/true")).await;
    let ConnectError::Bootstrap { stage, status, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*stage, BootStage::Loader);
    assert_eq!(status.map(|s| s.success()), Some(true));
    let text = error.to_string();
    assert!(
        text.contains("/bin/true exited with code 0 before the pyfleet loader started"),
        "{text}"
    );
    assert!(text.contains("is it a Python interpreter"), "{text}");

    let noisy = script(
        dir.path(),
        "noisy",
        "#!/bin/sh\necho 'this is not python' >&2\necho 'some stdout'\nexit 4\n",
    );
    let error = connect_error(&broker, LocalOptions::new().python(&noisy)).await;
    let text = error.to_string();
    assert!(text.contains("exited with code 4"), "{text}");
    assert!(
        text.contains("this is not python"),
        "stderr is quoted: {text}"
    );
    assert!(text.contains("some stdout"), "stdout is quoted: {text}");

    let error = connect_error(&broker, LocalOptions::new().python(dir.path())).await;
    assert!(
        matches!(error, ConnectError::Spawn(SpawnError::NotExecutable { .. })),
        "{error:?}"
    );

    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, "not a program").unwrap();
    let error = connect_error(&broker, LocalOptions::new().python(&plain)).await;
    assert!(
        matches!(error, ConnectError::Spawn(SpawnError::NotExecutable { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_loader_failure_shows_the_python_traceback() {
    let dir = tempfile::tempdir().unwrap();
    // Replaces stdin with /dev/null, so the loader sees end of stream before the core.
    let starved = script(
        dir.path(),
        "starved",
        &format!("#!/bin/sh\nexec {SYSTEM_PYTHON} \"$@\" </dev/null\n"),
    );
    let broker = Broker::new();
    let error = connect_error(&broker, LocalOptions::new().python(&starved)).await;
    let ConnectError::Bootstrap { stage, .. } = &error else {
        panic!("{error:?}")
    };
    // The loader announced itself, then could not read the core.
    assert_eq!(*stage, BootStage::Core);
    let text = error.to_string();
    assert!(
        text.contains("exited with code 1 while the pyfleet loader was starting the core"),
        "{text}"
    );
    assert!(
        text.contains("stdin closed during bootstrap"),
        "the loader's own message: {text}"
    );
}

#[tokio::test]
async fn garbage_before_the_marker_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let banner = script(
        dir.path(),
        "banner",
        &format!(
            "#!/bin/sh\necho 'Welcome! Last login: PFR PFC [sudo] password for nobody:'\nprintf 'no newline\\x00\\xff'\nexec {SYSTEM_PYTHON} \"$@\"\n"
        ),
    );
    let broker = Broker::new();
    let ctx = start(&broker, &banner).await;
    let pid: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
    assert_eq!(pid, ctx.pid());
    broker.shutdown().await;
}

#[tokio::test]
async fn a_child_that_hangs_during_bootstrap_times_out_and_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let hang = script(
        dir.path(),
        "hang",
        "#!/bin/sh\necho 'starting up' >&2\nexec sleep 60\n",
    );
    let broker = Broker::new();
    let started = Instant::now();
    let options = LocalOptions::new()
        .python(&hang)
        .connect_timeout(Duration::from_millis(500));
    let error = connect_error(&broker, options).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let ConnectError::Timeout { stage, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*stage, BootStage::Loader);
    let text = error.to_string();
    assert!(
        text.contains("did not finish starting within 0.5s") && text.contains("starting up"),
        "{text}"
    );
    // The process was killed, not left behind.
    let output = std::process::Command::new("pgrep")
        .args(["-f", &hang.to_string_lossy()])
        .output()
        .unwrap();
    assert!(
        output.stdout.is_empty(),
        "left running: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[tokio::test]
async fn garbage_frames_fail_the_context_not_the_broker() {
    let broker = Broker::new();
    let healthy = start(&broker, Path::new(SYSTEM_PYTHON)).await;
    for (label, code) in [
        (
            "garbage",
            "import os, pyfleet_core\nos.write(pyfleet_core.connection.wfd, b'this is not a frame at all, not even close')\n",
        ),
        (
            "truncated",
            "import os, struct, pyfleet_core\nc = pyfleet_core.connection\nos.write(c.wfd, struct.pack('<HBBIIIIII', 0x4650, 1, 0, 0, c.context_id, c.context_id, 3, 0, 100) + b'partial')\nos._exit(0)\n",
        ),
        (
            "oversized",
            "import os, struct, pyfleet_core\nc = pyfleet_core.connection\nos.write(c.wfd, struct.pack('<HBBIIIIII', 0x4650, 1, 0, 0, c.context_id, c.context_id, 3, 0, 0xffffffff))\n",
        ),
    ] {
        let ctx = start(&broker, Path::new(SYSTEM_PYTHON)).await;
        let pending = {
            let ctx = ctx.clone();
            tokio::spawn(async move { ctx.call::<Value>("time", "sleep", (60,), ()).await })
        };
        ctx.call_no_reply("pyfleet_core.execution", "run", (code,), ())
            .await
            .unwrap();
        let error = within("the pending call to fail", pending)
            .await
            .unwrap()
            .unwrap_err();
        let end = ctx.wait_end().await;
        assert!(
            matches!(end.reason, EndReason::ProtocolViolation { .. }),
            "{label}: {end}"
        );
        let text = error.to_string();
        assert!(
            text.contains(messages::PROTOCOL_VIOLATION),
            "{label}: {text}"
        );
        match label {
            "garbage" => assert!(text.contains("not speaking the pyfleet protocol"), "{text}"),
            "truncated" => assert!(text.contains("ended inside a frame"), "{text}"),
            _ => assert!(text.contains(messages::MESSAGE_TOO_LARGE), "{text}"),
        }
        assert!(
            !process_running(ctx.pid()),
            "{label}: the offending child was stopped"
        );
        let pid: u32 = healthy.call("os", "getpid", (), ()).await.unwrap();
        assert_eq!(pid, healthy.pid(), "the broker and other contexts carry on");
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn spoofed_and_unexpected_frames_are_dropped_and_counted() {
    let recorder = Recorder::default();
    let broker = Broker::builder().on_output(recorder.handler()).build();
    let ctx = start(&broker, Path::new(SYSTEM_PYTHON)).await;
    // A frame claiming another source, one for a reply nobody waits on, and one to an
    // unknown handle: all dropped, none delivered, the context keeps working.
    let spoof = "import pyfleet_core\nc = pyfleet_core.connection\nown = c.context_id\nc.context_id = 999\ntry:\n    c.send_value(0, 3, (1, b'spoof\\n'))\nfinally:\n    c.context_id = own\n";
    ctx.exec(spoof).await.unwrap();
    ctx.exec("import pyfleet_core\npyfleet_core.connection.send_value(0, 5000, 'late reply')\npyfleet_core.connection.send_value(0, 77, 'unknown')\n")
        .await
        .unwrap();
    let _: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
    assert_eq!(ctx.dropped_frames(), (1, 2));
    assert!(!recorder.text(OutputStream::Stdout).contains("spoof"));
    broker.shutdown().await;
}

#[tokio::test]
async fn a_child_can_only_fetch_core_modules_by_their_exact_name() {
    let broker = Broker::new();
    let ctx = start(&broker, Path::new(SYSTEM_PYTHON)).await;
    for name in [
        "no_such_module",
        "../../../etc/passwd",
        "/etc/passwd",
        "wire",
        "",
    ] {
        let source = format!("import pyfleet_core\npyfleet_core.connection.request(5, {name:?})\n");
        let error = ctx.exec(&source).await.unwrap_err();
        let remote = error.remote().unwrap_or_else(|| panic!("{name}: {error}"));
        assert!(
            remote.type_name.ends_with("RequestFailed"),
            "{name}: {remote:?}"
        );
        assert!(
            remote.message.contains("no on-demand core module named"),
            "{name}: {remote:?}"
        );
    }
    // Modules that are shipped on demand arrive when first used.
    let outcome = ctx
        .exec("import pyfleet_core\npyfleet_core.load('convert').MAX_DEPTH")
        .await
        .unwrap();
    assert_eq!(outcome.value, Some(Value::Int(200)));
    broker.shutdown().await;
}
