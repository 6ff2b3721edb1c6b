//! The discovery cache on this machine: one sh per probe, reuse from disk without
//! probing, invalidation by file stamps, recovery from a damaged file; and the
//! cold and cached wall times.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use pyfleet::startup::discovery::{CacheOrigin, CachedDiscovery, DiscoveryCache, LocalDiscovery};

/// An executable script at `dir/name`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

/// Probes through `cache`, timing it.
async fn lookup(cache: &DiscoveryCache, probe: &LocalDiscovery) -> (CachedDiscovery, Duration) {
    let started = Instant::now();
    let found = cache.local(probe).await.expect("discovery runs");
    (found, started.elapsed())
}

/// A machine-wide search plus one explicit candidate that counts its runs; the
/// probe's shell counts its own starts.
struct Bed {
    _temp: tempfile::TempDir,
    cache_dir: PathBuf,
    shell_starts: PathBuf,
    candidate_runs: PathBuf,
    candidate: PathBuf,
    probe: LocalDiscovery,
}

fn bed() -> Bed {
    let temp = tempfile::tempdir().unwrap();
    let shell_starts = temp.path().join("shell-starts");
    let candidate_runs = temp.path().join("candidate-runs");
    // One line per start, then the real /bin/sh in the same process.
    let shell = script(
        temp.path(),
        "counting-sh",
        &format!(
            "echo start >> '{}'\nexec /bin/sh \"$@\"",
            shell_starts.display()
        ),
    );
    let bin = temp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let candidate = script(
        &bin,
        "python3",
        &format!(
            "echo run >> '{}'\nexec /usr/bin/python3.11 \"$@\"",
            candidate_runs.display()
        ),
    );
    let probe = LocalDiscovery::new()
        .shell(&shell)
        .explicit([candidate.clone()])
        .current_dir(temp.path());
    Bed {
        cache_dir: temp.path().join("cache"),
        _temp: temp,
        shell_starts,
        candidate_runs,
        candidate,
        probe,
    }
}

#[tokio::test]
async fn disk_cache_is_reused_and_invalidated() {
    let bed = bed();

    // Cold: one probe, one sh.
    let cache = DiscoveryCache::with_disk_dir(&bed.cache_dir);
    let (cold, cold_time) = lookup(&cache, &bed.probe).await;
    assert_eq!(cold.origin, CacheOrigin::Probe);
    assert_eq!(lines(&bed.shell_starts), 1, "the whole discovery is one sh");
    assert_eq!(lines(&bed.candidate_runs), 1);
    let mine = cold.discovery.find_path(&bed.candidate).unwrap();
    assert_eq!(mine.target.version.minor, 11);
    assert!(
        cold.discovery.interpreters.len() > 1,
        "the machine was searched too"
    );

    // A new process (a new cache over the same directory): read from disk, no probe.
    let (warm, warm_time) =
        lookup(&DiscoveryCache::with_disk_dir(&bed.cache_dir), &bed.probe).await;
    assert_eq!(warm.origin, CacheOrigin::Disk);
    assert_eq!(lines(&bed.shell_starts), 1, "no probe ran");
    assert_eq!(lines(&bed.candidate_runs), 1);
    assert_eq!(*warm.discovery, *cold.discovery);
    assert!(
        warm_time < cold_time,
        "disk {warm_time:?} vs probe {cold_time:?}"
    );

    // Same cache again: from memory.
    let (hot, hot_time) = lookup(&cache, &bed.probe).await;
    assert_eq!(hot.origin, CacheOrigin::Memory);
    assert_eq!(lines(&bed.shell_starts), 1);
    eprintln!("cold probe {cold_time:?}, from disk {warm_time:?}, from memory {hot_time:?}");

    // The candidate's binary changes (its mtime here): both caches notice.
    std::fs::File::options()
        .write(true)
        .open(&bed.candidate)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(60))
        .unwrap();
    let (again, _) = lookup(&cache, &bed.probe).await;
    assert_eq!(again.origin, CacheOrigin::Probe);
    assert_eq!(lines(&bed.shell_starts), 2);
    assert_eq!(lines(&bed.candidate_runs), 2);
    let (after, _) = lookup(&DiscoveryCache::with_disk_dir(&bed.cache_dir), &bed.probe).await;
    assert_eq!(
        after.origin,
        CacheOrigin::Disk,
        "the new stamps were written"
    );
    assert_eq!(lines(&bed.shell_starts), 2);

    // Another probe input (a different candidate bound): another entry.
    let other = bed.probe.clone().candidate_timeout(Duration::from_secs(7));
    let (other_found, _) = lookup(&cache, &other).await;
    assert_eq!(other_found.origin, CacheOrigin::Probe);
    assert_eq!(lines(&bed.shell_starts), 3);
}

#[tokio::test]
async fn damaged_cache_files_are_ignored_and_rewritten() {
    let bed = bed();
    let (first, _) = lookup(&DiscoveryCache::with_disk_dir(&bed.cache_dir), &bed.probe).await;
    assert_eq!(first.origin, CacheOrigin::Probe);
    let files: Vec<PathBuf> = std::fs::read_dir(&bed.cache_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.starts_with("pyfleet-discovery-cache\t1\n"));

    for damage in [
        text[..text.len() / 2].to_string(),
        text.replacen("python3.11", "python3.12", 1),
        "\u{0}garbage\n".to_string(),
        String::new(),
    ] {
        std::fs::write(&files[0], &damage).unwrap();
        let starts = lines(&bed.shell_starts);
        let (found, _) = lookup(&DiscoveryCache::with_disk_dir(&bed.cache_dir), &bed.probe).await;
        assert_eq!(found.origin, CacheOrigin::Probe, "damage not noticed");
        assert_eq!(lines(&bed.shell_starts), starts + 1);
        let (reread, _) = lookup(&DiscoveryCache::with_disk_dir(&bed.cache_dir), &bed.probe).await;
        assert_eq!(reread.origin, CacheOrigin::Disk, "file not rewritten");
    }
}

#[tokio::test]
async fn concurrent_callers_share_one_probe() {
    let bed = bed();
    let cache = DiscoveryCache::with_disk_dir(&bed.cache_dir);
    let (a, b, c) = tokio::join!(
        cache.local(&bed.probe),
        cache.local(&bed.probe),
        cache.local(&bed.probe)
    );
    let origins = [a.unwrap().origin, b.unwrap().origin, c.unwrap().origin];
    assert_eq!(lines(&bed.shell_starts), 1, "{origins:?}");
    assert_eq!(
        origins
            .iter()
            .filter(|origin| **origin == CacheOrigin::Probe)
            .count(),
        1
    );
}

/// The wall times of a full local discovery: cold, from disk, from memory (median
/// of several runs; printed, and bounded loosely so a regression shows).
#[tokio::test]
async fn measure_cold_and_cached_discovery() {
    let temp = tempfile::tempdir().unwrap();
    let probe = LocalDiscovery::new();
    let mut cold = Vec::new();
    let mut disk = Vec::new();
    let mut memory = Vec::new();
    let mut count = 0;
    for round in 0..5 {
        let dir = temp.path().join(format!("cache-{round}"));
        let cache = DiscoveryCache::with_disk_dir(&dir);
        let (found, time) = lookup(&cache, &probe).await;
        assert_eq!(found.origin, CacheOrigin::Probe);
        count = found.discovery.interpreters.len();
        cold.push(time);
        let (found, time) = lookup(&DiscoveryCache::with_disk_dir(&dir), &probe).await;
        assert_eq!(found.origin, CacheOrigin::Disk);
        disk.push(time);
        let (found, time) = lookup(&cache, &probe).await;
        assert_eq!(found.origin, CacheOrigin::Memory);
        memory.push(time);
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (cold, disk, memory) = (median(&mut cold), median(&mut disk), median(&mut memory));
    eprintln!(
        "local discovery of {count} interpreters: cold {cold:?}, cached on disk {disk:?}, \
         cached in memory {memory:?} (medians of 5)"
    );
    assert!(
        cold < Duration::from_secs(5),
        "cold discovery took {cold:?}"
    );
    assert!(disk < cold / 5, "disk cache {disk:?} vs cold {cold:?}");
}
