//! What a child reports about itself once its core runs (python/pyfleet_core/hello.py).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::wire::Value;

/// The child's effective configuration, read from the running interpreter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildFacts {
    /// Version of the child side of the protocol.
    pub protocol: u32,
    /// `sys.version_info`: major, minor, micro, release level, serial.
    pub version: (u32, u32, u32, String, u32),
    /// `sys.version`.
    pub version_text: String,
    /// `sys.implementation.name`: "cpython" or "pypy".
    pub implementation: String,
    /// `sys.executable`.
    pub executable: String,
    /// `sys.prefix`.
    pub prefix: String,
    /// `sys.base_prefix` (equal to prefix outside a virtual environment).
    pub base_prefix: String,
    /// `sys.exec_prefix`.
    pub exec_prefix: String,
    /// `sys.platform`.
    pub platform: String,
    /// `os.uname().machine`.
    pub machine: String,
    /// `os.uname().nodename`.
    pub hostname: String,
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Real user id.
    pub uid: u32,
    /// Effective user id.
    pub euid: u32,
    /// Real group id.
    pub gid: u32,
    /// Working directory.
    pub cwd: String,
    /// File mode creation mask.
    pub umask: u32,
    /// `sys.argv`.
    pub argv: Vec<String>,
    /// `sys.path`.
    pub path: Vec<String>,
    /// `sys.flags`, the fields this interpreter has.
    pub flags: BTreeMap<String, Value>,
    /// `sys.warnoptions`.
    pub warnoptions: Vec<String>,
    /// `sys._xoptions`.
    pub xoptions: BTreeMap<String, Value>,
    /// Encodings in effect.
    pub encodings: Encodings,
    /// `sys.maxsize`.
    pub maxsize: i64,
    /// Values of the environment variables the parent asked about (None = unset).
    #[serde(default)]
    pub env: BTreeMap<String, Option<String>>,
    /// Extra facts the parent asked for: (probe, argument, result).
    #[serde(default)]
    pub probes: Vec<(String, Value, Value)>,
}

/// Text encodings the child uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encodings {
    /// `sys.getfilesystemencoding()`.
    pub filesystem: String,
    /// `sys.getfilesystemencodeerrors()` (Python 3.6+).
    pub filesystem_errors: Option<String>,
    /// `sys.getdefaultencoding()`.
    pub default: String,
    /// (encoding, errors) of the original stdin.
    pub stdin: Option<(Option<String>, Option<String>)>,
    /// (encoding, errors) of the original stdout.
    pub stdout: Option<(Option<String>, Option<String>)>,
    /// (encoding, errors) of the original stderr.
    pub stderr: Option<(Option<String>, Option<String>)>,
    /// The locale's codeset (`nl_langinfo(CODESET)`).
    pub locale: Option<String>,
}

impl ChildFacts {
    /// "CPython 3.11.2" / "PyPy 3.9.16".
    pub fn describe(&self) -> String {
        let name = match self.implementation.as_str() {
            "cpython" => "CPython",
            "pypy" => "PyPy",
            other => other,
        };
        format!(
            "{name} {}.{}.{}",
            self.version.0, self.version.1, self.version.2
        )
    }

    /// A `sys.flags` field as an integer.
    pub fn flag(&self, name: &str) -> Option<i64> {
        self.flags.get(name).and_then(Value::as_i64)
    }

    /// The result of a probe the parent asked for.
    pub fn probe(&self, name: &str, argument: &Value) -> Option<&Value> {
        self.probes
            .iter()
            .find(|(n, a, _)| n == name && a == argument)
            .map(|(_, _, result)| result)
    }
}
