//! The fixed 28-byte frame header.
//!
//! Layout (little-endian), mirrored on the Python side as
//! `struct.Struct('<HBBIIIIII')`:
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0 | 2 | magic `0x4650` (the bytes `b"PF"`) |
//! | 2 | 1 | [`Encoding`] of the body |
//! | 3 | 1 | [`flags`] |
//! | 4 | 4 | `dst`: destination context id (0 = the master) |
//! | 8 | 4 | `src`: the sender context id it claims |
//! | 12 | 4 | `auth`: the context that really sent it, set by routers |
//! | 16 | 4 | `handle`: destination handle |
//! | 20 | 4 | `reply_to`: handle for the reply (0 = no reply wanted) |
//! | 24 | 4 | `len`: body length in bytes |

use std::fmt;

use crate::messages::{MESSAGE_TOO_LARGE, MESSAGE_TOO_LARGE_HINT};

/// Size of an encoded [`Header`] in bytes.
pub const HEADER_LEN: usize = 28;

/// The first two bytes of every frame, `b"PF"` read as a little-endian `u16`.
pub const MAGIC: u16 = 0x4650;

/// Default upper bound for one message body (128 MiB); larger data goes through streams.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 128 * 1024 * 1024;

/// How a frame's body is encoded.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Bytes as they are: bulk data and file chunks, no codec.
    Raw = 0,
    /// A value in the marshal subset of [`crate::wire::Value`].
    Value = 1,
    /// A pickle, only between peers that opted in.
    Pickle = 2,
    /// A fixed binary layout for routing, handshake and module requests.
    Control = 3,
}

impl Encoding {
    /// The encoding for a header byte, if it names one.
    pub fn from_u8(byte: u8) -> Option<Encoding> {
        match byte {
            0 => Some(Encoding::Raw),
            1 => Some(Encoding::Value),
            2 => Some(Encoding::Pickle),
            3 => Some(Encoding::Control),
            _ => None,
        }
    }
}

/// Bits of the header's flags byte.
pub mod flags {
    /// The body is an error report rather than a result.
    pub const ERROR: u8 = 1;
    /// The last frame of a stream or channel (with ERROR: it failed).
    pub const END: u8 = 2;
    /// A chunk of a value too large for one frame; the next frame continues it.
    pub const MORE: u8 = 4;
    /// A CALL whose arguments hold channel ends to bind before it runs.
    pub const CHANNELS: u8 = 8;

    /// Every bit this version of the protocol knows; the others must be zero.
    pub const KNOWN: u8 = ERROR | END | MORE | CHANNELS;
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// How the body is encoded.
    pub encoding: Encoding,
    /// See [`flags`].
    pub flags: u8,
    /// Destination context id; 0 is the master.
    pub dst: u32,
    /// The sender context id the frame claims.
    pub src: u32,
    /// The context that really sent the frame, as stamped by a router.
    pub auth: u32,
    /// Destination handle.
    pub handle: u32,
    /// Handle the reply should go to; 0 when no reply is wanted.
    pub reply_to: u32,
    /// Body length in bytes.
    pub len: u32,
}

impl Header {
    /// The 28 bytes that go on the wire.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..2].copy_from_slice(&MAGIC.to_le_bytes());
        out[2] = self.encoding as u8;
        out[3] = self.flags;
        out[4..8].copy_from_slice(&self.dst.to_le_bytes());
        out[8..12].copy_from_slice(&self.src.to_le_bytes());
        out[12..16].copy_from_slice(&self.auth.to_le_bytes());
        out[16..20].copy_from_slice(&self.handle.to_le_bytes());
        out[20..24].copy_from_slice(&self.reply_to.to_le_bytes());
        out[24..28].copy_from_slice(&self.len.to_le_bytes());
        out
    }

    /// Parses a header read from a peer, refusing bodies longer than `max_len`.
    ///
    /// The size check happens here, before the body is read, so that a peer cannot
    /// make the reader allocate a huge buffer by lying about the length.
    pub fn decode(buf: &[u8; HEADER_LEN], max_len: u32) -> Result<Header, FrameError> {
        let magic = [buf[0], buf[1]];
        if u16::from_le_bytes(magic) != MAGIC {
            return Err(FrameError::BadMagic { found: magic });
        }
        let encoding = Encoding::from_u8(buf[2]).ok_or(FrameError::UnknownEncoding(buf[2]))?;
        let flags = buf[3];
        if flags & !flags::KNOWN != 0 {
            return Err(FrameError::ReservedFlags(flags));
        }
        let word = |at: usize| u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
        let len = word(24);
        if len > max_len {
            return Err(FrameError::TooLarge {
                len: u64::from(len),
                max: u64::from(max_len),
            });
        }
        Ok(Header {
            encoding,
            flags,
            dst: word(4),
            src: word(8),
            auth: word(12),
            handle: word(16),
            reply_to: word(20),
            len,
        })
    }

    /// Whether the body is an error report.
    pub fn is_error(&self) -> bool {
        self.flags & flags::ERROR != 0
    }
}

/// Checks, before sending, that a body of `len` bytes fits the peer's limit `max`
/// (and the 32-bit length field).
pub fn check_size(len: usize, max: usize) -> Result<(), FrameError> {
    let max = max.min(u32::MAX as usize);
    if len > max {
        return Err(FrameError::TooLarge {
            len: len as u64,
            max: max as u64,
        });
    }
    Ok(())
}

/// A frame header that cannot be accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The first two bytes are not `b"PF"`.
    #[error(
        "bad frame magic b\"{}\" (expected b\"PF\"): the stream is not speaking the pyfleet \
         protocol; check that nothing else writes to the protocol pipe (a stray print to the \
         real stdout, a shell banner or a password prompt)",
        EscapedBytes(found)
    )]
    BadMagic {
        /// The two bytes found instead.
        found: [u8; 2],
    },
    /// The encoding byte names no known [`Encoding`].
    #[error(
        "unknown body encoding {0} (known: 0 RAW, 1 VALUE, 2 PICKLE, 3 CONTROL): the peer \
         speaks a different protocol version; use the same pyfleet version on both sides"
    )]
    UnknownEncoding(u8),
    /// Flag bits this version does not know are set.
    #[error(
        "reserved header flag bits set (flags = {0:#04x}): the peer speaks a newer or \
         corrupted protocol; use the same pyfleet version on both sides"
    )]
    ReservedFlags(u8),
    /// The body is longer than allowed.
    #[error("{MESSAGE_TOO_LARGE}: {len} bytes > {max} bytes; {MESSAGE_TOO_LARGE_HINT}")]
    TooLarge {
        /// Length of the body.
        len: u64,
        /// The limit in force.
        max: u64,
    },
}

/// Shows bytes the way Python's `bytes` repr would, without the quotes.
struct EscapedBytes<'a>(&'a [u8]);

impl fmt::Display for EscapedBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &byte in self.0 {
            match byte {
                b'\\' => f.write_str("\\\\")?,
                b'"' => f.write_str("\\\"")?,
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                b'\t' => f.write_str("\\t")?,
                0x20..=0x7e => write!(f, "{}", byte as char)?,
                _ => write!(f, "\\x{byte:02x}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            encoding: Encoding::Value,
            flags: flags::ERROR,
            dst: 1,
            src: 0x0203_0405,
            auth: 7,
            handle: 0xdead_beef,
            reply_to: 42,
            len: 1000,
        }
    }

    #[test]
    fn encodes_the_documented_layout() {
        let bytes = sample().encode();
        assert_eq!(&bytes[0..2], b"PF");
        assert_eq!(bytes[2], 1);
        assert_eq!(bytes[3], 1);
        assert_eq!(&bytes[4..8], &1u32.to_le_bytes());
        assert_eq!(&bytes[8..12], &[5, 4, 3, 2]);
        assert_eq!(&bytes[12..16], &7u32.to_le_bytes());
        assert_eq!(&bytes[16..20], &0xdead_beefu32.to_le_bytes());
        assert_eq!(&bytes[20..24], &42u32.to_le_bytes());
        assert_eq!(&bytes[24..28], &1000u32.to_le_bytes());
    }

    #[test]
    fn round_trips_every_encoding() {
        for encoding in [
            Encoding::Raw,
            Encoding::Value,
            Encoding::Pickle,
            Encoding::Control,
        ] {
            let header = Header {
                encoding,
                flags: 0,
                ..sample()
            };
            assert_eq!(Header::decode(&header.encode(), u32::MAX), Ok(header));
            assert!(!header.is_error());
        }
        assert!(sample().is_error());
    }

    #[test]
    fn rejects_bad_magic_and_names_the_bytes() {
        let mut bytes = sample().encode();
        bytes[0] = 0x00;
        bytes[1] = b'"';
        let err = Header::decode(&bytes, u32::MAX).unwrap_err();
        assert_eq!(err, FrameError::BadMagic { found: [0, b'"'] });
        let text = err.to_string();
        assert!(text.contains(r#"b"\x00\"""#), "{text}");
        assert!(text.contains("not speaking the pyfleet protocol"), "{text}");
    }

    #[test]
    fn rejects_unknown_encoding() {
        let mut bytes = sample().encode();
        bytes[2] = 4;
        let err = Header::decode(&bytes, u32::MAX).unwrap_err();
        assert_eq!(err, FrameError::UnknownEncoding(4));
        assert!(err.to_string().contains("unknown body encoding 4"));
    }

    #[test]
    fn rejects_reserved_flags() {
        let mut bytes = sample().encode();
        bytes[3] = 0x81;
        let err = Header::decode(&bytes, u32::MAX).unwrap_err();
        assert_eq!(err, FrameError::ReservedFlags(0x81));
        assert!(err.to_string().contains("flags = 0x81"), "{err}");
    }

    #[test]
    fn rejects_bodies_over_the_limit_with_the_canonical_text() {
        let bytes = sample().encode();
        assert!(Header::decode(&bytes, 1000).is_ok());
        let err = Header::decode(&bytes, 999).unwrap_err();
        assert_eq!(
            err,
            FrameError::TooLarge {
                len: 1000,
                max: 999
            }
        );
        let text = err.to_string();
        assert!(text.contains(MESSAGE_TOO_LARGE), "{text}");
        assert!(text.contains(MESSAGE_TOO_LARGE_HINT), "{text}");
        assert!(text.contains("1000 bytes > 999 bytes"), "{text}");
    }

    #[test]
    fn check_size_guards_senders() {
        assert!(check_size(10, 10).is_ok());
        assert_eq!(
            check_size(11, 10),
            Err(FrameError::TooLarge { len: 11, max: 10 })
        );
        assert!(check_size(DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_MESSAGE_SIZE).is_ok());
        // The length field is 32 bits whatever the configured maximum says.
        let too_big = u32::MAX as usize + 1;
        assert!(check_size(too_big, usize::MAX).is_err());
    }
}
