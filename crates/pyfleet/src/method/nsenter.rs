//! nsenter: the interpreter inside the namespaces of a running process (setns),
//! e.g. a container's init or a network namespace's daemon. Needs root (or the
//! capabilities to enter them).

use super::common::{CommonOptions, Method, MethodCommand, common_builders, program};
use super::namespaces::Namespace;
use super::target_command::TargetCommand;
use crate::error::ConnectError;
use crate::router::{FailureKind, KnownFailure, TerminalMode};

/// Options for [`Broker::nsenter`](crate::Broker::nsenter).
#[derive(Debug, Clone)]
pub struct NsenterOptions {
    common: CommonOptions,
    pid: u32,
    namespaces: Vec<Namespace>,
    uid: Option<u32>,
    gid: Option<u32>,
}

impl NsenterOptions {
    /// Enter every namespace of process `pid` (`nsenter -t PID -a`).
    pub fn new(pid: u32) -> NsenterOptions {
        NsenterOptions {
            common: CommonOptions::default(),
            pid,
            namespaces: Vec::new(),
            uid: None,
            gid: None,
        }
    }

    common_builders!();

    /// Enter only these namespaces (default: all of them).
    pub fn namespaces(mut self, namespaces: impl IntoIterator<Item = Namespace>) -> Self {
        self.namespaces = namespaces.into_iter().collect();
        self
    }

    /// Run as this user id inside (`--setuid`).
    pub fn uid(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    /// Run with this group id inside (`--setgid`).
    pub fn gid(mut self, gid: u32) -> Self {
        self.gid = Some(gid);
        self
    }
}

impl Method for NsenterOptions {
    fn method_name(&self) -> &'static str {
        "nsenter"
    }

    fn target_label(&self) -> String {
        format!("namespaces of pid {}", self.pid)
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        let mut argv = vec![
            program(&self.common, "nsenter"),
            "--target".into(),
            self.pid.to_string(),
        ];
        if self.namespaces.is_empty() {
            argv.push("--all".into());
        } else {
            argv.extend(self.namespaces.iter().map(|ns| ns.flag().to_string()));
        }
        if let Some(uid) = self.uid {
            argv.push(format!("--setuid={uid}"));
        }
        if let Some(gid) = self.gid {
            argv.push(format!("--setgid={gid}"));
        }
        argv.push("--".into());
        argv.extend(target.argv(false));
        Ok(MethodCommand {
            argv,
            terminal: TerminalMode::None,
            prompts: Vec::new(),
            failures: vec![
                KnownFailure::new("cannot open /proc/", FailureKind::Unreachable),
                KnownFailure::new("operation not permitted", FailureKind::NotPermitted),
            ],
        })
    }
}
