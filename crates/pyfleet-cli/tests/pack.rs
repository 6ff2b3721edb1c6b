//! `pyfleet pack` against real interpreters: bytecode used everywhere, identical
//! output for identical input, refusals at pack time, `--inspect`.

#[path = "../../pyfleet/tests/support/interpreters.rs"]
mod interpreters;
mod pack_support;

use pack_support::*;

const PROBE_APP: &[(&str, &str)] = &[
    ("probeapp/__init__.py", ""),
    (
        "probeapp/cli.py",
        "import sys\n\ndef main():\n    import probeapp.cli as me\n    \
         sys.stdout.write('%s %s %d.%d' % (me.__file__.rsplit('/', 1)[-1], ' '.join(sys.argv[1:]), \
         sys.version_info[0], sys.version_info[1]))\n    return 0\n",
    ),
];

#[test]
fn packs_run_from_their_bytecode_on_every_interpreter() {
    let dir = temp();
    let src = at(dir.path(), "src");
    write_tree(&src, PROBE_APP);
    for python in interpreters::interpreters() {
        let app = at(dir.path(), "app");
        pack(
            &src,
            "probeapp.cli:main",
            &app,
            &["--python", python.to_str().unwrap()],
        );
        let mut command = app_command(&app, &python, dir.path());
        command.args(["a", "b c"]);
        let result = output(command);
        let stdout = text(&result.stdout);
        assert!(
            result.status.success(),
            "{}: {}",
            python.display(),
            text(&result.stderr)
        );
        // zipimport names a module loaded from bytecode by its .pyc entry.
        assert!(
            stdout.starts_with("cli.pyc a b c "),
            "{}: {stdout}",
            python.display()
        );
    }
}

#[test]
fn the_same_inputs_give_a_byte_identical_pack() {
    let dir = temp();
    let src = at(dir.path(), "src");
    write_tree(&src, PROBE_APP);
    write_tree(&src, &[("requirements.txt", "click==8.1.7\n")]);
    let one = at(dir.path(), "one");
    let two = at(dir.path(), "two");
    pack(&src, "probeapp.cli:main", &one, &["--python", PYTHON]);
    pack(&src, "probeapp.cli:main", &two, &["--python", PYTHON]);
    let (one, two) = (std::fs::read(one).unwrap(), std::fs::read(two).unwrap());
    assert!(one.len() > 100_000, "click is in the pack");
    assert!(one == two, "two packs of the same input differ");
}

#[test]
fn a_missing_entry_point_is_refused_at_pack_time() {
    let dir = temp();
    let src = at(dir.path(), "src");
    write_tree(&src, PROBE_APP);
    let app = at(dir.path(), "app");
    let (code, message) = pack_failure(&src, "probeapp.nothere:main", &app, &["--python", PYTHON]);
    assert_eq!(code, 2, "{message}");
    assert!(
        message.contains("no module \"probeapp.nothere\""),
        "{message}"
    );
    let (code, message) = pack_failure(&src, "probeapp.cli:start", &app, &["--python", PYTHON]);
    assert_eq!(code, 2, "{message}");
    assert!(
        message.contains("probeapp/cli.py defines no \"start\""),
        "{message}"
    );
    let (code, message) = pack_failure(&src, "probeapp.cli", &app, &["--python", PYTHON]);
    assert_eq!(code, 2, "{message}");
    assert!(message.contains("expected MODULE:FUNCTION"), "{message}");
    assert!(!app.exists(), "nothing is written for a refused pack");
}

#[test]
fn settings_a_pack_cannot_honour_are_refused_at_pack_time() {
    let dir = temp();
    let src = at(dir.path(), "src");
    write_tree(&src, PROBE_APP);
    let app = at(dir.path(), "app");
    let (code, message) = pack_failure(
        &src,
        "probeapp.cli:main",
        &app,
        &["--python", PYTHON, "--argv", "x"],
    );
    assert_eq!(code, 2, "{message}");
    assert!(message.contains("--argv"), "{message}");
    let (code, message) = pack_failure(
        &src,
        "probeapp.cli:main",
        &app,
        &["--python", PYTHON, "-X", "cpu_count=1"],
    );
    assert_eq!(code, 2, "{message}");
    assert!(message.contains("cpu_count"), "{message}");
}

#[test]
fn inspect_shows_the_contents_constraint_and_start_up() {
    let dir = temp();
    let src = at(dir.path(), "src");
    write_tree(&src, PROBE_APP);
    let app = at(dir.path(), "app");
    pack(&src, "probeapp.cli:main", &app, &["--python", PYTHON, "-u"]);
    let result = pyfleet()
        .args(["pack", "--inspect"])
        .arg(&app)
        .output()
        .unwrap();
    let stdout = text(&result.stdout);
    assert!(result.status.success(), "{}", text(&result.stderr));
    for expected in [
        "entry:       probeapp.cli:main",
        "python:      cpython==3.11",
        "bytecode:    cpython 3.11 (cpython-311), beside the sources",
        "\"isolated\": true",
        "\"unbuffered\": true",
        "stored   __main__.pyc",
        "deflated probeapp/cli.py",
        "stored   probeapp/cli.pyc",
        "__pyfleet__/pack.json",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in\n{stdout}");
    }
    let not_a_pack = pyfleet()
        .args(["pack", "--inspect"])
        .arg(src.join("probeapp/cli.py"))
        .output()
        .unwrap();
    assert_eq!(not_a_pack.status.code(), Some(2));
    assert!(text(&not_a_pack.stderr).contains("is not an intact pack"));
}

#[test]
fn a_constraint_the_packing_interpreter_misses_is_refused() {
    let dir = temp();
    let src = at(dir.path(), "src");
    write_tree(&src, PROBE_APP);
    let app = at(dir.path(), "app");
    let (code, message) = pack_failure(
        &src,
        "probeapp.cli:main",
        &app,
        &["--python", PYTHON, "--requires-python", ">=3.12"],
    );
    assert_eq!(code, 2, "{message}");
    assert!(message.contains("does not satisfy \">=3.12\""), "{message}");
}
