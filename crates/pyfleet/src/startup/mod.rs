//! Interpreter start-up: which interpreter, and every setting applied in the right
//! phase (launch argv/environment, first stage, core) and verified afterwards.
//!
//! 1. Launch (pre-initialisation): [`lower`] turns a [`StartupConfig`] into
//!    interpreter options and an environment for a known [`PythonTarget`], refusing
//!    what that interpreter lacks or would treat as fatal.
//! 2. First stage / core: what no option can express (sys.path, argv, cwd, umask,
//!    resource limits) is applied by the core before HELLO.
//! 3. Verification: the child's HELLO is compared with the plan's expectations.
//!
//! The pure and blocking parts live in the `pyfleet-startup` crate (shared with the
//! synchronous `pyfleet pack` launcher) and are re-exported here unchanged; this
//! module adds what needs the rest of pyfleet: the async discovery cache and
//! resolution ([`discovery`]) and [`verify`], which reads a child's HELLO.

mod facts;
pub mod verify;

pub mod discovery;

pub use pyfleet_startup::{
    ANY_TARGET, capabilities, config, constraint, lower, plan, plan_value, target,
};
pub use pyfleet_startup::{
    CoerceCLocale, CpuCount, FrozenModules, Gil, HashSeed, InheritEnv, Malloc, Resource,
    ResourceLimit, StartupConfig, Utf8Mode, Verify,
};
pub use pyfleet_startup::{ConstraintParseError, VersionConstraint};
pub use pyfleet_startup::{EnvPlan, Expectation, FirstStage, Observed, Relation, StartupPlan};
pub use pyfleet_startup::{
    Implementation, PlanValue, PythonTarget, PythonVersion, ReportsTarget, StartupError,
    VersionParseError,
};

pub use discovery::{
    CacheOrigin, Discovery, DiscoveryCache, DiscoveryError, Interpreter, LocalDiscovery,
    discover_local, resolve_interpreter,
};
pub use verify::{Check, Verification, verify};
