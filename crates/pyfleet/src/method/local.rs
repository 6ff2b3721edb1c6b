//! Local children: an interpreter started directly by the master.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::interpreter;
use crate::bootstrap::{Executor, Nonce, core_payload, loader_source};
use crate::error::ConnectError;
use crate::router::LaunchPlan;
use crate::spawn::{PreExecHook, SpawnOptions, StderrMode, Transport};
use crate::startup::{
    ANY_TARGET, InheritEnv, PythonTarget, StartupConfig, StartupError, VersionConstraint, lower,
};

/// Default bound on spawn → ready for a local child.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Options for [`Broker::local`](crate::Broker::local).
#[derive(Clone, Default)]
pub struct LocalOptions {
    python: Option<PathBuf>,
    python_version: Option<VersionConstraint>,
    target: Option<PythonTarget>,
    name: Option<String>,
    startup: StartupConfig,
    interpreter_args: Vec<OsString>,
    transport: Transport,
    new_session: bool,
    pre_exec: Vec<PreExecHook>,
    connect_timeout: Option<Duration>,
    stderr: Option<StderrMode>,
    executor: Executor,
}

impl LocalOptions {
    /// Defaults: the default interpreter (see [`interpreter`](super::interpreter)),
    /// [`StartupConfig::default`]: no interpreter options, the master's environment
    /// without its `PYTHON*` variables.
    pub fn new() -> LocalOptions {
        LocalOptions::default()
    }

    /// Run this interpreter: a path, or a bare name looked up on PATH.
    pub fn python(mut self, path: impl Into<PathBuf>) -> Self {
        self.python = Some(path.into());
        self
    }

    /// Run the newest interpreter on this machine that matches `constraint`
    /// (">=3.8", "pypy", "3.11"), found by discovery (one cached probe).
    pub fn python_version(mut self, constraint: VersionConstraint) -> Self {
        self.python_version = Some(constraint);
        self
    }

    /// The interpreter's implementation and version, when known: start-up settings
    /// that depend on the version are then lowered without probing the interpreter
    /// first. A wrong version is caught when the child reports its own.
    pub fn python_target(mut self, target: PythonTarget) -> Self {
        self.target = Some(target);
        self
    }

    /// Name the context (default "local.ID").
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Start-up settings: interpreter options, environment, sys.path, argv, cwd,
    /// umask, resource limits — verified against the child's report.
    pub fn startup(mut self, config: StartupConfig) -> Self {
        self.startup = config;
        self
    }

    /// Raw interpreter options placed before `-c` after those of the start-up
    /// configuration. They are passed as they are and not verified; prefer
    /// [`startup`](Self::startup).
    pub fn interpreter_arg(mut self, arg: impl Into<OsString>) -> Self {
        self.interpreter_args.push(arg.into());
        self
    }

    /// Pass the master's `PYTHON*` variables on (shorthand for
    /// `StartupConfig::inherit_env`).
    pub fn inherit_python_env(mut self, inherit: bool) -> Self {
        self.startup.inherit_env = if inherit {
            InheritEnv::All
        } else {
            InheritEnv::AllButPython
        };
        self
    }

    /// Set an environment variable for the child (shorthand for
    /// `StartupConfig::env_set`).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.startup.env_set.push((key.into(), value.into()));
        self
    }

    /// Remove an environment variable (shorthand for `StartupConfig::env_unset`).
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.startup.env_unset.push(key.into());
        self
    }

    /// Start the child in this directory (shorthand for `StartupConfig::cwd`).
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.startup.cwd = Some(dir.into());
        self
    }

    /// Pipes or a socketpair (see [`Transport`]).
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Make the child a session leader (setsid), detached from the master's terminal.
    pub fn new_session(mut self, new_session: bool) -> Self {
        self.new_session = new_session;
        self
    }

    /// A hook run in the child between fork and exec (see [`PreExecHook`]).
    pub fn pre_exec(mut self, hook: PreExecHook) -> Self {
        self.pre_exec.push(hook);
        self
    }

    /// Bound on spawn → ready (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// What happens to the child's fd 2 (default: read and forwarded as output).
    pub fn stderr(mut self, mode: StderrMode) -> Self {
        self.stderr = Some(mode);
        self
    }

    /// How the context runs calls: one at a time in arrival order (the default) or
    /// on N threads with no ordering between calls (see [`Executor`]).
    pub fn executor(mut self, executor: Executor) -> Self {
        self.executor = executor;
        self
    }

    /// The executor asked for.
    pub fn executor_choice(&self) -> Executor {
        self.executor
    }

    /// The start-up configuration.
    pub fn startup_config(&self) -> &StartupConfig {
        &self.startup
    }

    /// The name to use, given the id the broker allocated.
    pub(crate) fn context_name(&self, id: u32) -> String {
        self.name.clone().unwrap_or_else(|| format!("local.{id}"))
    }

    /// The launch plan (what [`Broker::local`](crate::Broker::local) would start, for
    /// inspection): resolves the interpreter, lowers the start-up configuration
    /// (probing the interpreter's version first only if a setting depends on it),
    /// and refuses what cannot work before anything is spawned.
    pub async fn plan(&self) -> Result<LaunchPlan, ConnectError> {
        let (program, found_target) = match (&self.python, &self.python_version) {
            (None, Some(constraint)) => {
                let found = interpreter::find_matching(constraint)
                    .await
                    .map_err(|e| ConnectError::InvalidOption(e.to_string()))?;
                (found.path.clone(), Some(found.target))
            }
            (python, _) => (interpreter::resolve(python.as_deref()).await?, None),
        };
        let dependent = self.startup.version_dependent_fields();
        let target = match (self.target.or(found_target), dependent.is_empty()) {
            (Some(target), _) => target,
            (None, true) => ANY_TARGET,
            (None, false) => interpreter::probe_target(&program).await?.target,
        };
        let startup_plan = lower(&self.startup, &target)?;
        check_local_paths(&self.startup, &program).await?;
        let mut options = SpawnOptions::new(program);
        options.args = startup_plan.args.iter().map(OsString::from).collect();
        options.args.extend(self.interpreter_args.iter().cloned());
        let nonce = Nonce::random();
        options.args.push(OsString::from("-c"));
        options
            .args
            .push(OsString::from(loader_source(&nonce, core_payload().len())));
        options.env = startup_plan.env.apply(std::env::vars_os());
        options.cwd = self.startup.cwd.clone();
        options.transport = self.transport;
        options.new_session = self.new_session;
        options.pre_exec = self.pre_exec.clone();
        options.stderr = self.stderr.unwrap_or(StderrMode::Pipe);
        Ok(LaunchPlan {
            spawn: options,
            connect_timeout: self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            startup: self.startup.clone(),
            startup_plan,
            nonce,
            hop: None,
            password: None,
        })
    }
}

/// Paths the interpreter would abort on at start-up, checked here where they live.
async fn check_local_paths(config: &StartupConfig, program: &Path) -> Result<(), StartupError> {
    let missing = |field: &'static str, path: &Path| StartupError::MissingPath {
        field,
        path: path.display().to_string(),
    };
    if let Some(home) = &config.home
        && !home.is_dir()
    {
        return Err(missing("home", home));
    }
    if let Some(cwd) = &config.cwd
        && !cwd.is_dir()
    {
        return Err(missing("cwd", cwd));
    }
    if let Some(platlibdir) = &config.platlibdir {
        let prefix = match &config.home {
            Some(home) => home.clone(),
            None => interpreter::probe_target(program)
                .await
                .map(|probe| PathBuf::from(probe.prefix))
                .unwrap_or_default(),
        };
        let dir = prefix.join(platlibdir);
        if !prefix.as_os_str().is_empty() && !dir.is_dir() {
            return Err(missing("platlibdir", &dir));
        }
    }
    Ok(())
}
