//! Remembering discoveries: in memory per host, and on disk for this machine.
//!
//! A local discovery is reused while (a) the probe's inputs are the same (shell,
//! script with its explicit paths and options, curated environment, working
//! directory: the fingerprint), and (b) no path it depended on changed: every
//! candidate's path and real binary, every directory searched, pyenv's version
//! files (their stamps: device, inode, size, mtime). A replaced or touched
//! interpreter, a new `python3.14` in a searched directory or a `pyenv global`
//! therefore means a new probe. The disk copy lives in `$XDG_CACHE_HOME/pyfleet`
//! (or `~/.cache/pyfleet`); damaged files are ignored and rewritten.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::cache_file::{self, CacheFile};
use super::error::DiscoveryError;
use super::local::LocalDiscovery;
use super::outcome::Discovery;
use super::report::parse_report;
use super::stamp::{self, Stamped};

/// The host key of this machine.
pub const LOCAL_HOST: &str = "local";

/// Where a discovery handed out by the cache came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOrigin {
    /// A probe ran just now.
    Probe,
    /// Remembered in memory, still valid.
    Memory,
    /// Read from the disk cache, still valid.
    Disk,
}

/// A discovery and where it came from.
#[derive(Debug, Clone)]
pub struct CachedDiscovery {
    /// The discovery.
    pub discovery: Arc<Discovery>,
    /// Fresh, or from which cache.
    pub origin: CacheOrigin,
}

/// How to tell that a local discovery still holds.
#[derive(Debug, Clone)]
struct Validity {
    fingerprint: String,
    stamps: Vec<Stamped>,
}

#[derive(Debug, Clone)]
struct Entry {
    discovery: Arc<Discovery>,
    /// Only for this machine; other hosts' entries are kept until forgotten.
    validity: Option<Validity>,
}

/// Discoveries per host: in memory, and on disk for this machine.
#[derive(Debug)]
pub struct DiscoveryCache {
    disk_dir: Option<PathBuf>,
    memory: Mutex<HashMap<String, Entry>>,
    /// One local probe at a time: concurrent callers wait and share its result.
    local_probe: tokio::sync::Mutex<()>,
}

impl Default for DiscoveryCache {
    fn default() -> DiscoveryCache {
        DiscoveryCache::new()
    }
}

impl DiscoveryCache {
    /// A cache in memory and in the default disk directory
    /// ([`DiscoveryCache::default_disk_dir`]).
    pub fn new() -> DiscoveryCache {
        DiscoveryCache::with_disk(DiscoveryCache::default_disk_dir())
    }

    /// A cache in memory and in `dir` on disk.
    pub fn with_disk_dir(dir: impl Into<PathBuf>) -> DiscoveryCache {
        DiscoveryCache::with_disk(Some(dir.into()))
    }

    /// A cache in memory only.
    pub fn memory_only() -> DiscoveryCache {
        DiscoveryCache::with_disk(None)
    }

    fn with_disk(disk_dir: Option<PathBuf>) -> DiscoveryCache {
        DiscoveryCache {
            disk_dir,
            memory: Mutex::new(HashMap::new()),
            local_probe: tokio::sync::Mutex::new(()),
        }
    }

    /// The process-wide cache (memory and default disk directory).
    pub fn global() -> &'static DiscoveryCache {
        static GLOBAL: OnceLock<DiscoveryCache> = OnceLock::new();
        GLOBAL.get_or_init(DiscoveryCache::new)
    }

    /// `$XDG_CACHE_HOME/pyfleet` if that variable holds an absolute path, else
    /// `$HOME/.cache/pyfleet`; `None` without either.
    pub fn default_disk_dir() -> Option<PathBuf> {
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

    /// The disk directory, if this cache has one.
    pub fn disk_dir(&self) -> Option<&Path> {
        self.disk_dir.as_deref()
    }

    /// What is remembered for `host`, as stored (a local entry is revalidated by
    /// [`DiscoveryCache::local`], not here).
    pub fn get(&self, host: &str) -> Option<Arc<Discovery>> {
        self.lock()
            .get(host)
            .map(|entry| Arc::clone(&entry.discovery))
    }

    /// Remembers `discovery` for `host` (a remote host: kept until forgotten).
    pub fn insert(&self, host: &str, discovery: Discovery) -> Arc<Discovery> {
        let discovery = Arc::new(discovery);
        self.lock().insert(
            host.to_string(),
            Entry {
                discovery: Arc::clone(&discovery),
                validity: None,
            },
        );
        discovery
    }

    /// Forgets `host` in memory (the disk copy of this machine stays, and is still
    /// validated before any use).
    pub fn forget(&self, host: &str) {
        self.lock().remove(host);
    }

    /// This machine's discovery for `probe`: from memory or disk while still valid,
    /// else from a new probe (then remembered in both).
    pub async fn local(&self, probe: &LocalDiscovery) -> Result<CachedDiscovery, DiscoveryError> {
        let fingerprint = probe.fingerprint();
        if let Some(hit) = self.valid_memory_entry(&fingerprint).await {
            return Ok(hit);
        }
        let _probing = self.local_probe.lock().await;
        // Whoever held the lock may have just filled the cache.
        if let Some(hit) = self.valid_memory_entry(&fingerprint).await {
            return Ok(hit);
        }
        if let Some(hit) = self.valid_disk_entry(&fingerprint).await {
            return Ok(hit);
        }
        self.probe_and_remember(probe, fingerprint).await
    }

    /// Probes this machine now, whatever is cached, and remembers the result.
    pub async fn refresh_local(
        &self,
        probe: &LocalDiscovery,
    ) -> Result<CachedDiscovery, DiscoveryError> {
        let _probing = self.local_probe.lock().await;
        self.probe_and_remember(probe, probe.fingerprint()).await
    }

    async fn valid_memory_entry(&self, fingerprint: &str) -> Option<CachedDiscovery> {
        let entry = self.lock().get(LOCAL_HOST).cloned()?;
        let validity = entry.validity?;
        if validity.fingerprint != fingerprint {
            return None;
        }
        // Stats can block (a hung network filesystem on PATH): not on this thread.
        let unchanged = tokio::task::spawn_blocking(move || stamp::unchanged(&validity.stamps))
            .await
            .unwrap_or(false);
        unchanged.then_some(CachedDiscovery {
            discovery: entry.discovery,
            origin: CacheOrigin::Memory,
        })
    }

    async fn valid_disk_entry(&self, fingerprint: &str) -> Option<CachedDiscovery> {
        let dir = self.disk_dir.clone()?;
        let wanted = fingerprint.to_string();
        let loaded = tokio::task::spawn_blocking(move || {
            let file = cache_file::load(&dir, &wanted)?;
            if !stamp::unchanged(&file.stamps) {
                return None;
            }
            let discovery = parse_report(&file.report).ok()?;
            Some((discovery, file.stamps))
        })
        .await
        .ok()
        .flatten()?;
        let (discovery, stamps) = loaded;
        let discovery = self.remember_local(
            discovery,
            Validity {
                fingerprint: fingerprint.to_string(),
                stamps,
            },
        );
        Some(CachedDiscovery {
            discovery,
            origin: CacheOrigin::Disk,
        })
    }

    async fn probe_and_remember(
        &self,
        probe: &LocalDiscovery,
        fingerprint: String,
    ) -> Result<CachedDiscovery, DiscoveryError> {
        let report = probe.run_report().await?;
        let discovery = parse_report(&report)?;
        if !discovery.complete {
            // A cut-off probe is not worth remembering.
            return Ok(CachedDiscovery {
                discovery: Arc::new(discovery),
                origin: CacheOrigin::Probe,
            });
        }
        let watched = paths_to_watch(&discovery);
        let disk_dir = self.disk_dir.clone();
        let file_fingerprint = fingerprint.clone();
        let stamps = tokio::task::spawn_blocking(move || {
            let stamps = stamp::stamp_all(&watched);
            if let Some(dir) = disk_dir {
                let file = CacheFile {
                    fingerprint: file_fingerprint,
                    stamps: stamps.clone(),
                    report,
                };
                if let Err(error) = cache_file::store(&dir, &file) {
                    tracing::warn!(
                        dir = %dir.display(),
                        %error,
                        "cannot write the interpreter discovery cache; discovery will run again next time"
                    );
                }
            }
            stamps
        })
        .await
        .map_err(|error| DiscoveryError::ProbeFailed {
            message: format!("recording the discovery failed: {error}"),
        })?;
        let discovery = self.remember_local(
            discovery,
            Validity {
                fingerprint,
                stamps,
            },
        );
        Ok(CachedDiscovery {
            discovery,
            origin: CacheOrigin::Probe,
        })
    }

    fn remember_local(&self, discovery: Discovery, validity: Validity) -> Arc<Discovery> {
        let discovery = Arc::new(discovery);
        self.lock().insert(
            LOCAL_HOST.to_string(),
            Entry {
                discovery: Arc::clone(&discovery),
                validity: Some(validity),
            },
        );
        discovery
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Every path a discovery depends on: the watched paths (directories searched,
/// pyenv version files), each candidate's paths and every shim with its target.
fn paths_to_watch(discovery: &Discovery) -> Vec<PathBuf> {
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
    fn remote_entries_are_kept_until_forgotten() {
        let cache = DiscoveryCache::memory_only();
        assert!(cache.disk_dir().is_none());
        assert!(cache.get("web1").is_none());
        let stored = cache.insert(
            "web1",
            Discovery {
                complete: true,
                ..Discovery::default()
            },
        );
        assert!(Arc::ptr_eq(&stored, &cache.get("web1").unwrap()));
        cache.forget("web1");
        assert!(cache.get("web1").is_none());
    }

    #[test]
    fn default_disk_dir_is_under_the_user_cache() {
        let dir = DiscoveryCache::default_disk_dir().expect("HOME is set in tests");
        assert!(dir.ends_with("pyfleet"), "{}", dir.display());
        assert!(dir.is_absolute());
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
