use std::time::{Duration, Instant};

use bytes::Bytes;

use super::decode_value;
use crate::wire::{BigInt, DecodeError, DecodeLimits, Value, encode_value, from_body};

fn le(n: i32) -> [u8; 4] {
    n.to_le_bytes()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Decodes with `decode_value` and with `from_body::<Value>`, which must agree.
fn decode_with(bytes: &[u8], limits: &DecodeLimits) -> Result<Value, DecodeError> {
    let body = Bytes::copy_from_slice(bytes);
    let direct = decode_value(&body, limits);
    let through_serde = from_body::<Value>(&body, limits);
    assert_eq!(
        direct, through_serde,
        "decode_value and from_body::<Value> disagree on {bytes:?}"
    );
    direct
}

fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
    decode_with(bytes, &DecodeLimits::default())
}

fn ok(bytes: &[u8]) -> Value {
    decode(bytes).unwrap_or_else(|e| panic!("{bytes:?} failed: {e}"))
}

fn err(bytes: &[u8]) -> DecodeError {
    match decode(bytes) {
        Ok(value) => panic!("{bytes:?} decoded to {value}"),
        Err(e) => e,
    }
}

fn s(text: &str) -> Value {
    Value::from(text)
}

fn b(bytes: &'static [u8]) -> Value {
    Value::Bytes(Bytes::from_static(bytes))
}

fn pow2(bits: u32) -> BigInt {
    let mut limbs = vec![0u32; bits as usize / 32 + 1];
    limbs[bits as usize / 32] = 1 << (bits % 32);
    BigInt::from_sign_magnitude(false, limbs)
}

fn round_trip(value: &Value) -> Value {
    let body = encode_value(value).unwrap().into_contiguous();
    decode_with(&body, &DecodeLimits::default()).unwrap()
}

#[test]
fn singletons() {
    assert_eq!(ok(b"N"), Value::None);
    assert_eq!(ok(b"T"), Value::Bool(true));
    assert_eq!(ok(b"F"), Value::Bool(false));
    // CPython ignores the reference flag on singletons, and so do we.
    assert_eq!(ok(b"\xce"), Value::None);
}

#[test]
fn ints_of_every_code() {
    assert_eq!(ok(&cat(&[b"i", &le(-7)])), Value::Int(-7));
    assert_eq!(ok(&cat(&[b"\xe9", &le(7)])), Value::Int(7));
    assert_eq!(
        ok(&cat(&[b"I", &(1i64 << 40).to_le_bytes()])),
        Value::Int(1 << 40)
    );
    assert_eq!(
        ok(&cat(&[b"I", &i64::MIN.to_le_bytes()])),
        Value::Int(i64::MIN)
    );
    // Python 2 writes `long(0)` as a long with no digits.
    assert_eq!(ok(&cat(&[b"l", &le(0)])), Value::Int(0));
    assert_eq!(
        ok(&cat(&[b"l", &le(-1), &5u16.to_le_bytes()])),
        Value::Int(-5)
    );
}

#[test]
fn int_boundaries_round_trip() {
    let mut values: Vec<Value> = [
        0,
        1,
        -1,
        i64::from(i32::MAX),
        i64::from(i32::MIN),
        i64::from(i32::MAX) + 1,
        i64::from(i32::MIN) - 1,
        i64::MAX,
        i64::MIN,
        i64::MAX - 1,
        i64::MIN + 1,
    ]
    .into_iter()
    .map(Value::Int)
    .collect();
    values.push(Value::from(1u128 << 63));
    values.push(Value::from(-(1i128 << 63) - 1));
    values.push(Value::from(u128::MAX));
    values.push(Value::from(i128::MIN));
    values.push(Value::BigInt(pow2(200)));
    values.push(Value::BigInt(BigInt::from_sign_magnitude(
        true,
        pow2(200).magnitude().to_vec(),
    )));
    for value in values {
        assert_eq!(round_trip(&value), value);
    }
    assert!(matches!(
        round_trip(&Value::from(1u128 << 63)),
        Value::BigInt(_)
    ));
}

#[test]
fn longs_are_normalised() {
    // Leading zero digits (CPython refuses them, PyPy writes them): normalised away.
    let body = cat(&[b"l", &le(3), &[5, 0, 0, 0, 0, 0]]);
    assert_eq!(ok(&body), Value::Int(5));
    // Nine digits (the general path) that still fit an i64.
    let mut digits = vec![0u8; 18];
    digits[0] = 9;
    assert_eq!(ok(&cat(&[b"l", &le(-9), &digits])), Value::Int(-9));
    // 2^63 is the first positive value that needs a BigInt.
    let body = cat(&[b"l", &le(5), &[0, 0, 0, 0, 0, 0, 0, 0, 8, 0]]);
    assert_eq!(ok(&body), Value::BigInt(BigInt::from(1u128 << 63)));
}

#[test]
fn long_digits_must_be_15_bit() {
    let body = cat(&[b"l", &le(2), &[1, 0, 0, 0x80]]);
    let e = err(&body);
    assert_eq!(
        e,
        DecodeError::DigitOutOfRange {
            offset: 7,
            digit: 0x8000
        }
    );
    assert!(e.to_string().contains("15-bit digits"), "{e}");
}

#[test]
fn floats_binary_and_text() {
    assert_eq!(ok(&cat(&[b"g", &1.5f64.to_le_bytes()])), Value::Float(1.5));
    assert_eq!(
        ok(&cat(&[b"\xe7", &(-0.0f64).to_le_bytes()])),
        Value::Float(-0.0)
    );
    let nan = f64::from_bits(0x7ff4_0000_0000_0123);
    assert_eq!(ok(&cat(&[b"g", &nan.to_le_bytes()])), Value::Float(nan));
    assert_eq!(ok(b"f\x031.5"), Value::Float(1.5));
    assert_eq!(ok(b"f\x06-1e-05"), Value::Float(-1e-05));
    assert_eq!(ok(b"f\x03inf"), Value::Float(f64::INFINITY));
    let e = err(b"f\x041.5x");
    assert_eq!(
        e,
        DecodeError::BadFloatText {
            offset: 0,
            text: "1.5x".into()
        }
    );
    assert!(e.to_string().contains("malformed text \"1.5x\""), "{e}");
}

#[test]
fn strings_of_every_code() {
    assert_eq!(ok(b"u\x02\0\0\0\xc3\xa9"), s("é"));
    assert_eq!(ok(b"\xf5\x01\0\0\0x"), s("x"));
    assert_eq!(ok(b"a\x02\0\0\0ab"), s("ab"));
    assert_eq!(ok(b"A\x02\0\0\0ab"), s("ab"));
    assert_eq!(ok(b"z\x02ab"), s("ab"));
    assert_eq!(ok(b"\xda\x02ab"), s("ab"));
    // The ASCII codes carry Latin-1 as far as CPython is concerned.
    assert_eq!(ok(b"z\x01\xe9"), s("é"));
    assert_eq!(ok(b"s\x02\0\0\0\xff\x00"), b(b"\xff\x00"));
    // Python 2 interned string: bytes.
    assert_eq!(ok(b"t\x02\0\0\0ab"), b(b"ab"));
    // Python 3 interned string (always flagged): str.
    assert_eq!(ok(b"\xf4\x02\0\0\0ab"), s("ab"));
    assert_eq!(ok(b"u\0\0\0\0"), s(""));
    assert_eq!(ok(b"z\0"), s(""));
}

#[test]
fn bytes_are_slices_of_the_body() {
    let body = Bytes::from_static(b"(\x02\0\0\0s\x03\0\0\0abct\x01\0\0\0z");
    let value = decode_value(&body, &DecodeLimits::default()).unwrap();
    let Value::Tuple(items) = value else { panic!() };
    let Value::Bytes(first) = &items[0] else {
        panic!()
    };
    assert_eq!(first.as_ptr(), body[10..].as_ptr());
    let Value::Bytes(second) = &items[1] else {
        panic!()
    };
    assert_eq!(second.as_ptr(), body[18..].as_ptr());
}

#[test]
fn lone_surrogates_are_reported() {
    let e = err(b"u\x03\0\0\0\xed\xa0\x80");
    assert_eq!(
        e,
        DecodeError::LoneSurrogate {
            offset: 5,
            code_point: 0xd800
        }
    );
    assert!(
        e.to_string()
            .contains("lone surrogate U+D800 at byte offset 5"),
        "{e}"
    );
    assert_eq!(
        err(b"u\x02\0\0\0a\xff"),
        DecodeError::InvalidUtf8 { offset: 6 }
    );
    let body = Bytes::from_static(b"u\x03\0\0\0\xed\xb0\x80");
    assert!(matches!(
        from_body::<String>(&body, &DecodeLimits::default()),
        Err(DecodeError::LoneSurrogate {
            code_point: 0xdc00,
            ..
        })
    ));
}

#[test]
fn empty_containers() {
    assert_eq!(ok(b"(\0\0\0\0"), Value::Tuple(vec![]));
    assert_eq!(ok(b")\0"), Value::Tuple(vec![]));
    assert_eq!(ok(b"[\0\0\0\0"), Value::List(vec![]));
    assert_eq!(ok(b"{0"), Value::Dict(vec![]));
    assert_eq!(ok(b"<\0\0\0\0"), Value::Set(vec![]));
    assert_eq!(ok(b">\0\0\0\0"), Value::FrozenSet(vec![]));
    assert_eq!(ok(b"\xbe\0\0\0\0"), Value::FrozenSet(vec![]));
}

#[test]
fn containers_and_any_dict_keys() {
    let body = b"{[\x01\0\0\0N)\x02TF<\x01\0\0\0i\x01\0\0\0>\0\0\0\x000";
    assert_eq!(
        ok(body),
        Value::Dict(vec![
            (
                Value::List(vec![Value::None]),
                Value::Tuple(vec![Value::Bool(true), Value::Bool(false)])
            ),
            (Value::Set(vec![Value::Int(1)]), Value::FrozenSet(vec![])),
        ])
    );
}

#[test]
fn python2_interned_string_references() {
    // marshal.dumps([{'name': 1}, {'name': 2}], 2) on Python 2.7.18.
    let body = b"[\x02\x00\x00\x00{t\x04\x00\x00\x00namei\x01\x00\x00\x000{R\x00\x00\x00\x00i\x02\x00\x00\x000";
    let entry = |n| Value::Dict(vec![(b(b"name"), Value::Int(n))]);
    assert_eq!(ok(body), Value::List(vec![entry(1), entry(2)]));
    let e = err(b"(\x02\0\0\0t\x01\0\0\0aR\x01\0\0\0");
    assert_eq!(
        e,
        DecodeError::InvalidStringRef {
            offset: 11,
            index: 1,
            available: 1
        }
    );
    assert!(
        e.to_string().contains("points past the 1 interned strings"),
        "{e}"
    );
    // Python 2 never flags objects, so a flagged 'R' is no code at all.
    assert!(matches!(
        err(b"\xd2\0\0\0\0"),
        DecodeError::UnknownType { code: 0xd2, .. }
    ));
}

#[test]
fn python3_references_as_each_interpreter_writes_them() {
    let entry = |n| Value::Dict(vec![(s("name"), Value::Int(n))]);
    let expected = Value::List(vec![entry(1), entry(2)]);
    // marshal.dumps([{"name": 1}, {"name": 2}], 4) on CPython 3.6, 3.13 and PyPy 3.9.
    let cpython36 = b"\xdb\x02\x00\x00\x00{\xda\x04name\xe9\x01\x00\x00\x000{r\x01\x00\x00\x00\xe9\x02\x00\x00\x000";
    let cpython313 = b"[\x02\x00\x00\x00{\xda\x04name\xe9\x01\x00\x00\x000{r\x00\x00\x00\x00\xe9\x02\x00\x00\x000";
    let pypy39 = b"\xdb\x02\x00\x00\x00\xfb\xda\x04namei\x01\x00\x00\x000\xfbr\x02\x00\x00\x00i\x02\x00\x00\x000";
    for body in [&cpython36[..], cpython313, pypy39] {
        assert_eq!(ok(body), expected);
    }
}

#[test]
fn references_to_shared_containers() {
    // x = [1.5, 'abc']; [x, x] at version 3+: the inner list is slot 1.
    let body = cat(&[
        b"\xdb",
        &le(2),
        b"\xdb",
        &le(2),
        b"g",
        &1.5f64.to_le_bytes(),
        b"u\x03\0\0\0abc",
        b"r",
        &le(1),
    ]);
    let x = Value::List(vec![Value::Float(1.5), s("abc")]);
    assert_eq!(ok(&body), Value::List(vec![x.clone(), x]));
}

#[test]
fn bad_references() {
    let e = err(&cat(&[b"r", &le(0)]));
    assert_eq!(
        e,
        DecodeError::InvalidRef {
            offset: 0,
            index: 0,
            available: 0
        }
    );
    assert!(
        e.to_string().contains("reference 0 at byte offset 0"),
        "{e}"
    );
    let e = err(&cat(&[b"(", &le(2), b"\xe9", &le(1), b"r", &le(-1)]));
    assert!(
        matches!(
            e,
            DecodeError::InvalidRef {
                index: -1,
                available: 1,
                ..
            }
        ),
        "{e}"
    );
    let e = err(&cat(&[b"(", &le(2), b"\xe9", &le(1), b"r", &le(1)]));
    assert!(
        matches!(
            e,
            DecodeError::InvalidRef {
                index: 1,
                available: 1,
                ..
            }
        ),
        "{e}"
    );
    // A list that contains itself.
    let e = err(&cat(&[b"\xdb", &le(1), b"r", &le(0)]));
    assert_eq!(
        e,
        DecodeError::RecursiveRef {
            offset: 5,
            index: 0
        }
    );
    assert!(e.to_string().contains("still being decoded"), "{e}");
}

#[test]
fn code_objects_are_never_accepted() {
    for code in [b'c', b'c' | 0x80] {
        let e = err(&[code, 0, 0, 0, 0]);
        assert_eq!(e, DecodeError::CodeObject { offset: 0, code });
        assert!(
            e.to_string().contains("code objects are never accepted"),
            "{e}"
        );
    }
    let e = err(&cat(&[b"[", &le(1), b"c"]));
    assert_eq!(
        e,
        DecodeError::CodeObject {
            offset: 5,
            code: b'c'
        }
    );
    assert!(e.to_string().contains("0x63 ('c') at byte offset 5"), "{e}");
}

#[test]
fn other_marshal_types_are_named() {
    for (code, name) in [
        (b'x', "complex, text form"),
        (b'y', "complex"),
        (b'.', "Ellipsis"),
        (b'S', "StopIteration"),
        (b'?', "unknown-object marker"),
        (b':', "slice"),
    ] {
        let e = err(&[code]);
        assert_eq!(
            e,
            DecodeError::UnsupportedType {
                offset: 0,
                code,
                name
            }
        );
        let text = e.to_string();
        assert!(
            text.contains(name) && text.contains(&format!("{code:#04x}")),
            "{text}"
        );
    }
    for code in [0x07, b'q', 0xff, b'j'] {
        let e = err(&[code]);
        assert_eq!(e, DecodeError::UnknownType { offset: 0, code });
        assert!(
            e.to_string()
                .contains(&format!("unknown type code {code:#04x}")),
            "{e}"
        );
    }
}

#[test]
fn truncation_names_what_and_where() {
    let e = err(b"");
    assert_eq!(
        e,
        DecodeError::Truncated {
            offset: 0,
            what: "type code",
            needed: 1,
            available: 0
        }
    );
    let e = err(b"i\x01");
    assert_eq!(
        e,
        DecodeError::Truncated {
            offset: 1,
            what: "int",
            needed: 4,
            available: 1
        }
    );
    assert!(
        e.to_string()
            .contains("int at byte offset 1 needs 4 bytes, only 1 remain"),
        "{e}"
    );
    assert!(matches!(
        err(b"g\0\0"),
        DecodeError::Truncated { what: "float", .. }
    ));
    assert!(matches!(
        err(b"[\x02\0\0\0{N"),
        DecodeError::Truncated {
            offset: 7,
            what: "type code",
            ..
        }
    ));
    assert!(matches!(
        err(b"{NN"),
        DecodeError::Truncated { offset: 3, .. }
    ));
    assert!(matches!(
        err(b"f\x05ab"),
        DecodeError::Truncated {
            what: "float text",
            ..
        }
    ));
}

#[test]
fn lengths_are_checked_before_allocating() {
    let e = err(b"s\x05\0\0\0ab");
    assert_eq!(
        e,
        DecodeError::LengthBeyondInput {
            offset: 0,
            what: "bytes",
            length: 5,
            unit: "bytes",
            needed: 5,
            available: 2
        }
    );
    assert!(e.to_string().contains("claims 5 bytes"), "{e}");
    let e = err(b"[\xff\xff\xff\x7f");
    assert!(
        matches!(
            e,
            DecodeError::LengthBeyondInput {
                length: 0x7fff_ffff,
                unit: "items",
                ..
            }
        ),
        "{e}"
    );
    let e = err(&cat(&[b"l", &le(i32::MIN)]));
    assert!(
        matches!(
            e,
            DecodeError::LengthBeyondInput {
                length: 0x8000_0000,
                needed: 0x1_0000_0000,
                ..
            }
        ),
        "{e}"
    );
    let e = err(b"s\xff\xff\xff\xff");
    assert_eq!(
        e,
        DecodeError::NegativeLength {
            offset: 0,
            what: "bytes",
            length: -1
        }
    );
    assert!(e.to_string().contains("negative length (-1)"), "{e}");
    assert!(matches!(
        err(b"<\0\0\0\x80"),
        DecodeError::NegativeLength { what: "set", .. }
    ));
    assert!(matches!(
        err(b")\x05N"),
        DecodeError::LengthBeyondInput { what: "tuple", .. }
    ));
    assert!(matches!(
        err(b"z\x05ab"),
        DecodeError::LengthBeyondInput { what: "str", .. }
    ));
}

#[test]
fn trailing_bytes_are_rejected() {
    let e = err(b"NN");
    assert_eq!(
        e,
        DecodeError::TrailingBytes {
            offset: 1,
            count: 1
        }
    );
    assert!(e.to_string().contains("1 trailing bytes"), "{e}");
}

#[test]
fn null_marker_only_ends_dicts() {
    assert_eq!(err(b"0"), DecodeError::UnexpectedNull { offset: 0 });
    assert_eq!(
        err(b"[\x01\0\0\x000"),
        DecodeError::UnexpectedNull { offset: 5 }
    );
    // A dict may not end between a key and its value.
    let e = err(b"{N0");
    assert_eq!(e, DecodeError::UnexpectedNull { offset: 2 });
    assert!(e.to_string().contains("may only end a dict"), "{e}");
}

fn nested_lists(levels: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(levels * 5 + 1);
    for _ in 0..levels {
        body.extend_from_slice(b"[\x01\0\0\0");
    }
    body.push(b'N');
    body
}

fn on_small_stack<T: Send + 'static>(run: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn nesting_at_and_over_the_limit() {
    on_small_stack(|| {
        let limits = DecodeLimits::default();
        let mut value = ok(&nested_lists(limits.max_depth));
        for _ in 0..limits.max_depth {
            let Value::List(mut items) = value else {
                panic!()
            };
            value = items.pop().unwrap();
        }
        assert_eq!(value, Value::None);
        let e = err(&nested_lists(limits.max_depth + 1));
        assert_eq!(
            e,
            DecodeError::TooDeep {
                offset: limits.max_depth * 5,
                max_depth: 512
            }
        );
        assert!(
            e.to_string().contains("nested deeper than 512 levels"),
            "{e}"
        );
        // Far deeper input fails the same way, without touching the stack.
        assert!(matches!(
            err(&nested_lists(1_000_000)),
            DecodeError::TooDeep { .. }
        ));
        // Empty containers and dicts count too.
        let mut body = b"{N".repeat(3);
        body.extend_from_slice(b"(\0\0\0\0");
        body.extend_from_slice(b"000");
        let strict = DecodeLimits::default().with_max_depth(3);
        assert!(matches!(
            decode_with(&body, &strict),
            Err(DecodeError::TooDeep { offset: 6, .. })
        ));
        assert!(decode_with(&body, &DecodeLimits::default().with_max_depth(4)).is_ok());
    });
}

#[test]
fn deep_values_round_trip_at_the_limit_on_a_small_stack() {
    on_small_stack(|| {
        let mut value = Value::None;
        for level in 0..DecodeLimits::default().max_depth {
            value = match level % 4 {
                0 => Value::List(vec![value]),
                1 => Value::Tuple(vec![Value::Int(1), value]),
                2 => Value::Dict(vec![(Value::None, value)]),
                _ => Value::FrozenSet(vec![value]),
            };
        }
        assert_eq!(round_trip(&value), value);
    });
}

#[test]
fn reference_amplification_is_bounded() {
    // Each level is a flagged list of ten references to the level before:
    // 10^12 values from a body of a few hundred bytes.
    let levels = 12;
    let mut body = cat(&[b"(", &le(levels)]);
    body.extend_from_slice(b"\xdb\x0a\0\0\0");
    body.extend_from_slice(&[b'N'; 10]);
    for level in 1..levels {
        body.extend_from_slice(b"\xdb\x0a\0\0\0");
        for _ in 0..10 {
            body.extend_from_slice(&cat(&[b"r", &le(level - 1)]));
        }
    }
    let started = Instant::now();
    let e = err(&body);
    assert!(matches!(e, DecodeError::OutputLimit { .. }), "{e}");
    assert!(e.to_string().contains("shared references"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // The same body is fine once the budget allows what it expands to.
    let small = cat(&[
        b"(",
        &le(2),
        b"\xdb\x02\0\0\0NN\xdb\x02\0\0\0r\0\0\0\0r\0\0\0\0",
    ]);
    let two_nones = Value::List(vec![Value::None, Value::None]);
    assert_eq!(
        ok(&small),
        Value::Tuple(vec![
            two_nones.clone(),
            Value::List(vec![two_nones.clone(), two_nones])
        ])
    );
}

#[test]
fn interned_string_amplification_is_bounded() {
    let big = vec![b'x'; 60_000];
    let count = 100_000;
    let mut body = cat(&[
        b"(",
        &le(2),
        b"t",
        &le(big.len() as i32),
        &big,
        b"[",
        &le(count),
    ]);
    for _ in 0..count {
        body.extend_from_slice(b"R\0\0\0\0");
    }
    let started = Instant::now();
    assert!(matches!(err(&body), DecodeError::OutputLimit { .. }));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn output_budget_is_configurable() {
    let body = cat(&[b"[", &le(20), &[b'N'; 20]]);
    assert!(decode(&body).is_ok());
    let tight = DecodeLimits::default().with_fixed_output_budget(10);
    let e = decode_with(&body, &tight).unwrap_err();
    assert_eq!(
        e,
        DecodeError::OutputLimit {
            offset: 14,
            budget: 10
        }
    );
    assert_eq!(tight.output_budget(1 << 20), 10);
    assert_eq!(DecodeLimits::default().output_budget(1000), 4000 + 65536);
}

#[test]
fn malformed_data_after_a_flag_is_still_reported_precisely() {
    let body = cat(&[b"\xdb", &le(2), b"N", b"c"]);
    assert_eq!(
        err(&body),
        DecodeError::CodeObject {
            offset: 6,
            code: b'c'
        }
    );
}
