//! Any input: `decode_value` returns a value or an error, never panics, hangs or
//! allocates without bound; what it accepts re-encodes and decodes unchanged.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pyfleet::wire::{DecodeLimits, HEADER_LEN, Header, decode_value, encode_value};

fuzz_target!(|data: &[u8]| {
    if let Some(header) = data.first_chunk::<HEADER_LEN>() {
        let _ = Header::decode(header, u32::MAX);
    }
    let body = Bytes::copy_from_slice(data);
    let limits = DecodeLimits::default();
    let Ok(value) = decode_value(&body, &limits) else {
        return;
    };
    let _ = value.to_string();
    let encoded = encode_value(&value).expect("a decoded value always encodes");
    let again =
        decode_value(&encoded.into_contiguous(), &limits).expect("an encoded value always decodes");
    assert_eq!(again, value);
});
