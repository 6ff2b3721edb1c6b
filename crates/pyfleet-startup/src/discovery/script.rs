//! The probe: one POSIX `sh` script that finds, resolves, deduplicates and runs
//! every candidate interpreter of a host, and prints a line report.
//!
//! Building it is pure, so any transport can carry it (a local `sh -c`, later ssh,
//! sudo or a container exec); [`super::report::parse_report`] reads what it prints.
//! The source, `probe.sh`, is commented; what is shipped has its comment lines and
//! indentation removed.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// The commented source of the probe.
const PROBE_SOURCE: &str = include_str!("probe.sh");

/// How long one candidate may take to answer before it is killed and skipped. A
/// cold PyPy start on a busy host takes a few hundred milliseconds.
pub const DEFAULT_CANDIDATE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the probe looks at and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// Search the host (PATH, pyenv, common prefixes); `false` examines only the
    /// explicit paths.
    pub search: bool,
    /// Bound for each candidate; rounded up to whole seconds (`sleep` takes only
    /// those everywhere), at least one.
    pub candidate_timeout: Duration,
}

impl Default for ProbeOptions {
    fn default() -> ProbeOptions {
        ProbeOptions {
            search: true,
            candidate_timeout: DEFAULT_CANDIDATE_TIMEOUT,
        }
    }
}

impl ProbeOptions {
    /// The per-candidate bound in whole seconds, as the script applies it.
    pub fn timeout_seconds(&self) -> u64 {
        let whole = self.candidate_timeout.as_secs();
        let rounded = if self.candidate_timeout.subsec_nanos() > 0 {
            whole + 1
        } else {
            whole
        };
        rounded.max(1)
    }
}

/// The probe script that searches the host and also examines `explicit` paths
/// (absolute, or relative to the shell's working directory), with default options.
pub fn probe_script(explicit: &[PathBuf]) -> String {
    probe_script_with(explicit, &ProbeOptions::default())
}

/// The probe script for `explicit` paths and `options`: a short prologue setting
/// the inputs, then the shipped body.
pub fn probe_script_with(explicit: &[PathBuf], options: &ProbeOptions) -> String {
    let body = shipped_body();
    let mut script = String::with_capacity(body.len() + 64);
    script.push_str(&format!(
        "T={} S={}\nset --",
        options.timeout_seconds(),
        u8::from(options.search)
    ));
    for path in explicit {
        script.push(' ');
        script.push_str(&sh_quote(&path.to_string_lossy()));
    }
    script.push('\n');
    script.push_str(body);
    script
}

/// The probe body as shipped: comment lines, blank lines and indentation removed.
/// (No line of the body's strings starts with spaces or `#`.)
pub fn shipped_body() -> &'static str {
    static BODY: OnceLock<String> = OnceLock::new();
    BODY.get_or_init(|| {
        PROBE_SOURCE
            .lines()
            .map(|line| line.trim_start_matches(' '))
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .fold(
                String::with_capacity(PROBE_SOURCE.len()),
                |mut body, line| {
                    body.push_str(line);
                    body.push('\n');
                    body
                },
            )
    })
}

/// `text` as one sh word: single-quoted, with each `'` written as `'\''`.
pub(crate) fn sh_quote(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_body_is_small_and_has_no_comments() {
        let body = shipped_body();
        assert!(body.len() < 3800, "probe body grew to {} bytes", body.len());
        assert!(body.lines().all(|line| !line.starts_with('#')));
        assert!(body.lines().all(|line| !line.starts_with(' ')));
        // The Python program survives intact.
        assert!(body.contains("PYFLEET1"));
        assert!(body.contains("import sys as s\n"));
    }

    #[test]
    fn prologue_sets_inputs_and_quotes_paths() {
        let script = probe_script_with(
            &[
                PathBuf::from("/opt/it's here/python3"),
                PathBuf::from("rel/py"),
            ],
            &ProbeOptions {
                search: false,
                candidate_timeout: Duration::from_millis(1500),
            },
        );
        let prologue: Vec<&str> = script.lines().take(2).collect();
        assert_eq!(
            prologue,
            ["T=2 S=0", r"set -- '/opt/it'\''s here/python3' 'rel/py'"]
        );
        assert!(probe_script(&[]).starts_with("T=5 S=1\nset --\n"));
    }

    #[test]
    fn timeout_rounds_up_to_whole_seconds() {
        let seconds = |millis| {
            ProbeOptions {
                search: true,
                candidate_timeout: Duration::from_millis(millis),
            }
            .timeout_seconds()
        };
        assert_eq!(seconds(0), 1);
        assert_eq!(seconds(1), 1);
        assert_eq!(seconds(1000), 1);
        assert_eq!(seconds(1001), 2);
        assert_eq!(seconds(5000), 5);
    }

    #[test]
    fn quoting_handles_quotes_and_specials() {
        assert_eq!(sh_quote("plain"), "'plain'");
        assert_eq!(sh_quote("a'b"), r"'a'\''b'");
        assert_eq!(sh_quote("$HOME `x` \\"), r"'$HOME `x` \'");
        assert_eq!(sh_quote(""), "''");
    }
}
