//! doas (OpenBSD's, also on Linux as opendoas): the interpreter as another user.
//!
//! Like sudo: `-n` and no terminal without a password; with one, a PTY as the
//! controlling terminal where doas prompts, and the core only after the ready
//! marker.

use super::common::{
    CommonOptions, Method, MethodCommand, checked_word, common_builders, password_builders, program,
};
use super::target_command::TargetCommand;
use crate::error::ConnectError;
use crate::router::{FailureKind, KnownFailure, TerminalMode};

/// Options for [`Broker::doas`](crate::Broker::doas).
#[derive(Debug, Clone, Default)]
pub struct DoasOptions {
    common: CommonOptions,
    user: Option<String>,
}

impl DoasOptions {
    /// Run as `user` (`doas -u USER`).
    pub fn new(user: impl Into<String>) -> DoasOptions {
        DoasOptions {
            user: Some(user.into()),
            ..DoasOptions::default()
        }
    }

    /// Run as root (doas's default user).
    pub fn root() -> DoasOptions {
        DoasOptions::default()
    }

    common_builders!();
    password_builders!();
}

impl Method for DoasOptions {
    fn method_name(&self) -> &'static str {
        "doas"
    }

    fn target_label(&self) -> String {
        format!("user {}", self.user.as_deref().unwrap_or("root"))
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        use FailureKind::{Authentication, NotPermitted};
        let prompting = self.common.password.is_some();
        let mut argv = vec![program(&self.common, "doas")];
        if !prompting {
            argv.push("-n".into());
        }
        if let Some(user) = &self.user {
            argv.push("-u".into());
            argv.push(checked_word("doas user", user)?);
        }
        argv.push("--".into());
        argv.extend(target.argv(false));
        Ok(MethodCommand {
            argv,
            terminal: if prompting {
                TerminalMode::ControllingTty
            } else {
                TerminalMode::None
            },
            prompts: vec!["password".into()],
            failures: vec![
                KnownFailure::new("doas: authentication failed", Authentication),
                KnownFailure::new("doas: a password is required", Authentication),
                KnownFailure::new("doas: operation not permitted", NotPermitted),
                KnownFailure::new("doas: unknown user", NotPermitted),
            ],
        })
    }
}
