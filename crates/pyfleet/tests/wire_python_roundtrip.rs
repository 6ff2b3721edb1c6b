//! VALUE bodies against real interpreters.
//!
//! Values are encoded in Rust, loaded and re-dumped (`marshal.dumps(obj, 2)`) by every
//! Python on this machine running `support/marshal_echo.py`, and decoded in Rust
//! again; values that Python makes natively are dumped at every marshal version the
//! interpreter has and decoded too. The Rust-only round trips live here as well, as
//! they share the value generators.
//!
//! Normalisations, as documented for the codec: Python 2 returns text as `unicode`
//! (so [`Value::Str`] stays `Str`) and its own `str` literals as [`Value::Bytes`]; sets
//! come back in the interpreter's order, and dicts too on Python 2. Floats compare
//! bitwise, NaN payloads included.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use bytes::Bytes;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use pyfleet::wire::{
    BigInt, DecodeLimits, MAX_ENCODE_DEPTH, Value, decode_value, encode_value, from_body, to_body,
    to_value,
};

// ---------------------------------------------------------------------------
// Value generators

/// Ints around every boundary the encoding has.
fn edge_int() -> impl Strategy<Value = Value> {
    let edges: Vec<i128> = vec![
        0,
        1,
        -1,
        i32::MAX.into(),
        i32::MIN.into(),
        i128::from(i32::MAX) + 1,
        i128::from(i32::MIN) - 1,
        i64::MAX.into(),
        i64::MIN.into(),
        i128::from(i64::MAX) + 1,
        i128::from(i64::MIN) - 1,
        u64::MAX.into(),
        i128::MAX,
        i128::MIN,
        0x7fff,
        0x8000,
        1 << 60,
    ];
    prop::sample::select(edges).prop_map(Value::from)
}

fn big_int() -> impl Strategy<Value = Value> {
    (any::<bool>(), prop::collection::vec(any::<u32>(), 0..9))
        .prop_map(|(negative, limbs)| Value::from(BigInt::from_sign_magnitude(negative, limbs)))
}

fn float(allow_nan: bool) -> BoxedStrategy<Value> {
    let specials = prop::sample::select(vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        5e-324,
        f64::MAX,
        0.1,
    ]);
    let any_float = if allow_nan {
        any::<f64>().boxed()
    } else {
        any::<f64>().prop_filter("no NaN", |x| !x.is_nan()).boxed()
    };
    let nan = prop::sample::select(vec![
        0x7ff8_0000_0000_0000u64,
        0xfff8_0000_0000_0000,
        0x7ff4_0000_0000_0123,
    ])
    .prop_map(f64::from_bits);
    if allow_nan {
        prop_oneof![any_float, specials, nan]
            .prop_map(Value::Float)
            .boxed()
    } else {
        prop_oneof![any_float, specials]
            .prop_map(Value::Float)
            .boxed()
    }
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![".{0,12}", "[a-z_]{0,6}", "\\PC{0,4}"].prop_map(Value::Str)
}

fn bytes() -> impl Strategy<Value = Value> {
    prop::collection::vec(any::<u8>(), 0..24).prop_map(|b| Value::Bytes(Bytes::from(b)))
}

fn scalar(allow_nan: bool) -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-300i64..300).prop_map(Value::Int),
        edge_int(),
        big_int(),
        float(allow_nan),
        text(),
        bytes(),
    ]
    .boxed()
}

/// Values Python can hash: scalars (no NaN: its identity semantics make equality
/// checks murky), tuples and frozensets of them.
fn hashable() -> BoxedStrategy<Value> {
    scalar(false)
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Tuple),
                prop::collection::vec(inner, 0..4).prop_map(|items| Value::FrozenSet(dedup(items))),
            ]
        })
        .boxed()
}

fn value() -> BoxedStrategy<Value> {
    scalar(true)
        .prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Tuple),
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
                prop::collection::vec((hashable(), inner), 0..5)
                    .prop_map(|entries| Value::Dict(dedup_keys(entries))),
                prop::collection::vec(hashable(), 0..5).prop_map(|items| Value::Set(dedup(items))),
                prop::collection::vec(hashable(), 0..5)
                    .prop_map(|items| Value::FrozenSet(dedup(items))),
            ]
        })
        .boxed()
}

/// What Python's `==` sees in a hashable value, on Python 2 and 3 alike: numbers
/// by value (so `True == 1 == 1.0`), and ASCII bytes equal to the same str
/// (Python 2 compares them so).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PyKey {
    None,
    Number(bool, Vec<u32>),
    Fraction(u64),
    Text(String),
    Bytes(Vec<u8>),
    Tuple(Vec<PyKey>),
    FrozenSet(BTreeSet<PyKey>),
}

fn integral_float(x: f64) -> BigInt {
    let magnitude = x.abs();
    if magnitude < 18446744073709551616.0 {
        return BigInt::from_sign_magnitude(
            x < 0.0,
            BigInt::from(magnitude as u64).magnitude().to_vec(),
        );
    }
    let bits = magnitude.to_bits();
    let mantissa = u128::from((bits & ((1 << 52) - 1)) | (1 << 52));
    let shift = ((bits >> 52) as usize) - 1075;
    let mut limbs = vec![0u32; shift / 32];
    let shifted = mantissa << (shift % 32);
    limbs.extend((0..4).map(|i| (shifted >> (32 * i)) as u32));
    BigInt::from_sign_magnitude(x < 0.0, limbs)
}

fn py_key(value: &Value) -> PyKey {
    let number = |big: BigInt| PyKey::Number(big.is_negative(), big.magnitude().to_vec());
    match value {
        Value::None => PyKey::None,
        Value::Bool(b) => number(BigInt::from(i64::from(*b))),
        Value::Int(i) => number(BigInt::from(*i)),
        Value::BigInt(big) => number(big.clone()),
        Value::Float(x) if x.is_finite() && x.trunc() == *x => number(integral_float(*x)),
        Value::Float(x) => PyKey::Fraction(x.to_bits()),
        Value::Str(s) => PyKey::Text(s.clone()),
        Value::Bytes(b) if b.is_ascii() => PyKey::Text(String::from_utf8_lossy(b).into_owned()),
        Value::Bytes(b) => PyKey::Bytes(b.to_vec()),
        Value::Tuple(items) => PyKey::Tuple(items.iter().map(py_key).collect()),
        Value::FrozenSet(items) | Value::Set(items) => {
            PyKey::FrozenSet(items.iter().map(py_key).collect())
        }
        Value::List(_) | Value::Dict(_) => unreachable!("not generated as a key"),
    }
}

fn dedup(items: Vec<Value>) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    items
        .into_iter()
        .filter(|item| seen.insert(py_key(item)))
        .collect()
}

fn dedup_keys(entries: Vec<(Value, Value)>) -> Vec<(Value, Value)> {
    let mut seen = BTreeSet::new();
    entries
        .into_iter()
        .filter(|(key, _)| seen.insert(py_key(key)))
        .collect()
}

/// Equality up to the order of sets (and of dicts, when `ordered_dicts` is false).
fn same(expected: &Value, actual: &Value, ordered_dicts: bool) -> bool {
    let unordered = |a: &[Value], b: &[Value]| {
        let mut left: Vec<&Value> = b.iter().collect();
        a.len() == b.len()
            && a.iter().all(
                |x| match left.iter().position(|y| same(x, y, ordered_dicts)) {
                    Some(i) => {
                        left.swap_remove(i);
                        true
                    }
                    None => false,
                },
            )
    };
    match (expected, actual) {
        (Value::Tuple(a), Value::Tuple(b)) | (Value::List(a), Value::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y, ordered_dicts))
        }
        (Value::Set(a), Value::Set(b)) | (Value::FrozenSet(a), Value::FrozenSet(b)) => {
            unordered(a, b)
        }
        (Value::Dict(a), Value::Dict(b)) if ordered_dicts => {
            a.len() == b.len()
                && a.iter().zip(b).all(|((k1, v1), (k2, v2))| {
                    same(k1, k2, ordered_dicts) && same(v1, v2, ordered_dicts)
                })
        }
        (Value::Dict(a), Value::Dict(b)) => {
            let pairs = |d: &[(Value, Value)]| {
                d.iter()
                    .map(|(k, v)| Value::Tuple(vec![k.clone(), v.clone()]))
                    .collect::<Vec<_>>()
            };
            unordered(&pairs(a), &pairs(b))
        }
        _ => expected == actual,
    }
}

fn encode(value: &Value) -> Bytes {
    encode_value(value)
        .expect("generated values encode")
        .into_contiguous()
}

// ---------------------------------------------------------------------------
// Rust-only round trips

proptest! {
    #![proptest_config(Config { cases: 512, failure_persistence: None, ..Config::default() })]

    #[test]
    fn values_round_trip_in_rust(value in value()) {
        let body = encode(&value);
        let limits = DecodeLimits::default();
        prop_assert_eq!(&decode_value(&body, &limits).unwrap(), &value);
        prop_assert_eq!(&from_body::<Value>(&body, &limits).unwrap(), &value);
        prop_assert_eq!(to_body(&value).unwrap().into_contiguous(), body);
        prop_assert_eq!(&to_value(&value).unwrap(), &value);
        let _ = value.to_string();
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_both_decoders_agree(input in prop::collection::vec(any::<u8>(), 0..64)) {
        let body = Bytes::from(input);
        let limits = DecodeLimits::default();
        let direct = decode_value(&body, &limits);
        prop_assert_eq!(&direct, &from_body::<Value>(&body, &limits));
        if let Ok(value) = direct {
            prop_assert_eq!(decode_value(&encode(&value), &limits).unwrap(), value);
        }
    }
}

// ---------------------------------------------------------------------------
// Real interpreters

fn interpreters() -> Vec<PathBuf> {
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pyenv")));
    let mut found = Vec::new();
    let versions = pyenv.map(|root| root.join("versions"));
    if let Some(Ok(entries)) = versions.as_ref().map(std::fs::read_dir) {
        let mut versions: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin/python"))
            .collect();
        versions.sort();
        found.extend(versions.into_iter().filter(|path| path.exists()));
    } else {
        eprintln!("no pyenv interpreters: {versions:?} is not a directory");
    }
    for system in ["/usr/bin/python3.11", "/usr/bin/pypy3"] {
        let path = PathBuf::from(system);
        if path.exists() {
            found.push(path);
        } else {
            eprintln!("skipping {system}: not present");
        }
    }
    found
}

fn echo_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/marshal_echo.py")
}

struct Echo {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    label: String,
    major: i64,
}

impl Echo {
    fn spawn(python: &Path) -> Echo {
        let mut command = Command::new(python);
        command.arg("-E").arg("-S").arg(echo_script());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PYTHON") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut echo = Echo {
            child,
            stdin,
            stdout,
            label: python.display().to_string(),
            major: 0,
        };
        let info = echo.request(b'I', &[]).unwrap();
        let info = decode_value(&info, &DecodeLimits::default()).unwrap();
        let items = info.as_items().unwrap();
        echo.major = items[0].as_i64().unwrap();
        echo.label = format!(
            "{} ({} {}.{}, marshal {})",
            python.display(),
            implementation(&items[2]),
            items[0],
            items[1],
            items[3]
        );
        echo
    }

    fn request(&mut self, op: u8, payload: &[u8]) -> Result<Bytes, String> {
        let mut head = vec![op];
        head.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        self.stdin.write_all(&head).unwrap();
        self.stdin.write_all(payload).unwrap();
        self.stdin.flush().unwrap();
        let mut reply_head = [0u8; 5];
        self.stdout.read_exact(&mut reply_head).unwrap();
        let len = u32::from_le_bytes(reply_head[1..5].try_into().unwrap()) as usize;
        let mut data = vec![0u8; len];
        self.stdout.read_exact(&mut data).unwrap();
        match reply_head[0] {
            b'+' => Ok(Bytes::from(data)),
            _ => Err(String::from_utf8_lossy(&data).into_owned()),
        }
    }

    fn echo(&mut self, value: &Value, limits: &DecodeLimits) -> Value {
        let reply = self
            .request(b'E', &encode(value))
            .unwrap_or_else(|e| panic!("{} could not load {value}: {e}", self.label));
        decode_value(&reply, limits)
            .unwrap_or_else(|e| panic!("{}: cannot decode its dump of {value}: {e}", self.label))
    }

    fn samples(&mut self, version: u32) -> Vec<(String, Value)> {
        let reply = self
            .request(b'S', &version.to_le_bytes())
            .unwrap_or_else(|e| panic!("{}: samples at marshal {version}: {e}", self.label));
        let decoded = decode_value(&reply, &DecodeLimits::default()).unwrap_or_else(|e| {
            panic!(
                "{}: cannot decode samples at marshal {version}: {e}",
                self.label
            )
        });
        decoded
            .as_items()
            .unwrap()
            .iter()
            .map(|pair| {
                let pair = pair.as_items().unwrap();
                (implementation(&pair[0]), pair[1].clone())
            })
            .collect()
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A name Python sent as its native `str` (bytes on Python 2).
fn implementation(name: &Value) -> String {
    match name {
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_string(),
    }
}

/// What `samples()` in marshal_echo.py holds, as this Python major version makes it.
fn expected_samples(major: i64) -> Vec<(&'static str, Value)> {
    let native = |s: &'static str| {
        if major == 2 {
            Value::Bytes(Bytes::from_static(s.as_bytes()))
        } else {
            Value::from(s)
        }
    };
    let pow2 = |bits: usize| {
        let mut limbs = vec![0u32; bits / 32 + 1];
        limbs[bits / 32] = 1 << (bits % 32);
        limbs
    };
    let record = |name: &'static str, size: i64| {
        Value::Dict(vec![
            (native("name"), native(name)),
            (native("size"), Value::Int(size)),
        ])
    };
    let frozen = |items: Vec<Value>| Value::FrozenSet(items);
    let shared = Value::List(vec![
        Value::Float(1.5),
        Value::from("abc"),
        Value::Tuple(vec![Value::Int(2), Value::Int(3)]),
    ]);
    vec![
        (
            "interned_keys",
            Value::List(vec![record("a", 1), record("b", 2)]),
        ),
        (
            "big_ints",
            Value::List(vec![
                Value::BigInt(BigInt::from_sign_magnitude(false, pow2(200))),
                Value::BigInt(BigInt::from_sign_magnitude(true, pow2(200))),
                Value::from(1u128 << 63),
                Value::from(-(1i128 << 63) - 1),
                Value::from(u64::MAX),
                Value::Int(1 << 31),
                Value::Int(-(1 << 31) - 1),
                Value::Int((1 << 31) - 1),
                Value::Int(-(1 << 31)),
                Value::Int(1 << 40),
                Value::Int(-(1 << 62)),
                Value::Int(0),
                Value::Int(5),
                Value::Int(-7),
            ]),
        ),
        (
            "nested_sets",
            Value::List(vec![
                Value::Set(vec![
                    frozen(vec![Value::Int(1), Value::Int(2)]),
                    frozen(vec![]),
                    Value::Tuple(vec![Value::Int(3), frozen(vec![Value::Int(4)])]),
                ]),
                frozen(vec![frozen(vec![frozen(vec![])])]),
            ]),
        ),
        (
            "floats",
            Value::List(
                [
                    -0.0,
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    0.1,
                    1e300,
                    5e-324,
                ]
                .into_iter()
                .map(Value::Float)
                .collect(),
            ),
        ),
        (
            "text",
            Value::List(vec![
                Value::from("café"),
                Value::from("😀"),
                Value::from(""),
                Value::Bytes(Bytes::from_static(b"raw\xff")),
                Value::Bytes(Bytes::new()),
                Value::from("a\0b"),
            ]),
        ),
        (
            "shared",
            Value::List(vec![
                shared.clone(),
                shared.clone(),
                Value::Tuple(vec![shared]),
            ]),
        ),
        (
            "containers",
            Value::Tuple(vec![
                Value::Tuple(vec![]),
                Value::List(vec![]),
                Value::Dict(vec![]),
                Value::Set(vec![]),
                Value::FrozenSet(vec![]),
                Value::Dict(vec![(
                    Value::Tuple(vec![Value::Int(1), Value::Int(2)]),
                    Value::List(vec![Value::None, Value::Bool(true), Value::Bool(false)]),
                )]),
            ]),
        ),
    ]
}

/// Python's own `float('nan')` has no fixed sign (2.7 makes it negative), so NaNs
/// Python made are compared as NaN, not bitwise.
fn canonical_nan(value: &Value) -> Value {
    let all = |items: &[Value]| items.iter().map(canonical_nan).collect::<Vec<_>>();
    match value {
        Value::Float(x) if x.is_nan() => Value::Float(f64::NAN),
        Value::Tuple(items) => Value::Tuple(all(items)),
        Value::List(items) => Value::List(all(items)),
        Value::Set(items) => Value::Set(all(items)),
        Value::FrozenSet(items) => Value::FrozenSet(all(items)),
        Value::Dict(entries) => Value::Dict(
            entries
                .iter()
                .map(|(k, v)| (canonical_nan(k), canonical_nan(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn check_native_values(echo: &mut Echo) {
    let versions: Vec<u32> = if echo.major == 2 {
        vec![0, 1, 2]
    } else {
        vec![0, 1, 2, 3, 4]
    };
    let ordered_dicts = echo.major != 2;
    for version in versions.into_iter().chain([u32::MAX]) {
        let got = echo.samples(version);
        let expected = expected_samples(echo.major);
        assert_eq!(got.len(), expected.len(), "{}", echo.label);
        for ((name, value), (expected_name, expected_value)) in got.iter().zip(&expected) {
            assert_eq!(name, expected_name, "{}", echo.label);
            let value = &canonical_nan(value);
            assert!(
                same(expected_value, value, ordered_dicts),
                "{} at marshal {version}: sample {name}\n  expected {expected_value}\n  got      {value}",
                echo.label
            );
        }
    }
}

fn check_generated_values(echo: &mut Echo) {
    let echo = RefCell::new(echo);
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&value(), |value| {
        let mut echo = echo.borrow_mut();
        let ordered_dicts = echo.major != 2;
        let back = echo.echo(&value, &DecodeLimits::default());
        if same(&value, &back, ordered_dicts) {
            Ok(())
        } else {
            Err(TestCaseError::fail(format!(
                "{}: sent {value}, got back {back}",
                echo.label
            )))
        }
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

fn check_limits(echo: &mut Echo) {
    // The deepest nesting the encoder allows loads on every interpreter.
    let mut deep = Value::None;
    for _ in 0..MAX_ENCODE_DEPTH {
        deep = Value::List(vec![deep]);
    }
    let limits = DecodeLimits::default().with_max_depth(MAX_ENCODE_DEPTH);
    assert!(
        echo.echo(&deep, &limits) == deep,
        "{}: deep value",
        echo.label
    );
    // A large bytes value goes out as a segment of its own.
    let big = Bytes::from((0..200_000u32).map(|i| i as u8).collect::<Vec<u8>>());
    let value = Value::List(vec![
        Value::from("head"),
        Value::Bytes(big),
        Value::from("tail"),
    ]);
    assert!(encode_value(&value).unwrap().segments().len() > 1);
    assert!(
        echo.echo(&value, &DecodeLimits::default()) == value,
        "{}: large bytes",
        echo.label
    );
    // A lone surrogate made by Python is reported, not mangled.
    if echo.major >= 3 {
        let surrogate = b"u\x03\0\0\0\xed\xa0\x80";
        let reply = echo
            .request(b'E', surrogate)
            .expect("Python 3 loads lone surrogates");
        let e = decode_value(&reply, &DecodeLimits::default()).unwrap_err();
        assert!(
            e.to_string().contains("lone surrogate U+D800"),
            "{}: {e}",
            echo.label
        );
    }
    // And code objects, as the child's own `compile()` makes them, are refused.
    let code = echo.request(b'C', &[]).unwrap();
    let e = decode_value(&code, &DecodeLimits::default()).unwrap_err();
    assert!(
        e.to_string().contains("code objects are never accepted"),
        "{}: {e}",
        echo.label
    );
}

#[test]
fn round_trips_through_every_interpreter() {
    let pythons = interpreters();
    let mut ran = Vec::new();
    for python in &pythons {
        let mut echo = Echo::spawn(python);
        check_native_values(&mut echo);
        check_limits(&mut echo);
        check_generated_values(&mut echo);
        ran.push(echo.label.clone());
    }
    eprintln!("VALUE round trips passed on {} interpreters:", ran.len());
    for label in &ran {
        eprintln!("  {label}");
    }
}
