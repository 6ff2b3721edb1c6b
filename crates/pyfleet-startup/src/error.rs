//! Why a configuration cannot be used, said before anything is spawned.

use super::target::PythonTarget;

/// A start-up configuration refused before spawning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartupError {
    /// The target interpreter lacks the setting.
    #[error(
        "startup setting {field} is not available on {target}: {reason}{}",
        hint(alternative)
    )]
    Unsupported {
        /// The `StartupConfig` field.
        field: &'static str,
        /// The interpreter it was lowered for.
        target: PythonTarget,
        /// What is missing.
        reason: String,
        /// What to do instead.
        alternative: String,
    },
    /// A value the interpreter would reject at start-up (often as a fatal error).
    #[error("startup setting {field} = {value:?} is invalid: {reason}")]
    Invalid {
        /// The `StartupConfig` field.
        field: &'static str,
        /// The value given.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// Settings that cannot be combined.
    #[error("startup settings {fields} cannot be combined: {reason}; {alternative}")]
    Conflict {
        /// The fields involved.
        fields: String,
        /// Why.
        reason: String,
        /// What to do instead.
        alternative: String,
    },
    /// A path the interpreter needs at start-up does not exist (a fatal error there).
    #[error(
        "startup setting {field}: {path} does not exist, and the interpreter would abort at start-up"
    )]
    MissingPath {
        /// The `StartupConfig` field.
        field: &'static str,
        /// The missing path.
        path: String,
    },
    /// The target's version is needed but unknown.
    #[error(
        "the interpreter's version is needed to lower setting {field} but is unknown; pass it, or let discovery probe the interpreter"
    )]
    TargetUnknown {
        /// A field that needs it.
        field: &'static str,
    },
}

fn hint(alternative: &str) -> String {
    if alternative.is_empty() {
        String::new()
    } else {
        format!(" ({alternative})")
    }
}
