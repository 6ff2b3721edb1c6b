//! What a pack records about itself: its entry point, which interpreters may run
//! it, how to start them, which bytecode it carries and its native extensions.
//! Stored as the zip entry `__pyfleet__/pack.json` (readable by any zip tool).

use pyfleet_startup::{Implementation, StartupConfig};
use serde::{Deserialize, Serialize};

/// The metadata of a pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackMetadata {
    /// `MODULE:FUNCTION`, called with no arguments; its return value is the exit
    /// status (as for a console script).
    pub entry: String,
    /// Which interpreters may run the pack: a version constraint such as
    /// `cpython==3.11` or `>=3.8` (`pyfleet interpreters` explains the syntax).
    pub python: String,
    /// How the interpreter is started, lowered for it at every run.
    pub startup: StartupConfig,
    /// The bytecode in the archive, if any: preferred when choosing an interpreter.
    pub bytecode: Option<Bytecode>,
    /// Packages extracted to a cache directory before they are imported, if any.
    pub native: Option<NativeExtensions>,
    /// The pyfleet version that made the pack.
    pub made_by: String,
}

/// Which interpreter the archive's compiled modules are for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bytecode {
    /// "cpython" or "pypy".
    pub implementation: String,
    /// Language version, major.
    pub major: u32,
    /// Language version, minor.
    pub minor: u32,
    /// `sys.implementation.cache_tag`, e.g. "cpython-311".
    pub cache_tag: String,
    /// True when modules are compiled only (Python before 3.7 validates bytecode
    /// beside a source by a timestamp that depends on the local time zone, so such
    /// packs carry no sources and run only on that version).
    pub sourceless: bool,
}

impl Bytecode {
    /// The implementation, if it is one pyfleet knows.
    pub fn implementation(&self) -> Option<Implementation> {
        Implementation::from_name(&self.implementation)
    }
}

/// Top-level packages with native code: they are written to a directory once and
/// imported from there, since `zipimport` cannot load shared libraries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeExtensions {
    /// Content hash of everything extracted: the directory's name in the cache.
    pub key: String,
    /// The top-level names extracted (packages, modules, `*.libs` folders).
    pub top_level: Vec<String>,
}

impl PackMetadata {
    /// Reads the metadata JSON.
    pub fn from_json(bytes: &[u8]) -> Result<PackMetadata, String> {
        serde_json::from_slice(bytes).map_err(|error| error.to_string())
    }

    /// The metadata as JSON, fields in a fixed order (part of a reproducible pack).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("metadata always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips() {
        let metadata = PackMetadata {
            entry: "app.cli:main".into(),
            python: "cpython==3.11".into(),
            startup: StartupConfig::system(),
            bytecode: Some(Bytecode {
                implementation: "cpython".into(),
                major: 3,
                minor: 11,
                cache_tag: "cpython-311".into(),
                sourceless: false,
            }),
            native: Some(NativeExtensions {
                key: "0123456789abcdef".into(),
                top_level: vec!["markupsafe".into()],
            }),
            made_by: "pyfleet 0.1.0".into(),
        };
        let json = metadata.to_json();
        assert_eq!(PackMetadata::from_json(json.as_bytes()), Ok(metadata));
        assert!(PackMetadata::from_json(b"{").is_err());
    }
}
