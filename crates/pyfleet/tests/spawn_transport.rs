//! Pipes and socket pairs carry bytes both ways, with the flags the parent relies on.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::os::fd::{AsRawFd, OwnedFd};

use pyfleet::spawn::{
    PIPE_CAPACITY, SOCKET_BUFFER_SIZE, SpawnOptions, StderrMode, Transport, selinux_enforcing,
    spawn,
};
use spawn_util::{AsyncDescriptor, PYTHON, TRANSPORTS, basic_env, output_of, take_ends, within};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_transports_carry_bytes_both_ways_through_cat() {
    for transport in TRANSPORTS {
        let spawned = spawn(SpawnOptions::new("/bin/cat").transport(transport))
            .await
            .expect("spawn cat");
        assert_eq!(spawned.transport, transport);
        let (mut ends, process) = take_ends(spawned);
        let payload = pattern(3 << 20);
        let to_child = ends.to_child.take().expect("input end");
        let writer = async {
            to_child.write_all(&payload).await.expect("writing to cat");
            if transport == Transport::SocketPair {
                // SAFETY: shutdown on a live socket.
                unsafe { libc::shutdown(to_child.raw(), libc::SHUT_WR) };
            }
            drop(to_child);
        };
        let (_, echoed) = within("cat echo", async {
            tokio::join!(writer, ends.from_child.read_to_end())
        })
        .await;
        assert!(
            echoed.expect("reading from cat") == payload,
            "{transport:?} corrupted data"
        );
        assert!(within("cat exit", process.wait()).await.success());
    }
}

/// The child side as Python drives it: os.read / os.write on fds 0 and 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_child_echoes_through_both_transports() {
    const ECHO: &str = "import os\n\
        while True:\n    \
            data = os.read(0, 1 << 20)\n    \
            if not data: break\n    \
            view = memoryview(data)\n    \
            while view: view = view[os.write(1, view):]\n";
    for transport in TRANSPORTS {
        let spawned = spawn(
            SpawnOptions::new(PYTHON)
                .args(["-I", "-S", "-c", ECHO])
                .transport(transport),
        )
        .await
        .expect("spawn python");
        let (mut ends, process) = take_ends(spawned);
        let payload = pattern(8 << 20);
        let to_child = ends.to_child.take().expect("input end");
        let writer = async {
            to_child
                .write_all(&payload)
                .await
                .expect("writing to python");
            if transport == Transport::SocketPair {
                // SAFETY: shutdown on a live socket.
                unsafe { libc::shutdown(to_child.raw(), libc::SHUT_WR) };
            }
            drop(to_child);
        };
        let (_, echoed) = within("python echo", async {
            tokio::join!(writer, ends.from_child.read_to_end())
        })
        .await;
        assert!(
            echoed.expect("reading from python") == payload,
            "{transport:?} corrupted data"
        );
        assert!(within("python exit", process.wait()).await.success());
    }
}

fn fd_flags(fd: &OwnedFd) -> (bool, bool) {
    // SAFETY: fcntl queries on a live descriptor.
    let (status, descriptor) = unsafe {
        (
            libc::fcntl(fd.as_raw_fd(), libc::F_GETFL),
            libc::fcntl(fd.as_raw_fd(), libc::F_GETFD),
        )
    };
    (
        status & libc::O_NONBLOCK != 0,
        descriptor & libc::FD_CLOEXEC != 0,
    )
}

#[tokio::test]
async fn parent_ends_are_nonblocking_and_close_on_exec_child_ends_are_what_was_asked() {
    for transport in TRANSPORTS {
        let spawned = spawn(
            SpawnOptions::new("/bin/sleep")
                .arg("30")
                .transport(transport)
                .stderr(StderrMode::Pipe),
        )
        .await
        .expect("spawn sleep");
        for fd in [
            &spawned.to_child,
            &spawned.from_child,
            spawned.stderr.as_ref().unwrap(),
        ] {
            assert_eq!(
                fd_flags(fd),
                (true, true),
                "{transport:?}: parent end flags"
            );
        }
        let link = |n: i32| {
            std::fs::read_link(format!("/proc/{}/fd/{n}", spawned.pid))
                .expect("child fd link")
                .to_string_lossy()
                .into_owned()
        };
        let (stdin, stdout) = (link(0), link(1));
        match transport {
            Transport::Pipes => {
                assert!(stdin.starts_with("pipe:") && stdout.starts_with("pipe:"));
                assert_ne!(stdin, stdout, "two distinct pipes");
            }
            _ => {
                assert!(stdin.starts_with("socket:"), "{stdin}");
                assert_eq!(stdin, stdout, "fds 0 and 1 are one socket");
            }
        }
        spawned.process.kill().unwrap();
        within("sleep exit", spawned.process.wait()).await;
    }
}

#[tokio::test]
async fn auto_is_pipes_and_socket_pairs_follow_selinux() {
    assert_eq!(Transport::Auto.resolve(), Transport::Pipes);
    let spawned = spawn(SpawnOptions::new("/bin/true"))
        .await
        .expect("spawn true");
    assert_eq!(spawned.transport, Transport::Pipes);
    within("true exit", spawned.process.wait()).await;
    let expected = if selinux_enforcing() {
        Transport::Pipes
    } else {
        Transport::SocketPair
    };
    assert_eq!(Transport::SocketPair.resolve(), expected);
}

#[tokio::test]
async fn buffers_are_enlarged() {
    let pipes = spawn(SpawnOptions::new("/bin/true").transport(Transport::Pipes))
        .await
        .expect("spawn true");
    for fd in [&pipes.to_child, &pipes.from_child] {
        // SAFETY: F_GETPIPE_SZ on a live pipe.
        let size = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ) };
        // Root may always raise it; others up to /proc/sys/fs/pipe-max-size.
        assert_eq!(size as usize, PIPE_CAPACITY);
    }
    within("true exit", pipes.process.wait()).await;

    let sockets = spawn(SpawnOptions::new("/bin/true").transport(Transport::SocketPair))
        .await
        .expect("spawn true");
    let wmem_max: usize = std::fs::read_to_string("/proc/sys/net/core/wmem_max")
        .expect("wmem_max")
        .trim()
        .parse()
        .unwrap();
    let mut size: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes a c_int into `size` and its length into `len`.
    unsafe {
        libc::getsockopt(
            sockets.to_child.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&raw mut size).cast(),
            &mut len,
        )
    };
    // The kernel doubles the request after capping it at wmem_max.
    assert_eq!(size as usize, 2 * SOCKET_BUFFER_SIZE.min(wmem_max));
    within("true exit", sockets.process.wait()).await;
}

#[tokio::test]
async fn stderr_modes() {
    let script = "echo to-stderr >&2; readlink /proc/self/fd/2";
    let spawned = spawn(
        SpawnOptions::new("/bin/sh")
            .args(["-c", script])
            .envs(basic_env())
            .stderr(StderrMode::Pipe),
    )
    .await
    .expect("spawn sh");
    let stderr = AsyncDescriptor::new(spawned.stderr.as_ref().unwrap().try_clone().unwrap());
    let (stdout, status) = output_of(spawned).await;
    assert!(status.success());
    assert!(stdout.starts_with("pipe:"), "{stdout}");
    let errors = within("stderr", stderr.read_to_end()).await.unwrap();
    assert_eq!(errors, b"to-stderr\n");

    let spawned = spawn(
        SpawnOptions::new("/bin/sh")
            .args(["-c", script])
            .envs(basic_env())
            .stderr(StderrMode::Null),
    )
    .await
    .expect("spawn sh");
    assert!(spawned.stderr.is_none());
    let (stdout, _) = output_of(spawned).await;
    assert_eq!(stdout.trim(), "/dev/null");

    let spawned = spawn(
        SpawnOptions::new("/bin/sh")
            .args(["-c", "readlink /proc/self/fd/2"])
            .envs(basic_env())
            .stderr(StderrMode::Inherit),
    )
    .await
    .expect("spawn sh");
    let ours = std::fs::read_link("/proc/self/fd/2").unwrap();
    let (stdout, _) = output_of(spawned).await;
    assert_eq!(stdout.trim(), ours.to_string_lossy());
}
