//! Everything one probe of one host found.

use std::path::PathBuf;
use std::time::Duration;

use super::interpreter::Interpreter;
use super::skipped::SkippedCandidate;

/// The result of probing one host: usable interpreters, unusable candidates, and
/// how the pyenv shims met on the way map to real binaries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Usable interpreters, one per real binary, in discovery order: explicit paths,
    /// then PATH order, then pyenv versions, then common prefixes. Preference for a
    /// constraint is a different order: see [`Discovery::find`].
    pub interpreters: Vec<Interpreter>,
    /// Candidates that were found but could not be used, with the reason.
    pub skipped: Vec<SkippedCandidate>,
    /// Every pyenv shim met, with the binary it maps to (if any).
    pub shims: Vec<ShimMapping>,
    /// Paths whose change may change this result (directories searched, pyenv
    /// version files); a cache compares them, with every candidate's own file.
    pub watched: Vec<PathBuf>,
    /// The per-candidate time bound the probe used.
    pub candidate_timeout: Duration,
    /// True if the probe ran to its end (a cut-off report lists what it had).
    pub complete: bool,
}

/// How one pyenv shim maps to a real binary, decided without running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShimMapping {
    /// The shim script.
    pub shim: PathBuf,
    /// Where pyenv's version selection came from: "PYENV_VERSION", the path of a
    /// `.python-version` or `$PYENV_ROOT/version` file, or "default".
    pub origin: String,
    /// The selected version names, in pyenv's order ("system" means the first
    /// match on PATH outside the shims).
    pub versions: Vec<String>,
    /// The binary the shim runs; `None` if no selected version provides it.
    pub target: Option<PathBuf>,
}
