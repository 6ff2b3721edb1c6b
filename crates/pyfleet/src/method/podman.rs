//! podman: the interpreter in a running container (`podman exec -i`).

use super::common::{CommonOptions, Method, MethodCommand, common_builders, program};
use super::container_exec::ContainerExec;
use super::target_command::TargetCommand;
use crate::error::ConnectError;

/// Options for [`Broker::podman`](crate::Broker::podman).
#[derive(Debug, Clone)]
pub struct PodmanOptions {
    common: CommonOptions,
    container: String,
    user: Option<String>,
    workdir: Option<String>,
}

impl PodmanOptions {
    /// Run in `container` (a name or an id), which must be running.
    pub fn new(container: impl Into<String>) -> PodmanOptions {
        PodmanOptions {
            common: CommonOptions::default(),
            container: container.into(),
            user: None,
            workdir: None,
        }
    }

    common_builders!();

    /// Run as this user inside the container (`--user NAME|UID[:GID]`).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Start in this directory inside the container (`--workdir`).
    pub fn workdir(mut self, dir: impl Into<String>) -> Self {
        self.workdir = Some(dir.into());
        self
    }
}

impl Method for PodmanOptions {
    fn method_name(&self) -> &'static str {
        "podman"
    }

    fn target_label(&self) -> String {
        format!("container {}", self.container)
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        ContainerExec {
            program: program(&self.common, "podman"),
            container: &self.container,
            user: self.user.as_deref(),
            workdir: self.workdir.as_deref(),
            disable_detach_keys: true,
        }
        .command(target)
    }
}
