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
