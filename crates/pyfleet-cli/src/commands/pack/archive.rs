//! Writing the pack: the launcher, then a zip of the staged files in a fixed order
//! with fixed dates and modes, then the trailer slipped in before the zip's central
//! directory (see `pyfleet_stub::layout`). Same inputs, same bytes.

use std::io::{Cursor, Seek, SeekFrom, Write};
use std::path::PathBuf;

use pyfleet_stub::layout::{METADATA_ENTRY, central_directory_start, seal};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::{Compression, PackError};

/// One file of the archive.
#[derive(Debug, Clone)]
pub struct ArchiveFile {
    /// Its path in the archive ('/'-separated).
    pub name: String,
    /// Where its content is.
    pub source: PathBuf,
}

/// What goes into the archive besides the launcher.
#[derive(Debug, Clone)]
pub struct ArchiveInput {
    /// The files.
    pub files: Vec<ArchiveFile>,
    /// The metadata JSON.
    pub metadata_json: String,
    /// How entries are compressed.
    pub compression: Compression,
    /// ZIP64 may be used (only Python 3.13's zipimport reads it).
    pub allow_zip64: bool,
}

fn zip_error(error: zip::result::ZipError) -> PackError {
    PackError::io(format!("writing the archive: {error}"))
}

/// Every directory above `names`, as zip directory entries ("a/", "a/b/"): Python
/// 3.x finds namespace packages in a zip only through them.
fn directories(names: &[&str]) -> Vec<String> {
    let mut directories: Vec<String> = names
        .iter()
        .flat_map(|name| {
            name.match_indices('/')
                .map(|(at, _)| name[..=at].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    directories.sort();
    directories.dedup();
    directories
}

fn method_for(name: &str, compression: Compression) -> CompressionMethod {
    let always_stored = name == METADATA_ENTRY;
    match compression {
        _ if always_stored => CompressionMethod::Stored,
        Compression::Stored => CompressionMethod::Stored,
        Compression::Deflated => CompressionMethod::Deflated,
        Compression::Auto if name.ends_with(".pyc") || name.ends_with(".pyo") => {
            CompressionMethod::Stored
        }
        Compression::Auto => CompressionMethod::Deflated,
    }
}

/// The complete pack file: `stub`, the archive, the trailer.
pub fn write_pack(stub: &[u8], input: &ArchiveInput) -> Result<Vec<u8>, PackError> {
    let mut contents: Vec<(String, Vec<u8>)> = Vec::with_capacity(input.files.len() + 1);
    for file in &input.files {
        let bytes = std::fs::read(&file.source)
            .map_err(|error| PackError::io(format!("{}: {error}", file.source.display())))?;
        contents.push((file.name.clone(), bytes));
    }
    contents.push((
        METADATA_ENTRY.to_string(),
        input.metadata_json.clone().into_bytes(),
    ));
    contents.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let names: Vec<&str> = contents.iter().map(|(name, _)| name.as_str()).collect();
    let mut entries: Vec<(String, Option<&[u8]>)> = directories(&names)
        .into_iter()
        .map(|dir| (dir, None))
        .chain(
            contents
                .iter()
                .map(|(name, bytes)| (name.clone(), Some(bytes.as_slice()))),
        )
        .collect();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let mut cursor = Cursor::new(stub.to_vec());
    cursor
        .seek(SeekFrom::End(0))
        .map_err(|error| PackError::io(error.to_string()))?;
    // Entries start after the launcher, so their offsets count from the start of
    // the file, as in a self-extracting archive.
    let mut zip = ZipWriter::new(cursor);
    let fixed = SimpleFileOptions::default().last_modified_time(DateTime::default());
    for (name, bytes) in &entries {
        match bytes {
            None => zip
                .add_directory(name.as_str(), fixed.unix_permissions(0o755))
                .map_err(zip_error)?,
            Some(bytes) => {
                let large = bytes.len() as u64 >= u64::from(u32::MAX);
                if large && !input.allow_zip64 {
                    return Err(zip64_refused(&format!("{name} is 4 GiB or larger")));
                }
                let options = fixed
                    .unix_permissions(0o644)
                    .compression_method(method_for(name, input.compression))
                    .large_file(large);
                zip.start_file(name.as_str(), options).map_err(zip_error)?;
                zip.write_all(bytes)
                    .map_err(|error| PackError::io(format!("writing the archive: {error}")))?;
            }
        }
    }
    let mut pack = zip.finish().map_err(zip_error)?.into_inner();
    let malformed = |error: pyfleet_stub::layout::LayoutError| {
        PackError::io(format!("the written archive is malformed: {error}"))
    };
    let (_, zip64) = central_directory_start(&pack).map_err(malformed)?;
    if zip64 && !input.allow_zip64 {
        return Err(zip64_refused("65535 entries or more"));
    }
    let (metadata_offset, metadata_len) = metadata_place(&pack)?;
    seal(&mut pack, stub.len() as u64, metadata_offset, metadata_len).map_err(malformed)?;
    Ok(pack)
}

fn zip64_refused(why: &str) -> PackError {
    PackError::usage(format!(
        "the archive needs ZIP64 ({why}), which zipimport reads only from Python 3.13 on: pack \
         for Python 3.13 or newer, or leave out what is not needed"
    ))
}

/// Where the stored metadata entry's bytes are in `pack`.
fn metadata_place(pack: &[u8]) -> Result<(u64, u64), PackError> {
    let mut archive = ZipArchive::new(Cursor::new(pack)).map_err(zip_error)?;
    let entry = archive.by_name(METADATA_ENTRY).map_err(zip_error)?;
    let start = entry
        .data_start()
        .ok_or_else(|| PackError::io("the metadata entry has no data offset".to_string()))?;
    Ok((start, entry.size()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn input(dir: &std::path::Path) -> ArchiveInput {
        let mut files = Vec::new();
        for (name, body) in [
            ("app/__init__.py", "x = 1\n"),
            ("app/__init__.pyc", "pyc"),
            ("ns/mod.py", ""),
        ] {
            let path = dir.join(name.replace('/', "_"));
            std::fs::write(&path, body).unwrap();
            files.push(ArchiveFile {
                name: name.to_string(),
                source: path,
            });
        }
        ArchiveInput {
            files,
            metadata_json: "{\"entry\": \"app:main\"}".into(),
            compression: Compression::Auto,
            allow_zip64: false,
        }
    }

    #[test]
    fn packs_are_zips_with_a_trailer_before_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let stub = b"\x7fELF-pretend-launcher".repeat(10);
        let pack = write_pack(&stub, &input(dir.path())).unwrap();
        assert!(pack.starts_with(&stub));
        let mut archive = ZipArchive::new(Cursor::new(&pack)).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|name| name.unwrap().into_owned())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "__pyfleet__/",
                "__pyfleet__/pack.json",
                "app/",
                "app/__init__.py",
                "app/__init__.pyc",
                "ns/",
                "ns/mod.py"
            ]
        );
        assert_eq!(
            archive.by_name("app/__init__.pyc").unwrap().compression(),
            CompressionMethod::Stored
        );
        assert_eq!(
            archive.by_name("app/__init__.py").unwrap().compression(),
            CompressionMethod::Deflated
        );
        let mut text = String::new();
        archive
            .by_name("app/__init__.py")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "x = 1\n");
        // The launcher's reader finds and checks it.
        let file = dir.path().join("app.pack");
        std::fs::write(&file, &pack).unwrap();
        let opened = pyfleet_stub::open::open_pack(&file);
        // The metadata here is not complete, so only the layout can pass.
        assert!(
            matches!(opened, Err(pyfleet_stub::open::OpenError::Metadata(_))),
            "{opened:?}"
        );
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let one = write_pack(b"stub", &input(dir.path())).unwrap();
        let two = write_pack(b"stub", &input(dir.path())).unwrap();
        assert_eq!(one, two);
    }

    #[test]
    fn directories_cover_every_level() {
        assert_eq!(directories(&["a/b/c.py", "a/d.py", "e.py"]), ["a/", "a/b/"]);
    }
}
