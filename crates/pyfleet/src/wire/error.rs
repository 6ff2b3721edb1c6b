//! Errors of the VALUE codec.

use std::fmt;

use super::codes::CodeByte;

/// Shows `" at byte offset N"` when the offset is known.
struct At(Option<usize>);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(offset) => write!(f, " at byte offset {offset}"),
            None => Ok(()),
        }
    }
}

/// Every type code a VALUE body may contain, for error texts.
const ACCEPTED_CODES: &str = "N T F i I l g f u a A z Z s t R ( ) [ { < > r";

/// A VALUE body that cannot be decoded, or decoded into the requested Rust type.
///
/// Offsets count bytes from the start of the body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body ends in the middle of a value.
    #[error(
        "truncated VALUE body: {what} at byte offset {offset} needs {needed} bytes, only \
         {available} remain; the message was cut short or a length field is wrong"
    )]
    Truncated {
        /// Where the item starts.
        offset: usize,
        /// What was being read.
        what: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left in the body.
        available: usize,
    },
    /// A length or count that the rest of the body cannot possibly satisfy.
    #[error(
        "{what} at byte offset {offset} claims {length} {unit}, which needs at least {needed} \
         bytes, but only {available} remain; the body is corrupt"
    )]
    LengthBeyondInput {
        /// Where the item starts.
        offset: usize,
        /// What was being read.
        what: &'static str,
        /// The claimed length.
        length: u64,
        /// What the length counts ("bytes", "items", "digits").
        unit: &'static str,
        /// The fewest bytes that many units occupy.
        needed: u64,
        /// Bytes left in the body.
        available: usize,
    },
    /// A negative length or count.
    #[error("{what} at byte offset {offset} has a negative length ({length}); the body is corrupt")]
    NegativeLength {
        /// Where the item starts.
        offset: usize,
        /// What was being read.
        what: &'static str,
        /// The length found.
        length: i64,
    },
    /// A code object, which would let the sender run code in this process.
    #[error(
        "code objects are never accepted (type code {code} at byte offset {offset}); a \
         child may send only data: None, bool, int, float, str, bytes, tuple, list, dict, set, \
         frozenset",
        code = CodeByte(*code)
    )]
    CodeObject {
        /// Where it starts.
        offset: usize,
        /// The type code byte as found.
        code: u8,
    },
    /// A marshal type that VALUE bodies do not carry.
    #[error(
        "unsupported type code {code} ({name}) at byte offset {offset}: VALUE bodies carry \
         only None, bool, int, float, str, bytes, tuple, list, dict, set and frozenset; \
         convert the object on the Python side before sending it",
        code = CodeByte(*code)
    )]
    UnsupportedType {
        /// Where it starts.
        offset: usize,
        /// The type code byte as found.
        code: u8,
        /// The Python type it stands for.
        name: &'static str,
    },
    /// A byte that is not a marshal type code at all.
    #[error(
        "unknown type code {code} at byte offset {offset}: expected one of \
         {ACCEPTED_CODES}; the body is corrupt or not VALUE-encoded",
        code = CodeByte(*code)
    )]
    UnknownType {
        /// Where it starts.
        offset: usize,
        /// The byte found.
        code: u8,
    },
    /// The NULL marker `'0'` anywhere but at the end of a dict.
    #[error(
        "unexpected NULL marker 0x30 ('0') at byte offset {offset}: it may only end a dict, \
         in place of a key"
    )]
    UnexpectedNull {
        /// Where it is.
        offset: usize,
    },
    /// A long digit outside 0..2^15.
    #[error(
        "int digit {digit} at byte offset {offset} is out of range: marshal ints use 15-bit \
         digits (below 32768); the body is corrupt"
    )]
    DigitOutOfRange {
        /// Where the digit is.
        offset: usize,
        /// Its value.
        digit: u16,
    },
    /// A str with a lone surrogate, which Python can hold and Rust cannot.
    #[error(
        "str contains a lone surrogate U+{code_point:04X} at byte offset {offset}; Rust strings \
         cannot hold it: encode the text on the Python side first (for example \
         s.encode('utf-8', 'surrogateescape')) and send bytes"
    )]
    LoneSurrogate {
        /// Where the surrogate's encoding starts.
        offset: usize,
        /// The surrogate code point (U+D800..U+DFFF).
        code_point: u32,
    },
    /// A str that is not UTF-8.
    #[error("str is not valid UTF-8 at byte offset {offset}; the body is corrupt")]
    InvalidUtf8 {
        /// Where the first bad byte is.
        offset: usize,
    },
    /// An old-style text float that is not a float literal.
    #[error(
        "float at byte offset {offset} has malformed text {text:?}; expected a Python float \
         repr such as 1.5, -2e-05, inf or nan"
    )]
    BadFloatText {
        /// Where the float starts.
        offset: usize,
        /// The text, with non-ASCII bytes replaced.
        text: String,
    },
    /// An `'r'` reference to an object that does not exist.
    #[error(
        "reference {index} at byte offset {offset} points past the {available} objects \
         entered in the reference table so far; the body is corrupt"
    )]
    InvalidRef {
        /// Where the reference is.
        offset: usize,
        /// The index it names.
        index: i64,
        /// Objects in the table.
        available: usize,
    },
    /// An `'r'` reference to a container that is still being decoded.
    #[error(
        "reference {index} at byte offset {offset} points to a container that is still \
         being decoded; self-containing structures cannot be represented as a Value"
    )]
    RecursiveRef {
        /// Where the reference is.
        offset: usize,
        /// The index it names.
        index: usize,
    },
    /// A Python 2 `'R'` reference to an interned string that does not exist.
    #[error(
        "interned-string reference {index} at byte offset {offset} points past the \
         {available} interned strings seen so far; the body is corrupt"
    )]
    InvalidStringRef {
        /// Where the reference is.
        offset: usize,
        /// The index it names.
        index: i64,
        /// Strings in the table.
        available: usize,
    },
    /// Bytes after the one value a body holds.
    #[error(
        "{count} trailing bytes after the value, starting at byte offset {offset}; a VALUE \
         body holds exactly one value"
    )]
    TrailingBytes {
        /// Where the extra bytes start.
        offset: usize,
        /// How many there are.
        count: usize,
    },
    /// Containers nested deeper than [`crate::wire::DecodeLimits::max_depth`].
    #[error(
        "containers nested deeper than {max_depth} levels at byte offset {offset}; flatten \
         the data or raise DecodeLimits::max_depth"
    )]
    TooDeep {
        /// Where the container that is one level too deep starts.
        offset: usize,
        /// The limit in force.
        max_depth: usize,
    },
    /// Decoding would produce more than the output budget allows.
    #[error(
        "decoding would produce more than {budget} units (one per value plus one per payload \
         byte) at byte offset {offset}; shared references (marshal 'r' and 'R') can inflate \
         a small body into a huge value: send the data without them, or raise the output \
         budget in DecodeLimits"
    )]
    OutputLimit {
        /// Where the item that went over the budget starts.
        offset: usize,
        /// The budget in force.
        budget: usize,
    },
    /// The value has a different type than the Rust target expects.
    #[error("invalid type{at}: expected {expected}, found {found}", at = At(*offset))]
    TypeMismatch {
        /// Where the value starts, when known.
        offset: Option<usize>,
        /// What the Rust type accepts.
        expected: &'static str,
        /// The Python type found.
        found: &'static str,
    },
    /// An int that does not fit the Rust integer type.
    #[error("int {value}{at} does not fit in {target}", at = At(*offset))]
    IntOutOfRange {
        /// Where the value starts, when known.
        offset: Option<usize>,
        /// The value, in decimal (or its size when very large).
        value: String,
        /// The Rust type.
        target: &'static str,
    },
    /// Bytes read into a string type that are not UTF-8.
    #[error(
        "bytes{at} are not valid UTF-8 and cannot be read as a string; decode them on the \
         Python side or read them into a bytes type",
        at = At(*offset)
    )]
    NotUtf8 {
        /// Where the value starts, when known.
        offset: Option<usize>,
    },
    /// A container with more items than the Rust target takes.
    #[error(
        "{what}{at} has more items than the target type takes",
        at = At(*offset)
    )]
    ExtraItems {
        /// Where the container starts, when known.
        offset: Option<usize>,
        /// The Python type of the container.
        what: &'static str,
    },
    /// Any other mismatch reported by a `Deserialize` implementation.
    #[error("{message}{at}", at = At(*offset))]
    Message {
        /// Where decoding was when it failed, when known.
        offset: Option<usize>,
        /// The message.
        message: String,
    },
}

impl DecodeError {
    /// Fills in the offset of errors that were raised without one.
    pub(crate) fn located(self, at: usize) -> DecodeError {
        match self {
            DecodeError::TypeMismatch {
                offset: None,
                expected,
                found,
            } => DecodeError::TypeMismatch {
                offset: Some(at),
                expected,
                found,
            },
            DecodeError::IntOutOfRange {
                offset: None,
                value,
                target,
            } => DecodeError::IntOutOfRange {
                offset: Some(at),
                value,
                target,
            },
            DecodeError::NotUtf8 { offset: None } => DecodeError::NotUtf8 { offset: Some(at) },
            DecodeError::ExtraItems { offset: None, what } => DecodeError::ExtraItems {
                offset: Some(at),
                what,
            },
            DecodeError::Message {
                offset: None,
                message,
            } => DecodeError::Message {
                offset: Some(at),
                message,
            },
            other => other,
        }
    }
}

impl serde::de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> DecodeError {
        DecodeError::Message {
            offset: None,
            message: message.to_string(),
        }
    }
}

/// A value that cannot be encoded as a VALUE body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A str, bytes or container longer than marshal's 32-bit length fields allow.
    #[error(
        "{what} of length {len} exceeds marshal's limit of 2147483647; send large data as a \
         RAW body or through a stream"
    )]
    TooLong {
        /// The kind of item.
        what: &'static str,
        /// Its length.
        len: u64,
    },
    /// Nesting deeper than a Python child can load.
    #[error(
        "values nested deeper than {max_depth} levels cannot be loaded by a Python child \
         (marshal's recursion limit); flatten the data"
    )]
    TooDeep {
        /// The limit in force.
        max_depth: usize,
    },
    /// An error reported by a `Serialize` implementation.
    #[error("cannot encode the value: {0}")]
    Message(String),
}

impl serde::ser::Error for EncodeError {
    fn custom<T: fmt::Display>(message: T) -> EncodeError {
        EncodeError::Message(message.to_string())
    }
}
