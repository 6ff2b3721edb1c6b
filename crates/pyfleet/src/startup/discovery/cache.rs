//! Remembering discoveries: in memory per host, and on disk for this machine.
//!
//! When a local discovery still holds (same probe inputs, no path it depended on
//! changed) is decided by `pyfleet_startup::discovery::disk_cache`, which also
//! reads and writes the disk copy in `$XDG_CACHE_HOME/pyfleet` (or
//! `~/.cache/pyfleet`). This cache adds memory, one probe at a time per process,
//! and keeps blocking file work off the async threads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use pyfleet_startup::discovery::disk_cache::{self, CacheOrigin, Validity};
use pyfleet_startup::discovery::{Discovery, DiscoveryError, LocalDiscovery, parse_report};

/// The host key of this machine.
pub const LOCAL_HOST: &str = "local";

/// A discovery and where it came from.
#[derive(Debug, Clone)]
pub struct CachedDiscovery {
    /// The discovery.
    pub discovery: Arc<Discovery>,
    /// Fresh, or from which cache.
    pub origin: CacheOrigin,
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
        disk_cache::default_dir()
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
        let wanted = fingerprint.to_string();
        // Stats can block (a hung network filesystem on PATH): not on this thread.
        let holds = tokio::task::spawn_blocking(move || validity.holds_for(&wanted))
            .await
            .unwrap_or(false);
        holds.then_some(CachedDiscovery {
            discovery: entry.discovery,
            origin: CacheOrigin::Memory,
        })
    }

    async fn valid_disk_entry(&self, fingerprint: &str) -> Option<CachedDiscovery> {
        let dir = self.disk_dir.clone()?;
        let wanted = fingerprint.to_string();
        let (discovery, validity) =
            tokio::task::spawn_blocking(move || disk_cache::load(&dir, &wanted))
                .await
                .ok()
                .flatten()?;
        let discovery = self.remember_local(discovery, validity);
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
        let disk_dir = self.disk_dir.clone();
        let (discovery, validity) = tokio::task::spawn_blocking(move || {
            let (validity, error) =
                disk_cache::record(disk_dir.as_deref(), fingerprint, report, &discovery);
            if let (Some(error), Some(dir)) = (error, disk_dir) {
                tracing::warn!(
                    dir = %dir.display(),
                    %error,
                    "cannot write the interpreter discovery cache; discovery will run again next time"
                );
            }
            (discovery, validity)
        })
        .await
        .map_err(|error| DiscoveryError::ProbeFailed {
            message: format!("recording the discovery failed: {error}"),
        })?;
        let discovery = self.remember_local(discovery, validity);
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
}
