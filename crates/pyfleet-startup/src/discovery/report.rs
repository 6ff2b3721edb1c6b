//! Reading the probe's line report.
//!
//! Lines, fields separated by tabs (the last field may hold tabs):
//!
//! ```text
//! #pyfleet-discovery 1 TIMEOUT     header: format version, per-candidate timeout (s)
//! #error MESSAGE                   the probe could not run
//! D PATH                           a path whose change may change the result
//! N PATH                           an explicit path that is not an executable file
//! S SHIM ORIGIN VERSIONS TARGET    a pyenv shim and its binary (TARGET may be empty)
//! C SOURCE PATH REAL KEY SHIM      a candidate; KEY names the run it shares
//! R KEY STATUS OUTPUT              a run: exit status or "timeout", first stdout line
//! W KEY STDERR                     a failed run's last stderr line
//! #end                             the probe finished
//! ```
//!
//! The reader never fails because of one candidate: garbage lines are ignored, a
//! candidate that crashed, hung or printed something else is skipped with the
//! reason. Only a text without the header (or with the probe's own error) fails.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use super::error::DiscoveryError;
use super::interpreter::{CandidateSource, FoundPath, Interpreter};
use super::outcome::{Discovery, ShimMapping};
use super::script::DEFAULT_CANDIDATE_TIMEOUT;
use super::skipped::{SkipReason, SkippedCandidate};
use crate::target::{Implementation, PythonTarget, PythonVersion};

/// The header's first field.
const HEADER: &str = "#pyfleet-discovery";
/// The report format this reader understands.
const FORMAT_VERSION: &str = "1";
/// The first field of the interpreters' answer line.
const ANSWER_TAG: &str = "PYFLEET1";
/// Longest piece of a stranger's output quoted in a skip reason.
const QUOTE_LIMIT: usize = 120;

/// One `C` line.
struct Candidate {
    source: CandidateSource,
    path: PathBuf,
    real_path: PathBuf,
    key: String,
}

/// Reads a probe report (text before the header, such as a login banner, is
/// ignored). See the module docs for the format.
pub fn parse_report(text: &str) -> Result<Discovery, DiscoveryError> {
    let mut lines = text.lines();
    let timeout = find_header(&mut lines, text)?;
    let mut discovery = Discovery {
        candidate_timeout: timeout,
        ..Discovery::default()
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut candidate_paths: HashSet<PathBuf> = HashSet::new();
    let mut results: HashMap<&str, (&str, &str)> = HashMap::new();
    let mut stderr: HashMap<&str, &str> = HashMap::new();
    let mut ignored = 0usize;

    for line in lines {
        let fields: Vec<&str> = line.splitn(6, '\t').collect();
        match fields.as_slice() {
            ["#end"] => discovery.complete = true,
            ["#error", message] => {
                return Err(DiscoveryError::ProbeFailed {
                    message: (*message).to_string(),
                });
            }
            ["D", path] if !path.is_empty() => {
                let path = PathBuf::from(path);
                if !discovery.watched.contains(&path) {
                    discovery.watched.push(path);
                }
            }
            ["N", path, ..] => discovery.skipped.push(SkippedCandidate {
                path: PathBuf::from(path),
                reason: SkipReason::NotExecutable,
            }),
            ["S", shim, origin, versions, target] => {
                let shim = PathBuf::from(shim);
                if discovery.shim(&shim).is_none() {
                    discovery.shims.push(ShimMapping {
                        shim,
                        origin: (*origin).to_string(),
                        versions: versions
                            .split([':', ' ', '\t'])
                            .filter(|v| !v.is_empty())
                            .map(str::to_string)
                            .collect(),
                        target: (!target.is_empty()).then(|| PathBuf::from(target)),
                    });
                }
            }
            ["C", source, path, real, key, shim] if !path.is_empty() && !key.is_empty() => {
                let Some(source) = CandidateSource::from_report(source, shim) else {
                    ignored += 1;
                    continue;
                };
                let path = PathBuf::from(path);
                if candidate_paths.insert(path.clone()) {
                    let real_path = if real.is_empty() {
                        path.clone()
                    } else {
                        PathBuf::from(real)
                    };
                    candidates.push(Candidate {
                        source,
                        path,
                        real_path,
                        key: (*key).to_string(),
                    });
                }
            }
            ["R", key, status, ..] => {
                // The answer is the rest of the line, tabs included.
                let output = line.splitn(4, '\t').nth(3).unwrap_or_default();
                results.entry(key).or_insert((status, output));
            }
            ["W", key, ..] => {
                let message = line.splitn(3, '\t').nth(2).unwrap_or_default();
                stderr.entry(key).or_insert(message);
            }
            _ => ignored += 1,
        }
    }
    #[cfg(feature = "tracing")]
    if ignored > 0 {
        tracing::debug!(ignored, "discovery report lines not understood");
    }
    #[cfg(not(feature = "tracing"))]
    let _ = ignored;

    // One entry per key, in the order its first candidate was found.
    let mut key_order: Vec<&str> = Vec::new();
    let mut by_key: HashMap<&str, Vec<&Candidate>> = HashMap::new();
    for candidate in &candidates {
        let group = by_key.entry(candidate.key.as_str()).or_default();
        if group.is_empty() {
            key_order.push(candidate.key.as_str());
        }
        group.push(candidate);
    }
    for key in key_order {
        let group = &by_key[key];
        let first = group[0];
        let message = stderr.get(key).copied().unwrap_or_default();
        match results.get(key) {
            None => discovery.skipped.push(SkippedCandidate {
                path: first.path.clone(),
                reason: SkipReason::NoResult,
            }),
            Some((status, output)) => match read_run(status, output, message, timeout) {
                Ok(answer) => discovery.interpreters.push(answer.into_interpreter(group)),
                Err(reason) => discovery.skipped.push(SkippedCandidate {
                    path: first.path.clone(),
                    reason,
                }),
            },
        }
    }
    Ok(discovery)
}

/// Skips to the header; returns the per-candidate timeout it states.
fn find_header<'a>(
    lines: &mut impl Iterator<Item = &'a str>,
    text: &str,
) -> Result<Duration, DiscoveryError> {
    for line in lines.by_ref() {
        let mut fields = line.split('\t');
        if fields.next() != Some(HEADER) {
            continue;
        }
        let version = fields.next().unwrap_or_default();
        if version != FORMAT_VERSION {
            return Err(DiscoveryError::MalformedReport {
                detail: format!("format version {version:?}, this reader knows {FORMAT_VERSION:?}"),
            });
        }
        let timeout = fields
            .next()
            .and_then(|secs| secs.trim().parse::<u64>().ok())
            .map_or(DEFAULT_CANDIDATE_TIMEOUT, Duration::from_secs);
        return Ok(timeout);
    }
    let first = text.lines().find(|line| !line.trim().is_empty());
    Err(DiscoveryError::MalformedReport {
        detail: match first {
            None => "it is empty".to_string(),
            Some(line) => format!(
                "no {HEADER:?} header line (first line: {:?})",
                shorten(line)
            ),
        },
    })
}

/// What one interpreter said about itself.
struct Answer {
    target: PythonTarget,
    release_level: String,
    serial: u32,
    maxsize: u64,
    abiflags: String,
    platform: String,
    pypy_version: Option<String>,
    executable: String,
    prefix: String,
    base_prefix: String,
}

impl Answer {
    fn into_interpreter(self, group: &[&Candidate]) -> Interpreter {
        let first = group[0];
        Interpreter {
            path: first.path.clone(),
            real_path: first.real_path.clone(),
            source: first.source.clone(),
            also_found: group[1..]
                .iter()
                .map(|candidate| FoundPath {
                    path: candidate.path.clone(),
                    source: candidate.source.clone(),
                })
                .collect(),
            target: self.target,
            release_level: self.release_level,
            serial: self.serial,
            is_virtualenv: self.prefix != self.base_prefix,
            prefix: PathBuf::from(self.prefix),
            base_prefix: PathBuf::from(self.base_prefix),
            executable: self.executable,
            pointer_width: if self.maxsize > u64::from(u32::MAX) {
                64
            } else {
                32
            },
            free_threaded: self.abiflags.contains('t'),
            abiflags: self.abiflags,
            platform: self.platform,
            pypy_version: self.pypy_version,
        }
    }
}

/// Turns one run's status, first stdout line and last stderr line into an answer
/// or the reason to skip it.
fn read_run(
    status: &str,
    output: &str,
    message: &str,
    timeout: Duration,
) -> Result<Answer, SkipReason> {
    let message = shorten(message);
    match status {
        "timeout" => return Err(SkipReason::TimedOut { after: timeout }),
        "0" => {}
        "" => return Err(SkipReason::NoResult),
        other => {
            return Err(match other.parse::<i32>() {
                // The shell reports death by signal N as 128 + N.
                Ok(code) if code > 128 => SkipReason::Killed {
                    signal: code - 128,
                    message,
                },
                Ok(code) => SkipReason::Exited { code, message },
                Err(_) => SkipReason::NoResult,
            });
        }
    }
    parse_answer(output).ok_or_else(|| match output.split('\t').nth(1) {
        Some(name)
            if output.starts_with(ANSWER_TAG)
                && Implementation::from_name(name).is_none()
                && !name.is_empty() =>
        {
            SkipReason::UnsupportedImplementation {
                name: name.to_string(),
            }
        }
        _ => SkipReason::UnexpectedOutput {
            output: shorten(output),
        },
    })
}

/// The answer line printed by the probe's Python program:
/// `PYFLEET1 impl M.m.u level serial maxsize abiflags platform pypy exe prefix base`.
fn parse_answer(line: &str) -> Option<Answer> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [
        tag,
        implementation,
        version,
        release_level,
        serial,
        maxsize,
        abiflags,
        platform,
        pypy_version,
        executable,
        prefix,
        base_prefix,
    ] = fields.as_slice()
    else {
        return None;
    };
    if *tag != ANSWER_TAG {
        return None;
    }
    let implementation = Implementation::from_name(implementation)?;
    let numbers: Vec<u32> = version
        .split('.')
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    let [major, minor, micro] = numbers.as_slice() else {
        return None;
    };
    Some(Answer {
        target: PythonTarget {
            implementation,
            version: PythonVersion::new(*major, *minor, *micro),
        },
        release_level: (*release_level).to_string(),
        serial: serial.parse().ok()?,
        maxsize: maxsize.parse().ok()?,
        abiflags: (*abiflags).to_string(),
        platform: (*platform).to_string(),
        pypy_version: (!pypy_version.is_empty()).then(|| (*pypy_version).to_string()),
        executable: (*executable).to_string(),
        prefix: (*prefix).to_string(),
        base_prefix: (*base_prefix).to_string(),
    })
}

/// At most [`QUOTE_LIMIT`] characters of a stranger's text, for messages.
fn shorten(text: &str) -> String {
    let text = text.trim_end();
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const GOOD_311: &str = "PYFLEET1\tcpython\t3.11.2\tfinal\t0\t9223372036854775807\t\tlinux\t\t/usr/bin/python3.11\t/usr\t/usr";
    const GOOD_PYPY: &str = "PYFLEET1\tpypy\t3.9.16\tfinal\t0\t9223372036854775807\t\tlinux\t7.3.11\t/usr/bin/pypy3.9\t/usr\t/usr";

    fn report(body: &[String]) -> String {
        let mut text = String::from("#pyfleet-discovery\t1\t3\n");
        for line in body {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    fn c(source: &str, path: &str, real: &str, shim: &str) -> String {
        format!("C\t{source}\t{path}\t{real}\t{real}\t{shim}")
    }

    fn r(key: &str, status: &str, output: &str) -> String {
        format!("R\t{key}\t{status}\t{output}")
    }

    #[test]
    fn reads_interpreters_with_aliases_and_sources() {
        let text = report(&[
            "D\t/usr/bin".into(),
            c("path", "/usr/bin/python3", "/usr/bin/python3.11", ""),
            c("path", "/usr/bin/python3.11", "/usr/bin/python3.11", ""),
            c("prefix", "/usr/bin/pypy3", "/usr/bin/pypy3.9", ""),
            c("path", "/usr/bin/python3", "/usr/bin/python3.11", ""),
            r("/usr/bin/python3.11", "0", GOOD_311),
            r("/usr/bin/pypy3.9", "0", GOOD_PYPY),
            "#end".into(),
        ]);
        let discovery = parse_report(&text).unwrap();
        assert!(discovery.complete);
        assert_eq!(discovery.candidate_timeout, Duration::from_secs(3));
        assert_eq!(discovery.watched, [PathBuf::from("/usr/bin")]);
        assert_eq!(discovery.interpreters.len(), 2);
        let cpython = &discovery.interpreters[0];
        assert_eq!(cpython.target, PythonTarget::cpython(3, 11, 2));
        assert_eq!(cpython.path, Path::new("/usr/bin/python3"));
        assert_eq!(cpython.real_path, Path::new("/usr/bin/python3.11"));
        assert_eq!(cpython.source, CandidateSource::Path);
        assert_eq!(
            cpython.also_found,
            [FoundPath {
                path: "/usr/bin/python3.11".into(),
                source: CandidateSource::Path
            }]
        );
        assert_eq!(cpython.pointer_width, 64);
        assert!(!cpython.is_virtualenv);
        assert!(!cpython.free_threaded);
        assert_eq!(cpython.pypy_version, None);
        let pypy = &discovery.interpreters[1];
        assert_eq!(pypy.target, PythonTarget::pypy(3, 9, 16));
        assert_eq!(pypy.source, CandidateSource::CommonPrefix);
        assert_eq!(pypy.pypy_version.as_deref(), Some("7.3.11"));
        assert!(discovery.skipped.is_empty());
    }

    #[test]
    fn failed_hung_and_strange_candidates_are_skipped_with_reasons() {
        let text = report(&[
            "N\t/missing/python3\tnot an executable file".into(),
            c("explicit", "/t/hang", "/t/hang", ""),
            c("explicit", "/t/garbage", "/t/garbage", ""),
            c("explicit", "/t/fail", "/t/fail", ""),
            c("explicit", "/t/segv", "/t/segv", ""),
            c("explicit", "/t/graal", "/t/graal", ""),
            c("explicit", "/t/silent", "/t/silent", ""),
            c("explicit", "/t/unreported", "/t/unreported", ""),
            c("explicit", "/t/good", "/usr/bin/python3.11", ""),
            r("/t/hang", "timeout", ""),
            "W\t/t/hang\t".into(),
            r("/t/garbage", "0", "hello\tworld"),
            r("/t/fail", "3", ""),
            "W\t/t/fail\tImportError: no\tmodule".into(),
            r("/t/segv", "139", ""),
            "W\t/t/segv\t".into(),
            r(
                "/t/graal",
                "0",
                "PYFLEET1\tgraalpy\t3.10.8\tfinal\t0\t9223372036854775807\t\tlinux\t\t/g\t/g\t/g",
            ),
            r("/t/silent", "0", ""),
            r("/usr/bin/python3.11", "0", GOOD_311),
            "#end".into(),
        ]);
        let discovery = parse_report(&text).unwrap();
        assert_eq!(discovery.interpreters.len(), 1);
        let reasons: Vec<(String, SkipReason)> = discovery
            .skipped
            .iter()
            .map(|s| (s.path.display().to_string(), s.reason.clone()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("/missing/python3".into(), SkipReason::NotExecutable),
                (
                    "/t/hang".into(),
                    SkipReason::TimedOut {
                        after: Duration::from_secs(3)
                    }
                ),
                (
                    "/t/garbage".into(),
                    SkipReason::UnexpectedOutput {
                        output: "hello\tworld".into()
                    }
                ),
                (
                    "/t/fail".into(),
                    SkipReason::Exited {
                        code: 3,
                        message: "ImportError: no\tmodule".into()
                    }
                ),
                (
                    "/t/segv".into(),
                    SkipReason::Killed {
                        signal: 11,
                        message: String::new()
                    }
                ),
                (
                    "/t/graal".into(),
                    SkipReason::UnsupportedImplementation {
                        name: "graalpy".into()
                    }
                ),
                (
                    "/t/silent".into(),
                    SkipReason::UnexpectedOutput {
                        output: String::new()
                    }
                ),
                ("/t/unreported".into(), SkipReason::NoResult),
            ]
        );
        let messages: Vec<String> = discovery.skipped.iter().map(|s| s.to_string()).collect();
        assert_eq!(messages[0], "/missing/python3: not an executable file");
        assert_eq!(
            messages[1],
            "/t/hang: timed out: no answer within 3 s, killed"
        );
        assert_eq!(
            messages[3],
            "/t/fail: exited with code 3: ImportError: no\tmodule"
        );
        assert_eq!(messages[4], "/t/segv: killed by SIGSEGV");
        assert!(messages[2].contains("not a Python interpreter? It printed"));
    }

    #[test]
    fn garbage_lines_banners_and_a_cut_off_report_are_tolerated() {
        let text = format!(
            "Welcome to host!\nLast login: never\n{}",
            report(&[
                "complete nonsense".into(),
                "C\ttoo\tfew".into(),
                "C\tmartian\t/x/python\t/x/python\t/x/python\t".into(),
                "R\t/nowhere\t0\tPYFLEET1".into(),
                "D\t".into(),
                String::new(),
                "\u{0}\u{1}binary\u{ff}".into(),
                c("path", "/usr/bin/python3.11", "/usr/bin/python3.11", ""),
                r("/usr/bin/python3.11", "0", GOOD_311),
                c("path", "/usr/bin/pypy3", "/usr/bin/pypy3.9", ""),
                // A partial last line: the probe was cut off mid-write.
                "R\t/usr/bin/pypy3.9\t0\tPYFLEET1\tpypy\t3.9".into(),
            ])
        );
        let discovery = parse_report(&text).unwrap();
        assert!(!discovery.complete);
        assert_eq!(discovery.interpreters.len(), 1);
        assert_eq!(discovery.skipped.len(), 1);
        assert_eq!(discovery.skipped[0].path, Path::new("/usr/bin/pypy3"));
        assert!(matches!(
            discovery.skipped[0].reason,
            SkipReason::UnexpectedOutput { .. }
        ));
    }

    #[test]
    fn shims_and_venvs_are_read() {
        let text = report(&[
            "S\t/p/shims/python\t/p/version\t3.11.7:2.7.18\t/p/versions/3.11.7/bin/python".into(),
            "S\t/p/shims/python3.12\t/p/version\t3.11.7:2.7.18\t".into(),
            "C\tshim\t/p/versions/3.11.7/bin/python\t/p/versions/3.11.7/bin/python3.11\t/p/versions/3.11.7/bin/python3.11\t/p/shims/python".into(),
            "C\tpath\t/v/bin/python\t/usr/bin/python3.11\t/v/bin/python\t".into(),
            r(
                "/p/versions/3.11.7/bin/python3.11",
                "0",
                "PYFLEET1\tcpython\t3.11.7\tfinal\t0\t9223372036854775807\t\tlinux\t\t/p/versions/3.11.7/bin/python3.11\t/p/versions/3.11.7\t/p/versions/3.11.7",
            ),
            r(
                "/v/bin/python",
                "0",
                "PYFLEET1\tcpython\t3.11.2\tfinal\t0\t2147483647\tt\tlinux\t\t/v/bin/python\t/v\t/usr",
            ),
            "#end".into(),
        ]);
        let discovery = parse_report(&text).unwrap();
        assert_eq!(
            discovery.shims,
            [
                ShimMapping {
                    shim: "/p/shims/python".into(),
                    origin: "/p/version".into(),
                    versions: vec!["3.11.7".into(), "2.7.18".into()],
                    target: Some("/p/versions/3.11.7/bin/python".into()),
                },
                ShimMapping {
                    shim: "/p/shims/python3.12".into(),
                    origin: "/p/version".into(),
                    versions: vec!["3.11.7".into(), "2.7.18".into()],
                    target: None,
                },
            ]
        );
        let via_shim = discovery
            .resolve_shim(Path::new("/p/shims/python"))
            .unwrap();
        assert_eq!(via_shim.target, PythonTarget::cpython(3, 11, 7));
        assert_eq!(
            via_shim.source,
            CandidateSource::PyenvShim {
                shim: "/p/shims/python".into()
            }
        );
        assert!(
            discovery
                .resolve_shim(Path::new("/p/shims/python3.12"))
                .is_none()
        );
        let venv = discovery.find_path(Path::new("/v/bin/python")).unwrap();
        assert!(venv.is_virtualenv);
        assert!(venv.free_threaded);
        assert_eq!(venv.pointer_width, 32);
        assert_eq!(venv.real_path, Path::new("/usr/bin/python3.11"));
    }

    #[test]
    fn reports_without_a_header_or_with_an_error_fail_clearly() {
        let error = parse_report("").unwrap_err().to_string();
        assert!(error.contains("it is empty"), "{error}");
        let error = parse_report("sh: 1: Syntax error: \"(\" unexpected\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("no \"#pyfleet-discovery\" header"),
            "{error}"
        );
        assert!(error.contains("Syntax error"), "{error}");
        let error = parse_report("#pyfleet-discovery\t7\t5\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("format version \"7\""), "{error}");
        let error =
            parse_report("#pyfleet-discovery\t1\t5\n#error\tcannot create a temporary directory\n")
                .unwrap_err();
        assert!(matches!(error, DiscoveryError::ProbeFailed { .. }));
        assert!(error.to_string().contains("temporary directory"));
    }
}
