//! Modules the child does not have, served by the master: from a directory root, a
//! zip root and a local interpreter's own imports.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/demo_package.rs"]
mod demo_package;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::path::{Path, PathBuf};

use context_util::{Recorder, within};
use interpreters::SYSTEM_PYTHON;
use pyfleet::{Broker, Context, LocalOptions, ModuleServer, OutputStream, StartupConfig, Value};

/// A child that cannot see the demo package: isolated, so neither PYTHONPATH nor
/// the directory the package was installed in is on its sys.path.
async fn isolated_child(broker: &Broker, python: &Path) -> Context {
    let options = LocalOptions::new()
        .python(python)
        .startup(StartupConfig::system());
    within("an isolated child", broker.local(options))
        .await
        .unwrap()
}

fn installed() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = demo_package::install_into(dir.path(), Path::new(SYSTEM_PYTHON));
    (dir, site)
}

#[tokio::test]
async fn a_package_the_child_lacks_is_imported_from_a_root_on_every_interpreter() {
    let (_dir, site) = installed();
    let broker = Broker::builder()
        .modules(ModuleServer::new().root(&site).unwrap())
        .build();
    for python in interpreters::interpreters() {
        let ctx = isolated_child(&broker, &python).await;
        let missing = ctx.exec("import demo_pkg").await;
        assert!(missing.is_ok(), "{}: {missing:?}", python.display());
        let greeting: String = ctx
            .call("demo_pkg.api", "greet", ("world",), ())
            .await
            .unwrap();
        assert_eq!(greeting, "HELLO WORLD!", "{}", python.display());
        let data: Vec<u8> = ctx.call("demo_pkg.api", "data", (), ()).await.unwrap();
        assert_eq!(data, b"hello from package data\n");
        let file: String = ctx
            .eval("__import__('demo_pkg.helpers').helpers.__file__")
            .await
            .unwrap();
        assert_eq!(
            Path::new(&file),
            site.canonicalize().unwrap().join("demo_pkg/helpers.py")
        );
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn tracebacks_name_the_served_file_and_line() {
    let (_dir, site) = installed();
    let broker = Broker::builder()
        .modules(ModuleServer::new().root(&site).unwrap())
        .build();
    let ctx = isolated_child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let error = ctx
        .call::<Value>("demo_pkg.api", "fail", (), ())
        .await
        .unwrap_err();
    let remote = error.remote().unwrap();
    let file = site.canonicalize().unwrap().join("demo_pkg/api.py");
    let expected = format!(
        "File \"{}\", line {}, in fail",
        file.display(),
        demo_package::RAISE_LINE
    );
    assert!(remote.traceback.contains(&expected), "{}", remote.traceback);
    assert!(
        remote
            .traceback
            .contains("raise ValueError('raised from a served module: ' + value)"),
        "{}",
        remote.traceback
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn a_whole_package_costs_one_round_trip() {
    let (_dir, site) = installed();
    let server = ModuleServer::new().root(&site).unwrap();
    let broker = Broker::builder().modules(server.clone()).build();
    let ctx = isolated_child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let before = server.requests_served();
    let total: i64 = ctx
        .eval("__import__('demo_pkg.many').many.TOTAL")
        .await
        .unwrap();
    assert_eq!(total, (0..20).sum::<i64>());
    // demo_pkg, then demo_pkg.many, whose 20 modules came along with it.
    assert_eq!(server.requests_served() - before, 2);
    let loaded: i64 = ctx
        .call("demo_pkg.api", "count_modules", (), ())
        .await
        .unwrap();
    assert!(loaded >= 22, "{loaded}");
    broker.shutdown().await;
}

#[tokio::test]
async fn a_zip_root_serves_like_a_directory() {
    let (dir, site) = installed();
    let zip = dir.path().join("demo.zip");
    let status = std::process::Command::new(SYSTEM_PYTHON)
        .args([
            "-c",
            "import shutil, sys; shutil.make_archive(sys.argv[1][:-4], 'zip', sys.argv[2])",
        ])
        .arg(&zip)
        .arg(&site)
        .status()
        .unwrap();
    assert!(status.success());
    let broker = Broker::builder()
        .modules(ModuleServer::new().root(&zip).unwrap())
        .build();
    let ctx = isolated_child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let greeting: String = ctx
        .call("demo_pkg.api", "greet", ("zip",), ())
        .await
        .unwrap();
    assert_eq!(greeting, "HELLO ZIP!");
    let data: Vec<u8> = ctx.call("demo_pkg.api", "data", (), ()).await.unwrap();
    assert_eq!(data, b"hello from package data\n");
    let file: String = ctx
        .eval("__import__('demo_pkg.api').api.__file__")
        .await
        .unwrap();
    assert_eq!(
        file,
        format!("{}/demo_pkg/api.py", zip.canonicalize().unwrap().display())
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn whatever_a_local_interpreter_can_import_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let venv_python = demo_package::venv_with_package(dir.path(), Path::new(SYSTEM_PYTHON));
    let broker = Broker::builder()
        .modules(ModuleServer::new().from_python(&venv_python))
        .build();
    let ctx = isolated_child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let greeting: String = ctx
        .call("demo_pkg.api", "greet", ("venv",), ())
        .await
        .unwrap();
    assert_eq!(greeting, "HELLO VENV!");
    let data: Vec<u8> = ctx.call("demo_pkg.api", "data", (), ()).await.unwrap();
    assert_eq!(data, b"hello from package data\n");
    // The venv's standard library is never sent: the child's own json is used.
    let json_file: String = ctx.eval("__import__('json').__file__").await.unwrap();
    assert!(json_file.starts_with("/usr/lib/python3.11/"), "{json_file}");
    broker.shutdown().await;
}

#[tokio::test]
async fn refusals_are_clear_and_nothing_outside_the_roots_is_read() {
    let (_dir, site) = installed();
    std::fs::write(
        site.join("fastmath.cpython-311-x86_64-linux-gnu.so"),
        b"\x7fELF not really",
    )
    .unwrap();
    std::fs::write(
        site.join("json.py"),
        "raise RuntimeError('the master must not serve the stdlib')\n",
    )
    .unwrap();
    let broker = Broker::builder()
        .modules(ModuleServer::new().root(&site).unwrap())
        .build();
    let ctx = isolated_child(&broker, Path::new(SYSTEM_PYTHON)).await;

    let error = ctx
        .exec("import no_such_module_anywhere")
        .await
        .unwrap_err();
    let remote = error.remote().unwrap();
    assert_eq!(remote.type_name, "ModuleNotFoundError", "{remote:?}");

    let error = ctx.exec("import fastmath").await.unwrap_err();
    let remote = error.remote().unwrap();
    assert!(remote.type_name.ends_with("ImportError"), "{remote:?}");
    assert!(
        remote.message.contains("fastmath is a native extension"),
        "{}",
        remote.message
    );

    let json_file: String = ctx.eval("__import__('json').__file__").await.unwrap();
    assert!(json_file.starts_with("/usr/lib/python3.11/"), "{json_file}");

    for name in [
        "../../etc/passwd",
        "/etc/passwd",
        "demo_pkg/../../x",
        "__main__",
        "",
    ] {
        let source = format!("import pyfleet_core\npyfleet_core.connection.request(6, {name:?})\n");
        let error = ctx.exec(&source).await.unwrap_err();
        let message = &error.remote().unwrap().message;
        assert!(
            message.contains("invalid module name") || message.contains("__main__ is never sent"),
            "{name}: {message}"
        );
    }
    for path in [
        "/etc/passwd".to_string(),
        format!("{}/../../etc/passwd", site.display()),
        "/proc/self/environ".to_string(),
    ] {
        let source = format!("import pyfleet_core\npyfleet_core.connection.request(7, {path:?})\n");
        let error = ctx.exec(&source).await.unwrap_err();
        let message = &error.remote().unwrap().message;
        assert!(
            message.contains("is not a file in a served package or module root"),
            "{path}: {message}"
        );
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn a_symbolic_link_out_of_a_root_is_refused() {
    let (dir, site) = installed();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("secret.py"),
        "TOKEN = 'must not leave the master'\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.join("secret.py"), site.join("escape.py")).unwrap();
    let broker = Broker::builder()
        .modules(ModuleServer::new().root(&site).unwrap())
        .build();
    let ctx = isolated_child(&broker, Path::new(SYSTEM_PYTHON)).await;
    let error = ctx.exec("import escape").await.unwrap_err();
    assert!(
        error
            .remote()
            .unwrap()
            .message
            .contains("outside the module roots"),
        "{error}"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn logs_and_prints_arrive_in_order_with_levels_and_the_context_name() {
    for python in interpreters::interpreters() {
        let recorder = Recorder::default();
        let levels = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = levels.clone();
        let record = recorder.handler();
        let handler: pyfleet::OutputHandler =
            std::sync::Arc::new(move |event: pyfleet::OutputEvent<'_>| {
                assert_eq!(event.context, "worker");
                if let Some(log) = event.log {
                    seen.lock()
                        .unwrap()
                        .push((log.level, log.logger.to_string()));
                }
                record(event);
            });
        let broker = Broker::builder().on_output(handler).build();
        let options = LocalOptions::new().python(&python).name("worker");
        let ctx = within("a context", broker.local(options)).await.unwrap();
        let code = "import logging\nprint('one')\nlogging.getLogger('app.db').warning('two %s', 2)\nprint('three')\nlogging.basicConfig(level=logging.DEBUG, format='%(levelname)s|%(message)s')\nlogging.getLogger('app').debug('four')\nprint('five')\n";
        ctx.exec(code).await.unwrap();
        let events = recorder.events();
        let texts: Vec<(OutputStream, String)> = events
            .into_iter()
            .map(|(s, t)| (s, t.trim_end().to_string()))
            .collect();
        assert_eq!(
            texts,
            vec![
                (OutputStream::Stdout, "one".to_string()),
                (OutputStream::Log, "two 2".to_string()),
                (OutputStream::Stdout, "three".to_string()),
                (OutputStream::Log, "DEBUG|four".to_string()),
                (OutputStream::Stdout, "five".to_string()),
            ],
            "{}",
            python.display()
        );
        assert_eq!(
            *levels.lock().unwrap(),
            vec![(30, "app.db".to_string()), (10, "app".to_string())]
        );
        broker.shutdown().await;
    }
}
