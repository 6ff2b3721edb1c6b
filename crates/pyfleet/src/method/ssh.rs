//! ssh: the interpreter on another host, through the OpenSSH client.
//!
//! The client is run as the user would run it, so `~/.ssh/config`, the agent,
//! ProxyJump and known_hosts apply. The target command is one string for the remote
//! user's shell (which must be a POSIX shell: sh, bash, dash, zsh, ksh), every word
//! single-quoted.
//!
//! Without a password: `BatchMode=yes` (ssh never prompts; a refused key fails at
//! once), no terminal, the core sent right away. With a password: a PTY as ssh's
//! controlling terminal (ssh reads passwords only from /dev/tty), one password
//! attempt, and the core sent after the ready marker.
//!
//! Multiplexing (key-based hosts): `ControlMaster=auto`, `ControlPersist`, and a
//! control socket in a private directory (mode 0700, see [`SshOptions::multiplex`]).
//! The master connection outlives the context for the persist time, by design; a
//! second context to the same host then skips the ssh handshake.

use std::path::PathBuf;
use std::time::Duration;

use super::common::{
    CommonOptions, DEFAULT_HOP_TIMEOUT, Method, MethodCommand, checked_word, common_builders,
    password_builders, program,
};
use super::ssh_control::{default_control_dir, ensure_private_dir};
use super::target_command::TargetCommand;
use crate::error::ConnectError;
use crate::router::{FailureKind, KnownFailure, TerminalMode};

/// What ssh does with the host's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKeyPolicy {
    /// The key must be known and match (`StrictHostKeyChecking=yes`).
    Enforce,
    /// An unknown host's key is added; a changed key is refused
    /// (`StrictHostKeyChecking=accept-new`).
    AcceptNew,
    /// Any key is accepted and nothing is recorded (`StrictHostKeyChecking=no`,
    /// known hosts files `/dev/null`): for throw-away hosts only.
    Ignore,
}

/// Options for [`Broker::ssh`](crate::Broker::ssh).
///
/// ```
/// use pyfleet::method::{HostKeyPolicy, SshOptions};
/// let options = SshOptions::new("web1")
///     .user("deploy")
///     .port(2222)
///     .identity_file("/home/me/.ssh/deploy")
///     .host_key_policy(HostKeyPolicy::Enforce)
///     .multiplex(std::time::Duration::from_secs(60));
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct SshOptions {
    common: CommonOptions,
    host: String,
    user: Option<String>,
    port: Option<u16>,
    identity_file: Option<PathBuf>,
    config_file: Option<PathBuf>,
    known_hosts: Option<PathBuf>,
    host_key: Option<HostKeyPolicy>,
    ssh_connect_timeout: Option<Duration>,
    keepalive: Option<Duration>,
    compression: Option<bool>,
    multiplex: Option<Duration>,
    control_dir: Option<PathBuf>,
    ssh_args: Vec<String>,
}

impl SshOptions {
    /// Reach `host` (a name, an address, or a `Host` alias of the ssh config).
    pub fn new(host: impl Into<String>) -> SshOptions {
        SshOptions {
            common: CommonOptions::default(),
            host: host.into(),
            user: None,
            port: None,
            identity_file: None,
            config_file: None,
            known_hosts: None,
            host_key: None,
            ssh_connect_timeout: None,
            keepalive: None,
            compression: None,
            multiplex: None,
            control_dir: None,
            ssh_args: Vec::new(),
        }
    }

    common_builders!();
    password_builders!();

    /// Log in as `user` (`-l`; default: as the ssh config says, else this user).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The port (`-p`; default: as the ssh config says, else 22).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The private key (`-i`).
    pub fn identity_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.identity_file = Some(path.into());
        self
    }

    /// Another ssh config file instead of `~/.ssh/config` (`-F`).
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// Another known hosts file (`UserKnownHostsFile`).
    pub fn known_hosts(mut self, path: impl Into<PathBuf>) -> Self {
        self.known_hosts = Some(path.into());
        self
    }

    /// What to do with the host key (default: as the ssh config says).
    pub fn host_key_policy(mut self, policy: HostKeyPolicy) -> Self {
        self.host_key = Some(policy);
        self
    }

    /// Bound on the TCP connection and ssh handshake (`ConnectTimeout`; default
    /// the context's connect timeout).
    pub fn ssh_connect_timeout(mut self, timeout: Duration) -> Self {
        self.ssh_connect_timeout = Some(timeout);
        self
    }

    /// Probe the server every `interval` and give up after three missed answers
    /// (`ServerAliveInterval`, `ServerAliveCountMax=3`), so a dead host ends the
    /// context instead of hanging it.
    pub fn keepalive(mut self, interval: Duration) -> Self {
        self.keepalive = Some(interval);
        self
    }

    /// Compress the connection (`-C`), or turn compression off explicitly.
    pub fn compression(mut self, compression: bool) -> Self {
        self.compression = Some(compression);
        self
    }

    /// Share one ssh connection between contexts to the same host and keep it for
    /// `persist` after the last one ends (`ControlMaster=auto`, `ControlPersist`).
    /// For key-based hosts: refused together with a password.
    pub fn multiplex(mut self, persist: Duration) -> Self {
        self.multiplex = Some(persist);
        self
    }

    /// The directory of the control sockets (default `$XDG_RUNTIME_DIR/pyfleet-ssh`,
    /// else `/tmp/pyfleet-ssh-UID`); created private (0700), refused if others can
    /// enter it.
    pub fn control_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.control_dir = Some(dir.into());
        self
    }

    /// Another argument for ssh, placed before the host (`-o Name=value`, `-J`, …).
    pub fn ssh_arg(mut self, arg: impl Into<String>) -> Self {
        self.ssh_args.push(arg.into());
        self
    }
}

fn option(argv: &mut Vec<String>, name: &str, value: impl std::fmt::Display) {
    argv.push("-o".into());
    argv.push(format!("{name}={value}"));
}

fn path_text(what: &str, path: &std::path::Path) -> Result<String, ConnectError> {
    path.to_str().map(str::to_string).ok_or_else(|| {
        ConnectError::InvalidOption(format!("the {what} path {path:?} is not UTF-8"))
    })
}

/// Whole seconds, at least one (ssh takes only whole seconds).
fn seconds(duration: Duration) -> u64 {
    duration.as_secs_f64().ceil().max(1.0) as u64
}

/// What the OpenSSH client says when it fails.
fn failures() -> Vec<KnownFailure> {
    use FailureKind::{Authentication, HostKey, Unreachable};
    vec![
        KnownFailure::new("permission denied (", Authentication),
        KnownFailure::new("permission denied, please try again", Authentication),
        KnownFailure::new("too many authentication failures", Authentication),
        KnownFailure::new("remote host identification has changed", HostKey),
        KnownFailure::new("host key verification failed", HostKey),
        KnownFailure::new("could not resolve hostname", Unreachable),
        KnownFailure::new("connection refused", Unreachable),
        KnownFailure::new("connection timed out", Unreachable),
        KnownFailure::new("operation timed out", Unreachable),
        KnownFailure::new("no route to host", Unreachable),
        KnownFailure::new("network is unreachable", Unreachable),
    ]
}

impl Method for SshOptions {
    fn method_name(&self) -> &'static str {
        "ssh"
    }

    fn target_label(&self) -> String {
        let mut label = String::new();
        if let Some(user) = &self.user {
            label.push_str(user);
            label.push('@');
        }
        label.push_str(&self.host);
        if let Some(port) = self.port {
            label.push_str(&format!(":{port}"));
        }
        label
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        let prompting = self.common.password.is_some();
        let mut argv = vec![program(&self.common, "ssh")];
        if let Some(config) = &self.config_file {
            argv.push("-F".into());
            argv.push(path_text("ssh config", config)?);
        }
        // No terminal on the remote side: the data must cross unchanged.
        argv.push("-T".into());
        if let Some(user) = &self.user {
            argv.push("-l".into());
            argv.push(checked_word("ssh user", user)?);
        }
        if let Some(port) = self.port {
            argv.push("-p".into());
            argv.push(port.to_string());
        }
        if let Some(identity) = &self.identity_file {
            argv.push("-i".into());
            argv.push(path_text("identity file", identity)?);
        }
        if prompting {
            option(&mut argv, "BatchMode", "no");
            option(&mut argv, "NumberOfPasswordPrompts", 1);
        } else {
            option(&mut argv, "BatchMode", "yes");
        }
        if let Some(known_hosts) = &self.known_hosts {
            option(
                &mut argv,
                "UserKnownHostsFile",
                path_text("known hosts", known_hosts)?,
            );
        }
        match self.host_key {
            None => {}
            Some(HostKeyPolicy::Enforce) => option(&mut argv, "StrictHostKeyChecking", "yes"),
            Some(HostKeyPolicy::AcceptNew) => {
                option(&mut argv, "StrictHostKeyChecking", "accept-new")
            }
            Some(HostKeyPolicy::Ignore) => {
                option(&mut argv, "StrictHostKeyChecking", "no");
                option(&mut argv, "UserKnownHostsFile", "/dev/null");
                option(&mut argv, "GlobalKnownHostsFile", "/dev/null");
                option(&mut argv, "LogLevel", "ERROR");
            }
        }
        let connect_timeout = self
            .ssh_connect_timeout
            .or(self.common.connect_timeout)
            .unwrap_or(DEFAULT_HOP_TIMEOUT);
        option(&mut argv, "ConnectTimeout", seconds(connect_timeout));
        if let Some(interval) = self.keepalive {
            option(&mut argv, "ServerAliveInterval", seconds(interval));
            option(&mut argv, "ServerAliveCountMax", 3);
        }
        match self.compression {
            Some(true) => argv.push("-C".into()),
            Some(false) => option(&mut argv, "Compression", "no"),
            None => {}
        }
        if let Some(persist) = self.multiplex {
            if prompting {
                return Err(ConnectError::InvalidOption(
                    "ssh multiplexing is for key-based hosts: a shared master connection \
                     would outlive the terminal its password was typed on; drop the password \
                     or the multiplexing"
                        .into(),
                ));
            }
            let dir = self.control_dir.clone().unwrap_or_else(default_control_dir);
            ensure_private_dir(&dir)?;
            option(&mut argv, "ControlMaster", "auto");
            option(
                &mut argv,
                "ControlPath",
                format!("{}/%C", path_text("control", &dir)?),
            );
            option(&mut argv, "ControlPersist", seconds(persist));
        }
        argv.extend(self.ssh_args.iter().cloned());
        argv.push("--".into());
        argv.push(checked_word("ssh host", &self.host)?);
        argv.push(target.shell());
        Ok(MethodCommand {
            argv,
            terminal: if prompting {
                TerminalMode::ControllingTty
            } else {
                TerminalMode::None
            },
            prompts: vec!["password".into()],
            failures: failures(),
        })
    }
}
