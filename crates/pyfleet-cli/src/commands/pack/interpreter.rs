//! The interpreter that packs the app, and the constraint recorded for run time.

use pyfleet::startup::{Interpreter, VersionConstraint, resolve_interpreter};

use super::PackError;
use crate::args::InterpreterArgs;

/// The packing interpreter and what the pack records about interpreters.
#[derive(Debug, Clone)]
pub struct Target {
    /// The interpreter that installs dependencies and compiles bytecode.
    pub interpreter: Interpreter,
    /// The constraint recorded in the pack.
    pub constraint: String,
    /// True if bytecode is shipped without sources (targets before 3.7).
    pub sourceless: bool,
}

/// Chooses the packing interpreter as other commands choose theirs (`--python`,
/// `--python-version`, `$PYFLEET_PYTHON`, the first python3 on PATH) and the
/// constraint to record.
pub async fn choose(
    args: &InterpreterArgs,
    requires_python: Option<&str>,
) -> Result<Target, PackError> {
    let interpreter = match &args.python_version {
        Some(spec) => resolve_interpreter(spec).await,
        None => {
            let path = pyfleet::method::interpreter::resolve(args.python.as_deref())
                .await
                .map_err(|error| PackError::interpreter(error.to_string()))?;
            resolve_interpreter(&path.to_string_lossy()).await
        }
    }
    .map_err(|error| PackError::interpreter(error.to_string()))?;
    let target = interpreter.target;
    let exact = format!(
        "{}=={}.{}",
        target.implementation.as_str(),
        target.version.major,
        target.version.minor
    );
    // Before 3.7 bytecode beside a source is checked against a timestamp that
    // depends on the time zone: such packs carry bytecode alone, which runs only on
    // the version that compiled it.
    let sourceless = !target.version.at_least(3, 7);
    let wanted = requires_python.or(args.python_version.as_deref());
    let constraint = match wanted {
        Some(spec) if !sourceless => {
            let parsed: VersionConstraint = spec
                .parse()
                .map_err(|error| PackError::usage(format!("--requires-python: {error}")))?;
            if !parsed.matches(&target) {
                return Err(PackError::usage(format!(
                    "the packing interpreter {} ({target}) does not satisfy {spec:?}; choose one \
                     that does with --python or --python-version",
                    interpreter.path.display()
                )));
            }
            spec.trim().to_string()
        }
        Some(spec) if spec.trim() != exact => {
            eprintln!(
                "pyfleet pack: note: a pack for {target} carries bytecode only and runs on \
                 {exact} alone, not on every interpreter matching {spec:?}"
            );
            exact
        }
        _ => exact,
    };
    Ok(Target {
        interpreter,
        constraint,
        sourceless,
    })
}

#[cfg(test)]
mod tests {
    use pyfleet::startup::{PythonTarget, VersionConstraint};

    #[test]
    fn recorded_exact_constraints_parse_and_match() {
        let exact: VersionConstraint = "cpython==3.11".parse().unwrap();
        assert!(exact.matches(&PythonTarget::cpython(3, 11, 7)));
        assert!(!exact.matches(&PythonTarget::cpython(3, 12, 1)));
        assert!(!exact.matches(&PythonTarget::pypy(3, 11, 0)));
        let pypy: VersionConstraint = "pypy==3.9".parse().unwrap();
        assert!(pypy.matches(&PythonTarget::pypy(3, 9, 16)));
    }
}
