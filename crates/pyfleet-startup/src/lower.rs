//! Lowering a `StartupConfig` for a known target: a pure function.

use std::ffi::OsString;

use super::StartupError;
use super::capabilities::{Channel, capability, missing};
use super::config::{
    CpuCount, FrozenModules, Gil, HashSeed, InheritEnv, Malloc, ResourceLimit, StartupConfig,
    Utf8Mode,
};
use super::plan::{EnvPlan, Expectation, FirstStage, Observed, Relation, StartupPlan};
use super::target::{Implementation, PythonTarget};
use crate::plan_value::PlanValue;

/// Lower `config` for `target`: interpreter options, launch environment, the core's
/// first-stage steps and the checks of the child's report. Refuses, with the field,
/// the target and an alternative, whatever the target cannot do or would treat as
/// fatal at start-up.
pub fn lower(config: &StartupConfig, target: &PythonTarget) -> Result<StartupPlan, StartupError> {
    validate(config)?;
    let mut lowering = Lowering {
        config,
        target,
        plan: StartupPlan {
            args: Vec::new(),
            env: EnvPlan {
                inherit: config.inherit_env.clone(),
                set: Vec::new(),
                unset: Vec::new(),
            },
            first_stage: FirstStage::default(),
            expectations: Vec::new(),
            emulations: Vec::new(),
        },
    };
    lowering.isolation()?;
    lowering.flags()?;
    lowering.x_options()?;
    lowering.environment_settings()?;
    lowering.first_stage();
    Ok(lowering.plan)
}

struct Lowering<'a> {
    config: &'a StartupConfig,
    target: &'a PythonTarget,
    plan: StartupPlan,
}

/// Settings that reach the interpreter only through `PYTHON*` variables.
fn needs_environment(config: &StartupConfig) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if config.hash_seed.is_some() {
        fields.push("hash_seed");
    }
    if config.io_encoding.is_some() || config.io_errors.is_some() {
        fields.push("io_encoding");
    }
    if !config.python_path.is_empty() {
        fields.push("python_path");
    }
    if config.home.is_some() {
        fields.push("home");
    }
    if config.platlibdir.is_some() {
        fields.push("platlibdir");
    }
    if config.malloc.is_some() {
        fields.push("malloc");
    }
    if config.coerce_c_locale.is_some() {
        fields.push("coerce_c_locale");
    }
    fields
}

impl Lowering<'_> {
    fn refuse(&self, field: &'static str, reason: String) -> StartupError {
        let capability = capability(field);
        StartupError::Unsupported {
            field,
            target: *self.target,
            reason,
            alternative: capability.alternative.to_string(),
        }
    }

    fn require(&self, field: &'static str) -> Result<(), StartupError> {
        match missing(capability(field), self.target) {
            Some(reason) => Err(self.refuse(field, reason)),
            None => Ok(()),
        }
    }

    fn arg(&mut self, arg: impl Into<String>) {
        self.plan.args.push(arg.into());
    }

    fn expect(&mut self, field: &'static str, observed: Observed, relation: Relation) {
        self.plan.expectations.push(Expectation {
            field,
            observed,
            relation,
        });
    }

    fn expect_flag(&mut self, field: &'static str, flag: &'static str, value: i64) {
        self.expect(
            field,
            Observed::Flag(flag),
            Relation::Equals(PlanValue::Int(value)),
        );
    }

    fn probe(
        &mut self,
        field: &'static str,
        probe: &'static str,
        argument: PlanValue,
        expected: PlanValue,
    ) {
        self.plan
            .first_stage
            .probes
            .push((probe.to_string(), argument.clone()));
        self.expect(
            field,
            Observed::Probe(probe, argument),
            Relation::Equals(expected),
        );
    }

    /// `-I`, or its emulation where `-I` is missing or would drop settings that
    /// need the environment; `-E`; safe path.
    fn isolation(&mut self) -> Result<(), StartupError> {
        let config = self.config;
        let env_fields = needs_environment(config);
        if config.ignore_environment && !env_fields.is_empty() {
            return Err(StartupError::Conflict {
                fields: format!("ignore_environment and {}", env_fields.join(", ")),
                reason: "-E makes the interpreter ignore the PYTHON* variables those settings are passed in".into(),
                alternative: "drop ignore_environment: the master's own PYTHON* variables are never passed on unless inherit_env is All".into(),
            });
        }
        let has_isolated_flag = missing(capability("isolated"), self.target).is_none();
        let mut safe_path = config.safe_path;
        if config.isolated && has_isolated_flag && env_fields.is_empty() {
            self.arg("-I");
            self.expect_flag("isolated", "isolated", 1);
            self.expect_flag("isolated", "ignore_environment", 1);
            self.expect_flag("isolated", "no_user_site", 1);
            if self.target.version.at_least(3, 11) {
                // -I implies -P from 3.11 on.
                self.expect_flag("isolated", "safe_path", 1);
                safe_path = false;
            } else {
                // Before 3.11, -I leaves the script directory ('' for -c) on sys.path.
                safe_path = true;
            }
        } else if config.isolated {
            let why = match (has_isolated_flag, env_fields.is_empty()) {
                (true, _) => format!(
                    "-I would make the interpreter ignore {}",
                    env_fields.join(", ")
                ),
                (false, true) => format!("{} has no -I", self.target),
                (false, false) => format!(
                    "{} has no -I, and -E would drop {}",
                    self.target,
                    env_fields.join(", ")
                ),
            };
            let keep_env = !env_fields.is_empty();
            if keep_env {
                self.plan.emulations.push(format!(
                    "isolated: {why}; emulated with -s, a safe sys.path and an environment with no PYTHON* variable but those configured"
                ));
                if self.plan.env.inherit == InheritEnv::All {
                    self.plan.env.inherit = InheritEnv::AllButPython;
                }
            } else {
                self.plan.emulations.push(format!(
                    "isolated: {why}; emulated with -E -s and a safe sys.path"
                ));
                self.arg("-E");
                self.expect_flag("isolated", "ignore_environment", 1);
            }
            self.arg("-s");
            self.expect_flag("isolated", "no_user_site", 1);
            safe_path = true;
        } else if config.ignore_environment {
            self.arg("-E");
            self.expect_flag("ignore_environment", "ignore_environment", 1);
        }
        if config.no_user_site && !self.plan.args.iter().any(|a| a == "-s" || a == "-I") {
            self.arg("-s");
            self.expect_flag("no_user_site", "no_user_site", 1);
        }
        let safe_path_checked =
            safe_path || (config.isolated && self.target.version.at_least(3, 11));
        if safe_path {
            if missing(capability("safe_path"), self.target).is_none() {
                self.arg("-P");
                self.expect_flag("safe_path", "safe_path", 1);
            } else {
                if config.safe_path {
                    self.plan.emulations.push(format!(
                        "safe_path: {} has no -P; the core removes sys.path[0] before any import",
                        self.target
                    ));
                }
                self.plan.first_stage.safe_path = true;
            }
        }
        if safe_path_checked {
            // The flag alone does not prove it: site and sitecustomize run first.
            self.expect("safe_path", Observed::SysPath, Relation::FirstPathIsNotCwd);
        }
        Ok(())
    }

    fn flags(&mut self) -> Result<(), StartupError> {
        let config = self.config;
        if config.no_site {
            self.arg("-S");
            self.expect_flag("no_site", "no_site", 1);
        }
        if config.dont_write_bytecode {
            self.arg("-B");
            self.expect_flag("dont_write_bytecode", "dont_write_bytecode", 1);
        }
        if config.unbuffered {
            self.arg("-u");
            if self.target.version.at_least(3, 0) {
                self.probe(
                    "unbuffered",
                    "stdout_unbuffered",
                    PlanValue::None,
                    PlanValue::Bool(true),
                );
            }
        }
        if config.optimize > 0 {
            self.arg(if config.optimize == 1 { "-O" } else { "-OO" });
            self.expect_flag("optimize", "optimize", i64::from(config.optimize));
        }
        if config.verbose > 0 {
            self.arg(format!("-{}", "v".repeat(usize::from(config.verbose))));
            self.expect_flag("verbose", "verbose", i64::from(config.verbose));
        }
        if config.quiet {
            self.require("quiet")?;
            self.arg("-q");
            self.expect_flag("quiet", "quiet", 1);
        }
        if config.bytes_warning > 0 {
            self.arg(if config.bytes_warning == 1 {
                "-b"
            } else {
                "-bb"
            });
            self.expect_flag(
                "bytes_warning",
                "bytes_warning",
                i64::from(config.bytes_warning),
            );
        }
        for option in &config.warn_options {
            self.arg("-W");
            self.arg(option.clone());
        }
        if !config.warn_options.is_empty() {
            let items = config
                .warn_options
                .iter()
                .map(|w| PlanValue::Str(w.clone()))
                .collect();
            self.expect(
                "warn_options",
                Observed::WarnOptions,
                Relation::ContainsInOrder(items),
            );
        }
        Ok(())
    }

    fn x_option(&mut self, field: &'static str, value: Option<String>) -> Result<(), StartupError> {
        self.require(field)?;
        let Channel::XOption(name) = capability(field).channel else {
            unreachable!("{field} is an -X option")
        };
        self.arg("-X");
        self.arg(match value {
            Some(value) => format!("{name}={value}"),
            None => name.to_string(),
        });
        Ok(())
    }

    fn x_options(&mut self) -> Result<(), StartupError> {
        let config = self.config;
        if config.dev_mode {
            self.x_option("dev_mode", None)?;
            self.expect_flag("dev_mode", "dev_mode", 1);
        }
        match config.utf8_mode {
            Some(Utf8Mode::On) => {
                self.x_option("utf8_mode", None)?;
                self.expect_flag("utf8_mode", "utf8_mode", 1);
            }
            Some(Utf8Mode::Off) => {
                self.x_option("utf8_mode", Some("0".into()))?;
                self.expect_flag("utf8_mode", "utf8_mode", 0);
            }
            None => {}
        }
        if config.faulthandler {
            self.x_option("faulthandler", None)?;
            self.probe(
                "faulthandler",
                "faulthandler",
                PlanValue::None,
                PlanValue::Bool(true),
            );
        }
        if let Some(frames) = config.tracemalloc {
            self.x_option("tracemalloc", Some(frames.to_string()))?;
            self.probe(
                "tracemalloc",
                "tracemalloc_frames",
                PlanValue::None,
                PlanValue::Int(i64::from(frames)),
            );
        }
        if config.importtime {
            self.x_option("importtime", None)?;
            self.probe(
                "importtime",
                "xoption",
                PlanValue::Str("importtime".into()),
                PlanValue::Bool(true),
            );
        }
        if let Some(prefix) = &config.pycache_prefix {
            let text = prefix.to_string_lossy().into_owned();
            self.x_option("pycache_prefix", Some(text.clone()))?;
            self.probe(
                "pycache_prefix",
                "pycache_prefix",
                PlanValue::None,
                PlanValue::Str(text),
            );
        }
        if config.warn_default_encoding {
            self.x_option("warn_default_encoding", None)?;
            self.expect_flag("warn_default_encoding", "warn_default_encoding", 1);
        }
        if config.no_debug_ranges {
            self.x_option("no_debug_ranges", None)?;
            self.probe(
                "no_debug_ranges",
                "debug_ranges",
                PlanValue::None,
                PlanValue::Bool(false),
            );
        }
        if let Some(frozen) = config.frozen_modules {
            let on = frozen == FrozenModules::On;
            self.x_option("frozen_modules", Some(if on { "on" } else { "off" }.into()))?;
            self.probe(
                "frozen_modules",
                "xoption",
                PlanValue::Str("frozen_modules".into()),
                PlanValue::Str(if on { "on" } else { "off" }.into()),
            );
        }
        if let Some(digits) = config.int_max_str_digits {
            self.x_option("int_max_str_digits", Some(digits.to_string()))?;
            self.probe(
                "int_max_str_digits",
                "int_max_str_digits",
                PlanValue::None,
                PlanValue::Int(i64::from(digits)),
            );
        }
        if config.perf {
            self.x_option("perf", None)?;
            self.probe("perf", "perf", PlanValue::None, PlanValue::Bool(true));
        }
        if let Some(count) = config.cpu_count {
            match count {
                CpuCount::Fixed(n) => {
                    self.x_option("cpu_count", Some(n.to_string()))?;
                    self.probe(
                        "cpu_count",
                        "cpu_count",
                        PlanValue::None,
                        PlanValue::Int(i64::from(n)),
                    );
                }
                CpuCount::Default => self.x_option("cpu_count", Some("default".into()))?,
            }
        }
        if let Some(gil) = config.gil {
            let enabled = gil == Gil::Enabled;
            self.x_option("gil", Some(if enabled { "1" } else { "0" }.into()))?;
            self.probe(
                "gil",
                "gil_enabled",
                PlanValue::None,
                PlanValue::Bool(enabled),
            );
        }
        Ok(())
    }

    fn env(&mut self, field: &'static str, value: String) -> Result<(), StartupError> {
        self.require(field)?;
        let Channel::Env(name) = capability(field).channel else {
            unreachable!("{field} is an environment variable")
        };
        self.plan.env.set.push((name.into(), value.clone().into()));
        self.plan.first_stage.report_env.push(name.to_string());
        self.expect(
            field,
            Observed::Env(name.to_string()),
            Relation::Equals(PlanValue::Str(value)),
        );
        Ok(())
    }

    fn environment_settings(&mut self) -> Result<(), StartupError> {
        let config = self.config;
        if let Some(seed) = config.hash_seed {
            let text = match seed {
                HashSeed::Random => "random".to_string(),
                HashSeed::Fixed(n) => n.to_string(),
            };
            self.env("hash_seed", text)?;
            if seed == HashSeed::Fixed(0) && self.target.implementation == Implementation::CPython {
                self.expect_flag("hash_seed", "hash_randomization", 0);
            }
        }
        if config.io_encoding.is_some() || config.io_errors.is_some() {
            let encoding = config.io_encoding.clone().unwrap_or_default();
            let value = match &config.io_errors {
                Some(errors) => format!("{encoding}:{errors}"),
                None => encoding.clone(),
            };
            self.env("io_encoding", value)?;
            if let Some(encoding) = &config.io_encoding {
                let requested = PlanValue::Str(encoding.clone());
                self.probe(
                    "io_encoding",
                    "stdout_codec_matches",
                    requested,
                    PlanValue::Bool(true),
                );
            }
            if let Some(errors) = &config.io_errors {
                self.probe(
                    "io_encoding",
                    "stdout_errors",
                    PlanValue::None,
                    PlanValue::Str(errors.clone()),
                );
            }
        }
        if !config.python_path.is_empty() {
            let entries: Vec<String> = config
                .python_path
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            self.env("python_path", entries.join(":"))?;
            let items = entries.into_iter().map(PlanValue::Str).collect();
            self.expect(
                "python_path",
                Observed::SysPath,
                Relation::ContainsInOrder(items),
            );
        }
        if let Some(home) = &config.home {
            let text = home.to_string_lossy().into_owned();
            self.env("home", text.clone())?;
            self.expect(
                "home",
                Observed::Prefix,
                Relation::Equals(PlanValue::Str(text)),
            );
        }
        if let Some(platlibdir) = &config.platlibdir {
            self.env("platlibdir", platlibdir.clone())?;
            self.probe(
                "platlibdir",
                "platlibdir",
                PlanValue::None,
                PlanValue::Str(platlibdir.clone()),
            );
        }
        if let Some(malloc) = config.malloc {
            if matches!(malloc, Malloc::Mimalloc | Malloc::MimallocDebug)
                && !self.target.version.at_least(3, 13)
            {
                return Err(self.refuse(
                    "malloc",
                    format!(
                        "PYTHONMALLOC={} needs Python 3.13 or newer",
                        malloc.as_str()
                    ),
                ));
            }
            self.env("malloc", malloc.as_str().to_string())?;
        }
        if let Some(coerce) = config.coerce_c_locale {
            self.env("coerce_c_locale", coerce.as_str().to_string())?;
        }
        for (key, value) in &config.env_set {
            self.plan.env.set.push((key.clone(), value.clone()));
            let name = key.to_string_lossy().into_owned();
            self.plan.first_stage.report_env.push(name.clone());
            self.expect(
                "env_set",
                Observed::Env(name),
                Relation::Equals(PlanValue::Str(value.to_string_lossy().into_owned())),
            );
        }
        for key in &config.env_unset {
            self.plan.env.unset.push(key.clone());
            let name = key.to_string_lossy().into_owned();
            self.plan.first_stage.report_env.push(name.clone());
            self.expect(
                "env_unset",
                Observed::Env(name),
                Relation::Equals(PlanValue::None),
            );
        }
        Ok(())
    }

    fn first_stage(&mut self) {
        let config = self.config;
        let stage = &mut self.plan.first_stage;
        stage.sys_path = config.sys_path.clone();
        stage.argv = config.argv.clone();
        stage.cwd = config
            .cwd
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned());
        stage.umask = config.umask;
        stage.rlimits = config
            .rlimits
            .iter()
            .map(|(resource, limit)| {
                // The core reads -2 as "keep" and -1 as "unlimited".
                let raw = |v: Option<u64>| match v {
                    None => -2,
                    Some(ResourceLimit::UNLIMITED) => -1,
                    Some(v) => i64::try_from(v).unwrap_or(i64::MAX),
                };
                (
                    resource.python_name().to_string(),
                    raw(limit.soft),
                    raw(limit.hard),
                )
            })
            .collect();
        if let Some(path) = &config.sys_path {
            let items = path.iter().cloned().map(PlanValue::Str).collect();
            self.expect(
                "sys_path",
                Observed::SysPath,
                Relation::Equals(PlanValue::List(items)),
            );
        }
        if let Some(argv) = &config.argv {
            let items = argv.iter().cloned().map(PlanValue::Str).collect();
            self.expect(
                "argv",
                Observed::Argv,
                Relation::Equals(PlanValue::List(items)),
            );
        }
        if let Some(cwd) = &config.cwd {
            // The child compares with samefile: os.getcwd() resolves symlinks.
            let path = PlanValue::Str(cwd.to_string_lossy().into_owned());
            self.probe("cwd", "cwd_is", path, PlanValue::Bool(true));
        }
        if let Some(umask) = config.umask {
            self.expect(
                "umask",
                Observed::Umask,
                Relation::Equals(PlanValue::Int(i64::from(umask))),
            );
        }
        for (name, soft, hard) in self.plan.first_stage.rlimits.clone() {
            for (probe, value) in [("rlimit_soft", soft), ("rlimit_hard", hard)] {
                if value != -2 {
                    self.probe(
                        "rlimits",
                        probe,
                        PlanValue::Str(name.clone()),
                        PlanValue::Int(value),
                    );
                }
            }
        }
    }
}

/// Values CPython would refuse at start-up with a fatal error, and values that are
/// nonsense for us, refused before anything is spawned.
fn validate(config: &StartupConfig) -> Result<(), StartupError> {
    let invalid = |field: &'static str, value: String, reason: &str| StartupError::Invalid {
        field,
        value,
        reason: reason.to_string(),
    };
    if config.optimize > 2 {
        return Err(invalid(
            "optimize",
            config.optimize.to_string(),
            "must be 0, 1 (-O) or 2 (-OO)",
        ));
    }
    if config.bytes_warning > 2 {
        return Err(invalid(
            "bytes_warning",
            config.bytes_warning.to_string(),
            "must be 0, 1 (-b) or 2 (-bb)",
        ));
    }
    if config.verbose > 3 {
        return Err(invalid(
            "verbose",
            config.verbose.to_string(),
            "more than 3 (-vvv) adds nothing",
        ));
    }
    if let Some(frames) = config.tracemalloc
        && !(1..=65535).contains(&frames)
    {
        return Err(invalid(
            "tracemalloc",
            frames.to_string(),
            "the number of frames must be 1 to 65535 (None leaves tracing off)",
        ));
    }
    if let Some(digits) = config.int_max_str_digits
        && digits != 0
        && digits < 640
    {
        return Err(invalid(
            "int_max_str_digits",
            digits.to_string(),
            "must be 0 (no limit) or at least 640",
        ));
    }
    if let Some(CpuCount::Fixed(0)) = config.cpu_count {
        return Err(invalid("cpu_count", "0".into(), "must be at least 1"));
    }
    for (field, value) in [
        ("io_encoding", &config.io_encoding),
        ("io_errors", &config.io_errors),
    ] {
        if let Some(value) = value
            && (value.is_empty() || value.contains(':') || value.contains('\0'))
        {
            return Err(invalid(
                field,
                value.clone(),
                "must be a non-empty codec or handler name without ':'",
            ));
        }
    }
    for option in &config.warn_options {
        if option.is_empty() || option.contains('\0') {
            return Err(invalid(
                "warn_options",
                option.clone(),
                "must be a non-empty warning filter",
            ));
        }
    }
    if let Some(umask) = config.umask
        && umask > 0o777
    {
        return Err(invalid(
            "umask",
            format!("{umask:o}"),
            "must be at most 0o777",
        ));
    }
    if let Some(argv) = &config.argv
        && argv.is_empty()
    {
        return Err(invalid("argv", "[]".into(), "must hold at least argv[0]"));
    }
    for (key, _) in &config.env_set {
        check_env_name("env_set", key)?;
    }
    for key in &config.env_unset {
        check_env_name("env_unset", key)?;
    }
    for path in &config.python_path {
        if path.to_string_lossy().contains(':') {
            return Err(invalid(
                "python_path",
                path.display().to_string(),
                "an entry cannot contain ':' (the PYTHONPATH separator)",
            ));
        }
    }
    if let Some(platlibdir) = &config.platlibdir
        && (platlibdir.is_empty() || platlibdir.contains('/'))
    {
        return Err(invalid(
            "platlibdir",
            platlibdir.clone(),
            "must be a directory name such as lib or lib64",
        ));
    }
    for (resource, limit) in &config.rlimits {
        if let (Some(soft), Some(hard)) = (limit.soft, limit.hard)
            && soft > hard
        {
            return Err(invalid(
                "rlimits",
                format!("{} soft {soft} > hard {hard}", resource.python_name()),
                "the soft limit cannot exceed the hard limit",
            ));
        }
    }
    Ok(())
}

fn check_env_name(field: &'static str, key: &OsString) -> Result<(), StartupError> {
    let bytes = key.as_encoded_bytes();
    if bytes.is_empty() || bytes.contains(&b'=') || bytes.contains(&0) {
        return Err(StartupError::Invalid {
            field,
            value: key.to_string_lossy().into_owned(),
            reason: "an environment variable name must be non-empty, without '=' or NUL".into(),
        });
    }
    Ok(())
}
