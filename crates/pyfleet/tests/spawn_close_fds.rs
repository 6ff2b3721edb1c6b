//! The close-on-exec fallback for kernels without `close_range(CLOSE_RANGE_CLOEXEC)`.
//!
//! In its own test binary: it changes flags of this process's descriptors.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use pyfleet::spawn::close_fds::{
    DEFAULT_FD_LIMIT, close_range_cloexec, fallback_fd_limit, mark_cloexec_by_fcntl,
};

fn is_cloexec(fd: RawFd) -> bool {
    // SAFETY: F_GETFD on an integer.
    unsafe { libc::fcntl(fd, libc::F_GETFD) & libc::FD_CLOEXEC != 0 }
}

/// Inheritable copies of /dev/null at exactly these numbers.
fn inheritable_at(numbers: &[RawFd]) -> Vec<OwnedFd> {
    let null = std::fs::File::open("/dev/null").unwrap();
    numbers
        .iter()
        .map(|&number| {
            // SAFETY: dup2 onto a number this test reserved; dup2 leaves FD_CLOEXEC clear.
            let fd = unsafe { libc::dup2(null.as_raw_fd(), number) };
            assert_eq!(fd, number);
            // SAFETY: the descriptor was just created and is owned once.
            unsafe { OwnedFd::from_raw_fd(fd) }
        })
        .collect()
}

#[test]
fn the_fcntl_fallback_marks_open_descriptors_in_its_range_only() {
    let numbers = [900, 901, 905, 909, 910];
    let fds = inheritable_at(&numbers);
    assert!(numbers.iter().all(|&fd| !is_cloexec(fd)));

    mark_cloexec_by_fcntl(900, 910);
    assert!([900, 901, 905, 909].iter().all(|&fd| is_cloexec(fd)));
    assert!(!is_cloexec(910), "the limit is exclusive");
    drop(fds);
}

#[test]
fn close_range_cloexec_works_on_this_kernel() {
    let numbers = [950, 951];
    let fds = inheritable_at(&numbers);
    close_range_cloexec(950).expect("Linux >= 5.11");
    assert!(numbers.iter().all(|&fd| is_cloexec(fd)));
    drop(fds);
}

#[test]
fn the_fallback_limit_is_the_soft_nofile_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills a live rlimit.
    let result = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(result, 0);
    let expected = if limit.rlim_cur == libc::RLIM_INFINITY {
        DEFAULT_FD_LIMIT
    } else {
        limit.rlim_cur as RawFd
    };
    assert_eq!(fallback_fd_limit(), expected);
}
