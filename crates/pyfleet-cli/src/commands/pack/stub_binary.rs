//! The pack launcher, built by this crate's build script with the `release-small`
//! profile and embedded here: every pack starts with these bytes.

/// The launcher binary.
pub const STUB: &[u8] = include_bytes!(env!("PYFLEET_STUB_PATH"));
