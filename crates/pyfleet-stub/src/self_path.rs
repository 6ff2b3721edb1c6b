//! The launcher's own file: the one to check, and the name to hand Python.

use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// The running file, and the path to give the interpreter for it.
#[derive(Debug, Clone)]
pub struct OwnPath {
    /// `/proc/self/exe`: always the file being run, whatever became of its path.
    pub running: PathBuf,
    /// The path the launcher was started by (what a `#!` interpreter would get as
    /// its script, and so what `sys.argv[0]` shows), if it still names the running
    /// file; else the running file's resolved path.
    pub invoked: PathBuf,
}

/// Finds the launcher's own file.
pub fn own_path() -> std::io::Result<OwnPath> {
    let running = PathBuf::from("/proc/self/exe");
    let resolved = std::fs::read_link(&running)?;
    let invoked = exec_file_name()
        .filter(|name| same_file(name, &running))
        .unwrap_or(resolved);
    Ok(OwnPath { running, invoked })
}

/// The file name given to `execve` (Linux's `AT_EXECFN`): "./app", "/usr/bin/app".
fn exec_file_name() -> Option<PathBuf> {
    // SAFETY: getauxval only reads the auxiliary vector the kernel gave this
    // process. AT_EXECFN, when present, points to a NUL-terminated string on the
    // initial stack, which lives as long as the process and is never written.
    let name = unsafe {
        let address = libc::getauxval(libc::AT_EXECFN);
        if address == 0 {
            return None;
        }
        CStr::from_ptr(address as *const libc::c_char)
    };
    let name = OsStr::from_bytes(name.to_bytes());
    (!name.is_empty()).then(|| PathBuf::from(name))
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
