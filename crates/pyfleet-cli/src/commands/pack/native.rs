//! Native extensions: which top-level names of the app hold shared libraries
//! (`zipimport` cannot load those), and the content hash that names their
//! directory in the cache.

use std::collections::BTreeSet;
use std::path::Path;

use super::PackError;

/// The top-level names to extract, and their content key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeSet {
    /// Packages, modules and `*.libs` folders holding native code.
    pub top_level: Vec<String>,
    /// FNV-1a 64 of everything that decides the extracted files, as hex.
    pub key: String,
}

/// True for a shared library or extension module.
fn is_native(name: &str) -> bool {
    name.ends_with(".so")
        || name.ends_with(".pyd")
        || name.ends_with(".dylib")
        || name.contains(".so.")
}

/// Finds the native top-level names among `files` (archive paths with their disk
/// paths, before compilation) and hashes their contents with `salt` (the target
/// interpreter and compile settings, which decide the bytecode extracted with them).
pub fn find(
    files: &[(String, std::path::PathBuf)],
    salt: &str,
) -> Result<Option<NativeSet>, PackError> {
    let top_level: BTreeSet<String> = files
        .iter()
        .filter(|(name, _)| is_native(name))
        .map(|(name, _)| name.split('/').next().unwrap_or_default().to_string())
        .collect();
    if top_level.is_empty() {
        return Ok(None);
    }
    let mut hash = Fnv::new().field(salt.as_bytes());
    for (name, path) in files {
        if top_level.contains(name.split('/').next().unwrap_or_default()) {
            hash = hash.field(name.as_bytes()).field(&read(path)?);
        }
    }
    Ok(Some(NativeSet {
        top_level: top_level.into_iter().collect(),
        key: hash.hex(),
    }))
}

fn read(path: &Path) -> Result<Vec<u8>, PackError> {
    std::fs::read(path).map_err(|error| PackError::io(format!("{}: {error}", path.display())))
}

/// 64-bit FNV-1a with field separators: stable across builds (it names cache
/// directories); not a defence against collisions made on purpose.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn field(mut self, bytes: &[u8]) -> Fnv {
        for &byte in bytes.iter().chain(&[0xff]) {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_packages_are_found_and_keyed_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: &str| {
            let path = dir.path().join(name.replace('/', "_"));
            std::fs::write(&path, body).unwrap();
            (name.to_string(), path)
        };
        let files = vec![
            write("app/__init__.py", ""),
            write("fast/__init__.py", "from ._speed import f\n"),
            write("fast/_speed.cpython-311-x86_64-linux-gnu.so", "ELF"),
            write("fast.libs/libz-1.so.1.2", "ELF"),
        ];
        let set = find(&files, "cpython 3.11").unwrap().unwrap();
        assert_eq!(set.top_level, ["fast", "fast.libs"]);
        assert_eq!(set.key.len(), 16);
        let other_salt = find(&files, "cpython 3.12").unwrap().unwrap();
        assert_ne!(set.key, other_salt.key);
        assert!(find(&files[..1], "x").unwrap().is_none());
    }
}
