//! The lowered form of a configuration: what each phase does, and what to check.

use std::collections::BTreeMap;
use std::ffi::OsString;

use serde::Serialize;

use super::config::InheritEnv;
use crate::plan_value::PlanValue;

/// The environment the interpreter starts with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvPlan {
    /// Which of the master's variables are kept.
    pub inherit: InheritEnv,
    /// Variables set on top, in order (later wins).
    #[serde(serialize_with = "serialize_pairs")]
    pub set: Vec<(OsString, OsString)>,
    /// Variables removed after that.
    #[serde(serialize_with = "serialize_names")]
    pub unset: Vec<OsString>,
}

impl EnvPlan {
    /// The child's complete environment, given the master's.
    pub fn apply(
        &self,
        master: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> = master
            .into_iter()
            .filter(|(key, _)| match &self.inherit {
                InheritEnv::All => true,
                InheritEnv::AllButPython => !key.as_encoded_bytes().starts_with(b"PYTHON"),
                InheritEnv::Only(names) => {
                    names.iter().any(|n| n.as_bytes() == key.as_encoded_bytes())
                }
            })
            .collect();
        for (key, value) in &self.set {
            env.retain(|(existing, _)| existing != key);
            env.push((key.clone(), value.clone()));
        }
        env.retain(|(key, _)| !self.unset.contains(key));
        env
    }
}

fn serialize_pairs<S: serde::Serializer>(
    pairs: &[(OsString, OsString)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(pairs.len()))?;
    for (k, v) in pairs {
        seq.serialize_element(&(k.to_string_lossy(), v.to_string_lossy()))?;
    }
    seq.end()
}

fn serialize_names<S: serde::Serializer>(names: &[OsString], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(names.len()))?;
    for name in names {
        seq.serialize_element(&name.to_string_lossy())?;
    }
    seq.end()
}

/// What the core applies before HELLO (python/pyfleet_core/firststage.py), and what
/// extra facts it reports. Serialised into the boot configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FirstStage {
    /// Keep sys.path[0] (the script directory, '' for -c) off sys.path.
    pub safe_path: bool,
    /// Replace sys.path.
    pub sys_path: Option<Vec<String>>,
    /// Replace sys.argv.
    pub argv: Option<Vec<String>>,
    /// chdir here.
    pub cwd: Option<String>,
    /// Set the umask.
    pub umask: Option<u32>,
    /// (resource name, soft, hard); -2 = keep the current limit, -1 = unlimited.
    pub rlimits: Vec<(String, i64, i64)>,
    /// Environment variables whose values HELLO reports.
    pub report_env: Vec<String>,
    /// Extra facts HELLO computes: (probe name, argument).
    pub probes: Vec<(String, PlanValue)>,
}

/// Where in the child's report a value is found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Observed {
    /// `sys.flags.NAME`.
    Flag(&'static str),
    /// An extra fact computed on request: (probe, argument).
    Probe(&'static str, PlanValue),
    /// The value of an environment variable (None = unset).
    Env(String),
    /// `sys.path`.
    SysPath,
    /// `sys.argv`.
    Argv,
    /// The umask.
    Umask,
    /// `sys.prefix`.
    Prefix,
    /// `sys.warnoptions`.
    WarnOptions,
}

/// How the observed value must relate to the expected one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Relation {
    /// Equal.
    Equals(PlanValue),
    /// A list that contains these items in this order (others may be between).
    ContainsInOrder(Vec<PlanValue>),
    /// A list whose first item is not '' (nor the working directory).
    FirstPathIsNotCwd,
}

/// One check of the child's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expectation {
    /// The configuration field this checks.
    pub field: &'static str,
    /// Where to look.
    pub observed: Observed,
    /// What must hold.
    pub relation: Relation,
}

/// A configuration lowered for one target: the three phases and the checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartupPlan {
    /// Interpreter options, placed before `-c`.
    pub args: Vec<String>,
    /// The launch environment.
    pub env: EnvPlan,
    /// What the core applies before HELLO.
    pub first_stage: FirstStage,
    /// What the child's HELLO must show.
    pub expectations: Vec<Expectation>,
    /// Settings that were emulated rather than passed as asked, and how.
    pub emulations: Vec<String>,
}

impl StartupPlan {
    /// Environment values HELLO must report, by name.
    pub fn expected_env(&self) -> BTreeMap<String, Option<String>> {
        self.expectations
            .iter()
            .filter_map(|e| match (&e.observed, &e.relation) {
                (Observed::Env(name), Relation::Equals(value)) => {
                    Some((name.clone(), value.as_str().map(str::to_string)))
                }
                _ => None,
            })
            .collect()
    }
}
