//! Which interpreter a local context runs when none is named.
//!
//! In order: the path given in the options (it must exist: a missing one is an
//! error, never silently replaced); `PYFLEET_PYTHON` (a missing path there is logged
//! once and the search goes on, the documented fallback); the first `python3` on
//! PATH that is a real executable rather than a wrapper script (a pyenv shim costs
//! 50-250 ms per start); /usr/bin/python3; /usr/local/bin/python3.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Once;

use crate::messages;
use crate::spawn::SpawnError;

/// Environment variable naming the default interpreter.
pub const PYTHON_ENV: &str = "PYFLEET_PYTHON";

/// Last resorts when PATH has no usable `python3`.
const FALLBACKS: &[&str] = &["/usr/bin/python3", "/usr/local/bin/python3"];

static FALLBACK_LOGGED: Once = Once::new();

/// The interpreter to run: `explicit` if given, otherwise the default.
pub fn resolve(explicit: Option<&Path>) -> Result<PathBuf, SpawnError> {
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

/// What a short run of an interpreter says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbedInterpreter {
    /// Implementation and version.
    pub target: crate::startup::PythonTarget,
    /// `sys.prefix`.
    pub prefix: String,
}

/// Probe results per interpreter path, valid while the file is unchanged.
type ProbeCache =
    std::collections::HashMap<PathBuf, (std::time::SystemTime, u64, ProbedInterpreter)>;

static PROBES: std::sync::Mutex<Option<ProbeCache>> = std::sync::Mutex::new(None);

/// Implementation, version and prefix of the interpreter at `program`, from one
/// short run of it (cached in memory while the file's mtime and size stay).
pub async fn probe_target(program: &Path) -> Result<ProbedInterpreter, crate::error::ConnectError> {
    let stamp = std::fs::metadata(program)
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())));
    if let Some((mtime, len)) = stamp
        && let Some((_, _, probed)) = PROBES
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|cache| cache.get(program))
            .filter(|(m, l, _)| *m == mtime && *l == len)
    {
        return Ok(probed.clone());
    }
    let code = "import sys;i=getattr(sys,'implementation',None);print('%s %d.%d.%d %s'%((i.name if i else 'cpython'),sys.version_info[0],sys.version_info[1],sys.version_info[2],sys.prefix))";
    let failed = |detail: String| crate::error::ConnectError::Bootstrap {
        context: "version probe".into(),
        program: program.to_path_buf(),
        stage: crate::error::BootStage::Loader,
        status: None,
        detail,
        stderr: String::new(),
    };
    let run = tokio::process::Command::new(program)
        .args(["-E", "-s", "-S", "-c", code])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(30), run)
        .await
        .map_err(|_| failed("did not report its version within 30 s".into()))?
        .map_err(|e| failed(format!("could not be run to learn its version: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut words = text.split_whitespace();
    let parsed = (|| {
        let implementation = crate::startup::Implementation::from_name(words.next()?)?;
        let version = words.next()?.parse().ok()?;
        let prefix = words.next().unwrap_or("").to_string();
        Some(ProbedInterpreter {
            target: crate::startup::PythonTarget {
                implementation,
                version,
            },
            prefix,
        })
    })();
    let probed = parsed.ok_or_else(|| {
        failed(format!(
            "did not report its version ({}); stderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    })?;
    if let Some((mtime, len)) = stamp {
        PROBES
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(Default::default)
            .insert(program.to_path_buf(), (mtime, len, probed.clone()));
    }
    Ok(probed)
}
