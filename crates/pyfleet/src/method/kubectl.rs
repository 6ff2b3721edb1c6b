//! kubectl: the interpreter in a running pod (`kubectl exec -i POD -- …`).

use super::common::{CommonOptions, Method, MethodCommand, checked_word, common_builders, program};
use super::target_command::TargetCommand;
use crate::error::ConnectError;
use crate::router::{FailureKind, KnownFailure, TerminalMode};

/// Options for [`Broker::kubectl`](crate::Broker::kubectl).
#[derive(Debug, Clone)]
pub struct KubectlOptions {
    common: CommonOptions,
    pod: String,
    namespace: Option<String>,
    container: Option<String>,
    kube_context: Option<String>,
}

impl KubectlOptions {
    /// Run in `pod`.
    pub fn new(pod: impl Into<String>) -> KubectlOptions {
        KubectlOptions {
            common: CommonOptions::default(),
            pod: pod.into(),
            namespace: None,
            container: None,
            kube_context: None,
        }
    }

    common_builders!();

    /// The pod's namespace (`-n`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The container in the pod (`-c`).
    pub fn container(mut self, container: impl Into<String>) -> Self {
        self.container = Some(container.into());
        self
    }

    /// The kubeconfig context (`--context`).
    pub fn kube_context(mut self, context: impl Into<String>) -> Self {
        self.kube_context = Some(context.into());
        self
    }
}

impl Method for KubectlOptions {
    fn method_name(&self) -> &'static str {
        "kubectl"
    }

    fn target_label(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("pod {namespace}/{}", self.pod),
            None => format!("pod {}", self.pod),
        }
    }

    fn common_options(&self) -> &CommonOptions {
        &self.common
    }

    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError> {
        let mut argv = vec![program(&self.common, "kubectl")];
        if let Some(context) = &self.kube_context {
            argv.push("--context".into());
            argv.push(checked_word("kube context", context)?);
        }
        argv.push("exec".into());
        argv.push("-i".into());
        if let Some(namespace) = &self.namespace {
            argv.push("-n".into());
            argv.push(checked_word("namespace", namespace)?);
        }
        if let Some(container) = &self.container {
            argv.push("-c".into());
            argv.push(checked_word("container", container)?);
        }
        argv.push(checked_word("pod", &self.pod)?);
        argv.push("--".into());
        argv.extend(target.argv(false));
        Ok(MethodCommand {
            argv,
            terminal: TerminalMode::None,
            prompts: Vec::new(),
            failures: vec![
                KnownFailure::new("(notfound)", FailureKind::Unreachable),
                KnownFailure::new("unable to connect to the server", FailureKind::Unreachable),
            ],
        })
    }
}
