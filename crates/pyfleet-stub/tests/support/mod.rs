//! Builds packs for the launcher's tests: the launcher binary, a zip of the given
//! files and the metadata, sealed with the layout's own writer side.
#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use pyfleet_startup::{InheritEnv, StartupConfig};
use pyfleet_stub::layout::{METADATA_ENTRY, seal};
use pyfleet_stub::metadata::PackMetadata;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// The launcher under test.
pub const STUB: &str = env!("CARGO_BIN_EXE_pyfleet-stub");

/// Debian's interpreter, present wherever these tests run.
pub const PYTHON: &str = "/usr/bin/python3.11";

/// Metadata for a pack that runs on CPython 3.11 with the pack default start-up.
pub fn metadata(python: &str) -> PackMetadata {
    PackMetadata {
        entry: "app:main".into(),
        python: python.into(),
        startup: StartupConfig {
            inherit_env: InheritEnv::AllButPython,
            ..StartupConfig::system()
        },
        bytecode: None,
        native: None,
        made_by: "tests".into(),
    }
}

/// Writes a pack of `files` with `metadata` to `path`.
pub fn write_pack(path: &Path, files: &[(&str, &str)], metadata: &PackMetadata) {
    let stub = std::fs::read(STUB).unwrap();
    let mut cursor = Cursor::new(stub.clone());
    cursor.set_position(stub.len() as u64);
    let mut zip = ZipWriter::new(cursor);
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut entries: Vec<(&str, String)> = files.iter().map(|(n, b)| (*n, b.to_string())).collect();
    entries.push((METADATA_ENTRY, metadata.to_json()));
    for (name, body) in entries {
        zip.start_file(name, stored).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    let mut pack = zip.finish().unwrap().into_inner();
    let (offset, len) = {
        let mut archive = ZipArchive::new(Cursor::new(&pack)).unwrap();
        let entry = archive.by_name(METADATA_ENTRY).unwrap();
        (entry.data_start().unwrap(), entry.size())
    };
    seal(&mut pack, stub.len() as u64, offset, len).unwrap();
    std::fs::write(path, &pack).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A pack whose `__main__.py` is `main`, run by [`PYTHON`].
pub fn pack_with_main(dir: &Path, main: &str) -> PathBuf {
    let path = dir.join("app");
    write_pack(&path, &[("__main__.py", main)], &metadata("cpython==3.11"));
    path
}

/// The launcher's command for `pack`, with a private cache and `PYTHON` chosen.
pub fn command(pack: &Path, cache: &Path) -> Command {
    let mut command = Command::new(pack);
    command
        .env("XDG_CACHE_HOME", cache)
        .env("PYFLEET_PACK_PYTHON", PYTHON)
        .env_remove("PYFLEET_PACK_VERBOSE");
    command
}

/// Runs `command` to its end, within a generous bound.
pub fn run(mut command: Command) -> Output {
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(120));
        // Still running after two minutes: a hang, end it so the test fails.
        let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
    });
    let output = child.wait_with_output().unwrap();
    drop(watchdog);
    output
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
