//! Version constraints as users write them: `>=3.8,<3.12`, `3.11`, `~=3.9`, `!=3.10`,
//! `pypy`, `pypy3.9`, `cpython>=3.10`.
//!
//! A version with fewer than three numbers stands for every release it prefixes:
//! `3.11` is the range 3.11.0 ≤ v < 3.12.0, `3` is 3.0.0 ≤ v < 4.0.0. Each operator
//! reads that range the way people mean it when they pick an interpreter:
//!
//! | text                         | matches                                   |
//! |------------------------------|-------------------------------------------|
//! | `3.11`, `==3.11`, `==3.11.*` | 3.11.0 ≤ v < 3.12.0                       |
//! | `!=3.10`                     | v < 3.10.0 or v ≥ 3.11.0                  |
//! | `>=3.8`                      | v ≥ 3.8.0                                 |
//! | `>3.8`                       | v ≥ 3.9.0 (newer than every 3.8.x)        |
//! | `<3.12`                      | v < 3.12.0                                |
//! | `<=3.11`                     | v < 3.12.0 (every 3.11.x included)        |
//! | `~=3.9`                      | 3.9.0 ≤ v < 4.0.0 (PEP 440 compatible)    |
//! | `~=3.9.2`                    | 3.9.2 ≤ v < 3.10.0                        |
//!
//! With three numbers every operator compares exactly (`<=3.11.2`, `==3.11.2`).
//! `<=` and `>` with a short version deliberately differ from PEP 440, where
//! `<=3.11` would refuse 3.11.7: nobody asking for "3.11 or older" means that.
//! Clauses joined by commas must all hold. An implementation name in front
//! (`cpython`, `pypy`) restricts the implementation; without one, any matches.

use std::fmt;
use std::str::FromStr;

use super::target::{Implementation, PythonTarget, PythonVersion};

/// Valid constraint texts, shown by every parse error.
const EXAMPLES: &str = "\">=3.8\", \"<3.12\", \">=3.8,<3.12\", \"3.11\", \"==3.11\", \"3\", \
                        \"~=3.9\", \"!=3.10\", \"pypy\", \"pypy3.9\", \"cpython>=3.10\", \"any\"";

/// Which interpreters a user accepts: an optional implementation and version
/// clauses that must all hold. Parse one with [`str::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct VersionConstraint {
    implementation: Option<Implementation>,
    specifiers: Vec<VersionSpecifier>,
}

/// One clause: an operator and the version it compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionSpecifier {
    /// How the version compares.
    pub operator: Operator,
    /// The version, with one to three numbers.
    pub version: VersionPrefix,
}

/// A comparison operator of a [`VersionSpecifier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `==`, or no operator at all: within the version's range.
    Equal,
    /// `!=`: outside the version's range.
    NotEqual,
    /// `<`: older than every release in the range.
    Less,
    /// `<=`: in the range or older.
    LessEqual,
    /// `>`: newer than every release in the range.
    Greater,
    /// `>=`: in the range or newer.
    GreaterEqual,
    /// `~=`: PEP 440 compatible release (at least this, same series).
    Compatible,
}

impl Operator {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equal => "==",
            Operator::NotEqual => "!=",
            Operator::Less => "<",
            Operator::LessEqual => "<=",
            Operator::Greater => ">",
            Operator::GreaterEqual => ">=",
            Operator::Compatible => "~=",
        }
    }
}

/// A version written with one, two or three numbers: `3`, `3.11`, `3.11.2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionPrefix {
    major: u32,
    minor: Option<u32>,
    micro: Option<u32>,
}

impl VersionPrefix {
    /// `major`: every `major.x.y`.
    pub const fn major(major: u32) -> VersionPrefix {
        VersionPrefix {
            major,
            minor: None,
            micro: None,
        }
    }

    /// `major.minor`: every `major.minor.x`.
    pub const fn minor(major: u32, minor: u32) -> VersionPrefix {
        VersionPrefix {
            major,
            minor: Some(minor),
            micro: None,
        }
    }

    /// `major.minor.micro`: exactly that release.
    pub const fn micro(major: u32, minor: u32, micro: u32) -> VersionPrefix {
        VersionPrefix {
            major,
            minor: Some(minor),
            micro: Some(micro),
        }
    }

    /// The first release in the range.
    pub fn lowest(&self) -> PythonVersion {
        PythonVersion::new(self.major, self.minor.unwrap_or(0), self.micro.unwrap_or(0))
    }

    /// The first release after the range (exclusive bound).
    pub fn end(&self) -> PythonVersion {
        match (self.minor, self.micro) {
            (Some(minor), Some(micro)) => {
                PythonVersion::new(self.major, minor, micro.saturating_add(1))
            }
            (Some(minor), None) => PythonVersion::new(self.major, minor.saturating_add(1), 0),
            _ => PythonVersion::new(self.major.saturating_add(1), 0, 0),
        }
    }

    /// True if `version` is one of the releases this prefix stands for.
    pub fn contains(&self, version: PythonVersion) -> bool {
        self.lowest() <= version && version < self.end()
    }

    fn component_count(&self) -> usize {
        1 + usize::from(self.minor.is_some()) + usize::from(self.micro.is_some())
    }
}

impl fmt::Display for VersionPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.major)?;
        if let Some(minor) = self.minor {
            write!(f, ".{minor}")?;
        }
        if let Some(micro) = self.micro {
            write!(f, ".{micro}")?;
        }
        Ok(())
    }
}

impl VersionSpecifier {
    /// True if `version` satisfies this clause.
    pub fn matches(&self, version: PythonVersion) -> bool {
        let range = &self.version;
        match self.operator {
            Operator::Equal => range.contains(version),
            Operator::NotEqual => !range.contains(version),
            Operator::Less => version < range.lowest(),
            Operator::LessEqual => version < range.end(),
            Operator::Greater => version >= range.end(),
            Operator::GreaterEqual => version >= range.lowest(),
            Operator::Compatible => {
                // The series is the prefix without its last number: ~=3.9 stays in
                // 3.x, ~=3.9.2 stays in 3.9.x.
                let series = match range.micro {
                    Some(_) => VersionPrefix::minor(range.major, range.minor.unwrap_or(0)),
                    None => VersionPrefix::major(range.major),
                };
                version >= range.lowest() && series.contains(version)
            }
        }
    }
}

impl fmt::Display for VersionSpecifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.operator.as_str(), self.version)
    }
}

impl VersionConstraint {
    /// Any interpreter at all.
    pub fn any() -> VersionConstraint {
        VersionConstraint::default()
    }

    /// Every version of one implementation.
    pub fn implementation_only(implementation: Implementation) -> VersionConstraint {
        VersionConstraint {
            implementation: Some(implementation),
            specifiers: Vec::new(),
        }
    }

    /// A constraint from its parts (clauses must all hold).
    pub fn new(
        implementation: Option<Implementation>,
        specifiers: Vec<VersionSpecifier>,
    ) -> VersionConstraint {
        VersionConstraint {
            implementation,
            specifiers,
        }
    }

    /// The implementation the constraint names, if any.
    pub fn implementation(&self) -> Option<Implementation> {
        self.implementation
    }

    /// The version clauses, all of which must hold.
    pub fn specifiers(&self) -> &[VersionSpecifier] {
        &self.specifiers
    }

    /// True if every interpreter matches.
    pub fn is_any(&self) -> bool {
        self.implementation.is_none() && self.specifiers.is_empty()
    }

    /// True if `version` satisfies every clause (the implementation is not looked at).
    pub fn matches_version(&self, version: PythonVersion) -> bool {
        self.specifiers.iter().all(|spec| spec.matches(version))
    }

    /// True if the interpreter `target` is acceptable.
    pub fn matches(&self, target: &PythonTarget) -> bool {
        self.implementation
            .is_none_or(|wanted| wanted == target.implementation)
            && self.matches_version(target.version)
    }
}

/// Prints the canonical form, which parses back to an equal constraint: `3.11`
/// for `==3.11`, `pypy3.9`, `cpython>=3.10,<3.13`, `any`.
impl fmt::Display for VersionConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(implementation) = self.implementation {
            f.write_str(implementation.as_str())?;
        }
        match self.specifiers.as_slice() {
            [] if self.implementation.is_none() => f.write_str("any"),
            [] => Ok(()),
            [
                VersionSpecifier {
                    operator: Operator::Equal,
                    version,
                },
            ] => write!(f, "{version}"),
            specifiers => {
                for (index, spec) in specifiers.iter().enumerate() {
                    if index > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{spec}")?;
                }
                Ok(())
            }
        }
    }
}

/// A constraint text could not be read; says which part and shows valid forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot read the Python version constraint {text:?}: {problem}. Valid examples: {EXAMPLES}"
)]
pub struct ConstraintParseError {
    /// The whole text given.
    pub text: String,
    /// What was not understood.
    pub problem: String,
}

impl FromStr for VersionConstraint {
    type Err = ConstraintParseError;

    fn from_str(text: &str) -> Result<VersionConstraint, ConstraintParseError> {
        let error = |problem: String| ConstraintParseError {
            text: text.to_string(),
            problem,
        };
        let lowered = text.trim().to_ascii_lowercase();
        if lowered.is_empty() {
            return Err(error("it is empty".into()));
        }
        let name_len = lowered
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(lowered.len());
        let (name, rest) = lowered.split_at(name_len);
        let implementation = match name {
            "" => None,
            "any" if rest.trim().is_empty() => return Ok(VersionConstraint::any()),
            "cpython" => Some(Implementation::CPython),
            "pypy" => Some(Implementation::PyPy),
            "python" | "py" => {
                return Err(error(format!(
                    "{name:?} is not an implementation; write the version alone (\"3.11\") \
                     or name cpython or pypy"
                )));
            }
            other => {
                return Err(error(format!(
                    "unknown implementation {other:?} (known: cpython, pypy)"
                )));
            }
        };
        let rest = rest.trim();
        if rest.is_empty() {
            return match implementation {
                Some(_) => Ok(VersionConstraint {
                    implementation,
                    specifiers: Vec::new(),
                }),
                None => Err(error("it names no version".into())),
            };
        }
        let specifiers = rest
            .split(',')
            .map(|clause| parse_clause(clause.trim()).map_err(&error))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(VersionConstraint {
            implementation,
            specifiers,
        })
    }
}

/// One clause: an optional operator, then a version (a trailing `.*` is allowed
/// where a range is meant anyway).
fn parse_clause(clause: &str) -> Result<VersionSpecifier, String> {
    if clause.is_empty() {
        return Err("a clause is empty (a stray comma?)".into());
    }
    const OPERATORS: [(&str, Operator); 7] = [
        ("~=", Operator::Compatible),
        ("==", Operator::Equal),
        ("!=", Operator::NotEqual),
        ("<=", Operator::LessEqual),
        (">=", Operator::GreaterEqual),
        ("<", Operator::Less),
        (">", Operator::Greater),
    ];
    if clause.starts_with("===") {
        return Err("\"===\" (arbitrary equality) is not supported; use \"==\"".into());
    }
    let (operator, version_text) = OPERATORS
        .iter()
        .find_map(|(text, op)| clause.strip_prefix(text).map(|rest| (*op, rest)))
        .unwrap_or((Operator::Equal, clause));
    let version_text = version_text.trim();
    if version_text.starts_with(['=', '<', '>', '!', '~']) {
        return Err(format!("{clause:?} has an unknown operator"));
    }
    let (numbers, wildcard) = match version_text.strip_suffix(".*") {
        Some(numbers) => (numbers, true),
        None => (version_text, false),
    };
    if wildcard && !matches!(operator, Operator::Equal | Operator::NotEqual) {
        return Err(format!(
            "{clause:?}: a \".*\" wildcard only goes with \"==\" or \"!=\""
        ));
    }
    let version = parse_prefix(numbers).map_err(|problem| format!("{clause:?}: {problem}"))?;
    if operator == Operator::Compatible && version.component_count() < 2 {
        return Err(format!(
            "{clause:?}: \"~=\" needs at least two numbers, as in \"~=3.9\""
        ));
    }
    Ok(VersionSpecifier { operator, version })
}

/// `3`, `3.11` or `3.11.2`: numbers only.
fn parse_prefix(text: &str) -> Result<VersionPrefix, String> {
    if text.is_empty() {
        return Err("the version is missing".into());
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > 3 {
        return Err(format!(
            "{text:?} has more than three numbers (major.minor.micro)"
        ));
    }
    let mut numbers = Vec::with_capacity(3);
    for part in &parts {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{text:?} is not a version (numbers separated by dots, such as 3.11 or 3.11.2)"
            ));
        }
        numbers.push(
            part.parse::<u32>()
                .map_err(|_| format!("{part:?} is too large a number"))?,
        );
    }
    // "311" is a common way to write 3.11 (as in cp311); say so rather than
    // silently matching nothing.
    if parts.len() == 1 && (2..=3).contains(&parts[0].len()) && matches!(numbers[0] / 10, 2..=39) {
        let (major, minor) = parts[0].split_at(1);
        return Err(format!(
            "{text:?} is not a Python major version; did you mean {major}.{minor}?"
        ));
    }
    Ok(VersionPrefix {
        major: numbers[0],
        minor: numbers.get(1).copied(),
        micro: numbers.get(2).copied(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> VersionConstraint {
        text.parse()
            .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn cpy(major: u32, minor: u32, micro: u32) -> PythonTarget {
        PythonTarget::cpython(major, minor, micro)
    }

    fn pypy(major: u32, minor: u32, micro: u32) -> PythonTarget {
        PythonTarget::pypy(major, minor, micro)
    }

    /// (text, target, expected)
    fn check(cases: &[(&str, PythonTarget, bool)]) {
        for (text, target, expected) in cases {
            assert_eq!(
                parse(text).matches(target),
                *expected,
                "{text:?} against {target}"
            );
        }
    }

    #[test]
    fn greater_equal_includes_its_bound() {
        check(&[
            (">=3.8", cpy(3, 8, 0), true),
            (">=3.8", cpy(3, 8, 18), true),
            (">=3.8", cpy(3, 7, 16), false),
            (">=3.8", cpy(3, 13, 0), true),
            (">=3.8", cpy(2, 7, 18), false),
            (">=3.8.5", cpy(3, 8, 4), false),
            (">=3.8.5", cpy(3, 8, 5), true),
        ]);
    }

    #[test]
    fn less_excludes_the_whole_named_range() {
        check(&[
            ("<3.12", cpy(3, 11, 7), true),
            ("<3.12", cpy(3, 12, 0), false),
            ("<3.12", cpy(3, 12, 1), false),
            ("<3", cpy(2, 7, 18), true),
            ("<3", cpy(3, 0, 0), false),
            ("<3.12.1", cpy(3, 12, 0), true),
            ("<3.12.1", cpy(3, 12, 1), false),
        ]);
    }

    #[test]
    fn less_equal_and_greater_treat_a_short_version_as_its_series() {
        check(&[
            ("<=3.11", cpy(3, 11, 7), true),
            ("<=3.11", cpy(3, 12, 0), false),
            ("<=3.11.2", cpy(3, 11, 2), true),
            ("<=3.11.2", cpy(3, 11, 3), false),
            (">3.8", cpy(3, 8, 18), false),
            (">3.8", cpy(3, 9, 0), true),
            (">3.8.1", cpy(3, 8, 2), true),
            (">3.8.1", cpy(3, 8, 1), false),
            (">2", cpy(2, 7, 18), false),
            (">2", cpy(3, 6, 15), true),
        ]);
    }

    #[test]
    fn ranges_combine_with_commas() {
        check(&[
            (">=3.8,<3.12", cpy(3, 7, 16), false),
            (">=3.8,<3.12", cpy(3, 8, 0), true),
            (">=3.8,<3.12", cpy(3, 11, 7), true),
            (">=3.8,<3.12", cpy(3, 12, 0), false),
            (" >= 3.8 , < 3.12 ", cpy(3, 10, 13), true),
            (">=3.6,!=3.10,<3.13", cpy(3, 10, 13), false),
            (">=3.6,!=3.10,<3.13", cpy(3, 12, 1), true),
        ]);
    }

    #[test]
    fn equality_without_micro_means_any_micro() {
        check(&[
            ("==3.11", cpy(3, 11, 0), true),
            ("==3.11", cpy(3, 11, 7), true),
            ("==3.11", cpy(3, 12, 0), false),
            ("==3.11", cpy(3, 10, 13), false),
            ("3.11", cpy(3, 11, 2), true),
            ("3.11", cpy(3, 1, 0), false),
            ("==3.11.*", cpy(3, 11, 2), true),
            ("==3.11.2", cpy(3, 11, 2), true),
            ("==3.11.2", cpy(3, 11, 7), false),
            ("3.11.2", cpy(3, 11, 3), false),
            ("3", cpy(3, 6, 15), true),
            ("3", cpy(3, 13, 0), true),
            ("3", cpy(2, 7, 18), false),
            ("2.7", cpy(2, 7, 18), true),
            ("2.7", cpy(2, 6, 9), false),
            ("2", cpy(2, 7, 18), true),
        ]);
    }

    #[test]
    fn not_equal_excludes_the_whole_series() {
        check(&[
            ("!=3.10", cpy(3, 10, 0), false),
            ("!=3.10", cpy(3, 10, 13), false),
            ("!=3.10", cpy(3, 9, 18), true),
            ("!=3.10", cpy(3, 11, 0), true),
            ("!=3.10.*", cpy(3, 10, 13), false),
            ("!=3.10.13", cpy(3, 10, 13), false),
            ("!=3.10.13", cpy(3, 10, 12), true),
        ]);
    }

    #[test]
    fn compatible_release_follows_pep_440() {
        check(&[
            ("~=3.9", cpy(3, 8, 18), false),
            ("~=3.9", cpy(3, 9, 0), true),
            ("~=3.9", cpy(3, 13, 0), true),
            ("~=3.9", cpy(4, 0, 0), false),
            ("~=3.9.2", cpy(3, 9, 1), false),
            ("~=3.9.2", cpy(3, 9, 2), true),
            ("~=3.9.2", cpy(3, 9, 18), true),
            ("~=3.9.2", cpy(3, 10, 0), false),
        ]);
    }

    #[test]
    fn implementation_names_restrict_the_implementation() {
        check(&[
            ("pypy", pypy(3, 9, 16), true),
            ("pypy", cpy(3, 9, 18), false),
            ("PyPy", pypy(2, 7, 18), true),
            ("pypy3.9", pypy(3, 9, 16), true),
            ("pypy3.9", pypy(3, 10, 0), false),
            ("pypy3.9", cpy(3, 9, 18), false),
            ("pypy3", pypy(3, 9, 16), true),
            ("pypy>=3.10", pypy(3, 9, 16), false),
            ("cpython>=3.10", cpy(3, 10, 0), true),
            ("cpython>=3.10", cpy(3, 9, 18), false),
            ("cpython>=3.10", pypy(3, 10, 14), false),
            ("cpython", cpy(2, 7, 18), true),
            ("cpython", pypy(3, 9, 16), false),
            ("cpython 3.11", cpy(3, 11, 2), true),
            ("CPython==3.11", cpy(3, 11, 2), true),
            ("3.9", pypy(3, 9, 16), true),
            ("any", pypy(3, 9, 16), true),
            ("any", cpy(2, 7, 18), true),
        ]);
    }

    #[test]
    fn parts_are_exposed() {
        let c = parse("cpython>=3.10,<3.13");
        assert_eq!(c.implementation(), Some(Implementation::CPython));
        assert_eq!(
            c.specifiers(),
            &[
                VersionSpecifier {
                    operator: Operator::GreaterEqual,
                    version: VersionPrefix::minor(3, 10)
                },
                VersionSpecifier {
                    operator: Operator::Less,
                    version: VersionPrefix::minor(3, 13)
                },
            ]
        );
        assert!(parse("any").is_any());
        assert!(!parse("pypy").is_any());
        assert_eq!(VersionPrefix::major(3).end(), PythonVersion::new(4, 0, 0));
        assert_eq!(
            VersionPrefix::micro(3, 11, 2).end(),
            PythonVersion::new(3, 11, 3)
        );
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        let cases = [
            (">=3.8", ">=3.8"),
            ("<3.12", "<3.12"),
            (">=3.8,<3.12", ">=3.8,<3.12"),
            (" >= 3.8 , < 3.12 ", ">=3.8,<3.12"),
            ("==3.11", "3.11"),
            ("3.11", "3.11"),
            ("3.11.*", "3.11"),
            ("3", "3"),
            ("2.7", "2.7"),
            ("3.11.2", "3.11.2"),
            ("~=3.9", "~=3.9"),
            ("~=3.9.2", "~=3.9.2"),
            ("!=3.10", "!=3.10"),
            ("!=3.10.*", "!=3.10"),
            ("<=3.11", "<=3.11"),
            (">3.8", ">3.8"),
            ("pypy", "pypy"),
            ("PyPy", "pypy"),
            ("pypy3.9", "pypy3.9"),
            ("pypy==3.9", "pypy3.9"),
            ("cpython>=3.10", "cpython>=3.10"),
            ("cpython", "cpython"),
            ("cpython3.11,!=3.11.0", "cpython==3.11,!=3.11.0"),
            ("any", "any"),
        ];
        for (text, canonical) in cases {
            let parsed = parse(text);
            assert_eq!(parsed.to_string(), canonical, "display of {text:?}");
            assert_eq!(parse(canonical), parsed, "round trip of {text:?}");
        }
        assert_eq!(VersionConstraint::any().to_string(), "any");
    }

    #[test]
    fn errors_name_the_problem_and_show_examples() {
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            ("jython2.7", "unknown implementation \"jython\""),
            ("python3.11", "write the version alone"),
            ("3.x", "\"3.x\" is not a version"),
            (">=three", "\"three\" is not a version"),
            (">=3.8,", "a clause is empty"),
            (",<3.12", "a clause is empty"),
            ("=3.8", "unknown operator"),
            ("=>3.8", "unknown operator"),
            ("===3.8", "arbitrary equality"),
            ("~=3", "needs at least two numbers"),
            (">=3.*", "wildcard only goes with"),
            ("3.11.2.1", "more than three numbers"),
            ("311", "did you mean 3.11?"),
            (">=", "the version is missing"),
            ("3..11", "is not a version"),
            ("99999999999", "too large"),
            ("any>=3", "unknown implementation \"any\""),
        ];
        for (text, needle) in cases {
            let error = text
                .parse::<VersionConstraint>()
                .expect_err(&format!("{text:?} should not parse"));
            let message = error.to_string();
            assert!(message.contains(needle), "{text:?}: {message}");
            assert!(message.contains("\">=3.8,<3.12\""), "{text:?}: {message}");
            assert_eq!(error.text, text);
        }
    }
}
