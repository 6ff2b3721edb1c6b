//! `podman exec -i` and `docker exec -i`: the same command line, two programs.

use super::common::{MethodCommand, checked_word};
use super::target_command::TargetCommand;
use crate::error::ConnectError;
use crate::router::{FailureKind, KnownFailure, TerminalMode};

/// What a container exec needs.
pub(crate) struct ContainerExec<'a> {
    pub(crate) program: String,
    pub(crate) container: &'a str,
    pub(crate) user: Option<&'a str>,
    pub(crate) workdir: Option<&'a str>,
    /// podman: `--detach-keys=` turns off the detach sequence, which could
    /// otherwise appear inside binary frames on stdin.
    pub(crate) disable_detach_keys: bool,
}

impl ContainerExec<'_> {
    pub(crate) fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        let mut argv = vec![self.program.clone(), "exec".into(), "-i".into()];
        if self.disable_detach_keys {
            argv.push("--detach-keys=".into());
        }
        if let Some(user) = self.user {
            argv.push("--user".into());
            argv.push(checked_word("container user", user)?);
        }
        if let Some(workdir) = self.workdir {
            argv.push("--workdir".into());
            argv.push(workdir.to_string());
        }
        argv.push(checked_word("container", self.container)?);
        argv.extend(target.argv(false));
        Ok(MethodCommand {
            argv,
            terminal: TerminalMode::None,
            prompts: Vec::new(),
            failures: vec![
                KnownFailure::new("no such container", FailureKind::Unreachable),
                KnownFailure::new("is not running", FailureKind::Unreachable),
            ],
        })
    }
}
