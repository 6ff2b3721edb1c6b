//! Interpreter discovery on this machine: real interpreters, real sh, real pyenv
//! layout; fake candidates only where a failure must be provoked (a hang, garbage,
//! a shim that must not run).

#[path = "support/interpreters.rs"]
mod interpreters;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pyfleet::startup::constraint::VersionConstraint;
use pyfleet::startup::discovery::{
    CandidateSource, Discovery, DiscoveryCache, DiscoveryError, LocalDiscovery, SkipReason,
    probe_script, resolve_interpreter_with,
};
use pyfleet::startup::{Implementation, PythonTarget, PythonVersion};

const PYPY: &str = "/usr/bin/pypy3";

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
}

fn pyenv_root() -> PathBuf {
    std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".pyenv"))
}

/// An executable script at `dir/name`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn constraint(text: &str) -> VersionConstraint {
    text.parse().unwrap()
}

/// The version a pyenv build directory is named after ("3.11.7").
fn pyenv_version(name: &str) -> PythonVersion {
    name.parse().unwrap()
}

async fn discover(probe: &LocalDiscovery) -> Discovery {
    let started = Instant::now();
    let discovery = probe.run().await.expect("discovery runs");
    eprintln!(
        "discovery: {} interpreters, {} skipped in {:?}",
        discovery.interpreters.len(),
        discovery.skipped.len(),
        started.elapsed()
    );
    assert!(discovery.complete);
    discovery
}

/// Every interpreter of the test bed is found, with the right implementation
/// and version, and no pyenv shim is among them.
#[tokio::test]
async fn finds_every_interpreter_here() {
    let discovery = discover(&LocalDiscovery::new()).await;
    for path in interpreters::interpreters() {
        let found = discovery
            .find_path(&path)
            .unwrap_or_else(|| panic!("{} not found in {discovery:#?}", path.display()));
        let expected = if path == Path::new(PYPY) {
            (Implementation::PyPy, 3, 9)
        } else if path.starts_with(pyenv_root().join("versions")) {
            let name = path.components().rev().nth(2).unwrap();
            let version = pyenv_version(&name.as_os_str().to_string_lossy());
            assert_eq!(found.target.version, version, "{}", path.display());
            (Implementation::CPython, version.major, version.minor)
        } else {
            (Implementation::CPython, 3, 11)
        };
        let target = found.target;
        assert_eq!(
            (
                target.implementation,
                target.version.major,
                target.version.minor
            ),
            expected,
            "{}",
            path.display()
        );
        assert!(!found.is_virtualenv, "{found}");
        assert_eq!(found.pointer_width, 64);
        assert!(found.is_final_release());
    }
    if Path::new(PYPY).exists() {
        let pypy = discovery.find_path(Path::new(PYPY)).unwrap();
        assert!(pypy.pypy_version.is_some());
    } else {
        eprintln!("note: {PYPY} is not installed here; its checks were skipped");
    }
    for interpreter in &discovery.interpreters {
        assert!(
            !interpreter.path.to_string_lossy().contains("/shims/"),
            "a shim was taken for an interpreter: {interpreter:?}"
        );
        assert_eq!(
            interpreter.real_path,
            std::fs::canonicalize(&interpreter.path).unwrap()
        );
    }
    // One run per real binary.
    let mut real: Vec<&Path> = discovery
        .interpreters
        .iter()
        .map(|i| i.real_path.as_path())
        .collect();
    real.sort();
    real.dedup();
    assert_eq!(real.len(), discovery.interpreters.len());
}

/// The shipped script is valid sh for dash and for bash in POSIX mode.
#[test]
fn probe_script_parses_in_posix_shells() {
    let text = probe_script(&[PathBuf::from("/it's/quoted")]);
    for shell in [
        &["/bin/dash", "-n"][..],
        &["/bin/bash", "--posix", "-n"][..],
    ] {
        if !Path::new(shell[0]).exists() {
            eprintln!("note: {} is not installed; not checked", shell[0]);
            continue;
        }
        let output = std::process::Command::new(shell[0])
            .args(&shell[1..])
            .arg("-c")
            .arg(&text)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}: {}",
            shell[0],
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(
        text.len() < 3800,
        "the probe is {} bytes (keep it well under 4 KiB)",
        text.len()
    );
}

/// The machine's own pyenv shim is reported with the binary it maps to.
#[tokio::test]
async fn real_pyenv_shim_is_mapped_to_its_binary() {
    let shim = pyenv_root().join("shims/python3");
    if !shim.exists() {
        eprintln!("note: {} is absent; nothing to check", shim.display());
        return;
    }
    let discovery = discover(&LocalDiscovery::new().explicit([shim.clone()]).search(false)).await;
    let mapping = discovery.shim(&shim).expect("the shim is reported");
    let target = mapping
        .target
        .as_ref()
        .unwrap_or_else(|| panic!("{mapping:?} maps to nothing"));
    let interpreter = discovery.resolve_shim(&shim).expect("its target answered");
    assert!(interpreter.was_found_at(target));
    assert_eq!(interpreter.source, CandidateSource::Explicit);
    eprintln!(
        "{} -> {} ({}, selected by {})",
        shim.display(),
        target.display(),
        interpreter.target,
        mapping.origin
    );
}

/// A fake pyenv root whose shims record any run in a marker file: the shims are
/// mapped through $PYENV_ROOT/version, $PYENV_VERSION and .python-version, and
/// never run.
#[tokio::test]
async fn shims_are_mapped_by_pyenv_rules_and_never_run() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("pyenv");
    let marker = temp.path().join("a-shim-ran");
    let shims = root.join("shims");
    let build = root.join("versions/fake-3.11/bin");
    std::fs::create_dir_all(&shims).unwrap();
    std::fs::create_dir_all(&build).unwrap();
    symlink(interpreters::SYSTEM_PYTHON, build.join("python3")).unwrap();
    for name in ["python3", "python3.9"] {
        script(
            &shims,
            name,
            &format!("echo {name} >> '{}'\necho pretending", marker.display()),
        );
    }
    std::fs::write(root.join("version"), "fake-3.11\n").unwrap();
    let project = temp.path().join("project/sub");
    std::fs::create_dir_all(&project).unwrap();
    // A file named like a match of "python3.[0-9]" in the working directory must
    // not stand in for the pattern.
    std::fs::write(project.join("python3.1"), "").unwrap();
    let path_var = format!("{}:/usr/bin:/bin", shims.display());
    let probe = LocalDiscovery::new()
        .env("PATH", &path_var)
        .env("PYENV_ROOT", &root)
        .env_remove("PYENV_VERSION")
        .current_dir(&project);

    // 1. The root's version file.
    let started = Instant::now();
    let discovery = discover(&probe).await;
    let elapsed = started.elapsed();
    let python3 = shims.join("python3");
    let mapping = discovery.shim(&python3).unwrap();
    assert_eq!(mapping.versions, ["fake-3.11"]);
    assert_eq!(mapping.origin, root.join("version").display().to_string());
    assert_eq!(
        mapping.target.as_deref(),
        Some(build.join("python3").as_path())
    );
    let via_shim = discovery.resolve_shim(&python3).unwrap();
    assert_eq!(via_shim.real_path, Path::new(interpreters::SYSTEM_PYTHON));
    assert_eq!(
        via_shim.source,
        CandidateSource::PyenvShim {
            shim: python3.clone()
        },
        "PATH order: the shims directory comes first"
    );
    let unprovided = discovery.shim(&shims.join("python3.9")).unwrap();
    assert_eq!(unprovided.target, None);
    assert!(discovery.resolve_shim(&shims.join("python3.9")).is_none());
    eprintln!("fake pyenv discovery took {elapsed:?}");

    // 2. PYENV_VERSION wins over the file; a version without the command maps to
    //    nothing, and resolving the shim then says so.
    let missing = probe
        .clone()
        .env("PYENV_VERSION", "not-installed:fake-3.11");
    let discovery = discover(&missing).await;
    let mapping = discovery.shim(&python3).unwrap();
    assert_eq!(mapping.origin, "PYENV_VERSION");
    assert_eq!(mapping.versions, ["not-installed", "fake-3.11"]);
    assert_eq!(
        mapping.target.as_deref(),
        Some(build.join("python3").as_path())
    );
    let nowhere = probe.clone().env("PYENV_VERSION", "not-installed");
    let cache = DiscoveryCache::memory_only();
    let error = resolve_interpreter_with(&python3.display().to_string(), &cache, &nowhere)
        .await
        .unwrap_err();
    assert!(
        matches!(error, DiscoveryError::UnresolvedShim { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("not-installed"), "{error}");

    // 3. A .python-version above the working directory selects "system": the
    //    first python3 on PATH outside the shims.
    std::fs::write(temp.path().join("project/.python-version"), "system\n").unwrap();
    let discovery = discover(&probe).await;
    let mapping = discovery.shim(&python3).unwrap();
    assert_eq!(
        mapping.origin,
        temp.path()
            .join("project/.python-version")
            .display()
            .to_string()
    );
    assert_eq!(
        mapping.target.as_deref(),
        Some(Path::new("/usr/bin/python3"))
    );

    assert!(
        !marker.exists(),
        "a shim was run: {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
}

/// Picks by constraint: newest CPython first, PyPy only when asked for.
#[tokio::test]
async fn picks_by_constraint() {
    let discovery = discover(&LocalDiscovery::new()).await;
    let pick = |text: &str| {
        discovery
            .find(&constraint(text))
            .unwrap_or_else(|| panic!("nothing for {text:?}"))
    };
    let newest_cpython = discovery
        .interpreters
        .iter()
        .filter(|i| i.target.implementation == Implementation::CPython)
        .map(|i| i.target.version)
        .max()
        .unwrap();
    let chosen = pick(">=3.8");
    assert_eq!(chosen.target.implementation, Implementation::CPython);
    assert_eq!(chosen.target.version, newest_cpython);
    assert_eq!(pick("any").target.version, newest_cpython);

    let pyenv = pyenv_root().join("versions");
    if pyenv.join("2.7.18").exists() {
        assert!(pick("2.7").real_path.starts_with(pyenv.join("2.7.18")));
        assert_eq!(pick("2").target, PythonTarget::cpython(2, 7, 18));
    }
    if pyenv.join("3.9.18").exists() {
        let chosen = pick("==3.9");
        assert_eq!(chosen.target, PythonTarget::cpython(3, 9, 18));
        assert!(chosen.real_path.starts_with(pyenv.join("3.9.18")));
    }
    if pyenv.join("3.13.0").exists() {
        assert_eq!(
            pick(">=3.8,<3.12").target.version.minor,
            11,
            "newest below 3.12"
        );
        assert_eq!(pick("~=3.9").target, PythonTarget::cpython(3, 13, 0));
        assert_eq!(pick("cpython!=3.13").target.version.minor, 12);
    }
    if Path::new(PYPY).exists() {
        let pypy = pick("pypy");
        assert_eq!(pypy.target.implementation, Implementation::PyPy);
        assert!(pypy.was_found_at(Path::new(PYPY)));
        assert_eq!(pick("pypy3.9").real_path, pypy.real_path);
        assert!(
            discovery
                .matching(&constraint("3.9"))
                .iter()
                .any(|i| i.target.implementation == Implementation::PyPy),
            "PyPy matches 3.9 too, ranked after CPython"
        );
    } else {
        eprintln!("note: {PYPY} is not installed here; pypy picks skipped");
    }

    let error = discovery.best(&constraint(">=3.14")).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("no Python interpreter matches \">=3.14\""),
        "{message}"
    );
    assert!(message.contains(&newest_cpython.to_string()), "{message}");
    assert!(message.contains("--python PATH"), "{message}");
    eprintln!("{message}");
}

/// A candidate that hangs is killed and skipped within the bound (its own child
/// too); one that prints garbage is skipped with what it printed.
#[tokio::test]
async fn hanging_and_garbage_candidates_are_skipped() {
    let temp = tempfile::tempdir().unwrap();
    let bin = temp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // Not exec'd: the watchdog kills the shell, the process group takes its sleep.
    script(&bin, "python3.99", "sleep 31.4159; :");
    script(&bin, "python3.98", "echo 'Hello from a fake python'");
    script(&bin, "python3.97", "echo 'ImportError: broken' >&2; exit 3");
    let empty_home = temp.path().join("home");
    std::fs::create_dir(&empty_home).unwrap();
    let probe = LocalDiscovery::new()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", &empty_home)
        .env_remove("PYENV_ROOT")
        .candidate_timeout(Duration::from_secs(1));

    let started = Instant::now();
    let discovery = discover(&probe).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_millis(3500),
        "took {elapsed:?} with a 1 s bound"
    );
    let reason = |name: &str| {
        discovery
            .skipped_at(&bin.join(name))
            .unwrap_or_else(|| panic!("{name} not skipped: {discovery:#?}"))
            .reason
            .clone()
    };
    assert_eq!(
        reason("python3.99"),
        SkipReason::TimedOut {
            after: Duration::from_secs(1)
        }
    );
    assert_eq!(
        reason("python3.98"),
        SkipReason::UnexpectedOutput {
            output: "Hello from a fake python".into()
        }
    );
    assert_eq!(
        reason("python3.97"),
        SkipReason::Exited {
            code: 3,
            message: "ImportError: broken".into()
        }
    );
    // The real ones are still there.
    assert!(
        discovery
            .find_path(Path::new(interpreters::SYSTEM_PYTHON))
            .is_some()
    );
    // SIGKILL is delivered at once, but the process takes a moment to go.
    let deadline = Instant::now() + Duration::from_secs(2);
    while process_running_with_arg("31.4159") {
        assert!(
            Instant::now() < deadline,
            "the hung candidate's child outlived the probe"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for skipped in &discovery.skipped {
        eprintln!("skipped {skipped}");
    }
}

/// Resolving what a user typed: a path, a command, a constraint, or nonsense.
#[tokio::test]
async fn resolves_user_specs() {
    let cache = DiscoveryCache::memory_only();
    let probe = LocalDiscovery::new().env("PATH", "/usr/bin:/bin");
    let resolve = |spec: &'static str| {
        let (cache, probe) = (&cache, &probe);
        async move { resolve_interpreter_with(spec, cache, probe).await }
    };

    let by_path = resolve("/usr/bin/python3").await.unwrap();
    assert_eq!(by_path.real_path, Path::new("/usr/bin/python3.11"));
    assert_eq!(by_path.path, Path::new("/usr/bin/python3"));
    assert_eq!(by_path.source, CandidateSource::Explicit);

    let by_command = resolve("python3.11").await.unwrap();
    assert_eq!(by_command.path, Path::new("/usr/bin/python3.11"));

    let by_version = resolve(">=3.8").await.unwrap();
    assert_eq!(by_version.target.implementation, Implementation::CPython);

    let error = resolve("/nonexistent/python3").await.unwrap_err();
    assert!(
        matches!(error, DiscoveryError::NotAnInterpreter { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("not an executable file"),
        "{error}"
    );

    let temp = tempfile::tempdir().unwrap();
    let not_executable = temp.path().join("python3");
    std::fs::write(&not_executable, "#!/bin/sh\n").unwrap();
    let error = resolve_interpreter_with(&not_executable.display().to_string(), &cache, &probe)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("not an executable file"),
        "{error}"
    );

    let error = resolve("no-such-python9").await.unwrap_err();
    assert!(
        matches!(error, DiscoveryError::CommandNotFound { .. }),
        "{error}"
    );

    let error = resolve(">=3.x").await.unwrap_err();
    assert!(matches!(error, DiscoveryError::Constraint(_)), "{error}");
    assert!(error.to_string().contains("Valid examples"), "{error}");

    let error = resolve(">=9.0").await.unwrap_err();
    assert!(matches!(error, DiscoveryError::NoMatch { .. }), "{error}");
}

/// A venv is its own interpreter (run through its own path), marked as one.
#[tokio::test]
async fn venvs_are_reported_as_such() {
    let base = pyenv_root().join("versions/3.12.1/bin/python3.12");
    if !base.exists() {
        eprintln!("note: {} is absent; venv check skipped", base.display());
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let venv = temp.path().join("venv");
    let status = std::process::Command::new(&base)
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .env_remove("PYTHONPATH")
        .status()
        .unwrap();
    assert!(status.success());
    let venv_python = venv.join("bin/python");
    let discovery = discover(
        &LocalDiscovery::new()
            .explicit([venv_python.clone(), base.clone()])
            .search(false),
    )
    .await;
    assert_eq!(discovery.interpreters.len(), 2, "{discovery:#?}");
    let in_venv = discovery.find_path(&venv_python).unwrap();
    assert!(in_venv.is_virtualenv);
    assert_eq!(in_venv.prefix, std::fs::canonicalize(&venv).unwrap());
    assert_eq!(in_venv.real_path, base);
    let plain = discovery.find_path(&base).unwrap();
    assert!(!plain.is_virtualenv);
    assert_eq!(in_venv.base_prefix, plain.prefix);
}

/// The probe as a whole is bounded too, and a shell that cannot start or prints
/// no report is a clear error.
#[tokio::test]
async fn probe_failures_are_bounded_and_explained() {
    let temp = tempfile::tempdir().unwrap();
    let hanging_shell = script(temp.path(), "hanging-sh", "sleep 27.1828; :");
    let started = Instant::now();
    let error = LocalDiscovery::new()
        .shell(&hanging_shell)
        .probe_timeout(Duration::from_millis(500))
        .run()
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(error, DiscoveryError::ProbeTimedOut { .. }),
        "{error}"
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert!(error.to_string().contains("--python PATH"), "{error}");
    let deadline = Instant::now() + Duration::from_secs(2);
    while process_running_with_arg("27.1828") {
        assert!(Instant::now() < deadline, "the hung probe's child survived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Cut off while it waits for a hung candidate: asked to stop first, the probe
    // removes its temporary directory.
    let scratch = temp.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let bin = temp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    script(&bin, "python3.99", "exec sleep 26.535");
    let started = Instant::now();
    let error = LocalDiscovery::new()
        .explicit([bin.join("python3.99")])
        .search(false)
        .env("TMPDIR", &scratch)
        .candidate_timeout(Duration::from_secs(5))
        .probe_timeout(Duration::from_millis(700))
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(error, DiscoveryError::ProbeTimedOut { .. }),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().collect();
    assert!(left.is_empty(), "the probe left {left:?}");
    let deadline = Instant::now() + Duration::from_secs(2);
    while process_running_with_arg("26.535") {
        assert!(Instant::now() < deadline, "the hung candidate survived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let error = LocalDiscovery::new()
        .shell("/nonexistent/sh")
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(error, DiscoveryError::ShellUnavailable { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("/nonexistent/sh"), "{error}");

    let complaining_shell = script(
        temp.path(),
        "complaining-sh",
        "echo 'no such luck' >&2; exit 4",
    );
    let error = LocalDiscovery::new()
        .shell(&complaining_shell)
        .run()
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("exited with code 4"), "{message}");
    assert!(message.contains("no such luck"), "{message}");
}

/// True if a process has `arg` as one of its arguments.
fn process_running_with_arg(arg: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.filter_map(Result::ok).any(|entry| {
        std::fs::read(entry.path().join("cmdline"))
            .map(|cmdline| {
                cmdline
                    .split(|&b| b == 0)
                    .any(|part| part == arg.as_bytes())
            })
            .unwrap_or(false)
    })
}
