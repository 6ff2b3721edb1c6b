//! Any input: the serde deserializer agrees with `decode_value` on `Value`, and
//! typed targets (which stream instead of building values) never panic.

#![no_main]

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pyfleet::wire::{BigInt, ByteBuf, DecodeLimits, Value, decode_value, from_body};
use serde::Deserialize;
use serde::de::IgnoredAny;

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
enum Mode {
    Quick,
    Retry(u32),
    Window(i8, u16),
    Named { name: String, weight: f32 },
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct Reply {
    status: Mode,
    pid: Option<i64>,
    data: ByteBuf,
    items: Vec<(String, Option<u64>)>,
    extra: Option<Value>,
    big: Option<BigInt>,
    wide: Option<(i128, u128)>,
    flags: BTreeMap<String, bool>,
}

fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    let limits = DecodeLimits::default();
    assert_eq!(
        decode_value(&body, &limits),
        from_body::<Value>(&body, &limits)
    );
    let _ = from_body::<Reply>(&body, &limits);
    let _ = from_body::<Vec<Reply>>(&body, &limits);
    let _ = from_body::<Mode>(&body, &limits);
    let _ = from_body::<HashMap<String, Vec<f64>>>(&body, &limits);
    let _ = from_body::<(char, String, Vec<u8>, ())>(&body, &limits);
    let _ = from_body::<IgnoredAny>(&body, &limits);
});
