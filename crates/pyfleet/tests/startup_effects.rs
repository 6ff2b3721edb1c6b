//! Every start-up setting, on every interpreter here that has it: the child starts
//! with strict verification (so its HELLO showed the effect), and settings it lacks
//! are refused before anything is spawned.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use context_util::within;
use interpreters::interpreters;
use pyfleet::startup::{
    CpuCount, FrozenModules, HashSeed, InheritEnv, Resource, ResourceLimit, StartupConfig,
    StartupError, Utf8Mode, Verify,
};
use pyfleet::{Broker, ConnectError, Context, LocalOptions, Value};

/// One setting to try: its name and how it changes a default configuration.
type Case = (&'static str, fn(&mut StartupConfig));

fn cases() -> Vec<Case> {
    vec![
        ("isolated", |c| c.isolated = true),
        ("ignore_environment", |c| c.ignore_environment = true),
        ("no_user_site", |c| c.no_user_site = true),
        ("no_site", |c| c.no_site = true),
        ("safe_path", |c| c.safe_path = true),
        ("dont_write_bytecode", |c| c.dont_write_bytecode = true),
        ("unbuffered", |c| c.unbuffered = true),
        ("optimize", |c| c.optimize = 2),
        ("bytes_warning", |c| c.bytes_warning = 1),
        ("warn_options", |c| {
            c.warn_options = vec!["ignore::DeprecationWarning".into()]
        }),
        ("quiet", |c| c.quiet = true),
        ("dev_mode", |c| c.dev_mode = true),
        ("utf8_mode", |c| c.utf8_mode = Some(Utf8Mode::On)),
        ("faulthandler", |c| c.faulthandler = true),
        ("tracemalloc", |c| c.tracemalloc = Some(4)),
        ("importtime", |c| c.importtime = true),
        ("pycache_prefix", |c| {
            c.pycache_prefix = Some(PathBuf::from("/tmp/pyfleet-pycache"))
        }),
        ("warn_default_encoding", |c| c.warn_default_encoding = true),
        ("no_debug_ranges", |c| c.no_debug_ranges = true),
        ("frozen_modules", |c| {
            c.frozen_modules = Some(FrozenModules::Off)
        }),
        ("int_max_str_digits", |c| c.int_max_str_digits = Some(1234)),
        ("perf", |c| c.perf = true),
        ("cpu_count", |c| c.cpu_count = Some(CpuCount::Fixed(1))),
        ("hash_seed", |c| c.hash_seed = Some(HashSeed::Fixed(1234))),
        ("io_encoding", |c| {
            c.io_encoding = Some("latin-1".into());
            c.io_errors = Some("replace".into());
        }),
        ("python_path", |c| {
            c.python_path = vec![PathBuf::from("/tmp/pyfleet-extra-path")]
        }),
        ("sys_path", |c| {
            c.sys_path = Some(vec!["/tmp/only-this".into()])
        }),
        ("argv", |c| {
            c.argv = Some(vec!["tool".into(), "--check".into()])
        }),
        ("cwd", |c| c.cwd = Some(PathBuf::from("/tmp"))),
        ("umask", |c| c.umask = Some(0o027)),
        ("env", |c| {
            c.env_set = vec![("PYFLEET_TEST_MODE".into(), "on".into())];
            c.env_unset = vec!["HOME".into()];
        }),
        ("rlimits", |c| {
            c.rlimits = vec![(
                Resource::OpenFiles,
                ResourceLimit {
                    soft: Some(200),
                    hard: None,
                },
            )]
        }),
        ("isolated+hash_seed", |c| {
            c.isolated = true;
            c.hash_seed = Some(HashSeed::Fixed(7));
        }),
        ("isolated+io_encoding+python_path", |c| {
            c.isolated = true;
            c.io_encoding = Some("utf-8".into());
            c.python_path = vec![PathBuf::from("/tmp/pyfleet-extra-path")];
        }),
        ("system", |c| *c = StartupConfig::system()),
    ]
}

async fn start(
    broker: &Broker,
    python: &Path,
    config: StartupConfig,
) -> Result<Context, ConnectError> {
    within(
        "a configured context",
        broker.local(LocalOptions::new().python(python).startup(config)),
    )
    .await
}

/// What each interpreter must refuse, as measured by running them with each option
/// (kept apart from the library's own table so that a wrong entry there fails).
fn expected_refusals(facts: &pyfleet::ChildFacts) -> Vec<&'static str> {
    let (major, minor, micro) = (facts.version.0, facts.version.1, facts.version.2);
    let pypy = facts.implementation == "pypy";
    let before = |m: u32, n: u32| (major, minor) < (m, n);
    let int_digits_backported = match (major, minor) {
        (3, 7..=9) => micro >= 14,
        (3, 10) => micro >= 7,
        _ => false,
    };
    let table: [(&'static str, bool); 13] = [
        ("quiet", before(3, 2)),
        ("dev_mode", before(3, 7)),
        ("utf8_mode", before(3, 7)),
        ("faulthandler", before(3, 3)),
        ("tracemalloc", before(3, 4) || pypy),
        ("importtime", before(3, 7) || pypy),
        ("pycache_prefix", before(3, 8)),
        ("warn_default_encoding", before(3, 10)),
        ("no_debug_ranges", before(3, 11)),
        ("frozen_modules", before(3, 11)),
        (
            "int_max_str_digits",
            before(3, 11) && !int_digits_backported && !pypy,
        ),
        ("perf", before(3, 12) || pypy),
        ("cpu_count", before(3, 13)),
    ];
    table
        .iter()
        .filter(|(_, refused)| *refused)
        .map(|(name, _)| *name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_setting_takes_effect_or_is_refused_on_every_interpreter() {
    let broker = Broker::new();
    let mut report = Vec::new();
    for python in interpreters() {
        let mut started = 0;
        let mut refused = Vec::new();
        for (name, change) in cases() {
            let mut config = StartupConfig::default();
            change(&mut config);
            match start(&broker, &python, config).await {
                Ok(ctx) => {
                    let verification = ctx.effective_config().verification;
                    assert!(
                        verification.passed(),
                        "{}: {name}: {verification}",
                        python.display()
                    );
                    // Python 2 has no way to observe -u (its file objects hide buffering).
                    let unobservable = name == "unbuffered" && ctx.facts().version.0 == 2;
                    assert!(
                        unobservable || !verification.checks.is_empty(),
                        "{}: {name} was checked",
                        python.display()
                    );
                    started += 1;
                    ctx.shutdown().await;
                }
                Err(ConnectError::Startup(StartupError::Unsupported { field, .. })) => {
                    refused.push(field)
                }
                Err(other) => panic!("{}: {name}: {other}", python.display()),
            }
        }
        let probe = context_util::start(&broker, &python).await;
        assert_eq!(
            refused,
            expected_refusals(probe.facts()),
            "{}",
            python.display()
        );
        report.push(format!(
            "{}: {started} started and verified, refused {refused:?}",
            python.display()
        ));
    }
    eprintln!("{}", report.join("\n"));
    broker.shutdown().await;
}

#[tokio::test]
async fn effects_are_real_not_just_reported() {
    let broker = Broker::new();
    let python = Path::new(interpreters::SYSTEM_PYTHON);
    let seeded = |seed| StartupConfig {
        isolated: true,
        hash_seed: Some(HashSeed::Fixed(seed)),
        ..StartupConfig::default()
    };
    let hash =
        |ctx: Context| async move { ctx.exec("hash('pyfleet')").await.unwrap().value.unwrap() };
    let a = hash(start(&broker, python, seeded(99)).await.unwrap()).await;
    let b = hash(start(&broker, python, seeded(99)).await.unwrap()).await;
    let c = hash(start(&broker, python, seeded(100)).await.unwrap()).await;
    assert_eq!(a, b, "the same seed gives the same hashes");
    assert_ne!(a, c);

    let config = StartupConfig {
        cwd: Some(PathBuf::from("/tmp")),
        umask: Some(0o077),
        argv: Some(vec!["tool".into(), "x".into()]),
        env_set: vec![(OsString::from("PYFLEET_TEST_MODE"), OsString::from("on"))],
        ..StartupConfig::default()
    };
    let ctx = start(&broker, python, config).await.unwrap();
    let outcome = ctx
        .exec("import os, sys\nm = os.umask(0); os.umask(m)\n(os.getcwd(), m, sys.argv, os.environ['PYFLEET_TEST_MODE'])")
        .await
        .unwrap();
    let expected = Value::Tuple(vec![
        Value::Str("/tmp".into()),
        Value::Int(0o077),
        Value::List(vec![Value::Str("tool".into()), Value::Str("x".into())]),
        Value::Str("on".into()),
    ]);
    assert_eq!(outcome.value, Some(expected));
    broker.shutdown().await;
}

#[tokio::test]
async fn the_masters_python_variables_never_leak_unless_asked() {
    // The test process itself runs with PYTHONUNBUFFERED/PYTHONDONTWRITEBYTECODE
    // set on this machine; set one more explicitly to be sure there is one.
    let broker = Broker::new();
    let python = Path::new(interpreters::SYSTEM_PYTHON);
    let leaked = |ctx: Context| async move {
        let v: Vec<String> = ctx
            .call(
                "pyfleet_core.execution",
                "run",
                ("sorted(k for k in __import__('os').environ if k.startswith('PYTHON'))",),
                (),
            )
            .await
            .map(|o: pyfleet::ExecOutcome| pyfleet::wire::from_value(o.value.unwrap()).unwrap())
            .unwrap();
        v
    };
    let local = LocalOptions::new()
        .python(python)
        .env("PYFLEET_MARKER", "1");
    let ctx = within("a context", broker.local(local)).await.unwrap();
    assert_eq!(leaked(ctx).await, Vec::<String>::new());
    let config = StartupConfig {
        inherit_env: InheritEnv::All,
        ..StartupConfig::default()
    };
    if std::env::vars_os().any(|(k, _)| k.as_encoded_bytes().starts_with(b"PYTHON")) {
        let ctx = start(&broker, python, config).await.unwrap();
        assert!(
            !leaked(ctx).await.is_empty(),
            "inherit_env All passes them on"
        );
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn a_sitecustomize_that_rewrites_sys_path_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sitecustomize.py"),
        "import sys\nsys.path.insert(0, '')\n",
    )
    .unwrap();
    let broker = Broker::new();
    for python in interpreters() {
        let config = StartupConfig {
            safe_path: true,
            python_path: vec![dir.path().to_path_buf()],
            ..StartupConfig::default()
        };
        match start(&broker, &python, config.clone()).await {
            Err(ConnectError::StartupMismatch { report, .. }) => {
                assert!(
                    report.contains("safe_path: sys.path is"),
                    "{}: {report}",
                    python.display()
                );
            }
            Err(ConnectError::Startup(StartupError::Unsupported { .. })) => {}
            Ok(_) => panic!(
                "{}: the rewritten sys.path was not caught",
                python.display()
            ),
            Err(other) => panic!("{}: {other}", python.display()),
        }
        // With verification set to warn, the context starts and reports the failure.
        let warned = StartupConfig {
            verify: Verify::Warn,
            ..config
        };
        if let Ok(ctx) = start(&broker, &python, warned).await {
            let verification = ctx.effective_config().verification;
            assert!(!verification.passed());
            assert_eq!(verification.mismatches().next().unwrap().field, "safe_path");
        }
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn a_wrongly_assumed_version_is_caught() {
    let broker = Broker::new();
    let options = LocalOptions::new()
        .python(interpreters::SYSTEM_PYTHON)
        .python_target(pyfleet::startup::PythonTarget::cpython(3, 9, 0))
        // -P on 3.11, emulated on 3.9: the options differ between the two.
        .startup(StartupConfig {
            safe_path: true,
            ..StartupConfig::default()
        });
    let error = within("a context", broker.local(options))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ConnectError::TargetMismatch { .. }),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains("the interpreter is CPython 3.11"), "{text}");
}

#[tokio::test]
async fn paths_the_interpreter_would_abort_on_are_refused_before_spawning() {
    let broker = Broker::new();
    let python = Path::new(interpreters::SYSTEM_PYTHON);
    for (config, field) in [
        (
            StartupConfig {
                home: Some("/nonexistent/home".into()),
                ..StartupConfig::default()
            },
            "home",
        ),
        (
            StartupConfig {
                platlibdir: Some("nonexistent".into()),
                ..StartupConfig::default()
            },
            "platlibdir",
        ),
        (
            StartupConfig {
                cwd: Some("/nonexistent/dir".into()),
                ..StartupConfig::default()
            },
            "cwd",
        ),
    ] {
        match start(&broker, python, config).await {
            Err(ConnectError::Startup(StartupError::MissingPath { field: f, .. })) => {
                assert_eq!(f, field)
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    let error = start(
        &broker,
        python,
        StartupConfig {
            tracemalloc: Some(70000),
            ..StartupConfig::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("tracemalloc = \"70000\" is invalid"),
        "{error}"
    );
}
