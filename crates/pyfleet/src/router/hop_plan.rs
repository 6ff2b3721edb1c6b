//! A hop's launch plan as pure data: what a parent runs to reach a new context.
//!
//! Methods (sudo, ssh, podman, …) turn their options into a [`HopPlan`]; the
//! master's connect routine executes it, and because it is plain serialisable data
//! (serde), a Python core can later execute the same plan to start a context one
//! hop further. Everything a parent needs is here: the argv (the loader included),
//! the environment rule, the terminal arrangement, the prompt rules, when the core
//! payload may be sent, and a time bound. The password is not: it travels
//! separately, as a [`Password`](super::Password).

use std::ffi::OsString;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::prompt::PromptRules;
use crate::spawn::{SpawnOptions, StderrMode, Transport};

/// How the started program is connected to a pseudo-terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminalMode {
    /// No terminal: stdin, stdout and stderr are pipes.
    None,
    /// A new session whose controlling terminal is a PTY (`setsid` + `TIOCSCTTY`),
    /// while stdin, stdout and stderr stay pipes: sudo, doas and ssh prompt on
    /// `/dev/tty`, the data never crosses the terminal.
    ControllingTty,
    /// stdin and stderr on the slave of a raw PTY (`cfmakeraw`, so frames pass
    /// unchanged), which is also the controlling terminal; stdout stays a pipe. For
    /// su, which reads its password from stdin and prompts on stderr: the password
    /// and then the frames are written to the PTY master, frames are read from the
    /// pipe. Closing the master (the context's end) hangs up the terminal, which
    /// ends su and the interpreter; su's own messages never mix with frames.
    RawStdin,
}

/// When the compressed core is written to the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadTiming {
    /// Right after the spawn, before the loader asks: nothing but the interpreter
    /// reads the child's stdin.
    Pipelined,
    /// Only after the loader's ready marker: before it, a prompt may read stdin.
    AfterReady,
}

/// The environment of the program a hop starts, relative to the parent's own.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HopEnv {
    /// Keep the parent's `PYTHON*` variables (they configure the parent's
    /// interpreter, so they are dropped unless the start-up configuration inherits
    /// everything).
    pub keep_python_vars: bool,
    /// Variables set on top, in order.
    pub set: Vec<(String, String)>,
    /// When set, only these of the parent's variables are kept (whatever their
    /// names; `keep_python_vars` is then not consulted).
    #[serde(default)]
    pub only: Option<Vec<String>>,
    /// Variables removed last.
    #[serde(default)]
    pub unset: Vec<String>,
}

impl HopEnv {
    /// The complete environment, given the parent's.
    pub fn apply(
        &self,
        parent: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> = parent
            .into_iter()
            .filter(|(key, _)| match &self.only {
                Some(names) => names.iter().any(|n| n.as_bytes() == key.as_encoded_bytes()),
                None => self.keep_python_vars || !key.as_encoded_bytes().starts_with(b"PYTHON"),
            })
            .collect();
        for (key, value) in &self.set {
            env.retain(|(existing, _)| existing.as_encoded_bytes() != key.as_bytes());
            env.push((key.into(), value.into()));
        }
        env.retain(|(key, _)| {
            !self
                .unset
                .iter()
                .any(|n| n.as_bytes() == key.as_encoded_bytes())
        });
        env
    }
}

/// One hop, ready to execute.
///
/// To execute it: start `argv` (the first item is the program, a bare name looked
/// up in `PATH`) with the environment from `env`, arranged as `terminal` says;
/// send the core payload as `payload` says; while waiting for the ready marker
/// `PFR<nonce>\n`, apply `prompts` to the terminal's output; then follow the usual
/// bootstrap (marker `PFC<nonce>\n`, boot configuration, HELLO), all within
/// `connect_timeout_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HopPlan {
    /// The method's name ("ssh", "sudo", …), for messages.
    pub method: String,
    /// What it reaches ("root@web1:2222", "user pftarget"), for messages.
    pub target: String,
    /// The interpreter asked for on the target, for messages.
    pub python: String,
    /// The full command line, the loader included.
    pub argv: Vec<String>,
    /// The program's environment.
    pub env: HopEnv,
    /// How a terminal is involved.
    pub terminal: TerminalMode,
    /// When the payload may be written.
    pub payload: PayloadTiming,
    /// Password prompts and failure messages.
    pub prompts: PromptRules,
    /// The 12 hex digits of the child's markers (the loader in `argv` holds them
    /// reversed).
    pub nonce: String,
    /// Bound on start → HELLO.
    pub connect_timeout_ms: u64,
    /// The program's working directory; the parent's when `None`.
    #[serde(default)]
    pub cwd: Option<String>,
}

impl HopPlan {
    /// The bound on start → HELLO.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// How the master starts this plan's program (the terminal is arranged by the
    /// connect routine).
    pub fn spawn_options(&self) -> Option<SpawnOptions> {
        let (program, args) = self.argv.split_first()?;
        let mut options = SpawnOptions::new(program).args(args);
        options.env = self.env.apply(std::env::vars_os());
        options.stderr = StderrMode::Pipe;
        options.cwd = self.cwd.as_ref().map(Into::into);
        options.transport = Transport::Pipes;
        Some(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_variables_stay_behind_unless_kept() {
        let parent = vec![
            (OsString::from("PYTHONUNBUFFERED"), OsString::from("1")),
            (OsString::from("PATH"), OsString::from("/bin")),
        ];
        let env = HopEnv {
            keep_python_vars: false,
            set: vec![("PATH".into(), "/usr/bin".into())],
            ..HopEnv::default()
        };
        assert_eq!(
            env.apply(parent.clone()),
            vec![(OsString::from("PATH"), OsString::from("/usr/bin"))]
        );
        let keep = HopEnv {
            keep_python_vars: true,
            ..HopEnv::default()
        };
        assert_eq!(keep.apply(parent.clone()), parent);
        let only = HopEnv {
            only: Some(vec!["PYTHONUNBUFFERED".into()]),
            set: vec![("A".into(), "1".into()), ("B".into(), "2".into())],
            unset: vec!["B".into()],
            ..HopEnv::default()
        };
        assert_eq!(
            only.apply(parent),
            vec![
                (OsString::from("PYTHONUNBUFFERED"), OsString::from("1")),
                (OsString::from("A"), OsString::from("1"))
            ]
        );
    }

    #[test]
    fn plans_round_trip_through_serde() {
        let plan = HopPlan {
            method: "sudo".into(),
            target: "user pftarget".into(),
            python: "python3".into(),
            argv: vec!["sudo".into(), "-u".into(), "pftarget".into()],
            env: HopEnv::default(),
            terminal: TerminalMode::ControllingTty,
            payload: PayloadTiming::AfterReady,
            prompts: PromptRules::default(),
            nonce: "0123456789ab".into(),
            connect_timeout_ms: 30_000,
            cwd: None,
        };
        let text = serde_json::to_string(&plan).unwrap();
        assert!(text.contains("\"terminal\":\"controlling_tty\""), "{text}");
        assert!(text.contains("\"payload\":\"after_ready\""), "{text}");
        let back: HopPlan = serde_json::from_str(&text).unwrap();
        assert_eq!(back, plan);
        assert_eq!(plan.spawn_options().unwrap().args.len(), 2);
    }
}
