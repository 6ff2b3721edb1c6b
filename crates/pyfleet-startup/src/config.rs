//! `StartupConfig`: every setting a launcher controls, typed (PEP 587 fields).
//!
//! Options only ever say what to turn ON or what value to use; `None`/`false` means
//! "leave the interpreter's default", so nothing here can emit an "off" value that
//! CPython would read as "on" (`-X dev=0` enables dev mode).

use std::ffi::OsString;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The hash seed (`PYTHONHASHSEED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HashSeed {
    /// `PYTHONHASHSEED=random`: a new seed per process (the default behaviour).
    Random,
    /// A fixed seed, 0 disables randomisation; 0 ..= 4294967295.
    Fixed(u32),
}

/// Memory allocators (`PYTHONMALLOC`, 3.6+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Malloc {
    /// `default`
    Default,
    /// `debug`: debug hooks on the default allocators.
    Debug,
    /// `malloc`: libc malloc for all domains.
    Malloc,
    /// `malloc_debug`
    MallocDebug,
    /// `pymalloc`
    Pymalloc,
    /// `pymalloc_debug`
    PymallocDebug,
    /// `mimalloc` (3.13+)
    Mimalloc,
    /// `mimalloc_debug` (3.13+)
    MimallocDebug,
}

impl Malloc {
    /// The value of `PYTHONMALLOC`.
    pub fn as_str(self) -> &'static str {
        match self {
            Malloc::Default => "default",
            Malloc::Debug => "debug",
            Malloc::Malloc => "malloc",
            Malloc::MallocDebug => "malloc_debug",
            Malloc::Pymalloc => "pymalloc",
            Malloc::PymallocDebug => "pymalloc_debug",
            Malloc::Mimalloc => "mimalloc",
            Malloc::MimallocDebug => "mimalloc_debug",
        }
    }
}

/// C locale coercion (`PYTHONCOERCECLOCALE`, 3.7+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoerceCLocale {
    /// `0`: never coerce.
    Off,
    /// `1`: coerce the legacy C locale to a UTF-8 one (the default behaviour).
    On,
    /// `warn`: coerce and warn.
    Warn,
}

impl CoerceCLocale {
    /// The value of `PYTHONCOERCECLOCALE`.
    pub fn as_str(self) -> &'static str {
        match self {
            CoerceCLocale::Off => "0",
            CoerceCLocale::On => "1",
            CoerceCLocale::Warn => "warn",
        }
    }
}

/// `-X cpu_count` (3.13+): what `os.cpu_count()` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CpuCount {
    /// This many CPUs.
    Fixed(u32),
    /// `default`: the real count.
    Default,
}

/// `-X frozen_modules` (3.11+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrozenModules {
    /// Use the frozen stdlib modules.
    On,
    /// Import them from their source files (debugging the stdlib).
    Off,
}

/// `-X utf8` (3.7+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Utf8Mode {
    /// `-X utf8`: UTF-8 mode on.
    On,
    /// `-X utf8=0`: UTF-8 mode off even where it would be on by default.
    Off,
}

/// `-X gil` (3.13+ free-threaded builds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gil {
    /// `-X gil=1`
    Enabled,
    /// `-X gil=0` (refused by builds with a GIL)
    Disabled,
}

/// Which of the master's environment variables the child starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InheritEnv {
    /// All of them, except the master's `PYTHON*` variables (they configure the
    /// master's interpreter, not the child's).
    AllButPython,
    /// All of them, `PYTHON*` included.
    All,
    /// Only these names (plus what the configuration itself sets).
    Only(Vec<String>),
}

/// A resource limit (`setrlimit`), applied by the core before any user code.
/// `None` keeps the current limit; [`ResourceLimit::UNLIMITED`] lifts it (raising
/// a hard limit needs privilege).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLimit {
    /// Soft limit.
    pub soft: Option<u64>,
    /// Hard limit.
    pub hard: Option<u64>,
}

impl ResourceLimit {
    /// No limit (`RLIM_INFINITY`).
    pub const UNLIMITED: u64 = u64::MAX;
}

/// Resources that can be limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Resource {
    /// RLIMIT_AS: address space.
    AddressSpace,
    /// RLIMIT_CORE: core file size.
    Core,
    /// RLIMIT_CPU: CPU seconds.
    Cpu,
    /// RLIMIT_DATA: data segment.
    Data,
    /// RLIMIT_FSIZE: file size.
    FileSize,
    /// RLIMIT_NOFILE: open files.
    OpenFiles,
    /// RLIMIT_NPROC: processes.
    Processes,
    /// RLIMIT_STACK: stack size.
    Stack,
}

impl Resource {
    /// The name in Python's `resource` module.
    pub fn python_name(self) -> &'static str {
        match self {
            Resource::AddressSpace => "RLIMIT_AS",
            Resource::Core => "RLIMIT_CORE",
            Resource::Cpu => "RLIMIT_CPU",
            Resource::Data => "RLIMIT_DATA",
            Resource::FileSize => "RLIMIT_FSIZE",
            Resource::OpenFiles => "RLIMIT_NOFILE",
            Resource::Processes => "RLIMIT_NPROC",
            Resource::Stack => "RLIMIT_STACK",
        }
    }
}

/// What to do when the child's report differs from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Verify {
    /// Fail the context with a report of every difference (the default).
    #[default]
    Strict,
    /// Log the differences and carry on.
    Warn,
    /// Do not compare.
    Off,
}

/// Every start-up setting of a child interpreter.
///
/// Launch-phase settings become interpreter options and environment variables;
/// what no option can express (sys.path, argv, working directory, umask,
/// environment edits, resource limits) is applied by the core before HELLO. The
/// child's HELLO is then compared with what was asked (see [`Verify`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartupConfig {
    /// `-I`: isolated mode (no environment, no user site, no script directory on
    /// sys.path). Combined with settings that need the environment (hash seed, io
    /// encoding, PYTHONPATH …) it is emulated: curated environment, `-s`, safe path.
    pub isolated: bool,
    /// `-E`: ignore `PYTHON*` environment variables.
    pub ignore_environment: bool,
    /// `-s`: no user site-packages directory.
    pub no_user_site: bool,
    /// `-S`: no `site` import.
    pub no_site: bool,
    /// `-P` (3.11+): no potentially unsafe path on sys.path; emulated on older
    /// versions by removing sys.path[0] before any import.
    pub safe_path: bool,
    /// `-B`: do not write .pyc files.
    pub dont_write_bytecode: bool,
    /// `-u`: unbuffered binary stdout and stderr.
    pub unbuffered: bool,
    /// `-O` (1) or `-OO` (2).
    pub optimize: u8,
    /// `-v`, repeated.
    pub verbose: u8,
    /// `-q` (3.2+): no copyright banner (interactive mode only).
    pub quiet: bool,
    /// `-b` (1) or `-bb` (2).
    pub bytes_warning: u8,
    /// `-W` options, in order.
    pub warn_options: Vec<String>,
    /// `-X dev` (3.7+).
    pub dev_mode: bool,
    /// `-X utf8[=0]` (3.7+).
    pub utf8_mode: Option<Utf8Mode>,
    /// `-X faulthandler` (3.3+).
    pub faulthandler: bool,
    /// `-X tracemalloc[=N]` (3.4+): trace allocations keeping N frames (1 ..= 65535).
    pub tracemalloc: Option<u32>,
    /// `-X importtime` (3.7+).
    pub importtime: bool,
    /// `-X pycache_prefix=PATH` (3.8+).
    pub pycache_prefix: Option<PathBuf>,
    /// `-X warn_default_encoding` (3.10+).
    pub warn_default_encoding: bool,
    /// `-X no_debug_ranges` (3.11+).
    pub no_debug_ranges: bool,
    /// `-X frozen_modules=on|off` (3.11+).
    pub frozen_modules: Option<FrozenModules>,
    /// `-X int_max_str_digits=N` (3.11+, and 3.7.14 / 3.8.14 / 3.9.14 / 3.10.7 and
    /// later backports): 0 (no limit) or 640 and more.
    pub int_max_str_digits: Option<u32>,
    /// `-X perf` (3.12+, Linux): the perf profiler trampoline.
    pub perf: bool,
    /// `-X cpu_count` (3.13+).
    pub cpu_count: Option<CpuCount>,
    /// `-X gil` (3.13+, free-threaded builds).
    pub gil: Option<Gil>,
    /// `PYTHONHASHSEED`.
    pub hash_seed: Option<HashSeed>,
    /// `PYTHONIOENCODING` encoding part.
    pub io_encoding: Option<String>,
    /// `PYTHONIOENCODING` errors part.
    pub io_errors: Option<String>,
    /// `PYTHONPATH` entries, in order.
    pub python_path: Vec<PathBuf>,
    /// `PYTHONHOME`.
    pub home: Option<PathBuf>,
    /// `PYTHONPLATLIBDIR` (3.9+).
    pub platlibdir: Option<String>,
    /// `PYTHONMALLOC` (3.6+).
    pub malloc: Option<Malloc>,
    /// `PYTHONCOERCECLOCALE` (3.7+).
    pub coerce_c_locale: Option<CoerceCLocale>,

    /// Replace sys.path entirely (applied by the core).
    pub sys_path: Option<Vec<String>>,
    /// Replace sys.argv (applied by the core); `argv[0]` included.
    pub argv: Option<Vec<String>>,
    /// Working directory (at launch where the method can, and by the core).
    pub cwd: Option<PathBuf>,
    /// File mode creation mask (applied by the core).
    pub umask: Option<u32>,
    /// Which of the master's environment variables are passed on.
    pub inherit_env: InheritEnv,
    /// Variables to set (after inheritance).
    pub env_set: Vec<(OsString, OsString)>,
    /// Variables to remove (after inheritance).
    pub env_unset: Vec<OsString>,
    /// Resource limits (applied by the core).
    pub rlimits: Vec<(Resource, ResourceLimit)>,

    /// Compare the child's report with this configuration.
    pub verify: Verify,
}

impl Default for StartupConfig {
    /// No interpreter option at all and the master's environment without its
    /// `PYTHON*` variables: the interpreter's own defaults, nothing inherited by
    /// accident.
    fn default() -> Self {
        StartupConfig {
            isolated: false,
            ignore_environment: false,
            no_user_site: false,
            no_site: false,
            safe_path: false,
            dont_write_bytecode: false,
            unbuffered: false,
            optimize: 0,
            verbose: 0,
            quiet: false,
            bytes_warning: 0,
            warn_options: Vec::new(),
            dev_mode: false,
            utf8_mode: None,
            faulthandler: false,
            tracemalloc: None,
            importtime: false,
            pycache_prefix: None,
            warn_default_encoding: false,
            no_debug_ranges: false,
            frozen_modules: None,
            int_max_str_digits: None,
            perf: false,
            cpu_count: None,
            gil: None,
            hash_seed: None,
            io_encoding: None,
            io_errors: None,
            python_path: Vec::new(),
            home: None,
            platlibdir: None,
            malloc: None,
            coerce_c_locale: None,
            sys_path: None,
            argv: None,
            cwd: None,
            umask: None,
            inherit_env: InheritEnv::AllButPython,
            env_set: Vec::new(),
            env_unset: Vec::new(),
            rlimits: Vec::new(),
            verify: Verify::Strict,
        }
    }
}

/// Environment variables a "system" interpreter keeps: what programs need to find
/// things and speak the user's language, nothing that configures Python.
pub const SYSTEM_ENV_ALLOW_LIST: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "LC_NUMERIC",
    "LC_TIME",
    "LC_COLLATE",
    "LC_MONETARY",
    "TZ",
    "TMPDIR",
    "TERM",
];

impl StartupConfig {
    /// The "system Python" of PEP 432: isolated from the user's environment and
    /// site, script directory off sys.path, no bytecode written, and an environment
    /// reduced to [`SYSTEM_ENV_ALLOW_LIST`].
    pub fn system() -> StartupConfig {
        StartupConfig {
            isolated: true,
            no_user_site: true,
            safe_path: true,
            dont_write_bytecode: true,
            inherit_env: InheritEnv::Only(
                SYSTEM_ENV_ALLOW_LIST
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            ..StartupConfig::default()
        }
    }
}

impl StartupConfig {
    /// Fields whose lowering depends on the interpreter's version; empty means the
    /// configuration lowers the same for every supported interpreter, so nothing
    /// needs to be known (or probed) before spawning.
    pub fn version_dependent_fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let mut add = |set: bool, field: &'static str| {
            if set {
                fields.push(field);
            }
        };
        add(self.isolated, "isolated");
        add(self.safe_path, "safe_path");
        add(self.quiet, "quiet");
        add(self.dev_mode, "dev_mode");
        add(self.utf8_mode.is_some(), "utf8_mode");
        add(self.faulthandler, "faulthandler");
        add(self.tracemalloc.is_some(), "tracemalloc");
        add(self.importtime, "importtime");
        add(self.pycache_prefix.is_some(), "pycache_prefix");
        add(self.warn_default_encoding, "warn_default_encoding");
        add(self.no_debug_ranges, "no_debug_ranges");
        add(self.frozen_modules.is_some(), "frozen_modules");
        add(self.int_max_str_digits.is_some(), "int_max_str_digits");
        add(self.perf, "perf");
        add(self.cpu_count.is_some(), "cpu_count");
        add(self.gil.is_some(), "gil");
        add(self.platlibdir.is_some(), "platlibdir");
        add(self.malloc.is_some(), "malloc");
        add(self.coerce_c_locale.is_some(), "coerce_c_locale");
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_round_trip_through_json() {
        let mut config = StartupConfig::system();
        config.hash_seed = Some(HashSeed::Fixed(7));
        config.env_set.push(("LANG".into(), "C.UTF-8".into()));
        config.env_unset.push("TZ".into());
        config.rlimits.push((
            Resource::OpenFiles,
            ResourceLimit {
                soft: Some(1024),
                hard: None,
            },
        ));
        config.cpu_count = Some(CpuCount::Fixed(2));
        let text = serde_json::to_string(&config).unwrap();
        let back: StartupConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, config);
    }
}
