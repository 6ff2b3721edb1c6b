//! Recognising password prompts and failure messages in what a method's program
//! (sudo, su, doas, ssh) writes to its terminal.
//!
//! # The contract
//!
//! These rules are data ([`PromptRules`]) so that any parent can apply them — the
//! master here, or later a Python core that starts a hop itself. They need no
//! regular expressions; a Python 2.7/3 version is a few lines:
//!
//! 1. **Text.** Keep the raw bytes that arrived since the password was last typed
//!    (the last 8 KiB). Before each match, normalise them: drop ANSI escape
//!    sequences (`ESC [` … a byte in `@`..`~`; `ESC ]` … `BEL` or `ESC \`; `ESC`
//!    and one of `()*+` and one more byte; `ESC` and one other byte), drop every
//!    control byte but `\n` and `\t` (so `\r` goes),
//!    decode as UTF-8 with replacement, and lower-case ASCII letters.
//! 2. **Failures first.** If the normalised text *contains* the lower-cased text of
//!    a [`KnownFailure`], the hop failed, with that failure's [`FailureKind`]
//!    (`PythonMissing` is judged only once the program has ended).
//! 3. **Prompts.** The *partial last line* is the text after the last `\n`, with
//!    trailing whitespace removed. It asks for the password if, for one of the
//!    lower-cased `password_prompts` (each stripped of trailing whitespace), the line
//!    *ends with* it, or *contains* it and ends with `:` (`[sudo] password for
//!    ann:` contains `password`). Then type the
//!    password and `\n` once, and forget the bytes seen so far; a password prompt
//!    after the password was typed is an authentication failure; without a
//!    password it is an error that says one is needed.
//! 4. **Unknown prompts.** If the partial last line is not empty and nothing new
//!    arrives for `unknown_prompt_ms` before the child's ready marker, the program
//!    waits for an answer nobody will give: fail and quote that line (with the
//!    password, should it appear, replaced by `***`).

use serde::{Deserialize, Serialize};

/// How much raw terminal output is kept for matching.
const KEPT_BYTES: usize = 8 * 1024;

/// Failures judged while the program runs; a missing interpreter only once it
/// has ended.
const LIVE_KINDS: [FailureKind; 4] = [
    FailureKind::Authentication,
    FailureKind::NotPermitted,
    FailureKind::HostKey,
    FailureKind::Unreachable,
];

/// What a known failure message means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureKind {
    /// The password (or key) was refused.
    Authentication,
    /// Authenticated, but not allowed to do this (no sudoers/doas rule).
    NotPermitted,
    /// The host key does not match what is known for the host.
    HostKey,
    /// The host or port cannot be reached.
    Unreachable,
    /// The interpreter does not exist on the target (only judged once the program
    /// has ended without starting the loader).
    PythonMissing,
}

/// A message that, when it appears, says how the hop failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownFailure {
    /// Matched case-insensitively anywhere in the normalised output.
    pub text: String,
    /// What it means.
    pub kind: FailureKind,
}

impl KnownFailure {
    /// A rule for `text`.
    pub fn new(text: impl Into<String>, kind: FailureKind) -> KnownFailure {
        KnownFailure {
            text: text.into(),
            kind,
        }
    }
}

/// The prompt and failure rules of one hop (see the module documentation for the
/// exact matching contract).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PromptRules {
    /// A partial last line ending with one of these asks for the password.
    pub password_prompts: Vec<String>,
    /// Messages that end the hop with a known cause, checked in order.
    pub failures: Vec<KnownFailure>,
    /// How long an unanswered partial line may sit before it counts as an unknown
    /// prompt, in milliseconds.
    pub unknown_prompt_ms: u64,
}

/// What to do after new terminal output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptVerdict {
    /// Nothing recognised yet.
    Wait,
    /// Type the password now.
    TypePassword,
    /// A password prompt, but there is no password.
    NeedPassword {
        /// The prompt line.
        prompt: String,
    },
    /// The hop failed.
    Failed {
        /// Why.
        kind: FailureKind,
        /// The line that says so.
        line: String,
    },
}

/// Applies [`PromptRules`] to a stream of terminal output.
#[derive(Debug)]
pub struct PromptWatcher {
    rules: PromptRules,
    has_password: bool,
    typed: bool,
    raw: Vec<u8>,
}

impl PromptWatcher {
    /// A watcher for `rules`; `has_password` says whether a password can be typed.
    pub fn new(rules: PromptRules, has_password: bool) -> PromptWatcher {
        PromptWatcher {
            rules,
            has_password,
            typed: false,
            raw: Vec::new(),
        }
    }

    /// Take new output and say what to do.
    pub fn feed(&mut self, bytes: &[u8]) -> PromptVerdict {
        self.raw.extend_from_slice(bytes);
        if self.raw.len() > KEPT_BYTES {
            let excess = self.raw.len() - KEPT_BYTES;
            self.raw.drain(..excess);
        }
        let text = normalise(&self.raw);
        if let Some((kind, line)) = find_failure(&self.rules.failures, &text, Some(&LIVE_KINDS)) {
            return PromptVerdict::Failed { kind, line };
        }
        let partial = partial_line(&text);
        let is_prompt = !partial.is_empty()
            && self.rules.password_prompts.iter().any(|prompt| {
                let prompt = prompt.trim_end().to_ascii_lowercase();
                !prompt.is_empty()
                    && (partial.ends_with(&prompt)
                        || partial.contains(&prompt) && partial.ends_with(':'))
            });
        if !is_prompt {
            return PromptVerdict::Wait;
        }
        if self.typed {
            return PromptVerdict::Failed {
                kind: FailureKind::Authentication,
                line: format!("asked for the password again: {partial}"),
            };
        }
        if !self.has_password {
            return PromptVerdict::NeedPassword {
                prompt: partial.to_string(),
            };
        }
        self.typed = true;
        self.raw.clear();
        PromptVerdict::TypePassword
    }

    /// The partial last line seen since the password was last typed (normalised).
    pub fn partial_line(&self) -> String {
        partial_line(&normalise(&self.raw)).to_string()
    }

    /// True once the password was typed.
    pub fn typed(&self) -> bool {
        self.typed
    }
}

/// The first known failure of `failures` (of `only` kind, if given) in `text`,
/// which must be normalised, with the line it is on.
pub fn find_failure(
    failures: &[KnownFailure],
    text: &str,
    only: Option<&[FailureKind]>,
) -> Option<(FailureKind, String)> {
    failures
        .iter()
        .filter(|failure| only.is_none_or(|kinds| kinds.contains(&failure.kind)))
        .find_map(|failure| {
            let needle = failure.text.to_ascii_lowercase();
            let at = text.find(&needle)?;
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            Some((failure.kind, text[start..end].trim().to_string()))
        })
}

fn partial_line(text: &str) -> &str {
    let last = text.rfind('\n').map_or(text, |i| &text[i + 1..]);
    last.trim_end()
}

/// Step 1 of the contract: escape sequences and control bytes out, lower case.
pub fn normalise(raw: &[u8]) -> String {
    let mut kept = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let byte = raw[i];
        if byte == 0x1b {
            i += escape_len(&raw[i..]);
            continue;
        }
        if byte == b'\n' || byte == b'\t' || byte >= 0x20 && byte != 0x7f {
            kept.push(byte.to_ascii_lowercase());
        }
        i += 1;
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Length of the escape sequence at the start of `bytes` (which starts with ESC);
/// an unfinished one runs to the end.
fn escape_len(bytes: &[u8]) -> usize {
    match bytes.get(1) {
        None => 1,
        Some(b'[') => bytes[2..]
            .iter()
            .position(|b| (0x40..=0x7e).contains(b))
            .map_or(bytes.len(), |p| p + 3),
        Some(b']') => {
            let mut j = 2;
            while j < bytes.len() {
                if bytes[j] == 0x07 {
                    return j + 1;
                }
                if bytes[j] == 0x1b && bytes.get(j + 1) == Some(&b'\\') {
                    return j + 2;
                }
                j += 1;
            }
            bytes.len()
        }
        Some(b'(' | b')' | b'*' | b'+') => 3.min(bytes.len()),
        Some(_) => 2,
    }
}

/// `text` with every occurrence of `secret` (as typed, or lower-cased as
/// [`normalise`] leaves it) replaced by `***`.
pub fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text
            .replace(secret, "***")
            .replace(&secret.to_ascii_lowercase(), "***"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> PromptRules {
        PromptRules {
            password_prompts: vec!["password".into(), "Passwort: ".into()],
            failures: vec![
                KnownFailure::new("Sorry, try again.", FailureKind::Authentication),
                KnownFailure::new("is not in the sudoers file", FailureKind::NotPermitted),
            ],
            unknown_prompt_ms: 1000,
        }
    }

    #[test]
    fn a_prompt_split_over_reads_is_answered_once() {
        let mut watcher = PromptWatcher::new(rules(), true);
        assert_eq!(watcher.feed(b"[sudo] pass"), PromptVerdict::Wait);
        assert_eq!(watcher.partial_line(), "[sudo] pass");
        assert_eq!(watcher.feed(b"word for pf: "), PromptVerdict::TypePassword);
        assert!(watcher.typed());
        assert_eq!(watcher.partial_line(), "");
        assert_eq!(watcher.feed(b"\r\n"), PromptVerdict::Wait);
        match watcher.feed(b"[sudo] password for pf: ") {
            PromptVerdict::Failed { kind, line } => {
                assert_eq!(kind, FailureKind::Authentication);
                assert!(line.contains("again"), "{line}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn failures_win_over_a_following_prompt() {
        let mut watcher = PromptWatcher::new(rules(), true);
        assert_eq!(watcher.feed(b"Password: "), PromptVerdict::TypePassword);
        let verdict = watcher.feed(b"\r\nSorry, try again.\r\n[sudo] password for pf: ");
        assert_eq!(
            verdict,
            PromptVerdict::Failed {
                kind: FailureKind::Authentication,
                line: "sorry, try again.".into()
            }
        );
    }

    #[test]
    fn escapes_and_carriage_returns_are_noise() {
        let mut watcher = PromptWatcher::new(rules(), true);
        let verdict = watcher.feed(b"\x1b[1m\x1b]0;title\x07PASS\x1b[0mWORD:\r ");
        assert_eq!(verdict, PromptVerdict::TypePassword);
        assert_eq!(normalise(b"a\x1b(Bb\x1b[?25lc\x00d\x7f"), "abcd");
        assert_eq!(normalise(b"x\x1b[12"), "x");
    }

    #[test]
    fn a_completed_line_is_not_a_prompt_and_user_patterns_count() {
        let mut watcher = PromptWatcher::new(rules(), true);
        assert_eq!(watcher.feed(b"Password:\n"), PromptVerdict::Wait);
        assert_eq!(watcher.feed(b"Passwort:  "), PromptVerdict::TypePassword);
    }

    #[test]
    fn without_a_password_a_prompt_is_reported() {
        let mut watcher = PromptWatcher::new(rules(), false);
        assert_eq!(
            watcher.feed(b"Password: "),
            PromptVerdict::NeedPassword {
                prompt: "password:".into()
            }
        );
    }

    #[test]
    fn failures_name_their_line() {
        let text = normalise(b"x\npf is not in the sudoers file.  This incident\nmore");
        assert_eq!(
            find_failure(&rules().failures, &text, None),
            Some((
                FailureKind::NotPermitted,
                "pf is not in the sudoers file.  this incident".into()
            ))
        );
        assert_eq!(
            find_failure(&rules().failures, &text, Some(&[FailureKind::HostKey])),
            None
        );
    }

    #[test]
    fn redaction_hides_the_secret() {
        assert_eq!(
            redact("typed hunter2 here", Some("hunter2")),
            "typed *** here"
        );
        assert_eq!(redact("typed hunter2", Some("HUNTER2")), "typed ***");
        assert_eq!(redact("x", Some("")), "x");
    }
}
