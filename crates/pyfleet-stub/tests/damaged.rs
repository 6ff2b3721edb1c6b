//! A truncated, extended or altered pack is refused before anything runs.

mod support;

use std::path::Path;

use support::*;

/// A pack whose app leaves a mark when it runs.
fn marked_pack(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let mark = dir.join("ran");
    let pack = pack_with_main(
        dir,
        &format!("open({:?}, 'w').write('ran')\n", mark.display()),
    );
    (pack, mark)
}

fn assert_refused(pack: &Path, mark: &Path, cache: &Path, reason: &str) {
    let output = run(command(pack, cache));
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(126), "{message}");
    assert!(message.contains("refusing to run this file"), "{message}");
    assert!(message.contains(reason), "{message}");
    assert!(!mark.exists(), "the app ran");
}

#[test]
fn an_intact_pack_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (pack, mark) = marked_pack(dir.path());
    let output = run(command(&pack, dir.path()));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(mark.exists());
}

#[test]
fn a_truncated_pack_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (pack, mark) = marked_pack(dir.path());
    let bytes = std::fs::read(&pack).unwrap();
    for cut in [1, 30, bytes.len() / 2] {
        std::fs::write(&pack, &bytes[..bytes.len() - cut]).unwrap();
        assert_refused(&pack, &mark, dir.path(), "");
    }
}

#[test]
fn an_extended_pack_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (pack, mark) = marked_pack(dir.path());
    let mut bytes = std::fs::read(&pack).unwrap();
    bytes.extend_from_slice(b"appended");
    std::fs::write(&pack, &bytes).unwrap();
    assert_refused(&pack, &mark, dir.path(), "does not end with a zip archive");
}

#[test]
fn an_altered_byte_anywhere_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (pack, mark) = marked_pack(dir.path());
    let original = std::fs::read(&pack).unwrap();
    let main_at = original
        .windows(b"open(".len())
        .rposition(|window| window == b"open(")
        .expect("the app's source is stored");
    let metadata_at = original
        .windows(b"\"entry\"".len())
        .position(|window| window == b"\"entry\"")
        .expect("the metadata is stored");
    // The app's code, the metadata, the central directory. (Damage to the
    // launcher's own code is beyond its reach: the loader may fail first.)
    for at in [main_at, metadata_at, original.len() - 40] {
        let mut bytes = original.clone();
        bytes[at] ^= 0x20;
        std::fs::write(&pack, &bytes).unwrap();
        let output = run(command(&pack, dir.path()));
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(126), "byte {at}: {message}");
        assert!(!mark.exists(), "the app ran after byte {at} changed");
    }
    let mut bytes = original.clone();
    bytes[main_at] ^= 0x20;
    std::fs::write(&pack, &bytes).unwrap();
    assert_refused(&pack, &mark, dir.path(), "do not match their checksum");
}

#[test]
fn the_bare_launcher_says_it_has_no_app() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(command(std::path::Path::new(STUB), dir.path()));
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(126), "{message}");
    assert!(
        message.contains("does not end with a zip archive"),
        "{message}"
    );
}
