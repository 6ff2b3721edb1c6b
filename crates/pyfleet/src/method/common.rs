//! What every method shares: the interpreter on the target, start-up settings, a
//! name, a time bound, the method's program, and — for methods that prompt — a
//! password and extra prompt texts. Also the one place where a method's pieces
//! become a [`HopPlan`] and a [`LaunchPlan`].

use std::time::Duration;

use super::target_command::TargetCommand;
use crate::bootstrap::{Nonce, core_payload, loader_source};
use crate::error::ConnectError;
use crate::router::{
    HopEnv, HopPlan, KnownFailure, LaunchPlan, Password, PayloadTiming, PromptRules, TerminalMode,
};
use crate::startup::{ANY_TARGET, InheritEnv, PythonTarget, StartupConfig, lower};

/// Default bound on start → ready for a hop (a slow host, a password prompt).
pub const DEFAULT_HOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Default silence after an unanswered partial line before it counts as an
/// unknown prompt.
pub const DEFAULT_UNKNOWN_PROMPT: Duration = Duration::from_secs(2);

/// The interpreter run on the target when none is named: only local discovery
/// exists, so the target's `PATH` decides.
pub const DEFAULT_TARGET_PYTHON: &str = "python3";

/// Settings every method has (see the builder methods of each options type).
#[derive(Debug, Clone)]
pub struct CommonOptions {
    /// The interpreter on the target (default [`DEFAULT_TARGET_PYTHON`]).
    pub python: String,
    /// Its implementation and version, when start-up settings depend on it.
    pub target: Option<PythonTarget>,
    /// Start-up settings, verified against the child's report.
    pub startup: StartupConfig,
    /// The context's name (default "METHOD.ID").
    pub name: Option<String>,
    /// Bound on start → ready (default [`DEFAULT_HOP_TIMEOUT`]).
    pub connect_timeout: Option<Duration>,
    /// The method's program instead of its usual name.
    pub program: Option<String>,
    /// The password to type at a prompt.
    pub password: Option<Password>,
    /// More texts that end a password prompt.
    pub prompts: Vec<String>,
    /// Silence before an unanswered line counts as an unknown prompt (default
    /// [`DEFAULT_UNKNOWN_PROMPT`]).
    pub unknown_prompt: Option<Duration>,
}

impl Default for CommonOptions {
    fn default() -> CommonOptions {
        CommonOptions {
            python: DEFAULT_TARGET_PYTHON.to_string(),
            target: None,
            startup: StartupConfig::default(),
            name: None,
            connect_timeout: None,
            program: None,
            password: None,
            prompts: Vec::new(),
            unknown_prompt: None,
        }
    }
}

/// Builder methods every options type has.
macro_rules! common_builders {
    () => {
        /// The interpreter on the target: a path, or a name its `PATH` resolves
        /// (default `python3`).
        pub fn python(mut self, python: impl Into<String>) -> Self {
            self.common.python = python.into();
            self
        }

        /// The interpreter's implementation and version. Needed only when a start-up
        /// setting depends on the version (isolated, safe_path, -X options …): the
        /// target is not probed before the start. A wrong version is caught when the
        /// child reports its own.
        pub fn python_target(mut self, target: $crate::startup::PythonTarget) -> Self {
            self.common.target = Some(target);
            self
        }

        /// Start-up settings of the interpreter (options, environment edits,
        /// sys.path, cwd …), verified against the child's report.
        pub fn startup(mut self, config: $crate::startup::StartupConfig) -> Self {
            self.common.startup = config;
            self
        }

        /// Set an environment variable for the interpreter (written into the
        /// target command: `env NAME=VALUE python …`).
        pub fn env(
            mut self,
            key: impl Into<std::ffi::OsString>,
            value: impl Into<std::ffi::OsString>,
        ) -> Self {
            self.common.startup.env_set.push((key.into(), value.into()));
            self
        }

        /// Name the context (default "METHOD.ID").
        pub fn name(mut self, name: impl Into<String>) -> Self {
            self.common.name = Some(name.into());
            self
        }

        /// Bound on start → ready (default 30 s), prompts included.
        pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.common.connect_timeout = Some(timeout);
            self
        }

        /// The method's program, instead of the name looked up on `PATH`.
        pub fn program(mut self, program: impl Into<String>) -> Self {
            self.common.program = Some(program.into());
            self
        }

        /// The settings shared by every method.
        pub fn common(&self) -> &$crate::method::CommonOptions {
            &self.common
        }

        #[allow(dead_code)]
        pub(crate) fn common_mut(&mut self) -> &mut $crate::method::CommonOptions {
            &mut self.common
        }
    };
}

/// Builder methods of options types whose program may prompt for a password.
macro_rules! password_builders {
    () => {
        /// The password to type when the program asks for one (once; a second
        /// prompt fails the context with `AuthenticationFailed`).
        pub fn password(mut self, password: $crate::router::Password) -> Self {
            self.common.password = Some(password);
            self
        }

        /// Another text that ends a password prompt (matched case-insensitively at
        /// the end of the terminal's last line), for localised or custom prompts.
        pub fn prompt(mut self, text: impl Into<String>) -> Self {
            self.common.prompts.push(text.into());
            self
        }

        /// How long an unanswered partial line may sit on the terminal before it
        /// counts as an unknown prompt (default 2 s).
        pub fn unknown_prompt_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.common.unknown_prompt = Some(timeout);
            self
        }
    };
}

pub(crate) use common_builders;
pub(crate) use password_builders;

/// What a method contributes to its hop's plan.
pub(crate) struct MethodCommand {
    /// The full argv (the target command inside).
    pub(crate) argv: Vec<String>,
    /// How a terminal is involved.
    pub(crate) terminal: TerminalMode,
    /// The method's own prompt texts.
    pub(crate) prompts: Vec<String>,
    /// The method's failure messages.
    pub(crate) failures: Vec<KnownFailure>,
}

/// The parts of a method [`plan_hop`] needs.
pub(crate) trait Method {
    /// "sudo", "ssh", …
    fn method_name(&self) -> &'static str;
    /// What the hop reaches, for messages.
    fn target_label(&self) -> String;
    /// The shared settings.
    fn common_options(&self) -> &CommonOptions;
    /// The method's command around `target`.
    fn command(&self, target: &TargetCommand) -> Result<MethodCommand, ConnectError>;
}

/// Messages every method may show when the interpreter is missing; judged only once
/// the program ended before the loader started.
pub(crate) fn python_missing_failures() -> Vec<KnownFailure> {
    use crate::router::FailureKind::PythonMissing;
    [
        ": not found",
        "command not found",
        "no such file or directory",
        "executable file not found",
    ]
    .into_iter()
    .map(|text| KnownFailure::new(text, PythonMissing))
    .collect()
}

/// The plan of `method`'s hop and the start-up lowering it was made with.
pub(crate) fn plan_hop(
    method: &dyn Method,
) -> Result<(HopPlan, crate::startup::StartupPlan), ConnectError> {
    let common = method.common_options();
    let dependent = common.startup.version_dependent_fields();
    let target = match (common.target, dependent.is_empty()) {
        (Some(target), _) => target,
        (None, true) => ANY_TARGET,
        (None, false) => {
            return Err(ConnectError::InvalidOption(format!(
                "the start-up settings {} depend on the interpreter's version, and the {} \
                 method does not probe the target before starting it: state the version with \
                 python_target(PythonTarget::cpython(3, 11, 0)) (or python_target=3.11 in --via)",
                dependent.join(", "),
                method.method_name()
            )));
        }
    };
    let startup_plan = lower(&common.startup, &target)?;
    let nonce = Nonce::random();
    let loader = loader_source(&nonce, core_payload().len());
    let target_command = TargetCommand::new(&common.python, &startup_plan, loader)?;
    let command = method.command(&target_command)?;
    let prompting = command.terminal != TerminalMode::None;
    let mut failures = command.failures;
    failures.extend(python_missing_failures());
    let mut password_prompts = command.prompts;
    password_prompts.extend(common.prompts.iter().cloned());
    let hop = HopPlan {
        method: method.method_name().to_string(),
        target: method.target_label(),
        python: common.python.clone(),
        argv: command.argv,
        env: HopEnv {
            keep_python_vars: common.startup.inherit_env == InheritEnv::All,
            ..HopEnv::default()
        },
        terminal: command.terminal,
        payload: if prompting {
            PayloadTiming::AfterReady
        } else {
            PayloadTiming::Pipelined
        },
        prompts: PromptRules {
            password_prompts,
            failures,
            unknown_prompt_ms: common
                .unknown_prompt
                .unwrap_or(DEFAULT_UNKNOWN_PROMPT)
                .as_millis()
                .try_into()
                .unwrap_or(u64::MAX),
        },
        nonce: nonce.as_str().to_string(),
        connect_timeout_ms: common
            .connect_timeout
            .unwrap_or(DEFAULT_HOP_TIMEOUT)
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX),
        cwd: None,
    };
    Ok((hop, startup_plan))
}

/// The master's launch plan for `method`.
pub(crate) fn launch_plan(method: &dyn Method) -> Result<LaunchPlan, ConnectError> {
    let (hop, startup_plan) = plan_hop(method)?;
    let common = method.common_options();
    LaunchPlan::from_hop(
        hop,
        common.password.clone(),
        common.startup.clone(),
        startup_plan,
    )
}

/// The program to run: the configured one, else `default`.
pub(crate) fn program(common: &CommonOptions, default: &str) -> String {
    common
        .program
        .clone()
        .unwrap_or_else(|| default.to_string())
}

/// An option value that must not start with `-` (it would be read as an option of
/// the method's program) nor be empty.
pub(crate) fn checked_word(what: &str, value: &str) -> Result<String, ConnectError> {
    if value.is_empty() || value.starts_with('-') {
        return Err(ConnectError::InvalidOption(format!(
            "{what} {value:?} must not be empty or start with '-'"
        )));
    }
    Ok(value.to_string())
}
