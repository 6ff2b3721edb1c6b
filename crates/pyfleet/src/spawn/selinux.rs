//! SELinux mode detection.

/// Where the kernel publishes the SELinux mode.
const SELINUX_ENFORCE_PATH: &str = "/sys/fs/selinux/enforce";

/// `true` when SELinux is loaded and enforcing.
///
/// Reads `/sys/fs/selinux/enforce` on every call (the mode can be switched at run
/// time with `setenforce`). A missing or unreadable file means SELinux is absent or
/// not enforcing.
pub fn selinux_enforcing() -> bool {
    std::fs::read(SELINUX_ENFORCE_PATH)
        .map(|contents| contents.trim_ascii() == b"1")
        .unwrap_or(false)
}
