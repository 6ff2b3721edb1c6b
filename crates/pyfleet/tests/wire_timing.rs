//! Rough per-operation timings of the VALUE codec on the call path.
//!
//! Ignored by default (timings need a release build and a quiet machine):
//!
//!     cargo test --release -p pyfleet --test wire_timing -- --ignored --nocapture

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use pyfleet::wire::{
    DecodeLimits, Encoding, HEADER_LEN, Header, Value, decode_value, encode_value, from_body,
    to_body,
};

/// Best of several rounds, in nanoseconds per call.
fn time(label: &str, mut operation: impl FnMut()) -> f64 {
    const ROUNDS: usize = 7;
    const CALLS: u32 = 200_000;
    let mut best = f64::INFINITY;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for _ in 0..CALLS {
            operation();
        }
        best = best.min(started.elapsed().as_nanos() as f64 / f64::from(CALLS));
    }
    println!("{label:<52} {best:>8.1} ns");
    best
}

#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn call_path_timings() {
    let limits = DecodeLimits::default();
    let call = Value::from(("os", "getpid", Value::Tuple(vec![]), Value::Dict(vec![])));
    let no_args: [i32; 0] = [];
    let no_kwargs: HashMap<String, Value> = HashMap::new();
    let reply_int = encode_value(&Value::Int(12345)).unwrap().into_contiguous();
    let reply_pair = encode_value(&Value::from(("ok", 12345)))
        .unwrap()
        .into_contiguous();
    let reply_dict = encode_value(&Value::Dict(vec![
        (Value::from("pid"), Value::Int(12345)),
        (Value::from("cwd"), Value::from("/home/user")),
        (Value::from("ok"), Value::Bool(true)),
    ]))
    .unwrap()
    .into_contiguous();
    let header = Header {
        encoding: Encoding::Value,
        flags: 0,
        dst: 1,
        src: 0,
        auth: 0,
        handle: 7,
        reply_to: 9,
        len: 42,
    };
    let header_bytes = header.encode();

    println!();
    let results = [
        time("encode_value(('os', 'getpid', (), {}))", || {
            black_box(encode_value(black_box(&call)).unwrap());
        }),
        time("to_body(&(\"os\", \"getpid\", [i32; 0], HashMap))", || {
            black_box(to_body(black_box(&("os", "getpid", no_args, &no_kwargs))).unwrap());
        }),
        time("decode_value(12345)", || {
            black_box(decode_value(black_box(&reply_int), &limits).unwrap());
        }),
        time("decode_value(('ok', 12345))", || {
            black_box(decode_value(black_box(&reply_pair), &limits).unwrap());
        }),
        time("decode_value({'pid': .., 'cwd': .., 'ok': ..})", || {
            black_box(decode_value(black_box(&reply_dict), &limits).unwrap());
        }),
        time("from_body::<i64>(12345)", || {
            black_box(from_body::<i64>(black_box(&reply_int), &limits).unwrap());
        }),
        time("from_body::<(String, i64)>(('ok', 12345))", || {
            black_box(from_body::<(String, i64)>(black_box(&reply_pair), &limits).unwrap());
        }),
        time("from_body::<Value>(('ok', 12345))", || {
            black_box(from_body::<Value>(black_box(&reply_pair), &limits).unwrap());
        }),
        time("Header::encode + Header::decode", || {
            let bytes: [u8; HEADER_LEN] = black_box(&header).encode();
            black_box(Header::decode(black_box(&bytes), u32::MAX).unwrap());
        }),
    ];
    assert_eq!(Header::decode(&header_bytes, u32::MAX), Ok(header));
    // Generous bounds: only a pathological regression should trip them.
    for ns in results {
        assert!(ns < 5_000.0, "{ns} ns per call");
    }
}
