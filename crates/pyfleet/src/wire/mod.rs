//! Frames and values: the pyfleet wire format, without any I/O.
//!
//! A frame is a fixed 28-byte [`Header`] followed by a body of `len` bytes, encoded
//! as the header's [`Encoding`] says. VALUE bodies hold one Python value in a strict
//! subset of `marshal`:
//!
//! - Rust to Python: only marshal version-2 codes, so the same bytes load with
//!   `marshal.loads` on Python 2.7 and 3.6–3.14 and on PyPy.
//! - Python to Rust: whatever those interpreters' `marshal.dumps` writes for the
//!   VALUE types at any marshal version (Python 2 interned strings and 64-bit ints,
//!   Python 3 references and short ASCII codes, old text floats), and nothing else:
//!   code objects above all are refused. Children are not trusted, so decoding is
//!   bounded in depth and output, does not depend on the thread's stack, and never
//!   panics.
//!
//! Python 2 sends its `str` as bytes ([`Value::Bytes`]) and its `unicode` as
//! [`Value::Str`]; the serde mapping lets `String` fields accept both.
//!
//! - [`Value`], [`encode_value`], [`decode_value`]: dynamically typed values;
//! - [`to_body`], [`from_body`]: serde types straight to and from bodies;
//! - [`to_value`], [`from_value`]: serde types to and from [`Value`].

mod bigint;
mod body;
mod codes;
mod convert;
mod de;
mod decode;
mod encode;
mod error;
mod from_value;
mod header;
mod limits;
mod magic;
mod reader;
mod repr;
mod ser;
mod serde_impls;
mod to_value;
mod value;

pub use bigint::{BigInt, BigIntRangeError};
pub use body::{FrameBody, ZERO_COPY_THRESHOLD};
pub use de::from_body;
pub use decode::decode_value;
pub use encode::{MAX_ENCODE_DEPTH, encode_value};
pub use error::{DecodeError, EncodeError};
pub use from_value::from_value;
pub use header::{
    DEFAULT_MAX_MESSAGE_SIZE, Encoding, FrameError, HEADER_LEN, Header, MAGIC, check_size, flags,
};
pub use limits::{DEFAULT_MAX_DEPTH, DecodeLimits};
pub use ser::to_body;
pub use serde_impls::ByteBuf;
pub use to_value::to_value;
pub use value::Value;
