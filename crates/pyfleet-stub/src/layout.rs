//! Where things are in a pack file, and how the launcher finds them fast.
//!
//! ```text
//! [launcher binary][zip local entries ...][trailer, 64 bytes][central directory][end record]
//!                   ^ archive_start        ^ central directory start - 64
//! ```
//!
//! The zip's offsets are absolute (counted from the start of the file, as a
//! self-extracting archive has them), so `unzip`, Python's `zipfile` and every
//! `zipimport` read the pack as it is.
//!
//! Why the trailer is not at the end of the file: the `zipimport` of Python 2.7,
//! 3.6 and 3.7 requires the zip's end-of-central-directory record to be the last
//! 22 bytes (anything after it and `python APP` runs the file as source). Bytes
//! between the last entry and the central directory are allowed by every reader
//! (entries are reached through the central directory's offsets). So the launcher
//! reads the fixed-size end record at EOF, steps back over the central directory
//! by its recorded size, and finds the trailer right before it: two small reads.
//!
//! The trailer holds the metadata's place and a CRC-32 of every byte of the archive
//! (from its first entry to the end of the file, the trailer left out), so a
//! truncated, extended or altered file is refused before anything runs. The
//! launcher's own bytes are not covered: they are the code doing the checking, and
//! damage there shows before it could be caught. CRC-32 catches damage and careless
//! edits; it is not a signature (whoever can rewrite the file can rewrite the
//! launcher too).

use std::fmt;

/// The trailer's first bytes.
pub const TRAILER_MAGIC: [u8; 8] = *b"PYFLPACK";
/// The layout version this launcher reads.
pub const FORMAT_VERSION: u32 = 1;
/// The trailer's size in bytes.
pub const TRAILER_SIZE: usize = 64;
/// The name of the metadata entry in the zip.
pub const METADATA_ENTRY: &str = "__pyfleet__/pack.json";

/// Size of the zip end-of-central-directory record without a comment.
pub const END_RECORD_SIZE: usize = 22;
const END_RECORD_SIGNATURE: u32 = 0x0605_4b50;
/// Size of the ZIP64 end-of-central-directory locator.
pub const ZIP64_LOCATOR_SIZE: usize = 20;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
/// The ZIP64 end record up to and including the central directory's offset.
pub const ZIP64_END_RECORD_SIZE: usize = 56;
const ZIP64_END_RECORD_SIGNATURE: u32 = 0x0606_4b50;

/// The fixed-size record before the central directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// Offset of the zip's first local entry (the launcher's length).
    pub archive_start: u64,
    /// Offset of the metadata JSON (the stored `__pyfleet__/pack.json` entry's data).
    pub metadata_offset: u64,
    /// Length of the metadata JSON.
    pub metadata_len: u64,
    /// Length of the whole file.
    pub file_len: u64,
    /// CRC-32 of the archive (`archive_start` to the end) except the trailer.
    pub checksum: u32,
}

/// Why bytes are not a pack, or not an intact one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutError {
    /// No zip end record at the end of the file.
    NoEndRecord,
    /// The end record or ZIP64 records point outside the file.
    BadEndRecord(String),
    /// No trailer before the central directory.
    NoTrailer,
    /// A trailer of another layout version.
    UnknownVersion(u32),
    /// The trailer's own check failed.
    DamagedTrailer,
    /// The file's length differs from the recorded one.
    LengthMismatch {
        /// Recorded.
        expected: u64,
        /// Found.
        actual: u64,
    },
    /// The contents' checksum differs from the recorded one.
    ChecksumMismatch,
    /// The metadata's recorded place is outside the archive.
    BadMetadataPlace,
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::NoEndRecord => f.write_str(
                "it does not end with a zip archive (truncated, extended, or not made by `pyfleet pack`)",
            ),
            LayoutError::BadEndRecord(detail) => write!(f, "its zip end record is damaged: {detail}"),
            LayoutError::NoTrailer => {
                f.write_str("it has no pack trailer before its zip directory (not made by `pyfleet pack`, or damaged)")
            }
            LayoutError::UnknownVersion(version) => write!(
                f,
                "it uses pack layout {version}, which this launcher does not know (it reads layout {FORMAT_VERSION})"
            ),
            LayoutError::DamagedTrailer => f.write_str("its pack trailer is damaged"),
            LayoutError::LengthMismatch { expected, actual } => write!(
                f,
                "it is {actual} bytes long but was written with {expected} (truncated or extended)"
            ),
            LayoutError::ChecksumMismatch => {
                f.write_str("its contents do not match their checksum (damaged or altered)")
            }
            LayoutError::BadMetadataPlace => f.write_str("its metadata lies outside the archive"),
        }
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// What the end record says about the central directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndRecord {
    /// A plain zip: the central directory ends where the end record starts.
    Plain {
        /// Size of the central directory.
        directory_size: u64,
    },
    /// The archive has ZIP64 records: read the locator before the end record.
    Zip64,
}

/// Reads the 22-byte end record found at the end of a file.
pub fn parse_end_record(record: &[u8]) -> Result<EndRecord, LayoutError> {
    if record.len() != END_RECORD_SIZE || u32_at(record, 0) != END_RECORD_SIGNATURE {
        return Err(LayoutError::NoEndRecord);
    }
    if u16_at(record, 20) != 0 {
        // Packs never carry a zip comment: a comment means other bytes follow.
        return Err(LayoutError::NoEndRecord);
    }
    let entries = u16_at(record, 10);
    let directory_size = u32_at(record, 12);
    let directory_offset = u32_at(record, 16);
    if entries == u16::MAX || directory_size == u32::MAX || directory_offset == u32::MAX {
        return Ok(EndRecord::Zip64);
    }
    Ok(EndRecord::Plain {
        directory_size: u64::from(directory_size),
    })
}

/// Reads the ZIP64 locator (the 20 bytes before the end record): where the ZIP64
/// end record is.
pub fn parse_zip64_locator(locator: &[u8]) -> Result<u64, LayoutError> {
    if locator.len() != ZIP64_LOCATOR_SIZE || u32_at(locator, 0) != ZIP64_LOCATOR_SIGNATURE {
        return Err(LayoutError::BadEndRecord(
            "the ZIP64 locator is missing".into(),
        ));
    }
    Ok(u64_at(locator, 8))
}

/// Reads the start of a ZIP64 end record: the central directory's size.
pub fn parse_zip64_end_record(record: &[u8]) -> Result<u64, LayoutError> {
    if record.len() != ZIP64_END_RECORD_SIZE || u32_at(record, 0) != ZIP64_END_RECORD_SIGNATURE {
        return Err(LayoutError::BadEndRecord(
            "the ZIP64 end record is missing".into(),
        ));
    }
    Ok(u64_at(record, 40))
}

impl Trailer {
    /// The trailer's bytes.
    pub fn encode(&self) -> [u8; TRAILER_SIZE] {
        let mut bytes = [0u8; TRAILER_SIZE];
        bytes[0..8].copy_from_slice(&TRAILER_MAGIC);
        bytes[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.archive_start.to_le_bytes());
        bytes[24..32].copy_from_slice(&self.metadata_offset.to_le_bytes());
        bytes[32..40].copy_from_slice(&self.metadata_len.to_le_bytes());
        bytes[40..48].copy_from_slice(&self.file_len.to_le_bytes());
        bytes[48..52].copy_from_slice(&self.checksum.to_le_bytes());
        let own = crc32fast::hash(&bytes);
        bytes[12..16].copy_from_slice(&own.to_le_bytes());
        bytes
    }

    /// Reads trailer bytes, checking magic, version and the trailer's own CRC.
    pub fn decode(bytes: &[u8]) -> Result<Trailer, LayoutError> {
        if bytes.len() != TRAILER_SIZE || bytes[0..8] != TRAILER_MAGIC {
            return Err(LayoutError::NoTrailer);
        }
        let version = u32_at(bytes, 8);
        if version != FORMAT_VERSION {
            return Err(LayoutError::UnknownVersion(version));
        }
        let mut unsummed = [0u8; TRAILER_SIZE];
        unsummed.copy_from_slice(bytes);
        unsummed[12..16].fill(0);
        if crc32fast::hash(&unsummed) != u32_at(bytes, 12) {
            return Err(LayoutError::DamagedTrailer);
        }
        Ok(Trailer {
            archive_start: u64_at(bytes, 16),
            metadata_offset: u64_at(bytes, 24),
            metadata_len: u64_at(bytes, 32),
            file_len: u64_at(bytes, 40),
            checksum: u32_at(bytes, 48),
        })
    }

    /// Checks the recorded places against a file of `file_len` bytes whose trailer
    /// starts at `trailer_start`.
    pub fn check_places(&self, file_len: u64, trailer_start: u64) -> Result<(), LayoutError> {
        if self.file_len != file_len {
            return Err(LayoutError::LengthMismatch {
                expected: self.file_len,
                actual: file_len,
            });
        }
        let metadata_end = self.metadata_offset.checked_add(self.metadata_len);
        if self.metadata_offset < self.archive_start
            || metadata_end.is_none_or(|end| end > trailer_start)
        {
            return Err(LayoutError::BadMetadataPlace);
        }
        Ok(())
    }
}

/// Where the central directory of an in-memory pack starts, and whether the
/// archive has ZIP64 records.
pub fn central_directory_start(pack: &[u8]) -> Result<(usize, bool), LayoutError> {
    let end_start = pack
        .len()
        .checked_sub(END_RECORD_SIZE)
        .ok_or(LayoutError::NoEndRecord)?;
    let outside = || LayoutError::BadEndRecord("it points outside the file".into());
    match parse_end_record(&pack[end_start..])? {
        EndRecord::Plain { directory_size } => Ok((
            end_start
                .checked_sub(directory_size as usize)
                .ok_or_else(outside)?,
            false,
        )),
        EndRecord::Zip64 => {
            let locator_start = end_start
                .checked_sub(ZIP64_LOCATOR_SIZE)
                .ok_or_else(outside)?;
            let record_start = parse_zip64_locator(&pack[locator_start..end_start])? as usize;
            let record = pack
                .get(record_start..record_start + ZIP64_END_RECORD_SIZE)
                .ok_or_else(outside)?;
            let size = parse_zip64_end_record(record)? as usize;
            Ok((record_start.checked_sub(size).ok_or_else(outside)?, true))
        }
    }
}

/// The writer's side: given a launcher followed by a zip whose offsets count from
/// the start of the file, puts the trailer right before the central directory,
/// moves the recorded directory offsets past it and records the checksum.
pub fn seal(
    pack: &mut Vec<u8>,
    archive_start: u64,
    metadata_offset: u64,
    metadata_len: u64,
) -> Result<(), LayoutError> {
    let (directory_start, zip64) = central_directory_start(pack)?;
    if archive_start > directory_start as u64 {
        return Err(LayoutError::BadEndRecord(
            "the archive starts after its central directory".into(),
        ));
    }
    let shift = TRAILER_SIZE as u64;
    pack.splice(directory_start..directory_start, [0u8; TRAILER_SIZE]);
    let end_start = pack.len() - END_RECORD_SIZE;
    add_u32(pack, end_start + 16, shift);
    if zip64 {
        let locator_start = end_start - ZIP64_LOCATOR_SIZE;
        add_u64(pack, locator_start + 8, shift);
        let record_start = parse_zip64_locator(&pack[locator_start..end_start])? as usize;
        add_u64(pack, record_start + 48, shift);
    }
    let trailer = Trailer {
        archive_start,
        metadata_offset,
        metadata_len,
        file_len: pack.len() as u64,
        checksum: 0,
    };
    let checksum = {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&pack[archive_start as usize..directory_start]);
        hasher.update(&pack[directory_start + TRAILER_SIZE..]);
        hasher.finalize()
    };
    let trailer = Trailer {
        checksum,
        ..trailer
    };
    pack[directory_start..directory_start + TRAILER_SIZE].copy_from_slice(&trailer.encode());
    Ok(())
}

/// Adds to a little-endian u32 field unless it holds the ZIP64 marker.
fn add_u32(bytes: &mut [u8], at: usize, amount: u64) {
    let value = u32_at(bytes, at);
    if value != u32::MAX {
        let moved = u32::try_from(u64::from(value) + amount).unwrap_or(u32::MAX);
        bytes[at..at + 4].copy_from_slice(&moved.to_le_bytes());
    }
}

fn add_u64(bytes: &mut [u8], at: usize, amount: u64) {
    let moved = u64_at(bytes, at) + amount;
    bytes[at..at + 8].copy_from_slice(&moved.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Trailer {
        Trailer {
            archive_start: 400_000,
            metadata_offset: 400_100,
            metadata_len: 321,
            file_len: 900_000,
            checksum: 0xdead_beef,
        }
    }

    #[test]
    fn trailers_round_trip_and_damage_is_caught() {
        let bytes = sample().encode();
        assert_eq!(Trailer::decode(&bytes), Ok(sample()));
        let mut flipped = bytes;
        flipped[30] ^= 1;
        assert_eq!(Trailer::decode(&flipped), Err(LayoutError::DamagedTrailer));
        let mut other_version = bytes;
        other_version[8] = 9;
        assert_eq!(
            Trailer::decode(&other_version),
            Err(LayoutError::UnknownVersion(9))
        );
        assert_eq!(
            Trailer::decode(&[0; TRAILER_SIZE]),
            Err(LayoutError::NoTrailer)
        );
    }

    #[test]
    fn places_are_checked() {
        let trailer = sample();
        assert_eq!(trailer.check_places(900_000, 800_000), Ok(()));
        assert_eq!(
            trailer.check_places(899_999, 800_000),
            Err(LayoutError::LengthMismatch {
                expected: 900_000,
                actual: 899_999
            })
        );
        assert_eq!(
            trailer.check_places(900_000, 400_200),
            Err(LayoutError::BadMetadataPlace)
        );
    }

    #[test]
    fn end_records_are_read() {
        let mut record = [0u8; END_RECORD_SIZE];
        record[0..4].copy_from_slice(&END_RECORD_SIGNATURE.to_le_bytes());
        record[10..12].copy_from_slice(&3u16.to_le_bytes());
        record[12..16].copy_from_slice(&150u32.to_le_bytes());
        assert_eq!(
            parse_end_record(&record),
            Ok(EndRecord::Plain {
                directory_size: 150
            })
        );
        record[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse_end_record(&record), Ok(EndRecord::Zip64));
        record[20] = 1;
        assert_eq!(parse_end_record(&record), Err(LayoutError::NoEndRecord));
        assert_eq!(parse_end_record(b"short"), Err(LayoutError::NoEndRecord));
    }
}
