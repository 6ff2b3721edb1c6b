//! The one place that parses marshal bytes from an untrusted peer.
//!
//! [`Reader::read_head`] reads one item's type code and fixed part: a whole scalar, or
//! the opening of a container whose children follow. Both the [`Value`] decoder and
//! the serde deserializer are built on it, so the checks live here once: lengths
//! against the bytes remaining (before anything is allocated), nesting depth, the
//! output budget, UTF-8, and both reference tables.
//!
//! Marshal is a prefix format: a container's children simply follow its head, so a
//! reader never needs to look back, except through references. Python 3 (version 3+)
//! enters objects flagged with [`codes::FLAG_REF`] into a table that `'r'` indexes;
//! Python 2 enters every `'t'` string into a table that `'R'` indexes.

use std::borrow::Cow;

use bytes::Bytes;

use super::bigint::BigInt;
use super::codes;
use super::error::DecodeError;
use super::limits::DecodeLimits;
use super::value::Value;

/// Which sequence type a container head opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SeqKind {
    Tuple,
    List,
    Set,
    FrozenSet,
}

impl SeqKind {
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            SeqKind::Tuple => "tuple",
            SeqKind::List => "list",
            SeqKind::Set => "set",
            SeqKind::FrozenSet => "frozenset",
        }
    }

    pub(crate) fn build(self, items: Vec<Value>) -> Value {
        match self {
            SeqKind::Tuple => Value::Tuple(items),
            SeqKind::List => Value::List(items),
            SeqKind::Set => Value::Set(items),
            SeqKind::FrozenSet => Value::FrozenSet(items),
        }
    }
}

/// What one head is.
#[derive(Debug)]
pub(crate) enum HeadKind<'a> {
    /// `'0'`: ends a dict (anywhere else it is an error the consumer reports).
    Null,
    None,
    Bool(bool),
    Int(i64),
    /// Only for values outside the `i64` range.
    BigInt(BigInt),
    Float(f64),
    Str(Cow<'a, str>),
    /// A byte string, as a range of the input (zero-copy).
    Bytes {
        start: usize,
        end: usize,
    },
    /// A tuple, list, set or frozenset with this many items following.
    Seq(SeqKind, usize),
    /// A dict: key/value pairs follow until a [`HeadKind::Null`].
    Dict,
    /// An `'r'` reference, already checked and charged; fetch it with
    /// [`Reader::referenced_value`].
    Ref(usize),
}

impl HeadKind<'_> {
    /// The Python type name, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            HeadKind::Null => "the NULL marker '0'",
            HeadKind::None => "NoneType",
            HeadKind::Bool(_) => "bool",
            HeadKind::Int(_) | HeadKind::BigInt(_) => "int",
            HeadKind::Float(_) => "float",
            HeadKind::Str(_) => "str",
            HeadKind::Bytes { .. } => "bytes",
            HeadKind::Seq(kind, _) => kind.type_name(),
            HeadKind::Dict => "dict",
            HeadKind::Ref(_) => "reference",
        }
    }

    fn is_container(&self) -> bool {
        matches!(self, HeadKind::Seq(..) | HeadKind::Dict)
    }

    /// Whether CPython enters this object in the reference table when flagged
    /// (singletons and references themselves never are).
    fn takes_ref_slot(&self) -> bool {
        !matches!(
            self,
            HeadKind::Null | HeadKind::None | HeadKind::Bool(_) | HeadKind::Ref(_)
        )
    }
}

/// One item's head.
#[derive(Debug)]
pub(crate) struct Head<'a> {
    /// Where the type code is.
    pub(crate) offset: usize,
    pub(crate) kind: HeadKind<'a>,
    /// A reference-table slot that a later `'r'` uses: the consumer must hand the
    /// finished value to [`Reader::fill_slot`]. `None` when nothing refers to it.
    pub(crate) slot: Option<usize>,
    /// Output units used before this head, for [`Reader::fill_slot`].
    pub(crate) used_before: usize,
}

/// A head as parsed, before the reference tables are consulted.
struct Raw<'a> {
    offset: usize,
    flagged: bool,
    /// Final for every [`Table::None`] head (nearly all of them); a placeholder for
    /// references, which [`Reader::read_head`] resolves.
    kind: HeadKind<'a>,
    table: Table,
    /// Payload bytes to charge to the output budget.
    payload: usize,
}

/// What a head asks of the reference tables. Kept apart from [`HeadKind`] so that
/// the common case passes its kind through untouched.
#[derive(Clone, Copy)]
enum Table {
    None,
    /// Python 2 `'t'`: the bytes also enter the interned-string table.
    Intern,
    /// Python 2 `'R'`: an index into the interned-string table.
    StringRef(i64),
    /// Python 3 `'r'`: an index into the reference table.
    Ref(i64),
}

enum RefSlot {
    /// Reserved by a head whose value is not finished yet.
    Pending,
    Ready {
        value: Value,
        cost: usize,
    },
}

pub(crate) struct Reader<'a> {
    input: &'a Bytes,
    data: &'a [u8],
    pos: usize,
    budget: usize,
    used: usize,
    depth: usize,
    max_depth: usize,
    /// Python 2 interned strings, as input ranges.
    interned: Vec<(usize, usize)>,
    /// Flagged objects seen so far (the next reference-table index).
    flagged_count: usize,
    /// The reference-table indices that some `'r'` in the body names, sorted; found
    /// by one scan ahead at the first flagged object, so that only those objects are
    /// ever copied (Python 3 flags nearly everything it writes at version 3+).
    referenced: Option<Vec<usize>>,
    /// Values of the referenced objects, parallel to `referenced`.
    slots: Vec<Option<RefSlot>>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a Bytes, limits: &DecodeLimits) -> Reader<'a> {
        Reader {
            input,
            data: input,
            pos: 0,
            budget: limits.output_budget(input.len()),
            used: 0,
            depth: 0,
            max_depth: limits.max_depth,
            interned: Vec::new(),
            flagged_count: 0,
            referenced: None,
            slots: Vec::new(),
        }
    }

    /// Fails unless the whole body has been consumed.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.pos < self.data.len() {
            return Err(DecodeError::TrailingBytes {
                offset: self.pos,
                count: self.data.len() - self.pos,
            });
        }
        Ok(())
    }

    /// The input bytes of a [`HeadKind::Bytes`] range.
    pub(crate) fn bytes(&self, start: usize, end: usize) -> &'a [u8] {
        &self.data[start..end]
    }

    /// The same range as a zero-copy [`Bytes`].
    pub(crate) fn shared(&self, start: usize, end: usize) -> Bytes {
        self.input.slice(start..end)
    }

    /// Reads the next head, entering a container level when it opens one; the
    /// consumer calls [`Reader::leave`] after the container's last child.
    #[inline(always)]
    pub(crate) fn read_head(&mut self) -> Result<Head<'a>, DecodeError> {
        let used_before = self.used;
        let Raw {
            offset,
            flagged,
            mut kind,
            table,
            payload,
        } = self.parse_raw()?;
        self.charge(1 + payload, offset)?;
        match table {
            Table::None => {}
            Table::Intern => {
                if let HeadKind::Bytes { start, end } = kind {
                    self.interned.push((start, end));
                }
            }
            Table::StringRef(index) => {
                let (start, end) = usize::try_from(index)
                    .ok()
                    .and_then(|i| self.interned.get(i).copied())
                    .ok_or(DecodeError::InvalidStringRef {
                        offset,
                        index,
                        available: self.interned.len(),
                    })?;
                self.charge(end - start, offset)?;
                kind = HeadKind::Bytes { start, end };
            }
            Table::Ref(index) => kind = HeadKind::Ref(self.lookup_ref(index, offset)?),
        }
        let slot = if flagged && kind.takes_ref_slot() {
            self.reserve_slot(offset)
        } else {
            None
        };
        if kind.is_container() {
            if self.depth >= self.max_depth {
                return Err(DecodeError::TooDeep {
                    offset,
                    max_depth: self.max_depth,
                });
            }
            self.depth += 1;
        }
        Ok(Head {
            offset,
            kind,
            slot,
            used_before,
        })
    }

    /// Ends the innermost container.
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Keeps a copy of a finished value for the references that name it, charging
    /// the copy (and so everything inside it) to the output budget.
    pub(crate) fn fill_slot(
        &mut self,
        slot: usize,
        value: &Value,
        used_before: usize,
        offset: usize,
    ) -> Result<(), DecodeError> {
        let cost = self.used.saturating_sub(used_before).max(1);
        self.charge(cost, offset)?;
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = Some(RefSlot::Ready {
                value: value.clone(),
                cost,
            });
        }
        Ok(())
    }

    /// A copy of the value a [`HeadKind::Ref`] names (already charged).
    pub(crate) fn referenced_value(&self, slot: usize) -> Value {
        match self.slots.get(slot) {
            Some(Some(RefSlot::Ready { value, .. })) => value.clone(),
            // `lookup_ref` only hands out slots that are ready.
            _ => Value::None,
        }
    }

    fn charge(&mut self, units: usize, offset: usize) -> Result<(), DecodeError> {
        let used = self.used.saturating_add(units);
        if used > self.budget {
            return Err(DecodeError::OutputLimit {
                offset,
                budget: self.budget,
            });
        }
        self.used = used;
        Ok(())
    }

    fn reserve_slot(&mut self, offset: usize) -> Option<usize> {
        let index = self.flagged_count;
        self.flagged_count += 1;
        if self.referenced.is_none() {
            let referenced = scan_referenced_indices(self.input, offset, index);
            self.slots = (0..referenced.len()).map(|_| None).collect();
            self.referenced = Some(referenced);
        }
        let slot = self.referenced.as_ref()?.binary_search(&index).ok()?;
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = Some(RefSlot::Pending);
        }
        Some(slot)
    }

    fn lookup_ref(&mut self, index: i64, offset: usize) -> Result<usize, DecodeError> {
        let invalid = DecodeError::InvalidRef {
            offset,
            index,
            available: self.flagged_count,
        };
        let index = usize::try_from(index).map_err(|_| invalid.clone())?;
        if index >= self.flagged_count {
            return Err(invalid);
        }
        let slot = self
            .referenced
            .as_ref()
            .and_then(|referenced| referenced.binary_search(&index).ok())
            .ok_or_else(|| invalid.clone())?;
        match self.slots.get(slot) {
            Some(Some(RefSlot::Ready { cost, .. })) => {
                let cost = *cost;
                self.charge(cost, offset)?;
                Ok(slot)
            }
            Some(Some(RefSlot::Pending)) => Err(DecodeError::RecursiveRef { offset, index }),
            _ => Err(invalid),
        }
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if n > available {
            return Err(DecodeError::Truncated {
                offset: self.pos,
                what,
                needed: n,
                available,
            });
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.data[start..start + n])
    }

    fn take_array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let slice = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn read_u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take_array::<1>(what)?[0])
    }

    fn read_i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.take_array(what)?))
    }

    /// Reads a 32-bit length and checks that `unit_bytes` per unit fit in the rest of
    /// the body, so nothing is allocated for lengths a body cannot back.
    fn read_len(
        &mut self,
        offset: usize,
        what: &'static str,
        unit: &'static str,
        unit_bytes: u64,
    ) -> Result<usize, DecodeError> {
        let length = self.read_i32(what)?;
        self.check_len(offset, what, i64::from(length), unit, unit_bytes)
    }

    fn check_len(
        &self,
        offset: usize,
        what: &'static str,
        length: i64,
        unit: &'static str,
        unit_bytes: u64,
    ) -> Result<usize, DecodeError> {
        let Ok(length) = u64::try_from(length) else {
            return Err(DecodeError::NegativeLength {
                offset,
                what,
                length,
            });
        };
        let needed = length.saturating_mul(unit_bytes);
        let available = self.remaining();
        if needed > available as u64 {
            return Err(DecodeError::LengthBeyondInput {
                offset,
                what,
                length,
                unit,
                needed,
                available,
            });
        }
        // Bounded by the input length, so it fits.
        Ok(length as usize)
    }

    #[inline(always)]
    fn parse_raw(&mut self) -> Result<Raw<'a>, DecodeError> {
        let offset = self.pos;
        let code_byte = self.read_u8("type code")?;
        let flagged = code_byte & codes::FLAG_REF != 0;
        let mut payload = 0;
        let mut table = Table::None;
        let kind = match code_byte & !codes::FLAG_REF {
            codes::NULL => HeadKind::Null,
            codes::NONE => HeadKind::None,
            codes::TRUE => HeadKind::Bool(true),
            codes::FALSE => HeadKind::Bool(false),
            codes::INT => HeadKind::Int(i64::from(self.read_i32("int")?)),
            codes::INT64 => HeadKind::Int(i64::from_le_bytes(self.take_array("int64")?)),
            codes::BINARY_FLOAT => HeadKind::Float(f64::from_le_bytes(self.take_array("float")?)),
            codes::TEXT_FLOAT => {
                let len = self.read_u8("float text length")?;
                let text = self.take(usize::from(len), "float text")?;
                HeadKind::Float(parse_text_float(text, offset)?)
            }
            codes::LONG => {
                let (kind, digit_bytes) = self.parse_long(offset)?;
                payload = digit_bytes;
                kind
            }
            codes::STRING => {
                let (start, end) = self.read_span(offset, "bytes", 4)?;
                payload = end - start;
                HeadKind::Bytes { start, end }
            }
            codes::INTERNED => {
                let (start, end) = self.read_span(offset, "interned string", 4)?;
                payload = end - start;
                if flagged {
                    // Only Python 3 flags objects, and its 't' is an interned str.
                    HeadKind::Str(Cow::Borrowed(utf8(&self.data[start..end], start)?))
                } else {
                    table = Table::Intern;
                    HeadKind::Bytes { start, end }
                }
            }
            codes::STRING_REF if !flagged => {
                table = Table::StringRef(i64::from(self.read_i32("interned-string reference")?));
                HeadKind::None
            }
            codes::REF => {
                table = Table::Ref(i64::from(self.read_i32("reference")?));
                HeadKind::None
            }
            codes::UNICODE => {
                let (start, end) = self.read_span(offset, "str", 4)?;
                payload = end - start;
                HeadKind::Str(Cow::Borrowed(utf8(&self.data[start..end], start)?))
            }
            codes::ASCII | codes::ASCII_INTERNED => {
                let (start, end) = self.read_span(offset, "str", 4)?;
                payload = end - start;
                HeadKind::Str(latin1(&self.data[start..end]))
            }
            codes::SHORT_ASCII | codes::SHORT_ASCII_INTERNED => {
                let (start, end) = self.read_span(offset, "str", 1)?;
                payload = end - start;
                HeadKind::Str(latin1(&self.data[start..end]))
            }
            codes::TUPLE => {
                HeadKind::Seq(SeqKind::Tuple, self.read_len(offset, "tuple", "items", 1)?)
            }
            codes::SMALL_TUPLE => {
                let count = self.read_u8("tuple length")?;
                let count = self.check_len(offset, "tuple", i64::from(count), "items", 1)?;
                HeadKind::Seq(SeqKind::Tuple, count)
            }
            codes::LIST => HeadKind::Seq(SeqKind::List, self.read_len(offset, "list", "items", 1)?),
            codes::SET => HeadKind::Seq(SeqKind::Set, self.read_len(offset, "set", "items", 1)?),
            codes::FROZENSET => HeadKind::Seq(
                SeqKind::FrozenSet,
                self.read_len(offset, "frozenset", "items", 1)?,
            ),
            codes::DICT => HeadKind::Dict,
            codes::CODE => {
                return Err(DecodeError::CodeObject {
                    offset,
                    code: code_byte,
                });
            }
            other => {
                return Err(match codes::unsupported_type_name(other) {
                    Some(name) => DecodeError::UnsupportedType {
                        offset,
                        code: code_byte,
                        name,
                    },
                    None => DecodeError::UnknownType {
                        offset,
                        code: code_byte,
                    },
                });
            }
        };
        Ok(Raw {
            offset,
            flagged,
            kind,
            table,
            payload,
        })
    }

    /// A length (32-bit, or 8-bit for the short forms) and that many bytes.
    fn read_span(
        &mut self,
        offset: usize,
        what: &'static str,
        len_bytes: usize,
    ) -> Result<(usize, usize), DecodeError> {
        let len = if len_bytes == 1 {
            let len = self.read_u8(what)?;
            self.check_len(offset, what, i64::from(len), "bytes", 1)?
        } else {
            self.read_len(offset, what, "bytes", 1)?
        };
        let start = self.pos;
        self.pos += len;
        Ok((start, start + len))
    }

    /// `'l'`: a signed count of 15-bit digits, least significant first. Returns the
    /// value and the number of digit bytes.
    fn parse_long(&mut self, offset: usize) -> Result<(HeadKind<'a>, usize), DecodeError> {
        let count = self.read_i32("int")?;
        let negative = count < 0;
        let digits = self.check_len(offset, "int", i64::from(count).abs(), "digits", 2)?;
        let start = self.pos;
        let bytes = self.take(digits * 2, "int digits")?;
        let mut values = bytes
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
        if let Some(position) = values.clone().position(|digit| digit >= 0x8000) {
            let digit = values.nth(position).unwrap_or_default();
            return Err(DecodeError::DigitOutOfRange {
                offset: start + 2 * position,
                digit,
            });
        }
        let kind = if digits <= 8 {
            // At most 120 bits: exact in an i128.
            let magnitude = values
                .rev()
                .fold(0i128, |acc, digit| acc << 15 | i128::from(digit));
            let value = if negative { -magnitude } else { magnitude };
            match i64::try_from(value) {
                Ok(small) => HeadKind::Int(small),
                Err(_) => HeadKind::BigInt(BigInt::from(value)),
            }
        } else {
            let big = BigInt::from_marshal_digits(negative, values);
            match i64::try_from(&big) {
                Ok(small) => HeadKind::Int(small),
                Err(_) => HeadKind::BigInt(big),
            }
        };
        Ok((kind, digits * 2))
    }
}

/// Finds which reference-table indices the `'r'` codes from `from` on name, by
/// parsing the rest of the body flat (marshal needs no tree to be walked). Stops
/// quietly at the first malformed item: the real decoder reports it on arrival.
fn scan_referenced_indices(input: &Bytes, from: usize, first_index: usize) -> Vec<usize> {
    let mut scan = Reader::new(input, &DecodeLimits::default());
    scan.pos = from;
    let mut next_index = first_index;
    let mut referenced = Vec::new();
    while scan.pos < scan.data.len() {
        let Ok(raw) = scan.parse_raw() else { break };
        match raw.table {
            Table::Ref(index) => {
                if let Ok(index) = usize::try_from(index)
                    && index < next_index
                {
                    referenced.push(index);
                }
            }
            Table::StringRef(_) => {}
            Table::None | Table::Intern => {
                if raw.flagged && raw.kind.takes_ref_slot() {
                    next_index += 1;
                }
            }
        }
    }
    referenced.sort_unstable();
    referenced.dedup();
    referenced
}

/// UTF-8 text, with a precise error for the lone surrogates Python 3 writes with
/// `surrogatepass`.
fn utf8(bytes: &[u8], start: usize) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|error| {
        let at = error.valid_up_to();
        match bytes.get(at..at + 3) {
            Some(&[0xed, second @ 0xa0..=0xbf, third @ 0x80..=0xbf]) => {
                DecodeError::LoneSurrogate {
                    offset: start + at,
                    code_point: 0xd000 | u32::from(second & 0x3f) << 6 | u32::from(third & 0x3f),
                }
            }
            _ => DecodeError::InvalidUtf8 { offset: start + at },
        }
    })
}

/// The ASCII codes of marshal 3/4 hold Latin-1 as far as CPython is concerned, so
/// bytes above 0x7f are taken as the code points CPython would make of them.
fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) if bytes.is_ascii() => Cow::Borrowed(text),
        _ => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Marshal versions 0 and 1 write floats as their repr text; accept exactly the
/// float literals Python writes.
fn parse_text_float(text: &[u8], offset: usize) -> Result<f64, DecodeError> {
    let malformed = || DecodeError::BadFloatText {
        offset,
        text: String::from_utf8_lossy(text).into_owned(),
    };
    let literal = std::str::from_utf8(text).map_err(|_| malformed())?;
    let unsigned = literal.strip_prefix(['-', '+']).unwrap_or(literal);
    let special = ["inf", "infinity", "nan"]
        .iter()
        .any(|word| unsigned.eq_ignore_ascii_case(word));
    let numeric = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !special && !numeric {
        return Err(malformed());
    }
    literal.parse::<f64>().map_err(|_| malformed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_floats_are_parsed_strictly() {
        for (text, value) in [
            ("1.5", 1.5),
            ("-2e-05", -2e-05),
            ("1e+300", 1e300),
            ("inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("-0.0", -0.0),
            ("5.", 5.0),
        ] {
            assert_eq!(
                parse_text_float(text.as_bytes(), 0).unwrap().to_bits(),
                value.to_bits(),
                "{text}"
            );
        }
        assert!(parse_text_float(b"nan", 0).unwrap().is_nan());
        for bad in [
            &b""[..],
            b" 1.5",
            b"1.5 ",
            b"0x10",
            b"1_000",
            b"--1",
            b"e5",
            b"1e",
            b"nana",
            b"\xff",
        ] {
            let err = parse_text_float(bad, 7).unwrap_err();
            assert!(
                matches!(err, DecodeError::BadFloatText { offset: 7, .. }),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn lone_surrogates_are_named() {
        let err = utf8(b"ab\xed\xa0\xbdcd", 10).unwrap_err();
        assert_eq!(
            err,
            DecodeError::LoneSurrogate {
                offset: 12,
                code_point: 0xd83d
            }
        );
        assert!(
            err.to_string()
                .contains("lone surrogate U+D83D at byte offset 12"),
            "{err}"
        );
        assert_eq!(
            utf8(b"a\xff", 0).unwrap_err(),
            DecodeError::InvalidUtf8 { offset: 1 }
        );
        assert_eq!(
            utf8(b"a\xed\x9f", 0).unwrap_err(),
            DecodeError::InvalidUtf8 { offset: 1 }
        );
    }

    #[test]
    fn latin1_matches_cpython() {
        assert!(matches!(latin1(b"abc"), Cow::Borrowed("abc")));
        assert_eq!(latin1(b"caf\xe9"), "café");
    }
}
