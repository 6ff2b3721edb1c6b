//! docker: the interpreter in a running container (`docker exec -i`).

use super::common::{CommonOptions, Method, MethodCommand, common_builders, program};
use super::container_exec::ContainerExec;
use super::target_command::TargetCommand;
use crate::error::ConnectError;

/// Options for [`Broker::docker`](crate::Broker::docker).
#[derive(Debug, Clone)]
pub struct DockerOptions {
    common: CommonOptions,
    container: String,
    user: Option<String>,
    workdir: Option<String>,
}

impl DockerOptions {
    /// Run in `container` (a name or an id), which must be running.
    pub fn new(container: impl Into<String>) -> DockerOptions {
        DockerOptions {
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

impl Method for DockerOptions {
    fn method_name(&self) -> &'static str {
        "docker"
    }

    fn target_label(&self) -> String {
        format!("container {}", self.container)
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        ContainerExec {
            program: program(&self.common, "docker"),
            container: &self.container,
            user: self.user.as_deref(),
            workdir: self.workdir.as_deref(),
            disable_detach_keys: false,
        }
        .command(target)
    }
}
