//! Encoded bodies as lists of byte segments, so large payloads are never copied.

use bytes::{Bytes, BytesMut};

/// Payloads of at least this many bytes become their own segment instead of being
/// copied into the body; below it, one copy is cheaper than an extra iovec.
pub const ZERO_COPY_THRESHOLD: usize = 64 * 1024;

/// Room for small bodies (a call tuple, a short reply) without growing.
const INITIAL_CAPACITY: usize = 128;

/// An encoded frame body: byte segments to be written in order, typically with one
/// vectored write (`writev`) together with the header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameBody {
    segments: Segments,
    len: usize,
}

/// Nearly every body is one segment: keep that case free of a second allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Segments {
    #[default]
    Empty,
    One(Bytes),
    Many(Vec<Bytes>),
}

impl FrameBody {
    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the body has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The segments, in order. None of them is empty.
    pub fn segments(&self) -> &[Bytes] {
        match &self.segments {
            Segments::Empty => &[],
            Segments::One(segment) => std::slice::from_ref(segment),
            Segments::Many(segments) => segments,
        }
    }

    /// The segments, in order, by value.
    pub fn into_segments(self) -> Vec<Bytes> {
        match self.segments {
            Segments::Empty => Vec::new(),
            Segments::One(segment) => vec![segment],
            Segments::Many(segments) => segments,
        }
    }

    /// The body as one buffer; copies only when there is more than one segment.
    pub fn into_contiguous(self) -> Bytes {
        match self.segments {
            Segments::Empty => Bytes::new(),
            Segments::One(segment) => segment,
            Segments::Many(segments) => {
                let mut out = BytesMut::with_capacity(self.len);
                for segment in &segments {
                    out.extend_from_slice(segment);
                }
                out.freeze()
            }
        }
    }

    /// The bodies one after another, without copying any segment.
    pub fn concat(bodies: impl IntoIterator<Item = FrameBody>) -> FrameBody {
        let mut segments = Vec::new();
        let mut len = 0;
        for body in bodies {
            len += body.len;
            match body.segments {
                Segments::Empty => {}
                Segments::One(segment) => segments.push(segment),
                Segments::Many(more) => segments.extend(more),
            }
        }
        FrameBody::from_segments(segments, len)
    }

    fn from_segments(mut segments: Vec<Bytes>, len: usize) -> FrameBody {
        let segments = match segments.len() {
            0 => Segments::Empty,
            1 => Segments::One(segments.pop().unwrap_or_default()),
            _ => Segments::Many(segments),
        };
        FrameBody { segments, len }
    }
}

/// A body that is already encoded (RAW data, for instance).
impl From<Bytes> for FrameBody {
    fn from(bytes: Bytes) -> FrameBody {
        let len = bytes.len();
        let segments = if bytes.is_empty() {
            Segments::Empty
        } else {
            Segments::One(bytes)
        };
        FrameBody { segments, len }
    }
}

/// Accumulates an encoded body.
///
/// Small data goes into one growing buffer. Large shared payloads are recorded with
/// the buffer position they belong at and spliced in when the body is finished, so
/// the buffer stays contiguous until then and counts can still be patched into it.
pub(crate) struct BodyWriter {
    inline: BytesMut,
    splices: Vec<(usize, Bytes)>,
}

impl BodyWriter {
    pub(crate) fn new() -> BodyWriter {
        BodyWriter {
            inline: BytesMut::with_capacity(INITIAL_CAPACITY),
            splices: Vec::new(),
        }
    }

    // `BytesMut::extend_from_slice` inlines (the `BufMut` methods do not), so that
    // fixed-size writes become plain stores.
    #[inline]
    pub(crate) fn put_u8(&mut self, byte: u8) {
        self.inline.extend_from_slice(&[byte]);
    }

    #[inline]
    pub(crate) fn put_i32(&mut self, value: i32) {
        self.inline.extend_from_slice(&value.to_le_bytes());
    }

    /// A type code and the 32-bit field that follows it, in one write.
    #[inline]
    pub(crate) fn put_code_i32(&mut self, code: u8, value: i32) {
        let [a, b, c, d] = value.to_le_bytes();
        self.inline.extend_from_slice(&[code, a, b, c, d]);
    }

    /// A type code and the 64-bit field that follows it, in one write.
    #[inline]
    pub(crate) fn put_code_u64(&mut self, code: u8, value: [u8; 8]) {
        let [a, b, c, d, e, f, g, h] = value;
        self.inline
            .extend_from_slice(&[code, a, b, c, d, e, f, g, h]);
    }

    #[inline]
    pub(crate) fn put_slice(&mut self, data: &[u8]) {
        self.inline.extend_from_slice(data);
    }

    /// Appends shared bytes, without copying them when they are large.
    pub(crate) fn put_shared(&mut self, data: Bytes) {
        if data.len() >= ZERO_COPY_THRESHOLD {
            self.splices.push((self.inline.len(), data));
        } else {
            self.put_slice(&data);
        }
    }

    /// Position in the inline buffer, for [`BodyWriter::patch_i32`].
    pub(crate) fn position(&self) -> usize {
        self.inline.len()
    }

    /// Overwrites four bytes written earlier (a count only known at the end).
    pub(crate) fn patch_i32(&mut self, position: usize, value: i32) {
        self.inline[position..position + 4].copy_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn finish(self) -> FrameBody {
        let BodyWriter {
            mut inline,
            splices,
        } = self;
        if splices.is_empty() {
            return FrameBody::from(inline.freeze());
        }
        let mut len = inline.len();
        let mut segments = Vec::with_capacity(2 * splices.len() + 1);
        let mut consumed = 0;
        for (at, shared) in splices {
            if at > consumed {
                segments.push(inline.split_to(at - consumed).freeze());
                consumed = at;
            }
            len += shared.len();
            segments.push(shared);
        }
        if !inline.is_empty() {
            segments.push(inline.freeze());
        }
        FrameBody::from_segments(segments, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_payloads_are_spliced_without_copying() {
        let big = Bytes::from(vec![7u8; ZERO_COPY_THRESHOLD]);
        let mut writer = BodyWriter::new();
        writer.put_u8(b'[');
        let count_at = writer.position();
        writer.put_i32(0);
        writer.put_shared(big.clone());
        writer.put_shared(Bytes::from_static(b"small"));
        writer.put_shared(big.clone());
        writer.patch_i32(count_at, 3);
        let body = writer.finish();
        assert_eq!(body.len(), 1 + 4 + 2 * big.len() + 5);
        let segments = body.segments();
        assert_eq!(segments.len(), 4);
        assert_eq!(&segments[0][..], b"[\x03\x00\x00\x00");
        assert_eq!(segments[1].as_ptr(), big.as_ptr());
        assert_eq!(&segments[2][..], b"small");
        assert_eq!(segments[3].as_ptr(), big.as_ptr());
        let flat = body.into_contiguous();
        assert_eq!(flat.len(), 1 + 4 + 2 * big.len() + 5);
        assert_eq!(&flat[5 + big.len()..10 + big.len()], b"small");
    }

    #[test]
    fn single_segment_bodies_are_not_copied() {
        let body = FrameBody::from(Bytes::from_static(b"raw"));
        let pointer = body.segments()[0].as_ptr();
        assert_eq!(body.into_contiguous().as_ptr(), pointer);
        assert!(FrameBody::from(Bytes::new()).is_empty());
        assert_eq!(FrameBody::default().into_contiguous(), Bytes::new());
    }

    #[test]
    fn bodies_concatenate_without_copying() {
        let first = Bytes::from_static(b"ab");
        let body = FrameBody::concat([
            FrameBody::from(first.clone()),
            FrameBody::default(),
            FrameBody::from(Bytes::from_static(b"c")),
        ]);
        assert_eq!(body.len(), 3);
        assert_eq!(body.segments().len(), 2);
        assert_eq!(body.segments()[0].as_ptr(), first.as_ptr());
        assert_eq!(body.into_contiguous(), Bytes::from_static(b"abc"));
        assert_eq!(
            FrameBody::concat([FrameBody::from(first)]).segments().len(),
            1
        );
    }
}
