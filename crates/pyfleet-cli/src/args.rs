//! Arguments shared by commands, and turning command-line words into call arguments.

use std::path::PathBuf;

use pyfleet::Value;

use crate::literal::parse_literal;
use crate::startup_args::StartupArgs;

/// Options that choose and start the interpreter.
#[derive(clap::Args, Debug, Clone)]
pub struct InterpreterArgs {
    /// The Python interpreter to start (a path, or a name looked up on PATH).
    /// Default: $PYFLEET_PYTHON, else the first real python3 on PATH.
    #[arg(long, value_name = "PATH", conflicts_with = "python_version")]
    pub python: Option<PathBuf>,
    /// Run the newest interpreter here matching SPEC: ">=3.8", "3.11", "pypy",
    /// "cpython<3.12" (see `pyfleet interpreters`).
    #[arg(long, value_name = "SPEC")]
    pub python_version: Option<String>,
    #[command(flatten)]
    pub startup: StartupArgs,
    /// Reach the interpreter through a hop: METHOD:SPEC[,OPTION=VALUE…], e.g.
    /// ssh:USER@HOST[:PORT], 'ssh:root@web1,identity=~/.ssh/k,port=2222',
    /// sudo:USER, su:USER, doas:USER, podman:CONTAINER, docker:CONTAINER,
    /// kubectl:[NS/]POD, lxc:NAME, incus:NAME, nsenter:PID, unshare:net+pid,
    /// chroot:DIR. A password comes from password_env=VAR or ask_password, never
    /// from the command line. Repeat for a chain of hops, in order. --python then
    /// names the interpreter on the target (default python3).
    #[arg(long = "via", value_name = "METHOD:SPEC")]
    pub via: Vec<String>,
}

impl InterpreterArgs {
    /// Local context options, or what is wrong with the start-up flags.
    pub fn local_options(&self) -> Result<pyfleet::LocalOptions, String> {
        let mut options = pyfleet::LocalOptions::new().startup(self.startup.config()?);
        if let Some(python) = &self.python {
            options = options.python(python);
        }
        if let Some(spec) = &self.python_version {
            let constraint = spec
                .parse()
                .map_err(|e: pyfleet::startup::ConstraintParseError| e.to_string())?;
            options = options.python_version(constraint);
        }
        Ok(options)
    }
}

impl InterpreterArgs {
    /// The chain of `--via` hops, in order, each with its password; the start-up
    /// flags and `--python` apply to every hop (each runs a core). Empty without
    /// `--via`.
    pub fn hops(&self) -> Result<Vec<pyfleet::method::Hop>, String> {
        use pyfleet::method::{PasswordSource, parse_hop};
        let specs = self
            .via
            .iter()
            .map(|text| parse_hop(text))
            .collect::<Result<Vec<_>, _>>()?;
        if !specs.is_empty() && self.python_version.is_some() {
            return Err(
                "--python-version searches this machine; with --via name the target's \
                 interpreter with --python (and python_target=VERSION when a start-up setting \
                 depends on it)"
                    .into(),
            );
        }
        let startup = self.startup.config()?;
        specs
            .into_iter()
            .map(|spec| {
                let mut hop = spec.hop;
                {
                    let common = hop.common_mut();
                    common.startup = startup.clone();
                    if let Some(python) = &self.python {
                        common.python = python.to_string_lossy().into_owned();
                    }
                }
                let password = match &spec.password {
                    PasswordSource::None => None,
                    PasswordSource::Env(name) => Some(pyfleet::method::Password::from_env(name)?),
                    PasswordSource::Ask => Some(
                        pyfleet::method::Password::read_from_terminal(&format!(
                            "[pyfleet] password for {} to {}: ",
                            hop.method_name(),
                            hop.target_label()
                        ))
                        .map_err(|e| e.to_string())?,
                    ),
                };
                match password {
                    Some(password) => hop.with_password(password).map_err(|e| e.to_string()),
                    None => Ok(hop),
                }
            })
            .collect()
    }
}

/// Positional and keyword arguments parsed from words.
#[derive(Debug, Default, PartialEq)]
pub struct CallArguments {
    pub args: Vec<Value>,
    pub kwargs: Vec<(Value, Value)>,
}

/// `NAME=VALUE` is a keyword argument. A value that starts like a literal (a digit,
/// sign, dot, quote or bracket) must parse as one; any other word is a plain string,
/// so `os.getenv HOME` works without quotes.
pub fn parse_call_arguments(words: &[String]) -> Result<CallArguments, String> {
    let mut out = CallArguments::default();
    for word in words {
        match split_keyword(word) {
            Some((name, value)) => {
                if out.kwargs.iter().any(|(k, _)| k.as_str() == Some(name)) {
                    return Err(format!("keyword argument {name} given twice"));
                }
                out.kwargs
                    .push((Value::Str(name.to_string()), parse_word(value)?));
            }
            None if !out.kwargs.is_empty() => {
                return Err(format!(
                    "positional argument {word:?} follows keyword arguments"
                ));
            }
            None => out.args.push(parse_word(word)?),
        }
    }
    Ok(out)
}

fn split_keyword(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some((name, value))
}

fn parse_word(word: &str) -> Result<Value, String> {
    match parse_literal(word) {
        Ok(value) => Ok(value),
        Err(error) => {
            let looks_literal = word
                .trim_start()
                .starts_with(|c: char| c.is_ascii_digit() || "+-.([{'\"".contains(c));
            if looks_literal {
                Err(format!(
                    "cannot parse {word:?} as a Python literal {error}; quote it to pass a string"
                ))
            } else {
                Ok(Value::Str(word.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interpreter(words: &[&str]) -> InterpreterArgs {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            interpreter: InterpreterArgs,
        }
        let argv = std::iter::once("pyfleet").chain(words.iter().copied());
        <Wrapper as clap::Parser>::try_parse_from(argv)
            .unwrap()
            .interpreter
    }

    #[test]
    fn via_makes_a_hop_with_the_startup_flags() {
        assert!(interpreter(&[]).hops().unwrap().is_empty());
        let hop = interpreter(&["--via", "sudo:pf", "--python", "/usr/bin/python3.11", "-S"])
            .hops()
            .unwrap()
            .remove(0);
        let plan = hop.plan().unwrap();
        let python = plan
            .argv
            .iter()
            .position(|a| a == "/usr/bin/python3.11")
            .unwrap();
        assert_eq!(plan.argv[python + 1], "-S");
    }

    #[test]
    fn via_chains_refuse_passwords_and_local_searches() {
        let chain = interpreter(&["--via", "ssh:web1", "--via", "sudo:pf", "-S"]);
        let hops = chain.hops().unwrap();
        assert_eq!(hops.len(), 2);
        assert!(hops.iter().all(|h| h.clone().common_mut().startup.no_site));
        let password = interpreter(&["--via", "sudo:pf,password=x"])
            .hops()
            .unwrap_err();
        assert!(password.contains("password_env"), "{password}");
        let search = interpreter(&["--via", "sudo:pf", "--python-version", "3.11"])
            .hops()
            .unwrap_err();
        assert!(search.contains("--python"), "{search}");
        let unset = interpreter(&["--via", "sudo:pf,password_env=PYFLEET_SURELY_UNSET_VAR"])
            .hops()
            .unwrap_err();
        assert!(unset.contains("PYFLEET_SURELY_UNSET_VAR"), "{unset}");
    }

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn literals_keywords_and_bare_words() {
        let parsed =
            parse_call_arguments(&words(&["1", "[2, 3]", "HOME", "sep='-'", "end=None"])).unwrap();
        assert_eq!(
            parsed.args,
            vec![
                Value::Int(1),
                Value::List(vec![Value::Int(2), Value::Int(3)]),
                Value::Str("HOME".into())
            ]
        );
        assert_eq!(
            parsed.kwargs,
            vec![
                (Value::Str("sep".into()), Value::Str("-".into())),
                (Value::Str("end".into()), Value::None)
            ]
        );
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(
            parse_call_arguments(&words(&["[1,"]))
                .unwrap_err()
                .contains("cannot parse")
        );
        assert!(
            parse_call_arguments(&words(&["a=1", "2"]))
                .unwrap_err()
                .contains("follows keyword")
        );
        assert!(
            parse_call_arguments(&words(&["a=1", "a=2"]))
                .unwrap_err()
                .contains("twice")
        );
        assert_eq!(
            parse_call_arguments(&words(&["'a=b'"])).unwrap().args,
            vec![Value::Str("a=b".into())]
        );
    }
}

/// Where children get the Python modules they lack.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ModuleArgs {
    /// Serve modules from this directory or zip file to the child, like a sys.path
    /// entry (repeatable; searched in order).
    #[arg(long = "module-root", value_name = "DIR|ZIP", help_heading = "Modules")]
    pub module_root: Vec<PathBuf>,
    /// Also serve what this local interpreter can import (its virtualenv, its
    /// site-packages), standard library excepted.
    #[arg(
        long = "module-from-python",
        value_name = "PATH",
        help_heading = "Modules"
    )]
    pub module_from_python: Option<PathBuf>,
}

impl ModuleArgs {
    /// The module server these options describe, with `extra` roots first.
    pub fn server(&self, extra: &[PathBuf]) -> Result<Option<pyfleet::ModuleServer>, String> {
        if extra.is_empty() && self.module_root.is_empty() && self.module_from_python.is_none() {
            return Ok(None);
        }
        let mut server = pyfleet::ModuleServer::new();
        for root in extra.iter().chain(&self.module_root) {
            server = server.root(root).map_err(|e| e.to_string())?;
        }
        if let Some(python) = &self.module_from_python {
            server = server.from_python(python);
        }
        Ok(Some(server))
    }
}
