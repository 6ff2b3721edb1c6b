//! Choosing among the interpreters found.
//!
//! Preference, for a constraint (after filtering by it):
//! 1. interpreters the caller named explicitly (they asked for them);
//! 2. CPython before PyPy — unless the constraint names PyPy, which leaves only PyPy;
//! 3. the newest version;
//! 4. a final release before an alpha, beta or candidate of the same version;
//! 5. a default build before a free-threaded one;
//! 6. discovery order: explicit, PATH order, pyenv versions, common prefixes (so an
//!    activated venv, first on PATH, wins over its base interpreter).

use std::cmp::Reverse;
use std::path::Path;

use super::error::DiscoveryError;
use super::interpreter::Interpreter;
use super::outcome::{Discovery, ShimMapping};
use super::skipped::SkippedCandidate;
use crate::constraint::VersionConstraint;
use crate::target::Implementation;

impl Discovery {
    /// Every interpreter matching `constraint`, most preferred first.
    pub fn matching(&self, constraint: &VersionConstraint) -> Vec<&Interpreter> {
        let mut matching: Vec<(usize, &Interpreter)> = self
            .interpreters
            .iter()
            .enumerate()
            .filter(|(_, interpreter)| constraint.matches(&interpreter.target))
            .collect();
        matching.sort_by_key(|(index, interpreter)| {
            (
                Reverse(interpreter.is_explicit()),
                interpreter.target.implementation != Implementation::CPython,
                Reverse(interpreter.target.version),
                Reverse(interpreter.is_final_release()),
                interpreter.free_threaded,
                *index,
            )
        });
        matching
            .into_iter()
            .map(|(_, interpreter)| interpreter)
            .collect()
    }

    /// The preferred interpreter matching `constraint` (see the module docs for the
    /// order), or `None`.
    pub fn find(&self, constraint: &VersionConstraint) -> Option<&Interpreter> {
        self.matching(constraint).into_iter().next()
    }

    /// Like [`Discovery::find`], but a miss is an error that lists what was found
    /// and what to do.
    pub fn best(&self, constraint: &VersionConstraint) -> Result<&Interpreter, DiscoveryError> {
        self.find(constraint)
            .ok_or_else(|| self.no_match(&constraint.to_string()))
    }

    /// The interpreter the pyenv shim `shim` maps to, if the shim was met and maps
    /// to one that answered.
    pub fn resolve_shim(&self, shim: &Path) -> Option<&Interpreter> {
        let target = self.shim(shim)?.target.as_deref()?;
        self.interpreters
            .iter()
            .find(|interpreter| interpreter.was_found_at(target))
    }

    /// What is known about the shim `shim`, if it was met.
    pub fn shim(&self, shim: &Path) -> Option<&ShimMapping> {
        self.shims.iter().find(|mapping| mapping.shim == shim)
    }

    /// The interpreter at `path`: found there, else what the pyenv shim at `path`
    /// maps to, else the one whose real binary `path` is (a venv's python shares
    /// its base's binary, so an exact find wins).
    pub fn find_path(&self, path: &Path) -> Option<&Interpreter> {
        self.interpreters
            .iter()
            .find(|interpreter| interpreter.was_found_at(path))
            .or_else(|| self.resolve_shim(path))
            .or_else(|| {
                self.interpreters
                    .iter()
                    .find(|interpreter| interpreter.real_path == path)
            })
    }

    /// The skipped candidate at `path`, if any.
    pub fn skipped_at(&self, path: &Path) -> Option<&SkippedCandidate> {
        self.skipped.iter().find(|skipped| skipped.path == path)
    }

    /// The error for "nothing matches `constraint`", listing what was found.
    pub(crate) fn no_match(&self, constraint: &str) -> DiscoveryError {
        let mut found: Vec<&Interpreter> = self.interpreters.iter().collect();
        found.sort_by_key(|interpreter| {
            (
                interpreter.target.implementation,
                Reverse(interpreter.target.version),
            )
        });
        DiscoveryError::NoMatch {
            constraint: constraint.to_string(),
            found: found
                .iter()
                .map(|interpreter| {
                    format!(
                        "{:<16} {}",
                        interpreter.target.to_string(),
                        interpreter.path.display()
                    )
                })
                .collect(),
            skipped: self.skipped.iter().map(ToString::to_string).collect(),
        }
    }
}
