//! Which interpreter runs the pack: the override from the environment, else the
//! best match for the pack's constraint, preferring the version its bytecode is for.

use std::path::Path;

use pyfleet_startup::VersionConstraint;
use pyfleet_startup::discovery::{
    DiscoveryError, Interpreter, InterpreterRequest, LocalDiscovery, disk_cache,
    resolve_interpreter_blocking,
};

use crate::metadata::{Bytecode, PackMetadata};

/// The environment variable that names the interpreter to use instead (a path, a
/// command name on PATH, or a version constraint such as `3.12` or `pypy`).
pub const PYTHON_OVERRIDE_VAR: &str = "PYFLEET_PACK_PYTHON";

/// Chooses the interpreter for `metadata`: `override_spec` if given, else the most
/// preferred interpreter matching the pack's constraint whose version the bytecode
/// was compiled for, else the most preferred match. Discovery goes through the
/// disk cache in `cache_dir` (one probe of the machine, reused until an
/// interpreter or a searched directory changes).
pub fn choose_interpreter(
    metadata: &PackMetadata,
    override_spec: Option<&str>,
    cache_dir: Option<&Path>,
) -> Result<Interpreter, DiscoveryError> {
    if let Some(spec) = override_spec {
        // A relative path or a command name depends on where the app is run
        // from; anything else is examined from "/", so that one cached probe
        // serves every working directory.
        let from_root = match InterpreterRequest::parse(spec) {
            Ok(InterpreterRequest::Path(path)) => path.is_absolute(),
            Ok(InterpreterRequest::Constraint(_)) => true,
            Ok(InterpreterRequest::Command(_)) | Err(_) => false,
        };
        let probe = match from_root {
            true => LocalDiscovery::new().current_dir("/"),
            false => LocalDiscovery::new(),
        };
        return resolve_interpreter_blocking(spec, cache_dir, &probe);
    }
    let constraint: VersionConstraint = metadata.python.parse()?;
    // The search starts at "/" so that it does not depend on the working directory
    // (a pyenv `.python-version` there): one cached result serves every run.
    let probe = LocalDiscovery::new().current_dir("/");
    let (discovery, _) = disk_cache::local_blocking(cache_dir, &probe)?;
    let matching = discovery.matching(&constraint);
    let preferred = metadata.bytecode.as_ref().and_then(|bytecode| {
        matching
            .iter()
            .find(|interpreter| runs_bytecode(interpreter, bytecode))
    });
    match preferred.or(matching.first()) {
        Some(interpreter) => Ok((*interpreter).clone()),
        None => discovery.best(&constraint).cloned(),
    }
}

/// True if `interpreter` loads `bytecode` (same implementation and language version).
pub fn runs_bytecode(interpreter: &Interpreter, bytecode: &Bytecode) -> bool {
    let target = interpreter.target;
    Some(target.implementation) == bytecode.implementation()
        && target.version.major == bytecode.major
        && target.version.minor == bytecode.minor
}
