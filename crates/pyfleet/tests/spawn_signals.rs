//! Signal names and exit status texts.

use pyfleet::spawn::{ExitStatus, signal_from_name, signal_name};

#[test]
fn classic_signals_have_their_canonical_names() {
    for (number, name) in [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGCHLD, "SIGCHLD"),
        (libc::SIGSTKFLT, "SIGSTKFLT"),
        (libc::SIGWINCH, "SIGWINCH"),
        (libc::SIGPWR, "SIGPWR"),
        (libc::SIGSYS, "SIGSYS"),
    ] {
        assert_eq!(signal_name(number), name);
    }
    // Every classic number (1..=31 on Linux) has a distinct SIG* name.
    let names: std::collections::BTreeSet<_> = (1..=31).map(signal_name).collect();
    assert_eq!(names.len(), 31);
    assert!(names.iter().all(|n| n.starts_with("SIG")), "{names:?}");
}

/// Documented choice: SIGRTMIN+N for all real-time signals but the last, SIGRTMAX.
#[test]
fn real_time_signals_count_up_from_sigrtmin() {
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    assert_eq!(signal_name(min), "SIGRTMIN");
    assert_eq!(signal_name(min + 1), "SIGRTMIN+1");
    assert_eq!(signal_name(min + 3), "SIGRTMIN+3");
    assert_eq!(signal_name(max - 1), format!("SIGRTMIN+{}", max - 1 - min));
    assert_eq!(signal_name(max), "SIGRTMAX");
}

#[test]
fn numbers_that_are_not_signals_are_named_by_number() {
    assert_eq!(signal_name(99), "signal 99");
    assert_eq!(signal_name(0), "signal 0");
    assert_eq!(signal_name(-1), "signal -1");
    // glibc keeps 32 and 33 for its threads: below SIGRTMIN, not user signals.
    if libc::SIGRTMIN() > 32 {
        assert_eq!(signal_name(32), "signal 32");
    }
}

#[test]
fn names_parse_back() {
    assert_eq!(signal_from_name("SIGTERM"), Some(libc::SIGTERM));
    assert_eq!(signal_from_name("TERM"), Some(libc::SIGTERM));
    assert_eq!(signal_from_name("15"), Some(15));
    assert_eq!(signal_from_name("sigkill"), Some(libc::SIGKILL));
    assert_eq!(signal_from_name(" hup "), Some(libc::SIGHUP));
    assert_eq!(signal_from_name("SIGIOT"), Some(libc::SIGABRT));
    assert_eq!(signal_from_name("CLD"), Some(libc::SIGCHLD));
    assert_eq!(signal_from_name("POLL"), Some(libc::SIGIO));
    assert_eq!(signal_from_name("RTMIN"), Some(libc::SIGRTMIN()));
    assert_eq!(signal_from_name("SIGRTMIN+3"), Some(libc::SIGRTMIN() + 3));
    assert_eq!(signal_from_name("SIGRTMAX-1"), Some(libc::SIGRTMAX() - 1));
    assert_eq!(signal_from_name("rtmax"), Some(libc::SIGRTMAX()));
    for bad in [
        "",
        "SIG",
        "NOPE",
        "0",
        "-9",
        "65",
        "SIGRTMIN+99",
        "SIGRTMAX+1",
        "RTMIN-1",
        "RTMIN+",
        "RTMIN+x",
        "SIGTERM2",
    ] {
        assert_eq!(signal_from_name(bad), None, "{bad:?}");
    }
    // Every signal this system has round-trips through its name.
    for number in (1..=31).chain(libc::SIGRTMIN()..=libc::SIGRTMAX()) {
        assert_eq!(
            signal_from_name(&signal_name(number)),
            Some(number),
            "{number}"
        );
    }
}

#[test]
fn exit_statuses_read_well() {
    assert_eq!(ExitStatus::Code(3).to_string(), "exited with code 3");
    let killed = ExitStatus::Signal {
        signal: libc::SIGKILL,
        core_dumped: false,
    };
    assert_eq!(killed.to_string(), "killed by SIGKILL");
    let dumped = ExitStatus::Signal {
        signal: libc::SIGSEGV,
        core_dumped: true,
    };
    assert_eq!(dumped.to_string(), "killed by SIGSEGV (core dumped)");
    assert!(ExitStatus::ReapedElsewhere.to_string().contains("SIGCHLD"));

    // Raw waitpid words: exit(3), SIGKILL, SIGSEGV with core, SIGRTMIN+3.
    assert_eq!(
        ExitStatus::from_wait_status(3 << 8),
        Some(ExitStatus::Code(3))
    );
    assert_eq!(ExitStatus::from_wait_status(libc::SIGKILL), Some(killed));
    assert_eq!(
        ExitStatus::from_wait_status(libc::SIGSEGV | 0x80),
        Some(dumped)
    );
    let rt = libc::SIGRTMIN() + 3;
    assert_eq!(
        ExitStatus::from_wait_status(rt).map(|s| s.to_string()),
        Some("killed by SIGRTMIN+3".to_owned())
    );
    // A stop report is not an ending.
    assert_eq!(
        ExitStatus::from_wait_status((libc::SIGSTOP << 8) | 0x7f),
        None
    );
    assert!(ExitStatus::Code(0).success());
    assert!(!killed.success());
    assert_eq!(killed.code(), None);
}
