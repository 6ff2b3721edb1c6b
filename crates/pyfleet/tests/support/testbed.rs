//! The test bed: a real sshd on loopback, sshds on hosts in network namespaces, and
//! test users for sudo, su and doas, made by `scripts/testbed/setup.sh` (as root)
//! and described by its facts file (scripts/testbed/README.md has the contract).
//!
//! A test that needs the test bed fails loudly when it is missing; it never skips.
//! Every wait here is bounded.
//!
//! Tests run in parallel (threads of one binary, and other test runs on the same
//! machine): a test that kills the loopback sshd must hold [`loopback_exclusive`]
//! and every test that uses it [`loopback_shared`]. A test that only needs *an*
//! sshd to kill is better off with [`Testbed::spare_sshd`], which disturbs nobody.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where set-up writes the facts unless PYFLEET_TESTBED names another file.
pub const DEFAULT_FACTS_FILE: &str = "/run/pyfleet-testbed/testbed.env";

/// Upper bound for one command run by these helpers.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// Upper bound for an sshd to start answering or to die.
pub const SSHD_LIMIT: Duration = Duration::from_secs(10);

const SSHD: &str = "/usr/sbin/sshd";

/// Everything the facts file says, one field per key (the key in lower case).
#[derive(Debug, Clone)]
pub struct Testbed {
    pub facts_file: PathBuf,
    pub state_dir: PathBuf,
    /// The loopback sshd: 127.0.0.1:2222, alias `pfloop` in `ssh_config`.
    pub ssh_host: String,
    pub ssh_port: u16,
    pub ssh_alias: String,
    /// For `ssh -F`: host aliases (pfloop, pfns1..3), the key, the known_hosts.
    pub ssh_config: PathBuf,
    /// root's private key (ed25519, no passphrase), authorized for root and every
    /// test user but the password user.
    pub ssh_key: PathBuf,
    pub ssh_known_hosts: PathBuf,
    /// Pins the loopback sshd to a key it does not have.
    pub ssh_known_hosts_wrong: PathBuf,
    pub ssh_host_key_pub: PathBuf,
    pub ssh_wrong_host_key_pub: PathBuf,
    pub loopback_sshd_config: PathBuf,
    pub loopback_sshd_pidfile: PathBuf,
    pub loopback_sshd_log: PathBuf,
    /// As of set-up (loopback first, then the namespace hosts); after a restart
    /// ask [`SshdInstance::pid`].
    pub sshd_pids: Vec<u32>,
    pub ssh_key_user: String,
    pub ssh_key_password: String,
    pub ssh_password_user: String,
    pub ssh_password: String,
    pub sudo_user: String,
    pub sudo_password: String,
    pub nosudo_user: String,
    pub nosudo_password: String,
    pub target_user: String,
    pub target_password: String,
    pub doas_user: String,
    pub doas_password: String,
    pub su_user: String,
    pub su_password: String,
    /// The interpreter other users can run (root's pyenv builds are behind a
    /// mode-700 home).
    pub python_for_users: PathBuf,
    /// Addresses (NETNS_HOSTS); [`Testbed::netns_hosts`] pairs them with names.
    pub netns_hosts: Vec<String>,
    pub netns_names: Vec<String>,
    pub netns_ssh_port: u16,
    /// The bridge's address in the root namespace.
    pub netns_bridge: String,
    pub netns_bridge_device: String,
    /// A host with nothing listening on port 22: connect() is refused at once.
    pub refused_address: String,
    /// Packets to it vanish: connect() runs into its timeout.
    pub timeout_address: String,
    /// Nobody answers ARP: "No route to host" after about 3 s.
    pub unreachable_address: String,
}

/// One host in a network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetnsHost {
    pub name: String,
    pub address: String,
    pub port: u16,
}

/// The test bed described by the facts file; panics (the test fails) if there is
/// none.
pub fn testbed() -> Testbed {
    static TESTBED: OnceLock<Testbed> = OnceLock::new();
    TESTBED.get_or_init(load).clone()
}

fn load() -> Testbed {
    let file = std::env::var_os("PYFLEET_TESTBED")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| DEFAULT_FACTS_FILE.into());
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) => {
            if std::env::var("PYFLEET_REQUIRE_TESTBED").is_ok_and(|value| value == "1") {
                panic!(
                    "the test bed is required (PYFLEET_REQUIRE_TESTBED=1) but {} cannot be \
                     read ({error}): scripts/testbed/setup.sh failed or did not run",
                    file.display()
                );
            }
            panic!(
                "this test needs the test bed: run scripts/testbed/setup.sh (as root) first \
                 ({}: {error})",
                file.display()
            );
        }
    };
    let facts = Facts::parse(&file, &text);
    Testbed {
        state_dir: facts.path("STATE_DIR"),
        ssh_host: facts.get("SSH_HOST"),
        ssh_port: facts.number("SSH_PORT"),
        ssh_alias: facts.get("SSH_ALIAS"),
        ssh_config: facts.path("SSH_CONFIG"),
        ssh_key: facts.path("SSH_KEY"),
        ssh_known_hosts: facts.path("SSH_KNOWN_HOSTS"),
        ssh_known_hosts_wrong: facts.path("SSH_KNOWN_HOSTS_WRONG"),
        ssh_host_key_pub: facts.path("SSH_HOST_KEY_PUB"),
        ssh_wrong_host_key_pub: facts.path("SSH_WRONG_HOST_KEY_PUB"),
        loopback_sshd_config: facts.path("LOOPBACK_SSHD_CONFIG"),
        loopback_sshd_pidfile: facts.path("LOOPBACK_SSHD_PIDFILE"),
        loopback_sshd_log: facts.path("LOOPBACK_SSHD_LOG"),
        sshd_pids: facts
            .list("SSHD_PIDS")
            .iter()
            .map(|pid| facts.parse_number("SSHD_PIDS", pid))
            .collect(),
        ssh_key_user: facts.get("SSH_KEY_USER"),
        ssh_key_password: facts.get("SSH_KEY_PASSWORD"),
        ssh_password_user: facts.get("SSH_PASSWORD_USER"),
        ssh_password: facts.get("SSH_PASSWORD"),
        sudo_user: facts.get("SUDO_USER"),
        sudo_password: facts.get("SUDO_PASSWORD"),
        nosudo_user: facts.get("NOSUDO_USER"),
        nosudo_password: facts.get("NOSUDO_PASSWORD"),
        target_user: facts.get("TARGET_USER"),
        target_password: facts.get("TARGET_PASSWORD"),
        doas_user: facts.get("DOAS_USER"),
        doas_password: facts.get("DOAS_PASSWORD"),
        su_user: facts.get("SU_USER"),
        su_password: facts.get("SU_PASSWORD"),
        python_for_users: facts.path("PYTHON_FOR_USERS"),
        netns_hosts: facts.list("NETNS_HOSTS"),
        netns_names: facts.list("NETNS_NAMES"),
        netns_ssh_port: facts.number("NETNS_SSH_PORT"),
        netns_bridge: facts.get("NETNS_BRIDGE"),
        netns_bridge_device: facts.get("NETNS_BRIDGE_DEVICE"),
        refused_address: facts.get("REFUSED_ADDRESS"),
        timeout_address: facts.get("TIMEOUT_ADDRESS"),
        unreachable_address: facts.get("UNREACHABLE_ADDRESS"),
        facts_file: file,
    }
}

/// KEY=VALUE lines; `#` comments and blank lines are skipped; no quoting.
struct Facts<'a> {
    file: &'a Path,
    values: HashMap<String, String>,
}

impl<'a> Facts<'a> {
    fn parse(file: &'a Path, text: &str) -> Self {
        let values = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
            .collect();
        Facts { file, values }
    }

    fn get(&self, key: &str) -> String {
        match self.values.get(key) {
            Some(value) => value.clone(),
            None => panic!(
                "{} has no {key}: run scripts/testbed/setup.sh (as root) again",
                self.file.display()
            ),
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        PathBuf::from(self.get(key))
    }

    fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    fn parse_number<T: std::str::FromStr>(&self, key: &str, value: &str) -> T {
        value
            .parse()
            .unwrap_or_else(|_| panic!("{}: {key}={value} is not a number", self.file.display()))
    }

    fn number<T: std::str::FromStr>(&self, key: &str) -> T {
        self.parse_number(key, &self.get(key))
    }
}

impl Testbed {
    /// Options for a key login, without destination: `-F` config, the key, the
    /// test bed's known_hosts (strict), BatchMode (never prompt). Add
    /// `-p PORT USER@HOST COMMAND`; later `-o` options do not override these (ssh
    /// keeps the first value), so put your own `-o` before them.
    pub fn ssh_base_args(&self) -> Vec<String> {
        let mut args = self.ssh_common_args(&self.ssh_known_hosts);
        args.splice(2..2, ["-i".to_owned(), path_string(&self.ssh_key)]);
        args.extend(
            ["IdentitiesOnly=yes", "BatchMode=yes"]
                .into_iter()
                .flat_map(|option| ["-o".to_owned(), option.to_owned()]),
        );
        args
    }

    /// Options for a password login (no keys offered, one password prompt on the
    /// terminal), without destination. The password is read from /dev/tty only:
    /// see [`run_on_pty`].
    pub fn ssh_password_args(&self) -> Vec<String> {
        let mut args = self.ssh_common_args(&self.ssh_known_hosts);
        args.extend(
            [
                "PubkeyAuthentication=no",
                "PreferredAuthentications=password",
                "NumberOfPasswordPrompts=1",
            ]
            .into_iter()
            .flat_map(|option| ["-o".to_owned(), option.to_owned()]),
        );
        args
    }

    fn ssh_common_args(&self, known_hosts: &Path) -> Vec<String> {
        vec![
            "-F".to_owned(),
            path_string(&self.ssh_config),
            "-o".to_owned(),
            format!("UserKnownHostsFile={}", known_hosts.display()),
            "-o".to_owned(),
            "GlobalKnownHostsFile=/dev/null".to_owned(),
            "-o".to_owned(),
            "StrictHostKeyChecking=yes".to_owned(),
            "-o".to_owned(),
            "ConnectTimeout=10".to_owned(),
        ]
    }

    /// [`Self::ssh_base_args`] plus `-p 2222 USER@127.0.0.1`: add the command.
    pub fn ssh_loopback_args(&self, user: &str) -> Vec<String> {
        let mut args = self.ssh_base_args();
        args.extend([
            "-p".to_owned(),
            self.ssh_port.to_string(),
            format!("{user}@{}", self.ssh_host),
        ]);
        args
    }

    /// The namespace hosts, each with its own sshd.
    pub fn netns_hosts(&self) -> Vec<NetnsHost> {
        assert_eq!(
            self.netns_names.len(),
            self.netns_hosts.len(),
            "{}: NETNS_NAMES and NETNS_HOSTS differ in length",
            self.facts_file.display()
        );
        self.netns_names
            .iter()
            .zip(&self.netns_hosts)
            .map(|(name, address)| NetnsHost {
                name: name.clone(),
                address: address.clone(),
                port: self.netns_ssh_port,
            })
            .collect()
    }

    /// Runs `argv` as `user` (runuser: no password, no PAM prompts), stdin from
    /// /dev/null, killed after [`COMMAND_LIMIT`].
    pub fn run_as(&self, user: &str, argv: &[&str]) -> Output {
        let mut full = vec!["runuser", "-u", user, "--"];
        full.extend_from_slice(argv);
        run_bounded(&full, COMMAND_LIMIT)
    }

    /// The loopback sshd, to inspect, kill or start.
    pub fn loopback_sshd(&self) -> SshdInstance {
        SshdInstance {
            config: self.loopback_sshd_config.clone(),
            pidfile: self.loopback_sshd_pidfile.clone(),
            log: self.loopback_sshd_log.clone(),
            host: self.ssh_host.clone(),
            port: self.ssh_port,
        }
    }

    /// The loopback sshd is alive (not a zombie) and answers with a banner.
    pub fn sshd_running(&self) -> bool {
        self.loopback_sshd().running()
    }

    /// Kills the loopback sshd: its listener and every connection it serves, as a
    /// crash would (clients see their connection drop; the programs they started
    /// get EOF). Hold [`loopback_exclusive`] meanwhile. Returns the killed pids.
    pub fn kill_loopback_sshd(&self) -> Vec<u32> {
        self.loopback_sshd().kill()
    }

    /// Starts the loopback sshd again (no-op if it runs) and waits until it
    /// answers; panics after [`SSHD_LIMIT`].
    pub fn start_loopback_sshd(&self) {
        self.loopback_sshd().start();
    }

    /// A private sshd on a free loopback port, same users, keys and host key as
    /// the loopback one, for tests that kill or stop it. Gone when dropped.
    pub fn spare_sshd(&self) -> SpareSshd {
        SpareSshd::start(self)
    }
}

/// A lock on the loopback sshd, shared or exclusive, between threads and between
/// processes (two test binaries, or two people's test runs on one machine): an
/// flock(2) on a file in the state dir. Released when dropped.
pub struct LoopbackLock {
    _file: std::fs::File,
}

/// How long a test waits for [`loopback_shared`] or [`loopback_exclusive`].
pub const LOCK_LIMIT: Duration = Duration::from_secs(300);

fn lock_loopback(operation: libc::c_int) -> LoopbackLock {
    let path = testbed().state_dir.join("loopback.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|error| panic!("open {}: {error}", path.display()));
    let deadline = Instant::now() + LOCK_LIMIT;
    loop {
        // SAFETY: flock(2) on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) } == 0 {
            return LoopbackLock { _file: file };
        }
        let error = io::Error::last_os_error();
        assert!(
            error.kind() == io::ErrorKind::WouldBlock || error.kind() == io::ErrorKind::Interrupted,
            "flock {}: {error}",
            path.display()
        );
        assert!(
            Instant::now() < deadline,
            "{} stayed locked for {LOCK_LIMIT:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Held by tests that use the loopback sshd while another test may kill it.
pub fn loopback_shared() -> LoopbackLock {
    lock_loopback(libc::LOCK_SH)
}

/// Held by a test that kills or restarts the loopback sshd.
pub fn loopback_exclusive() -> LoopbackLock {
    lock_loopback(libc::LOCK_EX)
}

/// One sshd of the test bed, known by its configuration file.
#[derive(Debug, Clone)]
pub struct SshdInstance {
    pub config: PathBuf,
    pub pidfile: PathBuf,
    pub log: PathBuf,
    pub host: String,
    pub port: u16,
}

impl SshdInstance {
    /// The listener's pid, if the pid file names a live sshd.
    pub fn pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(&self.pidfile).ok()?;
        let pid = text.trim().parse().ok()?;
        is_live_sshd(pid).then_some(pid)
    }

    /// Alive and answering with an SSH banner.
    pub fn running(&self) -> bool {
        self.pid().is_some() && ssh_banner_ok(&self.host, self.port)
    }

    /// Listeners started with this configuration, whatever the pid file says.
    fn listeners(&self) -> BTreeSet<u32> {
        let prefix = format!("sshd: {SSHD} -f {} ", self.config.display());
        processes()
            .into_iter()
            .filter(|process| process.comm == "sshd" && process.state != 'Z')
            .filter(|process| {
                std::fs::read(format!("/proc/{}/cmdline", process.pid)).is_ok_and(|raw| {
                    let title = String::from_utf8_lossy(&raw).replace('\0', " ");
                    title.starts_with(&prefix) && title.contains("[listener]")
                })
            })
            .map(|process| process.pid)
            .collect()
    }

    /// SIGKILLs the listener(s) and every sshd process below them (one per
    /// connection, plus privilege-separation children); waits until they are dead
    /// (gone or zombies). Returns their pids.
    pub fn kill(&self) -> Vec<u32> {
        let mut listeners = self.listeners();
        listeners.extend(self.pid());
        // Stopped, a listener accepts and forks no more while we collect its tree.
        for &pid in &listeners {
            signal(pid, libc::SIGSTOP);
        }
        let table = processes();
        let mut victims: BTreeSet<u32> = listeners.clone();
        let mut frontier: Vec<u32> = listeners.into_iter().collect();
        while let Some(parent) = frontier.pop() {
            for process in &table {
                if process.ppid == parent && process.comm == "sshd" && victims.insert(process.pid) {
                    frontier.push(process.pid);
                }
            }
        }
        for &pid in &victims {
            signal(pid, libc::SIGKILL);
        }
        let deadline = Instant::now() + SSHD_LIMIT;
        for &pid in &victims {
            while is_live_sshd(pid) {
                assert!(
                    Instant::now() < deadline,
                    "sshd {pid} still alive {SSHD_LIMIT:?} after SIGKILL"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = std::fs::remove_file(&self.pidfile);
        victims.into_iter().collect()
    }

    /// Starts this sshd unless it runs, and waits (bounded) until it answers.
    pub fn start(&self) {
        if self.running() {
            return;
        }
        // A listener that does not answer, or one the pid file lost track of,
        // would hold the port.
        self.kill();
        std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        let mut command = Command::new(SSHD);
        command
            .arg("-f")
            .arg(&self.config)
            .arg("-E")
            .arg(&self.log)
            .arg("-D")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own session: signals for the test's process group never reach it,
        // and it outlives the test binary like the daemon set-up starts.
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {SSHD}: {error}"));
        let deadline = Instant::now() + SSHD_LIMIT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "sshd ({}) exited at start with {status}: {}",
                    self.config.display(),
                    log_tail(&self.log)
                );
            }
            if self.pid() == Some(child.id()) && ssh_banner_ok(&self.host, self.port) {
                return;
            }
            if Instant::now() >= deadline {
                kill_child(&mut child);
                panic!(
                    "sshd ({}) does not answer on {}:{} after {SSHD_LIMIT:?}: {}",
                    self.config.display(),
                    self.host,
                    self.port,
                    log_tail(&self.log)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A throwaway sshd on 127.0.0.1 and a free port (see [`Testbed::spare_sshd`]).
pub struct SpareSshd {
    pub sshd: SshdInstance,
    pub dir: PathBuf,
    /// known_hosts with this sshd's (the loopback's) host key for its port.
    pub known_hosts: PathBuf,
}

impl SpareSshd {
    fn start(testbed: &Testbed) -> SpareSshd {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = testbed.state_dir.join("spare").join(format!(
            "{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the spare sshd's directory");
        let template = std::fs::read_to_string(&testbed.loopback_sshd_config)
            .expect("read the loopback sshd_config");
        let host_key =
            std::fs::read_to_string(&testbed.ssh_host_key_pub).expect("read the loopback host key");
        let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        let mut last_error = String::new();
        // A port found free can be taken before sshd binds it: try a few.
        for _ in 0..3 {
            let port = free_port();
            let sshd = SshdInstance {
                config: dir.join("sshd_config"),
                pidfile: dir.join("sshd.pid"),
                log: dir.join("sshd.log"),
                host: testbed.ssh_host.clone(),
                port,
            };
            let config: String = template
                .lines()
                .map(|line| {
                    if line.starts_with("ListenAddress ") {
                        format!("ListenAddress {}:{port}\n", testbed.ssh_host)
                    } else if line.starts_with("PidFile ") {
                        format!("PidFile {}\n", sshd.pidfile.display())
                    } else {
                        format!("{line}\n")
                    }
                })
                .collect();
            std::fs::write(&sshd.config, config).expect("write the spare sshd_config");
            let known_hosts = dir.join("known_hosts");
            std::fs::write(
                &known_hosts,
                format!("[{}]:{port} {}\n", testbed.ssh_host, host_key.join(" ")),
            )
            .expect("write the spare known_hosts");
            match std::panic::catch_unwind(|| sshd.start()) {
                Ok(()) => {
                    return SpareSshd {
                        sshd,
                        dir,
                        known_hosts,
                    };
                }
                Err(panic) => {
                    last_error = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| "sshd did not start".to_owned());
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!("no spare sshd: {last_error}");
    }

    /// Key-login options for this sshd, with destination `USER@127.0.0.1 -p PORT`:
    /// add the command.
    pub fn ssh_args(&self, testbed: &Testbed, user: &str) -> Vec<String> {
        let mut args = testbed.ssh_common_args(&self.known_hosts);
        args.extend([
            "-i".to_owned(),
            path_string(&testbed.ssh_key),
            "-o".to_owned(),
            "IdentitiesOnly=yes".to_owned(),
            "-o".to_owned(),
            "BatchMode=yes".to_owned(),
            "-p".to_owned(),
            self.sshd.port.to_string(),
            format!("{user}@{}", self.sshd.host),
        ]);
        args
    }
}

impl Drop for SpareSshd {
    fn drop(&mut self) {
        self.sshd.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A program run on a pseudo-terminal that is its controlling terminal (so
/// ssh, sudo, su and doas prompt on it), all three stdio on the terminal.
#[derive(Debug)]
pub struct PtyRun {
    /// Everything written to the terminal (with its "\r\n" line ends).
    pub transcript: String,
    /// None if it was killed at the deadline.
    pub status: Option<ExitStatus>,
    /// How many (prompt, answer) steps were answered.
    pub answered: usize,
}

impl PtyRun {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|status| status.success())
    }
}

/// Runs `argv` on a new PTY; each time the transcript shows the next prompt of
/// `steps` (after the previous one), types its answer and a newline. Ends when the
/// program exits or after `limit` (then its process group is SIGKILLed).
pub fn run_on_pty(argv: &[&str], steps: &[(&str, &str)], limit: Duration) -> PtyRun {
    let (master, slave) = open_pty();
    let mut command = Command::new(argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::from(slave.try_clone().expect("dup the pty")))
        .stdout(Stdio::from(slave.try_clone().expect("dup the pty")))
        .stderr(Stdio::from(slave));
    // SAFETY: setsid and ioctl are async-signal-safe; fd 0 is the PTY by now.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {argv:?}: {error}"));
    // The parent's copies of the slave: while open, the master never sees EOF.
    drop(command);

    let deadline = Instant::now() + limit;
    let mut transcript: Vec<u8> = Vec::new();
    let mut searched_from = 0;
    let mut answered = 0;
    let mut status = None;
    loop {
        if let Some((prompt, answer)) = steps.get(answered)
            && let Some(at) = find(&transcript[searched_from..], prompt.as_bytes())
        {
            searched_from += at + prompt.len();
            write_all(&master, format!("{answer}\n").as_bytes());
            answered += 1;
            continue;
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let exited = child.try_wait().expect("wait for the pty child");
        // Once it exited, drain what is left without waiting for more.
        let wait = if exited.is_some() {
            Duration::ZERO
        } else {
            (deadline - now).min(Duration::from_millis(50))
        };
        match read_some(&master, wait) {
            Ok(Some(bytes)) if !bytes.is_empty() => transcript.extend_from_slice(&bytes),
            // EIO: no process holds the terminal right now. That is the end only
            // if the program exited; between two programs (runuser, then sudo) it
            // happens too.
            Ok(_) | Err(_) => {
                if let Some(done) = exited {
                    status = Some(done);
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    if status.is_none() {
        // SAFETY: kill(2) on the process group the child leads (setsid).
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        kill_child(&mut child);
    }
    PtyRun {
        transcript: String::from_utf8_lossy(&transcript).into_owned(),
        status,
        answered,
    }
}

/// Runs `argv` (stdin /dev/null) and collects its output; `timeout(1)` kills its
/// process group after `limit`, so this always returns.
pub fn run_bounded(argv: &[&str], limit: Duration) -> Output {
    Command::new("timeout")
        .arg("--kill-after=5")
        .arg(format!("{}", limit.as_secs().max(1)))
        .args(argv)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {argv:?}: {error}"))
}

/// Runs ssh with `args`, bounded like [`run_bounded`].
pub fn ssh_bounded<S: AsRef<OsStr>>(args: &[S], limit: Duration) -> Output {
    let args: Vec<String> = args
        .iter()
        .map(|arg| arg.as_ref().to_string_lossy().into_owned())
        .collect();
    let mut argv = vec!["ssh"];
    argv.extend(args.iter().map(String::as_str));
    run_bounded(&argv, limit)
}

/// True once HOST:PORT sends an SSH banner (each step bounded by 2 s).
pub fn ssh_banner_ok(host: &str, port: u16) -> bool {
    let Some(address) = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
    else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut banner = [0u8; 8];
    stream.read_exact(&mut banner).is_ok() && &banner == b"SSH-2.0-"
}

/// A pid that is an sshd and not a zombie (a killed daemon may linger as one, and
/// kill(pid, 0) succeeds on a zombie).
pub fn is_live_sshd(pid: u32) -> bool {
    read_stat(pid).is_some_and(|process| process.comm == "sshd" && process.state != 'Z')
}

struct Process {
    pid: u32,
    comm: String,
    state: char,
    ppid: u32,
}

fn read_stat(pid: u32) -> Option<Process> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let mut rest = stat[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some(Process {
        pid,
        comm: stat[open + 1..close].to_owned(),
        state,
        ppid,
    })
}

fn processes() -> Vec<Process> {
    std::fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter_map(read_stat)
        .collect()
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) with a positive pid: at worst ESRCH.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}

fn kill_child(child: &mut Child) {
    let _ = child.kill();
    let deadline = Instant::now() + SSHD_LIMIT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port()
}

fn path_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len().max(1))
        .position(|window| window == needle)
}

fn open_pty() -> (OwnedFd, OwnedFd) {
    let mut master = -1;
    let mut slave = -1;
    // SAFETY: openpty fills two descriptors; name, termios and winsize may be null.
    let result = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(result, 0, "openpty: {}", io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nobody else; close-on-exec
    // keeps them out of unrelated children (Stdio dups the slave for ours).
    unsafe {
        libc::fcntl(master, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(slave, libc::F_SETFD, libc::FD_CLOEXEC);
        (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave))
    }
}

/// Waits up to `wait` for the master to be readable, then reads once.
/// Ok(None): nothing arrived in time.
fn read_some(master: &OwnedFd, wait: Duration) -> io::Result<Option<Vec<u8>>> {
    let mut poll = libc::pollfd {
        fd: master.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let ready = unsafe { libc::poll(&mut poll, 1, wait.as_millis() as libc::c_int) };
    if ready < 0 {
        return Err(io::Error::last_os_error());
    }
    if ready == 0 {
        return Ok(None);
    }
    let mut buffer = [0u8; 4096];
    // SAFETY: reading into a live buffer of the given length.
    let count = unsafe { libc::read(master.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
    if count < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Some(buffer[..count as usize].to_vec()))
}

fn write_all(master: &OwnedFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writing from a live buffer of the given length.
        let count = unsafe { libc::write(master.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        if count < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            panic!("write to the pty: {error}");
        }
        bytes = &bytes[count as usize..];
    }
}
