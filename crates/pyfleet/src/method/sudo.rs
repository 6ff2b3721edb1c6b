//! sudo: the interpreter as another user on this host (or on the host a context
//! runs on, once hops chain).
//!
//! Without a password, sudo runs with `-n` and no terminal: a rule that needs a
//! password fails at once ("a password is required"). With one, sudo gets a PTY as
//! its controlling terminal, prompts there, and the core is sent only after the
//! loader's ready marker.

use super::common::{
    CommonOptions, Method, MethodCommand, checked_word, common_builders, password_builders, program,
};
use super::target_command::TargetCommand;
use crate::error::ConnectError;
use crate::router::{FailureKind, KnownFailure, TerminalMode};

/// Options for [`Broker::sudo`](crate::Broker::sudo).
///
/// ```
/// use pyfleet::method::SudoOptions;
/// let options = SudoOptions::new("postgres").python("/usr/bin/python3.11").preserve_env(true);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
pub struct SudoOptions {
    common: CommonOptions,
    user: Option<String>,
    preserve_env: bool,
    login_shell: bool,
    extra_args: Vec<String>,
    selinux_role: Option<String>,
    selinux_type: Option<String>,
}

impl SudoOptions {
    /// Run as `user` (`sudo -u USER`).
    pub fn new(user: impl Into<String>) -> SudoOptions {
        SudoOptions {
            user: Some(user.into()),
            ..SudoOptions::default()
        }
    }

    /// Run as root (sudo's default user).
    pub fn root() -> SudoOptions {
        SudoOptions::default()
    }

    common_builders!();
    password_builders!();

    /// Keep this process's environment (`-E`; its `PYTHON*` variables are still
    /// dropped unless the start-up configuration inherits everything).
    pub fn preserve_env(mut self, preserve: bool) -> Self {
        self.preserve_env = preserve;
        self
    }

    /// Run through the target user's login shell (`-i`): their profile is read.
    pub fn login_shell(mut self, login: bool) -> Self {
        self.login_shell = login;
        self
    }

    /// Another argument for sudo, placed before `--`.
    pub fn extra_arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// The SELinux role of the new process (`-r ROLE`).
    pub fn selinux_role(mut self, role: impl Into<String>) -> Self {
        self.selinux_role = Some(role.into());
        self
    }

    /// The SELinux type of the new process (`-t TYPE`).
    pub fn selinux_type(mut self, selinux_type: impl Into<String>) -> Self {
        self.selinux_type = Some(selinux_type.into());
        self
    }
}

/// What sudo says when it refuses.
fn failures() -> Vec<KnownFailure> {
    use FailureKind::{Authentication, NotPermitted};
    vec![
        KnownFailure::new("sorry, try again.", Authentication),
        KnownFailure::new("incorrect password attempt", Authentication),
        KnownFailure::new("a password is required", Authentication),
        KnownFailure::new("is not in the sudoers file", NotPermitted),
        KnownFailure::new("is not allowed to execute", NotPermitted),
        KnownFailure::new("may not run sudo", NotPermitted),
        KnownFailure::new("unknown user", NotPermitted),
    ]
}

impl Method for SudoOptions {
    fn method_name(&self) -> &'static str {
        "sudo"
    }

    fn target_label(&self) -> String {
        format!("user {}", self.user.as_deref().unwrap_or("root"))
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        let prompting = self.common.password.is_some();
        let mut argv = vec![program(&self.common, "sudo")];
        if !prompting {
            argv.push("-n".into());
        }
        if self.preserve_env {
            argv.push("-E".into());
        }
        if self.login_shell {
            argv.push("-i".into());
        }
        if let Some(user) = &self.user {
            argv.push("-u".into());
            argv.push(checked_word("sudo user", user)?);
        }
        if let Some(role) = &self.selinux_role {
            argv.push("-r".into());
            argv.push(checked_word("SELinux role", role)?);
        }
        if let Some(selinux_type) = &self.selinux_type {
            argv.push("-t".into());
            argv.push(checked_word("SELinux type", selinux_type)?);
        }
        argv.extend(self.extra_args.iter().cloned());
        argv.push("--".into());
        // sudo -i re-quotes the command for the login shell with backslashes, and
        // a backslash before a newline joins lines: the loader goes on one line.
        argv.extend(target.argv(self.login_shell));
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
