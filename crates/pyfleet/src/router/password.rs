//! Passwords for prompts: held in memory that is wiped when dropped, never printed.

use std::fmt;
use std::io::{self, BufRead, Write};
use std::os::fd::AsRawFd;

use zeroize::Zeroizing;

/// A password to type at a sudo/su/doas/ssh prompt.
///
/// The text lives in a buffer that is overwritten with zeros when the last clone is
/// dropped; `Debug` shows `Password(***)` and there is no `Display` or `Serialize`,
/// so a password cannot end up in a log line or a launch plan by accident.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// A password from its text.
    pub fn new(text: impl Into<String>) -> Password {
        Password(Zeroizing::new(text.into()))
    }

    /// The value of the environment variable `name`, or an error naming the
    /// variable (never its value) when it is unset, empty or not UTF-8.
    pub fn from_env(name: &str) -> Result<Password, String> {
        match std::env::var(name) {
            Ok(text) if !text.is_empty() => Ok(Password::new(text)),
            Ok(_) => Err(format!("the environment variable {name} is empty")),
            Err(std::env::VarError::NotPresent) => Err(format!(
                "the environment variable {name} (named by password_env) is not set"
            )),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!(
                "the environment variable {name} is not valid UTF-8"
            )),
        }
    }

    /// Ask on the terminal: print `prompt` to stderr and read one line from stdin
    /// with echo turned off. Refused when stdin is not a terminal (a password must
    /// never be read from a pipe by accident).
    pub fn read_from_terminal(prompt: &str) -> io::Result<Password> {
        let stdin = io::stdin();
        let fd = stdin.as_raw_fd();
        // SAFETY: isatty takes an integer.
        if unsafe { libc::isatty(fd) } != 1 {
            return Err(io::Error::other(
                "stdin is not a terminal, so no password can be asked for; name an \
                 environment variable that holds it with password_env=VAR",
            ));
        }
        let saved = nix::sys::termios::tcgetattr(&stdin).map_err(io::Error::from)?;
        let mut quiet = saved.clone();
        quiet
            .local_flags
            .remove(nix::sys::termios::LocalFlags::ECHO);
        nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &quiet)
            .map_err(io::Error::from)?;
        let mut stderr = io::stderr();
        let _ = write!(stderr, "{prompt}");
        let _ = stderr.flush();
        let mut line = Zeroizing::new(String::new());
        let read = stdin.lock().read_line(&mut line);
        let _ = nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &saved);
        let _ = writeln!(stderr);
        read?;
        let text = line.trim_end_matches(['\r', '\n']);
        Ok(Password::new(text))
    }

    /// The text, for typing it at a prompt.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_text() {
        let password = Password::new("s3cret");
        assert_eq!(format!("{password:?}"), "Password(***)");
        assert_eq!(password.expose(), "s3cret");
    }

    #[test]
    fn missing_variables_are_named_without_values() {
        let error = Password::from_env("PYFLEET_TEST_SURELY_UNSET_VARIABLE").unwrap_err();
        assert!(
            error.contains("PYFLEET_TEST_SURELY_UNSET_VARIABLE"),
            "{error}"
        );
    }
}
