//! The module server: Python modules (pure Python only) and package data files,
//! sent to children that lack them.
//!
//! A child asks for a module by name when its own import system cannot find it.
//! The answer is the module and the other modules of its package not sent yet (one
//! round trip per package instead of one per module), or "none" (cached by the
//! child). Only names that are dotted identifiers are looked up, only files inside
//! the configured roots are read, standard-library modules and `__main__` are never
//! served, and an extension module is refused by name: it cannot be sent.

mod names;
mod resolver;
mod roots;
mod stdlib;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

pub use resolver::InterpreterResolver;
use resolver::Location;
pub use roots::Located;
use roots::Root;
pub use stdlib::is_standard_library;

use crate::router::handles::{GET_DATA, GET_MODULE};
use crate::router::{Answer, AnswerFuture, ChildRequests};
use crate::wire::{ByteBuf, DecodeLimits, from_body, to_body};

/// At most this many modules of a package go along with the one asked for.
pub const MAX_RELATED_MODULES: usize = 64;
/// ... and at most this much source in all.
pub const MAX_RELATED_BYTES: usize = 1024 * 1024;

/// Why a module or file is not served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// The name is not a dotted sequence of identifiers.
    #[error("invalid module name {name:?}: {reason}")]
    InvalidName {
        /// The name (truncated).
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// `__main__` belongs to the child.
    #[error("__main__ is never sent from the parent: run code with exec or run_main instead")]
    Main,
    /// An extension module cannot be sent.
    #[error(
        "module {name} is a native extension ({file}) and cannot be sent: install it where the child runs"
    )]
    NativeExtension {
        /// The module.
        name: String,
        /// The shared object found.
        file: String,
    },
    /// A path resolved outside every root (a symbolic link out, for instance).
    #[error("{path} is outside the module roots")]
    OutsideRoots {
        /// The path.
        path: PathBuf,
    },
    /// A data file that is not in any root or served package.
    #[error("{path:?} is not a file in a served package or module root")]
    NoSuchData {
        /// The path asked for.
        path: String,
    },
    /// A root that cannot be used.
    #[error("module root {path}: {reason}")]
    Root {
        /// The root.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Reading failed.
    #[error("reading {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The resolver interpreter failed.
    #[error("module resolver {python}: {reason}")]
    Resolver {
        /// Its interpreter.
        python: PathBuf,
        /// Why.
        reason: String,
    },
}

#[derive(Default)]
struct Sent {
    /// Per context: modules already sent (never sent twice along with others).
    modules: HashMap<u32, HashSet<String>>,
    /// Package directories whose data files may be read.
    data_dirs: HashSet<String>,
}

struct Inner {
    roots: Vec<Root>,
    resolver: Option<InterpreterResolver>,
    always_from_parent: Vec<String>,
    sent: Mutex<Sent>,
    requests: AtomicU64,
}

/// Serves Python modules to children from directories, zip files and (optionally)
/// what a local interpreter can import. Cheap to clone.
#[derive(Clone)]
pub struct ModuleServer {
    inner: Arc<Inner>,
}

impl Default for ModuleServer {
    fn default() -> Self {
        ModuleServer::new()
    }
}

impl ModuleServer {
    /// A server with no roots yet.
    pub fn new() -> ModuleServer {
        ModuleServer {
            inner: Arc::new(Inner {
                roots: Vec::new(),
                resolver: None,
                always_from_parent: Vec::new(),
                sent: Mutex::new(Sent::default()),
                requests: AtomicU64::new(0),
            }),
        }
    }

    fn edit(mut self, change: impl FnOnce(&mut Inner)) -> Self {
        let inner = Arc::get_mut(&mut self.inner).expect("configured before it is shared");
        change(inner);
        self
    }

    /// Serve modules from `path`: a directory or a zip file, like a sys.path entry.
    /// Roots are searched in the order they are added.
    pub fn root(self, path: impl AsRef<Path>) -> Result<Self, ModuleError> {
        let root = Root::open(path.as_ref())?;
        Ok(self.edit(|inner| inner.roots.push(root)))
    }

    /// After the roots, serve what the interpreter at `python` (3.4+) can import,
    /// standard library excepted: "whatever my virtualenv has".
    pub fn from_python(self, python: impl Into<PathBuf>) -> Self {
        let resolver = InterpreterResolver::new(python);
        self.edit(|inner| inner.resolver = Some(resolver))
    }

    /// Top-level packages children import from the parent even when they have
    /// their own copy (the master's version wins).
    pub fn always_from_parent(self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        self.edit(|inner| inner.always_from_parent.extend(names))
    }

    /// The module `name` and the not yet sent modules of its package, for context
    /// `context_id`; `None` if no root has it (or it is never served).
    pub async fn lookup(
        &self,
        context_id: u32,
        name: &str,
    ) -> Result<Option<Vec<Located>>, ModuleError> {
        names::validate(name)?;
        if is_standard_library(name) {
            return Ok(None);
        }
        let Some((found, source)) = self.find(name).await? else {
            return Ok(None);
        };
        let mut answer = vec![found];
        let first = &answer[0];
        let package = if first.is_package {
            Some(first.name.clone())
        } else {
            first.name.rsplit_once('.').map(|(p, _)| p.to_string())
        };
        let mut sent = self.inner.sent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = &first.package_dir {
            sent.data_dirs.insert(dir.clone());
        }
        let already = sent.modules.entry(context_id).or_default();
        already.insert(first.name.clone());
        if let (Some(package), Some(dir), Some(root)) = (package, first.package_dir.clone(), source)
        {
            let mut budget = MAX_RELATED_BYTES;
            for member in root.members(&package, &dir)? {
                if answer.len() > MAX_RELATED_MODULES || already.contains(&member) {
                    continue;
                }
                if let Some(related) = root.locate(&member).ok().flatten()
                    && related.source.len() <= budget
                {
                    budget -= related.source.len();
                    already.insert(related.name.clone());
                    answer.push(related);
                }
            }
        }
        Ok(Some(answer))
    }

    /// The module in the first place that has it, with the root it came from
    /// (none for the resolver, whose packages are not listed).
    async fn find(&self, name: &str) -> Result<Option<(Located, Option<&Root>)>, ModuleError> {
        for root in &self.inner.roots {
            if let Some(found) = root.locate(name)? {
                return Ok(Some((found, Some(root))));
            }
        }
        let Some(resolver) = &self.inner.resolver else {
            return Ok(None);
        };
        match resolver.locate(name).await? {
            Location::Missing | Location::NotServed => Ok(None),
            Location::File(origin, is_package) => {
                let origin_text = origin.display().to_string();
                if !origin_text.ends_with(".py") {
                    return Err(ModuleError::NativeExtension {
                        name: name.to_string(),
                        file: origin_text,
                    });
                }
                let source = std::fs::read(&origin).map_err(|e| ModuleError::Io {
                    path: origin.clone(),
                    reason: e.to_string(),
                })?;
                let package_dir = if is_package || name.contains('.') {
                    origin.parent().map(|d| d.display().to_string())
                } else {
                    None
                };
                Ok(Some((
                    Located {
                        name: name.to_string(),
                        filename: origin_text,
                        source,
                        is_package,
                        package_dir,
                    },
                    None,
                )))
            }
        }
    }

    /// A data file of a served package (pkgutil.get_data) or inside a root.
    pub fn data(&self, path: &str) -> Result<Vec<u8>, ModuleError> {
        let no_such = || ModuleError::NoSuchData {
            path: path.chars().take(300).collect(),
        };
        if path.split('/').any(|part| part == "..") {
            return Err(no_such());
        }
        for root in &self.inner.roots {
            if let Some(bytes) = root.read_data(path)? {
                return Ok(bytes);
            }
        }
        // Files next to modules the resolver served: only inside their packages.
        let allowed = {
            let sent = self.inner.sent.lock().unwrap_or_else(|p| p.into_inner());
            let real = Path::new(path).canonicalize().map_err(|_| no_such())?;
            sent.data_dirs
                .iter()
                .any(|dir| {
                    Path::new(dir)
                        .canonicalize()
                        .is_ok_and(|d| real.starts_with(d))
                })
                .then_some(real)
        };
        match allowed {
            Some(real) if real.is_file() => std::fs::read(&real).map_err(|e| ModuleError::Io {
                path: real,
                reason: e.to_string(),
            }),
            _ => Err(no_such()),
        }
    }

    /// How many module requests this server has answered (each is one round
    /// trip for a child).
    pub fn requests_served(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// Forget what was sent to a context that ended.
    pub fn forget_context(&self, context_id: u32) {
        self.inner
            .sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .modules
            .remove(&context_id);
    }
}

fn compress(source: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(source);
    encoder.finish().unwrap_or_default()
}

impl ChildRequests for ModuleServer {
    fn answers(&self, handle: u32) -> bool {
        handle == GET_MODULE || handle == GET_DATA
    }

    fn answer<'a>(&'a self, context_id: u32, handle: u32, body: Bytes) -> AnswerFuture<'a> {
        Box::pin(async move {
            let Ok(request) = from_body::<String>(&body, &DecodeLimits::default()) else {
                return Answer::Error("ImportError".into(), "malformed request".into());
            };
            if handle == GET_DATA {
                return match self.data(&request) {
                    Ok(bytes) => Answer::Value(to_body(&ByteBuf::from(bytes)).unwrap_or_default()),
                    Err(error) => Answer::Error("OSError".into(), error.to_string()),
                };
            }
            self.inner.requests.fetch_add(1, Ordering::Relaxed);
            match self.lookup(context_id, &request).await {
                Ok(None) => Answer::Value(to_body(&()).unwrap_or_default()),
                Ok(Some(modules)) => {
                    let rows: Vec<(String, String, ByteBuf, bool)> = modules
                        .into_iter()
                        .map(|m| {
                            (
                                m.name,
                                m.filename,
                                ByteBuf::from(compress(&m.source)),
                                m.is_package,
                            )
                        })
                        .collect();
                    Answer::Value(to_body(&rows).unwrap_or_default())
                }
                Err(error) => {
                    tracing::debug!(context_id, module = %request, %error, "module request refused");
                    Answer::Error("ImportError".into(), error.to_string())
                }
            }
        })
    }

    fn always_from_parent(&self) -> Vec<String> {
        self.inner.always_from_parent.clone()
    }
}

/// The `__main__.py` of a directory or zip application, as `python PATH` runs
/// it: (its file name, its source).
pub fn read_main(path: &Path) -> Result<(String, String), ModuleError> {
    let root = Root::open(path)?;
    let shown = match path.canonicalize() {
        Ok(real) => real.join("__main__.py").display().to_string(),
        Err(e) => {
            return Err(ModuleError::Root {
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
        }
    };
    let bytes = root.read_data(&shown)?.ok_or_else(|| ModuleError::Root {
        path: path.to_path_buf(),
        reason: "has no __main__.py".into(),
    })?;
    let source = String::from_utf8(bytes).map_err(|_| ModuleError::Root {
        path: path.to_path_buf(),
        reason: "its __main__.py is not UTF-8".into(),
    })?;
    Ok((shown, source))
}
