//! LXD's `lxc exec` and Incus's `incus exec`: the interpreter in a running system
//! container, without a terminal (`--mode non-interactive`).

use super::common::{CommonOptions, Method, MethodCommand, checked_word, common_builders, program};
use super::target_command::TargetCommand;
use crate::error::ConnectError;
use crate::router::{FailureKind, KnownFailure, TerminalMode};

/// Options for [`Broker::lxc`](crate::Broker::lxc).
#[derive(Debug, Clone)]
pub struct LxcOptions {
    common: CommonOptions,
    container: String,
    incus: bool,
    user: Option<u32>,
    group: Option<u32>,
    cwd: Option<String>,
}

impl LxcOptions {
    /// Run in `container` with `lxc exec` (LXD).
    pub fn new(container: impl Into<String>) -> LxcOptions {
        LxcOptions {
            common: CommonOptions::default(),
            container: container.into(),
            incus: false,
            user: None,
            group: None,
            cwd: None,
        }
    }

    /// Run in `container` with `incus exec` (Incus).
    pub fn incus(container: impl Into<String>) -> LxcOptions {
        LxcOptions {
            incus: true,
            ..LxcOptions::new(container)
        }
    }

    common_builders!();

    /// Run as this user id (`--user`).
    pub fn user(mut self, uid: u32) -> Self {
        self.user = Some(uid);
        self
    }

    /// Run with this group id (`--group`).
    pub fn group(mut self, gid: u32) -> Self {
        self.group = Some(gid);
        self
    }

    /// Start in this directory (`--cwd`).
    pub fn cwd(mut self, dir: impl Into<String>) -> Self {
        self.cwd = Some(dir.into());
        self
    }
}

impl Method for LxcOptions {
    fn method_name(&self) -> &'static str {
        if self.incus { "incus" } else { "lxc" }
    }

    fn target_label(&self) -> String {
        format!("container {}", self.container)
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        let mut argv = vec![program(&self.common, self.method_name()), "exec".into()];
        argv.push("--mode".into());
        argv.push("non-interactive".into());
        if let Some(uid) = self.user {
            argv.push("--user".into());
            argv.push(uid.to_string());
        }
        if let Some(gid) = self.group {
            argv.push("--group".into());
            argv.push(gid.to_string());
        }
        if let Some(cwd) = &self.cwd {
            argv.push("--cwd".into());
            argv.push(cwd.clone());
        }
        argv.push(checked_word("container", &self.container)?);
        argv.push("--".into());
        argv.extend(target.argv(false));
        Ok(MethodCommand {
            argv,
            terminal: TerminalMode::None,
            prompts: Vec::new(),
            failures: vec![
                KnownFailure::new("instance not found", FailureKind::Unreachable),
                KnownFailure::new("instance is not running", FailureKind::Unreachable),
            ],
        })
    }
}
