//! Module roots: directories and zip files the master serves modules from.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::ModuleError;

/// A module found in a root.
#[derive(Debug, Clone)]
pub struct Located {
    /// Full dotted name.
    pub name: String,
    /// The file name the child's tracebacks show: the real path of the source.
    pub filename: String,
    /// The source, as stored.
    pub source: Vec<u8>,
    /// A package (its `__init__.py`).
    pub is_package: bool,
    /// The directory holding the package's modules: its own for a package, its
    /// parent package's for a module inside one; none for a top-level module.
    pub package_dir: Option<String>,
}

/// Python source files and shared objects are told apart by these endings.
const EXTENSION_SUFFIXES: &[&str] = &[".so", ".pyd"];

/// A directory of modules, as sys.path would use it.
#[derive(Debug)]
pub struct DirRoot {
    root: PathBuf,
}

/// A zip file of modules, as zipimport would use it.
#[derive(Debug)]
pub struct ZipRoot {
    path: PathBuf,
    names: BTreeSet<String>,
    archive: Mutex<zip::ZipArchive<File>>,
}

/// Either kind of root.
#[derive(Debug)]
pub enum Root {
    /// A directory.
    Dir(DirRoot),
    /// A zip file.
    Zip(ZipRoot),
}

impl Root {
    /// Open `path`: a directory, or a file that is a zip archive.
    pub fn open(path: &Path) -> Result<Root, ModuleError> {
        let meta = std::fs::metadata(path).map_err(|e| ModuleError::Root {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if meta.is_dir() {
            let root = path.canonicalize().map_err(|e| ModuleError::Root {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
            return Ok(Root::Dir(DirRoot { root }));
        }
        let not_zip = |reason: String| ModuleError::Root {
            path: path.to_path_buf(),
            reason: format!("neither a directory nor a readable zip file ({reason})"),
        };
        let file = File::open(path).map_err(|e| not_zip(e.to_string()))?;
        let archive = zip::ZipArchive::new(file).map_err(|e| not_zip(e.to_string()))?;
        let names = archive
            .file_names()
            .filter_map(Result::ok)
            .map(|name| name.into_owned())
            .collect();
        let path = path.canonicalize().map_err(|e| not_zip(e.to_string()))?;
        Ok(Root::Zip(ZipRoot {
            path,
            names,
            archive: Mutex::new(archive),
        }))
    }

    /// The module `name` (already validated), if this root has it.
    pub fn locate(&self, name: &str) -> Result<Option<Located>, ModuleError> {
        let parts: Vec<&str> = name.split('.').collect();
        let (last, parents) = parts.split_last().expect("validated names are not empty");
        let dir = parents.join("/");
        let join = |file: &str| {
            if dir.is_empty() {
                file.to_string()
            } else {
                format!("{dir}/{file}")
            }
        };
        // Every enclosing package must be a real package (with __init__.py).
        for depth in 1..parts.len() {
            if !self.has(&format!("{}/__init__.py", parts[..depth].join("/")))? {
                return Ok(None);
            }
        }
        let package_init = join(&format!("{last}/__init__.py"));
        let (relative, is_package) = if self.has(&package_init)? {
            (package_init, true)
        } else if self.has(&join(&format!("{last}.py")))? {
            (join(&format!("{last}.py")), false)
        } else {
            if let Some(found) = self.extension(&dir, last)? {
                return Err(ModuleError::NativeExtension {
                    name: name.to_string(),
                    file: found,
                });
            }
            return Ok(None);
        };
        let (filename, source) = self.read(&relative)?;
        let package_dir = if is_package {
            Some(self.display(&join(last)))
        } else if !parents.is_empty() {
            Some(self.display(&dir))
        } else {
            None
        };
        Ok(Some(Located {
            name: name.to_string(),
            filename,
            source,
            is_package,
            package_dir,
        }))
    }

    /// The other modules of the package whose directory is `package_dir` (as given
    /// in [`Located::package_dir`]), named inside `package`.
    pub fn members(&self, package: &str, package_dir: &str) -> Result<Vec<String>, ModuleError> {
        let Some(relative) = self.relative(package_dir) else {
            return Ok(Vec::new());
        };
        let stems = match self {
            Root::Dir(dir) => {
                let Ok(entries) = std::fs::read_dir(dir.root.join(&relative)) else {
                    return Ok(Vec::new());
                };
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .collect::<Vec<_>>()
            }
            Root::Zip(zip) => {
                let prefix = format!("{relative}/");
                zip.names
                    .iter()
                    .filter_map(|n| n.strip_prefix(&prefix))
                    .filter(|rest| !rest.contains('/'))
                    .map(str::to_string)
                    .collect()
            }
        };
        let mut names: Vec<String> = stems
            .iter()
            .filter_map(|file| file.strip_suffix(".py"))
            .filter(|stem| *stem != "__init__" && super::names::validate(stem).is_ok())
            .map(|stem| format!("{package}.{stem}"))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The contents of `path` (a path as shown to the child) if it lies in this root.
    pub fn read_data(&self, path: &str) -> Result<Option<Vec<u8>>, ModuleError> {
        match self {
            Root::Dir(dir) => {
                let Ok(real) = Path::new(path).canonicalize() else {
                    return Ok(None);
                };
                if !real.starts_with(&dir.root) || !real.is_file() {
                    return Ok(None);
                }
                std::fs::read(&real).map(Some).map_err(|e| ModuleError::Io {
                    path: real,
                    reason: e.to_string(),
                })
            }
            Root::Zip(zip) => match self.relative(path) {
                Some(inside) if zip.names.contains(&inside) => Ok(Some(self.read(&inside)?.1)),
                _ => Ok(None),
            },
        }
    }

    fn has(&self, relative: &str) -> Result<bool, ModuleError> {
        Ok(match self {
            Root::Dir(dir) => dir.root.join(relative).is_file(),
            Root::Zip(zip) => zip.names.contains(relative),
        })
    }

    /// A shared object that would be the module `last` in `dir`.
    fn extension(&self, dir: &str, last: &str) -> Result<Option<String>, ModuleError> {
        let prefix = format!("{last}.");
        let matches = |file: &str| {
            file.starts_with(&prefix) && EXTENSION_SUFFIXES.iter().any(|s| file.ends_with(s))
        };
        Ok(match self {
            Root::Dir(root) => std::fs::read_dir(root.root.join(dir))
                .ok()
                .and_then(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .find(|e| e.file_name().to_str().is_some_and(matches))
                        .map(|e| e.path().display().to_string())
                }),
            Root::Zip(zip) => {
                let inside = if dir.is_empty() {
                    String::new()
                } else {
                    format!("{dir}/")
                };
                zip.names
                    .iter()
                    .filter_map(|n| n.strip_prefix(&inside).map(|rest| (n, rest)))
                    .find(|(_, rest)| !rest.contains('/') && matches(rest))
                    .map(|(n, _)| self.display(n))
            }
        })
    }

    /// Read `relative`; returns the name tracebacks show and the bytes.
    fn read(&self, relative: &str) -> Result<(String, Vec<u8>), ModuleError> {
        match self {
            Root::Dir(dir) => {
                let path = dir.root.join(relative);
                let real = path.canonicalize().map_err(|e| ModuleError::Io {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                // A symbolic link out of the root is not part of the root.
                if !real.starts_with(&dir.root) {
                    return Err(ModuleError::OutsideRoots { path: real });
                }
                let bytes = std::fs::read(&real).map_err(|e| ModuleError::Io {
                    path: real.clone(),
                    reason: e.to_string(),
                })?;
                Ok((path.display().to_string(), bytes))
            }
            Root::Zip(zip) => {
                let mut archive = zip.archive.lock().unwrap_or_else(|p| p.into_inner());
                let io_error = |reason: String| ModuleError::Io {
                    path: zip.path.join(relative),
                    reason,
                };
                let mut entry = archive
                    .by_name(relative)
                    .map_err(|e| io_error(e.to_string()))?;
                let mut bytes = Vec::with_capacity(entry.size() as usize);
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| io_error(e.to_string()))?;
                Ok((self.display(relative), bytes))
            }
        }
    }

    /// How a path inside this root is shown to the child.
    fn display(&self, relative: &str) -> String {
        match self {
            Root::Dir(dir) => dir.root.join(relative).display().to_string(),
            Root::Zip(zip) => format!("{}/{relative}", zip.path.display()),
        }
    }

    /// The root-relative form of a shown path, if it is inside this root.
    fn relative(&self, shown: &str) -> Option<String> {
        let base = match self {
            Root::Dir(dir) => dir.root.display().to_string(),
            Root::Zip(zip) => zip.path.display().to_string(),
        };
        let rest = shown.strip_prefix(&base)?;
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        (!rest.split('/').any(|p| p == "..")).then(|| rest.to_string())
    }
}
