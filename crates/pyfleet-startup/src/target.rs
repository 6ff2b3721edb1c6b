//! Which interpreter a configuration is lowered for: implementation and version.

use std::fmt;
use std::str::FromStr;

/// The Python implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Implementation {
    /// The reference interpreter.
    CPython,
    /// PyPy (its language version is what [`PythonVersion`] holds).
    PyPy,
}

impl Implementation {
    /// "cpython" / "pypy", as `sys.implementation.name` says it.
    pub fn as_str(self) -> &'static str {
        match self {
            Implementation::CPython => "cpython",
            Implementation::PyPy => "pypy",
        }
    }

    /// From `sys.implementation.name`.
    pub fn from_name(name: &str) -> Option<Implementation> {
        match name.to_ascii_lowercase().as_str() {
            "cpython" => Some(Implementation::CPython),
            "pypy" => Some(Implementation::PyPy),
            _ => None,
        }
    }
}

impl fmt::Display for Implementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Implementation::CPython => "CPython",
            Implementation::PyPy => "PyPy",
        })
    }
}

/// A Python language version: major.minor.micro.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PythonVersion {
    /// 2 or 3.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Micro (patch) version; 0 when unknown.
    pub micro: u32,
}

impl PythonVersion {
    /// `major.minor.micro`.
    pub const fn new(major: u32, minor: u32, micro: u32) -> PythonVersion {
        PythonVersion {
            major,
            minor,
            micro,
        }
    }

    /// True if this version is `major.minor` or newer.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// A version text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a Python version (expected MAJOR.MINOR or MAJOR.MINOR.MICRO)")]
pub struct VersionParseError(pub String);

impl FromStr for PythonVersion {
    type Err = VersionParseError;

    /// "3", "3.11", "3.11.2"; a release suffix after the numbers ("3.13.0rc1",
    /// "3.11.2+") is ignored.
    fn from_str(text: &str) -> Result<PythonVersion, VersionParseError> {
        let error = || VersionParseError(text.to_string());
        let mut numbers = text.trim().split('.').map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        let major = numbers.next().flatten().ok_or_else(error)?;
        let minor = numbers.next().unwrap_or(Some(0)).ok_or_else(error)?;
        let micro = numbers.next().unwrap_or(Some(0)).unwrap_or(0);
        Ok(PythonVersion {
            major,
            minor,
            micro,
        })
    }
}

/// The interpreter a configuration is lowered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PythonTarget {
    /// CPython or PyPy.
    pub implementation: Implementation,
    /// The language version.
    pub version: PythonVersion,
}

impl PythonTarget {
    /// A CPython target.
    pub const fn cpython(major: u32, minor: u32, micro: u32) -> PythonTarget {
        PythonTarget {
            implementation: Implementation::CPython,
            version: PythonVersion::new(major, minor, micro),
        }
    }

    /// A PyPy target with this language version.
    pub const fn pypy(major: u32, minor: u32, micro: u32) -> PythonTarget {
        PythonTarget {
            implementation: Implementation::PyPy,
            version: PythonVersion::new(major, minor, micro),
        }
    }

    /// The target a running interpreter reported about itself (a child's HELLO);
    /// `None` for an implementation that is not CPython or PyPy.
    pub fn from_facts(facts: &impl ReportsTarget) -> Option<PythonTarget> {
        let (major, minor, micro) = facts.reported_version();
        Some(PythonTarget {
            implementation: Implementation::from_name(facts.reported_implementation())?,
            version: PythonVersion::new(major, minor, micro),
        })
    }
}

/// What a running interpreter reports about itself that names its target:
/// `sys.implementation.name` and `sys.version_info[:3]`. Implemented by whatever
/// holds such a report (pyfleet's `ChildFacts`).
pub trait ReportsTarget {
    /// `sys.implementation.name`: "cpython", "pypy" ….
    fn reported_implementation(&self) -> &str;
    /// `sys.version_info[:3]`.
    fn reported_version(&self) -> (u32, u32, u32);
}

impl fmt::Display for PythonTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.implementation, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(
            "3.11.2".parse::<PythonVersion>().unwrap(),
            PythonVersion::new(3, 11, 2)
        );
        assert_eq!(
            "3.13.0rc1".parse::<PythonVersion>().unwrap(),
            PythonVersion::new(3, 13, 0)
        );
        assert_eq!(
            "2.7".parse::<PythonVersion>().unwrap(),
            PythonVersion::new(2, 7, 0)
        );
        assert_eq!(
            "3".parse::<PythonVersion>().unwrap(),
            PythonVersion::new(3, 0, 0)
        );
        assert!("python".parse::<PythonVersion>().is_err());
        assert!(PythonVersion::new(3, 10, 13) < PythonVersion::new(3, 11, 0));
        assert!(PythonVersion::new(3, 11, 0).at_least(3, 11));
        assert!(!PythonVersion::new(2, 7, 18).at_least(3, 0));
        assert_eq!(PythonTarget::pypy(3, 9, 16).to_string(), "PyPy 3.9.16");
    }
}
