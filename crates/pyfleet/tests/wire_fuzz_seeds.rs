//! The fuzzers' seed inputs (fuzz/seeds/) as regression tests.
//!
//! `ok-*` inputs (dumped by real interpreters, see fuzz/make_seeds.py) must decode,
//! `bad-*` inputs must be refused, and every input, whatever its name, must give the
//! same result through `decode_value` and `from_body::<Value>` without panicking.

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use pyfleet::wire::{ByteBuf, DecodeLimits, Value, decode_value, encode_value, from_body};
use serde::de::IgnoredAny;

#[test]
fn every_seed_behaves() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    let limits = DecodeLimits::default();
    let (mut accepted, mut refused) = (0, 0);
    for path in &entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let body = Bytes::from(std::fs::read(path).unwrap());
        let decoded = decode_value(&body, &limits);
        assert_eq!(
            decoded,
            from_body::<Value>(&body, &limits),
            "{name}: the decoders disagree"
        );
        let _ = from_body::<Vec<(String, Option<u64>)>>(&body, &limits);
        let _ = from_body::<HashMap<String, ByteBuf>>(&body, &limits);
        let _ = from_body::<IgnoredAny>(&body, &limits);
        match &decoded {
            Ok(value) => {
                accepted += 1;
                let again = encode_value(value).unwrap().into_contiguous();
                assert_eq!(
                    &decode_value(&again, &limits).unwrap(),
                    value,
                    "{name}: re-encoding changed it"
                );
            }
            Err(_) => refused += 1,
        }
        if name.starts_with("ok-") {
            assert!(decoded.is_ok(), "{name}: {}", decoded.unwrap_err());
        } else if name.starts_with("bad-") {
            assert!(
                decoded.is_err(),
                "{name} was accepted: {}",
                decoded.unwrap()
            );
        }
    }
    assert!(
        entries.len() > 100,
        "only {} seeds in {}",
        entries.len(),
        dir.display()
    );
    eprintln!(
        "{} seeds: {accepted} accepted, {refused} refused",
        entries.len()
    );
}
