//! Rust to Python: marshal version-2 codes that every supported interpreter loads.
//!
//! Only codes that Python 2.7 and 3.6–3.14 all read identically are written: no
//! reference flags, no version 3/4 codes, ints as `'i'` or `'l'` (never `'I'`).

use bytes::Bytes;

use super::bigint::BigInt;
use super::body::{BodyWriter, FrameBody};
use super::codes;
use super::error::EncodeError;
use super::value::Value;

/// Deepest nesting a Python child loads: CPython's marshal counts every level,
/// the innermost value included, against a limit of 2000.
pub const MAX_ENCODE_DEPTH: usize = 1999;

/// Encodes a value as a VALUE body.
///
/// Bytes of [`crate::wire::ZERO_COPY_THRESHOLD`] or more become segments of their
/// own, without being copied. Nesting is limited to [`MAX_ENCODE_DEPTH`]; deep values
/// do not depend on the thread's stack size.
pub fn encode_value(value: &Value) -> Result<FrameBody, EncodeError> {
    let mut out = BodyWriter::new();
    write_value(&mut out, value, 0)?;
    Ok(out.finish())
}

/// Containers up to this depth are written by recursion, which allocates nothing;
/// deeper ones with an explicit stack, which a thread's stack size cannot limit.
const RECURSION_DEPTH: usize = 32;

fn write_value(out: &mut BodyWriter, value: &Value, depth: usize) -> Result<(), EncodeError> {
    match value {
        Value::Tuple(items) | Value::List(items) | Value::Set(items) | Value::FrozenSet(items) => {
            if depth >= RECURSION_DEPTH {
                return write_deep(out, value, depth);
            }
            let inner = enter(depth)?;
            put_header(out, sequence_code(value), items.len(), "container")?;
            for item in items {
                write_value(out, item, inner)?;
            }
            Ok(())
        }
        Value::Dict(entries) => {
            if depth >= RECURSION_DEPTH {
                return write_deep(out, value, depth);
            }
            let inner = enter(depth)?;
            out.put_u8(codes::DICT);
            for (key, value) in entries {
                write_value(out, key, inner)?;
                write_value(out, value, inner)?;
            }
            out.put_u8(codes::NULL);
            Ok(())
        }
        scalar => write_scalar(out, scalar),
    }
}

fn sequence_code(value: &Value) -> u8 {
    match value {
        Value::Tuple(_) => codes::TUPLE,
        Value::List(_) => codes::LIST,
        Value::Set(_) => codes::SET,
        _ => codes::FROZENSET,
    }
}

/// Writes a value without children; containers are the callers' business.
fn write_scalar(out: &mut BodyWriter, value: &Value) -> Result<(), EncodeError> {
    match value {
        Value::None => out.put_u8(codes::NONE),
        Value::Bool(b) => put_bool(out, *b),
        Value::Int(i) => put_i64(out, *i),
        Value::BigInt(big) => put_bigint(out, big)?,
        Value::Float(x) => put_f64(out, *x),
        Value::Str(s) => put_str(out, s)?,
        Value::Bytes(b) => put_shared_bytes(out, b.clone())?,
        Value::Tuple(_) | Value::List(_) | Value::Set(_) | Value::FrozenSet(_) | Value::Dict(_) => {
        }
    }
    Ok(())
}

/// A container whose children are being written.
enum Open<'v> {
    Items(std::slice::Iter<'v, Value>),
    Entries {
        entries: std::slice::Iter<'v, (Value, Value)>,
        /// The value of the entry whose key was just written.
        value: Option<&'v Value>,
    },
}

/// [`write_value`] with an explicit stack, for values `depth` levels down.
fn write_deep(out: &mut BodyWriter, root: &Value, depth: usize) -> Result<(), EncodeError> {
    let mut open: Vec<Open<'_>> = Vec::new();
    let mut next = Some(root);
    while let Some(value) = next.take() {
        match value {
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => {
                enter(depth + open.len())?;
                put_header(out, sequence_code(value), items.len(), "container")?;
                open.push(Open::Items(items.iter()));
            }
            Value::Dict(entries) => {
                enter(depth + open.len())?;
                out.put_u8(codes::DICT);
                open.push(Open::Entries {
                    entries: entries.iter(),
                    value: None,
                });
            }
            scalar => write_scalar(out, scalar)?,
        }
        // Move on to the next child, closing every container that has none left.
        while next.is_none() {
            match open.last_mut() {
                None => break,
                Some(Open::Items(items)) => match items.next() {
                    Some(item) => next = Some(item),
                    None => {
                        open.pop();
                    }
                },
                Some(Open::Entries { entries, value }) => match value.take() {
                    Some(pending) => next = Some(pending),
                    None => match entries.next() {
                        Some((key, entry_value)) => {
                            *value = Some(entry_value);
                            next = Some(key);
                        }
                        None => {
                            out.put_u8(codes::NULL);
                            open.pop();
                        }
                    },
                },
            }
        }
    }
    Ok(())
}

/// The depth inside one more container, if a Python child can load it.
pub(crate) fn enter(depth: usize) -> Result<usize, EncodeError> {
    if depth >= MAX_ENCODE_DEPTH {
        return Err(EncodeError::TooDeep {
            max_depth: MAX_ENCODE_DEPTH,
        });
    }
    Ok(depth + 1)
}

/// A type code followed by a 32-bit length or count.
pub(crate) fn put_header(
    out: &mut BodyWriter,
    code: u8,
    len: usize,
    what: &'static str,
) -> Result<(), EncodeError> {
    let len32 = i32::try_from(len).map_err(|_| EncodeError::TooLong {
        what,
        len: len as u64,
    })?;
    out.put_code_i32(code, len32);
    Ok(())
}

#[inline]
pub(crate) fn put_bool(out: &mut BodyWriter, b: bool) {
    out.put_u8(if b { codes::TRUE } else { codes::FALSE });
}

#[inline]
pub(crate) fn put_i64(out: &mut BodyWriter, i: i64) {
    match i32::try_from(i) {
        Ok(small) => out.put_code_i32(codes::INT, small),
        Err(_) => put_long(out, i < 0, u128::from(i.unsigned_abs())),
    }
}

pub(crate) fn put_i128(out: &mut BodyWriter, i: i128) {
    match i64::try_from(i) {
        Ok(small) => put_i64(out, small),
        Err(_) => put_long(out, i < 0, i.unsigned_abs()),
    }
}

pub(crate) fn put_u128(out: &mut BodyWriter, u: u128) {
    match i64::try_from(u) {
        Ok(small) => put_i64(out, small),
        Err(_) => put_long(out, false, u),
    }
}

/// `'l'`: a signed digit count, then 15-bit digits, least significant first.
fn put_long(out: &mut BodyWriter, negative: bool, mut magnitude: u128) {
    let digits = (128 - magnitude.leading_zeros()).div_ceil(15) as i32;
    out.put_code_i32(codes::LONG, if negative { -digits } else { digits });
    for _ in 0..digits {
        out.put_slice(&((magnitude & 0x7fff) as u16).to_le_bytes());
        magnitude >>= 15;
    }
}

pub(crate) fn put_bigint(out: &mut BodyWriter, big: &BigInt) -> Result<(), EncodeError> {
    if let Ok(small) = i128::try_from(big) {
        put_i128(out, small);
        return Ok(());
    }
    let digits = big.marshal_digit_count();
    let count = i32::try_from(digits).map_err(|_| EncodeError::TooLong {
        what: "int (in 15-bit digits)",
        len: digits,
    })?;
    out.put_code_i32(codes::LONG, if big.is_negative() { -count } else { count });
    big.for_each_marshal_digit(|digit| out.put_slice(&digit.to_le_bytes()));
    Ok(())
}

#[inline]
pub(crate) fn put_f64(out: &mut BodyWriter, x: f64) {
    out.put_code_u64(codes::BINARY_FLOAT, x.to_le_bytes());
}

#[inline]
pub(crate) fn put_str(out: &mut BodyWriter, s: &str) -> Result<(), EncodeError> {
    put_header(out, codes::UNICODE, s.len(), "str")?;
    out.put_slice(s.as_bytes());
    Ok(())
}

#[inline]
pub(crate) fn put_bytes(out: &mut BodyWriter, b: &[u8]) -> Result<(), EncodeError> {
    put_header(out, codes::STRING, b.len(), "bytes")?;
    out.put_slice(b);
    Ok(())
}

pub(crate) fn put_shared_bytes(out: &mut BodyWriter, b: Bytes) -> Result<(), EncodeError> {
    put_header(out, codes::STRING, b.len(), "bytes")?;
    out.put_shared(b);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::body::ZERO_COPY_THRESHOLD;

    fn encoded(value: &Value) -> Vec<u8> {
        encode_value(value).unwrap().into_contiguous().to_vec()
    }

    fn long(count: i32, digits: &[u16]) -> Vec<u8> {
        let mut out = vec![b'l'];
        out.extend_from_slice(&count.to_le_bytes());
        for digit in digits {
            out.extend_from_slice(&digit.to_le_bytes());
        }
        out
    }

    #[test]
    fn scalars() {
        assert_eq!(encoded(&Value::None), b"N");
        assert_eq!(encoded(&Value::Bool(true)), b"T");
        assert_eq!(encoded(&Value::Bool(false)), b"F");
        assert_eq!(encoded(&Value::Int(0)), b"i\0\0\0\0");
        assert_eq!(encoded(&Value::Int(-1)), b"i\xff\xff\xff\xff");
        assert_eq!(encoded(&Value::Float(1.5)), b"g\0\0\0\0\0\0\xf8?");
        assert_eq!(encoded(&Value::from("é")), b"u\x02\0\0\0\xc3\xa9");
        assert_eq!(encoded(&Value::from(&b"\xff"[..])), b"s\x01\0\0\0\xff");
    }

    #[test]
    fn ints_switch_to_long_exactly_outside_i32() {
        assert_eq!(encoded(&Value::Int(i32::MAX.into())), b"i\xff\xff\xff\x7f");
        assert_eq!(encoded(&Value::Int(i32::MIN.into())), b"i\0\0\0\x80");
        // 2^31 = 2 * 2^30: digits [0, 0, 2].
        assert_eq!(encoded(&Value::Int(1 << 31)), long(3, &[0, 0, 2]));
        assert_eq!(encoded(&Value::Int(-(1 << 31) - 1)), long(-3, &[1, 0, 2]));
        // i64::MAX = 2^63 - 1: four full digits and 0b111.
        assert_eq!(
            encoded(&Value::Int(i64::MAX)),
            long(5, &[0x7fff, 0x7fff, 0x7fff, 0x7fff, 7])
        );
        assert_eq!(encoded(&Value::Int(i64::MIN)), long(-5, &[0, 0, 0, 0, 8]));
        assert_eq!(
            encoded(&Value::from(1u128 << 63)),
            long(5, &[0, 0, 0, 0, 8])
        );
        assert_eq!(
            encoded(&Value::from(-(1i128 << 63) - 1)),
            long(-5, &[1, 0, 0, 0, 8])
        );
        let mut two_to_200 = vec![0u16; 14];
        two_to_200[13] = 1 << 5;
        assert_eq!(
            encoded(&Value::BigInt(BigInt::from_sign_magnitude(false, {
                let mut limbs = vec![0; 7];
                limbs[6] = 1 << 8;
                limbs
            }))),
            long(14, &two_to_200)
        );
    }

    #[test]
    fn containers() {
        assert_eq!(encoded(&Value::Tuple(vec![])), b"(\0\0\0\0");
        assert_eq!(encoded(&Value::List(vec![])), b"[\0\0\0\0");
        assert_eq!(encoded(&Value::Set(vec![])), b"<\0\0\0\0");
        assert_eq!(encoded(&Value::FrozenSet(vec![])), b">\0\0\0\0");
        assert_eq!(encoded(&Value::Dict(vec![])), b"{0");
        assert_eq!(
            encoded(&Value::Dict(vec![(
                Value::None,
                Value::List(vec![Value::Bool(true)])
            )])),
            b"{N[\x01\0\0\0T0"
        );
    }

    #[test]
    fn lengths_beyond_i32_are_refused() {
        let mut out = BodyWriter::new();
        let too_long = i32::MAX as usize + 1;
        let err = put_header(&mut out, codes::UNICODE, too_long, "str").unwrap_err();
        assert_eq!(
            err,
            EncodeError::TooLong {
                what: "str",
                len: too_long as u64
            }
        );
        assert!(
            err.to_string()
                .contains("exceeds marshal's limit of 2147483647"),
            "{err}"
        );
        assert!(put_header(&mut out, codes::UNICODE, i32::MAX as usize, "str").is_ok());
    }

    #[test]
    fn large_bytes_are_not_copied() {
        let big = Bytes::from(vec![1u8; ZERO_COPY_THRESHOLD]);
        let body =
            encode_value(&Value::List(vec![Value::Bytes(big.clone()), Value::None])).unwrap();
        assert_eq!(body.segments().len(), 3);
        assert_eq!(body.segments()[1].as_ptr(), big.as_ptr());
        assert_eq!(&body.segments()[2][..], b"N");
        let small = Bytes::from(vec![1u8; ZERO_COPY_THRESHOLD - 1]);
        assert_eq!(
            encode_value(&Value::Bytes(small)).unwrap().segments().len(),
            1
        );
    }

    #[test]
    fn nesting_is_limited_to_what_python_loads() {
        let nest = |levels: usize| {
            let mut value = Value::None;
            for _ in 0..levels {
                value = Value::List(vec![value]);
            }
            value
        };
        let run = move || {
            assert!(encode_value(&nest(MAX_ENCODE_DEPTH)).is_ok());
            let err = encode_value(&nest(MAX_ENCODE_DEPTH + 1)).unwrap_err();
            assert_eq!(
                err,
                EncodeError::TooDeep {
                    max_depth: MAX_ENCODE_DEPTH
                }
            );
            assert!(err.to_string().contains("nested deeper than 1999 levels"));
        };
        // The encoder recurses; it must fit a default 2 MiB thread stack at the limit.
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }
}
