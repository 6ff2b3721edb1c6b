//! serde straight to marshal bytes: the encoder on the path of every call.

use serde::ser::{self, Serialize};

use super::body::{BodyWriter, FrameBody};
use super::codes;
use super::encode;
use super::error::EncodeError;
use super::magic::{self, Lent};

/// Serializes `value` directly into a VALUE body, without building a [`crate::wire::Value`].
///
/// | Rust (serde)                         | Python                       |
/// |--------------------------------------|------------------------------|
/// | `bool`                               | `bool`                       |
/// | any integer, `i128`/`u128` included  | `int`                        |
/// | `f32`, `f64`                         | `float`                      |
/// | `char`, `str`                        | `str`                        |
/// | bytes ([`crate::wire::ByteBuf`])      | `bytes`                      |
/// | `None`, `()`, unit struct            | `None`                       |
/// | `Some(x)`, newtype struct            | `x`                          |
/// | sequence                             | `list`                       |
/// | tuple, tuple struct                  | `tuple`                      |
/// | map, struct                          | `dict` (field names as `str`) |
/// | unit variant                         | `'Name'`                     |
/// | other variants                       | `{'Name': payload}`          |
///
/// Nesting is limited to [`crate::wire::MAX_ENCODE_DEPTH`]. `to_body(x)` gives the same
/// bytes as `encode_value(&to_value(x)?)`.
pub fn to_body<T: Serialize + ?Sized>(value: &T) -> Result<FrameBody, EncodeError> {
    let mut serializer = BodySerializer {
        out: BodyWriter::new(),
        depth: 0,
        set_code: None,
    };
    value.serialize(&mut serializer)?;
    Ok(serializer.out.finish())
}

struct BodySerializer {
    out: BodyWriter,
    depth: usize,
    /// Set by the set/frozenset newtype names for the sequence that follows at once.
    set_code: Option<u8>,
}

impl BodySerializer {
    fn enter(&mut self, levels: usize) -> Result<(), EncodeError> {
        for _ in 0..levels {
            self.depth = encode::enter(self.depth)?;
        }
        Ok(())
    }

    fn counted(
        &mut self,
        code: u8,
        len: usize,
        closing_nulls: usize,
    ) -> Result<Counted<'_>, EncodeError> {
        encode::put_header(&mut self.out, code, len, "container")?;
        Ok(Counted {
            ser: self,
            count: 0,
            expected: Some(len),
            patch_at: None,
            closing_nulls,
        })
    }
}

impl<'s> ser::Serializer for &'s mut BodySerializer {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Counted<'s>;
    type SerializeTuple = Counted<'s>;
    type SerializeTupleStruct = Counted<'s>;
    type SerializeTupleVariant = Counted<'s>;
    type SerializeMap = Entries<'s>;
    type SerializeStruct = Entries<'s>;
    type SerializeStructVariant = Entries<'s>;

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        encode::put_bool(&mut self.out, v);
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        encode::put_i64(&mut self.out, v);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        encode::put_i128(&mut self.out, v);
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        encode::put_u128(&mut self.out, u128::from(v));
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        encode::put_u128(&mut self.out, v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        encode::put_f64(&mut self.out, v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        encode::put_str(&mut self.out, v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        encode::put_bytes(&mut self.out, v)
    }

    fn serialize_none(self) -> Result<(), EncodeError> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), EncodeError> {
        self.out.put_u8(codes::NONE);
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), EncodeError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        match name {
            magic::BYTES => match magic::take_lent() {
                Some(Lent::Bytes(bytes)) => encode::put_shared_bytes(&mut self.out, bytes),
                _ => value.serialize(self),
            },
            magic::BIG_INT => match magic::take_lent() {
                Some(Lent::BigInt(big)) => encode::put_bigint(&mut self.out, &big),
                _ => value.serialize(self),
            },
            magic::SET | magic::FROZEN_SET => {
                self.set_code = Some(if name == magic::SET {
                    codes::SET
                } else {
                    codes::FROZENSET
                });
                let result = value.serialize(&mut *self);
                self.set_code = None;
                result
            }
            _ => value.serialize(self),
        }
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.enter(1)?;
        self.out.put_u8(codes::DICT);
        encode::put_str(&mut self.out, variant)?;
        value.serialize(&mut *self)?;
        self.out.put_u8(codes::NULL);
        self.depth -= 1;
        Ok(())
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Counted<'s>, EncodeError> {
        self.enter(1)?;
        let code = self.set_code.take().unwrap_or(codes::LIST);
        match len {
            Some(len) => self.counted(code, len, 0),
            None => {
                self.out.put_u8(code);
                let patch_at = self.out.position();
                self.out.put_i32(0);
                Ok(Counted {
                    ser: self,
                    count: 0,
                    expected: None,
                    patch_at: Some(patch_at),
                    closing_nulls: 0,
                })
            }
        }
    }

    fn serialize_tuple(self, len: usize) -> Result<Counted<'s>, EncodeError> {
        self.enter(1)?;
        self.counted(codes::TUPLE, len, 0)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Counted<'s>, EncodeError> {
        self.serialize_tuple(len)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Counted<'s>, EncodeError> {
        self.enter(2)?;
        self.out.put_u8(codes::DICT);
        encode::put_str(&mut self.out, variant)?;
        self.counted(codes::TUPLE, len, 1)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Entries<'s>, EncodeError> {
        self.enter(1)?;
        self.out.put_u8(codes::DICT);
        Ok(Entries {
            ser: self,
            levels: 1,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Entries<'s>, EncodeError> {
        self.serialize_map(None)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Entries<'s>, EncodeError> {
        self.enter(2)?;
        self.out.put_u8(codes::DICT);
        encode::put_str(&mut self.out, variant)?;
        self.out.put_u8(codes::DICT);
        Ok(Entries {
            ser: self,
            levels: 2,
        })
    }
}

/// Items of a tuple, list, set or frozenset, behind a count.
struct Counted<'s> {
    ser: &'s mut BodySerializer,
    count: usize,
    /// The count already written, when it was known up front.
    expected: Option<usize>,
    /// Where to write the count at the end, when it was not.
    patch_at: Option<usize>,
    /// Dicts to close after the items (one for a tuple variant).
    closing_nulls: usize,
}

impl Counted<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.count += 1;
        value.serialize(&mut *self.ser)
    }

    fn finish(self) -> Result<(), EncodeError> {
        if let Some(at) = self.patch_at {
            let count = i32::try_from(self.count).map_err(|_| EncodeError::TooLong {
                what: "container",
                len: self.count as u64,
            })?;
            self.ser.out.patch_i32(at, count);
        } else if self.expected != Some(self.count) {
            return Err(EncodeError::Message(format!(
                "a Serialize implementation announced {} items and produced {}",
                self.expected.unwrap_or_default(),
                self.count
            )));
        }
        for _ in 0..self.closing_nulls {
            self.ser.out.put_u8(codes::NULL);
        }
        self.ser.depth -= 1 + self.closing_nulls;
        Ok(())
    }
}

impl ser::SerializeSeq for Counted<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl ser::SerializeTuple for Counted<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Counted<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Counted<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.item(value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

/// Entries of a dict (maps, structs, struct variants), ended by `'0'`.
struct Entries<'s> {
    ser: &'s mut BodySerializer,
    /// Dicts to close at the end (two for a struct variant).
    levels: usize,
}

impl Entries<'_> {
    fn finish(self) -> Result<(), EncodeError> {
        for _ in 0..self.levels {
            self.ser.out.put_u8(codes::NULL);
        }
        self.ser.depth -= self.levels;
        Ok(())
    }

    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        encode::put_str(&mut self.ser.out, key)?;
        value.serialize(&mut *self.ser)
    }
}

impl ser::SerializeMap for Entries<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        key.serialize(&mut *self.ser)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        value.serialize(&mut *self.ser)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl ser::SerializeStruct for Entries<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Entries<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}
