//! One interpreter that was found and ran: where it is and what it said about itself.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::target::PythonTarget;

/// Where a candidate was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CandidateSource {
    /// A path the caller named (a named pyenv shim is resolved, and stays explicit).
    Explicit,
    /// A `python*`/`pypy*` executable in a PATH directory.
    Path,
    /// `$PYENV_ROOT/versions/*/bin` (default root `~/.pyenv`).
    Pyenv,
    /// A pyenv shim on PATH, mapped to the binary pyenv would run (never run itself).
    PyenvShim {
        /// The shim script.
        shim: PathBuf,
    },
    /// A usual install prefix: /usr/bin, /usr/local/bin, /opt/python*/bin, Homebrew.
    CommonPrefix,
}

impl CandidateSource {
    /// The tag the probe report uses, with the shim field of its line.
    pub(crate) fn from_report(tag: &str, shim: &str) -> Option<CandidateSource> {
        Some(match tag {
            "explicit" => CandidateSource::Explicit,
            "path" => CandidateSource::Path,
            "pyenv" => CandidateSource::Pyenv,
            "shim" if !shim.is_empty() => CandidateSource::PyenvShim {
                shim: PathBuf::from(shim),
            },
            "prefix" => CandidateSource::CommonPrefix,
            _ => return None,
        })
    }
}

impl fmt::Display for CandidateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CandidateSource::Explicit => f.write_str("given explicitly"),
            CandidateSource::Path => f.write_str("on PATH"),
            CandidateSource::Pyenv => f.write_str("pyenv version"),
            CandidateSource::PyenvShim { shim } => write!(f, "pyenv shim {}", shim.display()),
            CandidateSource::CommonPrefix => f.write_str("common install prefix"),
        }
    }
}

/// Another path at which the same interpreter was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FoundPath {
    /// The path as found.
    pub path: PathBuf,
    /// Where it was found.
    pub source: CandidateSource,
}

/// An interpreter that was found and answered the probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The path it was first found at; run this one. For a pyenv shim it is the
    /// binary the shim maps to, never the shim.
    pub path: PathBuf,
    /// `path` with every symlink resolved (two paths with one real path are one
    /// interpreter, run once; a virtual environment's python is the exception, as it
    /// reports its own prefix only when run through its own path).
    pub real_path: PathBuf,
    /// Where `path` was found.
    pub source: CandidateSource,
    /// Every other path the same interpreter was found at, in discovery order.
    pub also_found: Vec<FoundPath>,
    /// Implementation and language version.
    pub target: PythonTarget,
    /// `sys.version_info.releaselevel`: "final", "candidate", "beta", "alpha".
    pub release_level: String,
    /// `sys.version_info.serial`.
    pub serial: u32,
    /// `sys.executable` as the interpreter reported it (may be empty).
    pub executable: String,
    /// `sys.prefix` as `site` sets it: a venv's directory for a venv's python (the
    /// probe runs without `site`, so it finds the venv's `pyvenv.cfg` itself).
    pub prefix: PathBuf,
    /// `sys.base_prefix` (`sys.real_prefix` of an old-style 2.x virtualenv).
    pub base_prefix: PathBuf,
    /// True if `prefix` differs from `base_prefix`: a venv or virtualenv.
    pub is_virtualenv: bool,
    /// 64 or 32, from `sys.maxsize`.
    pub pointer_width: u32,
    /// `sys.abiflags` (empty where it does not exist: 2.x, Windows, some PyPy).
    pub abiflags: String,
    /// A free-threaded (no-GIL) build: `t` in `abiflags`.
    pub free_threaded: bool,
    /// `sys.platform`: "linux", "darwin", "linux2" on 2.x …
    pub platform: String,
    /// PyPy's own version ("7.3.11"), for PyPy only.
    pub pypy_version: Option<String>,
}

impl Interpreter {
    /// True if the caller named this interpreter (at any of its paths).
    pub fn is_explicit(&self) -> bool {
        self.source == CandidateSource::Explicit
            || self
                .also_found
                .iter()
                .any(|found| found.source == CandidateSource::Explicit)
    }

    /// True for a final release (not an alpha, beta or release candidate).
    pub fn is_final_release(&self) -> bool {
        self.release_level == "final"
    }

    /// True if this interpreter was found at `path` (as first found, at another
    /// path, or through the pyenv shim `path`). Its real path does not count: a
    /// venv's python resolves to its base interpreter's binary.
    pub fn was_found_at(&self, path: &Path) -> bool {
        let shim_is = |source: &CandidateSource| matches!(source, CandidateSource::PyenvShim { shim } if shim == path);
        self.path == path
            || shim_is(&self.source)
            || self
                .also_found
                .iter()
                .any(|found| found.path == path || shim_is(&found.source))
    }
}

/// "CPython 3.11.2 at /usr/bin/python3".
impl fmt::Display for Interpreter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.target)?;
        if !self.is_final_release() {
            write!(f, " ({} {})", self.release_level, self.serial)?;
        }
        if self.free_threaded {
            f.write_str(" free-threaded")?;
        }
        if self.is_virtualenv {
            f.write_str(" venv")?;
        }
        write!(f, " at {}", self.path.display())
    }
}
