//! Python `repr`-like text for [`Value`], for error messages and the CLI.

use std::fmt::{self, Write};

use super::value::Value;

/// Shows the value as Python's `repr` would (Python 3 spelling).
///
/// Ints too large to format quickly are shown by size, as Python 3.11+ refuses to
/// format them too.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(i) => write!(f, "{i}"),
            Value::BigInt(big) => {
                let text = big.describe();
                if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
                    f.write_str(&text)
                } else {
                    write!(f, "<{text}>")
                }
            }
            Value::Float(x) => write_float(f, *x),
            Value::Str(s) => write_str(f, s),
            Value::Bytes(b) => write_bytes(f, b),
            Value::Tuple(items) => {
                f.write_char('(')?;
                write_items(f, items)?;
                if items.len() == 1 {
                    f.write_char(',')?;
                }
                f.write_char(')')
            }
            Value::List(items) => {
                f.write_char('[')?;
                write_items(f, items)?;
                f.write_char(']')
            }
            Value::Dict(entries) => {
                f.write_char('{')?;
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{key}: {value}")?;
                }
                f.write_char('}')
            }
            Value::Set(items) if items.is_empty() => f.write_str("set()"),
            Value::Set(items) => {
                f.write_char('{')?;
                write_items(f, items)?;
                f.write_char('}')
            }
            Value::FrozenSet(items) if items.is_empty() => f.write_str("frozenset()"),
            Value::FrozenSet(items) => {
                f.write_str("frozenset({")?;
                write_items(f, items)?;
                f.write_str("})")
            }
        }
    }
}

fn write_items(f: &mut fmt::Formatter<'_>, items: &[Value]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// Python's float repr: shortest round-trip digits, exponent form outside 1e-4..1e16.
pub(crate) fn write_float(f: &mut impl Write, x: f64) -> fmt::Result {
    if x.is_nan() {
        return f.write_str("nan");
    }
    if x.is_infinite() {
        return f.write_str(if x > 0.0 { "inf" } else { "-inf" });
    }
    if x.is_sign_negative() {
        f.write_char('-')?;
    }
    if x == 0.0 {
        return f.write_str("0.0");
    }
    // Rust's `{:e}` gives the shortest round-trip digits as "d.ddde[-]x".
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let point = exponent + 1;
    if -4 < point && point <= 16 {
        if point <= 0 {
            f.write_str("0.")?;
            for _ in 0..-point {
                f.write_char('0')?;
            }
            f.write_str(&digits)
        } else {
            let point = point as usize;
            if point >= digits.len() {
                f.write_str(&digits)?;
                for _ in digits.len()..point {
                    f.write_char('0')?;
                }
                f.write_str(".0")
            } else {
                write!(f, "{}.{}", &digits[..point], &digits[point..])
            }
        }
    } else {
        f.write_str(&digits[..1])?;
        if digits.len() > 1 {
            write!(f, ".{}", &digits[1..])?;
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        write!(f, "e{sign}{:02}", exponent.unsigned_abs())
    }
}

fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    f.write_char(quote)?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c == quote => write!(f, "\\{c}")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c if c.is_control() => match c as u32 {
                code @ 0..=0xff => write!(f, "\\x{code:02x}")?,
                code @ 0x100..=0xffff => write!(f, "\\u{code:04x}")?,
                code => write!(f, "\\U{code:08x}")?,
            },
            c => f.write_char(c)?,
        }
    }
    f.write_char(quote)
}

fn write_bytes(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    f.write_char('b')?;
    f.write_char(quote as char)?;
    for &byte in b {
        match byte {
            b'\\' => f.write_str("\\\\")?,
            b'\n' => f.write_str("\\n")?,
            b'\r' => f.write_str("\\r")?,
            b'\t' => f.write_str("\\t")?,
            byte if byte == quote => write!(f, "\\{}", byte as char)?,
            0x20..=0x7e => f.write_char(byte as char)?,
            byte => write!(f, "\\x{byte:02x}")?,
        }
    }
    f.write_char(quote as char)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::wire::BigInt;

    fn repr(v: Value) -> String {
        v.to_string()
    }

    #[test]
    fn floats_like_python() {
        let cases = [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (123456789.125, "123456789.125"),
            (1e300, "1e+300"),
            (-2.5e-300, "-2.5e-300"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (x, text) in cases {
            assert_eq!(repr(Value::Float(x)), text, "{x:e}");
        }
    }

    #[test]
    fn containers_like_python() {
        let v = Value::Tuple(vec![
            Value::None,
            Value::Bool(true),
            Value::Int(-3),
            Value::from("it's"),
            Value::Bytes(Bytes::from_static(b"a\x00'\xff")),
            Value::List(vec![]),
            Value::Dict(vec![(Value::from("k"), Value::Tuple(vec![Value::Int(1)]))]),
            Value::Set(vec![]),
            Value::Set(vec![Value::Int(1), Value::Int(2)]),
            Value::FrozenSet(vec![]),
            Value::FrozenSet(vec![Value::Tuple(vec![])]),
        ]);
        assert_eq!(
            repr(v),
            r#"(None, True, -3, "it's", b"a\x00'\xff", [], {'k': (1,)}, set(), {1, 2}, frozenset(), frozenset({()}))"#
        );
        assert_eq!(
            repr(Value::from("tab\t\u{1}\u{85}é😀")),
            "'tab\\t\\x01\\x85é😀'"
        );
    }

    #[test]
    fn huge_ints_are_shown_by_size() {
        let mut limbs = vec![0u32; 1000];
        limbs[999] = 1;
        let huge = BigInt::from_sign_magnitude(true, limbs);
        assert_eq!(repr(Value::BigInt(huge)), "<an int of 31969 bits>");
        assert_eq!(repr(Value::from(u64::MAX)), "18446744073709551615");
    }
}
