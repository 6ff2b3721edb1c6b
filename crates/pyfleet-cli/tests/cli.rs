//! The `pyfleet` command against real interpreters.

use assert_cmd::Command;

const PYTHON: &str = "/usr/bin/python3.11";
const PYTHON2: &str = concat!(env!("HOME"), "/.pyenv/versions/2.7.18/bin/python");

fn pyfleet() -> Command {
    let mut cmd = Command::cargo_bin("pyfleet").unwrap();
    cmd.timeout(std::time::Duration::from_secs(60));
    cmd.env_remove("PYFLEET_LOG").env_remove("RUST_LOG");
    cmd
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = pyfleet().args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn call_prints_the_result_as_json() {
    let (code, stdout, stderr) = run(&["call", "--python", PYTHON, "os.getpid"]);
    assert_eq!(code, 0, "{stderr}");
    let pid: u32 = stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a pid: {stdout}"));
    assert!(pid > 1);
}

#[test]
fn call_takes_literals_json_keywords_and_bare_words() {
    let (code, stdout, stderr) = run(&["call", "--python", PYTHON, "os.path.join", "a", "'b c'"]);
    assert_eq!((code, stdout.as_str()), (0, "\"a/b c\"\n"), "{stderr}");

    let (code, stdout, _) = run(&[
        "call",
        "--python",
        PYTHON,
        "json.dumps",
        r#"{"k": [1, 2.5, null, true]}"#,
        "sort_keys=True",
    ]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "\"{\\\"k\\\": [1, 2.5, null, true]}\"\n")
    );

    let (code, stdout, _) = run(&[
        "call",
        "--python",
        PYTHON,
        "divmod",
        "2**70".replace("2**70", "1180591620717411303424").as_str(),
        "7",
    ]);
    assert_eq!((code, stdout.as_str()), (0, "[168655945816773043346,2]\n"));

    let (code, stdout, _) = run(&["call", "--python", PYTHON, "dict", "a=(1, 2)", "b=b'\\xff'"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "{\"a\":[1,2],\"b\":{\"$base64\":\"/w==\"}}\n")
    );
}

#[test]
fn call_raw_prints_text_as_is() {
    let (code, stdout, _) = run(&[
        "call",
        "--raw",
        "--python",
        PYTHON,
        "str.upper",
        "'hello\\n'",
    ]);
    assert_eq!((code, stdout.as_str()), (0, "HELLO\n"));
}

#[test]
fn call_works_on_python_2() {
    if !std::path::Path::new(PYTHON2).exists() {
        eprintln!("note: skipping, {PYTHON2} is not installed here");
        return;
    }
    let (code, stdout, stderr) = run(&["call", "--python", PYTHON2, "os.path.join", "a", "b"]);
    assert_eq!((code, stdout.as_str()), (0, "\"a/b\"\n"), "{stderr}");
}

#[test]
fn exec_prints_output_then_the_trailing_value() {
    let (code, stdout, stderr) = run(&[
        "exec",
        "--python",
        PYTHON,
        "-c",
        "import sys\nprint('hi')\nsys.stderr.write('err\\n')\n{'x': 1}",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "hi\n{'x': 1}\n");
    assert_eq!(stderr, "err\n");
    let (_, stdout, _) = run(&["exec", "--json", "--python", PYTHON, "-c", "{'x': (1, 2)}"]);
    assert_eq!(stdout, "{\"x\":[1,2]}\n");
    let (code, stdout, _) = run(&["exec", "--python", PYTHON, "-c", "x = 1"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn a_remote_exception_prints_its_traceback_and_exits_1() {
    let (code, stdout, stderr) = run(&[
        "exec",
        "--python",
        PYTHON,
        "-c",
        "def f():\n    return 1 / 0\nf()",
    ]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("Traceback (most recent call last):\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 2, in f")
            && stderr.ends_with("ZeroDivisionError: division by zero\n"),
        "{stderr}"
    );

    let (code, _, stderr) = run(&["call", "--python", PYTHON, "json.loads", "'{bad'"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("JSONDecodeError"), "{stderr}");
}

#[test]
fn startup_failures_exit_3_with_a_clear_message() {
    let (code, _, stderr) = run(&["call", "--python", "/nonexistent/python", "os.getpid"]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("Python interpreter not found: /nonexistent/python"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["call", "--python", "/bin/false", "os.getpid"]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("exited with code 1 before the pyfleet loader started"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, stderr) = run(&["call", "--python", PYTHON, "os.getpid", "[1,"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot parse \"[1,\""), "{stderr}");
    let (code, _, stderr) = run(&["exec", "--python", PYTHON, "-c", "1", "-m", "os"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn dotted_names_find_classes_and_builtins() {
    let (code, stdout, stderr) = run(&[
        "call",
        "--python",
        PYTHON,
        "collections.OrderedDict.fromkeys",
        "'ab'",
    ]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "{\"a\":null,\"b\":null}\n"),
        "{stderr}"
    );
    let (code, stdout, _) = run(&["call", "--python", PYTHON, "len", "[1, 2, 3]"]);
    assert_eq!((code, stdout.as_str()), (0, "3\n"));
    // A module that exists but fails to import reports its own error.
    let (code, _, stderr) = run(&["call", "--python", PYTHON, "no_such_module_xyz.f"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no_such_module_xyz"), "{stderr}");
}

#[test]
fn a_missing_pyfleet_python_is_logged_once_then_the_default_is_used() {
    let output = pyfleet()
        .args(["call", "os.getpid"])
        .env("PYFLEET_PYTHON", "/nonexistent/python3")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let fallback = "PYFLEET_PYTHON names an interpreter that does not exist; falling back";
    assert_eq!(stderr.matches(fallback).count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/python3"), "{stderr}");
}

#[test]
fn inspect_shows_the_three_phases() {
    let (code, stdout, stderr) = run(&[
        "inspect",
        "--python",
        PYTHON,
        "-I",
        "-B",
        "--hash-seed",
        "7",
        "--umask",
        "027",
    ]);
    assert_eq!(code, 0, "{stderr}");
    for needle in [
        "1. launch",
        "2. first stage",
        "3. effective",
        "PYTHONHASHSEED=7",
        "emulated",
        "umask          027",
    ] {
        assert!(stdout.contains(needle), "{needle} missing from:\n{stdout}");
    }
    assert!(!stdout.contains("DIFF"), "{stdout}");

    let (code, stdout, _) = run(&["inspect", "--json", "--python", PYTHON, "-S", "-X", "dev"]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["launch"]["argv"][1], "-S");
    assert_eq!(report["effective"]["flags"]["dev_mode"], 1);
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ok"] == true)
    );
}

#[test]
fn startup_flags_apply_to_call_and_exec() {
    // exec -c sets sys.argv as python -c does; --argv is what a call sees.
    let (code, stdout, stderr) = run(&[
        "exec",
        "--python",
        PYTHON,
        "-O",
        "-c",
        "import sys; (sys.flags.optimize, sys.argv)",
        "x",
    ]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "(1, ['-c', 'x'])\n"),
        "{stderr}"
    );
    let (code, stdout, stderr) = run(&[
        "call",
        "--python",
        PYTHON,
        "--argv",
        "tool",
        "--argv",
        "x",
        "sys.argv.copy",
    ]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "[\"tool\",\"x\"]\n"),
        "{stderr}"
    );
    let (code, stdout, _) = run(&[
        "call",
        "--python",
        PYTHON,
        "--env",
        "GREETING=hi",
        "os.getenv",
        "GREETING",
    ]);
    assert_eq!((code, stdout.as_str()), (0, "\"hi\"\n"));
}

#[test]
fn startup_flags_the_target_lacks_are_refused_before_starting() {
    let (code, _, stderr) = run(&["call", "--python", PYTHON, "-X", "cpu_count=2", "os.getpid"]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains(
            "cpu_count is not available on CPython 3.11.2: -X cpu_count needs Python 3.13"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["call", "--python", PYTHON, "-X", "nonsense", "os.getpid"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown -X option"), "{stderr}");
    let (code, _, stderr) = run(&[
        "call",
        "--python",
        PYTHON,
        "-X",
        "int_max_str_digits=5",
        "os.getpid",
    ]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("must be 0 (no limit) or at least 640"),
        "{stderr}"
    );
}

#[test]
fn interpreters_lists_what_discovery_finds_and_picks_by_constraint() {
    let (code, stdout, stderr) = run(&["interpreters"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("CPython 3.11.2   /usr/bin/python3"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&["interpreters", "--json", "==3.11.2"]);
    assert_eq!(code, 0);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["version"], "3.11.2");
    let (code, _, stderr) = run(&["interpreters", ">=9.0"]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("no Python interpreter matches \">=9.0\". Found:"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["interpreters", ">>3"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn python_version_picks_a_matching_interpreter() {
    let (code, stdout, stderr) = run(&[
        "exec",
        "--python-version",
        "==3.11.2",
        "-c",
        "import sys; sys.version_info[:3]",
    ]);
    assert_eq!((code, stdout.as_str()), (0, "(3, 11, 2)\n"), "{stderr}");
}

#[test]
fn push_and_pull_copy_files_and_report_failures() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&source, &data).unwrap();
    let pushed = dir.path().join("pushed.bin");
    let (code, stdout, stderr) = run(&[
        "push",
        "--python",
        PYTHON,
        source.to_str().unwrap(),
        pushed.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("300000 bytes") && stderr.contains("sha256"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&pushed).unwrap(), data);
    let pulled = dir.path().join("pulled.bin");
    let (code, _, stderr) = run(&[
        "pull",
        "--checksum",
        "crc32",
        "--python",
        PYTHON2,
        pushed.to_str().unwrap(),
        pulled.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("crc32 "), "{stderr}");
    assert_eq!(std::fs::read(&pulled).unwrap(), data);
    let missing = dir.path().join("missing");
    let (code, _, stderr) = run(&[
        "pull",
        "--python",
        PYTHON,
        missing.to_str().unwrap(),
        pulled.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("No such file"), "{stderr}");
    // The failed pull left the earlier copy alone.
    assert_eq!(std::fs::read(&pulled).unwrap(), data);
}
