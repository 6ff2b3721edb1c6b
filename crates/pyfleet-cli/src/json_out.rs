//! Values printed as JSON for the `call` and `exec` commands.
//!
//! Mapping: None → null; bool; int (any size, as digits); float (NaN and
//! infinities, which JSON lacks, as the strings "NaN", "Infinity", "-Infinity");
//! str; bytes → a string when they are UTF-8 (Python 2 returns most text as
//! bytes), else {"$base64": "..."}; tuple, list, set, frozenset → array; dict →
//! object when every key is a str, bytes, int, float, bool or None (keys written as
//! Python's json module writes them), else an array of [key, value] pairs.

use std::fmt::Write;

use pyfleet::Value;

/// `value` as compact JSON text.
pub fn to_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::None => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::BigInt(big) => {
            let _ = write!(out, "{big}");
        }
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => write_str(out, s),
        Value::Bytes(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => write_str(out, text),
            Err(_) => {
                out.push_str("{\"$base64\":\"");
                out.push_str(&base64(bytes));
                out.push_str("\"}");
            }
        },
        Value::Tuple(items) | Value::List(items) | Value::Set(items) | Value::FrozenSet(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Dict(pairs) => {
            let keys: Option<Vec<String>> = pairs.iter().map(|(k, _)| key_text(k)).collect();
            match keys {
                Some(keys) => {
                    out.push('{');
                    for (i, (key, (_, v))) in keys.iter().zip(pairs).enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        write_str(out, key);
                        out.push(':');
                        write_value(out, v);
                    }
                    out.push('}');
                }
                None => {
                    out.push('[');
                    for (i, (k, v)) in pairs.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push('[');
                        write_value(out, k);
                        out.push(',');
                        write_value(out, v);
                        out.push(']');
                    }
                    out.push(']');
                }
            }
        }
    }
}

/// A dict key as Python's json module would write it, if it can be a JSON key.
fn key_text(key: &Value) -> Option<String> {
    Some(match key {
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.to_string(),
        Value::Int(_) | Value::BigInt(_) => to_json(key),
        Value::Float(_) => to_json(key).trim_matches('"').to_string(),
        Value::Bool(_) | Value::None => to_json(key),
        _ => return None,
    })
}

fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("\"NaN\"");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else if f == f.trunc() && f.abs() < 1e16 {
        let _ = write!(out, "{f:.1}");
    } else {
        let _ = write!(out, "{f}");
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("strings always serialise"));
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_python_values_to_json() {
        let v = Value::Dict(vec![
            (
                Value::Str("a".into()),
                Value::Tuple(vec![Value::Int(1), Value::Float(2.0), Value::None]),
            ),
            (Value::Int(3), Value::Bytes(b"text".to_vec().into())),
            (
                Value::Bool(true),
                Value::Bytes(vec![0xff, 0xfe, 0x00].into()),
            ),
        ]);
        assert_eq!(
            to_json(&v),
            r#"{"a":[1,2.0,null],"3":"text","true":{"$base64":"//4A"}}"#
        );
    }

    #[test]
    fn non_string_keys_become_pairs() {
        let v = Value::Dict(vec![(Value::Tuple(vec![Value::Int(1)]), Value::Int(2))]);
        assert_eq!(to_json(&v), "[[[1],2]]");
    }

    #[test]
    fn special_floats_and_big_ints() {
        assert_eq!(to_json(&Value::Float(f64::NAN)), "\"NaN\"");
        assert_eq!(to_json(&Value::Float(f64::NEG_INFINITY)), "\"-Infinity\"");
        assert_eq!(to_json(&Value::Float(0.1)), "0.1");
        assert_eq!(
            to_json(&Value::from(1u128 << 100)),
            "1267650600228229401496703205376"
        );
    }

    #[test]
    fn base64_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }
}
