//! The lowering table: every field, every version boundary.

use std::ffi::OsString;
use std::path::PathBuf;

use super::StartupError;
use super::config::*;
use super::lower::lower;
use super::plan::{Observed, Relation};
use super::target::PythonTarget;
use crate::plan_value::PlanValue;

const PY27: PythonTarget = PythonTarget::cpython(2, 7, 18);
const PY36: PythonTarget = PythonTarget::cpython(3, 6, 15);
const PY37: PythonTarget = PythonTarget::cpython(3, 7, 16);
const PY310: PythonTarget = PythonTarget::cpython(3, 10, 13);
const PY311: PythonTarget = PythonTarget::cpython(3, 11, 2);
const PY312: PythonTarget = PythonTarget::cpython(3, 12, 1);
const PY313: PythonTarget = PythonTarget::cpython(3, 13, 0);
const PYPY39: PythonTarget = PythonTarget::pypy(3, 9, 16);

fn args(config: &StartupConfig, target: &PythonTarget) -> Vec<String> {
    lower(config, target)
        .unwrap_or_else(|e| panic!("{target}: {e}"))
        .args
}

fn with(change: impl FnOnce(&mut StartupConfig)) -> StartupConfig {
    let mut config = StartupConfig::default();
    change(&mut config);
    config
}

fn unsupported(config: &StartupConfig, target: &PythonTarget) -> StartupError {
    match lower(config, target) {
        Err(error @ StartupError::Unsupported { .. }) => error,
        other => panic!("{target}: expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_default_emits_nothing_and_drops_the_masters_python_variables() {
    for target in [PY27, PY311, PYPY39] {
        let plan = lower(&StartupConfig::default(), &target).unwrap();
        assert!(plan.args.is_empty() && plan.expectations.is_empty() && plan.emulations.is_empty());
        let env = plan.env.apply([
            (OsString::from("PATH"), OsString::from("/bin")),
            (OsString::from("PYTHONPATH"), OsString::from("/master")),
            (OsString::from("PYTHONUNBUFFERED"), OsString::from("1")),
        ]);
        assert_eq!(env, vec![(OsString::from("PATH"), OsString::from("/bin"))]);
    }
}

#[test]
fn plain_flags_lower_on_every_version() {
    let config = with(|c| {
        c.ignore_environment = true;
        c.no_user_site = true;
        c.no_site = true;
        c.dont_write_bytecode = true;
        c.unbuffered = true;
        c.optimize = 2;
        c.verbose = 2;
        c.bytes_warning = 1;
        c.warn_options = vec!["error::DeprecationWarning".into()];
    });
    for target in [PY27, PY36, PY311, PY313, PYPY39] {
        assert_eq!(
            args(&config, &target),
            [
                "-E",
                "-s",
                "-S",
                "-B",
                "-u",
                "-OO",
                "-vv",
                "-b",
                "-W",
                "error::DeprecationWarning"
            ]
        );
    }
    let plan = lower(&config, &PY311).unwrap();
    let flag = |name: &str| {
        plan.expectations
            .iter()
            .find(|e| e.observed == Observed::Flag(Box::leak(name.to_string().into_boxed_str())))
    };
    assert!(flag("optimize").is_some_and(|e| e.relation == Relation::Equals(PlanValue::Int(2))));
    assert!(args(&with(|c| c.optimize = 1), &PY311) == ["-O"]);
    assert!(args(&with(|c| c.bytes_warning = 2), &PY311) == ["-bb"]);
}

#[test]
fn isolated_uses_dash_i_where_it_exists_and_is_emulated_elsewhere() {
    let config = with(|c| c.isolated = true);
    assert_eq!(args(&config, &PY311), ["-I"]);
    // Before 3.11 -I keeps sys.path[0]; the core removes it.
    let plan = lower(&config, &PY310).unwrap();
    assert_eq!(plan.args, ["-I"]);
    assert!(plan.first_stage.safe_path);
    // 2.7 has no -I at all.
    let plan = lower(&config, &PY27).unwrap();
    assert_eq!(plan.args, ["-E", "-s"]);
    assert!(plan.first_stage.safe_path);
    assert!(
        plan.emulations[0].contains("has no -I"),
        "{:?}",
        plan.emulations
    );
}

#[test]
fn isolated_with_a_hash_seed_is_emulated_without_dash_i_or_dash_e() {
    let config = with(|c| {
        c.isolated = true;
        c.hash_seed = Some(HashSeed::Fixed(42));
        c.inherit_env = InheritEnv::All;
    });
    for target in [PY311, PY310, PY27] {
        let plan = lower(&config, &target).unwrap();
        assert!(
            !plan.args.iter().any(|a| a == "-I" || a == "-E"),
            "{target}: {:?}",
            plan.args
        );
        assert!(plan.args.contains(&"-s".to_string()));
        assert_eq!(
            plan.args.contains(&"-P".to_string()),
            target.version.at_least(3, 11)
        );
        assert_eq!(plan.first_stage.safe_path, !target.version.at_least(3, 11));
        // The master's PYTHON* variables are dropped even though inherit_env said All.
        let env = plan
            .env
            .apply([(OsString::from("PYTHONPATH"), OsString::from("/master"))]);
        assert_eq!(
            env,
            vec![(OsString::from("PYTHONHASHSEED"), OsString::from("42"))]
        );
        assert!(
            plan.emulations[0].contains("hash_seed"),
            "{:?}",
            plan.emulations
        );
    }
}

#[test]
fn safe_path_is_dash_p_from_3_11_and_emulated_before() {
    let config = with(|c| c.safe_path = true);
    assert_eq!(args(&config, &PY311), ["-P"]);
    let plan = lower(&config, &PY310).unwrap();
    assert!(plan.args.is_empty() && plan.first_stage.safe_path);
    assert!(
        plan.expectations
            .iter()
            .any(|e| e.relation == Relation::FirstPathIsNotCwd)
    );
    assert!(lower(&config, &PYPY39).unwrap().first_stage.safe_path);
}

#[test]
fn x_options_respect_their_first_version() {
    let cases: Vec<(StartupConfig, &[&str], PythonTarget, PythonTarget)> = vec![
        (with(|c| c.dev_mode = true), &["-X", "dev"], PY37, PY36),
        (
            with(|c| c.utf8_mode = Some(Utf8Mode::On)),
            &["-X", "utf8"],
            PY37,
            PY36,
        ),
        (
            with(|c| c.utf8_mode = Some(Utf8Mode::Off)),
            &["-X", "utf8=0"],
            PY37,
            PY36,
        ),
        (
            with(|c| c.faulthandler = true),
            &["-X", "faulthandler"],
            PY36,
            PY27,
        ),
        (
            with(|c| c.tracemalloc = Some(5)),
            &["-X", "tracemalloc=5"],
            PY36,
            PY27,
        ),
        (
            with(|c| c.importtime = true),
            &["-X", "importtime"],
            PY37,
            PY36,
        ),
        (
            with(|c| c.pycache_prefix = Some(PathBuf::from("/tmp/pc"))),
            &["-X", "pycache_prefix=/tmp/pc"],
            PythonTarget::cpython(3, 8, 0),
            PY37,
        ),
        (
            with(|c| c.warn_default_encoding = true),
            &["-X", "warn_default_encoding"],
            PY310,
            PythonTarget::cpython(3, 9, 18),
        ),
        (
            with(|c| c.no_debug_ranges = true),
            &["-X", "no_debug_ranges"],
            PY311,
            PY310,
        ),
        (
            with(|c| c.frozen_modules = Some(FrozenModules::Off)),
            &["-X", "frozen_modules=off"],
            PY311,
            PY310,
        ),
        (
            with(|c| c.int_max_str_digits = Some(1000)),
            &["-X", "int_max_str_digits=1000"],
            PY311,
            PY36,
        ),
        (with(|c| c.perf = true), &["-X", "perf"], PY312, PY311),
        (
            with(|c| c.cpu_count = Some(CpuCount::Fixed(2))),
            &["-X", "cpu_count=2"],
            PY313,
            PY312,
        ),
        (
            with(|c| c.gil = Some(Gil::Enabled)),
            &["-X", "gil=1"],
            PY313,
            PY312,
        ),
    ];
    for (config, expected, first, before) in cases {
        assert_eq!(args(&config, &first), expected, "{first}");
        let error = unsupported(&config, &before);
        let text = error.to_string();
        assert!(
            text.contains(&before.to_string()) && text.contains("needs Python"),
            "{text}"
        );
        // Nothing at all is ever passed to 2.7 as -X: it exits 2 on any.
        assert!(lower(&config, &PY27).is_err());
    }
}

#[test]
fn refusals_name_the_field_the_target_and_an_alternative() {
    let error = unsupported(&with(|c| c.cpu_count = Some(CpuCount::Fixed(2))), &PY312);
    let text = error.to_string();
    assert!(text.starts_with("startup setting cpu_count is not available on CPython 3.12.1: -X cpu_count needs Python 3.13"), "{text}");
    assert!(text.contains("pre-exec hook"), "{text}");
    let text = unsupported(&with(|c| c.tracemalloc = Some(3)), &PYPY39).to_string();
    assert!(
        text.contains("PyPy 3.9.16") && text.contains("PyPy has no tracemalloc"),
        "{text}"
    );
    assert!(
        unsupported(&with(|c| c.quiet = true), &PY27)
            .to_string()
            .contains("-q needs Python 3.2")
    );
}

#[test]
fn int_max_str_digits_counts_security_backports() {
    let config = with(|c| c.int_max_str_digits = Some(640));
    assert!(lower(&config, &PythonTarget::cpython(3, 10, 7)).is_ok());
    assert!(lower(&config, &PythonTarget::cpython(3, 10, 6)).is_err());
    assert!(lower(&config, &PythonTarget::cpython(3, 7, 14)).is_ok());
    assert!(lower(&config, &PYPY39).is_ok());
}

#[test]
fn values_fatal_at_startup_are_refused() {
    let invalid = |config: StartupConfig, field: &str| match lower(&config, &PY313) {
        Err(StartupError::Invalid { field: f, .. }) => assert_eq!(f, field),
        other => panic!("{field}: {other:?}"),
    };
    invalid(with(|c| c.tracemalloc = Some(0)), "tracemalloc");
    invalid(with(|c| c.tracemalloc = Some(65536)), "tracemalloc");
    invalid(
        with(|c| c.int_max_str_digits = Some(639)),
        "int_max_str_digits",
    );
    invalid(
        with(|c| c.cpu_count = Some(CpuCount::Fixed(0))),
        "cpu_count",
    );
    invalid(with(|c| c.optimize = 3), "optimize");
    invalid(
        with(|c| c.io_encoding = Some("utf-8:strict".into())),
        "io_encoding",
    );
    invalid(with(|c| c.platlibdir = Some("a/b".into())), "platlibdir");
    invalid(with(|c| c.umask = Some(0o1000)), "umask");
    invalid(
        with(|c| c.env_set = vec![("A=B".into(), "x".into())]),
        "env_set",
    );
    invalid(with(|c| c.argv = Some(vec![])), "argv");
    assert!(lower(&with(|c| c.int_max_str_digits = Some(0)), &PY313).is_ok());
}

#[test]
fn ignore_environment_conflicts_with_settings_passed_in_the_environment() {
    let config = with(|c| {
        c.ignore_environment = true;
        c.python_path = vec![PathBuf::from("/opt/lib")];
    });
    let text = lower(&config, &PY311).unwrap_err().to_string();
    assert!(
        text.contains("ignore_environment and python_path cannot be combined"),
        "{text}"
    );
}

#[test]
fn environment_settings_lower_to_variables_and_are_reported_back() {
    let config = with(|c| {
        c.hash_seed = Some(HashSeed::Fixed(0));
        c.io_encoding = Some("latin-1".into());
        c.io_errors = Some("replace".into());
        c.python_path = vec![PathBuf::from("/a"), PathBuf::from("/b")];
        c.malloc = Some(Malloc::Debug);
        c.coerce_c_locale = Some(CoerceCLocale::Warn);
        c.env_set = vec![("APP_MODE".into(), "test".into())];
        c.env_unset = vec!["HOME".into()];
    });
    let plan = lower(&config, &PY311).unwrap();
    let env: Vec<(String, String)> = plan
        .env
        .set
        .iter()
        .map(|(k, v)| (k.to_string_lossy().into(), v.to_string_lossy().into()))
        .collect();
    let expected = [
        ("PYTHONHASHSEED", "0"),
        ("PYTHONIOENCODING", "latin-1:replace"),
        ("PYTHONPATH", "/a:/b"),
        ("PYTHONMALLOC", "debug"),
        ("PYTHONCOERCECLOCALE", "warn"),
        ("APP_MODE", "test"),
    ];
    assert_eq!(env, expected.map(|(k, v)| (k.to_string(), v.to_string())));
    assert_eq!(plan.env.unset, vec![OsString::from("HOME")]);
    for name in [
        "PYTHONHASHSEED",
        "PYTHONIOENCODING",
        "PYTHONPATH",
        "PYTHONMALLOC",
        "APP_MODE",
        "HOME",
    ] {
        assert!(
            plan.first_stage.report_env.iter().any(|n| n == name),
            "{name}"
        );
    }
    assert!(
        plan.expectations
            .iter()
            .any(|e| e.observed == Observed::Flag("hash_randomization"))
    );
    let pypy = lower(&with(|c| c.malloc = Some(Malloc::Debug)), &PYPY39)
        .unwrap_err()
        .to_string();
    assert!(pypy.contains("ignores PYTHONMALLOC"), "{pypy}");
    assert!(lower(&with(|c| c.malloc = Some(Malloc::Mimalloc)), &PY312).is_err());
    assert!(lower(&with(|c| c.malloc = Some(Malloc::Mimalloc)), &PY313).is_ok());
    assert!(
        lower(
            &with(|c| c.platlibdir = Some("lib64".into())),
            &PythonTarget::cpython(3, 8, 18)
        )
        .is_err()
    );
}

#[test]
fn first_stage_settings_are_applied_by_the_core_and_checked() {
    let config = with(|c| {
        c.sys_path = Some(vec!["/x".into()]);
        c.argv = Some(vec!["prog".into(), "--flag".into()]);
        c.cwd = Some(PathBuf::from("/tmp"));
        c.umask = Some(0o027);
        c.rlimits = vec![(
            Resource::OpenFiles,
            ResourceLimit {
                soft: Some(256),
                hard: None,
            },
        )];
    });
    let plan = lower(&config, &PY27).unwrap();
    assert!(plan.args.is_empty());
    let stage = &plan.first_stage;
    assert_eq!(stage.sys_path.as_deref(), Some(&["/x".to_string()][..]));
    assert_eq!(stage.argv.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        (stage.cwd.as_deref(), stage.umask),
        (Some("/tmp"), Some(0o027))
    );
    assert_eq!(stage.rlimits, vec![("RLIMIT_NOFILE".to_string(), 256, -2)]);
    let fields: Vec<&str> = plan.expectations.iter().map(|e| e.field).collect();
    assert_eq!(fields, ["sys_path", "argv", "cwd", "umask", "rlimits"]);
}

#[test]
fn presets() {
    let system = StartupConfig::system();
    assert_eq!(args(&system, &PY311), ["-I", "-B"]);
    let plan = lower(&system, &PY310).unwrap();
    assert_eq!(plan.args, ["-I", "-B"]);
    assert!(plan.first_stage.safe_path);
    assert_eq!(args(&system, &PY27), ["-E", "-s", "-B"]);
    let env = plan.env.apply([
        (OsString::from("PATH"), OsString::from("/bin")),
        (OsString::from("SECRET_TOKEN"), OsString::from("x")),
        (OsString::from("PYTHONSTARTUP"), OsString::from("/x")),
    ]);
    assert_eq!(env, vec![(OsString::from("PATH"), OsString::from("/bin"))]);
    assert!(
        StartupConfig::default()
            .version_dependent_fields()
            .is_empty()
    );
    assert_eq!(system.version_dependent_fields(), ["isolated", "safe_path"]);
}
