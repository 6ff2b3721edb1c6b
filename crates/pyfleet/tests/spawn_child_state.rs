//! The state a child starts in: signals, descriptors, session, environment, cwd.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use std::collections::BTreeSet;
use std::os::fd::FromRawFd;

use pyfleet::spawn::{SpawnError, SpawnOptions, spawn, spawn_blocking_caller};
use spawn_util::{PYTHON, basic_env, output_of, stat_fields, status_field, within};

fn signal_bit(signal: i32) -> u64 {
    1 << (signal - 1)
}

fn hex_mask(text: &str) -> u64 {
    u64::from_str_radix(text, 16).expect("hex signal mask")
}

/// A runtime on the current thread, for tests that must control this thread's
/// signal mask before anything is spawned.
fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn signal_mask_is_empty_even_when_the_calling_thread_blocks_signals() {
    std::thread::spawn(|| {
        // SAFETY: the set is local and initialised before use.
        unsafe {
            let mut blocked: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut blocked);
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGUSR1, libc::SIGCHLD] {
                libc::sigaddset(&mut blocked, signal);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut());
        }
        let ours = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        assert_ne!(hex_mask(&status_field(&ours, "SigBlk")), 0, "precondition");

        let runtime = current_thread_runtime();
        let asynchronous = runtime.block_on(async {
            let spawned = spawn(SpawnOptions::new("/bin/cat").arg("/proc/self/status"))
                .await
                .expect("spawn cat");
            output_of(spawned).await.0
        });
        assert_eq!(hex_mask(&status_field(&asynchronous, "SigBlk")), 0);

        let spawned = spawn_blocking_caller(SpawnOptions::new("/bin/cat").arg("/proc/self/status"))
            .expect("spawn cat");
        let blocking = runtime.block_on(output_of(spawned)).0;
        assert_eq!(hex_mask(&status_field(&blocking, "SigBlk")), 0);
    })
    .join()
    .unwrap();
}

#[tokio::test]
async fn ignored_sigpipe_is_reset_but_a_deliberately_ignored_sighup_stays_ignored() {
    // Rust's runtime already ignores SIGPIPE; make both explicit.
    // SAFETY: setting dispositions to SIG_IGN installs no code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
    }
    let spawned = spawn(SpawnOptions::new("/bin/cat").arg("/proc/self/status"))
        .await
        .expect("spawn cat");
    let status = output_of(spawned).await.0;
    let ignored = hex_mask(&status_field(&status, "SigIgn"));
    assert_eq!(
        ignored & signal_bit(libc::SIGPIPE),
        0,
        "SIGPIPE must be default"
    );
    assert_ne!(
        ignored & signal_bit(libc::SIGHUP),
        0,
        "nohup semantics kept"
    );
    assert_eq!(hex_mask(&status_field(&status, "SigCgt")), 0);
}

#[tokio::test]
async fn parent_descriptors_do_not_leak_into_the_child() {
    // Descriptors opened the careless way: no close-on-exec anywhere.
    let mut leaky = Vec::new();
    // SAFETY: plain descriptor syscalls; the results are owned below.
    unsafe {
        leaky.push(libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY));
        leaky.push(libc::dup(libc::STDERR_FILENO));
        let mut pipe = [0; 2];
        libc::pipe(pipe.as_mut_ptr());
        leaky.extend(pipe);
    }
    assert!(leaky.iter().all(|&fd| fd > 2));
    // SAFETY: each descriptor was just created here and is owned once.
    let _owned: Vec<_> = leaky
        .iter()
        .map(|&fd| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
        .collect();

    let spawned = spawn(SpawnOptions::new("/bin/ls").args(["-1", "/proc/self/fd"]))
        .await
        .expect("spawn ls");
    let (listing, status) = output_of(spawned).await;
    assert!(status.success());
    let fds: BTreeSet<i32> = listing.lines().map(|l| l.parse().unwrap()).collect();
    // 0-2, plus the directory ls opened to list /proc/self/fd.
    assert_eq!(fds, BTreeSet::from([0, 1, 2, 3]), "{listing}");

    let script = "import os; print(sorted(int(n) for n in os.listdir('/proc/self/fd')))";
    let spawned = spawn(SpawnOptions::new(PYTHON).args(["-I", "-S", "-c", script]))
        .await
        .expect("spawn python");
    let (listing, _) = output_of(spawned).await;
    assert_eq!(listing.trim(), "[0, 1, 2, 3]");
}

#[tokio::test]
async fn new_session_makes_the_child_a_session_leader() {
    let leader = spawn(SpawnOptions::new("/bin/sleep").arg("30").new_session(true))
        .await
        .expect("spawn sleep");
    let fields = stat_fields(leader.pid).expect("stat");
    assert_eq!(fields[6], leader.pid.to_string(), "session id");
    assert_eq!(fields[5], leader.pid.to_string(), "process group id");

    let plain = spawn(SpawnOptions::new("/bin/sleep").arg("30"))
        .await
        .expect("spawn sleep");
    // SAFETY: getsid(0) has no memory effects.
    let our_session = unsafe { libc::getsid(0) };
    assert_eq!(
        stat_fields(plain.pid).expect("stat")[6],
        our_session.to_string()
    );

    for child in [leader, plain] {
        child.process.kill().unwrap();
        within("sleep exit", child.process.wait()).await;
    }
}

#[tokio::test]
async fn the_environment_is_exactly_what_was_given() {
    assert!(
        std::env::var_os("PATH").is_some(),
        "precondition: the parent has a PATH"
    );
    let spawned = spawn(
        SpawnOptions::new("/usr/bin/env")
            .env("A", "1")
            .env("B", "two=2")
            .env("A", "replaced"),
    )
    .await
    .expect("spawn env");
    let (listing, _) = output_of(spawned).await;
    assert_eq!(listing, "A=replaced\nB=two=2\n");

    let script = "import os; print(sorted(os.environ))";
    let spawned = spawn(SpawnOptions::new(PYTHON).args(["-I", "-S", "-c", script]))
        .await
        .expect("spawn python");
    let (listing, _) = output_of(spawned).await;
    // Nothing of ours (PYTHONUNBUFFERED, PYTHONDONTWRITEBYTECODE, …): only what
    // Python itself adds (LC_CTYPE coercion).
    assert!(!listing.contains("PYTHON"), "{listing}");
    assert!(!listing.contains("'PATH'"), "{listing}");
}

#[tokio::test]
async fn cwd_and_argv0() {
    let spawned = spawn(
        SpawnOptions::new("/bin/sh")
            .args(["-c", "pwd; echo \"$0\""])
            .envs(basic_env())
            .cwd("/tmp"),
    )
    .await
    .expect("spawn sh");
    let (output, _) = output_of(spawned).await;
    assert_eq!(output, "/tmp\n/bin/sh\n");
}

#[tokio::test]
async fn a_bare_name_is_searched_in_the_childs_path() {
    let spawned = spawn(
        SpawnOptions::new("sh")
            .args(["-c", "echo found"])
            .env("PATH", "/nonexistent:/usr/bin:/bin"),
    )
    .await
    .expect("spawn sh by name");
    assert_eq!(output_of(spawned).await.0, "found\n");

    let error = spawn(SpawnOptions::new("sh").env("PATH", "/nonexistent"))
        .await
        .expect_err("sh is not in /nonexistent");
    assert!(
        matches!(&error, SpawnError::InterpreterNotFound { path } if path.as_os_str() == "sh"),
        "{error:?}"
    );
}
