//! Comparing a child's HELLO with the plan it was started from.

use std::fmt;

use serde::Serialize;

use super::plan::{Expectation, Observed, Relation, StartupPlan};
use super::plan_value::PlanValue;
use crate::bootstrap::ChildFacts;
use crate::wire::Value;

/// One expectation and what the child actually reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// The `StartupConfig` field checked.
    pub field: &'static str,
    /// Where the value was read, e.g. "sys.flags.safe_path".
    pub source: String,
    /// What was asked for.
    pub expected: String,
    /// What the child reported.
    pub actual: String,
    /// True if they agree.
    pub ok: bool,
}

/// Every check of a child's report against its plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verification {
    /// All checks, in the plan's order.
    pub checks: Vec<Check>,
}

impl Verification {
    /// The checks that failed.
    pub fn mismatches(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }

    /// True if every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

impl fmt::Display for Verification {
    /// One line per mismatch: field, where, expected, actual.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in self.mismatches() {
            writeln!(
                f,
                "  {}: {} is {}, expected {}",
                check.field, check.source, check.actual, check.expected
            )?;
        }
        Ok(())
    }
}

/// Check `facts` against every expectation of `plan`.
pub fn verify(plan: &StartupPlan, facts: &ChildFacts) -> Verification {
    Verification {
        checks: plan.expectations.iter().map(|e| check(e, facts)).collect(),
    }
}

fn check(expectation: &Expectation, facts: &ChildFacts) -> Check {
    let (source, actual) = observe(&expectation.observed, facts);
    let (expected, ok) = match &expectation.relation {
        Relation::Equals(value) => {
            let value = to_value(value);
            (
                value.to_string(),
                actual.as_ref() == Some(&value) || loosely_equal(actual.as_ref(), &value),
            )
        }
        Relation::ContainsInOrder(items) => {
            let items: Vec<Value> = items.iter().map(to_value).collect();
            (
                format!("to contain {} in this order", Value::List(items.clone())),
                actual
                    .as_ref()
                    .and_then(Value::as_items)
                    .is_some_and(|list| contains_in_order(list, &items)),
            )
        }
        Relation::FirstPathIsNotCwd => {
            let first = actual
                .as_ref()
                .and_then(Value::as_items)
                .and_then(|l| l.first())
                .and_then(Value::as_str);
            (
                "a first entry that is not '' or the working directory".to_string(),
                first.is_none_or(|p| !p.is_empty() && p != facts.cwd),
            )
        }
    };
    Check {
        field: expectation.field,
        source,
        expected,
        actual: actual.map_or_else(|| "missing from the report".to_string(), |v| v.to_string()),
        ok,
    }
}

/// Python 2 reports text as bytes; a bool flag may be reported as an int.
fn loosely_equal(actual: Option<&Value>, expected: &Value) -> bool {
    match (actual, expected) {
        (Some(Value::Bytes(bytes)), Value::Str(text)) => bytes.as_ref() == text.as_bytes(),
        (Some(Value::Bool(b)), Value::Int(i)) | (Some(Value::Int(i)), Value::Bool(b)) => {
            i64::from(*b) == *i
        }
        (Some(Value::List(a)), Value::List(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| x == y || loosely_equal(Some(x), y))
        }
        _ => false,
    }
}

fn contains_in_order(list: &[Value], items: &[Value]) -> bool {
    let mut rest = list.iter();
    items
        .iter()
        .all(|item| rest.any(|v| v == item || loosely_equal(Some(v), item)))
}

/// A plan's value as the codec's, to compare it with what a child reported.
fn to_value(value: &PlanValue) -> Value {
    match value {
        PlanValue::None => Value::None,
        PlanValue::Bool(b) => Value::Bool(*b),
        PlanValue::Int(i) => Value::Int(*i),
        PlanValue::Str(text) => Value::Str(text.clone()),
        PlanValue::List(items) => Value::List(items.iter().map(to_value).collect()),
    }
}

fn observe(observed: &Observed, facts: &ChildFacts) -> (String, Option<Value>) {
    let strings = |items: &[String]| Value::List(items.iter().cloned().map(Value::Str).collect());
    match observed {
        Observed::Flag(name) => (format!("sys.flags.{name}"), facts.flags.get(*name).cloned()),
        Observed::Probe(name, argument) => {
            let argument = to_value(argument);
            let source = if argument.is_none() {
                format!("probe {name}")
            } else {
                format!("probe {name}({argument})")
            };
            (source, facts.probe(name, &argument).cloned())
        }
        Observed::Env(name) => (
            format!("environment variable {name}"),
            facts
                .env
                .get(name)
                .map(|v| v.clone().map_or(Value::None, Value::Str)),
        ),
        Observed::SysPath => ("sys.path".into(), Some(strings(&facts.path))),
        Observed::Argv => ("sys.argv".into(), Some(strings(&facts.argv))),
        Observed::Umask => ("the umask".into(), Some(Value::Int(i64::from(facts.umask)))),
        Observed::Prefix => ("sys.prefix".into(), Some(Value::Str(facts.prefix.clone()))),
        Observed::WarnOptions => ("sys.warnoptions".into(), Some(strings(&facts.warnoptions))),
    }
}
