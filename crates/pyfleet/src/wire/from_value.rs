//! serde out of a [`Value`], with the same leniencies as [`crate::wire::from_body`].

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{
    self, DeserializeOwned, Deserializer, EnumAccess, IntoDeserializer, VariantAccess, Visitor,
};

use super::convert::{self, Int, IntTarget, expected, forward_ints};
use super::error::DecodeError;
use super::magic;
use super::value::Value;

/// Converts a [`Value`] into any `Deserialize` type, mapped as
/// [`crate::wire::from_body`] maps a body.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, DecodeError> {
    T::deserialize(value)
}

fn mismatch(expected: &'static str, found: &Value) -> DecodeError {
    DecodeError::TypeMismatch {
        offset: None,
        expected,
        found: found.type_name(),
    }
}

/// Text for str targets: a str, or bytes that are UTF-8 (Python 2 `str`).
fn into_text(value: Value) -> Result<String, DecodeError> {
    match value {
        Value::Str(s) => Ok(s),
        Value::Bytes(b) => match std::str::from_utf8(&b) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => Err(DecodeError::NotUtf8 { offset: None }),
        },
        other => Err(mismatch(expected::STR, &other)),
    }
}

fn visit_items<'de, V: Visitor<'de>>(
    items: Vec<Value>,
    visitor: V,
) -> Result<V::Value, DecodeError> {
    let mut seq = SeqDeserializer::new(items.into_iter());
    let value = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(value)
}

fn visit_entries<'de, V: Visitor<'de>>(
    entries: Vec<(Value, Value)>,
    visitor: V,
) -> Result<V::Value, DecodeError> {
    let mut map = MapDeserializer::new(entries.into_iter());
    let value = visitor.visit_map(&mut map)?;
    map.end()?;
    Ok(value)
}

impl<'de> IntoDeserializer<'de, DecodeError> for Value {
    type Deserializer = Value;

    fn into_deserializer(self) -> Value {
        self
    }
}

impl Value {
    pub(crate) fn deserialize_int<'de, V: Visitor<'de>>(
        self,
        target: IntTarget,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match &self {
            Value::Int(i) => convert::visit_int(target, Int::Small(*i), visitor),
            Value::BigInt(big) => convert::visit_int(target, Int::Big(big), visitor),
            other => Err(mismatch(expected::INT, other)),
        }
    }
}

impl<'de> Deserializer<'de> for Value {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Value::None => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) => visitor.visit_i64(i),
            Value::BigInt(big) => convert::visit_any_int(Int::Big(&big), visitor),
            Value::Float(x) => visitor.visit_f64(x),
            Value::Str(s) => visitor.visit_string(s),
            Value::Bytes(b) => visitor.visit_bytes(&b),
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => visit_items(items, visitor),
            Value::Dict(entries) => visit_entries(entries, visitor),
        }
    }

    forward_ints! {
        deserialize_i8 => I8, deserialize_i16 => I16, deserialize_i32 => I32,
        deserialize_i64 => I64, deserialize_i128 => I128,
        deserialize_u8 => U8, deserialize_u16 => U16, deserialize_u32 => U32,
        deserialize_u64 => U64, deserialize_u128 => U128,
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Value::Bool(b) => visitor.visit_bool(b),
            other => Err(mismatch(expected::BOOL, &other)),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match &self {
            Value::Float(x) => visitor.visit_f64(*x),
            Value::Int(i) => visitor.visit_f64(Int::Small(*i).to_f64()?),
            Value::BigInt(big) => visitor.visit_f64(Int::Big(big).to_f64()?),
            other => Err(mismatch(expected::FLOAT, other)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_string(into_text(self)?)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Value::Bytes(b) => visitor.visit_bytes(&b),
            Value::Str(s) => visitor.visit_byte_buf(s.into_bytes()),
            other => Err(mismatch(expected::BYTES, &other)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Value::None => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Value::None => visitor.visit_unit(),
            other => Err(mismatch(expected::NONE, &other)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        if name == magic::VALUE {
            return magic::hand_over(self, || visitor.visit_newtype_struct(Value::None));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => visit_items(items, visitor),
            Value::Bytes(b) => {
                let mut seq = SeqDeserializer::new(b.iter().copied());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            other => Err(mismatch(expected::SEQ, &other)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Value::Dict(entries) => visit_entries(entries, visitor),
            other => Err(mismatch(expected::DICT, &other)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self {
            Value::Str(_) | Value::Bytes(_) => {
                visitor.visit_enum(into_text(self)?.into_deserializer())
            }
            Value::Dict(mut entries) if entries.len() == 1 => {
                let (variant, payload) = entries.pop().unwrap_or_default();
                visitor.visit_enum(VariantEntry { variant, payload })
            }
            other => Err(mismatch(expected::ENUM, &other)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Value::Str(_) | Value::Bytes(_) => visitor.visit_string(into_text(self)?),
            Value::Int(i) if i >= 0 => visitor.visit_u64(i as u64),
            other => Err(mismatch(expected::IDENTIFIER, &other)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }
}

/// `{variant: payload}`.
struct VariantEntry {
    variant: Value,
    payload: Value,
}

impl<'de> EnumAccess<'de> for VariantEntry {
    type Error = DecodeError;
    type Variant = Payload;

    fn variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Payload), DecodeError> {
        let variant = seed.deserialize(Identifier(self.variant))?;
        Ok((variant, Payload(self.payload)))
    }
}

/// The value of `{variant: payload}`.
struct Payload(Value);

/// A variant name, read as an identifier whatever the seed asks for.
struct Identifier(Value);

impl<'de> Deserializer<'de> for Identifier {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.0.deserialize_identifier(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> VariantAccess<'de> for Payload {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<(), DecodeError> {
        de::Deserialize::deserialize(self.0)
    }

    fn newtype_variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, DecodeError> {
        seed.deserialize(self.0)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.0.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.0.deserialize_struct("", fields, visitor)
    }
}
