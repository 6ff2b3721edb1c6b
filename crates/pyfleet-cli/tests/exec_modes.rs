//! `pyfleet exec` in every form `python` accepts, with modules served from roots.

use assert_cmd::Command;

const PYTHON: &str = "/usr/bin/python3.11";

fn pyfleet() -> Command {
    let mut cmd = Command::cargo_bin("pyfleet").unwrap();
    cmd.timeout(std::time::Duration::from_secs(60));
    cmd.env_remove("PYFLEET_LOG").env_remove("RUST_LOG");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let output = cmd.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A project directory: a script, a sibling module, a package with __main__, and
/// an application directory with __main__.py.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("helper.py"), "def twice(x):\n    return x * 2\n").unwrap();
    std::fs::write(
        p.join("script.py"),
        "import sys, helper\nprint('argv', sys.argv)\nprint('twice', helper.twice(21))\nprint('path0', sys.path[0])\n",
    )
    .unwrap();
    std::fs::create_dir_all(p.join("tool")).unwrap();
    std::fs::write(p.join("tool/__init__.py"), "").unwrap();
    std::fs::write(
        p.join("tool/__main__.py"),
        "import sys\nfrom tool import core\nprint('tool', core.NAME, sys.argv[1:])\nsys.exit(int(sys.argv[1]) if sys.argv[1:] else 0)\n",
    )
    .unwrap();
    std::fs::write(p.join("tool/core.py"), "NAME = 'core'\n").unwrap();
    std::fs::create_dir_all(p.join("app")).unwrap();
    std::fs::write(
        p.join("app/__main__.py"),
        "import sys, appmod\nprint('app', appmod.WHO, sys.argv)\n",
    )
    .unwrap();
    std::fs::write(p.join("app/appmod.py"), "WHO = 'appmod'\n").unwrap();
    dir
}

#[test]
fn a_script_runs_with_its_arguments_and_its_own_directory_served() {
    let dir = project();
    let script = dir.path().join("script.py");
    let (code, stdout, stderr) = run(pyfleet()
        .args(["exec", "--python", PYTHON, "-I"])
        .arg(&script)
        .args(["a", "-b"]));
    assert_eq!(code, 0, "{stderr}");
    let argv = format!("argv ['{}', 'a', '-b']", script.display());
    assert!(stdout.contains(&argv), "{stdout}");
    assert!(stdout.contains("twice 42"), "{stdout}");
    assert!(
        stdout.contains(&format!("path0 {}", dir.path().display())),
        "{stdout}"
    );
}

#[test]
fn a_module_runs_with_dash_m_from_a_module_root() {
    let dir = project();
    let (code, stdout, stderr) = run(pyfleet()
        .args(["exec", "--python", PYTHON, "-I", "--module-root"])
        .arg(dir.path())
        .args(["-m", "tool", "3"]));
    assert_eq!(stdout, "tool core ['3']\n", "{stderr}");
    assert_eq!(code, 3, "sys.exit(3) becomes the exit status");
}

#[test]
fn a_directory_or_zip_with_main_runs_as_python_would() {
    let dir = project();
    let app = dir.path().join("app");
    let (code, stdout, stderr) = run(pyfleet()
        .args(["exec", "--python", PYTHON, "-I"])
        .arg(&app)
        .arg("x"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("app appmod ['{}', 'x']\n", app.display()));

    let zip = dir.path().join("app.zip");
    let status = std::process::Command::new(PYTHON)
        .args([
            "-c",
            "import shutil, sys; shutil.make_archive(sys.argv[1][:-4], 'zip', sys.argv[2])",
        ])
        .arg(&zip)
        .arg(&app)
        .status()
        .unwrap();
    assert!(status.success());
    let (code, stdout, stderr) = run(pyfleet().args(["exec", "--python", PYTHON, "-I"]).arg(&zip));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("app appmod ['{}']\n", zip.display()));
}

#[test]
fn code_from_stdin_and_dash_c_with_arguments() {
    let (code, stdout, stderr) = run(pyfleet()
        .args(["exec", "--python", PYTHON, "-", "one"])
        .write_stdin("import sys\nprint(sys.argv)\n"));
    assert_eq!((code, stdout.as_str()), (0, "['-', 'one']\n"), "{stderr}");
    let (code, stdout, _) = run(pyfleet().args([
        "exec",
        "--python",
        PYTHON,
        "-c",
        "import sys; sys.argv",
        "x",
        "--y",
    ]));
    assert_eq!((code, stdout.as_str()), (0, "['-c', 'x', '--y']\n"));
    let (code, _, stderr) = run(pyfleet().args([
        "exec",
        "--python",
        PYTHON,
        "-c",
        "import sys; sys.exit('bye')",
    ]));
    assert_eq!(code, 1);
    assert!(stderr.contains("bye"), "{stderr}");
}

#[test]
fn log_records_print_with_the_context_level_and_logger() {
    let (code, stdout, stderr) = run(pyfleet().args([
        "exec",
        "--python",
        PYTHON,
        "-c",
        "import logging\nprint('out')\nlogging.getLogger('svc').error('broken %d', 7)",
    ]));
    assert_eq!((code, stdout.as_str()), (0, "out\n"), "{stderr}");
    assert_eq!(stderr, "[local.1] ERROR svc: broken 7\n");
}

#[test]
fn call_can_use_modules_from_a_root() {
    let dir = project();
    let (code, stdout, stderr) = run(pyfleet()
        .args(["call", "--python", PYTHON, "-I", "--module-root"])
        .arg(dir.path())
        .args(["helper.twice", "5"]));
    assert_eq!((code, stdout.as_str()), (0, "10\n"), "{stderr}");
    let (code, _, stderr) = run(pyfleet().args([
        "call",
        "--python",
        PYTHON,
        "--module-root",
        "/nonexistent/dir",
        "os.getpid",
    ]));
    assert_eq!(code, 2);
    assert!(stderr.contains("module root /nonexistent/dir"), "{stderr}");
}
