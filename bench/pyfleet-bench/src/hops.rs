//! Contexts through a hop (ssh on the test bed's loopback sshd, sudo to another
//! user) and the plain commands they are compared with: `ssh HOST 'python -I -S -c
//! pass'` and `sudo -u USER python -I -S -c pass`, both timed here from spawn to
//! exit with the same ssh options pyfleet passes.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use pyfleet::Broker;
use pyfleet::method::{Hop, SshOptions, SudoOptions};
use pyfleet::startup::{PythonTarget, StartupConfig};
use serde_json::{Value, json};

use crate::setup::{bounded, bounded_infallible};
use crate::stats::{summary, with};

/// How long a multiplexing master outlives the run.
const MUX_PERSIST: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum HopMethod {
    /// A new ssh connection per context (key login, BatchMode).
    Ssh,
    /// ssh with ControlMaster/ControlPersist: every sample after the first reuses
    /// the master connection.
    SshMux,
    /// sudo from root to another user (no password).
    Sudo,
}

#[derive(clap::Args, Clone, Debug)]
pub struct HopArgs {
    #[arg(long, value_enum)]
    pub method: HopMethod,
    /// The interpreter on the target.
    #[arg(long, default_value = "/usr/bin/python3.11")]
    pub python: String,
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long, default_value_t = 2222)]
    pub port: u16,
    /// The ssh login user, or sudo's target user.
    #[arg(long, default_value = "pfkey")]
    pub user: String,
    /// ssh -F: the test bed's config names the key and known_hosts.
    #[arg(long)]
    pub ssh_config: Option<PathBuf>,
    #[arg(long, default_value_t = 5)]
    pub samples: usize,
}

impl HopArgs {
    fn control_dir(&self) -> PathBuf {
        std::env::temp_dir().join(format!("pyfleet-bench-mux-{}", std::process::id()))
    }

    /// The hop pyfleet starts: `-I -S` like the plain command.
    fn hop(&self) -> Hop {
        let startup = StartupConfig {
            isolated: true,
            no_site: true,
            ..StartupConfig::default()
        };
        let target = PythonTarget::cpython(3, 11, 0);
        match self.method {
            HopMethod::Sudo => SudoOptions::new(&self.user)
                .python(&self.python)
                .python_target(target)
                .startup(startup)
                .into(),
            HopMethod::Ssh | HopMethod::SshMux => {
                let mut options = SshOptions::new(&self.host)
                    .port(self.port)
                    .user(&self.user)
                    .python(&self.python)
                    .python_target(target)
                    .startup(startup);
                if let Some(config) = &self.ssh_config {
                    options = options.config_file(config);
                }
                if self.method == HopMethod::SshMux {
                    options = options
                        .multiplex(MUX_PERSIST)
                        .control_dir(self.control_dir());
                }
                options.into()
            }
        }
    }

    /// The plain command, with the options pyfleet gives ssh.
    fn bare_command(&self) -> Command {
        let target = format!("{} -I -S -c pass", self.python);
        let mut command = match self.method {
            HopMethod::Sudo => {
                let mut command = Command::new("sudo");
                command.args(["-n", "-u", &self.user, "--"]);
                command.args(target.split(' '));
                command
            }
            HopMethod::Ssh | HopMethod::SshMux => {
                let mut command = Command::new("ssh");
                if let Some(config) = &self.ssh_config {
                    command.arg("-F").arg(config);
                }
                command.args(["-T", "-l", &self.user, "-p", &self.port.to_string()]);
                command.args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=30"]);
                if self.method == HopMethod::SshMux {
                    command.args(["-o", "ControlMaster=auto"]);
                    command
                        .arg("-o")
                        .arg(format!("ControlPath={}/%C", self.control_dir().display()));
                    command.args(["-o", &format!("ControlPersist={}", MUX_PERSIST.as_secs())]);
                }
                command.args(["--", &self.host, &target]);
                command
            }
        };
        for (key, _) in std::env::vars_os() {
            if key.as_encoded_bytes().starts_with(b"PYTHON") {
                command.env_remove(key);
            }
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// Ends a multiplexing master this run started.
    fn stop_master(&self) {
        if self.method != HopMethod::SshMux {
            return;
        }
        let mut command = Command::new("ssh");
        if let Some(config) = &self.ssh_config {
            command.arg("-F").arg(config);
        }
        let _ = command
            .arg("-o")
            .arg(format!("ControlPath={}/%C", self.control_dir().display()))
            .args([
                "-O",
                "exit",
                "-l",
                &self.user,
                "-p",
                &self.port.to_string(),
                &self.host,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(self.control_dir());
    }

    fn describe(&self, what: &str) -> Value {
        json!({
            "bench": what,
            "unit": "s",
            "variant": {
                "method": format!("{:?}", self.method),
                "host": self.host,
                "port": self.port,
                "user": self.user,
                "python": self.python,
            },
        })
    }
}

/// Each sample: a new broker, a context through the hop, one `os.getpid` call;
/// the clock stops at the answer; shutdown is outside the clock. The first sample
/// (which also sets up a multiplexing master) is dropped.
pub fn run(args: HopArgs) -> anyhow::Result<Value> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let count = args.samples;
    let hop = args.hop();
    let samples = runtime.block_on(async move {
        let mut samples = Vec::with_capacity(count);
        for index in 0..=count {
            let broker = Broker::new();
            let start = Instant::now();
            let context = bounded("starting a context", broker.connect(hop.clone())).await?;
            let pid: u32 =
                bounded("calling os.getpid", context.call("os", "getpid", (), ())).await?;
            let elapsed = start.elapsed().as_secs_f64();
            anyhow::ensure!(pid == context.facts().pid, "os.getpid answered {pid}");
            bounded_infallible("shutting down", broker.shutdown()).await?;
            if index > 0 {
                samples.push(elapsed);
            }
        }
        anyhow::Ok(samples)
    });
    args.stop_master();
    Ok(with(args.describe("hop-spawn"), summary(&samples?)))
}

/// Each sample: the plain command from spawn to exit. The first is dropped.
pub fn run_bare(args: HopArgs) -> anyhow::Result<Value> {
    if args.method == HopMethod::SshMux {
        std::fs::create_dir_all(args.control_dir())?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(args.control_dir(), std::fs::Permissions::from_mode(0o700))?;
    }
    let mut samples = Vec::with_capacity(args.samples);
    let mut failure = None;
    for index in 0..=args.samples {
        let start = Instant::now();
        let status = args.bare_command().status()?;
        let elapsed = start.elapsed().as_secs_f64();
        if !status.success() {
            failure = Some(status);
            break;
        }
        if index > 0 {
            samples.push(elapsed);
        }
    }
    args.stop_master();
    if let Some(status) = failure {
        anyhow::bail!("the plain command failed: {status}");
    }
    Ok(with(args.describe("bare-hop"), summary(&samples)))
}
