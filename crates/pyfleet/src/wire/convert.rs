//! Conversions shared by both deserializers (from a body and from a [`Value`]).

use serde::de::Visitor;

use super::bigint::BigInt;
use super::error::DecodeError;

/// What each deserialize method accepts, for type-mismatch errors.
pub(crate) mod expected {
    pub(crate) const BOOL: &str = "a bool";
    pub(crate) const INT: &str = "an int";
    pub(crate) const FLOAT: &str = "a float or an int";
    pub(crate) const STR: &str = "a str (or UTF-8 bytes)";
    pub(crate) const BYTES: &str = "bytes (or a str)";
    pub(crate) const NONE: &str = "None";
    pub(crate) const SEQ: &str = "a tuple, list, set or frozenset";
    pub(crate) const DICT: &str = "a dict";
    pub(crate) const ENUM: &str = "an enum variant: a str naming it, or a dict with one entry";
    pub(crate) const IDENTIFIER: &str = "a str naming a field or variant";
}

/// An integer as the decoders hold it.
#[derive(Clone, Copy)]
pub(crate) enum Int<'a> {
    Small(i64),
    Big(&'a BigInt),
}

impl Int<'_> {
    fn describe(self) -> String {
        match self {
            Int::Small(i) => i.to_string(),
            Int::Big(big) => big.describe(),
        }
    }

    pub(crate) fn to_f64(self) -> Result<f64, DecodeError> {
        match self {
            Int::Small(i) => Ok(i as f64),
            Int::Big(big) => {
                let x = big.to_f64();
                if x.is_finite() {
                    Ok(x)
                } else {
                    Err(DecodeError::IntOutOfRange {
                        offset: None,
                        value: big.describe(),
                        target: "f64",
                    })
                }
            }
        }
    }
}

/// The Rust integer type a deserialize method asks for.
#[derive(Clone, Copy)]
pub(crate) enum IntTarget {
    I8,
    I16,
    I32,
    I64,
    I128,
    U8,
    U16,
    U32,
    U64,
    U128,
}

impl IntTarget {
    fn name(self) -> &'static str {
        match self {
            IntTarget::I8 => "i8",
            IntTarget::I16 => "i16",
            IntTarget::I32 => "i32",
            IntTarget::I64 => "i64",
            IntTarget::I128 => "i128",
            IntTarget::U8 => "u8",
            IntTarget::U16 => "u16",
            IntTarget::U32 => "u32",
            IntTarget::U64 => "u64",
            IntTarget::U128 => "u128",
        }
    }
}

/// Hands `value` to the visitor as `target`, if it fits.
pub(crate) fn visit_int<'de, V: Visitor<'de>>(
    target: IntTarget,
    value: Int<'_>,
    visitor: V,
) -> Result<V::Value, DecodeError> {
    let out_of_range = || DecodeError::IntOutOfRange {
        offset: None,
        value: value.describe(),
        target: target.name(),
    };
    if let IntTarget::U128 = target {
        let wide = match value {
            Int::Small(i) => u128::try_from(i).ok(),
            Int::Big(big) => u128::try_from(big).ok(),
        };
        return visitor.visit_u128(wide.ok_or_else(out_of_range)?);
    }
    let wide = match value {
        Int::Small(i) => i128::from(i),
        Int::Big(big) => i128::try_from(big).map_err(|_| out_of_range())?,
    };
    macro_rules! narrow {
        ($visit:ident) => {
            visitor.$visit(wide.try_into().map_err(|_| out_of_range())?)
        };
    }
    match target {
        IntTarget::I8 => narrow!(visit_i8),
        IntTarget::I16 => narrow!(visit_i16),
        IntTarget::I32 => narrow!(visit_i32),
        IntTarget::I64 => narrow!(visit_i64),
        IntTarget::I128 => visitor.visit_i128(wide),
        IntTarget::U8 => narrow!(visit_u8),
        IntTarget::U16 => narrow!(visit_u16),
        IntTarget::U32 => narrow!(visit_u32),
        IntTarget::U64 | IntTarget::U128 => narrow!(visit_u64),
    }
}

/// Hands an int of unspecified target type to the visitor in the narrowest form
/// serde has; beyond 128 bits there is none.
pub(crate) fn visit_any_int<'de, V: Visitor<'de>>(
    value: Int<'_>,
    visitor: V,
) -> Result<V::Value, DecodeError> {
    match value {
        Int::Small(i) => visitor.visit_i64(i),
        Int::Big(big) => {
            if let Ok(wide) = i128::try_from(big) {
                visitor.visit_i128(wide)
            } else if let Ok(wide) = u128::try_from(big) {
                visitor.visit_u128(wide)
            } else {
                Err(DecodeError::IntOutOfRange {
                    offset: None,
                    value: big.describe(),
                    target: "i128 or u128 (read it as a Value or BigInt instead)",
                })
            }
        }
    }
}

/// Generates the ten integer methods of a `Deserializer` that has
/// `fn deserialize_int(self, IntTarget, visitor)`.
macro_rules! forward_ints {
    ($($method:ident => $target:ident),* $(,)?) => {$(
        fn $method<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            self.deserialize_int(crate::wire::convert::IntTarget::$target, visitor)
        }
    )*};
}
pub(crate) use forward_ints;
