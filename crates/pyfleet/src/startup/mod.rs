//! Interpreter start-up: which interpreter, and every setting applied in the right
//! phase (launch argv/environment, first stage, core) and verified afterwards.
//!
//! 1. Launch (pre-initialisation): [`lower`] turns a [`StartupConfig`] into
//!    interpreter options and an environment for a known [`PythonTarget`], refusing
//!    what that interpreter lacks or would treat as fatal.
//! 2. First stage / core: what no option can express (sys.path, argv, cwd, umask,
//!    resource limits) is applied by the core before HELLO.
//! 3. Verification: the child's HELLO is compared with the plan's expectations.

pub mod capabilities;
pub mod config;
pub mod constraint;
pub mod discovery;
mod error;
pub mod lower;
#[cfg(test)]
mod lower_tests;
pub mod plan;
pub mod target;
pub mod verify;

pub use config::{
    CoerceCLocale, CpuCount, FrozenModules, Gil, HashSeed, InheritEnv, Malloc, Resource,
    ResourceLimit, StartupConfig, Utf8Mode, Verify,
};
pub use constraint::{ConstraintParseError, VersionConstraint};
pub use discovery::{
    CacheOrigin, Discovery, DiscoveryCache, DiscoveryError, Interpreter, LocalDiscovery,
    discover_local, resolve_interpreter,
};
pub use error::StartupError;
pub use lower::lower;
pub use plan::{EnvPlan, Expectation, FirstStage, Observed, Relation, StartupPlan};
pub use target::{Implementation, PythonTarget, PythonVersion, VersionParseError};
pub use verify::{Check, Verification, verify};

/// The target assumed for configurations that lower the same everywhere: the
/// newest known, so every probe a setting could use is requested.
pub const ANY_TARGET: PythonTarget = PythonTarget::cpython(3, 14, 0);
