//! The dynamically typed value of a VALUE body.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

use super::bigint::BigInt;

/// A Python value of the marshal subset pyfleet exchanges with its children.
///
/// Integers are `Int` whenever they fit an `i64` and `BigInt` only beyond that; the
/// decoder and the `From` conversions keep to this, so equal numbers compare equal.
/// `Dict` keeps insertion order and may have keys of any type (nothing is hashed).
///
/// Equality is structural. Floats are equal when their bits are, so `NaN == NaN` and
/// `0.0 != -0.0`: this is what a round trip through Python preserves, which is what
/// tests compare. Sets compare in order, as they were decoded.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// `None`.
    #[default]
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int` that fits an `i64`.
    Int(i64),
    /// An `int` outside the `i64` range.
    BigInt(BigInt),
    /// A `float`.
    Float(f64),
    /// A `str` (Python 3) or `unicode` (Python 2).
    Str(String),
    /// `bytes` (Python 3) or `str` (Python 2).
    Bytes(Bytes),
    /// A `tuple`.
    Tuple(Vec<Value>),
    /// A `list`.
    List(Vec<Value>),
    /// A `dict`, in insertion order.
    Dict(Vec<(Value, Value)>),
    /// A `set`.
    Set(Vec<Value>),
    /// A `frozenset`.
    FrozenSet(Vec<Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (None, None) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (BigInt(a), BigInt(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Str(a), Str(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (Tuple(a), Tuple(b))
            | (List(a), List(b))
            | (Set(a), Set(b))
            | (FrozenSet(a), FrozenSet(b)) => a == b,
            (Dict(a), Dict(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Value {
    /// The Python type name: `"NoneType"`, `"bool"`, `"int"`, `"float"`, `"str"`,
    /// `"bytes"`, `"tuple"`, `"list"`, `"dict"`, `"set"` or `"frozenset"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
        }
    }

    /// Whether this is `None`.
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// The bool, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is an `int` within the `i64` range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The float, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The text, if this is a `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is `bytes`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The items, if this is a tuple, list, set or frozenset.
    pub fn as_items(&self) -> Option<&[Value]> {
        match self {
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is a dict.
    pub fn as_dict(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Dict(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value of the first dict entry whose key is the str (or, as Python 2 sends
    /// it, the bytes) `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_dict()?
            .iter()
            .find(|(k, _)| match k {
                Value::Str(s) => s == key,
                Value::Bytes(b) => b == key.as_bytes(),
                _ => false,
            })
            .map(|(_, v)| v)
    }
}

impl From<()> for Value {
    fn from(_: ()) -> Value {
        Value::None
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

macro_rules! from_small_int {
    ($($t:ty)*) => {$(
        impl From<$t> for Value {
            fn from(i: $t) -> Value {
                Value::Int(i64::from(i))
            }
        }
    )*};
}
from_small_int!(i8 i16 i32 i64 u8 u16 u32);

macro_rules! from_wide_int {
    ($($t:ty => $wide:ty),*) => {$(
        impl From<$t> for Value {
            fn from(i: $t) -> Value {
                match i64::try_from(i) {
                    Ok(small) => Value::Int(small),
                    Err(_) => Value::BigInt(BigInt::from(i as $wide)),
                }
            }
        }
    )*};
}
from_wide_int!(u64 => u128, usize => u128, isize => i128, i128 => i128, u128 => u128);

impl From<BigInt> for Value {
    fn from(big: BigInt) -> Value {
        match i64::try_from(&big) {
            Ok(small) => Value::Int(small),
            Err(_) => Value::BigInt(big),
        }
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<f32> for Value {
    fn from(f: f32) -> Value {
        Value::Float(f64::from(f))
    }
}

impl From<char> for Value {
    fn from(c: char) -> Value {
        Value::Str(c.to_string())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<Bytes> for Value {
    fn from(b: Bytes) -> Value {
        Value::Bytes(b)
    }
}

impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Value {
        Value::Bytes(Bytes::copy_from_slice(b))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(option: Option<T>) -> Value {
        option.map_or(Value::None, Into::into)
    }
}

/// A `Vec` becomes a list; use [`Value::Bytes`] for bytes.
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

impl<K: Into<Value>, V: Into<Value>> From<BTreeMap<K, V>> for Value {
    fn from(map: BTreeMap<K, V>) -> Value {
        Value::Dict(map.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<K: Into<Value>, V: Into<Value>, S> From<HashMap<K, V, S>> for Value {
    fn from(map: HashMap<K, V, S>) -> Value {
        Value::Dict(map.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

macro_rules! from_tuple {
    ($(($($name:ident)+))*) => {$(
        impl<$($name: Into<Value>),+> From<($($name,)+)> for Value {
            #[allow(non_snake_case)]
            fn from(($($name,)+): ($($name,)+)) -> Value {
                Value::Tuple(vec![$($name.into()),+])
            }
        }
    )*};
}
from_tuple! {
    (A)
    (A B)
    (A B C)
    (A B C D)
    (A B C D E)
    (A B C D E F)
}

impl<T: Into<Value>> FromIterator<T> for Value {
    /// Collects into a list.
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Value {
        Value::List(iter.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_normalise_to_int_when_they_fit() {
        assert_eq!(Value::from(5u64), Value::Int(5));
        assert_eq!(Value::from(i128::from(i64::MIN)), Value::Int(i64::MIN));
        assert_eq!(Value::from(u64::MAX), Value::BigInt(BigInt::from(u64::MAX)));
        assert_eq!(
            Value::from(i128::from(i64::MIN) - 1),
            Value::BigInt(BigInt::from(i128::from(i64::MIN) - 1))
        );
        assert_eq!(Value::from(BigInt::from(7i64)), Value::Int(7));
        assert_eq!(Value::from(usize::MAX).type_name(), "int");
    }

    #[test]
    fn floats_compare_bitwise() {
        assert_eq!(Value::Float(f64::NAN), Value::Float(f64::NAN));
        assert_ne!(Value::Float(0.0), Value::Float(-0.0));
        assert_ne!(Value::Int(1), Value::Float(1.0));
        assert_ne!(Value::Tuple(vec![]), Value::List(vec![]));
    }

    #[test]
    fn conversions_and_accessors() {
        let v = Value::from(("os", "getpid", Value::Tuple(vec![]), Value::Dict(vec![])));
        assert_eq!(v.type_name(), "tuple");
        let items = v.as_items().unwrap();
        assert_eq!(items[0].as_str(), Some("os"));
        assert_eq!(Value::from(Some(3)).as_i64(), Some(3));
        assert!(Value::from(None::<i32>).is_none());
        assert_eq!(Value::from(vec![1, 2]).type_name(), "list");
        let dict = Value::Dict(vec![
            (Value::Bytes(Bytes::from_static(b"py2")), Value::Int(2)),
            (Value::from("py3"), Value::Int(3)),
        ]);
        assert_eq!(dict.get("py2"), Some(&Value::Int(2)));
        assert_eq!(dict.get("py3"), Some(&Value::Int(3)));
        assert_eq!(dict.get("nope"), None);
        assert_eq!(Value::from(&b"ab"[..]).as_bytes(), Some(&b"ab"[..]));
        assert_eq!(Value::from('x').as_str(), Some("x"));
        assert_eq!(Value::from(true).as_bool(), Some(true));
        assert_eq!(Value::from(1.5f32).as_f64(), Some(1.5));
        let collected: Value = (1..=3).collect();
        assert_eq!(collected, Value::List(vec![1.into(), 2.into(), 3.into()]));
        for (value, name) in [
            (Value::None, "NoneType"),
            (Value::Set(vec![]), "set"),
            (Value::FrozenSet(vec![]), "frozenset"),
            (Value::from(BTreeMap::from([(1, 2)])), "dict"),
        ] {
            assert_eq!(value.type_name(), name);
        }
    }
}
