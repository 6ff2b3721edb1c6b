//! serde straight from marshal bytes, with the checks of [`crate::wire::decode_value`].
//!
//! Objects that a later marshal reference (`'r'`) names are decoded into a [`Value`]
//! first, so that the reference can get a copy, and deserialized from that.

use std::borrow::Cow;

use bytes::Bytes;
use serde::de::value::{BorrowedStrDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};

use super::convert::{self, Int, IntTarget, expected, forward_ints};
use super::decode::{build_value, scalar_value};
use super::error::DecodeError;
use super::limits::DecodeLimits;
use super::magic;
use super::reader::{Head, HeadKind, Reader, SeqKind};
use super::value::Value;

/// Forwards a deserialize method to the `Value` an item was built into.
macro_rules! on_value {
    ($value:expr, $offset:expr, $method:ident($($arg:expr),*)) => {
        $value.$method($($arg),*).map_err(|e| e.located($offset))
    };
}

/// Deserializes a VALUE body sent by a child straight into `T`.
///
/// Applies the same checks and limits as [`crate::wire::decode_value`].
///
/// The mapping is the one of [`crate::wire::to_body`], read leniently where Python
/// versions differ:
/// - `String`/`&str`/`char` targets also accept bytes that are valid UTF-8, because
///   Python 2 sends its `str` as bytes; bytes targets also accept a str (as UTF-8);
/// - sequence targets accept a tuple, list, set or frozenset (and `Vec<u8>` bytes);
/// - float targets accept ints;
/// - integer targets take any int that fits, and name the value and the type if not;
/// - struct field and enum variant names may be str or bytes.
///
/// `Value` targets (alone or inside a struct) get the value exactly as sent, with
/// zero-copy bytes, as [`crate::wire::ByteBuf`] targets do.
pub fn from_body<T: DeserializeOwned>(
    body: &Bytes,
    limits: &DecodeLimits,
) -> Result<T, DecodeError> {
    let mut deserializer = BodyDeserializer {
        reader: Reader::new(body, limits),
        pending: None,
        last_offset: 0,
    };
    let value =
        T::deserialize(&mut deserializer).map_err(|e| e.located(deserializer.last_offset))?;
    deserializer.reader.finish()?;
    Ok(value)
}

/// The next item: a head to stream from, or a value already built.
enum Item<'de> {
    Head(Head<'de>),
    Value(Value, usize),
}

struct BodyDeserializer<'de> {
    reader: Reader<'de>,
    /// An item read ahead (to peek for `None`, or a dict key) and put back.
    pending: Option<Item<'de>>,
    /// Where the most recent item started, for errors raised by visitors.
    last_offset: usize,
}

impl<'de> BodyDeserializer<'de> {
    fn next_item(&mut self) -> Result<Item<'de>, DecodeError> {
        if let Some(item) = self.pending.take() {
            return Ok(item);
        }
        let head = self.reader.read_head()?;
        self.last_offset = head.offset;
        if head.slot.is_some() || matches!(head.kind, HeadKind::Ref(_)) {
            let offset = head.offset;
            let value = build_value(&mut self.reader, head)?;
            return Ok(Item::Value(value, offset));
        }
        Ok(Item::Head(head))
    }

    fn next_value(&mut self) -> Result<Value, DecodeError> {
        match self.next_item()? {
            Item::Head(head) => build_value(&mut self.reader, head),
            Item::Value(value, _) => Ok(value),
        }
    }

    fn deserialize_int<V: Visitor<'de>>(
        &mut self,
        target: IntTarget,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(head) => match &head.kind {
                HeadKind::Int(i) => convert::visit_int(target, Int::Small(*i), visitor),
                HeadKind::BigInt(big) => convert::visit_int(target, Int::Big(big), visitor),
                _ => Err(mismatch(expected::INT, &head)),
            }
            .map_err(|e| e.located(head.offset)),
            Item::Value(value, offset) => {
                on_value!(value, offset, deserialize_int(target, visitor))
            }
        }
    }

    /// The whole sequence through `visitor`; the visitor must take every item.
    fn visit_items<V: Visitor<'de>>(
        &mut self,
        kind: SeqKind,
        count: usize,
        offset: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let mut items = Items {
            de: &mut *self,
            remaining: count,
        };
        let value = visitor.visit_seq(&mut items)?;
        if items.remaining > 0 {
            return Err(DecodeError::ExtraItems {
                offset: Some(offset),
                what: kind.type_name(),
            });
        }
        self.reader.leave();
        Ok(value)
    }

    /// The whole dict through `visitor`; the visitor must take every entry.
    fn visit_entries<V: Visitor<'de>>(
        &mut self,
        offset: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let mut entries = Entries {
            de: &mut *self,
            ended: false,
        };
        let value = visitor.visit_map(&mut entries)?;
        if !entries.ended {
            self.expect_dict_end(offset)?;
        }
        self.reader.leave();
        Ok(value)
    }

    fn expect_dict_end(&mut self, offset: usize) -> Result<(), DecodeError> {
        match self.next_item()? {
            Item::Head(Head {
                kind: HeadKind::Null,
                ..
            }) => Ok(()),
            _ => Err(DecodeError::ExtraItems {
                offset: Some(offset),
                what: "dict",
            }),
        }
    }

    /// The natural visit for a head, as `deserialize_any` wants it.
    fn visit_head<V: Visitor<'de>>(
        &mut self,
        head: Head<'de>,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let offset = head.offset;
        match head.kind {
            HeadKind::Null => Err(DecodeError::UnexpectedNull { offset }),
            HeadKind::None => visitor.visit_unit(),
            HeadKind::Bool(b) => visitor.visit_bool(b),
            HeadKind::Int(i) => visitor.visit_i64(i),
            HeadKind::BigInt(big) => {
                convert::visit_any_int(Int::Big(&big), visitor).map_err(|e| e.located(offset))
            }
            HeadKind::Float(x) => visitor.visit_f64(x),
            HeadKind::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            HeadKind::Str(Cow::Owned(s)) => visitor.visit_string(s),
            HeadKind::Bytes { start, end } => {
                visitor.visit_borrowed_bytes(self.reader.bytes(start, end))
            }
            HeadKind::Seq(kind, count) => self.visit_items(kind, count, offset, visitor),
            HeadKind::Dict => self.visit_entries(offset, visitor),
            kind @ HeadKind::Ref(_) => scalar_value(&self.reader, kind).deserialize_any(visitor),
        }
    }

    /// Text of a str, or of bytes that are UTF-8.
    fn text(&self, head: &Head<'de>) -> Result<Option<&'de str>, DecodeError> {
        match head.kind {
            HeadKind::Bytes { start, end } => std::str::from_utf8(self.reader.bytes(start, end))
                .map(Some)
                .map_err(|_| DecodeError::NotUtf8 {
                    offset: Some(head.offset),
                }),
            _ => Ok(None),
        }
    }
}

fn mismatch(expected: &'static str, head: &Head<'_>) -> DecodeError {
    DecodeError::TypeMismatch {
        offset: Some(head.offset),
        expected,
        found: head.kind.type_name(),
    }
}

impl<'de> Deserializer<'de> for &mut BodyDeserializer<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(head) => self.visit_head(head, visitor),
            Item::Value(value, offset) => on_value!(value, offset, deserialize_any(visitor)),
        }
    }

    forward_ints! {
        deserialize_i8 => I8, deserialize_i16 => I16, deserialize_i32 => I32,
        deserialize_i64 => I64, deserialize_i128 => I128,
        deserialize_u8 => U8, deserialize_u16 => U16, deserialize_u32 => U32,
        deserialize_u64 => U64, deserialize_u128 => U128,
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(Head {
                kind: HeadKind::Bool(b),
                ..
            }) => visitor.visit_bool(b),
            Item::Head(head) => Err(mismatch(expected::BOOL, &head)),
            Item::Value(value, offset) => on_value!(value, offset, deserialize_bool(visitor)),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(head) => {
                let x = match &head.kind {
                    HeadKind::Float(x) => *x,
                    HeadKind::Int(i) => Int::Small(*i).to_f64()?,
                    HeadKind::BigInt(big) => {
                        Int::Big(big).to_f64().map_err(|e| e.located(head.offset))?
                    }
                    _ => return Err(mismatch(expected::FLOAT, &head)),
                };
                visitor.visit_f64(x)
            }
            Item::Value(value, offset) => on_value!(value, offset, deserialize_f64(visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(head) => {
                if let Some(text) = self.text(&head)? {
                    return visitor.visit_borrowed_str(text);
                }
                match head.kind {
                    HeadKind::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
                    HeadKind::Str(Cow::Owned(s)) => visitor.visit_string(s),
                    _ => Err(mismatch(expected::STR, &head)),
                }
            }
            Item::Value(value, offset) => on_value!(value, offset, deserialize_str(visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(head) => match head.kind {
                HeadKind::Bytes { start, end } => {
                    visitor.visit_borrowed_bytes(self.reader.bytes(start, end))
                }
                HeadKind::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_bytes(s.as_bytes()),
                HeadKind::Str(Cow::Owned(s)) => visitor.visit_byte_buf(s.into_bytes()),
                _ => Err(mismatch(expected::BYTES, &head)),
            },
            Item::Value(value, offset) => on_value!(value, offset, deserialize_bytes(visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(Head {
                kind: HeadKind::None,
                ..
            })
            | Item::Value(Value::None, _) => visitor.visit_none(),
            item => {
                self.pending = Some(item);
                visitor.visit_some(self)
            }
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(Head {
                kind: HeadKind::None,
                ..
            }) => visitor.visit_unit(),
            Item::Head(head) => Err(mismatch(expected::NONE, &head)),
            Item::Value(value, offset) => on_value!(value, offset, deserialize_unit(visitor)),
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
            let value = self.next_value()?;
            return magic::hand_over(value, || visitor.visit_newtype_struct(Value::None));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(head) => match head.kind {
                HeadKind::Seq(kind, count) => self.visit_items(kind, count, head.offset, visitor),
                HeadKind::Bytes { start, end } => {
                    let mut bytes = SeqDeserializer::<_, DecodeError>::new(
                        self.reader.bytes(start, end).iter().copied(),
                    );
                    let value = visitor.visit_seq(&mut bytes)?;
                    bytes.end()?;
                    Ok(value)
                }
                _ => Err(mismatch(expected::SEQ, &head)),
            },
            Item::Value(value, offset) => on_value!(value, offset, deserialize_seq(visitor)),
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
        match self.next_item()? {
            Item::Head(head) => match head.kind {
                HeadKind::Dict => self.visit_entries(head.offset, visitor),
                _ => Err(mismatch(expected::DICT, &head)),
            },
            Item::Value(value, offset) => on_value!(value, offset, deserialize_map(visitor)),
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
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(head) => {
                if let Some(text) = self.text(&head)? {
                    return visitor.visit_enum(BorrowedStrDeserializer::new(text));
                }
                match head.kind {
                    HeadKind::Str(Cow::Borrowed(s)) => {
                        visitor.visit_enum(BorrowedStrDeserializer::new(s))
                    }
                    HeadKind::Str(Cow::Owned(s)) => visitor.visit_enum(s.into_deserializer()),
                    HeadKind::Dict => {
                        let value = visitor.visit_enum(VariantEntry {
                            de: &mut *self,
                            offset: head.offset,
                        })?;
                        self.expect_dict_end(head.offset)?;
                        self.reader.leave();
                        Ok(value)
                    }
                    _ => Err(mismatch(expected::ENUM, &head)),
                }
            }
            Item::Value(value, offset) => {
                on_value!(value, offset, deserialize_enum(name, variants, visitor))
            }
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.next_item()? {
            Item::Head(head) => match head.kind {
                HeadKind::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
                HeadKind::Str(Cow::Owned(s)) => visitor.visit_string(s),
                HeadKind::Bytes { start, end } => {
                    let bytes = self.reader.bytes(start, end);
                    match std::str::from_utf8(bytes) {
                        Ok(text) => visitor.visit_borrowed_str(text),
                        Err(_) => visitor.visit_borrowed_bytes(bytes),
                    }
                }
                HeadKind::Int(i) if i >= 0 => visitor.visit_u64(i as u64),
                _ => Err(mismatch(expected::IDENTIFIER, &head)),
            },
            Item::Value(value, offset) => on_value!(value, offset, deserialize_identifier(visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        // Built and dropped rather than skipped, so that references stay numbered
        // and everything is checked as usual.
        self.next_value()?;
        visitor.visit_unit()
    }
}

/// Items of a tuple, list, set or frozenset.
struct Items<'d, 'de> {
    de: &'d mut BodyDeserializer<'de>,
    remaining: usize,
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = DecodeError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DecodeError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining)
    }
}

/// Entries of a dict, up to the closing `'0'`.
struct Entries<'d, 'de> {
    de: &'d mut BodyDeserializer<'de>,
    ended: bool,
}

impl<'de> de::MapAccess<'de> for Entries<'_, 'de> {
    type Error = DecodeError;

    fn next_key_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DecodeError> {
        if self.ended {
            return Ok(None);
        }
        match self.de.next_item()? {
            Item::Head(Head {
                kind: HeadKind::Null,
                ..
            }) => {
                self.ended = true;
                Ok(None)
            }
            item => {
                self.de.pending = Some(item);
                seed.deserialize(&mut *self.de).map(Some)
            }
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, DecodeError> {
        seed.deserialize(&mut *self.de)
    }
}

/// The one entry of `{variant: payload}`.
struct VariantEntry<'d, 'de> {
    de: &'d mut BodyDeserializer<'de>,
    offset: usize,
}

impl<'d, 'de> de::EnumAccess<'de> for VariantEntry<'d, 'de> {
    type Error = DecodeError;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self), DecodeError> {
        match self.de.next_item()? {
            Item::Head(Head {
                kind: HeadKind::Null,
                ..
            }) => Err(DecodeError::TypeMismatch {
                offset: Some(self.offset),
                expected: expected::ENUM,
                found: "an empty dict",
            }),
            item => {
                self.de.pending = Some(item);
                let variant = seed.deserialize(VariantName { de: &mut *self.de })?;
                Ok((variant, self))
            }
        }
    }
}

impl<'de> de::VariantAccess<'de> for VariantEntry<'_, 'de> {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<(), DecodeError> {
        de::Deserialize::deserialize(&mut *self.de)
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, DecodeError> {
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.de.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.de.deserialize_struct("", fields, visitor)
    }
}

/// A variant name, read as an identifier whatever the seed asks for.
struct VariantName<'d, 'de> {
    de: &'d mut BodyDeserializer<'de>,
}

impl<'de> Deserializer<'de> for VariantName<'_, 'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.de.deserialize_identifier(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
