//! unshare: the interpreter in new namespaces (a private network, mount table,
//! process tree …). A new PID namespace needs a fork, and its first process (the
//! interpreter) ignores SIGTERM, so unshare runs with `--fork --kill-child`: when
//! unshare goes, the interpreter gets SIGKILL.

use super::common::{CommonOptions, Method, MethodCommand, common_builders, program};
use super::namespaces::Namespace;
use super::target_command::TargetCommand;
use crate::error::ConnectError;
use crate::router::{FailureKind, KnownFailure, TerminalMode};

/// Options for [`Broker::unshare`](crate::Broker::unshare).
#[derive(Debug, Clone)]
pub struct UnshareOptions {
    common: CommonOptions,
    namespaces: Vec<Namespace>,
    map_root_user: bool,
}

impl UnshareOptions {
    /// New namespaces of these kinds. A new PID namespace also gets a fresh /proc
    /// (`--mount-proc`, which implies a new mount namespace).
    pub fn new(namespaces: impl IntoIterator<Item = Namespace>) -> UnshareOptions {
        UnshareOptions {
            common: CommonOptions::default(),
            namespaces: namespaces.into_iter().collect(),
            map_root_user: false,
        }
    }

    common_builders!();

    /// Map this user to root in a new user namespace (`--map-root-user`), so an
    /// unprivileged user may create the other namespaces.
    pub fn map_root_user(mut self, map: bool) -> Self {
        self.map_root_user = map;
        self
    }
}

impl Method for UnshareOptions {
    fn method_name(&self) -> &'static str {
        "unshare"
    }

    fn target_label(&self) -> String {
        let names: Vec<&str> = self
            .namespaces
            .iter()
            .map(|ns| ns.flag().trim_start_matches('-'))
            .collect();
        format!("new namespaces [{}]", names.join(" "))
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        let mut argv = vec![program(&self.common, "unshare")];
        let mut namespaces = self.namespaces.clone();
        namespaces.sort();
        namespaces.dedup();
        for namespace in &namespaces {
            argv.push(namespace.flag().to_string());
        }
        if namespaces.contains(&Namespace::Pid) {
            argv.extend(["--fork", "--kill-child", "--mount-proc"].map(String::from));
        }
        if self.map_root_user {
            argv.push("--map-root-user".into());
        }
        argv.push("--".into());
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
