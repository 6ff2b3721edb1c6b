//! The launcher runs the app faithfully: argv through, the app's exit status and
//! signals, the interpreter override, the recorded constraint.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use support::*;

#[test]
fn arguments_pass_through_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_with_main(
        dir.path(),
        "import sys\nsys.stdout.write(repr(sys.argv[1:]))\n",
    );
    let mut command = command(&pack, dir.path());
    command.args(["plain", "with space", "", "--flag=1", "-c", "ünï"]);
    let output = run(command);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "['plain', 'with space', '', '--flag=1', '-c', 'ünï']"
    );
}

#[test]
fn a_very_long_command_line_arrives_whole() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_with_main(
        dir.path(),
        "import sys, zlib\nargs = sys.argv[1:]\n\
         sys.stdout.write('%d %d' % (len(args), zlib.crc32('\\0'.join(args).encode())))\n",
    );
    // 1 MiB of arguments (Linux allows 2 MiB with an 8 MiB stack), and one
    // argument of 100 KiB (the limit for one is 128 KiB).
    let mut args: Vec<String> = (0..20_000).map(|i| format!("{i:0>48}-x")).collect();
    args.push("y".repeat(100 * 1024));
    let mut command = command(&pack, dir.path());
    command.args(&args);
    let output = run(command);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = crc32fast::hash(args.join("\0").as_bytes());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{} {expected}", args.len())
    );
}

#[test]
fn the_apps_exit_status_is_the_launchers() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_with_main(dir.path(), "import sys\nsys.exit(3)\n");
    let output = run(command(&pack, dir.path()));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
}

#[test]
fn an_app_killed_by_a_signal_ends_the_launcher_by_that_signal() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_with_main(
        dir.path(),
        "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n",
    );
    let output = run(command(&pack, dir.path()));
    assert_eq!(output.status.signal(), Some(15), "{:?}", output.status);
}

#[test]
fn a_signal_sent_to_the_launcher_reaches_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let pack = pack_with_main(
        dir.path(),
        &format!(
            "import os, time\nopen({:?}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n",
            ready.display()
        ),
    );
    let mut child = command(&pack, dir.path()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !ready.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the app never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The launcher exec'd the interpreter: the app runs as the launcher's process.
    assert_eq!(
        std::fs::read_to_string(&ready).unwrap(),
        child.id().to_string()
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(15), "{status:?}");
}

#[test]
fn no_matching_interpreter_is_refused_naming_what_was_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app");
    write_pack(
        &path,
        &[("__main__.py", "print('must not run')\n")],
        &metadata("cpython==2.5"),
    );
    let mut command = command(&path, dir.path());
    command.env_remove("PYFLEET_PACK_PYTHON");
    let output = run(command);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(127), "{message}");
    assert!(output.stdout.is_empty());
    assert!(
        message.contains("no Python interpreter matches \"cpython2.5\". Found:"),
        "{message}"
    );
    assert!(
        message.contains("CPython 3.11.2   /usr/bin/python3"),
        "{message}"
    );
    assert!(message.contains("PYFLEET_PACK_PYTHON"), "{message}");
}

#[test]
fn the_recorded_constraint_chooses_the_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app");
    write_pack(
        &path,
        &[(
            "__main__.py",
            "import sys\nsys.stdout.write('%d.%d' % sys.version_info[:2])\n",
        )],
        &metadata("cpython==3.11"),
    );
    let mut command = command(&path, dir.path());
    command.env_remove("PYFLEET_PACK_PYTHON");
    let output = run(command);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "3.11");
}

#[test]
fn the_override_names_the_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_with_main(dir.path(), "import sys\nsys.stdout.write(sys.executable)\n");
    let output = run(command(&pack, dir.path()));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), PYTHON);

    let mut missing = command(&pack, dir.path());
    missing.env("PYFLEET_PACK_PYTHON", "/nonexistent/python3");
    let output = run(missing);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(127), "{message}");
    assert!(message.contains("/nonexistent/python3"), "{message}");
}

#[test]
fn start_up_settings_the_interpreter_lacks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app");
    let mut metadata = metadata("cpython==3.11");
    metadata.startup.cpu_count = Some(pyfleet_startup::CpuCount::Fixed(1));
    write_pack(
        &path,
        &[("__main__.py", "print('must not run')\n")],
        &metadata,
    );
    let output = run(command(&path, dir.path()));
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(126), "{message}");
    assert!(message.contains("cpu_count"), "{message}");
    assert!(output.stdout.is_empty());
}

#[test]
fn the_app_sees_its_own_path_as_argv0_and_the_isolated_flags() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_with_main(
        dir.path(),
        "import sys\nsys.stdout.write('%s %d %d' % (sys.argv[0], sys.flags.isolated, sys.flags.safe_path))\n",
    );
    let mut command = command(&pack, dir.path());
    command.current_dir(dir.path());
    let output = run(command);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{} 1 1", pack.display())
    );
}
