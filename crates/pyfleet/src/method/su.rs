//! su: the interpreter as another user, through that user's shell.
//!
//! su reads the password from its stdin and prompts on stderr, so both are a raw
//! PTY (which is also its controlling terminal): the password and then the frames
//! are written to the PTY master, and the core is sent only after the ready
//! marker. stdout stays a pipe, so frames never mix with su's messages, and
//! closing the master at the end hangs up su and the interpreter. The command is one
//! string for the user's shell (`su USER -c STRING`), quoted for a POSIX shell.
//! Root needs no password; anyone else does.

use super::common::{
    CommonOptions, Method, MethodCommand, checked_word, common_builders, password_builders, program,
};
use super::target_command::TargetCommand;
use crate::error::ConnectError;
use crate::router::{FailureKind, KnownFailure, TerminalMode};

/// Options for [`Broker::su`](crate::Broker::su).
#[derive(Debug, Clone, Default)]
pub struct SuOptions {
    common: CommonOptions,
    user: Option<String>,
    login: bool,
    shell: Option<String>,
}

impl SuOptions {
    /// Become `user`.
    pub fn new(user: impl Into<String>) -> SuOptions {
        SuOptions {
            user: Some(user.into()),
            ..SuOptions::default()
        }
    }

    /// Become root.
    pub fn root() -> SuOptions {
        SuOptions::default()
    }

    common_builders!();
    password_builders!();

    /// A login session (`-l`): a fresh environment and the user's profile.
    pub fn login(mut self, login: bool) -> Self {
        self.login = login;
        self
    }

    /// Run the command with this shell instead of the user's (`-s SHELL`), e.g. for
    /// an account whose shell is nologin.
    pub fn shell(mut self, shell: impl Into<String>) -> Self {
        self.shell = Some(shell.into());
        self
    }
}

impl Method for SuOptions {
    fn method_name(&self) -> &'static str {
        "su"
    }

    fn target_label(&self) -> String {
        format!("user {}", self.user.as_deref().unwrap_or("root"))
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        use FailureKind::{Authentication, NotPermitted};
        let mut argv = vec![program(&self.common, "su")];
        if self.login {
            argv.push("-l".into());
        }
        if let Some(shell) = &self.shell {
            argv.push("-s".into());
            argv.push(shell.clone());
        }
        if let Some(user) = &self.user {
            argv.push(checked_word("su user", user)?);
        }
        argv.push("-c".into());
        argv.push(target.shell());
        Ok(MethodCommand {
            argv,
            terminal: TerminalMode::RawStdin,
            prompts: vec!["password".into()],
            failures: vec![
                KnownFailure::new("su: authentication failure", Authentication),
                KnownFailure::new("su: permission denied", NotPermitted),
                KnownFailure::new("does not exist or the user entry", NotPermitted),
            ],
        })
    }
}
