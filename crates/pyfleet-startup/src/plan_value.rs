//! The few kinds of value a plan carries: probe arguments and the values a child's
//! report must show.
//!
//! A plan needs only None, bool, int, str and lists of those, so it does not depend
//! on the wire codec's full `Value` (big ints, bytes, sets, zero-copy buffers): the
//! codec stays a protocol concern, and this crate stays small enough for the pack
//! launcher. `PlanValue` serialises exactly like the codec's `Value` of the same
//! kind, so a plan sent to a child reads the same, and `pyfleet` converts it into a
//! `Value` to compare it with a child's report.

use serde::{Serialize, Serializer};

/// A value in a plan: None, bool, int, str, or a list of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanValue {
    /// Python's `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int that fits 64 bits.
    Int(i64),
    /// A str.
    Str(String),
    /// A list.
    List(Vec<PlanValue>),
}

impl PlanValue {
    /// True for `None`.
    pub fn is_none(&self) -> bool {
        matches!(self, PlanValue::None)
    }

    /// The text of a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PlanValue::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The items of a `List`.
    pub fn as_items(&self) -> Option<&[PlanValue]> {
        match self {
            PlanValue::List(items) => Some(items),
            _ => None,
        }
    }
}

impl Serialize for PlanValue {
    /// The same calls the codec's `Value` makes: `None` is a unit, a list a sequence.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PlanValue::None => serializer.serialize_unit(),
            PlanValue::Bool(value) => serializer.serialize_bool(*value),
            PlanValue::Int(value) => serializer.serialize_i64(*value),
            PlanValue::Str(text) => serializer.serialize_str(text),
            PlanValue::List(items) => serializer.collect_seq(items),
        }
    }
}

impl From<bool> for PlanValue {
    fn from(value: bool) -> PlanValue {
        PlanValue::Bool(value)
    }
}

impl From<i64> for PlanValue {
    fn from(value: i64) -> PlanValue {
        PlanValue::Int(value)
    }
}

impl From<String> for PlanValue {
    fn from(text: String) -> PlanValue {
        PlanValue::Str(text)
    }
}

impl From<&str> for PlanValue {
    fn from(text: &str) -> PlanValue {
        PlanValue::Str(text.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_like_plain_data() {
        let value = PlanValue::List(vec![
            PlanValue::None,
            PlanValue::Bool(true),
            PlanValue::Int(-3),
            PlanValue::Str("utf-8".into()),
        ]);
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"[null,true,-3,"utf-8"]"#
        );
        assert_eq!(value.as_items().map(<[PlanValue]>::len), Some(4));
        assert_eq!(PlanValue::from("x").as_str(), Some("x"));
        assert!(PlanValue::None.is_none());
    }
}
