//! Values of inventory settings and variables, whichever format they came from.

use std::collections::BTreeMap;
use std::fmt;

/// A setting's or variable's value. INI files give strings; TOML and YAML give
/// typed values. Settings read them leniently (`"22"` is a port, `"yes"` a yes).
#[derive(Debug, Clone, PartialEq)]
pub enum Var {
    /// Text.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// Yes or no.
    Bool(bool),
    /// A list.
    List(Vec<Var>),
    /// A table.
    Map(BTreeMap<String, Var>),
}

impl Var {
    /// The value as text, for settings that are text (numbers and booleans are
    /// written out); `None` for lists and tables.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Var::Str(s) => Some(s.clone()),
            Var::Int(i) => Some(i.to_string()),
            Var::Float(f) => Some(f.to_string()),
            Var::Bool(b) => Some(if *b { "yes" } else { "no" }.to_string()),
            Var::List(_) | Var::Map(_) => None,
        }
    }

    /// The value as yes or no: a boolean, or text Ansible reads as one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Var::Bool(b) => Some(*b),
            Var::Int(0) => Some(false),
            Var::Int(1) => Some(true),
            Var::Str(s) => match s.to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" | "1" | "y" | "t" => Some(true),
                "no" | "false" | "off" | "0" | "n" | "f" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value as a list of texts: a list, or one text (a single item).
    pub fn as_text_list(&self) -> Option<Vec<String>> {
        match self {
            Var::List(items) => items.iter().map(Var::as_text).collect(),
            other => other.as_text().map(|text| vec![text]),
        }
    }
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Var::Str(s) => write!(f, "{s:?}"),
            Var::Int(i) => write!(f, "{i}"),
            Var::Float(x) => write!(f, "{x}"),
            Var::Bool(b) => write!(f, "{b}"),
            Var::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Var::Map(map) => {
                f.write_str("{")?;
                for (i, (key, value)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{key:?}: {value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Named values; later layers override earlier ones key by key.
pub type Vars = BTreeMap<String, Var>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_readings() {
        assert_eq!(Var::Str("Yes".into()).as_bool(), Some(true));
        assert_eq!(Var::Str("maybe".into()).as_bool(), None);
        assert_eq!(Var::Int(22).as_text().as_deref(), Some("22"));
        assert_eq!(
            Var::List(vec![Var::Str("-v".into()), Var::Int(3)]).as_text_list(),
            Some(vec!["-v".to_string(), "3".to_string()])
        );
        assert_eq!(Var::Map(Vars::new()).as_text(), None);
    }
}
