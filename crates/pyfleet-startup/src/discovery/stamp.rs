//! File stamps: what a cached discovery compares to notice that a path changed.
//!
//! A stamp is (device, inode, size, mtime in ns) of the path itself and, for a
//! symlink, of what it points to; a missing path has its own stamp. A replaced
//! interpreter gets a new inode or mtime; a new file in a searched directory
//! changes the directory's mtime.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A path and its stamp when it was recorded.
pub(crate) type Stamped = (PathBuf, String);

/// The stamp of `path` now.
pub(crate) fn stamp(path: &Path) -> String {
    let describe = |meta: &std::fs::Metadata| {
        format!(
            "{}:{}:{}:{}.{:09}",
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec()
        )
    };
    match std::fs::symlink_metadata(path) {
        Err(_) => "missing".to_string(),
        Ok(link) if link.file_type().is_symlink() => match std::fs::metadata(path) {
            Ok(target) => format!("{}>{}", describe(&link), describe(&target)),
            Err(_) => format!("{}>missing", describe(&link)),
        },
        Ok(meta) => describe(&meta),
    }
}

/// Stamps every path now.
pub(crate) fn stamp_all(paths: &[PathBuf]) -> Vec<Stamped> {
    paths
        .iter()
        .map(|path| (path.clone(), stamp(path)))
        .collect()
}

/// True if no recorded path changed since it was stamped.
pub(crate) fn unchanged(stamps: &[Stamped]) -> bool {
    stamps
        .iter()
        .all(|(path, recorded)| stamp(path) == *recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_change_with_content_mtime_and_replacement() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("python3");
        assert_eq!(stamp(&file), "missing");
        std::fs::write(&file, "one").unwrap();
        let first = stamp_all(std::slice::from_ref(&file));
        assert!(unchanged(&first));

        let file_handle = std::fs::File::options().write(true).open(&file).unwrap();
        file_handle
            .set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(7))
            .unwrap();
        assert!(!unchanged(&first), "an mtime change is noticed");

        let link = dir.path().join("python");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let linked = stamp(&link);
        assert!(linked.contains('>'));
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&file, "two!").unwrap();
        assert_ne!(stamp(&link), linked, "a replaced target is noticed");
    }
}
