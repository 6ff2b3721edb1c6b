//! push and pull: whole files both ways, verified, atomic, and the ways they fail.

#[path = "support/context_util.rs"]
mod context_util;
#[path = "support/interpreters.rs"]
mod interpreters;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use context_util::{start, within};
use interpreters::SYSTEM_PYTHON;
use pyfleet::api::TransferOptions;
use pyfleet::{Broker, TransferError};

fn python() -> &'static Path {
    Path::new(SYSTEM_PYTHON)
}

/// Bytes that differ chunk to chunk, so a misplaced chunk changes the digest.
fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 + i / 4093) as u8).collect()
}

fn write_file(path: &Path, data: &[u8], mode: u32) {
    std::fs::write(path, data).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Names in `dir`, sorted: leftovers (temporary files) show up here.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount {
    dir: tempfile::TempDir,
}

impl Mount {
    /// Needs root (CI runs the tests as root); `None`, with a note, elsewhere.
    fn tmpfs(options: &str) -> Option<Mount> {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("note: skipping a tmpfs test: it needs root to mount");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs -o {options} failed");
        Some(Mount { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[tokio::test]
async fn push_and_pull_round_trip_with_mode_and_digest_on_every_interpreter() {
    let broker = Broker::new();
    let dir = tempfile::tempdir().unwrap();
    // Not a multiple of the chunk size, and an empty file.
    for (size, mode) in [(3 * (1 << 20) + 12345, 0o640), (0, 0o600), (100, 0o755)] {
        let data = pattern(size);
        let source = dir.path().join(format!("source-{size}"));
        write_file(&source, &data, mode);
        for python in interpreters::interpreters() {
            let ctx = start(&broker, &python).await;
            let remote = dir.path().join("remote").join(format!("pushed-{size}"));
            std::fs::create_dir_all(remote.parent().unwrap()).unwrap();
            let remote_text = remote.to_str().unwrap();
            let pushed = within("push", ctx.push(&source, remote_text))
                .await
                .unwrap();
            assert_eq!(pushed.bytes, size as u64);
            assert_eq!(pushed.mode, mode);
            assert_eq!(
                std::fs::read(&remote).unwrap(),
                data,
                "{}",
                python.display()
            );
            assert_eq!(mode_of(&remote), mode, "{}", python.display());
            let back = dir.path().join(format!("pulled-{size}"));
            let pulled = within("pull", ctx.pull(remote_text, &back)).await.unwrap();
            assert_eq!(pulled.digest, pushed.digest);
            assert_eq!(pulled.digest.len(), 64);
            assert_eq!(std::fs::read(&back).unwrap(), data);
            assert_eq!(mode_of(&back), mode);
            // Overwriting an existing destination replaces it whole.
            within("push again", ctx.push(&source, remote_text))
                .await
                .unwrap();
            assert_eq!(std::fs::read(&remote).unwrap(), data);
            assert_eq!(entries(remote.parent().unwrap()).len(), 1);
            std::fs::remove_file(&back).unwrap();
            std::fs::remove_dir_all(remote.parent().unwrap()).unwrap();
            ctx.shutdown().await;
        }
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn missing_files_and_directories_fail_clearly_on_either_side() {
    let broker = Broker::new();
    let ctx = start(&broker, python()).await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let error = ctx
        .pull(missing.to_str().unwrap(), dir.path().join("out"))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("cannot read") && text.contains("No such file"),
        "{text}"
    );
    let error = ctx.push(&missing, "/tmp/anything").await.unwrap_err();
    assert!(matches!(error, TransferError::Local { .. }), "{error:?}");
    let source = dir.path().join("source");
    write_file(&source, b"data", 0o644);
    let error = ctx
        .push(&source, dir.path().to_str().unwrap())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("is a directory"), "{error}");
    assert_eq!(entries(dir.path()), vec!["source"]);
    broker.shutdown().await;
}

#[tokio::test]
async fn push_to_a_read_only_file_system_fails_and_writes_nothing() {
    let Some(mount) = Mount::tmpfs("size=1m,ro") else {
        return;
    };
    let broker = Broker::new();
    let ctx = start(&broker, python()).await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    write_file(&source, &pattern(5000), 0o644);
    let target = mount.path().join("file");
    let error = within("push", ctx.push(&source, target.to_str().unwrap()))
        .await
        .unwrap_err();
    let remote = error.to_string();
    assert!(
        remote.contains("Read-only file system") && remote.contains(target.to_str().unwrap()),
        "{remote}"
    );
    assert!(entries(mount.path()).is_empty());
    // The context is fine afterwards.
    let pid: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
    assert_eq!(pid, ctx.pid());
    broker.shutdown().await;
}

#[tokio::test]
async fn push_as_a_user_without_permission_is_refused() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("note: skipping: needs root to start a child as nobody");
        return;
    }
    let broker = Broker::new();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    write_file(&source, b"secret", 0o644);
    // A child that runs as nobody (uid 65534) through a pre-exec setuid.
    let ctx = within(
        "a context as nobody",
        broker.local(
            pyfleet::LocalOptions::new()
                .python(python())
                .pre_exec(Arc::new(|| {
                    // SAFETY: async-signal-safe calls only.
                    unsafe {
                        if libc::setgroups(0, std::ptr::null()) != 0
                            || libc::setgid(65534) != 0
                            || libc::setuid(65534) != 0
                        {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    Ok(())
                })),
        ),
    )
    .await
    .unwrap();
    assert_eq!(ctx.facts().uid, 65534);
    let protected = tempfile::tempdir().unwrap(); // 0700, owned by root
    let target = protected.path().join("file");
    let error = ctx
        .push(&source, target.to_str().unwrap())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("Permission denied"), "{text}");
    assert_eq!(error_type(&error), Some("PermissionError"));
    assert!(entries(protected.path()).is_empty());
    broker.shutdown().await;
}

fn error_type(error: &TransferError) -> Option<&str> {
    match error {
        TransferError::Remote(call) => call.remote().map(|r| r.type_name.as_str()),
        _ => None,
    }
}

#[tokio::test]
async fn a_full_disk_fails_either_way_and_leaves_nothing_behind() {
    let Some(mount) = Mount::tmpfs("size=1m") else {
        return;
    };
    let broker = Broker::new();
    let ctx = start(&broker, python()).await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    write_file(&source, &pattern(4 << 20), 0o644);
    // Push: the child runs out of space.
    let target = mount.path().join("pushed");
    let error = within("push", ctx.push(&source, target.to_str().unwrap()))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("No space left"), "{error}");
    assert!(
        entries(mount.path()).is_empty(),
        "{:?}",
        entries(mount.path())
    );
    // Pull: the master runs out of space; the child is told to stop sending.
    let local = mount.path().join("pulled");
    let error = within("pull", ctx.pull(source.to_str().unwrap(), &local))
        .await
        .unwrap_err();
    assert!(matches!(error, TransferError::Local { .. }), "{error:?}");
    assert!(error.to_string().contains("No space left"), "{error}");
    assert!(
        entries(mount.path()).is_empty(),
        "{:?}",
        entries(mount.path())
    );
    let pid: u32 = within("a call after", ctx.call("os", "getpid", (), ()))
        .await
        .unwrap();
    assert_eq!(pid, ctx.pid());
    broker.shutdown().await;
}

/// Pull a 64 MiB file with a window of 2 chunks; at the first chunk, `meddle` runs
/// on the remote file (the child is then at most a few chunks ahead).
async fn pull_while(meddle: impl Fn(&Path) + Send + Sync + 'static) -> (TransferError, PathBuf) {
    let broker = Broker::new();
    let ctx = start(&broker, python()).await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    write_file(&source, &pattern(64 << 20), 0o644);
    let local_dir = tempfile::tempdir().unwrap();
    let local = local_dir.path().join("copy");
    let done = AtomicBool::new(false);
    let remote = source.clone();
    let meddle = Arc::new(meddle);
    let options = TransferOptions::new().window(2).on_progress(move |_| {
        if !done.swap(true, Ordering::SeqCst) {
            meddle(&remote);
        }
    });
    let error = within(
        "pull",
        ctx.pull_with(source.to_str().unwrap(), &local, &options),
    )
    .await
    .unwrap_err();
    assert!(!local.exists());
    assert!(
        entries(local_dir.path()).is_empty(),
        "{:?}",
        entries(local_dir.path())
    );
    broker.shutdown().await;
    (error, source)
}

#[tokio::test]
async fn pull_of_a_file_that_grows_during_the_transfer_fails() {
    let (error, _) = pull_while(|path| {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        file.write_all(b"more").unwrap();
    })
    .await;
    assert!(
        error.to_string().contains("changed during the transfer"),
        "{error}"
    );
}

#[tokio::test]
async fn pull_of_a_file_that_disappears_during_the_transfer_fails() {
    let (error, _) = pull_while(|path| std::fs::remove_file(path).unwrap()).await;
    assert!(
        error
            .to_string()
            .contains("disappeared during the transfer"),
        "{error}"
    );
}

#[tokio::test]
async fn pull_of_a_file_replaced_during_the_transfer_fails() {
    let (error, _) = pull_while(|path| {
        let other = path.with_extension("new");
        std::fs::write(&other, b"other").unwrap();
        std::fs::rename(&other, path).unwrap();
    })
    .await;
    assert!(error.to_string().contains("replaced"), "{error}");
}

#[tokio::test]
async fn a_context_killed_mid_push_leaves_no_file_at_the_destination() {
    let broker = Broker::new();
    let ctx = start(&broker, python()).await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    write_file(&source, &pattern(32 << 20), 0o644);
    let target = dir.path().join("target");
    let victim = ctx.process().clone();
    let options = TransferOptions::new().window(2).on_progress(move |_| {
        let _ = victim.kill();
    });
    let error = within(
        "push",
        ctx.push_with(&source, target.to_str().unwrap(), &options),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("killed by SIGKILL"), "{error}");
    assert!(!target.exists());
    broker.shutdown().await;
}

#[tokio::test]
async fn crc32_is_the_fast_option_and_checks_the_same_way() {
    let broker = Broker::new();
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(2 * (1 << 20) + 7);
    let source = dir.path().join("source");
    write_file(&source, &data, 0o600);
    let options = TransferOptions::new().checksum(pyfleet::api::Checksum::Crc32);
    let expected = format!("{:08x}", crc32(&data));
    for python in interpreters::interpreters() {
        let ctx = start(&broker, &python).await;
        let remote = dir.path().join("pushed");
        let pushed = within(
            "push",
            ctx.push_with(&source, remote.to_str().unwrap(), &options),
        )
        .await
        .unwrap();
        assert_eq!(pushed.digest, expected, "{}", python.display());
        let back = dir.path().join("pulled");
        let pulled = within(
            "pull",
            ctx.pull_with(remote.to_str().unwrap(), &back, &options),
        )
        .await
        .unwrap();
        assert_eq!(pulled.digest, expected);
        assert_eq!(std::fs::read(&back).unwrap(), data);
        ctx.shutdown().await;
    }
    broker.shutdown().await;
}

/// CRC-32 (IEEE), bit by bit: an independent check of both ends.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
