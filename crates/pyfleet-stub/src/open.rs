//! Opening a pack: find the trailer from the end of the file, check that every
//! byte is as written, read the metadata. Nothing of the archive runs before this
//! has passed.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::layout::{
    END_RECORD_SIZE, EndRecord, LayoutError, TRAILER_SIZE, Trailer, ZIP64_END_RECORD_SIZE,
    ZIP64_LOCATOR_SIZE, parse_end_record, parse_zip64_end_record, parse_zip64_locator,
};
use crate::metadata::PackMetadata;

/// Bytes read per step while checking the contents: small, so the buffer costs few
/// page faults (the whole check is a fraction of a millisecond).
const CHUNK: usize = 64 << 10;

/// A pack whose contents match their checksum.
#[derive(Debug, Clone)]
pub struct OpenedPack {
    /// The file that was checked.
    pub path: PathBuf,
    /// Its trailer.
    pub trailer: Trailer,
    /// Its metadata.
    pub metadata: PackMetadata,
}

/// Why a file cannot be run as a pack.
#[derive(Debug)]
pub enum OpenError {
    /// It could not be read.
    Io(std::io::Error),
    /// Its layout or checksum is wrong.
    Layout(LayoutError),
    /// Its metadata is unreadable.
    Metadata(String),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Io(error) => write!(f, "it cannot be read: {error}"),
            OpenError::Layout(error) => error.fmt(f),
            OpenError::Metadata(error) => write!(f, "its metadata is unreadable: {error}"),
        }
    }
}

impl From<LayoutError> for OpenError {
    fn from(error: LayoutError) -> OpenError {
        OpenError::Layout(error)
    }
}

impl From<std::io::Error> for OpenError {
    fn from(error: std::io::Error) -> OpenError {
        OpenError::Io(error)
    }
}

fn read_exact_at(file: &File, len: usize, offset: u64) -> Result<Vec<u8>, OpenError> {
    let mut bytes = vec![0; len];
    file.read_exact_at(&mut bytes, offset)?;
    Ok(bytes)
}

/// Where the trailer starts: just before the central directory, found from the
/// end record (and the ZIP64 records when there are any).
fn trailer_start(file: &File, file_len: u64) -> Result<u64, OpenError> {
    let too_short = || OpenError::Layout(LayoutError::NoEndRecord);
    let end_start = file_len
        .checked_sub(END_RECORD_SIZE as u64)
        .ok_or_else(too_short)?;
    let end = read_exact_at(file, END_RECORD_SIZE, end_start)?;
    let (directory_size, directory_end) = match parse_end_record(&end)? {
        EndRecord::Plain { directory_size } => (directory_size, end_start),
        EndRecord::Zip64 => {
            let locator_start = end_start
                .checked_sub(ZIP64_LOCATOR_SIZE as u64)
                .ok_or_else(too_short)?;
            let record_start =
                parse_zip64_locator(&read_exact_at(file, ZIP64_LOCATOR_SIZE, locator_start)?)?;
            if record_start > locator_start {
                return Err(LayoutError::BadEndRecord(
                    "the ZIP64 locator points past itself".into(),
                )
                .into());
            }
            let record = read_exact_at(file, ZIP64_END_RECORD_SIZE, record_start)?;
            (parse_zip64_end_record(&record)?, record_start)
        }
    };
    directory_end
        .checked_sub(directory_size)
        .and_then(|start| start.checked_sub(TRAILER_SIZE as u64))
        .ok_or_else(|| {
            LayoutError::BadEndRecord("the central directory is larger than the file".into()).into()
        })
}

/// CRC-32 of `file` from `start` to `len`, leaving out the trailer at `skip`.
fn checksum(file: &mut File, start: u64, len: u64, skip: u64) -> Result<u32, OpenError> {
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = vec![0; CHUNK];
    file.seek(SeekFrom::Start(start))?;
    let mut position = start;
    let skip_end = skip + TRAILER_SIZE as u64;
    while position < len {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Err(LayoutError::LengthMismatch {
                expected: len,
                actual: position,
            }
            .into());
        }
        let chunk = &buffer[..read];
        let chunk_start = position;
        position += read as u64;
        // The parts of this chunk before and after the trailer.
        let before = skip.saturating_sub(chunk_start).min(read as u64) as usize;
        let after = skip_end.saturating_sub(chunk_start).min(read as u64) as usize;
        hasher.update(&chunk[..before]);
        hasher.update(&chunk[after..]);
    }
    Ok(hasher.finalize())
}

/// Opens the pack at `path`: layout, length and checksum checked, metadata read.
pub fn open_pack(path: &Path) -> Result<OpenedPack, OpenError> {
    let mut file = File::open(path)?;
    let file_len = file.metadata()?.len();
    let start = trailer_start(&file, file_len)?;
    let trailer = Trailer::decode(&read_exact_at(&file, TRAILER_SIZE, start)?)?;
    trailer.check_places(file_len, start)?;
    if checksum(&mut file, trailer.archive_start, file_len, start)? != trailer.checksum {
        return Err(LayoutError::ChecksumMismatch.into());
    }
    let metadata_len = usize::try_from(trailer.metadata_len)
        .map_err(|_| OpenError::Layout(LayoutError::BadMetadataPlace))?;
    let metadata = read_exact_at(&file, metadata_len, trailer.metadata_offset)?;
    let metadata = PackMetadata::from_json(&metadata).map_err(OpenError::Metadata)?;
    Ok(OpenedPack {
        path: path.to_path_buf(),
        trailer,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn streaming_checksum_skips_exactly_the_trailer() {
        let mut data: Vec<u8> = (0..(3 * CHUNK + 77)).map(|i| (i * 7 % 251) as u8).collect();
        for skip in [
            0,
            5,
            CHUNK - 10,
            CHUNK,
            2 * CHUNK + 3,
            data.len() - TRAILER_SIZE,
        ] {
            data[skip..skip + TRAILER_SIZE].fill(0xAA);
            let mut file = tempfile::tempfile().unwrap();
            file.write_all(&data).unwrap();
            let streamed = checksum(&mut file, 3, data.len() as u64, skip.max(3) as u64).unwrap();
            let skip = skip.max(3);
            let mut whole = crc32fast::Hasher::new();
            whole.update(&data[3..skip]);
            whole.update(&data[skip + TRAILER_SIZE..]);
            assert_eq!(streamed, whole.finalize(), "skip {skip}");
        }
    }

    #[test]
    fn non_packs_are_refused_with_a_reason() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"#!/bin/sh\necho not a pack\n").unwrap();
        let error = open_pack(file.path()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("does not end with a zip archive"),
            "{error}"
        );
        let empty = tempfile::NamedTempFile::new().unwrap();
        assert!(matches!(
            open_pack(empty.path()),
            Err(OpenError::Layout(LayoutError::NoEndRecord))
        ));
    }
}
