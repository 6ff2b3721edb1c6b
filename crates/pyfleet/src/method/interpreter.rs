//! Which interpreter a local context runs when none is named.
//!
//! In order: the path given in the options (it must exist: a missing one is an
//! error, never silently replaced); `PYFLEET_PYTHON` (a missing path there is logged
//! once and the search goes on, the documented fallback); the first `python3` on
//! PATH, where a pyenv shim is replaced by the interpreter it would run (found
//! without running it: a shim costs 50-250 ms per start); then the first real
//! `python3` binary on PATH; /usr/bin/python3; /usr/local/bin/python3.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Once;

use crate::messages;
use crate::spawn::SpawnError;
use crate::startup::{
    DiscoveryCache, DiscoveryError, Interpreter, LocalDiscovery, VersionConstraint,
};

/// Environment variable naming the default interpreter.
pub const PYTHON_ENV: &str = "PYFLEET_PYTHON";

/// Last resorts when PATH has no usable `python3`.
const FALLBACKS: &[&str] = &["/usr/bin/python3", "/usr/local/bin/python3"];

static FALLBACK_LOGGED: Once = Once::new();

/// The interpreter to run: `explicit` if given, otherwise the default.
pub async fn resolve(explicit: Option<&Path>) -> Result<PathBuf, SpawnError> {
    if let Some(path) = explicit {
        return match path.components().count() {
            1 if !path.is_absolute() => {
                search_path(path.as_os_str()).ok_or_else(|| not_found(path))
            }
            _ if path.exists() => Ok(path.to_path_buf()),
            _ => Err(not_found(path)),
        };
    }
    if let Some(preferred) = std::env::var_os(PYTHON_ENV).filter(|v| !v.is_empty()) {
        let preferred = PathBuf::from(preferred);
        if preferred.exists() {
            return Ok(preferred);
        }
        FALLBACK_LOGGED.call_once(|| {
            tracing::warn!(path = %preferred.display(), "{}", messages::INTERPRETER_FALLBACK);
        });
    }
    if let Some(first) = first_on_path(OsStr::new("python3")) {
        if is_real_executable(&first) {
            return Ok(first);
        }
        if let Some(real) = resolve_shim(&first).await {
            return Ok(real);
        }
    }
    if let Some(found) = search_path(OsStr::new("python3")) {
        return Ok(found);
    }
    FALLBACKS
        .iter()
        .map(PathBuf::from)
        .find(|p| is_real_executable(p))
        .ok_or_else(|| not_found(Path::new("python3")))
}

fn not_found(path: &Path) -> SpawnError {
    SpawnError::InterpreterNotFound {
        path: path.to_path_buf(),
    }
}

/// The first executable `name` on PATH, binary or script.
fn first_on_path(name: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The first `name` on PATH that is an executable binary, not a script.
fn search_path(name: &OsStr) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_real_executable(candidate))
}

/// An executable regular file that does not start with `#!`.
fn is_real_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return false;
    }
    let mut magic = [0u8; 2];
    match std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)) {
        Ok(()) => &magic != b"#!",
        Err(_) => false,
    }
}

/// What discovery's probe says about an interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbedInterpreter {
    /// Implementation and version.
    pub target: crate::startup::PythonTarget,
    /// `sys.prefix`.
    pub prefix: String,
}

fn discovery_failed(program: &Path, detail: String) -> crate::error::ConnectError {
    crate::error::ConnectError::Bootstrap {
        context: "interpreter probe".into(),
        program: program.to_path_buf(),
        stage: crate::error::BootStage::Loader,
        status: None,
        detail,
        stderr: String::new(),
    }
}

/// Implementation, version and prefix of the interpreter at `program`, from the
/// discovery probe (cached in memory and on disk while the file is unchanged).
pub async fn probe_target(program: &Path) -> Result<ProbedInterpreter, crate::error::ConnectError> {
    let probe = LocalDiscovery::new()
        .explicit([program.to_path_buf()])
        .search(false);
    let found = DiscoveryCache::global()
        .local(&probe)
        .await
        .map_err(|e| discovery_failed(program, e.to_string()))?;
    let interpreter = found.discovery.find_path(program).ok_or_else(|| {
        let why = found.discovery.skipped_at(program).map_or_else(
            || "it did not answer the version probe".to_string(),
            |s| s.reason.to_string(),
        );
        discovery_failed(program, why)
    })?;
    Ok(ProbedInterpreter {
        target: interpreter.target,
        prefix: interpreter.prefix.to_string_lossy().into_owned(),
    })
}

/// The interpreter that best matches `constraint` on this machine.
pub async fn find_matching(constraint: &VersionConstraint) -> Result<Interpreter, DiscoveryError> {
    let found = DiscoveryCache::global()
        .local(&LocalDiscovery::new())
        .await?;
    found.discovery.best(constraint).cloned()
}

/// The real interpreter behind a pyenv shim, without running the shim.
async fn resolve_shim(shim: &Path) -> Option<PathBuf> {
    let probe = LocalDiscovery::new()
        .explicit([shim.to_path_buf()])
        .search(false);
    let found = DiscoveryCache::global().local(&probe).await.ok()?;
    found.discovery.resolve_shim(shim).map(|i| i.path.clone())
}
