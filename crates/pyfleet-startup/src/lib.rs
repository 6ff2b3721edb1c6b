//! Interpreter start-up, without an async runtime: which interpreter, and every
//! setting applied in the right phase.
//!
//! 1. Launch (pre-initialisation): [`lower`] turns a [`StartupConfig`] into
//!    interpreter options and an environment for a known [`PythonTarget`], refusing
//!    what that interpreter lacks or would treat as fatal.
//! 2. First stage / core: what no option can express (sys.path, argv, cwd, umask,
//!    resource limits) is listed in the plan's [`FirstStage`] for whoever starts the
//!    interpreter to apply.
//! 3. Verification: the plan's [`Expectation`]s say what the interpreter's own
//!    report must show.
//!
//! [`discovery`] finds the interpreters of a host with one probe and picks one for a
//! [`VersionConstraint`].
//!
//! This crate is shared by the `pyfleet` library (which re-exports it as
//! `pyfleet::startup` and adds async caching and verification against a child's
//! report) and the synchronous `pyfleet pack` launcher, which must stay small and
//! free of an async runtime. Everything here is pure, or blocking and bounded.

pub mod capabilities;
pub mod config;
pub mod constraint;
pub mod discovery;
mod error;
pub mod lower;
#[cfg(test)]
mod lower_tests;
pub mod plan;
pub mod plan_value;
mod signals;
pub mod target;

pub use config::{
    CoerceCLocale, CpuCount, FrozenModules, Gil, HashSeed, InheritEnv, Malloc, Resource,
    ResourceLimit, StartupConfig, Utf8Mode, Verify,
};
pub use constraint::{ConstraintParseError, VersionConstraint};
pub use discovery::{CacheOrigin, Discovery, DiscoveryError, Interpreter, LocalDiscovery};
pub use error::StartupError;
pub use lower::lower;
pub use plan::{EnvPlan, Expectation, FirstStage, Observed, Relation, StartupPlan};
pub use plan_value::PlanValue;
pub use target::{Implementation, PythonTarget, PythonVersion, ReportsTarget, VersionParseError};

/// The target assumed for configurations that lower the same everywhere: the
/// newest known, so every probe a setting could use is requested.
pub const ANY_TARGET: PythonTarget = PythonTarget::cpython(3, 14, 0);
