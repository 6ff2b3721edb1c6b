//! "Whatever my interpreter can import": a local Python context that says where a
//! module lives, so the master serves it from there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;

use super::ModuleError;
use crate::method::LocalOptions;
use crate::router::handles::CALL;
use crate::router::{self, Connection, ConnectionSettings, decode_reply, encode_call, log_output};
use crate::wire::{DEFAULT_MAX_MESSAGE_SIZE, DecodeLimits};

/// Defined in the resolver's `__main__`: where `name` lives, as (origin, is package),
/// or a word saying why it is not served. Runs on Python 3.4+.
const LOCATE: &str = r#"
def pyfleet_locate(name):
    import importlib.util, os, sysconfig
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    origin = spec.origin
    if not origin or origin in ('built-in', 'frozen') or not os.path.isfile(origin):
        return 'builtin'
    paths = sysconfig.get_paths()
    real = os.path.realpath(origin)
    for key in ('stdlib', 'platstdlib'):
        base = os.path.realpath(paths[key]) + os.sep
        if real.startswith(base) and os.sep + 'site-packages' + os.sep not in real[len(base) - 1:] \
                and os.sep + 'dist-packages' + os.sep not in real[len(base) - 1:]:
            return 'stdlib'
    return (origin, spec.submodule_search_locations is not None)
"#;

/// A local interpreter asked where modules live; started on first use.
pub struct InterpreterResolver {
    python: PathBuf,
    connection: OnceCell<Result<Arc<Connection>, String>>,
}

/// Where the resolver found a module.
pub enum Location {
    /// Not importable there.
    Missing,
    /// Built in, frozen or in the standard library: never served.
    NotServed,
    /// A file: its path and whether it is a package's `__init__`.
    File(PathBuf, bool),
}

impl InterpreterResolver {
    /// Resolve with the interpreter at `python`.
    pub fn new(python: impl Into<PathBuf>) -> InterpreterResolver {
        InterpreterResolver {
            python: python.into(),
            connection: OnceCell::new(),
        }
    }

    /// The interpreter this resolves with.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// Where `name` lives for this interpreter.
    pub async fn locate(&self, name: &str) -> Result<Location, ModuleError> {
        let connection = self.connection().await?;
        let body = encode_call("__main__", "pyfleet_locate", &(name,), &(), None)
            .map_err(|e| self.failed(e))?
            .body;
        let reply = connection
            .request(CALL, body)
            .await
            .map_err(|e| self.failed(e))?;
        let answer: crate::wire::Value =
            decode_reply(reply, &DecodeLimits::default(), "module resolver", || {
                "pyfleet_locate".into()
            })
            .map_err(|e| self.failed(e))?;
        Ok(match answer {
            crate::wire::Value::None => Location::Missing,
            crate::wire::Value::Str(_) | crate::wire::Value::Bytes(_) => Location::NotServed,
            other => {
                let (origin, is_package): (String, bool) =
                    crate::wire::from_value(other).map_err(|e| self.failed(e))?;
                Location::File(PathBuf::from(origin), is_package)
            }
        })
    }

    async fn connection(&self) -> Result<&Arc<Connection>, ModuleError> {
        let started = self
            .connection
            .get_or_init(|| async {
                let plan = LocalOptions::new()
                    .python(&self.python)
                    .connect_timeout(Duration::from_secs(30))
                    .plan()
                    .await
                    .map_err(|e| e.to_string())?;
                let settings = ConnectionSettings {
                    max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
                    decode_limits: DecodeLimits::default(),
                    output: log_output(),
                    shutdown_grace: Duration::from_secs(1),
                    requests: None,
                };
                let connection = router::connect(0, "module-resolver".into(), plan, settings)
                    .await
                    .map_err(|e| e.to_string())?;
                let body = encode_call("pyfleet_core.execution", "run", &(LOCATE,), &(), None)
                    .map_err(|e| e.to_string())?
                    .body;
                connection
                    .request(CALL, body)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(connection)
            })
            .await;
        started.as_ref().map_err(|reason| ModuleError::Resolver {
            python: self.python.clone(),
            reason: reason.clone(),
        })
    }

    fn failed(&self, error: impl std::fmt::Display) -> ModuleError {
        ModuleError::Resolver {
            python: self.python.clone(),
            reason: error.to_string(),
        }
    }
}
