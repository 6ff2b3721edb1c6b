//! serde types to and from VALUE bodies.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use pyfleet::wire::{
    BigInt, ByteBuf, DecodeError, DecodeLimits, EncodeError, Value, decode_value, encode_value,
    from_body, from_value, to_body, to_value,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Call {
    module: String,
    function: String,
    args: (i32, Option<String>, Vec<u8>),
    kwargs: HashMap<String, f64>,
    flags: BTreeMap<String, bool>,
    data: ByteBuf,
    limits: Limits,
    mode: Mode,
    others: Vec<Mode>,
    extra: Option<Value>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Limits(u64, i128, u128, i8, char);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Mode {
    Quick,
    Retry(u32),
    Window(u16, u16),
    Named { name: String, weight: f32 },
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Marker;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Meters(f64);

fn limits() -> DecodeLimits {
    DecodeLimits::default()
}

fn body_of(value: &Value) -> Bytes {
    encode_value(value).unwrap().into_contiguous()
}

/// Serializes with `to_body`, checks it against `encode_value(to_value(..))`, and
/// reads the body back as `T`.
fn round_trip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let body = to_body(value).unwrap().into_contiguous();
    let via_value = body_of(&to_value(value).unwrap());
    assert_eq!(body, via_value, "to_body and encode_value(to_value) differ");
    from_body(&body, &limits()).unwrap()
}

fn sample_call() -> Call {
    Call {
        module: "os".into(),
        function: "getpid".into(),
        args: (-5, Some("x".into()), vec![1, 2, 255]),
        kwargs: HashMap::from([("timeout".into(), 1.5), ("nan".into(), f64::INFINITY)]),
        flags: BTreeMap::from([("a".into(), true), ("b".into(), false)]),
        data: ByteBuf::from(vec![0u8, 255, 10]),
        limits: Limits(u64::MAX, i128::MIN, u128::MAX, -128, 'é'),
        mode: Mode::Named {
            name: "n".into(),
            weight: 0.25,
        },
        others: vec![Mode::Quick, Mode::Retry(3), Mode::Window(1, 2)],
        extra: Some(Value::Set(vec![Value::Int(1), Value::Tuple(vec![])])),
    }
}

#[test]
fn structs_enums_options_and_collections_round_trip() {
    let call = sample_call();
    assert_eq!(round_trip(&call), call);
    let none = Call {
        extra: None,
        args: (0, None, vec![]),
        ..sample_call()
    };
    assert_eq!(round_trip(&none), none);
    assert_eq!(round_trip(&Marker), Marker);
    assert_eq!(round_trip(&Meters(2.5)), Meters(2.5));
    assert_eq!(round_trip(&()), ());
    assert_eq!(
        round_trip(&(1u8, "two".to_string(), [3i64; 3])),
        (1u8, "two".to_string(), [3i64; 3])
    );
}

#[test]
fn the_mapping_onto_python_types() {
    let value = to_value(&sample_call()).unwrap();
    assert_eq!(value.type_name(), "dict");
    assert_eq!(value.get("module"), Some(&Value::from("os")));
    assert_eq!(
        value.get("args"),
        Some(&Value::Tuple(vec![
            Value::Int(-5),
            Value::from("x"),
            Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(255)]),
        ]))
    );
    assert_eq!(
        value.get("data"),
        Some(&Value::Bytes(Bytes::from_static(b"\x00\xff\n")))
    );
    let limits = value.get("limits").unwrap().as_items().unwrap();
    assert_eq!(limits[0], Value::from(u64::MAX));
    assert_eq!(limits[1], Value::from(i128::MIN));
    assert_eq!(limits[4], Value::from("é"));
    let named = value.get("mode").unwrap();
    assert_eq!(named.as_dict().unwrap().len(), 1);
    assert_eq!(
        named.get("Named").unwrap().get("weight"),
        Some(&Value::Float(0.25))
    );
    assert_eq!(
        value.get("others"),
        Some(&Value::List(vec![
            Value::from("Quick"),
            Value::Dict(vec![(Value::from("Retry"), Value::Int(3))]),
            Value::Dict(vec![(
                Value::from("Window"),
                Value::Tuple(vec![Value::Int(1), Value::Int(2)])
            )]),
        ]))
    );
    assert_eq!(
        value.get("extra"),
        Some(&Value::Set(vec![Value::Int(1), Value::Tuple(vec![])]))
    );
    assert_eq!(to_value(&Marker).unwrap(), Value::None);
    assert_eq!(to_value(&None::<i32>).unwrap(), Value::None);
    // The call tuple of the protocol: () and {} as Python has them.
    let args: [i32; 0] = [];
    let call = ("os", "getpid", args, HashMap::<String, Value>::new());
    assert_eq!(
        to_body(&call).unwrap().into_contiguous(),
        body_of(&Value::from((
            "os",
            "getpid",
            Value::Tuple(vec![]),
            Value::Dict(vec![])
        )))
    );
}

#[test]
fn integer_edges() {
    for value in [u64::MAX, 0, 1 << 63, (1 << 31) - 1, 1 << 31] {
        assert_eq!(round_trip(&value), value);
    }
    for value in [i128::MIN, i128::MAX, -(1 << 63) - 1, 0] {
        assert_eq!(round_trip(&value), value);
    }
    assert_eq!(round_trip(&u128::MAX), u128::MAX);
    assert_eq!(round_trip(&i64::MIN), i64::MIN);
    let body = body_of(&Value::Int(-1));
    assert_eq!(from_body::<i128>(&body, &limits()).unwrap(), -1);
    let body = body_of(&Value::from(u128::MAX));
    assert_eq!(
        from_body::<BigInt>(&body, &limits()).unwrap(),
        BigInt::from(u128::MAX)
    );
}

#[test]
fn out_of_range_ints_name_the_value_and_the_type() {
    let body = body_of(&Value::Int(300));
    let e = from_body::<u8>(&body, &limits()).unwrap_err();
    assert_eq!(e.to_string(), "int 300 at byte offset 0 does not fit in u8");
    let body = body_of(&Value::List(vec![Value::Int(-1)]));
    let e = from_body::<Vec<u64>>(&body, &limits()).unwrap_err();
    assert_eq!(e.to_string(), "int -1 at byte offset 5 does not fit in u64");
    let body = body_of(&Value::from(u128::MAX));
    let e = from_body::<i128>(&body, &limits()).unwrap_err();
    assert!(
        e.to_string().contains(&format!(
            "int {} at byte offset 0 does not fit in i128",
            u128::MAX
        )),
        "{e}"
    );
    // Beyond 128 bits serde has no integer type: the error shows the decimal value.
    let mut limbs = vec![0u32; 7];
    limbs[6] = 1 << 8;
    let body = body_of(&Value::BigInt(BigInt::from_sign_magnitude(false, limbs)));
    let e = from_body::<serde_json::Value>(&body, &limits()).unwrap_err();
    assert!(
        e.to_string()
            .contains("int 1606938044258990275541962092341162602522202993782792835301376"),
        "{e}"
    );
}

#[test]
fn python2_strings_read_as_rust_strings() {
    // Python 2 sends `str` as bytes ('s'); String targets accept them if UTF-8.
    let body = Bytes::from_static(b"s\x05\0\0\0hello");
    assert_eq!(from_body::<String>(&body, &limits()).unwrap(), "hello");
    let body = Bytes::from_static(b"t\x02\0\0\0\xc3\xa9");
    assert_eq!(from_body::<char>(&body, &limits()).unwrap(), 'é');
    let body = Bytes::from_static(b"s\x01\0\0\0\xff");
    let e = from_body::<String>(&body, &limits()).unwrap_err();
    assert_eq!(e, DecodeError::NotUtf8 { offset: Some(0) });
    assert!(e.to_string().contains("not valid UTF-8"), "{e}");
    // Struct fields and enum variants named with Python 2 byte strings.
    #[derive(Debug, PartialEq, Deserialize)]
    struct Reply {
        status: Mode,
        pid: i32,
    }
    // marshal.dumps({'status': 'Quick', 'pid': 7}, 2) on Python 2 (interned keys).
    let body =
        Bytes::from_static(b"{t\x06\0\0\0statust\x05\0\0\0Quickt\x03\0\0\0pidi\x07\0\0\x000");
    assert_eq!(
        from_body::<Reply>(&body, &limits()).unwrap(),
        Reply {
            status: Mode::Quick,
            pid: 7
        }
    );
    // Bytes targets take a str as its UTF-8.
    let body = body_of(&Value::from("é"));
    assert_eq!(
        from_body::<ByteBuf>(&body, &limits()).unwrap(),
        ByteBuf::from(vec![0xc3, 0xa9])
    );
    assert_eq!(
        from_value::<ByteBuf>(Value::from("é")).unwrap(),
        ByteBuf::from(vec![0xc3, 0xa9])
    );
}

#[test]
fn lenient_where_python_versions_differ() {
    let tuple = body_of(&Value::Tuple(vec![Value::Int(1), Value::Int(2)]));
    assert_eq!(from_body::<Vec<i64>>(&tuple, &limits()).unwrap(), [1, 2]);
    let frozen = body_of(&Value::FrozenSet(vec![Value::Int(3)]));
    assert_eq!(from_body::<Vec<i64>>(&frozen, &limits()).unwrap(), [3]);
    let list = body_of(&Value::List(vec![Value::Int(1), Value::from("a")]));
    assert_eq!(
        from_body::<(u8, String)>(&list, &limits()).unwrap(),
        (1, "a".to_string())
    );
    let int = body_of(&Value::Int(3));
    assert_eq!(from_body::<f64>(&int, &limits()).unwrap(), 3.0);
    assert_eq!(from_body::<f32>(&int, &limits()).unwrap(), 3.0);
    let bytes = body_of(&Value::Bytes(Bytes::from_static(b"\x01\x02")));
    assert_eq!(from_body::<Vec<u8>>(&bytes, &limits()).unwrap(), [1, 2]);
}

#[test]
fn type_mismatches_say_what_was_expected_and_found() {
    let body = body_of(&Value::List(vec![Value::Int(1), Value::None]));
    let e = from_body::<Vec<i32>>(&body, &limits()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid type at byte offset 10: expected an int, found NoneType"
    );
    let two = body_of(&Value::List(vec![Value::Int(1), Value::Int(2)]));
    let e = from_body::<(i32, i32, i32)>(&two, &limits()).unwrap_err();
    assert!(e.to_string().contains("invalid length 2"), "{e}");
    let three = body_of(&Value::List(vec![
        Value::Int(1),
        Value::Int(2),
        Value::Int(3),
    ]));
    let e = from_body::<(i32, i32)>(&three, &limits()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "list at byte offset 0 has more items than the target type takes"
    );
    let e = from_body::<Call>(&body_of(&Value::Dict(vec![])), &limits()).unwrap_err();
    assert!(e.to_string().contains("missing field `module`"), "{e}");
    let e = from_body::<bool>(&body_of(&Value::Int(1)), &limits()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid type at byte offset 0: expected a bool, found int"
    );
    let e = from_body::<Mode>(&body_of(&Value::Dict(vec![])), &limits()).unwrap_err();
    assert!(e.to_string().contains("found an empty dict"), "{e}");
    let two = Value::Dict(vec![
        (Value::from("Quick"), Value::None),
        (Value::from("Retry"), Value::Int(1)),
    ]);
    let e = from_body::<Mode>(&body_of(&two), &limits()).unwrap_err();
    assert!(
        e.to_string()
            .contains("dict at byte offset 0 has more items"),
        "{e}"
    );
    let e = from_body::<Mode>(&body_of(&Value::from("Slow")), &limits()).unwrap_err();
    assert!(e.to_string().contains("unknown variant `Slow`"), "{e}");
}

#[test]
fn values_pass_through_serde_unchanged() {
    let value = Value::Tuple(vec![
        Value::Set(vec![Value::Int(1)]),
        Value::FrozenSet(vec![]),
        Value::BigInt(BigInt::from_sign_magnitude(true, vec![0, 0, 0, 0, 1])),
        Value::Dict(vec![(Value::Tuple(vec![]), Value::List(vec![]))]),
        Value::Bytes(Bytes::from_static(b"b")),
        Value::Float(f64::NAN),
    ]);
    let body = to_body(&value).unwrap().into_contiguous();
    assert_eq!(body, body_of(&value));
    assert_eq!(from_body::<Value>(&body, &limits()).unwrap(), value);
    assert_eq!(to_value(&value).unwrap(), value);
    assert_eq!(from_value::<Value>(value.clone()).unwrap(), value);
    assert_eq!(
        from_value::<Call>(to_value(&sample_call()).unwrap()).unwrap(),
        sample_call()
    );
    assert_eq!(from_value::<u8>(Value::Int(7)).unwrap(), 7);
    assert!(matches!(
        from_value::<u8>(Value::Int(700)),
        Err(DecodeError::IntOutOfRange { .. })
    ));
}

#[test]
fn large_bytes_are_shared_both_ways() {
    let big = Bytes::from(vec![9u8; 100_000]);
    let body = to_body(&(1, ByteBuf(big.clone()))).unwrap();
    assert!(
        body.segments()
            .iter()
            .any(|segment| segment.as_ptr() == big.as_ptr())
    );
    let value = to_value(&ByteBuf(big.clone())).unwrap();
    assert_eq!(value.as_bytes().unwrap().as_ptr(), big.as_ptr());
    let body = body.into_contiguous();
    let (_, back): (i32, ByteBuf) = from_body(&body, &limits()).unwrap();
    assert_eq!(back.0.as_ptr(), body[15..].as_ptr());
}

#[test]
fn portable_forms_for_other_formats() {
    let value = Value::Tuple(vec![
        Value::Set(vec![Value::Int(1)]),
        Value::BigInt(BigInt::from_sign_magnitude(false, vec![0, 0, 0, 0, 1])),
        Value::Bytes(Bytes::from_static(b"\x01")),
    ]);
    assert_eq!(
        serde_json::to_string(&value).unwrap(),
        r#"[[1],"340282366920938463463374607431768211456",[1]]"#
    );
    let back: Value = serde_json::from_str(r#"{"a": [1, 2.5, null, true, "x"]}"#).unwrap();
    assert_eq!(
        back,
        Value::Dict(vec![(
            Value::from("a"),
            Value::List(vec![
                Value::Int(1),
                Value::Float(2.5),
                Value::None,
                Value::Bool(true),
                Value::from("x")
            ])
        )])
    );
    assert_eq!(
        serde_json::from_str::<ByteBuf>("[1, 2]").unwrap(),
        ByteBuf::from(vec![1, 2])
    );
}

#[test]
fn references_reach_serde_targets() {
    // x = (1, 'a'); [x, x] at marshal version 4 (CPython 3.13).
    let body = Bytes::from_static(b"[\x02\0\0\0\xa9\x02\xe9\x01\0\0\0\xda\x01ar\x00\0\0\0");
    let pairs: Vec<(i64, String)> = from_body(&body, &limits()).unwrap();
    assert_eq!(pairs, [(1, "a".to_string()), (1, "a".to_string())]);
    assert_eq!(
        decode_value(&body, &limits()).unwrap(),
        from_body::<Value>(&body, &limits()).unwrap()
    );
    let e = from_body::<Vec<(i64, i64)>>(&body, &limits()).unwrap_err();
    // The shared tuple is built whole (the reference needs a copy): errors name its start.
    assert_eq!(
        e.to_string(),
        "invalid type at byte offset 5: expected an int, found str"
    );
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Tree(Vec<Tree>);

#[test]
fn deep_serde_types_at_the_limit_on_a_small_stack() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let depth = DecodeLimits::default().max_depth;
            let mut tree = Tree(vec![]);
            for _ in 1..depth {
                tree = Tree(vec![tree]);
            }
            let body = to_body(&tree).unwrap().into_contiguous();
            assert_eq!(from_body::<Tree>(&body, &limits()).unwrap(), tree);
            let too_deep = to_body(&Tree(vec![tree])).unwrap().into_contiguous();
            assert!(matches!(
                from_body::<Tree>(&too_deep, &limits()),
                Err(DecodeError::TooDeep { max_depth: 512, .. })
            ));
            let mut value = Value::None;
            for _ in 0..depth {
                value = Value::List(vec![value]);
            }
            let body = to_body(&value).unwrap().into_contiguous();
            assert_eq!(from_body::<Value>(&body, &limits()).unwrap(), value);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn serialize_errors_are_reported() {
    struct Refuses;
    impl Serialize for Refuses {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("not today"))
        }
    }
    let e = to_body(&(1, Refuses)).unwrap_err();
    assert_eq!(e, EncodeError::Message("not today".into()));
    assert_eq!(e.to_string(), "cannot encode the value: not today");
    assert_eq!(to_value(&[Refuses]).unwrap_err(), e);
}

#[test]
fn encoding_limits() {
    let mut tree = Tree(vec![]);
    for _ in 0..pyfleet::wire::MAX_ENCODE_DEPTH {
        tree = Tree(vec![tree]);
    }
    let result = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || (to_body(&tree).map(|_| ()), to_value(&tree).map(|_| ())))
        .unwrap()
        .join()
        .unwrap();
    let expected = Err(EncodeError::TooDeep {
        max_depth: pyfleet::wire::MAX_ENCODE_DEPTH,
    });
    assert_eq!(result, (expected.clone(), expected));
}
