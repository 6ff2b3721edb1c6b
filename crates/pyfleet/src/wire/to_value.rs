//! serde into a [`Value`] tree, with the same mapping as [`crate::wire::to_body`].

use serde::ser::{self, Serialize};

use super::encode;
use super::error::EncodeError;
use super::magic::{self, Lent};
use super::reader::SeqKind;
use super::value::Value;

/// Converts any `Serialize` type into a [`Value`], mapped as [`crate::wire::to_body`]
/// maps it: `to_body(x)` and `encode_value(&to_value(x)?)` give the same bytes.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, EncodeError> {
    value.serialize(ValueSerializer {
        depth: 0,
        set_kind: None,
    })
}

#[derive(Clone, Copy)]
struct ValueSerializer {
    depth: usize,
    /// Set by the set/frozenset newtype names for the sequence that follows at once.
    set_kind: Option<SeqKind>,
}

impl ValueSerializer {
    fn inner(self) -> Result<ValueSerializer, EncodeError> {
        Ok(ValueSerializer {
            depth: encode::enter(self.depth)?,
            set_kind: None,
        })
    }
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = EncodeError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = SeqBuilder;
    type SerializeMap = DictBuilder;
    type SerializeStruct = DictBuilder;
    type SerializeStructVariant = DictBuilder;

    fn serialize_bool(self, v: bool) -> Result<Value, EncodeError> {
        Ok(Value::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_i128(self, v: i128) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_u8(self, v: u8) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_u128(self, v: u128) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_f32(self, v: f32) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<Value, EncodeError> {
        Ok(Value::Float(v))
    }

    fn serialize_char(self, v: char) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_str(self, v: &str) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Value, EncodeError> {
        Ok(Value::from(v))
    }

    fn serialize_none(self) -> Result<Value, EncodeError> {
        Ok(Value::None)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, EncodeError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value, EncodeError> {
        Ok(Value::None)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, EncodeError> {
        Ok(Value::None)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, EncodeError> {
        Ok(Value::from(variant))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, EncodeError> {
        match name {
            magic::BYTES => match magic::take_lent() {
                Some(Lent::Bytes(bytes)) => Ok(Value::Bytes(bytes)),
                _ => value.serialize(self),
            },
            magic::BIG_INT => match magic::take_lent() {
                Some(Lent::BigInt(big)) => Ok(Value::from(big)),
                _ => value.serialize(self),
            },
            magic::SET => value.serialize(ValueSerializer {
                set_kind: Some(SeqKind::Set),
                ..self
            }),
            magic::FROZEN_SET => value.serialize(ValueSerializer {
                set_kind: Some(SeqKind::FrozenSet),
                ..self
            }),
            _ => value.serialize(self),
        }
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, EncodeError> {
        let payload = value.serialize(self.inner()?)?;
        Ok(Value::Dict(vec![(Value::from(variant), payload)]))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, EncodeError> {
        SeqBuilder::new(
            self,
            self.set_kind.unwrap_or(SeqKind::List),
            len.unwrap_or(0),
            None,
        )
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, EncodeError> {
        SeqBuilder::new(self, SeqKind::Tuple, len, None)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, EncodeError> {
        SeqBuilder::new(self, SeqKind::Tuple, len, None)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, EncodeError> {
        SeqBuilder::new(self.inner()?, SeqKind::Tuple, len, Some(variant))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<DictBuilder, EncodeError> {
        DictBuilder::new(self, len.unwrap_or(0), None)
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<DictBuilder, EncodeError> {
        DictBuilder::new(self, len, None)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<DictBuilder, EncodeError> {
        DictBuilder::new(self.inner()?, len, Some(variant))
    }
}

/// Wraps `payload` as `{variant: payload}` when it belongs to an enum variant.
fn in_variant(variant: Option<&'static str>, payload: Value) -> Value {
    match variant {
        Some(name) => Value::Dict(vec![(Value::from(name), payload)]),
        None => payload,
    }
}

struct SeqBuilder {
    inner: ValueSerializer,
    kind: SeqKind,
    items: Vec<Value>,
    variant: Option<&'static str>,
}

impl SeqBuilder {
    fn new(
        outer: ValueSerializer,
        kind: SeqKind,
        len: usize,
        variant: Option<&'static str>,
    ) -> Result<SeqBuilder, EncodeError> {
        Ok(SeqBuilder {
            inner: outer.inner()?,
            kind,
            items: Vec::with_capacity(len.min(4096)),
            variant,
        })
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.items.push(value.serialize(self.inner)?);
        Ok(())
    }

    fn finish(self) -> Result<Value, EncodeError> {
        Ok(in_variant(self.variant, self.kind.build(self.items)))
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = EncodeError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }

    fn end(self) -> Result<Value, EncodeError> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Value;
    type Error = EncodeError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }

    fn end(self) -> Result<Value, EncodeError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Value;
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }

    fn end(self) -> Result<Value, EncodeError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqBuilder {
    type Ok = Value;
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }

    fn end(self) -> Result<Value, EncodeError> {
        self.finish()
    }
}

struct DictBuilder {
    inner: ValueSerializer,
    entries: Vec<(Value, Value)>,
    key: Option<Value>,
    variant: Option<&'static str>,
}

impl DictBuilder {
    fn new(
        outer: ValueSerializer,
        len: usize,
        variant: Option<&'static str>,
    ) -> Result<DictBuilder, EncodeError> {
        Ok(DictBuilder {
            inner: outer.inner()?,
            entries: Vec::with_capacity(len.min(4096)),
            key: None,
            variant,
        })
    }

    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        let value = value.serialize(self.inner)?;
        self.entries.push((Value::from(key), value));
        Ok(())
    }

    fn finish(self) -> Result<Value, EncodeError> {
        Ok(in_variant(self.variant, Value::Dict(self.entries)))
    }
}

impl ser::SerializeMap for DictBuilder {
    type Ok = Value;
    type Error = EncodeError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        self.key = Some(key.serialize(self.inner)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let key = self.key.take().ok_or_else(|| {
            EncodeError::Message("a map value was serialized before its key".into())
        })?;
        let value = value.serialize(self.inner)?;
        self.entries.push((key, value));
        Ok(())
    }

    fn end(self) -> Result<Value, EncodeError> {
        self.finish()
    }
}

impl ser::SerializeStruct for DictBuilder {
    type Ok = Value;
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<Value, EncodeError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for DictBuilder {
    type Ok = Value;
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<Value, EncodeError> {
        self.finish()
    }
}
