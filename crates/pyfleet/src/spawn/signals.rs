//! Canonical signal names.
//!
//! Numbers of the classic signals differ between architectures, so the table is built
//! from the `libc` constants, never from literal numbers. The real-time range depends
//! on the C library (glibc keeps the first two or three for itself), so it is read at
//! run time from `SIGRTMIN()`/`SIGRTMAX()`.
//!
//! Real-time signals are always named relative to `SIGRTMIN` (`SIGRTMIN`,
//! `SIGRTMIN+1`, …, `SIGRTMIN+29`), except the last one, which is `SIGRTMAX`. One
//! rule is easier to read back than bash's split at the middle, and it matches how
//! Python code sends them (`signal.SIGRTMIN + 3`). [`signal_from_name`] accepts both
//! the `SIGRTMIN+N` and the `SIGRTMAX-N` spellings.

/// Classic signals with their canonical names, in the order `kill -l` lists them.
const CLASSIC_SIGNALS: &[(libc::c_int, &str)] = &[
    (libc::SIGHUP, "SIGHUP"),
    (libc::SIGINT, "SIGINT"),
    (libc::SIGQUIT, "SIGQUIT"),
    (libc::SIGILL, "SIGILL"),
    (libc::SIGTRAP, "SIGTRAP"),
    (libc::SIGABRT, "SIGABRT"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGFPE, "SIGFPE"),
    (libc::SIGKILL, "SIGKILL"),
    (libc::SIGUSR1, "SIGUSR1"),
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGUSR2, "SIGUSR2"),
    (libc::SIGPIPE, "SIGPIPE"),
    (libc::SIGALRM, "SIGALRM"),
    (libc::SIGTERM, "SIGTERM"),
    #[cfg(not(any(
        target_arch = "mips",
        target_arch = "mips32r6",
        target_arch = "mips64",
        target_arch = "mips64r6",
        target_arch = "sparc",
        target_arch = "sparc64"
    )))]
    (libc::SIGSTKFLT, "SIGSTKFLT"),
    (libc::SIGCHLD, "SIGCHLD"),
    (libc::SIGCONT, "SIGCONT"),
    (libc::SIGSTOP, "SIGSTOP"),
    (libc::SIGTSTP, "SIGTSTP"),
    (libc::SIGTTIN, "SIGTTIN"),
    (libc::SIGTTOU, "SIGTTOU"),
    (libc::SIGURG, "SIGURG"),
    (libc::SIGXCPU, "SIGXCPU"),
    (libc::SIGXFSZ, "SIGXFSZ"),
    (libc::SIGVTALRM, "SIGVTALRM"),
    (libc::SIGPROF, "SIGPROF"),
    (libc::SIGWINCH, "SIGWINCH"),
    (libc::SIGIO, "SIGIO"),
    (libc::SIGPWR, "SIGPWR"),
    (libc::SIGSYS, "SIGSYS"),
];

/// Other spellings accepted by [`signal_from_name`]; never produced by [`signal_name`].
const SIGNAL_ALIASES: &[(libc::c_int, &str)] = &[
    (libc::SIGABRT, "SIGIOT"),
    (libc::SIGIO, "SIGPOLL"),
    (libc::SIGCHLD, "SIGCLD"),
];

/// The canonical name of signal `sig`: `"SIGTERM"`, `"SIGRTMIN+3"`, `"SIGRTMAX"`.
///
/// Numbers that are not signals on this system (0, negative numbers, the real-time
/// numbers the C library reserves for itself, anything above `SIGRTMAX`) are named
/// `"signal N"`, so the result can always be put in a message.
pub fn signal_name(sig: i32) -> String {
    if let Some((_, name)) = CLASSIC_SIGNALS.iter().find(|(number, _)| *number == sig) {
        return (*name).to_owned();
    }
    let (rt_min, rt_max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    if sig == rt_min {
        "SIGRTMIN".to_owned()
    } else if sig == rt_max {
        "SIGRTMAX".to_owned()
    } else if sig > rt_min && sig < rt_max {
        format!("SIGRTMIN+{}", sig - rt_min)
    } else {
        format!("signal {sig}")
    }
}

/// Parses a signal given as `"SIGTERM"`, `"TERM"`, `"15"`, `"SIGRTMIN+3"`,
/// `"RTMAX-1"` (case-insensitive). Returns `None` for names and numbers that are not
/// signals on this system.
pub fn signal_from_name(name: &str) -> Option<i32> {
    let name = name.trim();
    if let Ok(number) = name.parse::<i32>() {
        return (1..=libc::SIGRTMAX()).contains(&number).then_some(number);
    }
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(number) = real_time_signal_from_name(bare) {
        return Some(number);
    }
    CLASSIC_SIGNALS
        .iter()
        .chain(SIGNAL_ALIASES)
        .find(|(_, candidate)| &candidate[3..] == bare)
        .map(|(number, _)| *number)
}

/// `RTMIN`, `RTMIN+N`, `RTMAX`, `RTMAX-N` (without the `SIG` prefix, upper case).
fn real_time_signal_from_name(bare: &str) -> Option<i32> {
    let (rt_min, rt_max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    let number = if let Some(rest) = bare.strip_prefix("RTMIN") {
        rt_min.checked_add(parse_offset(rest, '+')?)?
    } else if let Some(rest) = bare.strip_prefix("RTMAX") {
        rt_max.checked_sub(parse_offset(rest, '-')?)?
    } else {
        return None;
    };
    (rt_min..=rt_max).contains(&number).then_some(number)
}

/// `""` is offset 0; otherwise `sign` followed by decimal digits.
fn parse_offset(rest: &str, sign: char) -> Option<i32> {
    if rest.is_empty() {
        return Some(0);
    }
    let digits = rest.strip_prefix(sign)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
