//! The command that starts the interpreter on the far side of a hop: environment
//! edits, the interpreter, its start-up options, and the loader.
//!
//! Methods pass it on either as an argv (sudo, doas, containers, namespaces) or as
//! one string for the remote user's shell (ssh, su). The master's own environment
//! never reaches the target through this command: only the variables the start-up
//! configuration sets are written into it (`env NAME=VALUE … python …`).

use crate::error::ConnectError;
use crate::startup::{InheritEnv, StartupPlan};

/// The interpreter's command on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetCommand {
    /// `env …` or `sh -c …` wrapping that applies the environment plan; empty
    /// when there is nothing to change.
    prefix: Vec<String>,
    /// The interpreter and its start-up options.
    python: Vec<String>,
    /// The loader source (multi-line).
    loader: String,
}

impl TargetCommand {
    /// The command for `python` lowered as `plan`, running `loader`.
    pub(crate) fn new(
        python: &str,
        plan: &StartupPlan,
        loader: String,
    ) -> Result<TargetCommand, ConnectError> {
        let mut command = vec![python.to_string()];
        command.extend(plan.args.iter().cloned());
        Ok(TargetCommand {
            prefix: env_prefix(plan)?,
            python: command,
            loader,
        })
    }

    /// The command as an argv. `one_line` writes the loader without newlines, for
    /// hops that re-quote arguments in a way that loses them (`sudo -i`).
    pub(crate) fn argv(&self, one_line: bool) -> Vec<String> {
        let mut argv = self.prefix.clone();
        argv.extend(self.python.iter().cloned());
        argv.push("-c".into());
        argv.push(if one_line {
            one_line_loader(&self.loader)
        } else {
            self.loader.clone()
        });
        argv
    }

    /// The command as one string for a POSIX shell (`sh -c STRING`): every word
    /// single-quoted, so newlines and quotes in the loader survive.
    pub(crate) fn shell(&self) -> String {
        self.argv(false)
            .iter()
            .map(|word| sh_quote(word))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The words before the interpreter that make its environment what the plan says.
///
/// The target's own environment is the base (what sudo, ssh or the container gives
/// the command). With `inherit` All or AllButPython the plan's unsets and sets are
/// applied with `env`; with `Only(names)` everything else is cleared with
/// `sh -c 'exec env -i ${NAME+"NAME=$NAME"}… "$@"'`, which keeps each listed
/// variable the target has.
fn env_prefix(plan: &StartupPlan) -> Result<Vec<String>, ConnectError> {
    let env = &plan.env;
    let text = |value: &std::ffi::OsStr, what: &str| {
        value.to_str().map(str::to_string).ok_or_else(|| {
            ConnectError::InvalidOption(format!(
                "environment {what} {value:?} is not UTF-8, which a remote command line cannot carry"
            ))
        })
    };
    let mut sets = Vec::new();
    for (key, value) in &env.set {
        let key = text(key, "name")?;
        let value = text(value, "value")?;
        sets.push(format!("{key}={value}"));
    }
    let mut unsets = Vec::new();
    for key in &env.unset {
        unsets.push(text(key, "name")?);
    }
    match &env.inherit {
        InheritEnv::Only(names) => {
            let mut keep = String::from("exec env -i");
            for name in names.iter().filter(|name| !unsets.contains(name)) {
                if !is_shell_name(name) {
                    return Err(ConnectError::InvalidOption(format!(
                        "environment name {name:?} cannot be kept on a remote target: use letters, digits and _"
                    )));
                }
                keep.push_str(&format!(" ${{{name}+\"{name}=${name}\"}}"));
            }
            keep.push_str(" \"$@\"");
            let mut prefix = vec!["sh".to_string(), "-c".to_string(), keep, "sh".to_string()];
            prefix.extend(sets);
            Ok(prefix)
        }
        InheritEnv::All | InheritEnv::AllButPython => {
            if sets.is_empty() && unsets.is_empty() {
                return Ok(Vec::new());
            }
            let mut prefix = vec!["env".to_string()];
            for name in unsets {
                prefix.push("-u".into());
                prefix.push(name);
            }
            prefix.extend(sets);
            Ok(prefix)
        }
    }
}

fn is_shell_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `text` as one POSIX shell word: single-quoted, each `'` written as `'\''`.
pub fn sh_quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('\'');
    for c in text.chars() {
        if c == '\'' {
            quoted.push_str("'\\''");
        } else {
            quoted.push(c);
        }
    }
    quoted.push('\'');
    quoted
}

/// `exec('…')` with the source as a single-quoted Python literal whose newlines,
/// quotes and backslashes are escaped: the same program on one line.
fn one_line_loader(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 16);
    out.push_str("exec('");
    for c in source.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push_str("')");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::startup::{EnvPlan, FirstStage};

    fn plan(inherit: InheritEnv, set: &[(&str, &str)], unset: &[&str]) -> StartupPlan {
        StartupPlan {
            args: vec!["-s".into()],
            env: EnvPlan {
                inherit,
                set: set
                    .iter()
                    .map(|(k, v)| ((*k).into(), (*v).into()))
                    .collect(),
                unset: unset.iter().map(|k| (*k).into()).collect(),
            },
            first_stage: FirstStage::default(),
            expectations: Vec::new(),
            emulations: Vec::new(),
        }
    }

    #[test]
    fn no_environment_edits_means_no_prefix() {
        let command = TargetCommand::new(
            "python3",
            &plan(InheritEnv::AllButPython, &[], &[]),
            "L".into(),
        )
        .unwrap();
        assert_eq!(command.argv(false), ["python3", "-s", "-c", "L"]);
    }

    #[test]
    fn sets_and_unsets_go_through_env() {
        let plan = plan(
            InheritEnv::AllButPython,
            &[("PYTHONHASHSEED", "0")],
            &["LANG"],
        );
        let command = TargetCommand::new("/usr/bin/python3.11", &plan, "L".into()).unwrap();
        assert_eq!(
            command.argv(false),
            [
                "env",
                "-u",
                "LANG",
                "PYTHONHASHSEED=0",
                "/usr/bin/python3.11",
                "-s",
                "-c",
                "L"
            ]
        );
    }

    #[test]
    fn an_allow_list_clears_everything_else_on_the_target() {
        let plan = plan(
            InheritEnv::Only(vec!["PATH".into(), "HOME".into(), "LANG".into()]),
            &[("PYTHONHASHSEED", "7")],
            &["LANG"],
        );
        let command = TargetCommand::new("python3", &plan, "L".into()).unwrap();
        assert_eq!(
            command.argv(false),
            [
                "sh",
                "-c",
                r#"exec env -i ${PATH+"PATH=$PATH"} ${HOME+"HOME=$HOME"} "$@""#,
                "sh",
                "PYTHONHASHSEED=7",
                "python3",
                "-s",
                "-c",
                "L"
            ]
        );
        let bad = self::plan(InheritEnv::Only(vec!["A-B".into()]), &[], &[]);
        assert!(TargetCommand::new("python3", &bad, "L".into()).is_err());
    }

    /// The shell string survives a real `sh -c`, quotes and newlines included, and
    /// so does the one-line loader in a real Python.
    #[test]
    fn quoting_survives_a_real_shell_and_python() {
        let loader =
            "import sys\nx = 'it''s' + \"q\\\"\" + '\\n'\nsys.stdout.write(repr(x))".to_string();
        let plan = plan(InheritEnv::AllButPython, &[("A", "it's $HOME `x`")], &[]);
        let python = "/usr/bin/python3.11";
        let command = TargetCommand::new(python, &plan, loader.clone()).unwrap();
        let expected = std::process::Command::new(python)
            .args(["-c", &loader])
            .output()
            .unwrap();
        assert!(expected.status.success());
        let via_shell = std::process::Command::new("/bin/sh")
            .args(["-c", &command.shell()])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&via_shell.stdout),
            String::from_utf8_lossy(&expected.stdout),
            "stderr: {}",
            String::from_utf8_lossy(&via_shell.stderr)
        );
        let one_line = command.argv(true);
        assert!(!one_line.last().unwrap().contains('\n'));
        let via_one_line = std::process::Command::new(python)
            .args(["-c", one_line.last().unwrap()])
            .output()
            .unwrap();
        assert_eq!(via_one_line.stdout, expected.stdout);
        let env_check = std::process::Command::new("/bin/sh")
            .args([
                "-c",
                &TargetCommand {
                    prefix: env_prefix(&plan).unwrap(),
                    python: vec![python.into()],
                    loader: "import os,sys; sys.stdout.write(os.environ['A'])".into(),
                }
                .shell(),
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&env_check.stdout), "it's $HOME `x`");
    }
}
