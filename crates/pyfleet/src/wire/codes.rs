//! Marshal type codes (CPython `Python/marshal.c`, Python 2.7 to 3.14).

use std::fmt;

pub(crate) const NULL: u8 = b'0';
pub(crate) const NONE: u8 = b'N';
pub(crate) const FALSE: u8 = b'F';
pub(crate) const TRUE: u8 = b'T';
pub(crate) const INT: u8 = b'i';
/// Python 2 only: an `int` that needs more than 32 bits.
pub(crate) const INT64: u8 = b'I';
/// Marshal versions 0 and 1: a float as its repr text.
pub(crate) const TEXT_FLOAT: u8 = b'f';
pub(crate) const BINARY_FLOAT: u8 = b'g';
pub(crate) const LONG: u8 = b'l';
pub(crate) const STRING: u8 = b's';
/// Python 2: an interned byte string; Python 3 (always with [`FLAG_REF`]): an interned str.
pub(crate) const INTERNED: u8 = b't';
/// Python 2 only: a back-reference into the table of interned strings.
pub(crate) const STRING_REF: u8 = b'R';
/// Python 3, marshal version 3+: a back-reference to an object flagged with [`FLAG_REF`].
pub(crate) const REF: u8 = b'r';
pub(crate) const UNICODE: u8 = b'u';
pub(crate) const ASCII: u8 = b'a';
pub(crate) const ASCII_INTERNED: u8 = b'A';
pub(crate) const SHORT_ASCII: u8 = b'z';
pub(crate) const SHORT_ASCII_INTERNED: u8 = b'Z';
pub(crate) const TUPLE: u8 = b'(';
pub(crate) const SMALL_TUPLE: u8 = b')';
pub(crate) const LIST: u8 = b'[';
pub(crate) const DICT: u8 = b'{';
pub(crate) const SET: u8 = b'<';
pub(crate) const FROZENSET: u8 = b'>';
pub(crate) const CODE: u8 = b'c';

/// Set on a type code when the object is entered in the reference table (version 3+).
pub(crate) const FLAG_REF: u8 = 0x80;

/// Names of marshal types that exist but are never part of a VALUE body.
pub(crate) fn unsupported_type_name(code: u8) -> Option<&'static str> {
    Some(match code {
        b'x' => "complex, text form",
        b'y' => "complex",
        b'.' => "Ellipsis",
        b'S' => "StopIteration",
        b'?' => "unknown-object marker",
        b':' => "slice",
        _ => return None,
    })
}

/// Shows a type code byte as `0x63 ('c')`, naming the reference flag when set.
pub(crate) struct CodeByte(pub(crate) u8);

impl fmt::Display for CodeByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let byte = self.0;
        let base = byte & !FLAG_REF;
        write!(f, "{byte:#04x}")?;
        if base.is_ascii_graphic() {
            if byte & FLAG_REF != 0 {
                write!(f, " ('{}' with the reference flag)", base as char)
            } else {
                write!(f, " ('{}')", base as char)
            }
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_bytes_show_hex_and_char() {
        assert_eq!(CodeByte(b'c').to_string(), "0x63 ('c')");
        assert_eq!(
            CodeByte(b'c' | FLAG_REF).to_string(),
            "0xe3 ('c' with the reference flag)"
        );
        assert_eq!(CodeByte(0x07).to_string(), "0x07");
        assert_eq!(CodeByte(0xff).to_string(), "0xff");
    }
}
