//! `pyfleet pack --inspect APP`: what a pack holds and how it will start.

use std::fmt::Write as _;
use std::io::{Cursor, Write as _};
use std::path::Path;

use pyfleet_stub::open::open_pack;
use zip::{CompressionMethod, ZipArchive};

use crate::{EXIT_CONTEXT_FAILED, EXIT_USAGE};

/// Prints the pack's metadata and its entries.
pub fn run(app: &Path) -> u8 {
    let pack = match open_pack(app) {
        Ok(pack) => pack,
        Err(error) => {
            eprintln!(
                "pyfleet pack: {} is not an intact pack: {error}",
                app.display()
            );
            return EXIT_USAGE;
        }
    };
    let bytes = match std::fs::read(app) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("pyfleet pack: {}: {error}", app.display());
            return EXIT_CONTEXT_FAILED;
        }
    };
    let mut archive = match ZipArchive::new(Cursor::new(&bytes)) {
        Ok(archive) => archive,
        Err(error) => {
            eprintln!("pyfleet pack: {}: {error}", app.display());
            return EXIT_USAGE;
        }
    };
    let metadata = &pack.metadata;
    let mut out = String::new();
    let _ = writeln!(out, "pack:        {}", app.display());
    let _ = writeln!(out, "made by:     {}", metadata.made_by);
    let _ = writeln!(out, "entry:       {}", metadata.entry);
    let _ = writeln!(out, "python:      {}", metadata.python);
    // Writing to a String cannot fail.
    let _ = match &metadata.bytecode {
        Some(bytecode) => writeln!(
            out,
            "bytecode:    {} {}.{} ({}){}",
            bytecode.implementation,
            bytecode.major,
            bytecode.minor,
            bytecode.cache_tag,
            if bytecode.sourceless {
                ", without sources"
            } else {
                ", beside the sources"
            }
        ),
        None => writeln!(out, "bytecode:    none"),
    };
    let _ = match &metadata.native {
        Some(native) => writeln!(
            out,
            "native:      {} (extracted to a cache directory named {})",
            native.top_level.join(", "),
            native.key
        ),
        None => writeln!(out, "native:      none"),
    };
    let _ = writeln!(
        out,
        "launcher:    {} bytes; archive: {} entries, {} bytes",
        pack.trailer.archive_start,
        archive.len(),
        pack.trailer.file_len - pack.trailer.archive_start
    );
    let _ = writeln!(out, "startup:");
    let startup = serde_json::to_string_pretty(&metadata.startup).unwrap_or_default();
    for line in startup.lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "entries:");
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(index) else {
            continue;
        };
        let method = match entry.compression() {
            CompressionMethod::Stored => "stored",
            CompressionMethod::Deflated => "deflated",
            _ => "other",
        };
        let _ = writeln!(
            out,
            "  {:>9} {:>9} {method:<8} {}",
            entry.size(),
            entry.compressed_size(),
            entry.name().unwrap_or_default()
        );
    }
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = std::io::stdout().write_all(out.as_bytes());
    0
}
