//! Which interpreter has which start-up setting, since when.
//!
//! Checked against the interpreters themselves (2.7, 3.6 – 3.13, PyPy 3.9): an
//! interpreter that lacks an option either exits 2 (`-P` before 3.11, any `-X` on
//! 2.7) or silently ignores it (an unknown `-X` on 3.x), so a missing capability
//! must be refused here, before spawning, never left to the interpreter.

use super::target::{Implementation, PythonTarget, PythonVersion};

/// How a setting reaches the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A command-line flag.
    Flag(&'static str),
    /// An `-X` option.
    XOption(&'static str),
    /// An environment variable (ignored under `-I` and `-E`).
    Env(&'static str),
}

impl Channel {
    /// How to write it in messages: "-P", "-X dev", "PYTHONHASHSEED".
    pub fn describe(&self) -> String {
        match self {
            Channel::Flag(flag) => (*flag).to_string(),
            Channel::XOption(name) => format!("-X {name}"),
            Channel::Env(name) => (*name).to_string(),
        }
    }
}

/// How PyPy treats a setting that its language version has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnPyPy {
    /// Like CPython of the same language version.
    AsCPython,
    /// Accepted but without effect (or unavailable): refused, with this reason.
    Unsupported(&'static str),
}

/// One start-up setting's availability.
#[derive(Debug, Clone, Copy)]
pub struct Capability {
    /// The `StartupConfig` field.
    pub field: &'static str,
    /// How it is passed.
    pub channel: Channel,
    /// First CPython version with it.
    pub since: PythonVersion,
    /// Older branches that received it in a bugfix release: the first such release
    /// of each branch.
    pub backports: &'static [PythonVersion],
    /// PyPy's support.
    pub pypy: OnPyPy,
    /// What to do instead where it is missing.
    pub alternative: &'static str,
}

const fn v(major: u32, minor: u32) -> PythonVersion {
    PythonVersion::new(major, minor, 0)
}

const ALWAYS: PythonVersion = v(2, 7);

macro_rules! cap {
    ($field:literal, $channel:expr, $since:expr, $alternative:literal) => {
        Capability {
            field: $field,
            channel: $channel,
            since: $since,
            backports: &[],
            pypy: OnPyPy::AsCPython,
            alternative: $alternative,
        }
    };
    ($field:literal, $channel:expr, $since:expr, $alternative:literal, pypy: $pypy:literal) => {
        Capability {
            field: $field,
            channel: $channel,
            since: $since,
            backports: &[],
            pypy: OnPyPy::Unsupported($pypy),
            alternative: $alternative,
        }
    };
}

use Channel::{Env, Flag, XOption};

/// Every launch-phase setting.
pub static CAPABILITIES: &[Capability] = &[
    cap!(
        "isolated",
        Flag("-I"),
        v(3, 4),
        "it is emulated on older versions (-E -s and a safe sys.path)"
    ),
    cap!("ignore_environment", Flag("-E"), ALWAYS, ""),
    cap!("no_user_site", Flag("-s"), ALWAYS, ""),
    cap!("no_site", Flag("-S"), ALWAYS, ""),
    cap!(
        "safe_path",
        Flag("-P"),
        v(3, 11),
        "it is emulated on older versions by removing sys.path[0]"
    ),
    cap!("dont_write_bytecode", Flag("-B"), ALWAYS, ""),
    cap!("unbuffered", Flag("-u"), ALWAYS, ""),
    cap!("optimize", Flag("-O"), ALWAYS, ""),
    cap!("verbose", Flag("-v"), ALWAYS, ""),
    cap!(
        "quiet",
        Flag("-q"),
        v(3, 2),
        "leave it unset: it only affects the interactive banner"
    ),
    cap!("bytes_warning", Flag("-b"), ALWAYS, ""),
    cap!("warn_options", Flag("-W"), ALWAYS, ""),
    cap!(
        "dev_mode",
        XOption("dev"),
        v(3, 7),
        "enable the pieces you need: -W default, faulthandler, PYTHONMALLOC=debug"
    ),
    cap!(
        "utf8_mode",
        XOption("utf8"),
        v(3, 7),
        "set io_encoding to utf-8 instead"
    ),
    cap!(
        "faulthandler",
        XOption("faulthandler"),
        v(3, 3),
        "call faulthandler.enable() in the child"
    ),
    cap!("tracemalloc", XOption("tracemalloc"), v(3, 4), "use a CPython 3.4 or newer", pypy: "PyPy has no tracemalloc"),
    cap!("importtime", XOption("importtime"), v(3, 7), "use -v for import tracing", pypy: "PyPy accepts -X importtime but prints nothing"),
    cap!(
        "pycache_prefix",
        XOption("pycache_prefix"),
        v(3, 8),
        "use dont_write_bytecode to keep the tree clean"
    ),
    cap!(
        "warn_default_encoding",
        XOption("warn_default_encoding"),
        v(3, 10),
        "use a CPython 3.10 or newer"
    ),
    cap!(
        "no_debug_ranges",
        XOption("no_debug_ranges"),
        v(3, 11),
        "older versions have no column ranges to drop"
    ),
    cap!(
        "frozen_modules",
        XOption("frozen_modules"),
        v(3, 11),
        "older versions do not freeze stdlib modules"
    ),
    Capability {
        field: "int_max_str_digits",
        channel: XOption("int_max_str_digits"),
        since: v(3, 11),
        backports: &[
            PythonVersion::new(3, 7, 14),
            PythonVersion::new(3, 8, 14),
            PythonVersion::new(3, 9, 14),
            PythonVersion::new(3, 10, 7),
        ],
        pypy: OnPyPy::AsCPython,
        alternative: "older releases have no limit to set",
    },
    cap!("perf", XOption("perf"), v(3, 12), "use a CPython 3.12 or newer", pypy: "PyPy has no perf trampoline"),
    cap!(
        "cpu_count",
        XOption("cpu_count"),
        v(3, 13),
        "set an affinity mask with a pre-exec hook instead"
    ),
    cap!("gil", XOption("gil"), v(3, 13), "use a free-threaded CPython 3.13 or newer", pypy: "PyPy has no -X gil"),
    cap!("hash_seed", Env("PYTHONHASHSEED"), ALWAYS, ""),
    cap!("io_encoding", Env("PYTHONIOENCODING"), ALWAYS, ""),
    cap!("python_path", Env("PYTHONPATH"), ALWAYS, ""),
    cap!("home", Env("PYTHONHOME"), ALWAYS, ""),
    cap!("platlibdir", Env("PYTHONPLATLIBDIR"), v(3, 9), "use home or sys_path instead", pypy: "PyPy ignores PYTHONPLATLIBDIR"),
    cap!("malloc", Env("PYTHONMALLOC"), v(3, 6), "use a CPython 3.6 or newer", pypy: "PyPy has its own garbage collector and ignores PYTHONMALLOC"),
    cap!("coerce_c_locale", Env("PYTHONCOERCECLOCALE"), v(3, 7), "set LC_ALL or LC_CTYPE through env_set instead", pypy: "PyPy does not coerce the C locale"),
];

/// The capability of `field`. Panics for an unknown field: the table covers every
/// launch-phase field of `StartupConfig` (a unit test checks it).
pub fn capability(field: &str) -> &'static Capability {
    CAPABILITIES
        .iter()
        .find(|c| c.field == field)
        .unwrap_or_else(|| panic!("no capability entry for {field}"))
}

/// Why `target` cannot take this setting, or `None` if it can.
pub fn missing(capability: &Capability, target: &PythonTarget) -> Option<String> {
    if target.implementation == Implementation::PyPy
        && let OnPyPy::Unsupported(reason) = capability.pypy
    {
        return Some(reason.to_string());
    }
    let version = target.version;
    let native = version >= capability.since;
    let backported = capability
        .backports
        .iter()
        .any(|b| b.major == version.major && b.minor == version.minor && version.micro >= b.micro);
    if native || backported {
        return None;
    }
    let mut reason = format!(
        "{} needs Python {}.{} or newer",
        capability.channel.describe(),
        capability.since.major,
        capability.since.minor
    );
    if !capability.backports.is_empty() {
        let list: Vec<String> = capability
            .backports
            .iter()
            .map(ToString::to_string)
            .collect();
        reason.push_str(&format!(" (or {})", list.join(", ")));
    }
    Some(reason)
}

/// True if the interpreter reads `PYTHON*` variables in this configuration.
pub fn environment_is_read(isolated_flag: bool, ignore_environment: bool) -> bool {
    !isolated_flag && !ignore_environment
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_boundaries() {
        let p = capability("safe_path");
        assert!(
            missing(p, &PythonTarget::cpython(3, 10, 13))
                .unwrap()
                .contains("-P needs Python 3.11")
        );
        assert!(missing(p, &PythonTarget::cpython(3, 11, 0)).is_none());
        let cpu = capability("cpu_count");
        assert!(missing(cpu, &PythonTarget::cpython(3, 12, 1)).is_some());
        assert!(missing(cpu, &PythonTarget::cpython(3, 13, 0)).is_none());
        let isolated = capability("isolated");
        assert!(missing(isolated, &PythonTarget::cpython(2, 7, 18)).is_some());
        assert!(missing(isolated, &PythonTarget::cpython(3, 4, 0)).is_none());
    }

    #[test]
    fn backports_count_by_micro_version() {
        let digits = capability("int_max_str_digits");
        assert!(missing(digits, &PythonTarget::cpython(3, 10, 6)).is_some());
        assert!(missing(digits, &PythonTarget::cpython(3, 10, 7)).is_none());
        assert!(missing(digits, &PythonTarget::cpython(3, 7, 16)).is_none());
        assert!(
            missing(digits, &PythonTarget::cpython(3, 6, 15))
                .unwrap()
                .contains("3.7.14")
        );
        assert!(missing(digits, &PythonTarget::pypy(3, 9, 16)).is_none());
    }

    #[test]
    fn pypy_refusals_say_why() {
        let tracemalloc = capability("tracemalloc");
        assert_eq!(
            missing(tracemalloc, &PythonTarget::pypy(3, 9, 16)).unwrap(),
            "PyPy has no tracemalloc"
        );
        assert!(missing(capability("dev_mode"), &PythonTarget::pypy(3, 9, 16)).is_none());
    }
}
