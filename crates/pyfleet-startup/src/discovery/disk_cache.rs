//! Remembering this machine's discovery on disk, blocking: what both pyfleet's
//! async `DiscoveryCache` and the synchronous pack launcher build on.
//!
//! A local discovery is reused while (a) the probe's inputs are the same (shell,
//! script with its explicit paths and options, curated environment, working
//! directory: the fingerprint), and (b) no path it depended on changed: every
//! candidate's path and real binary, every directory searched, pyenv's version
//! files (their stamps: device, inode, size, mtime). A replaced or touched
//! interpreter, a new `python3.14` in a searched directory or a `pyenv global`
//! therefore means a new probe. Files live in `$XDG_CACHE_HOME/pyfleet` (or
//! `~/.cache/pyfleet`); damaged files are ignored and rewritten.

use std::path::{Path, PathBuf};

use super::cache_file::{self, CacheFile};
use super::error::DiscoveryError;
use super::local::LocalDiscovery;
use super::outcome::Discovery;
use super::report::parse_report;
use super::stamp::{self, Stamped};

/// Where a discovery handed out by a cache came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOrigin {
    /// A probe ran just now.
    Probe,
    /// Remembered in memory, still valid.
    Memory,
    /// Read from the disk cache, still valid.
    Disk,
}

/// What a local discovery depended on, to tell later whether it still holds.
#[derive(Debug, Clone)]
pub struct Validity {
    fingerprint: String,
    stamps: Vec<Stamped>,
}

impl Validity {
    /// True if the discovery was made for a probe with this fingerprint and no path
    /// it depended on has changed since. Blocking: it stats every path.
    pub fn holds_for(&self, fingerprint: &str) -> bool {
        self.fingerprint == fingerprint && stamp::unchanged(&self.stamps)
    }
}

/// `$XDG_CACHE_HOME/pyfleet` if that variable holds an absolute path, else
/// `$HOME/.cache/pyfleet`; `None` without either.
pub fn default_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|home| home.is_absolute())
            .map(|home| home.join(".cache"))
    })?;
    Some(base.join("pyfleet"))
}

/// The discovery stored in `dir` for a probe with `fingerprint`, if the file is
/// intact and nothing the discovery depended on has changed. Blocking.
pub fn load(dir: &Path, fingerprint: &str) -> Option<(Discovery, Validity)> {
    let file = cache_file::load(dir, fingerprint)?;
    if !stamp::unchanged(&file.stamps) {
        return None;
    }
    let discovery = parse_report(&file.report).ok()?;
    Some((
        discovery,
        Validity {
            fingerprint: fingerprint.to_string(),
            stamps: file.stamps,
        },
    ))
}

/// Stamps every path `discovery` depended on and, with a `dir`, stores the probe's
/// `report` there. Blocking. Returns how to check the discovery later, and the
/// error if the file could not be written (the discovery is still good).
pub fn record(
    dir: Option<&Path>,
    fingerprint: String,
    report: String,
    discovery: &Discovery,
) -> (Validity, Option<std::io::Error>) {
    let stamps = stamp::stamp_all(&paths_to_watch(discovery));
    let error = dir.and_then(|dir| {
        let file = CacheFile {
            fingerprint: fingerprint.clone(),
            stamps: stamps.clone(),
            report,
        };
        cache_file::store(dir, &file).err()
    });
    (
        Validity {
            fingerprint,
            stamps,
        },
        error,
    )
}

/// This machine's discovery for `probe`: from the files in `dir` while still
/// valid, else from a new probe (then stored there, when it ran to its end).
/// Blocking, bounded by the probe's own time bound; a cache that cannot be written
/// only means the next call probes again.
pub fn local_blocking(
    dir: Option<&Path>,
    probe: &LocalDiscovery,
) -> Result<(Discovery, CacheOrigin), DiscoveryError> {
    let fingerprint = probe.fingerprint();
    if let Some((discovery, _)) = dir.and_then(|dir| load(dir, &fingerprint)) {
        return Ok((discovery, CacheOrigin::Disk));
    }
    let report = probe.run_report_blocking()?;
    let discovery = parse_report(&report)?;
    if discovery.complete {
        // A cut-off probe is not worth remembering.
        let _ = record(dir, fingerprint, report, &discovery);
    }
    Ok((discovery, CacheOrigin::Probe))
}

/// Every path a discovery depends on: the watched paths (directories searched,
/// pyenv version files), each candidate's paths and every shim with its target.
pub fn paths_to_watch(discovery: &Discovery) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = discovery.watched.clone();
    let mut push = |path: &Path| {
        if !paths.iter().any(|known| known == path) {
            paths.push(path.to_path_buf());
        }
    };
    for interpreter in &discovery.interpreters {
        push(&interpreter.path);
        push(&interpreter.real_path);
        for found in &interpreter.also_found {
            push(&found.path);
        }
    }
    for skipped in &discovery.skipped {
        push(&skipped.path);
    }
    for shim in &discovery.shims {
        push(&shim.shim);
        if let Some(target) = &shim.target {
            push(target);
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_dir_is_under_the_user_cache() {
        let dir = default_dir().expect("HOME is set in tests");
        assert!(dir.ends_with("pyfleet"), "{}", dir.display());
        assert!(dir.is_absolute());
    }

    #[test]
    fn a_record_loads_back_while_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        let python = dir.path().join("python3");
        std::fs::write(&python, "#!/bin/sh\n").unwrap();
        let report = format!(
            "#pyfleet-discovery\t1\t5\nD\t{dir}\nC\tpath\t{py}\t{py}\t{py}\t\n\
             R\t{py}\t0\tPYFLEET1\tcpython\t3.11.2\tfinal\t0\t9223372036854775807\t\tlinux\t\t{py}\t/usr\t/usr\n#end\n",
            dir = dir.path().display(),
            py = python.display()
        );
        let discovery = parse_report(&report).unwrap();
        assert_eq!(discovery.interpreters.len(), 1, "{discovery:?}");
        // Elsewhere: a new file in the watched directory would change its stamp.
        let cache = tempfile::tempdir().unwrap();
        let cache_dir = cache.path().join("pyfleet");
        let (validity, error) = record(Some(&cache_dir), "f1".into(), report.clone(), &discovery);
        assert!(error.is_none());
        assert!(validity.holds_for("f1"));
        assert!(!validity.holds_for("f2"));
        let (loaded, _) = load(&cache_dir, "f1").expect("stored and valid");
        assert_eq!(loaded, discovery);
        std::fs::write(&python, "#!/bin/sh\n# replaced\n").unwrap();
        assert!(
            !validity.holds_for("f1"),
            "a changed interpreter is noticed"
        );
        assert!(load(&cache_dir, "f1").is_none());
    }

    #[test]
    fn watch_list_covers_every_path_once() {
        let text = [
            "#pyfleet-discovery\t1\t5",
            "D\t/usr/bin",
            "D\t/usr/bin",
            "S\t/p/shims/python3\tdefault\tsystem\t/usr/bin/python3",
            "C\tpath\t/usr/bin/python3\t/usr/bin/python3.11\t/usr/bin/python3.11\t",
            "R\t/usr/bin/python3.11\t0\tPYFLEET1\tcpython\t3.11.2\tfinal\t0\t9223372036854775807\t\tlinux\t\t/usr/bin/python3.11\t/usr\t/usr",
            "N\t/gone",
            "#end",
        ]
        .join("\n");
        let discovery = parse_report(&text).unwrap();
        let paths = paths_to_watch(&discovery);
        assert_eq!(
            paths,
            [
                PathBuf::from("/usr/bin"),
                "/usr/bin/python3".into(),
                "/usr/bin/python3.11".into(),
                "/gone".into(),
                "/p/shims/python3".into(),
            ]
        );
    }
}
