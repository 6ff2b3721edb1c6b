//! The private directory for ssh's multiplexing sockets.
//!
//! A control socket gives whoever can connect to it a session as the user on the
//! remote host, so it lives in a directory only this user can enter: created with
//! mode 0700 and refused if it exists with another owner or wider permissions.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::PathBuf;

use crate::error::ConnectError;

/// `$XDG_RUNTIME_DIR/pyfleet-ssh` when that is set, else `/tmp/pyfleet-ssh-UID`.
pub(crate) fn default_control_dir() -> PathBuf {
    // SAFETY: getuid has no memory effects.
    let uid = unsafe { libc::getuid() };
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(runtime) if runtime.is_absolute() => runtime.join("pyfleet-ssh"),
        _ => PathBuf::from(format!("/tmp/pyfleet-ssh-{uid}")),
    }
}

/// Make sure `dir` exists, belongs to this user and is private (0700).
pub(crate) fn ensure_private_dir(dir: &std::path::Path) -> Result<(), ConnectError> {
    let refuse = |why: String| {
        ConnectError::InvalidOption(format!(
            "the ssh control directory {}: {why}",
            dir.display()
        ))
    };
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(refuse(format!("cannot be created: {error}"))),
    }
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|error| refuse(format!("cannot be read: {error}")))?;
    // SAFETY: getuid has no memory effects.
    let uid = unsafe { libc::getuid() };
    if !meta.is_dir() {
        return Err(refuse("is not a directory".into()));
    }
    if meta.uid() != uid {
        return Err(refuse(format!(
            "belongs to uid {}, not to this user ({uid}); remove it or choose another",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(refuse(format!(
            "has mode {:o}; others must not enter it (chmod 700)",
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_private_dir_is_made_and_a_shared_one_refused() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("mux");
        ensure_private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        ensure_private_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let error = ensure_private_dir(&dir).unwrap_err().to_string();
        assert!(error.contains("chmod 700"), "{error}");
    }
}
