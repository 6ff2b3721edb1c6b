//! The on-disk form of a cached local discovery: a small line format holding the
//! probe's report as it was printed, so loading reuses the report reader and
//! needs no serialization crate.
//!
//! ```text
//! pyfleet-discovery-cache<TAB>1
//! fingerprint<TAB>HEX                 what the probe depended on besides files
//! stamp<TAB>STAMP<TAB>PATH            one per watched path (PATH is the last field)
//! report
//! ...the probe's report, verbatim...
//! checksum<TAB>HEX                    FNV-1a of everything above this line
//! ```
//!
//! A file that is truncated, edited or from another format version fails its
//! checks and is treated as absent (then rewritten).

use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::fingerprint::Fingerprint;
use super::stamp::Stamped;

const MAGIC: &str = "pyfleet-discovery-cache\t1";
/// How many local cache files (one per distinct fingerprint) are kept.
const MAX_FILES: usize = 32;
/// Cache file names: `local-<fingerprint>.discovery`.
const PREFIX: &str = "local-";
const SUFFIX: &str = ".discovery";

/// What a cache file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CacheFile {
    pub(crate) fingerprint: String,
    pub(crate) stamps: Vec<Stamped>,
    pub(crate) report: String,
}

impl CacheFile {
    /// The file's text.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::with_capacity(self.report.len() + self.stamps.len() * 96 + 128);
        text.push_str(MAGIC);
        text.push('\n');
        text.push_str(&format!("fingerprint\t{}\n", self.fingerprint));
        for (path, stamp) in &self.stamps {
            text.push_str(&format!("stamp\t{stamp}\t{}\n", path.display()));
        }
        text.push_str("report\n");
        text.push_str(&self.report);
        if !self.report.ends_with('\n') {
            text.push('\n');
        }
        let checksum = Fingerprint::new().field(text.as_bytes()).hex();
        text.push_str(&format!("checksum\t{checksum}\n"));
        text
    }

    /// Reads a file's text; `None` if it is damaged or not a cache file.
    pub(crate) fn decode(text: &str) -> Option<CacheFile> {
        let body_end = text.trim_end_matches('\n').rfind('\n')? + 1;
        let (body, trailer) = text.split_at(body_end);
        let checksum = trailer.trim_end_matches('\n').strip_prefix("checksum\t")?;
        if Fingerprint::new().field(body.as_bytes()).hex() != checksum {
            return None;
        }
        let mut rest = body.strip_prefix(MAGIC)?.strip_prefix('\n')?;
        let mut next_line = || {
            let (line, after) = rest.split_once('\n')?;
            rest = after;
            Some(line)
        };
        let fingerprint = next_line()?.strip_prefix("fingerprint\t")?.to_string();
        let mut stamps = Vec::new();
        loop {
            let line = next_line()?;
            if line == "report" {
                break;
            }
            let (stamp, path) = line.strip_prefix("stamp\t")?.split_once('\t')?;
            stamps.push((PathBuf::from(path), stamp.to_string()));
        }
        Some(CacheFile {
            fingerprint,
            stamps,
            report: rest.to_string(),
        })
    }
}

/// The cache file for `fingerprint` in `dir`.
pub(crate) fn path_for(dir: &Path, fingerprint: &str) -> PathBuf {
    dir.join(format!("{PREFIX}{fingerprint}{SUFFIX}"))
}

/// Loads the cache file for `fingerprint`, if present, intact and for it.
pub(crate) fn load(dir: &Path, fingerprint: &str) -> Option<CacheFile> {
    let text = std::fs::read_to_string(path_for(dir, fingerprint)).ok()?;
    let file = CacheFile::decode(&text);
    #[cfg(feature = "tracing")]
    if file.is_none() {
        tracing::debug!(dir = %dir.display(), "ignoring a damaged discovery cache file");
    }
    file.filter(|file| file.fingerprint == fingerprint)
}

/// Writes `file` atomically (a temporary file renamed over the old one, so a
/// reader sees the old or the new file, never half of one), then trims old files.
pub(crate) fn store(dir: &Path, file: &CacheFile) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let target = path_for(dir, &file.fingerprint);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let temporary = dir.join(format!(
        ".{PREFIX}{}.{}.{nanos}.tmp",
        file.fingerprint,
        std::process::id()
    ));
    let written = std::fs::File::create(&temporary)
        .and_then(|mut out| out.write_all(file.encode().as_bytes()))
        .and_then(|()| std::fs::rename(&temporary, &target));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written?;
    trim(dir, &target);
    Ok(())
}

/// Keeps the newest [`MAX_FILES`] cache files (each working directory or
/// environment has its own fingerprint, so they accumulate), and always `keep`.
fn trim(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with(PREFIX) && name.ends_with(SUFFIX)
        })
        .filter(|entry| entry.path() != keep)
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .collect();
    // `keep` is one of the MAX_FILES.
    let room = MAX_FILES - 1;
    if files.len() <= room {
        return;
    }
    files.sort();
    for (_, path) in &files[..files.len() - room] {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CacheFile {
        CacheFile {
            fingerprint: "0123456789abcdef".into(),
            stamps: vec![
                ("/usr/bin".into(), "1:2:3:4.000000005".into()),
                ("/odd dir/with\ttab".into(), "missing".into()),
            ],
            report: "#pyfleet-discovery\t1\t5\nD\t/usr/bin\n#end\n".into(),
        }
    }

    #[test]
    fn round_trips() {
        let file = sample();
        assert_eq!(CacheFile::decode(&file.encode()), Some(file));
    }

    #[test]
    fn damage_is_detected() {
        let text = sample().encode();
        assert!(CacheFile::decode(&text[..text.len() / 2]).is_none());
        assert!(CacheFile::decode(&text.replace("/usr/bin\n", "/usr/sbin\n")).is_none());
        assert!(CacheFile::decode("").is_none());
        assert!(CacheFile::decode("\n\n\n").is_none());
        assert!(CacheFile::decode("garbage\u{0}\u{1}").is_none());
        let other_version = text.replacen("cache\t1", "cache\t2", 1);
        assert!(CacheFile::decode(&other_version).is_none());
    }

    #[test]
    fn store_is_atomic_and_trims_old_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("nested/pyfleet");
        for n in 0..(MAX_FILES + 3) {
            let mut file = sample();
            file.fingerprint = format!("{n:016x}");
            store(&cache_dir, &file).unwrap();
            assert_eq!(load(&cache_dir, &file.fingerprint), Some(file));
        }
        let names: Vec<String> = std::fs::read_dir(&cache_dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), MAX_FILES, "{names:?}");
        assert!(names.iter().all(|name| !name.ends_with(".tmp")));
        assert!(load(&cache_dir, "no-such-fingerprint").is_none());
    }
}
