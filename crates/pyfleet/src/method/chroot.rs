//! chroot: the interpreter with another root directory (an image unpacked on
//! disk, a rescue system). Needs root; the interpreter's path is inside the new
//! root.

use super::common::{CommonOptions, Method, MethodCommand, checked_word, common_builders, program};
use super::target_command::TargetCommand;
use crate::error::ConnectError;
use crate::router::{FailureKind, KnownFailure, TerminalMode};

/// Options for [`Broker::chroot`](crate::Broker::chroot).
#[derive(Debug, Clone)]
pub struct ChrootOptions {
    common: CommonOptions,
    root: String,
    userspec: Option<String>,
}

impl ChrootOptions {
    /// Run with `root` as the root directory.
    pub fn new(root: impl Into<String>) -> ChrootOptions {
        ChrootOptions {
            common: CommonOptions::default(),
            root: root.into(),
            userspec: None,
        }
    }

    common_builders!();

    /// Run as `USER[:GROUP]` inside (`--userspec`).
    pub fn userspec(mut self, userspec: impl Into<String>) -> Self {
        self.userspec = Some(userspec.into());
        self
    }
}

impl Method for ChrootOptions {
    fn method_name(&self) -> &'static str {
        "chroot"
    }

    fn target_label(&self) -> String {
        format!("root {}", self.root)
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        let mut argv = vec![program(&self.common, "chroot")];
        if let Some(userspec) = &self.userspec {
            argv.push(format!(
                "--userspec={}",
                checked_word("userspec", userspec)?
            ));
        }
        argv.push("--".into());
        argv.push(checked_word("chroot directory", &self.root)?);
        argv.extend(target.argv(false));
        Ok(MethodCommand {
            argv,
            terminal: TerminalMode::None,
            prompts: Vec::new(),
            failures: vec![KnownFailure::new(
                "operation not permitted",
                FailureKind::NotPermitted,
            )],
        })
    }
}
